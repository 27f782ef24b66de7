"""A small modal asking for a note (why this is saved) for the selected stories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from tikget_tui.ui.screens.dialog import Dialog
from tikget_tui.ui.text import safe_line

SHOWN_STORIES = 3  # more are counted, not listed


def story_line(creator: str, caption: str, posted: datetime | None) -> str:
    """One story named for the dialog: creator, caption and when it was posted (UTC)."""
    parts = [safe_line(creator, 40) or "unknown creator",
             f"“{safe_line(caption, 60)}”" if safe_line(caption) else "no caption"]
    if posted is not None:
        parts.append("posted " + posted.strftime("%Y-%m-%d %H:%M UTC"))
    return " · ".join(parts)


class NoteScreen(Dialog[str | None]):
    """Returns the note (possibly empty: clears it) or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, count: int, current: str = "", stories: Sequence[str] = (),
                 **kwargs: Any) -> None:
        """``stories``: the stories the note is for, each as :func:`story_line` names it."""
        super().__init__(**kwargs)
        self.count = count
        self.current = current
        self.stories = list(stories)

    def compose(self) -> ComposeResult:
        what = "this story" if self.count == 1 else f"these {self.count} stories"
        shown = self.stories[:SHOWN_STORIES]
        more = self.count - len(shown)
        lines = [Content(line) for line in shown]  # untrusted text: never markup
        if shown and more > 0:
            lines.append(Content.styled(f"and {more} more", "$text-muted"))
        with Vertical(id="note-box"):
            yield Static(Content(f"Note for {what} (kept beside the saved file)"),
                         id="note-title")
            if lines:
                yield Static(Content("\n").join(lines), id="note-stories", markup=False)
            yield Input(value=self.current, placeholder="why you save it", id="note-input")
            yield Static(Content.styled("Enter saves · Esc cancels · empty clears",
                                        "$text-muted"), id="note-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(" ".join(event.value.split()))

    def action_cancel(self) -> None:
        self.dismiss(None)
