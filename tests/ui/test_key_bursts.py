"""Keys in bursts (issue 21): a second of typing arrives in one read over a slow SSH link.

Each test posts its keys to the app all at once (``burst``: nothing runs between them, as
when the terminal delivers them in one read) and checks the app did what the same keys
typed one by one do: pane keys, Tab, Escape and dialogs opening or closing take effect
before the next key is routed, no key is lost or lands in the pane being left, and the
app never quits from text meant for a field.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from tests.plugins.ui import burst, burst_done, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_EMPTY_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.folder import FolderScreen
from tikget_tui.ui.screens.main import MainScreen
from tikget_tui.ui.screens.note import NoteScreen
from tikget_tui.ui.screens.quit import QuitScreen, quit_question
from tikget_tui.ui.widgets.stories_table import StoriesTable


async def ready(pilot: Any, app: TikGetApp) -> MainScreen:
    await wait_until(pilot, lambda: app.manager is not None, "the download manager to start")
    screen = app.main_screen
    assert screen is not None
    await pilot.pause()
    return screen


async def look_up(pilot: Any, app: TikGetApp, screen: MainScreen, creator: str) -> None:
    """Look a creator up, typed slowly into the input (the focus stays there)."""
    screen.action_pane("input")
    await pilot.press(*("@" + creator), "enter")
    await wait_until(pilot, lambda: creator in screen.stories.groups
                     and bool(screen.stories.groups[creator].story_ids), "the stories")
    await app.workers.wait_for_complete()
    await pilot.pause()


def jobs(app: TikGetApp) -> list[Any]:
    return app.manager.jobs() if app.manager is not None else []


async def test_a_pane_key_then_a_lookup_types_the_lookup_and_never_quits(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    """In the stories pane, ``1`` then ``@quiet.creator`` Enter: the q is text, not quit;
    ``@studio.photos``: its s, d and a are text, not stories keys."""
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        for creator in (DEMO_EMPTY_CREATOR, DEMO_PHOTO_CREATOR):
            await pilot.press("tab")
            assert screen.active_pane == "stories"
            before = screen.lookups_started
            burst(app, "1", *("@" + creator), "enter")
            await burst_done(pilot, app)
            assert app.is_running, "the q of the look-up quit the app"
            assert screen.lookups_started == before + 1
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert creator in screen.stories.groups
            assert screen.input_pane.input.value == ""
            assert screen.active_pane == "input"
            assert app.focused is screen.input_pane.input
        assert jobs(app) == [], "letters of the look-up acted as keys of the stories pane"
        assert screen.input_pane.input.history[-2:] == ["@" + DEMO_EMPTY_CREATOR,
                                                        "@" + DEMO_PHOTO_CREATOR]


async def test_tab_home_a_from_the_input_saves_all_seven(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        assert app.focused is screen.input_pane.input
        burst(app, "tab", "home", "a")
        await burst_done(pilot, app)
        await wait_until(pilot, lambda: len(jobs(app)) == 7, "seven downloads queued")
        assert screen.input_pane.input.value == ""  # neither Home nor a went to the input
        assert screen.active_pane == "stories"
        # Shift+Tab back to the input: the letters after it are text (d, a: not keys)
        burst(app, "shift+tab", *"@dada", "tab", "end")
        await burst_done(pilot, app)
        assert screen.input_pane.input.value == "@dada"
        assert screen.active_pane == "stories"
        assert len(jobs(app)) == 7


@pytest.mark.parametrize("start", ["stories", "input"])
async def test_the_library_key_then_a_filter_filters(
    demo_server: DemoServer, demo_settings: Settings, start: str
) -> None:
    """``5`` then ``tram`` (from the stories pane; from the input: Tab first): the library,
    shown for the first time, gets the letters in its filter line."""
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        keys = ["5"] if start == "stories" else ["tab", "5"]
        if start == "stories":
            await pilot.press("tab")
        burst(app, *keys, *"tram")
        await burst_done(pilot, app)
        library = screen.library
        assert screen.active_pane == "library"
        assert library.filter.value == "tram"
        assert app.focused is library.filter
        assert screen.input_pane.input.value == ""


async def test_alt_digits_switch_panes_even_from_inside_a_field(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        assert app.focused is screen.input_pane.input
        burst(app, *"ab", "alt+5", *"tram", "alt+2", "alt+1", *"cd")
        await burst_done(pilot, app)
        assert screen.library.filter.value == "tram"
        assert screen.input_pane.input.value == "abcd"
        assert app.focused is screen.input_pane.input
        burst(app, "alt+3")
        await burst_done(pilot, app)
        assert screen.active_pane == "queue"
        burst(app, "alt+4", "alt+2")
        await burst_done(pilot, app)
        assert screen.active_pane == "stories"
        assert isinstance(app.focused, StoriesTable)


async def test_dialogs_opened_and_closed_in_the_middle_of_a_burst(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    """The note dialog (n … Enter), the folder dialog (o … Escape) and Escape then a digit
    typed fast (one ``alt+digit`` key): each key lands where the keys before it left."""
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        stories = screen.stories
        first, second = stories.groups[DEMO_CREATOR].story_ids[1:3]

        # n opens the note dialog; the text goes into it, Enter keeps it, 3 is the queue
        await pilot.press("tab")
        stories.move_to(first)
        burst(app, "n", *"for the archive", "enter", "3")
        await burst_done(pilot, app)
        assert stories.notes.get(first) == "for the archive"
        assert app.screen is screen and screen.active_pane == "queue"

        # Escape then 1 typed fast in the dialog: the dialog closes, pane 1 takes the text
        await pilot.press("2")
        stories.move_to(second)
        burst(app, "n", *"half", "alt+1", *"@x")
        await burst_done(pilot, app)
        assert second not in stories.notes
        assert app.screen is screen and screen.active_pane == "input"
        assert screen.input_pane.input.value == "@x"

        # Escape then d typed fast (alt+d) in the note dialog: it closes, d downloads
        screen.input_pane.input.value = ""
        await pilot.press("alt+2")
        stories.move_to(second)
        burst(app, "n", *"x", "alt+d")
        await burst_done(pilot, app)
        assert app.screen is screen and second not in stories.notes
        await wait_until(pilot, lambda: [j.story.id for j in jobs(app)] == [second],
                         "the story under the cursor queued")

        # o opens the folder dialog, Escape closes it, 1 then the text go to the input
        await pilot.press("2")
        burst(app, "o", "escape", "1", *"@quiet")
        await burst_done(pilot, app)
        assert app.is_running and app.screen is screen
        assert screen.input_pane.input.value == "@quiet"
        assert not app.screen_stack[1:], "a dialog stayed open"
        assert not isinstance(app.screen, NoteScreen | FolderScreen)


@pytest.fixture
def slow_settings(demo_server: DemoServer, demo_settings: Settings) -> Settings:
    """Downloads that stay running for the length of a test."""
    demo_server.scenario.faults.media = dataclasses.replace(
        demo_server.scenario.faults.media, bytes_per_second=4000)
    return demo_settings.replace(min_media_rate=0, concurrency=1)


async def test_quit_with_downloads_running_asks_once(slow_settings: Settings) -> None:
    app = TikGetApp(slow_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        burst(app, "tab", "home", "a")
        await burst_done(pilot, app)
        await wait_until(pilot, lambda: len(jobs(app)) == 7, "seven downloads queued")
        count = app.unfinished_downloads()
        assert count == 7

        # q then n (and more keys): asked once, n stays, the keys after it act on the pane
        burst(app, "q", "n", "3")
        await burst_done(pilot, app)
        assert app.is_running and app.screen is screen and screen.active_pane == "queue"

        # q then any other key stays; Ctrl+Q asks the same question
        for answer in ("escape", "x", "ctrl+q"):
            burst(app, "ctrl+q" if answer != "x" else "q")
            await burst_done(pilot, app)
            dialog = app.screen
            assert isinstance(dialog, QuitScreen)
            title = str(dialog.query_one("#quit-title").render())
            assert title == quit_question(dialog.count)
            assert dialog.count == app.unfinished_downloads()
            burst(app, answer)
            await burst_done(pilot, app)
            assert app.is_running and app.screen is screen

        # q then Enter quits (the queue resumes next time)
        burst(app, "q", "enter")
        await wait_until(pilot, lambda: not app.is_running, "the app to quit")
    assert app.return_code == 0


@pytest.mark.parametrize("answer", ["y", "enter"])
async def test_quit_answers_y_and_enter(slow_settings: Settings, answer: str) -> None:
    app = TikGetApp(slow_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        burst(app, "tab", "end", "d", "q", answer)
        await wait_until(pilot, lambda: not app.is_running, "the app to quit")
    assert app.return_code == 0
    assert quit_question(1) == "1 download running: quit? they resume next time (y/n)"


async def test_quit_at_once_with_nothing_running_or_with_confirm_quit_off(
    slow_settings: Settings,
) -> None:
    app = TikGetApp(slow_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("tab")
        burst(app, "q")
        await wait_until(pilot, lambda: not app.is_running, "the app to quit")
    app = TikGetApp(slow_settings.replace(confirm_quit=False), clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        burst(app, "tab", "home", "a")
        await wait_until(pilot, lambda: app.unfinished_downloads() == 7, "downloads")
        burst(app, "q")
        await wait_until(pilot, lambda: not app.is_running, "the app to quit")
    assert app.return_code == 0


async def test_library_enter_and_the_delete_question_in_the_middle_of_a_burst(
    demo_server: DemoServer, demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5, a filter, Down, Delete: the question opens; n keeps the file and Enter (in the
    list again) shows the report; then Delete y deletes it and 3 goes to the queue. The
    archive is slow to list (a big library, a slow disk): the keys after 5 wait for it."""
    from tikget_tui.archive import library

    real_load = library.load

    def slow_load(store: Any) -> Any:
        time.sleep(0.3)  # (in the loading thread)
        return real_load(store)

    monkeypatch.setattr(library, "load", slow_load)
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, screen, DEMO_CREATOR)
        burst(app, "tab", "home", "a")
        await burst_done(pilot, app)
        await wait_until(pilot, lambda: len(jobs(app)) == 7
                         and all(str(j.state) == "done" for j in jobs(app)), "all saved")
        await app.workers.wait_for_complete()

        burst(app, "5", *"tram", "down", "delete", "n", "enter")
        await burst_done(pilot, app)
        library = screen.library
        [item] = library.table.items
        assert "Tram 28" in item.caption and item.path.is_file()
        assert any(m.startswith("nothing deleted") for m in app.recent_notices)
        assert app.screen is screen and screen.active_pane == "report"
        assert app.focused is screen.report and "Tram 28" in screen.report.text

        burst(app, "5", "down", "delete", "y", "3")
        await burst_done(pilot, app)
        assert not item.path.exists()
        assert any(m.startswith("deleted ") for m in app.recent_notices)
        assert app.screen is screen and screen.active_pane == "queue"
        assert library.filter.value == "tram"
