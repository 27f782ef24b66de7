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

What is drawn (every file is input): only the small previews the verification wrote
into the cache (a video's frames, a photo's thumbnail of at most 480 px a side), never
an original image. Each goes through one guard, :class:`Picture`: its declared size is
checked against the ``max_picture_pixels`` budget before Pillow decodes anything, the
decoding runs in a thread, and any failure becomes a one-line note in the picture's
place ("preview not drawn: 14000x14000 image over the 40 Mpx budget").
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
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


DEFAULT_PICTURE_PIXELS = 40_000_000


@dataclass(frozen=True)
class Prepared:
    """A picture decoded and scaled for its cells (off the event loop), or why not."""

    image: Any  # a small RGB PIL image, or None with a note
    columns: int
    rows: int
    note: str = ""


def not_drawn(why: str) -> str:
    return f"preview not drawn: {' '.join(str(why).split())[:120]}"


def prepare(path: Path, mode: Mode, rows: int = PREVIEW_ROWS,
            budget: int = DEFAULT_PICTURE_PIXELS) -> Prepared:
    """Open a preview (a small file the verification wrote, never an original), check its
    declared size against ``budget`` *before* decoding it, then decode and scale it to
    what its cells show. Blocking: run it in a thread. Never raises: a picture that
    cannot be drawn is a :class:`Prepared` with a one-line ``note``."""
    import warnings

    from PIL import Image as PILImage

    try:
        with warnings.catch_warnings():
            # our budget decides (below); Pillow still refuses a bomb outright
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as image:  # reads the header only
                width, height = image.size
                if width * height > budget:
                    return Prepared(None, 0, rows, not_drawn(
                        f"{width}x{height} image over the {budget / 1e6:g} Mpx budget"))
                columns = max(2, min(80, round(rows * 2 * width / max(1, height))))
                if max(width, height) > THUMBNAIL_LIMIT:  # not one of our previews
                    scale = THUMBNAIL_LIMIT / max(width, height)
                    size = (max(1, round(width * scale)), max(1, round(height * scale)))
                    image.draft("RGB", size)  # JPEG: decode at a reduced scale
                    small = image.convert("RGB").resize(size)
                else:  # a preview: decoded as it is, textual-image scales it to the cells
                    small = image.convert("RGB")
    except Exception as exc:  # any failure is a note, never a crash
        return Prepared(None, 0, rows, not_drawn(_why(exc)))
    return Prepared(small, columns, rows)


def _why(exc: BaseException) -> str:
    from PIL import Image as PILImage

    if isinstance(exc, (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning)):
        return "the image declares more pixels than Pillow allows"
    if isinstance(exc, FileNotFoundError):
        return "its preview file is gone"
    return str(exc) or type(exc).__name__


THUMBNAIL_LIMIT = 480


def picture_widget(prepared: Prepared, mode: Mode) -> Widget:
    """The widget that draws a prepared picture, of a fixed size in cells."""
    _load_textual_image(mode)
    widget: Widget
    if mode == "halfcell":
        from textual_image.renderable.halfcell import Image as Halfcell

        widget = Static(Halfcell(prepared.image, width=prepared.columns, height=prepared.rows),
                        classes="picture")
    else:
        from textual_image.widget import SixelImage, TGPImage

        cls = TGPImage if mode == "kitty" else SixelImage
        widget = cls(prepared.image, classes="picture")
    widget.styles.width = prepared.columns
    widget.styles.height = prepared.rows
    return widget


class Picture(Vertical):
    """The one guard around every picture: decodes off the event loop (a thread), within
    the pixel budget, and turns any failure into a one-line note in its place."""

    DEFAULT_CSS = """
    Picture {
        width: auto;
        height: auto;
    }
    Picture > .picture-note {
        width: auto;
        max-width: 60;
        color: $text-warning;
    }
    """

    def __init__(self, path: Path | None, mode: Mode, *, rows: int = PREVIEW_ROWS,
                 budget: int = DEFAULT_PICTURE_PIXELS, note: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.mode = mode
        self.rows = rows
        self.budget = budget
        self.note = note
        """The one-line note shown instead of the picture ("" while it is drawn)."""
        self.drawn = False

    def compose(self) -> ComposeResult:
        if self.path is None:
            yield self._note_widget(self.note or not_drawn("no preview"))
        else:
            yield Static(" " * 2, classes="picture-wait")

    def on_mount(self) -> None:
        if self.path is not None:
            self.run_worker(self._draw(self.path), group="picture", exit_on_error=False)

    async def _draw(self, path: Path) -> None:
        try:
            prepared = await asyncio.to_thread(prepare, path, self.mode, self.rows, self.budget)
            if prepared.image is None:
                self._show_note(prepared.note)
                return
            await self.remove_children()
            await self.mount(picture_widget(prepared, self.mode))
            self.drawn = True
        except Exception as exc:  # the guard: a note, never a traceback
            self._show_note(not_drawn(_why(exc)))

    def _note_widget(self, note: str) -> Static:
        self.note = note
        return Static(Content(note), classes="picture-note", markup=False)

    def _show_note(self, note: str) -> None:
        self.remove_children()
        self.mount(self._note_widget(note))


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

    def __init__(self, shots: list[Shot], mode: Mode,
                 budget: int = DEFAULT_PICTURE_PIXELS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shots = shots
        self.mode = mode
        self.budget = budget

    def compose(self) -> ComposeResult:
        for shot in self.shots:
            with Vertical(classes="shot"):
                yield Picture(shot.path, self.mode, budget=self.budget, note=shot.note)
                yield Static(Content(shot.label), classes="shot-label", markup=False)


@dataclass(frozen=True)
class Shot:
    """One picture of a strip: its preview file (None: there is none, and ``note`` says
    so) and its caption."""

    path: Path | None
    label: str
    note: str = ""


def video_shots(report: Any) -> list[Shot]:
    """The report's preview frames that exist, labelled with their timestamps."""
    out = []
    for frame in getattr(report, "frames", None) or []:
        path = Path(frame.file)
        if path.is_file():
            when = f"{frame.time:.2f} s" if frame.time is not None else "?"
            out.append(Shot(path, f"{frame.label} {when}"))
    return out


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif")


def photo_images(files: list[Path]) -> list[Path]:
    """A photo story's images (the first few): their previews are shown, never they."""
    return [p for p in files if p.suffix.lower() in PHOTO_SUFFIXES][:MAX_IMAGES]


def photo_shots(images: list[Path], thumbnails: list[Path | None], *,
                verified: bool = True) -> list[Shot]:
    """A photo story's images, numbered, each drawn from its thumbnail (the verification
    wrote it); an image without one gets a note instead."""
    n = len(images)
    why = "no thumbnail (the image could not be decoded)" if verified else "not verified yet"
    return [Shot(thumb, f"{i}/{n}", "" if thumb is not None else not_drawn(why))
            for i, thumb in enumerate(thumbnails, start=1)]
