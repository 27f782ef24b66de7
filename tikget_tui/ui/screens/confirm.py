"""A small modal asking yes or no before something that cannot be undone."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tikget_tui.ui.screens.dialog import Dialog


class ConfirmScreen(Dialog[bool]):
    """Returns True for ``y``, False for ``n``/Esc. The question is plain text (it names
    files, which are never markup)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=True),
        Binding("n,escape", "answer(False)", "No", show=True),
    ]

    def __init__(self, question: str, details: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.styled(self.question, "bold"), id="confirm-title",
                         markup=False)
            shown = self.details[:8]
            more = [f"… and {len(self.details) - 8} more"] if len(self.details) > 8 else []
            yield Static(Content("\n".join(f"  {d}" for d in [*shown, *more])),
                         id="confirm-body", markup=False)
            yield Static(Content.styled("y deletes · n or Esc keeps them", "$text-muted"),
                         id="confirm-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
