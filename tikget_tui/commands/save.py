"""``tikget save TARGET... [--from-file FILE] [--audio] [--note TEXT] [--again] [--json]``.

Looks up every target (``@user`` → all active stories; post and short links →
that post), downloads, verifies, and writes names and sidecars exactly as the
TUI does (through the DownloadManager). Progress bars on a terminal, quiet
otherwise; a final summary table, or one JSON object per line with ``--json``.

Exit status: 0 everything saved and verified (ok or warn); 1 anything failed,
was private, unknown, gone or expired (each line says why), or tikget is
already running; 2 usage error (a target that cannot be understood, an
unreadable ``--from-file``, no target at all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tikget_tui.batch import (
    Batch,
    BatchOptions,
    ItemResult,
    NamedTarget,
    exit_status,
    parse_sources,
    read_sources,
)
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.commands import already_running, demo_service
from tikget_tui.commands.stories import visible
from tikget_tui.config import Settings
from tikget_tui.links import ParseError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _fail(err: TextIO, message: str) -> None:
    print(f"tikget: {' '.join(str(message).split())}", file=err)


def _warn(err: TextIO, message: str) -> None:
    print(f"tikget: warning: {' '.join(str(message).split())}", file=err)


def run(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
        stdin: Any = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        sources = read_sources(list(args.targets), from_file=args.from_file, stdin=stdin)
    except OSError as exc:
        _fail(err, f"cannot read {args.from_file}: {exc.strerror or exc}")
        return EXIT_USAGE
    except UnicodeDecodeError:
        _fail(err, f"{args.from_file} is not UTF-8 text; save it as UTF-8 and try again")
        return EXIT_USAGE
    try:
        targets = parse_sources(sources, settings.service, warn=lambda line: _warn(err, line))
    except ParseError as exc:
        _fail(err, str(exc))
        return EXIT_USAGE
    if not targets:
        _fail(err, "nothing to save; name a link or @user, use --from-file FILE, or - for stdin")
        return EXIT_USAGE
    # --audio, or the audio_mp3 setting (the same default the app's MP3 toggle starts from)
    options = BatchOptions(audio=bool(args.audio) or settings.audio_mp3, note=args.note or "",
                           again=bool(args.again))
    running = already_running(settings)  # before the demo service or any look-up starts
    if running is not None:
        _fail(err, running)
        return EXIT_FAIL
    with demo_service(args, settings) as settings:
        outcome = asyncio.run(_save(targets, settings, options, clock, err))
    if isinstance(outcome, str):
        _fail(err, outcome)
        return EXIT_FAIL
    if args.json:
        for result in outcome:
            out.write(json.dumps(result.to_dict()) + "\n")
    else:
        out.write(render_table(outcome) + "\n")
    out.flush()
    return exit_status(outcome)


async def _save(targets: Sequence[NamedTarget], settings: Settings, options: BatchOptions,
                clock: Clock, err: TextIO) -> list[ItemResult] | str:
    """The results, or one line saying why nothing could run (e.g. already running)."""
    from tikget_tui.downloads import DownloadManager
    from tikget_tui.progress import CliProgress
    from tikget_tui.store import StoreError
    from tikget_tui.tiktok import TikTokClient

    async with TikTokClient(settings, clock=clock) as client:
        manager = DownloadManager(settings, client=client, clock=clock)
        try:
            await manager.start()
        except StoreError as exc:  # AlreadyRunning is one
            return str(exc)
        try:
            with CliProgress(err) as progress:
                progress.attach(manager)
                batch = Batch(manager, client, options, clock,
                              on_lookup=lambda text: progress.note(f"looking up {text}"))
                return await batch.run(targets)
        finally:
            await manager.stop()


CAPTION_WIDTH = 36


def item_label(result: ItemResult) -> str:
    """What the summary calls an item: the story's caption, shortened (the id is in
    ``--json``); the target as typed when nothing was found."""
    if result.story_id is None:
        return visible(result.target, 48)
    caption = " ".join(result.caption.split())
    return visible(caption, CAPTION_WIDTH) if caption else "(no caption)"


def render_table(results: Sequence[ItemResult]) -> str:
    """The summary: one row per item; untrusted text shown escaped, never interpreted."""
    head = ("ITEM", "CREATOR", "STATE", "FILE", "VERDICT / REASON")
    rows: list[tuple[str, ...]] = []
    for r in results:
        item = item_label(r)
        creator = visible("@" + r.creator if r.creator and not r.creator.isdigit()
                          else r.creator or "-", 24)
        name = visible(r.path.name, 60) if r.path is not None else "-"
        if len(r.files) > 1:
            name += f" (+{len(r.files) - 1})"
        detail = r.verdict or ""
        if r.reason:
            detail = f"{detail}: {r.reason}" if detail else r.reason
        rows.append((item, creator, r.state, name, visible(detail or "-", 200)))
    from rich.cells import cell_len  # columns line up under emoji and CJK captions

    def pad(text: str, width: int) -> str:
        return text + " " * max(0, width - cell_len(text))

    widths = [max(cell_len(h), *(cell_len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    lines = ["  ".join(pad(c, w) for c, w in zip(head, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
    lines.append("")
    lines.append(summary_line(results))
    return "\n".join(lines)


def summary_line(results: Sequence[ItemResult]) -> str:
    """What happened, each outcome counted apart: '2 saved and verified, 1 copied from
    another folder, 4 already saved, 1 failed, 2 not saved (see the reasons above)'."""
    from collections import Counter

    counts = Counter(r.outcome for r in results)
    parts = []
    if counts["saved"] or not (counts["copied"] or counts["already saved"]):
        parts.append(f"{counts['saved']} saved and verified")
    if counts["copied"]:
        parts.append(f"{counts['copied']} copied from another folder")
    if counts["already saved"]:
        parts.append(f"{counts['already saved']} already saved")
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    if counts["not saved"] or not (counts["failed"] or counts["already saved"]
                                   or counts["copied"]):
        parts.append(f"{counts['not saved']} not saved")
    line = ", ".join(parts)
    if counts["failed"] or counts["not saved"]:
        line += " (see the reasons above)"
    return line
