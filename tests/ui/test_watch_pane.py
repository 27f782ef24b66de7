"""The watch list in the app: watched creators with their next poll, `w`, and auto-queueing.

The app runs its own Watcher over its started queue. Its sleep is injected
(``watch_sleep``) so the loop only polls when a creator is due at start, when
``wake()`` is called, or on quit; time moves only with the FakeClock.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from textual.widgets.data_table import RowKey

from tests.plugins.ui import notifications, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import (
    DEMO_EMPTY_CREATOR,
    DEMO_PHOTO_CREATOR,
    DEMO_PRIVATE_CREATOR,
    DemoStory,
)
from tikget_tui.store import Store
from tikget_tui.ui import keymap
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.main import MainScreen

pytestmark = pytest.mark.usefixtures("utc_local_time")

NEW_STORY = "7440000000000000098"
HOUR = 3600.0


async def hold(_seconds: float) -> None:
    """The watcher's sleep in these tests: only wake() or quit ends a wait."""
    await asyncio.Event().wait()


def make_app(settings: Settings, clock: FakeClock) -> TikGetApp:
    return TikGetApp(dataclasses.replace(settings, poll_interval=HOUR), clock=clock,
                     watch_sleep=hold, watch_pause=0)


def main_screen(app: TikGetApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


async def look_up(pilot, app: TikGetApp, text: str) -> None:  # type: ignore[no-untyped-def]
    screen = main_screen(app)
    screen.input_pane.input.focus()
    before = screen.lookups_started
    await pilot.press(*text, "enter")
    await wait_until(pilot, lambda: screen.lookups_started > before, "the lookup to start")
    await wait_until(pilot, lambda: not any(w.group == "lookup" and not w.is_finished
                                            for w in app.workers), "the lookup to finish")
    await pilot.pause()


async def test_watched_creator_is_listed_at_start_with_its_next_poll(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    now = demo_clock.now()
    with Store.open(demo_settings.state_db) as store:
        store.watch_add("@" + DEMO_PHOTO_CREATOR)
        store.watch_update(DEMO_PHOTO_CREATOR, last_poll_at=now - timedelta(hours=3),
                           next_poll_at=now + timedelta(hours=1),
                           last_result="[bold]2 active stories[/], 2 new queued")
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        table = screen.stories
        await wait_until(pilot, lambda: DEMO_PHOTO_CREATOR in table.watching,
                         "the watch list in the stories pane")
        await pilot.pause()
        header = table.header_text(DEMO_PHOTO_CREATOR)
        assert header == (
            f"@{DEMO_PHOTO_CREATOR} · watching · next poll 13:00 (in 1:00:00) · "
            "last poll 09:00: [bold]2 active stories[/], 2 new queued")  # text, not markup
        assert table.groups[DEMO_PHOTO_CREATOR].creator is None  # not looked up yet
        # across the whole width (it starts in the first column, not after them): at most
        # two lines in this 70-column pane, where it used to take six
        assert table.rows[RowKey(f"@{DEMO_PHOTO_CREATOR}")].height <= 2
        assert table.row_text(f"@{DEMO_PHOTO_CREATOR}").replace("\n", " ") == header

        # the 1 s countdown moves the next-poll line, and only that cell
        demo_clock.advance(61)
        ticks = table.ticks
        await wait_until(pilot, lambda: table.ticks > ticks, "the countdown to tick")
        assert "watching · next poll 13:00 (in 0:58:59)" in table.header_text(DEMO_PHOTO_CREATOR)
        assert table.tick() == 0  # nothing new within the same second

        # not due: nothing was looked up, nothing queued
        assert app.manager is not None and app.manager.jobs() == []
        assert screen.queue.jobs == {}


async def test_w_watches_and_unwatches_the_creator_under_the_cursor(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        table = screen.stories
        await wait_until(pilot, lambda: app.watcher is not None, "the watcher to start")
        await look_up(pilot, app, f"@{DEMO_EMPTY_CREATOR} @{DEMO_PRIVATE_CREATOR}")
        assert any(b.id == "watch" and b.key == "w"
                   for bs in table._bindings.key_to_bindings.values() for b in bs)
        assert keymap.ACTIONS_BY_ID["watch"].scope == "stories"
        await pilot.press("tab")
        assert app.focused is table

        # a private account is refused, with the reason the pane shows
        table.move_to(f"@{DEMO_PRIVATE_CREATOR}")
        await pilot.press("w")
        await pilot.pause()
        assert app.manager is not None
        store = app.manager.store
        assert store.watch_get(DEMO_PRIVATE_CREATOR) is None
        refusal = notifications(app)[-1]
        assert refusal.startswith(f"cannot watch @{DEMO_PRIVATE_CREATOR}: ")
        assert "private" in refusal

        # a public creator (even with no story right now): watched, polled at once
        table.move_to(f"!{DEMO_EMPTY_CREATOR}")  # its "no active story" line
        await pilot.press("w")
        await pilot.pause()
        assert store.watch_get(DEMO_EMPTY_CREATOR) is not None
        assert any(n.startswith(f"watching @{DEMO_EMPTY_CREATOR}: next poll in a moment")
                   for n in notifications(app))
        assert "watching · " in table.header_text(DEMO_EMPTY_CREATOR)
        await wait_until(pilot, lambda: "last poll 12:00: no active story"
                         in table.header_text(DEMO_EMPTY_CREATOR), "the first poll")
        entry = store.watch_get(DEMO_EMPTY_CREATOR)
        assert entry is not None and entry.next_poll_at is not None
        local = entry.next_poll_at.strftime("%H:%M")  # local time is UTC here
        assert f"watching · next poll {local} (in " in table.header_text(DEMO_EMPTY_CREATOR)

        # w again stops watching: the header is as before
        await pilot.press("w")
        await pilot.pause()
        assert store.watch_get(DEMO_EMPTY_CREATOR) is None
        assert table.header_text(DEMO_EMPTY_CREATOR) == f"@{DEMO_EMPTY_CREATOR} · Quiet Creator"
        assert table.rows[RowKey(f"@{DEMO_EMPTY_CREATOR}")].height == 1
        assert notifications(app)[-1] == f"stopped watching @{DEMO_EMPTY_CREATOR}"
        assert app.manager.jobs() == []


async def test_story_posted_between_polls_is_queued_and_saved(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    with Store.open(demo_settings.state_db) as store:
        store.watch_add(DEMO_PHOTO_CREATOR)
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        table = screen.stories
        # never polled: the watcher looks it up at start and queues its two stories
        await wait_until(pilot, lambda: len(screen.queue.jobs) == 2, "the first poll's jobs")
        await wait_until(pilot, lambda: all(str(j.state) == "done"
                                            for j in screen.queue.jobs.values()),
                         "the first poll's downloads")
        assert "2 stories" in table.header_text(DEMO_PHOTO_CREATOR)
        assert len(table.groups[DEMO_PHOTO_CREATOR].story_ids) == 2
        assert app.manager is not None
        entry = app.manager.store.watch_get(DEMO_PHOTO_CREATOR)
        assert entry is not None and entry.next_poll_at is not None
        assert entry.last_result == "2 active stories, 2 new queued, 0 already saved or queued"

        # a new story appears; time passes the next poll; the watcher looks again
        scenario = demo_server.scenario
        assert scenario.epoch is not None
        demo_clock.advance(30 * 60)
        posted = demo_clock.time() - scenario.epoch - 60
        creator = scenario.creator(DEMO_PHOTO_CREATOR)
        assert creator is not None
        creator.stories.append(DemoStory(NEW_STORY, "h264_b", "posted between two polls",
                                         created=posted, expires=posted + 2 * HOUR))
        demo_clock.set(entry.next_poll_at + timedelta(seconds=1))
        assert app.watcher is not None
        app.watcher.wake()

        def new_job() -> object | None:
            return next((j for j in screen.queue.jobs.values() if j.story.id == NEW_STORY),
                        None)

        await wait_until(pilot, lambda: new_job() is not None, "the new story in the queue")
        await wait_until(pilot, lambda: str(getattr(new_job(), "state", "")) == "done",
                         "the new story to be saved")
        job = new_job()
        assert getattr(job, "verdict", None) == "ok"
        assert len(screen.queue.jobs) == 3  # the two saved ones were not queued again
        await wait_until(pilot, lambda: "3 stories" in table.header_text(DEMO_PHOTO_CREATOR),
                         "the header to show the new poll")
        assert NEW_STORY in table.groups[DEMO_PHOTO_CREATOR].story_ids
        assert any(n == f"@{DEMO_PHOTO_CREATOR}: 1 new story queued (watch list)"
                   for n in notifications(app))
        assert "1 new queued, 2 already saved or queued" in table.header_text(DEMO_PHOTO_CREATOR)
    # quitting stopped the watcher's loop
    assert app.watch_task is None


async def test_a_failing_watch_loop_is_one_line_toast(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    async def broken(_seconds: float) -> None:
        raise OSError("the timer broke")

    with Store.open(demo_settings.state_db) as store:
        store.watch_add(DEMO_EMPTY_CREATOR)
        store.watch_add(DEMO_PRIVATE_CREATOR)
    # two creators due: the pause between their look-ups calls the broken sleep
    app = TikGetApp(demo_settings, clock=demo_clock, watch_sleep=broken, watch_pause=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "the watch list: the timer broke" in notifications(app),
                         "the failure toast")
        table = main_screen(app).stories
        # the poll before the failure still reached the pane; the app keeps running
        assert "last poll 12:00: no active story" in table.header_text(DEMO_EMPTY_CREATOR)
        await pilot.press("q")


async def test_failing_and_paused_accounts_say_so_and_w_resumes_a_paused_one(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    now = demo_clock.now()
    with Store.open(demo_settings.state_db) as store:
        store.watch_add("@" + DEMO_PHOTO_CREATOR)
        store.watch_update(DEMO_PHOTO_CREATOR, failures=2, last_poll_at=now,
                           next_poll_at=now + timedelta(hours=1),
                           last_result="could not reach TikTok")
        store.watch_add("@gone.away")
        store.watch_update("gone.away", failures=3, paused=True, last_poll_at=now,
                           next_poll_at=now - timedelta(hours=5),
                           last_result="@gone.away does not exist")
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        table = screen.stories
        await wait_until(pilot, lambda: "gone.away" in table.watching, "the watch list")
        await pilot.pause()
        failing = table.header_text(DEMO_PHOTO_CREATOR)
        assert "watching · next poll" in failing and "2 failed polls in a row" in failing
        paused = table.header_text("gone.away")
        assert "paused after 3 failed polls (w resumes it)" in paused
        assert "next poll" not in paused  # a stale time is not shown as if it were coming
        # w on the paused account resumes it (it is not dropped from the list)
        table.focus()
        table.move_to("@gone.away")
        await pilot.press("w")
        await wait_until(pilot, lambda: not table.watching["gone.away"].paused, "the resume")
        assert app.manager is not None
        assert any(m.startswith("watching @gone.away") for m in notifications(app))
        # resumed, it is polled at once; still unknown, it counts again from one
        await wait_until(pilot, lambda: (app.manager.store.watch_get("gone.away")  # type: ignore[union-attr]
                                         .failures == 1), "the poll after the resume")
        entry = app.manager.store.watch_get("gone.away")
        assert entry is not None and not entry.paused
        await wait_until(pilot, lambda: "1 failed poll in a row" in table.header_text(
            "gone.away"), "the header after the poll")


async def test_stories_pane_says_when_the_timer_polled_last_and_runs_next(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    """`tikget watch install`'s timer ran before the app started: the stories pane's subtitle
    says so, from the state database, and moves on with the clock."""
    now = demo_clock.now()
    with Store.open(demo_settings.state_db) as store:
        run = store.watch_run_start(now - timedelta(hours=1), every=4 * HOUR)
        store.watch_run_finish(run.id, now - timedelta(minutes=58), polled=1, status=0,
                               outcome="polled 1 of 1 creator, saved 0 stories")
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = main_screen(app).query_one("#pane-stories")
        await wait_until(pilot, lambda: "timer" in str(pane.border_subtitle), "the timer line")
        assert pane.border_subtitle == ("MP3: off · timer: last poll 1h 00m ago · next in "
                                        "about 3h 00m")
        demo_clock.advance(HOUR)
        main_screen(app).show_timer_line()  # (its own interval is a minute of real time)
        assert pane.border_subtitle == ("MP3: off · timer: last poll 2h 00m ago · next in "
                                        "about 2h 00m")
        main_screen(app).action_toggle_audio()  # the audio toggle keeps the timer line
        assert str(pane.border_subtitle).startswith("MP3: on · timer: last poll 2h 00m ago")
