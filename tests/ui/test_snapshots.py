"""Snapshots of the main screen at 80x24 and 120x40, with an injected clock.

The stand-in runs in its own thread on a FakeClock, local time is UTC, and
nothing machine-specific (ports, temp paths) is on screen.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.plugins.ui import burst_done, wait_until
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.store import Store
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.main import MainScreen

pytestmark = pytest.mark.usefixtures("utc_local_time")


async def queue_started(pilot: Pilot[Any]) -> tuple[TikGetApp, MainScreen]:
    """The app under test and its main screen, once the download queue has started."""
    app = pilot.app
    assert isinstance(app, TikGetApp)
    await wait_until(pilot, lambda: app.manager is not None, "the queue to start")
    screen = app.main_screen
    assert screen is not None
    return app, screen


def lookup(text: str, *, then: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app, screen = await queue_started(pilot)
        await pilot.press(*text, "enter")
        await wait_until(pilot, lambda: screen.lookups_started > 0, "the lookup")
        await app.workers.wait_for_complete()
        await pilot.pause()
        if then:
            await pilot.press(*then)
        await pilot.pause()

    return run_before


def test_main_screen_80x24(snap_compare: Any, thread_settings: Settings,
                           demo_clock: FakeClock) -> None:
    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=(80, 24),
                        run_before=lookup("@mika.travels", then=("tab", "down", "space")))


def test_main_screen_120x40(snap_compare: Any, thread_settings: Settings,
                            demo_clock: FakeClock) -> None:
    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=(120, 40),
                        run_before=lookup("@mika.travels @secret.garden @nobody.here",
                                          then=("tab",)))


def test_help_screen_80x24(snap_compare: Any, thread_settings: Settings,
                           demo_clock: FakeClock) -> None:
    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=(80, 24), press=["tab", "question_mark"])


def test_watched_creator_80x24(snap_compare: Any, thread_settings: Settings,
                               demo_clock: FakeClock) -> None:
    """A watched creator not looked up yet: its header says when it is polled next."""
    now = demo_clock.now()
    with Store.open(thread_settings.state_db) as store:
        store.watch_add("studio.photos")
        store.watch_update("studio.photos", last_poll_at=now - timedelta(hours=3),
                           next_poll_at=now + timedelta(hours=1, minutes=23, seconds=45),
                           last_result="2 active stories, 2 new queued, 0 already saved or queued")

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TikGetApp)
        await wait_until(pilot, lambda: app.watch_task is not None, "the watch list")
        await pilot.press("tab")
        await pilot.pause()

    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def _queue_in_every_state(settings: Settings, clock: FakeClock) -> None:
    """Jobs restored in the states a person meets (none running: speeds would vary); the
    settings keep earlier runs' finished rows (``drop_finished_at_start`` false)."""
    import asyncio

    from tikget_tui.store import JobState
    from tikget_tui.tiktok import TikTokClient

    async def listing() -> Any:
        async with TikTokClient(settings, clock=clock) as client:
            return await client.lookup_stories("mika.travels")

    stories = asyncio.run(listing()).stories
    states = [(JobState.DONE, "", "ok"), (JobState.FAILED, "could not reach the CDN", None),
              (JobState.CANCELLED, "cancelled", None), (JobState.PAUSED, "paused", None),
              (JobState.EXPIRED, "the story expired before its turn came", None)]
    with Store.open(settings.state_db) as store:
        for story, (state, reason, verdict) in zip(stories, states, strict=False):
            # the report shows the source: not the stand-in's port, which changes every run
            story = dataclasses.replace(
                story, canonical_url=f"https://www.tiktok.com/@mika.travels/video/{story.id}")
            job = store.add_job(story, variant="video", audio=False)
            store.update_job(job.id, state=state, reason=reason, verdict=verdict,
                             bytes_done=1_000_000, bytes_total=4_000_000)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_queue_in_every_state(snap_compare: Any, thread_settings: Settings,
                              demo_clock: FakeClock, size: tuple[int, int]) -> None:
    thread_settings = thread_settings.replace(drop_finished_at_start=False)
    _queue_in_every_state(thread_settings, demo_clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        _app, screen = await queue_started(pilot)
        await wait_until(pilot, lambda: len(screen.queue.jobs) == 5, "the restored queue")
        await pilot.press("tab", "tab", "down")  # the failed row: its reason in the report
        await pilot.pause()

    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _library(settings: Settings, clock: FakeClock) -> None:
    """Four saved items with fixed dates (one failing, one whose file is gone), two with
    preview frames (drawn here: a gradient, so the half-blocks are the same every run)."""
    from PIL import Image

    from tikget_tui.models import Creator, Kind, Music, Story
    from tikget_tui.store import JobState

    now = clock.now()
    frames = settings.cache_dir / "frames" / "snap"
    frames.mkdir(parents=True, exist_ok=True)
    for name, shade in (("first", 40), ("last", 200)):
        image = Image.new("RGB", (135, 240))
        image.putdata([(shade, (x * 2) % 256, (y + shade) % 256)
                       for y in range(240) for x in range(135)])
        image.save(frames / f"{name}.jpg", quality=90)
    mika = Creator("mika.travels", "Mika")
    rows = [
        ("7440000000000000003", mika, "Tram 28, every single seat taken 😅", Kind.VIDEO, 1,
         "ok", 157_000, None),
        ("7440000000000000005", mika, "Sunrise over Alfama 🌅 #lisboa", Kind.VIDEO, 2, "fail",
         3_700_000, Music("Fado da manhã", "Ana Moura", "Manhã", False)),
        ("7440000000000000021", Creator("studio.photos", "Studio"), "Contact sheet #12",
         Kind.PHOTO, 26, "ok", 55_000, None),
        ("7440000000000000009", mika, "Coffee first ☕", Kind.VIDEO, 50, "ok", 60_700, None),
    ]
    with Store.open(settings.state_db) as store:
        for sid, creator, caption, kind, hours, verdict, size, music in rows:
            story = Story(id=sid, creator=creator, created_at=now - timedelta(hours=hours + 3),
                          expires_at=now + timedelta(hours=20 - hours), caption=caption,
                          kind=kind, duration=12.0, music=music,
                          canonical_url=f"https://www.tiktok.com/@{creator.unique_id}/video/{sid}")
            variant = "photo" if kind == Kind.PHOTO else "video"
            gone = sid.endswith("09")
            path = (Path("/home/you/Downloads") if gone else settings.download_dir) / \
                f"{creator.unique_id}-{sid}.{'jpg' if kind == Kind.PHOTO else 'mp4'}"
            if not gone:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"\0" * size)  # the size saved: the library stats it
            job = store.add_job(story, variant=variant, audio=False, state=JobState.DONE)
            # the job's path is what the report shows: never the temp folder on screen
            shown = Path("/home/you/Downloads") / path.name
            store.update_job(job.id, final_path=shown, files=(path,), verdict=verdict)
            Records(store).put(ArchiveEntry(story_id=sid, variant=variant, path=path, size=size,
                                           verdict=verdict, saved_at=now - timedelta(hours=hours),
                                           creator=creator.unique_id, job_id=job.id))
            if sid.endswith("03"):  # the report of the tram video, with its two frames
                Records(store).save_report(path, {
                    "file": "/home/you/Downloads/mika.travels-tram-28.mp4", "verdict": "ok",
                    "checks": [
                        {"name": "first_second", "status": "ok",
                         "detail": "24 frames decode in the first second"},
                        {"name": "last_second", "status": "ok",
                         "detail": "36 frames decode in the last 1.5 s, up to 12.00 s"}],
                    "duration": 12.0, "size": 157_000, "sha256": "ab" * 32, "kind": "video",
                    "streams": [], "frames": [
                        {"label": "first", "time": 0.0, "file": str(frames / "first.jpg")},
                        {"label": "last", "time": 11.96, "file": str(frames / "last.jpg")}]},
                    story_id=sid)


def _open_library(*keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app, screen = await queue_started(pilot)
        await pilot.press("tab", "5")
        await wait_until(pilot, lambda: screen.library.loads > 0, "the library")
        await pilot.press(*keys)
        # every key routed and its effects handled before the workers are awaited (under
        # load the key gate could still hold "enter" here: a fresh-clone CI run once took
        # the picture before the report had the focus and its frames)
        await burst_done(pilot, app, "the keys")
        await app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_library(snap_compare: Any, thread_settings: Settings, demo_clock: FakeClock,
                 size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKGET_IMAGES", "halfcell")
    _library(thread_settings, demo_clock)
    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=size, run_before=_open_library("down", "down"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_report_with_frame_previews(snap_compare: Any, thread_settings: Settings,
                                    demo_clock: FakeClock, size: tuple[int, int],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Half-blocks (deterministic): the first and the last frame with their timestamps."""
    monkeypatch.setenv("TIKGET_IMAGES", "halfcell")
    _library(thread_settings, demo_clock)
    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=size, run_before=_open_library(*"tram", "enter"))
