"""The tab bar of the narrow layout: one tab per pane; a click asks for that pane.

Textual's ``Tabs`` activates a clicked tab itself and says so with ``TabActivated``, the
same message it sends when it activates its first tab on mount. That one arrives after
keys pressed in the first moments (Tab, 3...) and would switch the pane back. Here a
click only asks (:class:`PaneTabs.PaneClicked`); the main screen switches the pane, and
the bar follows the pane (never the other way round). Loaded with the bar, which a wide
start does not make (``bench/bench_ui.py``).
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Tab, Tabs


class PaneTabs(Tabs):
    can_focus = False

    class PaneClicked(Message):
        """A click on the tab of ``pane``."""

        def __init__(self, pane: str) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, titles: dict[str, str], active: str, **kwargs: object) -> None:
        super().__init__(*(Tab(title, id=f"tab-{pane}") for pane, title in titles.items()),
                         active=f"tab-{active}" if active in titles else None,
                         **kwargs)  # type: ignore[arg-type]

    async def _on_tab_clicked(self, event: Tab.Clicked) -> None:
        event.stop()
        event.prevent_default()  # not Tabs' own handler: it would activate the tab itself
        if event.tab.id:
            self.post_message(self.PaneClicked(event.tab.id.removeprefix("tab-")))

    def mark(self, pane: str) -> None:
        """Mark ``pane``'s tab (no TabActivated: nothing listens to it)."""
        if self.active != f"tab-{pane}":
            with self.prevent(Tabs.TabActivated):
                self.active = f"tab-{pane}"
