"""Small frictions a newcomer met (issue 26), each driven through the real app."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from tests.plugins.ui import wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.help import HelpScreen


def option_texts(palette: CommandPalette) -> list[str]:
    options = palette.query_one(CommandList)
    return [str(getattr(option.prompt, "plain", option.prompt))
            for option in options._options]


async def test_palette_ranks_a_name_match_first_and_shows_keys(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"pause")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await wait_until(pilot, lambda: len(option_texts(palette)) >= 2, "the palette's hits")
        texts = option_texts(palette)
        # Pause (its name matches) above Watch (only its help says "paused account")
        assert texts[0].startswith("Pause"), texts
        assert "  p" in texts[0].splitlines()[0], texts[0]
        watch = next(t for t in texts if t.startswith("Watch"))
        assert "  w" in watch.splitlines()[0]


def screen_text(app: TikGetApp) -> str:
    return "\n".join(line.text for line in app.screen._compositor.render_strips())


async def test_help_scrolls_to_its_last_line_and_says_how_to_close(
    demo_settings: Settings
) -> None:
    for size in ((80, 24), (120, 40)):
        app = TikGetApp(demo_settings, clock=FakeClock())
        async with app.run_test(size=size) as pilot:
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert "Esc closes" in screen_text(app)
            assert "e.g. download" not in screen_text(app)  # the list is longer than the screen
            await pilot.press("end")
            await pilot.pause()
            # the last line of the list is on screen, and so is how to close the screen
            assert "e.g. download" in screen_text(app), screen_text(app)
            assert "Esc closes" in screen_text(app)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
