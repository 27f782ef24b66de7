"""The download engine end to end against the stand-in over real sockets."""

from __future__ import annotations

import json
from pathlib import Path

from tikget_tui.demo import DemoServer
from tikget_tui.downloads import DownloadManager, JobChanged, JobState, Progress
from tikget_tui.config import Settings
from tests.plugins.downloads import leftovers, sha256_of

STORY_A = "7440000000000000001"  # h264_a, 3.7 MB, sound_a
STORY_B = "7440000000000000002"  # h264_b


async def test_video_story_saved_tagged_verified_with_sidecar(
    manager: DownloadManager, find_story, demo_settings: Settings, demo_server: DemoServer,
) -> None:
    events: list[object] = []
    manager.subscribe(events.append)
    story = await find_story(STORY_B)
    job = await manager.enqueue(story, note="offline reference")
    await manager.wait_idle()
    job = manager.job(job.id)
    assert job is not None
    assert job.state == JobState.DONE, job.reason
    assert job.verdict in ("ok", "warn")
    final = job.files[0]
    assert final.name == "mika.travels-coffee-first-2026-11-25.mp4"
    assert final.parent == demo_settings.download_dir
    side = json.loads((final.parent / (job.stem + ".info.json")).read_text())
    assert side["story_id"] == STORY_B
    assert side["creator"] == "mika.travels"
    assert side["note"] == "offline reference"
    assert side["sha256"] == sha256_of(final)
    assert side["verification"]["verdict"] == job.verdict
    assert leftovers(demo_settings.download_dir) == []
    states = [e.job.state for e in events if isinstance(e, JobChanged) and e.job.id == job.id]
    assert JobState.DOWNLOADING in states and JobState.VERIFYING in states
    assert states[-1] == JobState.DONE
    finals = [e for e in events if isinstance(e, Progress) and e.final]
    assert finals and finals[-1].done == demo_server.media["h264_b"].size
