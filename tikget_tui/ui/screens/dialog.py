"""The dialogs' base (help, note, folder, confirm): their stylesheet, ``styles/help.tcss``,
is read when the first one opens, not for the app's first frame (``bench/bench_ui.py``)."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from textual.screen import ModalScreen

from tikget_tui.ui.resources import dialog_stylesheet_paths

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    CSS_PATH: ClassVar[list[Any]] = dialog_stylesheet_paths()
