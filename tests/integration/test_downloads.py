"""The download engine end to end against the stand-in over real sockets."""

from __future__ import annotations

import dataclasses
import errno
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.plugins.downloads import RecordingRetry, leftovers, sha256_of
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import (
    DEMO_EXPIRING_STORY,
    DEMO_HEVC_STORY,
    DEMO_HOSTILE_CREATOR,
    DEMO_PHOTO_STORY,
    DEMO_SILENT_HEVC_STORY,
    DEMO_VIDEO_ONLY_FALLBACK,
    DEMO_VIDEO_ONLY_MEDIA,
    MediaFaults,
)
from tikget_tui.downloads import DownloadManager, JobChanged, JobState, Progress
from tikget_tui.downloads.transfer import open_part
from tikget_tui.models import MediaSource
from tikget_tui.store import AlreadyRunning, Store
from tikget_tui.tiktok import TikTokClient

STORY_A = "7440000000000000001"  # h264_a, 3.7 MB
STORY_B = "7440000000000000002"  # h264_b, 60 kB
STORY_C = "7440000000000000003"  # h264_c, 150 kB


@pytest.fixture
async def plain(demo_settings: Settings, demo_clock: FakeClock, dl_client: TikTokClient,
                fast_retry: RecordingRetry) -> AsyncIterator[DownloadManager]:
    """A manager that does not rewrite files with metadata: saved bytes == served bytes."""
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False) as m:
        yield m


def media_requests(server: DemoServer) -> list:
    return [r for r in server.stats.requests if r.kind == "media"]


async def save(m: DownloadManager, story, **kw):
    job = await m.enqueue(story, **kw)
    await m.wait_idle()
    out = m.job(job.id)
    assert out is not None
    return out


async def test_video_story_saved_tagged_verified_with_sidecar(
    manager: DownloadManager, find_story, demo_settings: Settings, demo_server: DemoServer,
) -> None:
    events: list[object] = []
    manager.subscribe(events.append)
    story = await find_story(STORY_B)
    job = await save(manager, story, note="offline reference")
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
    assert side["expires_at"] and side["posted_at"] and side["saved_at"]
    assert side["verification"]["verdict"] == job.verdict
    assert leftovers(demo_settings.download_dir) == []
    states = [e.job.state for e in events if isinstance(e, JobChanged) and e.job.id == job.id]
    assert JobState.DOWNLOADING in states and JobState.VERIFYING in states
    assert states[-1] == JobState.DONE
    finals = [e for e in events if isinstance(e, Progress) and e.final]
    assert finals and finals[-1].done == demo_server.media["h264_b"].size
    # the metadata travels with the file (stream copy: same duration, tags added)
    assert final.read_bytes() != demo_server.media["h264_b"].path.read_bytes()
    assert b"offline reference" in final.read_bytes()
    assert Records(manager.store).get(STORY_B, "video").sha256 == sha256_of(final)


async def test_drops_mid_body_resume_with_range(plain, find_story, demo_server) -> None:
    demo_server.scenario.story(STORY_A).media_faults = MediaFaults(drop_after=700_000,
                                                                   drop_times=3)
    job = await save(plain, await find_story(STORY_A))
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_a"].path)
    ranges = [r.range for r in media_requests(demo_server) if r.range]
    assert len(ranges) == 3 and all(r.startswith("bytes=") for r in ranges)


async def test_server_ignoring_range_restarts_from_zero(plain, find_story, demo_server) -> None:
    demo_server.scenario.story(STORY_A).media_faults = MediaFaults(
        drop_after=500_000, drop_times=1, ignore_range=True)
    job = await save(plain, await find_story(STORY_A))
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_a"].path)
    statuses = [r.status for r in media_requests(demo_server)]
    assert statuses == [200, 200]


async def test_403_and_404_fall_back_to_the_next_source(plain, find_story, demo_server) -> None:
    story = await find_story(STORY_B)
    good = story.sources[0]
    refused = dataclasses.replace(good, url=good.url.replace("signature=", "signature=bad"))
    missing = dataclasses.replace(good, url=demo_server.origin + "/video/tos/x/y/nope/?a=1")
    story = dataclasses.replace(story, sources=(refused, missing, *story.sources))
    job = await save(plain, story)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_b"].path)
    assert [r.status for r in media_requests(demo_server)][:2] == [403, 404]


async def test_html_or_tiny_play_file_is_never_accepted(plain, find_story, demo_server) -> None:
    story = await find_story(STORY_B)
    page = MediaSource(url=demo_server.page_url("mika.travels"), label="html")
    play = MediaSource(url=demo_server.origin + f"/aweme/v1/play/?video_id={STORY_B}",
                       label="downloadAddr")
    job = await save(plain, dataclasses.replace(story, sources=(page, play)))
    # neither is kept: with no usable source left the story is looked up again for fresh
    # links, and the file saved is the real video, never the page or the placeholder
    assert job.state == JobState.DONE, job.reason
    assert job.story.sources[0].url != page.url
    saved = [p for p in plain.settings.download_dir.iterdir() if p.suffix == ".mp4"]
    assert len(saved) == 1 and saved[0].read_bytes()[4:8] == b"ftyp"
    assert saved[0].stat().st_size > 8 * 1024


async def test_429_with_retry_after_is_honoured(plain, find_story, demo_server,
                                                fast_retry) -> None:
    story = await find_story(STORY_B)
    faults = demo_server.scenario.faults
    faults.fault_kinds = {"media"}
    faults.too_many = 2
    faults.retry_after = "3"
    job = await save(plain, story)
    assert job.state == JobState.DONE, job.reason
    assert fast_retry.waits == [3.0, 3.0]
    assert [r.status for r in media_requests(demo_server)] == [429, 429, 200]


async def test_too_long_retry_after_fails_with_reason(plain, find_story, demo_server) -> None:
    story = await find_story(STORY_B)
    faults = demo_server.scenario.faults
    faults.fault_kinds = {"media"}
    faults.too_many = 1
    faults.retry_after = "3600"
    job = await save(plain, story)
    assert job.state == JobState.FAILED
    assert "3600" in job.reason and "429" in job.reason


async def test_slow_body_reports_rate_limited_progress(plain, find_story, demo_server) -> None:
    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(bytes_per_second=600_000)
    events: list[Progress] = []
    plain.subscribe(lambda e: events.append(e) if isinstance(e, Progress) else None)
    job = await save(plain, await find_story(STORY_C))
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_c"].path)
    size = demo_server.media["h264_c"].size
    dones = [e.done for e in events]
    assert dones == sorted(dones) and dones[-1] == size
    assert events[-1].final and events[-1].total == size
    assert any(e.speed > 0 for e in events)
    # ~2.5 s of body at 10 Hz max: far fewer events than the ~600 chunks received
    assert 2 <= len(events) <= 60


async def test_expiry_mid_download_story_gone(plain, find_story, demo_server, demo_clock) -> None:
    story = await find_story(DEMO_EXPIRING_STORY)
    demo_server.scenario.story(DEMO_EXPIRING_STORY).media_faults = MediaFaults(
        bytes_per_second=100_000, dies_with_story=True)

    def on_event(e: object) -> None:
        if isinstance(e, Progress) and not e.final and e.done > 0:
            demo_clock.set(story.expires_at.timestamp() + 5)

    plain.subscribe(on_event)
    job = await save(plain, story)
    assert job.state == JobState.EXPIRED
    assert "expired" in job.reason
    assert list(plain.settings.download_dir.iterdir()) == []


async def test_signed_url_expiry_mid_download_gets_fresh_links(
    plain, find_story, demo_server, demo_clock,
) -> None:
    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(
        url_lifetime=60, drop_after=40_000, drop_times=1)
    story = await find_story(STORY_C)  # links signed for 60 s
    moved: list[bool] = []

    def on_event(e: object) -> None:
        if isinstance(e, Progress) and not moved:
            moved.append(True)
            demo_clock.advance(120)

    plain.subscribe(on_event)
    job = await save(plain, story)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_c"].path)
    assert [r.status for r in media_requests(demo_server)] == [200, 403, 206]


async def test_wrong_content_length_too_long_still_exact(plain, find_story, demo_server) -> None:
    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(content_length_delta=100)
    job = await save(plain, await find_story(STORY_C))
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_c"].path)


async def test_wrong_content_length_too_short_never_finalised(plain, find_story,
                                                              demo_server) -> None:
    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(content_length_delta=-1000)
    job = await save(plain, await find_story(STORY_C))
    final = plain.settings.download_dir / (job.stem + ".mp4")
    if job.state == JobState.DONE:
        assert sha256_of(final) == sha256_of(demo_server.media["h264_c"].path)
    else:
        assert job.state == JobState.FAILED and job.reason
        assert not final.exists()


async def test_idempotent_archive_deleted_file_and_again(plain, find_story, demo_server) -> None:
    story = await find_story(STORY_B)
    first = await save(plain, story)
    assert first.state == JobState.DONE
    n = len(media_requests(demo_server))
    second = await save(plain, story)
    assert second.state == JobState.DONE and second.files == first.files
    assert len(media_requests(demo_server)) == n  # nothing downloaded twice
    first.files[0].unlink()
    third = await save(plain, story)
    assert third.id != first.id and third.state == JobState.DONE
    assert third.files[0].is_file()
    assert third.files[0] == first.files[0]  # restored under its own name, not NAME-ID
    assert len(media_requests(demo_server)) == n + 1
    again = await save(plain, story, again=True)
    assert again.state == JobState.DONE and again.files[0] != third.files[0]
    assert STORY_B in again.files[0].name  # unique: the id is appended


async def test_expiring_first_and_expired_before_start(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, demo_server,
) -> None:
    settings = demo_settings.replace(concurrency=1)
    stories = [await find_story(i) for i in (STORY_B, STORY_C, DEMO_EXPIRING_STORY)]
    order: list[str] = []
    async with DownloadManager(settings, client=dl_client, clock=demo_clock, retry=fast_retry,
                               write_metadata=False) as m:
        m.subscribe(lambda e: order.append(e.job.story_id) if isinstance(e, JobChanged)
                    and e.job.state == JobState.DOWNLOADING else None)
        jobs = [await m.pause((await m.enqueue(s)).id) for s in stories]
        for j in reversed(jobs):
            await m.resume(j.id)
        await m.wait_idle()
        assert [m.job(j.id).state for j in jobs] == [JobState.DONE] * 3
    # STORY_B expires 9 h later, STORY_C 15 h later than the expiring one
    assert order[0] == DEMO_EXPIRING_STORY
    assert order.index(STORY_B) < order.index(STORY_C)

    demo_clock.advance(3600)  # the expiring story is gone now
    late = dataclasses.replace(stories[2], id="7440000000000000099")
    async with DownloadManager(settings, client=dl_client, clock=demo_clock, retry=fast_retry,
                               write_metadata=False) as m:
        n = len(media_requests(demo_server))
        job = await save(m, late)
        assert job.state == JobState.EXPIRED
        assert "expired before its turn" in job.reason
        assert len(media_requests(demo_server)) == n


class FlakyDisk:
    """The writer seam: the next open part fails with ``err`` after ``after`` bytes."""

    def __init__(self) -> None:
        self.err: int | None = None
        self.after = 0

    def __call__(self, path: Path, start: int) -> BinaryIO:
        f = open_part(path, start)
        if self.err is None:
            return f
        err, limit, written = self.err, self.after, [0]
        real_write = f.write

        def write(data) -> int:  # type: ignore[no-untyped-def]
            if written[0] + len(data) > limit:
                room = limit - written[0]  # a partial write, then the error
                real_write(data[:room])
                written[0] = limit
                raise OSError(err, os_strerror(err))
            written[0] += len(data)
            return real_write(data)

        f.write = write  # type: ignore[method-assign]
        return f


def os_strerror(code: int) -> str:
    import os

    return os.strerror(code)


@pytest.mark.parametrize(("err", "words"), [(errno.ENOSPC, "disk is full"),
                                             (errno.EACCES, "no permission")])
async def test_disk_errors_fail_clearly_and_retry_resumes(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, demo_server, err, words,
) -> None:
    disk = FlakyDisk()
    disk.err, disk.after = err, 30_000
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False, opener=disk) as m:
        story = await find_story(STORY_A)
        job = await save(m, story)
        story_b = await find_story(STORY_B)
        other = await save(m, story_b)
        assert job.state == JobState.FAILED
        assert words in job.reason and "\n" not in job.reason
        assert other.state == JobState.FAILED  # the disk is still "full"
        assert m.store.get_job(job.id).state == JobState.FAILED  # the queue is intact
        disk.err = None
        await m.retry(job.id)
        assert (await m.enqueue(story_b)).id == other.id  # asking again resumes the failed job
        await m.wait_idle()
        job = m.job(job.id)
        assert job.state == JobState.DONE, job.reason
        assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_a"].path)
        assert m.job(other.id).state == JobState.DONE
    assert any(r.range for r in media_requests(demo_server))  # the retry resumed


async def test_missing_download_dir(demo_settings, demo_clock, dl_client, fast_retry,
                                    find_story, tmp_path) -> None:
    # a folder the user named, whose parent is missing: refused, saying how to choose another
    nowhere = demo_settings.with_download_dir(tmp_path / "no" / "such" / "dir")
    async with DownloadManager(nowhere, client=dl_client, clock=demo_clock,
                               retry=fast_retry) as m:
        job = await save(m, await find_story(STORY_B))
        assert job.state == JobState.FAILED
        assert "does not exist" in job.reason and str(tmp_path / "no") in job.reason
        assert "--dir" in job.reason and "o in the app" in job.reason
    assert not (tmp_path / "no").exists()
    # the default folder (a new machine has no ~/Downloads): created with its parents
    default = demo_settings.replace(download_dir=tmp_path / "home" / "Downloads" / "TikGet",
                                    download_dir_chosen=False)
    async with DownloadManager(default, client=dl_client, clock=demo_clock,
                               retry=fast_retry) as m:
        job = await save(m, await find_story(STORY_B))
        assert job.state == JobState.DONE, job.reason
        assert job.files[0].parent == tmp_path / "home" / "Downloads" / "TikGet"


async def test_restart_restores_the_queue_and_resumes(
    demo_settings, demo_clock, fast_retry, find_story, demo_server,
) -> None:
    for sid in (STORY_A, STORY_C):
        demo_server.scenario.story(sid).media_faults = MediaFaults(bytes_per_second=400_000)
    stories = [await find_story(STORY_A), await find_story(STORY_C)]
    first = DownloadManager(demo_settings, clock=demo_clock, retry=fast_retry,
                            write_metadata=False)
    await first.start()
    with pytest.raises(AlreadyRunning, match=r"already running \(pid \d+\)"):
        await DownloadManager(demo_settings, clock=demo_clock).start()
    started: list[int] = []
    import asyncio

    progressed = asyncio.Event()

    def on_event(e: object) -> None:
        if isinstance(e, Progress) and e.done > 150_000:
            started.append(e.job_id)
            progressed.set()

    first.subscribe(on_event)
    ids = [(await first.enqueue(s)).id for s in stories]
    await progressed.wait()
    await first.stop()
    parts = [p for p in demo_settings.download_dir.iterdir() if p.name.endswith(".part")]
    assert parts  # interrupted mid-transfer
    for sid in (STORY_A, STORY_C):
        demo_server.scenario.story(sid).media_faults = None
    async with DownloadManager(demo_settings, clock=demo_clock, retry=fast_retry,
                               write_metadata=False) as second:
        assert {j.id for j in second.jobs()} == set(ids)
        await second.wait_idle()
        jobs = [second.job(i) for i in ids]
    assert [j.state for j in jobs] == [JobState.DONE, JobState.DONE], [j.reason for j in jobs]
    assert sha256_of(jobs[0].files[0]) == sha256_of(demo_server.media["h264_a"].path)
    assert sha256_of(jobs[1].files[0]) == sha256_of(demo_server.media["h264_c"].path)
    assert leftovers(demo_settings.download_dir) == []
    assert any(r.range for r in media_requests(demo_server))


async def test_pause_resume_cancel(plain, find_story, demo_server) -> None:
    demo_server.scenario.story(STORY_A).media_faults = MediaFaults(bytes_per_second=300_000)
    import asyncio

    moving = asyncio.Event()
    plain.subscribe(lambda e: moving.set() if isinstance(e, Progress) and e.done else None)
    job = await plain.enqueue(await find_story(STORY_A))
    await moving.wait()
    job = await plain.pause(job.id)
    assert job.state == JobState.PAUSED
    assert (plain.settings.download_dir / (job.stem + ".mp4.part")).exists()
    demo_server.scenario.story(STORY_A).media_faults = None
    await plain.resume(job.id)
    await plain.wait_idle()
    job = plain.job(job.id)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_a"].path)

    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(bytes_per_second=50_000)
    moving.clear()
    job = await plain.enqueue(await find_story(STORY_C))
    await moving.wait()
    job = await plain.cancel(job.id)
    assert job.state == JobState.CANCELLED
    assert leftovers(plain.settings.download_dir) == []
    assert not (plain.settings.download_dir / (job.stem + ".mp4")).exists()


async def test_audio_mp3_and_photo_story(manager, find_story, demo_server) -> None:
    audio = await save(manager, await find_story(STORY_B), audio=True)
    assert audio.state == JobState.DONE, audio.reason
    assert audio.files[0].suffix == ".mp3"
    assert audio.files[0].read_bytes()[:3] == b"ID3"
    photo = await save(manager, await find_story(DEMO_PHOTO_STORY))
    assert photo.state == JobState.DONE, photo.reason
    names = [p.name for p in photo.files]
    assert [n.rsplit("-", 1)[1] for n in names] == ["01.jpg", "02.jpg", "03.webp"]
    assert sha256_of(photo.files[2]) == sha256_of(demo_server.media["photo_3"].path)
    side = json.loads((photo.files[0].parent / (photo.stem + ".info.json")).read_text())
    assert len(side["files"]) == 3
    sound = await save(manager, await find_story(DEMO_PHOTO_STORY), audio=True)
    assert sound.state == JobState.DONE, sound.reason
    assert sound.files[0].suffix == ".mp3"


async def test_hostile_creator_and_h264_preference(plain, find_story, demo_server) -> None:
    job = await save(plain, await find_story(DEMO_SILENT_HEVC_STORY))
    # prefer_h264 (the default) ranks the H.264 rendition, which has sound, first
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media[DEMO_VIDEO_ONLY_FALLBACK].path)
    assert job.reason == ""  # no switch was needed
    name = job.files[0].name
    assert job.files[0].parent == plain.settings.download_dir
    assert not set(name) & set('/\\\0\x1b\u202e<>:"|?*')
    hevc = await save(plain, await find_story(DEMO_HEVC_STORY))
    assert hevc.state == JobState.DONE, hevc.reason
    assert sha256_of(hevc.files[0]) == sha256_of(demo_server.media["hevc_h264_360"].path)


# -- video-only renditions ----------------------------------------------------------------------


@pytest.fixture
async def hevc_first(demo_settings: Settings, demo_clock: FakeClock, demo_server: DemoServer,
                     fast_retry: RecordingRetry,
                     ) -> AsyncIterator[tuple[DownloadManager, TikTokClient]]:
    """prefer_h264=False: renditions by resolution, so the video-only HEVC one comes first."""
    settings = demo_settings.replace(prefer_h264=False)
    async with TikTokClient(settings, clock=demo_clock, backoff_base=0.001) as client, \
            DownloadManager(settings, client=client, clock=demo_clock, retry=fast_retry) as m:
        yield m, client


async def _hostile_story(client: TikTokClient):  # type: ignore[no-untyped-def]
    listing = await client.lookup_stories(DEMO_HOSTILE_CREATOR)
    return next(s for s in listing.stories if s.id == DEMO_SILENT_HEVC_STORY)


def _gear_key(server: DemoServer, gear: int) -> str:
    """"BUCKET/KEY/" of one gear of the video-only story (shared by both CDN mirrors)."""
    from urllib.parse import urlsplit

    path = urlsplit(server.media_url(DEMO_SILENT_HEVC_STORY, gear=gear)).path
    return "/".join(path.split("/")[-3:])


def _fetches(server: DemoServer, gear: int) -> list:
    key = _gear_key(server, gear)
    return [r for r in media_requests(server) if key in r.path]


async def test_video_only_rendition_falls_back_to_one_with_sound(
    hevc_first, demo_server: DemoServer, demo_settings: Settings,
) -> None:
    from tikget_tui.models import Codec
    from tikget_tui.verify.verifier import has_audio_stream

    m, client = hevc_first
    story = await _hostile_story(client)
    assert story.sources[0].codec == Codec.HEVC  # tried first
    assert Codec.H264 in {s.codec for s in story.sources}
    reasons: list[tuple[JobState, str]] = []
    m.subscribe(lambda e: reasons.append((e.job.state, e.job.reason))
                if isinstance(e, JobChanged) else None)
    job = await save(m, story)
    assert job.state == JobState.DONE, job.reason
    assert job.verdict == "ok"
    note = "the 360p HEVC rendition has no sound; using the 270p H.264 one"
    assert job.reason == note
    assert (JobState.DOWNLOADING, note) in reasons  # said while it happened
    saved = job.files[0]
    assert await has_audio_stream(saved) is True
    side = json.loads((saved.parent / (job.stem + ".info.json")).read_text())
    checks = {c["name"]: c["status"] for c in side["verification"]["checks"]}
    assert checks["audio_present"] == "ok" and checks["audio_level"] == "ok"
    assert side["size"] == saved.stat().st_size
    # the video-only rendition was fetched once, in full, then thrown away
    hevc = _fetches(demo_server, 0)
    assert [(r.status, r.range, r.cut) for r in hevc] == [(200, None, False)]
    assert [r.status for r in _fetches(demo_server, 1)] == [200]
    assert len(media_requests(demo_server)) == 2
    assert leftovers(demo_settings.download_dir) == []
    assert sorted(p.name for p in demo_settings.download_dir.iterdir()) == sorted(
        [saved.name, job.stem + ".info.json"])
    assert Records(m.store).get(DEMO_SILENT_HEVC_STORY, "video").verdict == "ok"
    assert job.part_source is None and job.part_path is None


@pytest.mark.parametrize("gears", [[], [DEMO_VIDEO_ONLY_MEDIA]], ids=["only-one", "two-silent"])
async def test_every_rendition_video_only_fails_labelled(
    hevc_first, demo_server: DemoServer, demo_settings: Settings, gears: list[str],
) -> None:
    m, client = hevc_first
    demo_server.scenario.story(DEMO_SILENT_HEVC_STORY).gears = list(gears)
    story = await _hostile_story(client)
    job = await save(m, story)
    assert job.state == JobState.FAILED
    assert job.reason.startswith("verification failed (audio_present: no audio"), job.reason
    assert "every listed rendition was video-only" in job.reason
    assert ("(2 tried)" in job.reason) == bool(gears)
    assert job.reason.endswith("the file is kept, labelled in its .info.json")
    assert "\n" not in job.reason
    kept = job.files[0]
    assert kept.is_file() and job.verdict == "fail"
    side = json.loads((kept.parent / (job.stem + ".info.json")).read_text())
    assert side["verification"]["verdict"] == "fail"
    assert Records(m.store).get(DEMO_SILENT_HEVC_STORY, "video").verdict == "fail"
    # bounded: each rendition fetched exactly once; only the last file is kept
    assert [r.status for r in media_requests(demo_server)] == [200] * (1 + len(gears))
    for gear in range(1 + len(gears)):
        assert len(_fetches(demo_server, gear)) == 1
    assert leftovers(demo_settings.download_dir) == []
    assert [p.suffix for p in demo_settings.download_dir.iterdir()].count(".mp4") == 1


async def test_story_known_silent_keeps_its_video_only_rendition(
    hevc_first, demo_server: DemoServer,
) -> None:
    """A story the listing says has no sound: a video-only file is what it is; no switch."""
    m, client = hevc_first
    story = dataclasses.replace(await _hostile_story(client), has_sound=False)
    job = await save(m, story)
    assert job.state == JobState.DONE, job.reason
    assert job.reason == ""
    assert len(_fetches(demo_server, 0)) == 1 and _fetches(demo_server, 1) == []


async def test_verification_fail_keeps_the_file_labelled(plain, find_story, demo_server) -> None:
    story = await find_story(STORY_B)
    lying = dataclasses.replace(story, duration=60.0)  # the file is 5 s long
    job = await save(plain, lying)
    assert job.state == JobState.FAILED
    assert job.reason.startswith("verification failed") and "duration" in job.reason
    assert job.verdict == "fail" and job.files[0].is_file()
    side = json.loads((job.files[0].parent / (job.stem + ".info.json")).read_text())
    assert side["verification"]["verdict"] == "fail"
    assert Records(plain.store).get(STORY_B, "video").verdict == "fail"
    again = await plain.reverify(job.id)  # the verifier runs again: same verdict
    assert again.state == JobState.FAILED and again.verdict == "fail"
    good = await save(plain, story, again=True)
    assert good.state == JobState.DONE
    assert (await plain.reverify(good.id)).state == JobState.DONE


async def test_event_iterator_sees_every_state(plain, find_story) -> None:
    import asyncio

    seen: list[JobState] = []

    async def listen() -> None:
        async for event in plain.events():
            if isinstance(event, JobChanged):
                seen.append(event.job.state)
                if event.job.is_final:
                    return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await save(plain, await find_story(STORY_B))
    await asyncio.wait_for(listener, 30)
    assert seen[0] == JobState.QUEUED and seen[-1] == JobState.DONE
    assert JobState.DOWNLOADING in seen and JobState.VERIFYING in seen


async def test_unknown_job_and_not_started(demo_settings, plain) -> None:
    with pytest.raises(RuntimeError, match="start"):
        await DownloadManager(demo_settings).pause(1)
    with pytest.raises(KeyError):
        await plain.pause(999)


def test_progress_rate_limiter_and_speed() -> None:
    from tikget_tui.downloads.rate import RateLimiter

    now = [100.0]
    limiter = RateLimiter(10.0, clock=lambda: now[0])
    emitted = 0
    for i in range(1000):  # 1000 chunks in 2 s of (fake) time
        now[0] += 0.002
        if limiter.due():
            emitted += 1
            speed = limiter.speed((i + 1) * 1000)
    assert 19 <= emitted <= 21
    assert speed == pytest.approx(500_000, rel=0.05)


def test_a_new_attempt_measures_its_own_bytes() -> None:
    """An attempt that failed at once (stale links after a restart), then the .part resumed at
    50 MB: the jump from 0 to 50 MB is no download speed (it showed 531 MB/s)."""
    from tikget_tui.downloads.rate import RateLimiter

    now = [100.0]
    limiter = RateLimiter(10.0, clock=lambda: now[0])
    limiter.speed(0)  # the failed attempt's last word
    limiter.restart()  # as the manager does before every attempt
    now[0] += 0.1
    limiter.speed(50_000_000 + 300_000)
    now[0] += 1.0
    assert limiter.speed(50_000_000 + 3_300_000) == pytest.approx(3_000_000, rel=0.01)


# -- which source a .part came from -------------------------------------------------------------

TWIN_STORY = "7440000000000000051"


def test_source_identity_is_per_rendition_not_per_url() -> None:
    from tikget_tui.downloads.transfer import SOUND_IDENTITY, image_identity, video_identity
    from tikget_tui.models import Codec

    gear = MediaSource(url="http://a.example/v/k1/?expire=1&signature=x", codec=Codec.H264,
                       width=360, height=640, bitrate=240_000, data_size=150_000,
                       label="adapt_360_1")
    mirror = dataclasses.replace(gear, url="http://b.example/v/k1/?expire=1&signature=y")
    resigned = dataclasses.replace(gear, url=gear.url.replace("expire=1", "expire=99"))
    assert video_identity(gear) == video_identity(mirror) == video_identity(resigned)
    # another rendition is another identity, also when only one listed property differs
    # (in particular two renditions with the same byte size)
    others = [
        dataclasses.replace(gear, label="normal_360_0"),
        dataclasses.replace(gear, codec=Codec.HEVC),
        dataclasses.replace(gear, width=540, height=960),
        dataclasses.replace(gear, data_size=150_001),
        dataclasses.replace(gear, data_size=None),
        dataclasses.replace(gear, bitrate=100_000),
        dataclasses.replace(gear, watermarked=True),
    ]
    ids = {video_identity(gear), *(video_identity(o) for o in others)}
    assert len(ids) == len(others) + 1
    assert image_identity(1, 0) != image_identity(1, 1) != image_identity(2, 0)
    assert image_identity(2, 1) == image_identity(2, 1)
    assert SOUND_IDENTITY not in ids | {image_identity(1, 0)}


async def _stop_midway(settings: Settings, clock: FakeClock, client: TikTokClient,
                       retry, story, *, at: int = 20_000):  # type: ignore[no-untyped-def]
    """Start a download, stop the manager once ``at`` bytes are in the .part (a stopped run)."""
    import asyncio

    moving = asyncio.Event()
    async with DownloadManager(settings, client=client, clock=clock, retry=retry,
                               write_metadata=False) as m:
        m.subscribe(lambda e: moving.set() if isinstance(e, Progress) and e.done > at else None)
        job = await m.enqueue(story)
        await moving.wait()
    with Store.open(settings.state_db) as store:
        left = store.get_job(job.id)
    assert left is not None and left.state == JobState.QUEUED, left
    assert left.part_path is not None and left.part_path.stat().st_size > at
    return left


def _twin_of(src, size: int, path: Path):  # type: ignore[no-untyped-def]
    """``src`` padded with an MP4 ``free`` box to exactly ``size`` bytes: a valid file, other
    bytes, the same size as another rendition."""
    data = src.path.read_bytes()
    pad = size - len(data)
    assert pad >= 8
    path.write_bytes(data + pad.to_bytes(4, "big") + b"free" + bytes(pad - 8))
    return dataclasses.replace(src, name="twin_b", path=path, size=size)


@pytest.mark.parametrize("how", ["fresh-links", "refused"])
async def test_part_from_another_rendition_of_equal_size_is_never_spliced(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, demo_server, demo_media,
    tmp_path, how,
) -> None:
    from tikget_tui.demo import MediaCatalog
    from tikget_tui.demo.scenario import HOUR, DemoStory
    from tikget_tui.downloads.transfer import video_identity

    a = demo_media["h264_c"]  # rendition A: 12 s
    twin = _twin_of(demo_media["h264_b"], a.size, tmp_path / "twin_b.mp4")  # B: 5 s, same size
    assert twin.size == a.size and sha256_of(twin.path) != sha256_of(a.path)
    demo_server.media = MediaCatalog(demo_media.folder, {**demo_media, "twin_b": twin})
    demo_server.scenario.creator("mika.travels").stories.append(DemoStory(
        TWIN_STORY, "h264_c", "two renditions, one size", created=-0.5 * HOUR,
        gears=["twin_b"],
        media_faults=MediaFaults(bytes_per_second=50_000, url_lifetime=60)))
    story = await find_story(TWIN_STORY)
    # B (same size, shorter: higher bitrate) is ranked first; A comes next
    ident_b, ident_a = video_identity(story.sources[0]), video_identity(story.sources[2])
    assert story.sources[0].data_size == story.sources[2].data_size == a.size
    assert ident_b != ident_a

    left = await _stop_midway(demo_settings, demo_clock, dl_client, fast_retry, story)
    assert left.part_source == ident_b
    assert left.bytes_total == a.size  # the recorded total cannot tell B from A
    demo_server.scenario.story(TWIN_STORY).media_faults = None
    if how == "fresh-links":
        # after the restart B's links have expired, and the fresh listing only offers A
        demo_clock.advance(120)
        demo_server.scenario.story(TWIN_STORY).gears = []
    else:
        # after the restart B's links are refused (403): A, next in the list, answers first
        with Store.open(demo_settings.state_db) as store:
            refused = tuple(dataclasses.replace(s, url=s.url.replace("signature=", "signature=x"))
                            if video_identity(s) == ident_b else s for s in story.sources)
            store.update_job(left.id, story=dataclasses.replace(story, sources=refused))
    before = len(media_requests(demo_server))
    reasons: list[str] = []
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False) as m:
        m.subscribe(lambda e: reasons.append(e.job.reason) if isinstance(e, JobChanged) else None)
        await m.wait_idle()
        job = m.job(left.id)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(a.path)  # A's bytes, never B's head + A's tail
    assert job.part_source is None
    after = media_requests(demo_server)[before:]
    served = [r for r in after if r.status in (200, 206)]
    assert [(r.status, r.range) for r in served] == [(200, None)]  # A from zero, no Range
    assert any("another rendition" in r and "from zero" in r for r in reasons), reasons
    assert leftovers(demo_settings.download_dir) == []


async def test_resume_across_mirrors_of_one_rendition_uses_range(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, demo_server,
) -> None:
    from tikget_tui.downloads.transfer import video_identity

    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(bytes_per_second=50_000)
    story = await find_story(STORY_C)
    first, mirror = story.sources[0], story.sources[1]
    assert "/useast2a/" in first.url and "/useast5/" in mirror.url
    assert video_identity(first) == video_identity(mirror)
    left = await _stop_midway(demo_settings, demo_clock, dl_client, fast_retry, story)
    assert left.part_source == video_identity(first)
    have = left.part_path.stat().st_size
    demo_server.scenario.story(STORY_C).media_faults = None
    # the mirror the .part came from now refuses: the other mirror continues the same bytes
    with Store.open(demo_settings.state_db) as store:
        down = dataclasses.replace(first, url=first.url.replace("signature=", "signature=x"))
        store.update_job(left.id, story=dataclasses.replace(
            story, sources=(down, *story.sources[1:])))
    before = len(media_requests(demo_server))
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False) as m:
        await m.wait_idle()
        job = m.job(left.id)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_c"].path)
    after = media_requests(demo_server)[before:]
    assert [(r.status, "/useast5/" in r.path, r.range) for r in after] == [
        (403, False, f"bytes={have}-"), (206, True, f"bytes={have}-")]


async def test_part_without_recorded_source_resumes_as_before(
    demo_settings, demo_clock, dl_client, fast_retry, find_story, demo_server,
) -> None:
    """A job row from before the identity was stored (part_source NULL): resume from the first
    source that answers, checked by the recorded total (the earlier behaviour)."""

    demo_server.scenario.story(STORY_C).media_faults = MediaFaults(bytes_per_second=50_000)
    story = await find_story(STORY_C)
    left = await _stop_midway(demo_settings, demo_clock, dl_client, fast_retry, story)
    have = left.part_path.stat().st_size
    demo_server.scenario.story(STORY_C).media_faults = None
    with Store.open(demo_settings.state_db) as store:
        store.update_job(left.id, part_source=None)
    before = len(media_requests(demo_server))
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False) as m:
        await m.wait_idle()
        job = m.job(left.id)
    assert job.state == JobState.DONE, job.reason
    assert sha256_of(job.files[0]) == sha256_of(demo_server.media["h264_c"].path)
    assert [(r.status, r.range) for r in media_requests(demo_server)[before:]] == [
        (206, f"bytes={have}-")]
