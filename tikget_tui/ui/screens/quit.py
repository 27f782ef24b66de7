"""Asked once before quitting with downloads running or queued: y or Enter quits."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tikget_tui.ui.screens.dialog import Dialog


def quit_question(count: int) -> str:
    """'3 downloads running: quit? they resume next time (y/n)'."""
    what = "download" if count == 1 else "downloads"
    return f"{count} {what} running: quit? they resume next time (y/n)"


class QuitScreen(Dialog[bool]):
    """True for ``y`` or Enter; any other key is False (the app stays), and is used up
    here: a key typed just after ``q`` answers the question, it does not act on a pane."""

    def __init__(self, count: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(Content.styled(quit_question(self.count), "bold"), id="quit-title")
            yield Static(Content.styled("y or Enter quits · any other key stays",
                                        "$text-muted"), id="quit-hint")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key in ("y", "enter"))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss(False)
