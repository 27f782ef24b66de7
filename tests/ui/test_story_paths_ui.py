"""Issue 20's story paths in the app (Pilot, real stand-in over loopback): a list that
stopped early and age-gated stories say so, in place."""

from __future__ import annotations

from tests.ui.test_app import look_up, main_screen
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_CREATOR, Quirk
from tikget_tui.ui.app import TikGetApp


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
