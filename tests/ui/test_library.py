"""The library pane (5): every saved item, filtered as you type, sorted, and each row
action (Enter, v, c, o, e, r, Delete) driven through the Pilot against the stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.ui import notifications, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.main import MainScreen

pytestmark = pytest.mark.usefixtures("utc_local_time", "halfcell_pictures")


@pytest.fixture
def halfcell_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKGET_IMAGES", "halfcell")
    monkeypatch.delenv("NO_COLOR", raising=False)


def main_screen(app: TikGetApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


def done_jobs(app: TikGetApp) -> list[Any]:
    assert app.manager is not None
    return [j for j in app.manager.jobs() if str(j.state) in ("done", "failed")]


async def save_all(pilot: Any, app: TikGetApp, *creators: str) -> MainScreen:
    """Look up each creator and save all their stories (a), as a person would."""
    await wait_until(pilot, lambda: app.manager is not None, "the download manager")
    screen = main_screen(app)
    for creator in creators:
        screen.input_pane.input.focus()
        screen.input_pane.input.value = "@" + creator
        before = screen.lookups_started
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.lookups_started > before, "the lookup")
        await wait_until(pilot, lambda: creator in screen.stories.groups, "the stories")
        screen.action_pane("stories")
        screen.stories.move_to(screen.stories.groups[creator].story_ids[0])
        await pilot.press("a")
        want = len(screen.stories.groups[creator].story_ids)
        await wait_until(pilot, lambda: len([j for j in done_jobs(app)
                                             if j.story.creator.unique_id == creator]) >= want,
                         f"{creator}'s stories saved")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def open_library(pilot: Any, app: TikGetApp) -> MainScreen:
    screen = main_screen(app)
    screen.action_pane("stories")
    loads = screen.library.loads
    await pilot.press("5")
    await wait_until(pilot, lambda: screen.library.loads > loads, "the library to load")
    await pilot.pause()
    return screen


async def test_library_lists_everything_filters_as_you_type_and_enter_shows_the_report(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await save_all(pilot, app, DEMO_CREATOR, DEMO_PHOTO_CREATOR)
        screen = await open_library(pilot, app)
        assert app.focused is screen.library.filter
        table = screen.library.table
        saved = len(done_jobs(app))
        assert len(table.items) == saved >= 8
        assert {i.creator for i in table.items} == {DEMO_CREATOR, DEMO_PHOTO_CREATOR}
        await pilot.press(*"tram")
        [item] = table.items
        assert "Tram 28" in item.caption
        assert screen.library.status_text.startswith(f"1 of {saved} saved")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.active_pane == "report"
        assert "Tram 28" in screen.report.text
        assert "verdict ✓" in screen.report.text
        assert "sound     original sound" in screen.report.text, screen.report.text
        # the report shows the first and the last frame, labelled with their timestamps
        await wait_until(pilot, lambda: len(screen.report.pictures) == 2, "the two frames")
        first, last = screen.report.pictures
        assert first == "first 0.00 s" and last.startswith("last ")
