"""SIGKILL the downloader mid-download, restart it: files end byte-identical, nothing partial
ever sits under a final name, no .part is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.plugins.downloads import sha256_of
from tikget_tui.clock import FakeClock
from tikget_tui.demo import DemoServerThread
from tikget_tui.demo.scenario import DEMO_PHOTO_STORY, MediaFaults

ROOT = Path(__file__).resolve().parents[2]
STORIES = {  # story id -> media names, in file order
    "7440000000000000001": ["h264_a"],
    "7440000000000000003": ["h264_c"],
    DEMO_PHOTO_STORY: ["photo_1", "photo_2", "photo_3"],
}

Event = dict


def run_driver(origin: str, clock: FakeClock, kill_when: Callable[[Event], bool] | None
               ) -> tuple[list[Event], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.kill_driver", origin, str(clock.time()),
         *STORIES],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )
    events: list[Event] = []
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            event = json.loads(line)
            events.append(event)
            if kill_when is not None and kill_when(event):
                os.kill(proc.pid, signal.SIGKILL)
                break
        return events, proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def check_final_names(directory: Path, sources: dict[str, str]) -> None:
    """Every file under a final (non-.part, non-temp) name is a complete source file."""
    for p in directory.iterdir():
        if p.name.endswith((".part", ".tmp", ".info.json")) or p.name.startswith("."):
            continue
        assert sha256_of(p) in sources, f"{p.name} is not a complete file"


@pytest.mark.slow
def test_sigkill_at_several_points_then_restart(demo_media, demo_scenario, tmp_path,
                                                isolated_home) -> None:
    clock = FakeClock()
    demo_scenario.faults.media = MediaFaults(bytes_per_second=1_500_000)
    downloads = isolated_home / "downloads"
    sources = {sha256_of(demo_media[n].path): n for names in STORIES.values() for n in names}
    with DemoServerThread(demo_scenario, clock=clock, media=demo_media,
                          media_dir=demo_media.folder.parent) as demo:
        kills: list[Callable[[Event], bool]] = [
            lambda e: e["kind"] == "progress" and e["done"] > 200_000,
            lambda e: e["kind"] == "progress" and e["done"] > 1_200_000,
            lambda e: e["kind"] == "progress" and e["done"] > 2_500_000,
            lambda e: e["kind"] == "state" and e["state"] == "verifying",  # after a rename
        ]
        for n, when in enumerate(kills):
            events, code = run_driver(demo.origin, clock, when)
            assert code == -signal.SIGKILL, (n, events[-3:])
            check_final_names(downloads, sources)
        demo_scenario.faults.media = MediaFaults()
        events, code = run_driver(demo.origin, clock, None)
    assert code == 0, events[-5:]
    assert events[-1]["kind"] == "idle"
    check_final_names(downloads, sources)
    leftovers = [p.name for p in downloads.iterdir() if p.name.endswith(".part") or
                 p.name.startswith(".")]
    assert leftovers == []
    saved = sorted(p for p in downloads.iterdir() if not p.name.endswith(".info.json"))
    assert sorted(sources.values()) == sorted(sources[sha256_of(p)] for p in saved)
    assert len(list(downloads.glob("*.info.json"))) == len(STORIES)
    # the resumed runs asked for the rest, not the whole file again
    ranges = [r.range for r in demo.server.stats.requests if r.kind == "media" and r.range]
    assert ranges
