"""Pictures in the report: a video's first and last frame side by side (with their
timestamps), or a photo story's images in a strip, drawn by ``textual-image``.

How pictures are drawn (``TIKGET_IMAGES``: ``auto``, ``halfcell``, ``kitty``, ``sixel``,
``off``):

- ``off`` with ``NO_COLOR``, or a terminal of 16 colours or fewer unless a kind is
  named: no pictures, the text report is unchanged;
- ``kitty`` (Kitty's graphics protocol) when the terminal says it is Kitty
  (``TERM=xterm-kitty`` or ``KITTY_WINDOW_ID``), ``sixel`` where ``TERM`` names a Sixel
  terminal (foot, mlterm, wezterm, contour), outside tmux;
- else Unicode half-blocks, which work everywhere (tmux, SSH) and render the same on
  every run (the snapshots use them).

The terminal is never queried: ``textual-image`` asks it at import time, which cannot
work once Textual owns the terminal (its own docs say so), so that import runs with the
query switched off and the kind is chosen from the environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

Mode = Literal["off", "halfcell", "kitty", "sixel"]
SIXEL_TERMS = ("foot", "mlterm", "wezterm", "contour", "yaft")
PREVIEW_ROWS = 8
MAX_IMAGES = 6


def image_mode(app: Any, env: dict[str, str] | None = None) -> Mode:
    """How this terminal gets pictures (see the module docstring)."""
    env = dict(os.environ) if env is None else env
    if getattr(app, "no_color", False) or env.get("NO_COLOR"):
        return "off"
    choice = env.get("TIKGET_IMAGES", "auto").strip().lower()
    if choice in ("off", "none", "text", "no"):
        return "off"
    if choice in ("halfcell", "kitty", "sixel"):  # asked for by name
        return choice  # type: ignore[return-value]
    if choice == "tgp":
        return "kitty"
    color_system = getattr(getattr(app, "console", None), "color_system", "truecolor")
    if color_system in (None, "standard", "windows"):
        return "off"
    if env.get("TMUX"):
        return "halfcell"
    term = env.get("TERM", "").lower()
    if "kitty" in term or env.get("KITTY_WINDOW_ID"):
        return "kitty"
    if any(name in term for name in SIXEL_TERMS) or \
            env.get("TERM_PROGRAM", "").lower() == "wezterm":
        return "sixel"
    return "halfcell"


def _load_textual_image(mode: Mode) -> None:
    """Import textual-image without its import-time terminal query (see above)."""
    if "textual_image.renderable" not in sys.modules:
        real = sys.__stdout__
        sys.__stdout__ = None  # type: ignore[misc]  # the package then skips its query
        try:
            import textual_image.renderable  # noqa: F401
        finally:
            sys.__stdout__ = real  # type: ignore[misc]
    from textual_image import _terminal

    if mode == "halfcell" and not hasattr(_terminal.get_cell_size, "_result"):
        # half-blocks are sized in cells here, so the pixel size is only a ratio; kitty and
        # sixel ask the terminal's size in pixels with an ioctl
        _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]


def cells_for(path: Path, rows: int) -> tuple[int, int]:
    """(columns, rows) that keep the picture's shape (a cell is about twice as tall)."""
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        width, height = image.size
    columns = max(2, round(rows * 2 * width / max(1, height)))
    return columns, rows


def picture(path: Path, mode: Mode, rows: int = PREVIEW_ROWS) -> Widget:
    """One picture as a widget of a fixed size in cells."""
    _load_textual_image(mode)
    columns, rows = cells_for(path, rows)
    widget: Widget
    if mode == "halfcell":
        from textual_image.renderable.halfcell import Image as Halfcell

        widget = Static(Halfcell(str(path), width=columns, height=rows), classes="picture")
    else:
        from textual_image.widget import SixelImage, TGPImage

        cls = TGPImage if mode == "kitty" else SixelImage
        widget = cls(str(path), classes="picture")
    widget.styles.width = columns
    widget.styles.height = rows
    return widget


class FrameStrip(Horizontal):
    """Pictures side by side, each with a caption (``first 0.00 s``, ``2/3``)."""

    DEFAULT_CSS = """
    FrameStrip {
        height: auto;
        width: 1fr;
        margin: 0 0 1 0;
    }
    FrameStrip > .shot {
        width: auto;
        height: auto;
        margin: 0 2 0 0;
    }
    FrameStrip .shot-label {
        width: auto;
        color: $text-muted;
    }
    """

    def __init__(self, shots: list[tuple[Path, str]], mode: Mode, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shots = shots
        self.mode = mode

    def compose(self) -> ComposeResult:
        for path, label in self.shots:
            with Vertical(classes="shot"):
                yield picture(path, self.mode)
                yield Static(Content(label), classes="shot-label", markup=False)


def video_shots(report: Any) -> list[tuple[Path, str]]:
    """The report's preview frames that exist, labelled with their timestamps."""
    out = []
    for frame in getattr(report, "frames", None) or []:
        path = Path(frame.file)
        if path.is_file():
            when = f"{frame.time:.2f} s" if frame.time is not None else "?"
            out.append((path, f"{frame.label} {when}"))
    return out


def photo_shots(files: list[Path]) -> list[tuple[Path, str]]:
    """A photo story's images (the first few), numbered."""
    images = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
              and p.is_file()]
    return [(p, f"{i}/{len(images)}") for i, p in enumerate(images[:MAX_IMAGES], start=1)]
