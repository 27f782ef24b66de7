"""The UI's arrows go one way: app -> main screen -> widgets -> dialogs.

Every import counts: at module level, under ``if TYPE_CHECKING:`` and lazily inside a
function (the lazy ones made the old circle between ``ui/app.py`` and
``ui/screens/main.py``). The imports are read with ``ast``, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tikget_tui

PACKAGE = Path(tikget_tui.__file__).parent
UI = PACKAGE / "ui"
APP = "tikget_tui.ui.app"
DIALOGS = {f"tikget_tui.ui.screens.{name}"
           for name in ("dialog", "confirm", "folder", "help", "note", "quit")}
"""Modal dialogs: leaves that any part of the UI may open."""
SHARED = {f"tikget_tui.ui.{name}"
          for name in ("host", "messages", "text", "download_batch", "lookup_tally")}
"""What the app, the screens and the widgets share: it imports none of them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, anywhere in it; for
    ``from X import y`` both X and X.y (y may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def reaches(names: set[str], target: str) -> bool:
    return any(name == target or name.startswith(target + ".") for name in names)


def ui_imports() -> dict[str, set[str]]:
    modules = {}
    for path in sorted(UI.rglob("*.py")):
        name = module_name(path)
        modules[name] = imported(path.read_text(encoding="utf-8"), name,
                                 is_package=path.name == "__init__.py")
    return modules


def test_the_reader_finds_every_kind_of_import() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from tikget_tui.ui.app import TikGetApp\n"
        "def later():\n"
        "    from ..app import TikGetApp\n"
        "    from tikget_tui.ui import app\n"
        "    import tikget_tui.ui.app as a\n"
    )
    names = imported(source, "tikget_tui.ui.screens.main")
    assert reaches(names, APP)
    for line in source.splitlines()[2:]:
        if "import" in line and "def" not in line:
            alone = imported(line.strip(), "tikget_tui.ui.screens.main")
            assert reaches(alone, APP), line
    assert not reaches(imported("from tikget_tui.ui.text import safe_line\n",
                                "tikget_tui.ui.screens.main"), APP)
    assert not reaches(imported("from tikget_tui.ui import application\n",
                                "tikget_tui.ui.screens.main"), APP)


def test_the_ui_modules_are_all_read() -> None:
    modules = ui_imports()
    assert {APP, "tikget_tui.ui.screens.main", "tikget_tui.ui.host",
            "tikget_tui.ui.widgets.library_pane"} <= modules.keys()
    assert reaches(modules[APP], "tikget_tui.ui.screens.main")  # the one arrow


@pytest.mark.parametrize("layer", ["tikget_tui.ui.screens", "tikget_tui.ui.widgets"])
def test_screens_and_widgets_never_import_the_app(layer: str) -> None:
    """What a screen or a widget needs from the app comes through ``ui/host.py``'s
    ``AppHost`` or a message, never by importing ``ui/app.py``."""
    offenders = sorted(name for name, names in ui_imports().items()
                       if name.startswith(layer + ".") and reaches(names, APP))
    assert offenders == [], f"{offenders} import {APP}: use tikget_tui.ui.host.AppHost"


def test_widgets_never_import_the_main_screen() -> None:
    """A widget posts a message (or is handed what it needs); of the screens it opens only
    the modal dialogs."""
    offenders = sorted(
        f"{name} -> {target}" for name, names in ui_imports().items()
        if name.startswith("tikget_tui.ui.widgets.")
        for target in names
        if target.startswith("tikget_tui.ui.screens.")
        and not any(target == d or target.startswith(d + ".") for d in DIALOGS))
    assert offenders == []


def test_dialogs_and_shared_modules_import_no_screen_widget_or_app() -> None:
    """The dialogs build only on their base (``screens/dialog.py``); the shared modules
    on nothing of the UI's layers."""
    above = ("tikget_tui.ui.screens.", "tikget_tui.ui.widgets.", APP + ".")
    base = "tikget_tui.ui.screens.dialog"
    offenders = sorted(
        f"{name} -> {target}" for name, names in ui_imports().items()
        if name in DIALOGS | SHARED
        for target in names
        if (target == APP or target.startswith(above))
        and not (name in DIALOGS and (target == base or target.startswith(base + "."))))
    assert offenders == []
