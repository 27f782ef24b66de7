"""Load: 50 creators × 5 stories looked up and saved through one client and one engine.

The stand-in counts how many requests it serves at once; it must never see more than the
configured limits (``per_host_concurrency`` for everything on its one origin, and
``concurrency`` download workers for media). Memory must stay flat: the traced peak is
bounded and far below the bytes saved (bodies are streamed to disk, never held whole).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import pytest

from tests.plugins.reliability import (
    GUARD_SECONDS,
    final_media_files,
    partials,
    sha256_file,
    source_hashes,
)
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoCreator, DemoServer, DemoStory, MediaCatalog, Scenario
from tikget_tui.downloads import DownloadManager, JobState, RetryPolicy
from tikget_tui.mediatools import MediaTools
from tikget_tui.models import Kind
from tikget_tui.tiktok import TikTokClient

CREATORS = 50
PER_CREATOR = 5
CONCURRENCY = 3
PER_HOST = 2
MIB = 1024 * 1024
FIGURES: dict[str, float] = {}


def load_scenario() -> Scenario:
    """50 creators, each with 2 short videos and 3 one-image photo stories; every 10th
    creator's first video is the 3.7 MB clip, so a whole-file buffer would show."""
    scenario = Scenario()
    photos = ["photo_2", "photo_3", "photo_4"]
    for c in range(CREATORS):
        first = "h264_a" if c % 10 == 0 else "h264_b"
        stories = [
            DemoStory(f"75{c:03d}0000000000{0:02d}", first, f"creator {c} video one",
                      created=-3600.0 * 20),
            DemoStory(f"75{c:03d}0000000000{1:02d}", "hevc_h264_360", f"creator {c} video two",
                      created=-3600.0 * 10),
        ]
        for i, name in enumerate(photos, start=2):
            stories.append(DemoStory(f"75{c:03d}0000000000{i:02d}", kind=Kind.PHOTO,
                                     images=[name], caption=f"creator {c} photo {i}",
                                     created=-3600.0 * (9 - i)))
        scenario.add_creator(DemoCreator(
            username=f"load.creator{c:02d}", nickname=f"Load {c}",
            user_id=f"69{c:017d}", sec_uid=f"MS4wLjABAAAAload{c:04d}", stories=stories))
    return scenario


@pytest.fixture
def demo_scenario() -> Scenario:
    return load_scenario()


async def _nothing(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.mark.slow
async def test_50_creators_x_5_stories_within_limits_and_flat_memory(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    demo_media: MediaCatalog, media_tools: MediaTools,
) -> None:
    settings = demo_settings.replace(concurrency=CONCURRENCY, per_host_concurrency=PER_HOST,
                                     api_min_interval=0.0)
    names = sorted(demo_server.scenario.creators)
    known = source_hashes(demo_media)
    demo_server.stats.reset()
    gc.collect()
    tracemalloc.start()
    try:
        async def body() -> list[object]:
            async with TikTokClient(settings, clock=demo_clock, sleep=_nothing,
                                    backoff_base=0.001) as client, DownloadManager(
                    settings, client=client, clock=demo_clock, tools=media_tools,
                    retry=RetryPolicy(attempts=4, base=0.001, cap=0.01, sleep=_nothing),
                    write_metadata=False) as manager:
                gate = asyncio.Semaphore(8)  # more lookups in flight than the host allows

                async def lookup_and_queue(name: str) -> None:
                    async with gate:
                        listing = await client.lookup_stories(name)
                    for story in listing.stories:
                        await manager.enqueue(story)

                await asyncio.gather(*(lookup_and_queue(n) for n in names))
                await manager.wait_idle()
                return list(manager.jobs())

        jobs = await asyncio.wait_for(body(), GUARD_SECONDS * 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(jobs) == CREATORS * PER_CREATOR
    bad = [(j.story_id, j.state, j.reason) for j in jobs  # type: ignore[attr-defined]
           if j.state != JobState.DONE]  # type: ignore[attr-defined]
    assert bad == []
    directory = settings.download_dir
    files = final_media_files(directory)
    assert len(files) == CREATORS * PER_CREATOR
    total = 0
    for path in files:
        assert sha256_file(path) in known, path.name
        total += path.stat().st_size
    assert partials(directory) == []

    stats = demo_server.stats
    assert stats.by_kind["media"] == CREATORS * PER_CREATOR  # one request per file, no retry
    assert stats.max_concurrent <= PER_HOST, stats.max_concurrent
    assert stats.max_by_kind["media"] <= min(CONCURRENCY, PER_HOST)
    assert stats.max_concurrent == PER_HOST  # the limit was reached, so it was tested
    # Flat memory: what is held at once is bounded by the workers, not by the bytes saved.
    # Each worker's verification hashes in 1 MiB reads (~2 MiB traced at its peak); bodies
    # are streamed to disk, so the 3.7 MB clips never show up whole.
    assert peak < CONCURRENCY * 2.5 * MIB + MIB, peak
    assert peak < total / 3, (peak, total)
    FIGURES.update(files=len(files), bytes=total, peak=peak,
                   max_concurrent=stats.max_concurrent, requests=stats.total)
    print(f"\nload: {len(files)} files, {total / 1e6:.1f} MB saved, {stats.total} requests, "
          f"max concurrent {stats.max_concurrent} (limit {PER_HOST}), "
          f"media max {stats.max_by_kind['media']}, traced peak {peak / 1e6:.2f} MB")
