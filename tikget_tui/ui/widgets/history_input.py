"""A one-line Input that remembers what was entered (Up/Down walk the history)."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.widgets import Input

HISTORY_LIMIT = 50


class HistoryInput(Input):
    """Input with a history of submitted values, kept in a small text file."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous input", show=False),
        Binding("down", "history(1)", "Next input", show=False),
        # Enter typed before the app put the terminal in raw mode arrives as a line feed
        Binding("ctrl+j", "submit", "Look up", show=False),
    ]

    def __init__(self, *, history_file: Path | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history_file = history_file
        self.history: list[str] = self._load()
        self._position = len(self.history)
        self._draft = ""

    def _on_paste(self, event: events.Paste) -> None:
        """A paste of several lines (links one per line) is kept whole: the lines are
        joined with spaces, which the link parser reads as separators. (Textual's Input
        keeps only the first line: ``prevent_default`` keeps its handler from running too.)"""
        event.stop()
        event.prevent_default()
        text = " ".join(line.strip() for line in event.text.splitlines() if line.strip())
        if not text:
            return
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)

    def _load(self) -> list[str]:
        if self.history_file is None:
            return []
        try:
            lines = self.history_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        return [line for line in lines if line.strip()][-HISTORY_LIMIT:]

    def remember(self, value: str) -> None:
        """Add a submitted value to the history (and the history file, best effort)."""
        value = " ".join(value.split())
        if not value:
            return
        if value in self.history:
            self.history.remove(value)
        self.history.append(value)
        del self.history[:-HISTORY_LIMIT]
        self._position = len(self.history)
        self._draft = ""
        if self.history_file is not None:
            try:
                from tikget_tui.private import private_dir, write_private

                private_dir(self.history_file.parent)
                write_private(self.history_file, "\n".join(self.history) + "\n")
            except OSError:
                pass  # history is a convenience; never an error for the user

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = (
            self._draft if self._position == len(self.history) else self.history[self._position]
        )
        self.cursor_position = len(self.value)
