"""The help screen (``?``): every key, from the same table as the footer."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tikget_tui.ui import keymap
from tikget_tui.ui.screens.dialog import Dialog

CLOSE_HINT = "Esc closes · ↑ ↓ PgUp PgDn End scroll"


class HelpScreen(Dialog[None]):
    """Lists every action with its current key(s) (after the user's keymap)."""

    BINDINGS = [
        Binding("escape,question_mark,q,f1", "dismiss", "Close help", show=True),
    ]

    def __init__(self, user_keymap: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user_keymap = user_keymap
        # (scope, key display, description, help) for every action, in table order
        self.rows: list[tuple[keymap.ActionSpec, list[str]]] = [
            (spec, keymap.keys_for(spec, user_keymap)) for spec in keymap.ACTIONS
        ]

    def _key_display(self, key: str) -> str:
        return self.app.get_key_display(Binding(key, ""))

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        width = max(len(" / ".join(self._key_display(k) for k in keys))
                    for _, keys in self.rows)
        for scope, title in keymap.SCOPE_TITLES.items():
            if lines:
                lines.append(Content(""))
            lines.append(Content.styled(title, "bold $accent"))
            for spec, keys in self.rows:
                if spec.scope != scope:
                    continue
                shown = " / ".join(self._key_display(k) for k in keys)
                lines.append(Content.assemble((f"  {shown:<{width}}  ", "bold"), spec.help,
                                              (f"  [{spec.id}]", "$text-muted")))
        lines.append(Content(""))
        lines.append(Content.assemble(
            ("  ", ""), (self._key_display("ctrl+p"), "bold"),
            "  command palette: every action above by name",
        ))
        lines.append(Content.styled(
            "  Enter in the input looks up; Up/Down there recall earlier inputs. "
            "Remap keys in the config file's [keys] table by the [names] shown, "
            "e.g. download = \"ctrl+d\".",
            "$text-muted",
        ))
        # One scrolling box: its title and its hint sit in its border, so the last line of
        # the list can always be scrolled into view and the hint is never pushed off screen.
        box = VerticalScroll(id="help-box")
        box.border_title = "TikGet keys"
        box.border_subtitle = CLOSE_HINT
        with box:
            yield Static(Content("\n").join(lines), id="help-body", markup=False)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
