"""Crash safety: SIGKILL the downloader at random moments, restart it, check what is left.

Starts the stand-in service (in a thread of this process, slow bodies so kills land
mid-transfer), then runs the downloader in a child process (this script with ``--child``:
look creators up, enqueue every story, wait until idle) and kills it with SIGKILL after a
random delay (seeded RNG), again and again, each restart picking the same queue up from
the SQLite state. When a group of creators is fully saved the next group is handed out,
so kills keep landing on real work. Finally the child runs once more without a kill for
every group it saw, and everything is checked:

- every saved file is byte-identical (sha256) to the stand-in's source for its story,
- the queue is intact: ``PRAGMA integrity_check`` ok, WAL on, every job ``done``,
  exactly one job and one archive entry per story, no duplicate files,
- no ``.part`` / temp file left, every sidecar is whole JSON.

Prints the figures (runs, kills that landed, files checked) and exits 1 on any problem.

    .venv/bin/python bench/stress_kill.py [--runs 20] [--seed 1] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUP_SIZE = 2  # creators handed to the child at a time
GROUPS = 40
BYTES_PER_SECOND = 120_000.0  # slow bodies: a 150 KB video takes over a second


def story_id(group: int, creator: int, n: int) -> str:
    return f"76{group:03d}{creator:02d}00000000{n:02d}"


def build_scenario() -> object:
    from tikget_tui.demo import DemoCreator, DemoStory, MediaFaults, Scenario
    from tikget_tui.models import Kind

    scenario = Scenario()
    scenario.faults.media = MediaFaults(bytes_per_second=BYTES_PER_SECOND)
    videos = ["h264_c", "h264_b", "hevc_h264_360"]
    for g in range(GROUPS):
        for c in range(GROUP_SIZE):
            stories = [
                DemoStory(story_id(g, c, i), media, f"group {g} creator {c} clip {i}",
                          created=-3600.0 * (10 - i))
                for i, media in enumerate(videos)
            ]
            stories.append(DemoStory(story_id(g, c, 9), kind=Kind.PHOTO,
                                     images=["photo_1", "photo_3"],
                                     caption=f"group {g} creator {c} photos",
                                     created=-3600.0))
            scenario.add_creator(DemoCreator(
                username=creator_name(g, c), nickname=f"Stress {g}.{c}",
                user_id=f"67{g:03d}{c:02d}0000000000", sec_uid=f"MS4wLjABAAAAstress{g}x{c}",
                stories=stories))
    return scenario


def creator_name(group: int, creator: int) -> str:
    return f"stress.g{group:02d}c{creator}"


# ---------------------------------------------------------------------------- the child


async def child_main(origin: str, creators: list[str]) -> int:
    from tikget_tui.config import load
    from tikget_tui.downloads import DownloadManager, JobState
    from tikget_tui.tiktok import TikTokClient

    settings = load().replace(service_origin=origin, concurrency=2, api_min_interval=0.0,
                              request_timeout=10.0)
    async with TikTokClient(settings) as client, DownloadManager(
            settings, client=client, write_metadata=False) as manager:
        for name in creators:
            listing = await client.lookup_stories(name)
            for story in listing.stories:
                await manager.enqueue(story)
        await manager.wait_idle()
        bad = [j for j in manager.jobs() if j.state != JobState.DONE]
    for job in bad:
        print(f"job {job.id} {job.story_id} {job.state}: {job.reason}", file=sys.stderr)
    return 1 if bad else 0


# ---------------------------------------------------------------------------- the parent


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def spawn(origin: str, creators: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - closed by the caller through the process
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", "--origin", origin,
         *creators],
        env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )


def check(home: Path, scenario: object, groups_used: int, media: object) -> tuple[list[str], int]:
    """Everything that must hold after the final run; returns (problems, files checked)."""
    problems: list[str] = []
    data = home / "data" / "state.sqlite3"
    downloads = home / "downloads"
    conn = sqlite3.connect(str(data))
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            problems.append(f"journal_mode is {mode}, not wal")
        jobs = conn.execute("SELECT id, story_id, variant, state, reason FROM jobs").fetchall()
        archive = conn.execute("SELECT story_id, variant, path, files_json, sha256 "
                               "FROM archive").fetchall()
    finally:
        conn.close()
    expected: dict[str, list[str]] = {}  # story id -> source media names
    for g in range(groups_used):
        for c in range(GROUP_SIZE):
            creator = scenario.creator(creator_name(g, c))  # type: ignore[attr-defined]
            for s in creator.stories:
                expected[s.id] = list(s.images) if s.images else [s.media]
    per_story: dict[str, int] = {}
    for _id, sid, _variant, state, reason in jobs:
        per_story[sid] = per_story.get(sid, 0) + 1
        if state != "done":
            problems.append(f"job {_id} ({sid}) is {state}: {reason}")
    for sid in expected:
        if per_story.get(sid, 0) != 1:
            problems.append(f"story {sid} has {per_story.get(sid, 0)} jobs, not 1")
    unknown = set(per_story) - set(expected)
    if unknown:
        problems.append(f"jobs for stories never asked for: {sorted(unknown)}")
    by_story = {row[0]: row for row in archive}
    if len(archive) != len(expected) or set(by_story) != set(expected):
        problems.append(f"archive has {len(archive)} entries for {len(expected)} stories")
    checked = 0
    claimed: set[Path] = set()
    for sid, sources in expected.items():
        row = by_story.get(sid)
        if row is None:
            continue
        files = [Path(p) for p in json.loads(row[3])] or [Path(row[2])]
        if len(files) != len(sources):
            problems.append(f"story {sid}: {len(files)} files for {len(sources)} sources")
            continue
        for path, source in zip(files, sources, strict=True):
            claimed.add(path)
            if not path.is_file():
                problems.append(f"story {sid}: {path.name} is missing")
                continue
            checked += 1
            if sha256_file(path) != sha256_file(media[source].path):  # type: ignore[index]
                problems.append(f"story {sid}: {path.name} differs from the source {source}")
    for entry in sorted(downloads.iterdir()) if downloads.is_dir() else []:
        name = entry.name
        if name.endswith(".part") or ".tmp" in name:
            problems.append(f"leftover partial/temp file {name}")
        elif name.endswith(".info.json"):
            try:
                json.loads(entry.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                problems.append(f"sidecar {name} is not whole JSON")
        elif entry not in claimed:
            problems.append(f"file {name} belongs to no archived story (a duplicate?)")
    return problems, checked


def parent_main(args: argparse.Namespace) -> int:
    from tikget_tui.demo import DemoServerThread

    rng = random.Random(args.seed)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="tikget-stress-", dir=args.work))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKGET_")}
    env["TIKGET_HOME"] = str(home)
    log = work / "children.log"
    scenario = build_scenario()
    runner = DemoServerThread(scenario, media_dir=args.media_dir)  # type: ignore[arg-type]
    origin = runner.start()
    media = runner.server.media
    runs = killed = finished_early = mid_transfer = 0
    group = 0
    problems: list[str] = []
    try:
        while runs < args.runs and group < GROUPS:
            if time.monotonic() - started > args.time_limit:
                problems.append(f"only {runs} of {args.runs} runs within {args.time_limit:.0f} s")
                break
            creators = [creator_name(group, c) for c in range(GROUP_SIZE)]
            proc = spawn(origin, creators, env, log)
            delay = rng.uniform(args.min_delay, args.max_delay)
            try:
                code = proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                downloads = home / "downloads"
                if downloads.is_dir() and any(p.name.endswith(".part")
                                              for p in downloads.iterdir()):
                    mid_transfer += 1  # the kill left a partial file: it landed mid-body
            else:
                finished_early += 1
                if code != 0:
                    problems.append(f"run {runs + 1}: the child exited with {code} (see {log})")
                group += 1  # this group is saved: hand out the next one
            runs += 1
        # Recovery: one run to completion for every group handed out, nothing killed.
        groups_used = min(group + 1, GROUPS)
        every = [creator_name(g, c) for g in range(groups_used) for c in range(GROUP_SIZE)]
        proc = spawn(origin, every, env, log)
        try:
            code = proc.wait(timeout=args.final_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -1
            problems.append(f"the final run did not finish in {args.final_timeout:.0f} s (a hang)")
        if code not in (0, -1):
            problems.append(f"the final run exited with {code} (see {log})")
        found, checked = check(home, scenario, groups_used, media)
        problems += found
    finally:
        runner.stop()
    elapsed = time.monotonic() - started
    print(f"stress_kill: seed {args.seed}, {runs} runs, {killed} killed mid-run "
          f"({mid_transfer} with a .part on disk), {finished_early} finished before the kill, "
          f"{groups_used} groups, "
          f"{checked} files checked, {elapsed:.1f} s")
    if problems:
        for p in problems:
            print(f"PROBLEM: {p}")
        print(f"work folder kept: {work}")
        return 1
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print("stress_kill: OK")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="runs (each killed at random)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-delay", type=float, default=0.3, help="earliest kill (s after start)")
    p.add_argument("--max-delay", type=float, default=2.5, help="latest kill (s after start)")
    p.add_argument("--time-limit", type=float, default=300.0, help="bound on the kill loop (s)")
    p.add_argument("--final-timeout", type=float, default=180.0)
    p.add_argument("--media-dir", type=Path, default=None, help="stand-in media cache")
    p.add_argument("--work", type=Path, default=None, help="parent of the work folder")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--origin", default="", help=argparse.SUPPRESS)
    p.add_argument("creators", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return asyncio.run(child_main(args.origin, args.creators))
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
