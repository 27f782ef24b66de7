"""Where the app's stylesheets live, in a wheel and in a development checkout."""

from __future__ import annotations

from pathlib import Path

import tikget_tui

STYLESHEETS = ("app.tcss",)
DIALOG_STYLESHEETS = ("help.tcss",)
"""The dialogs' styles, read when the first dialog opens (not needed for the first frame)."""


def styles_dir() -> Path:
    """The directory holding the ``*.tcss`` files.

    A wheel ships them as ``tikget_tui/styles`` (pyproject force-includes the
    top-level ``styles/``); an editable or source checkout has them at the
    repository root beside the package.
    """
    package = Path(tikget_tui.__file__).resolve().parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / STYLESHEETS[0]).is_file():
            return candidate
    raise FileNotFoundError(
        f"tikget's stylesheets are missing (looked in {package / 'styles'} and "
        f"{package.parent / 'styles'}); reinstall tikget-tui"
    )


def stylesheet_paths() -> list[Path]:
    base = styles_dir()
    return [base / name for name in STYLESHEETS]


def dialog_stylesheet_paths() -> list[Path]:
    """For the dialogs' ``CSS_PATH`` (help, note, folder, confirm)."""
    base = styles_dir()
    return [base / name for name in DIALOG_STYLESHEETS]
