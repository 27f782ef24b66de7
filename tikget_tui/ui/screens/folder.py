"""A small modal to see and change the download folder (key ``o``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from tikget_tui.ui.screens.dialog import Dialog


def check_folder(text: str) -> tuple[Path | None, str]:
    """(the folder to use, '') or (None, one line saying what is wrong and what to do)."""
    raw = " ".join(text.split())
    if not raw:
        return None, "type a folder, e.g. ~/TikGet"
    path = Path(raw).expanduser()
    if not path.is_absolute():
        return None, f"{raw} is not an absolute path; start it with / or ~"
    if path.exists() and not path.is_dir():
        return None, f"{path} is a file, not a folder; type another path"
    if not path.exists() and not path.parent.is_dir():
        return None, f"{path.parent} does not exist; type a folder whose parent exists"
    return path, ""


class FolderScreen(Dialog[Path | None]):
    """Shows the download folder (copied to the clipboard); Enter saves a new one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, current: Path, config_file: Path, problem: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = current
        self.config_file = config_file
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(id="folder-box"):
            yield Static(Content("Download folder (its path is copied to the clipboard)"),
                         id="folder-title")
            yield Input(value=str(self.current), id="folder-input", select_on_focus=False)
            yield Static(Content.styled(self.problem, "$text-error"), id="folder-problem",
                         markup=False)
            yield Static(Content.styled(
                f"Enter uses this folder from now on (saved in {self.config_file}) · Esc keeps "
                "the current one", "$text-muted"), id="folder-hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path, problem = check_folder(event.value)
        if path is None:
            self.query_one("#folder-problem", Static).update(
                Content.styled(problem, "$text-error"))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
