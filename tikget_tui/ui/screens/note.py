"""A small modal asking for a note (why this is saved) for the selected stories."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from tikget_tui.ui.screens.dialog import Dialog


class NoteScreen(Dialog[str | None]):
    """Returns the note (possibly empty: clears it) or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, count: int, current: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = count
        self.current = current

    def compose(self) -> ComposeResult:
        what = "this story" if self.count == 1 else f"these {self.count} stories"
        with Vertical(id="note-box"):
            yield Static(Content(f"Note for {what} (kept beside the saved file)"),
                         id="note-title")
            yield Input(value=self.current, placeholder="why you save it", id="note-input")
            yield Static(Content.styled("Enter saves · Esc cancels · empty clears",
                                        "$text-muted"), id="note-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(" ".join(event.value.split()))

    def action_cancel(self) -> None:
        self.dismiss(None)
