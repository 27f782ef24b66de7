"""A download folder others can write to (issue 13 §1): links, FIFOs and files planted at
the names tikget uses, before or during a download, never make it write outside the folder,
cut a file, or replace something it did not make; two tikgets (different state folders)
saving the same story into one folder share no .part and save one copy.

Every test compares a snapshot of a folder outside the download folder before and after.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.downloads import RecordingRetry
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer, MediaFaults
from tikget_tui.downloads import DownloadManager, Job, JobChanged, JobState
from tikget_tui.models import Story
from tikget_tui.tiktok import TikTokClient

STORY_A = "7440000000000000001"  # h264_a, 3.7 MB
STORY_B = "7440000000000000002"  # h264_b, 60 kB


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (links not followed): type, size, mtime, content hash."""
    out: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(folder, name)
            st = os.lstat(p)
            digest = (hashlib.sha256(p.read_bytes()).hexdigest()
                      if stat.S_ISREG(st.st_mode) else os.readlink(p)
                      if stat.S_ISLNK(st.st_mode) else "")
            out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size,
                                             st.st_mtime_ns, digest)
    return out


def one_line(reason: str) -> str:
    assert reason and "\n" not in reason and "Traceback" not in reason, reason
    return reason


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files of the user's outside the download folder: none may change."""
    root = tmp_path / "outside"
    root.mkdir()
    (root / "victim.mp4").write_bytes(b"precious video bytes " * 100)
    (root / "secret.json").write_text('{"keep": "me"}')
    (root / "notes").mkdir()
    (root / "notes" / "diary.txt").write_text("dear diary")
    return root


@pytest.fixture
async def client(demo_settings: Settings, demo_clock: FakeClock) -> AsyncIterator[TikTokClient]:
    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    async with TikTokClient(demo_settings, clock=demo_clock, sleep=no_wait,
                            backoff_base=0.0) as c:
        yield c


async def story(c: TikTokClient, story_id: str) -> Story:
    listing = await c.lookup_stories("mika.travels")
    return next(s for s in listing.stories if s.id == story_id)


async def save(settings: Settings, c: TikTokClient, clock: FakeClock, s: Story, *,
               retry: RecordingRetry | None = None, write_metadata: bool = True,
               on_event: Any = None) -> Job:
    async with DownloadManager(settings, client=c, clock=clock,
                               retry=retry or RecordingRetry(attempts=2),
                               write_metadata=write_metadata) as m:
        if on_event is not None:
            m.subscribe(on_event)
        job = await m.enqueue(s)
        await asyncio.wait_for(m.wait_idle(), 60)
        out = m.job(job.id)
    assert out is not None
    return out


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------- links at the temp and final names


@pytest.mark.parametrize("target", ["existing", "new"])
async def test_links_planted_at_every_temp_and_final_name_are_never_followed(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient, outside: Path,
    target: str,
) -> None:
    """While the story downloads, links to outside files appear at the metadata temp name
    (``.STEM.tmp.mp4``), the sidecar temp name (``STEM.info.json.tmp``) and the final name:
    the video is still saved inside the folder, as a regular file, and nothing outside
    changes (ffmpeg writes only into a private folder; names are never replaced)."""
    before = snapshot(outside)
    folder = demo_settings.download_dir
    video = outside / ("victim.mp4" if target == "existing" else "written-outside.mp4")
    planted: dict[str, Path] = {}

    def plant(event: object) -> None:
        if not isinstance(event, JobChanged) or not event.job.stem:
            return
        stem = event.job.stem
        links = [(f".{stem}.tmp.mp4", video), (f"{stem}.info.json.tmp", outside / "secret.json")]
        if not planted:  # the final name too, the first time (then the job takes another)
            links.append((f"{stem}.mp4", outside / "victim.mp4"))
        for name, dest in links:
            if name not in planted and folder.is_dir():
                (folder / name).symlink_to(dest)
                planted[name] = dest

    job = await save(demo_settings, client, demo_clock, await story(client, STORY_B),
                     on_event=plant)
    assert job.state == JobState.DONE, job.reason
    final = job.files[0]
    assert stat.S_ISREG(os.lstat(final).st_mode) and final.parent == folder
    assert final.name not in planted
    assert f"{next(iter(planted))[1:-8]}.mp4 appeared in the folder meanwhile" in one_line(
        job.reason)
    for name, dest in planted.items():  # left alone
        assert os.readlink(folder / name) == str(dest)
    assert snapshot(outside) == before
    assert not video.exists() or video.read_bytes() == b"precious video bytes " * 100
    assert not [n for n in names(folder) if n.startswith(".tikget-")]  # no temp left


async def test_a_final_name_planted_before_the_start_is_never_replaced(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient, outside: Path,
) -> None:
    s = await story(client, STORY_B)
    from tikget_tui.files.naming import build_stem

    stem = build_stem(s, demo_settings.filename_template, kind="video")
    folder = demo_settings.download_dir
    folder.mkdir()
    (folder / f"{stem}.mp4").symlink_to(outside / "victim.mp4")
    (folder / f"{stem}.info.json").symlink_to(outside / "secret.json")
    before = snapshot(outside)
    job = await save(demo_settings, client, demo_clock, s)
    assert job.state == JobState.DONE, job.reason
    assert job.files[0].name != f"{stem}.mp4"
    assert os.readlink(folder / f"{stem}.mp4") == str(outside / "victim.mp4")
    assert snapshot(outside) == before


# ------------------------------------------------------------------ the .part during a retry wait


@pytest.mark.parametrize("swap", ["symlink-inside", "symlink-outside", "hardlink", "fifo"])
async def test_part_swapped_during_the_retry_wait_is_left_alone(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient, outside: Path,
    demo_server: DemoServer, swap: str,
) -> None:
    folder = demo_settings.download_dir
    folder.mkdir()
    keep = folder / "keepme.txt"
    keep.write_text("a file of the user's, inside the download folder")
    kept = keep.read_bytes()
    before = snapshot(outside)
    demo_server.scenario.story(STORY_A).media_faults = MediaFaults(drop_after=700_000,
                                                                   drop_times=1)
    swapped: list[Path] = []

    class Swapper(RecordingRetry):
        async def _sleep(self, seconds: float) -> None:
            for part in folder.glob("*.part"):
                part.unlink()
                if swap == "symlink-inside":
                    part.symlink_to(keep)
                elif swap == "symlink-outside":
                    part.symlink_to(outside / "victim.mp4")
                elif swap == "hardlink":
                    os.link(keep, part)
                else:
                    os.mkfifo(part)
                swapped.append(part)
            await super()._sleep(seconds)

    job = await save(demo_settings, client, demo_clock, await story(client, STORY_A),
                     retry=Swapper(attempts=3), write_metadata=False)
    assert swapped, "the download never waited to retry"
    assert job.state == JobState.FAILED
    assert "not a file tikget made; it was left alone" in one_line(job.reason)
    assert keep.read_bytes() == kept
    assert snapshot(outside) == before
    assert all(os.path.lexists(p) for p in swapped)  # not removed either
    assert [p for p in folder.iterdir() if p.suffix == ".mp4"] == []


async def test_a_fifo_planted_at_the_part_name_does_not_hang(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient,
) -> None:
    s = await story(client, STORY_B)
    from tikget_tui.files.naming import build_stem

    folder = demo_settings.download_dir
    folder.mkdir()
    os.mkfifo(folder / (build_stem(s, demo_settings.filename_template, kind="video")
                        + ".mp4.part"))
    job = await save(demo_settings, client, demo_clock, s)
    # the stem avoids names in use, so the FIFO is simply never touched
    assert job.state == JobState.DONE, job.reason
    assert stat.S_ISREG(os.lstat(job.files[0]).st_mode)


# ------------------------------------------------------------------ two tikgets, one folder


async def test_two_instances_saving_one_story_share_no_part_and_save_one_copy(
    demo_settings: Settings, demo_clock: FakeClock, demo_server: DemoServer, tmp_path: Path,
) -> None:
    demo_server.scenario.story(STORY_B).media_faults = MediaFaults(bytes_per_second=60_000)
    other = demo_settings.replace(data_dir=tmp_path / "second-state")

    async def instance(settings: Settings) -> Job:
        async def no_wait(seconds: float) -> None:
            await asyncio.sleep(0)

        async with TikTokClient(settings, clock=demo_clock, sleep=no_wait,
                                backoff_base=0.0) as c:
            return await save(settings, c, demo_clock, await story(c, STORY_B))

    first, second = await asyncio.gather(instance(demo_settings), instance(other))
    assert first.state == second.state == JobState.DONE, (first.reason, second.reason)
    folder = demo_settings.download_dir
    videos = [n for n in names(folder) if n.endswith(".mp4")]
    assert len(videos) == 1, names(folder)
    assert first.files == second.files
    assert sum("already saved by another tikget" in j.reason for j in (first, second)) == 1
    assert names(folder) == sorted([videos[0], videos[0][:-4] + ".info.json"])


async def test_a_second_instance_later_takes_the_saved_copy_over(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient, tmp_path: Path,
) -> None:
    s = await story(client, STORY_B)
    first = await save(demo_settings, client, demo_clock, s)
    other = demo_settings.replace(data_dir=tmp_path / "second-state")
    second = await save(other, client, demo_clock, s)
    assert first.state == second.state == JobState.DONE, second.reason
    assert second.files == first.files
    assert "already saved by another tikget" in second.reason
    assert len([n for n in names(demo_settings.download_dir) if n.endswith(".mp4")]) == 1


async def test_a_sidecar_of_another_story_under_the_usual_name_is_not_taken_over(
    demo_settings: Settings, demo_clock: FakeClock, client: TikTokClient,
) -> None:
    s = await story(client, STORY_B)
    from tikget_tui.files.naming import build_stem

    stem = build_stem(s, demo_settings.filename_template, kind="video")
    folder = demo_settings.download_dir
    folder.mkdir()
    (folder / "keepme.txt").write_text("not a video")
    (folder / f"{stem}.info.json").write_text(json.dumps(
        {"story_id": "1", "variant": "video", "files": [{"name": "keepme.txt"}]}))
    job = await save(demo_settings, client, demo_clock, s)
    assert job.state == JobState.DONE, job.reason
    assert "another tikget" not in job.reason
    assert job.files[0].name.startswith(stem) and job.files[0].suffix == ".mp4"
