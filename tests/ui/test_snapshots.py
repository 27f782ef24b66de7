"""Snapshots of the main screen at 80x24 and 120x40, with an injected clock.

The stand-in runs in its own thread on a FakeClock, local time is UTC, and
nothing machine-specific (ports, temp paths) is on screen.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.plugins.ui import wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.store import Store
from tikget_tui.ui.app import TikGetApp

pytestmark = pytest.mark.usefixtures("utc_local_time")


def lookup(text: str, *, then: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TikGetApp)
        await wait_until(pilot, lambda: app.manager is not None, "the queue to start")
        screen = app.main_screen
        assert screen is not None
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
    """Jobs restored in the states a person meets (none running: speeds would vary)."""
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
    _queue_in_every_state(thread_settings, demo_clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, TikGetApp)
        await wait_until(pilot, lambda: app.manager is not None, "the queue to start")
        screen = app.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: len(screen.queue.jobs) == 5, "the restored queue")
        await pilot.press("tab", "tab", "down")  # the failed row: its reason in the report
        await pilot.pause()

    app = TikGetApp(thread_settings, clock=demo_clock)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
