"""Issue 20's story paths in the app (Pilot, real stand-in over loopback): a list that
stopped early and age-gated stories say so, in place."""

from __future__ import annotations

from tests.plugins.ui import notifications
from tests.ui.test_app import core_ready, look_up, main_screen
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_AGE_GATED_POST, DEMO_CREATOR, Quirk
from tikget_tui.models import AGE_GATED
from tikget_tui.ui.app import TikGetApp

STORY_B = "7440000000000000002"


async def test_a_list_that_stopped_early_says_how_many_and_why(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        screen = main_screen(app)
        table = screen.stories
        group = table.groups[DEMO_CREATOR]
        assert len(group.story_ids) == 5
        assert group.reason.startswith("only 5 stories listed: TikTok kept sending the same page")
        assert table.row_text(f"!{DEMO_CREATOR}").replace("\n", " ") == group.reason
        status = str(screen.input_pane.query_one("#input-status").render())
        assert "only 5 stories listed" in status and "look it up again later" in status


async def test_age_gated_stories_and_links_say_not_public_and_are_never_queued(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    demo_server.scenario.story(STORY_B).age_gated = True
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await core_ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        screen = main_screen(app)
        table = screen.stories
        assert table.get_cell(STORY_B, "caption").plain.startswith(f"{AGE_GATED} · Coffee")
        await pilot.press("tab")
        table.move_to(STORY_B)
        await pilot.press("d")
        await pilot.pause()
        assert f"that story {AGE_GATED}" in notifications(app)
        manager = app.manager
        assert manager is not None and manager.jobs() == []
        # a link to an age-gated post: refused in place, in one line
        await look_up(pilot, app, f"{demo_server.origin}/@{DEMO_CREATOR}/video/"
                                  f"{DEMO_AGE_GATED_POST}")
        status = str(screen.input_pane.query_one("#input-status").render())
        assert status == f"post {DEMO_AGE_GATED_POST} {AGE_GATED}"
        assert manager.jobs() == []
