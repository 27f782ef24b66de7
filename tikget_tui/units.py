"""Sizes and folders for people, one way everywhere (the app, the CLI and the verifier)."""

from __future__ import annotations


def format_size(size: int | None) -> str:
    """Decimal units, as file managers show them: '812 B', '3.7 MB', '1.2 GB'."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def folder_for_people(path: object) -> str:
    """A folder as people write it: the home folder as ``~`` ('~/Downloads/TikGet')."""
    import os

    text = os.fspath(path)  # type: ignore[call-overload]
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home):]
    return str(text)
