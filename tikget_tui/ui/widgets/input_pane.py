"""Pane 1: paste links or @users; Enter looks them up; one-line status below."""

from __future__ import annotations

import logging
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from tikget_tui.ui.widgets.history_input import HistoryInput

PLACEHOLDER = "@user, profile or video links, short links (several at once is fine)"


class InputPane(Vertical):
    """The input line and its one-line status (parse errors, lookups running)."""

    class LookupRequested(Message):
        """The user asked to look up ``text`` (not yet parsed)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, history_file: Path | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._history_file = history_file

    def compose(self) -> ComposeResult:
        yield HistoryInput(
            placeholder=PLACEHOLDER, history_file=self._history_file, id="query",
            select_on_focus=False,
        )
        yield Static(Content(""), id="input-status", markup=False)

    @property
    def input(self) -> HistoryInput:
        return self.query_one("#query", HistoryInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        text = self.input.value.strip()
        if not text:
            self.set_status("type a @user or paste links, then press Enter", error=True)
            return
        self.post_message(self.LookupRequested(text))

    def accepted(self) -> None:
        """The text parsed: remember it and clear the line for the next paste."""
        self.input.remember(self.input.value)
        self.input.value = ""

    def set_status(self, text: str, *, error: bool = False, warning: bool = False) -> None:
        """Show a message under the input (it wraps when long); errors and warnings in the
        theme's colours. Plain text: never parsed as markup."""
        line = " ".join(text.split())
        # the whole line in the log file, even when the message line shows three lines of it
        logging.getLogger("tikget_tui.ui").info("message: %s", line)
        status = self.query_one("#input-status", Static)
        style = "$text-error" if error else "$text-warning" if warning else "$text-muted"
        status.update(Content.styled(line, style))
        status.set_class(error, "-error")

    @property
    def status_text(self) -> str:
        """The message line as shown (plain text)."""
        visual = self.query_one("#input-status", Static).visual
        return str(getattr(visual, "plain", visual))
