"""Theme colours for Rich ``Text`` cells (DataTable), safe under every theme and NO_COLOR.

A theme variable is not always a colour: ``text-muted`` is ``auto 60%`` (a contrast
colour Textual computes against the background), which ``rich.style.Style.parse``
cannot read. Every colour a table cell uses goes through :func:`theme_style`, which
asks Textual's own ``Color`` parser and falls back to a Rich attribute (dim) that
renders everywhere; with ``NO_COLOR`` only attributes (bold, dim, reverse) are used.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.color import Color, ColorParseError

# the look of each job state: (theme variable or None, bold, dim)
STATE_LOOK: dict[str, tuple[str | None, bool, bool]] = {
    "queued": (None, False, False),
    "downloading": ("accent", False, False),
    "converting": ("accent", False, False),
    "verifying": ("accent", False, False),
    "done": ("success", False, False),
    "failed": ("error", True, False),
    "expired": ("error", False, False),
    "cancelled": (None, False, True),
    "paused": ("warning", False, False),
}


def theme_color(app: Any, variable: str) -> Style:
    """The foreground colour of theme ``variable``; no colour when it is not a plain colour
    (``auto 60%``), unknown, or the user asked for NO_COLOR."""
    if getattr(app, "no_color", False):
        return Style()
    value = app.theme_variables.get(variable)
    if not value:
        return Style()
    try:
        color = Color.parse(value)
    except (ColorParseError, ValueError):
        return Style()
    return Style(color=color.rich_color)


def state_style(app: Any, state: str) -> Style:
    """The style of a job state's text (bold/dim also show without colour)."""
    variable, bold, dim = STATE_LOOK.get(state, (None, False, False))
    colour = theme_color(app, variable) if variable else Style()
    return colour + Style(bold=bold or None, dim=dim or None)
