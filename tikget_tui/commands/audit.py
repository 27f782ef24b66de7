"""``tikget audit [--json] [--requeue]``: the archive vs the files on disk vs their sidecars.

Without ``--requeue`` it changes no record (no lock; fine while the app runs): it only
keeps what it found as each copy's latest check, which the app's library shows. With
``--requeue`` it takes the instance lock, re-queues what can still be saved,
drives those downloads, and marks the rest unrecoverable with the reason.

Exit status: 0 when every entry is fine (or was saved again), 1 when problems
remain or tikget is already running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from tikget_tui.archive.audit import Finding, audit, record, requeue, resolved
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.commands import already_running, demo_service
from tikget_tui.commands.stories import visible
from tikget_tui.config import Settings
from tikget_tui.store import Store, StoreError

EXIT_OK, EXIT_FAIL = 0, 1


def _fail(err: TextIO, message: str) -> None:
    print(f"tikget: {' '.join(str(message).split())}", file=err)


def run(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
        out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.requeue:
            running = already_running(settings)  # before the demo service starts
            if running is not None:
                _fail(err, running)
                return EXIT_FAIL
            with demo_service(args, settings) as settings:
                outcome = asyncio.run(_requeue(settings, clock))
            if isinstance(outcome, str):
                _fail(err, outcome)
                return EXIT_FAIL
            findings = outcome
        else:
            with Store.open(settings.state_db) as store:
                findings = audit(store)
                record(store, findings, clock.now())  # the library shows what it found
    except StoreError as exc:
        _fail(err, str(exc))
        return EXIT_FAIL
    if args.json:
        json.dump({"summary": summary(findings), "entries": [f.to_dict() for f in findings]},
                  out, indent=2)
        out.write("\n")
    else:
        out.write(render(findings) + "\n")
    return EXIT_OK if all(resolved(f) for f in findings) else EXIT_FAIL


async def _requeue(settings: Settings, clock: Clock) -> list[Finding] | str:
    from tikget_tui.downloads import DownloadManager
    from tikget_tui.progress import CliProgress
    from tikget_tui.tiktok import TikTokClient

    async with TikTokClient(settings, clock=clock) as client:
        manager = DownloadManager(settings, client=client, clock=clock)
        try:
            await manager.start()
        except StoreError as exc:  # AlreadyRunning is one
            return str(exc)
        try:
            findings = audit(manager.store)
            record(manager.store, findings, clock.now())
            with CliProgress() as progress:
                progress.attach(manager)
                return await requeue(findings, manager, client, clock=clock)
        finally:
            await manager.stop()


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for f in findings:
        counts["entries"] += 1
        if f.ok:
            counts["ok"] += 1
        for p in f.problems:
            counts[str(p)] += 1
        if f.mark:
            counts[f.mark] += 1
        if f.requeued_job is not None:
            counts["requeued"] += 1
    return dict(counts)


def render(findings: Sequence[Finding]) -> str:
    bad = [f for f in findings if not f.ok]
    lines: list[str] = []
    if bad:
        rows = [("STATUS", "STORY", "CREATOR", "FILE", "DETAIL")]
        for f in bad:
            rows.append((f.status, f.story_id, visible(f.creator or "-", 24),
                         visible(f.path.name, 60), visible(f.detail, 240)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in rows]
        lines.append("")
    counts = summary(findings)
    parts = [f"{counts.get('entries', 0)} archived", f"{counts.get('ok', 0)} ok"]
    for key in ("missing", "changed", "unverified", "failing", "requeued", "unrecoverable"):
        if counts.get(key):
            parts.append(f"{counts[key]} {key}")
    line = ", ".join(parts)
    if bad and not any(f.requeued_job is not None or f.mark for f in bad):
        line += "; `tikget audit --requeue` saves again what is still online"
    lines.append(line)
    return "\n".join(lines)
