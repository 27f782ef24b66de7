"""Small frictions a newcomer met (issue 26), each driven through the real app."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from tests.plugins.ui import wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.ui.app import TikGetApp


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
