"""Hostile text in the UI: a caption and a nickname from the stand-in are shown literally
(markup and escape sequences are text, never interpreted)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult

from tests.plugins.reliability import no_sleep
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoCreator, DemoServer, DemoStory
from tikget_tui.tiktok import TikTokClient
from tikget_tui.ui.widgets.stories_table import StoriesTable

CAPTION = "[bold]x[/] [link=http://evil.example]click[/link] \x1b[31mred\x1b[0m"
NICK = "[red]Admin[/red]"


class Host(App[None]):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield StoriesTable(self.clock)


def _cells(table: StoriesTable) -> list[str]:
    out: list[str] = []
    for row in range(table.row_count):
        for cell in table.get_row_at(row):
            out.append(cell.plain if isinstance(cell, Text) else str(cell))
    return out


async def test_stories_table_shows_markup_literally(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    demo_server.scenario.add_creator(DemoCreator(
        username="markup.user", nickname=NICK, user_id="6800000000000000777",
        sec_uid="MS4wLjABAAAAmarkup",
        stories=[DemoStory("7449000000000000777", "h264_b", CAPTION, created=-600.0)]))
    async with TikTokClient(demo_settings, clock=demo_clock, sleep=no_sleep) as client:
        listing = await client.lookup_stories("markup.user")
    assert listing.stories[0].caption == CAPTION  # the client kept it exactly
    app = Host(demo_clock)
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(StoriesTable)
        table.show_list(listing)
        await pilot.pause()
        cells = _cells(table)
        shown: Any = " | ".join(cells)
        assert any("[bold]x[/]" in c for c in cells), shown
        assert any("[link=http://evil.example]click[/link]" in c for c in cells), shown
        # the header row reads across its cells (it spans the columns)
        assert NICK in table.row_text("@markup.user"), shown
        assert "\x1b" not in shown  # the escape sequence is not passed to the terminal
