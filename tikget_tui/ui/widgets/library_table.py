"""Pane 5: the library, every saved copy, one line each (a line-API widget).

Only the lines on screen are rendered (``render_line``), so 10,000 items cost what 20
do; the filter and the order are computed by :mod:`tikget_tui.archive.library` over a list
built once. Keys act on the item under the cursor and post :class:`LibraryTable.ItemAction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tikget_tui.ui import keymap
from tikget_tui.ui.text import format_size, safe_line

# (title, width) of the fixed columns; the caption takes the rest
COLUMNS: tuple[tuple[str, int], ...] = (
    ("creator", 14), ("caption", 0), ("kind", 6), ("posted", 6), ("saved", 6), ("size", 8),
    ("verdict", 7),
)
MIN_CAPTION = 10
VERDICT_TEXT = {"ok": "✓ ok", "warn": "! warn", "fail": "✗ fail"}
FOLDER_WIDTH = 12
COPIES_MARK = "⧉ "  # narrow: before the caption of a story saved in several folders
HEADER = {"creator": "@creator"}


def short_date(when: datetime | None) -> str:
    return when.astimezone().strftime("%b %d") if when is not None else "—"


def columns_for(width: int, folder: bool = False) -> list[tuple[str, int]]:
    """The columns shown: with ``folder`` (the wide layout, and a story in the list has
    copies in several folders) a folder column after the caption; when that leaves the
    caption too little room, the saved date gives way (the report has it)."""
    cols = list(COLUMNS)
    if folder:
        cols.insert(2, ("folder", FOLDER_WIDTH))
        if width - sum(w for _, w in cols) - len(cols) + 1 < 2 * MIN_CAPTION:
            cols = [c for c in cols if c[0] != "saved"]
    return cols


def column_widths(width: int, cols: Sequence[tuple[str, int]] = COLUMNS) -> list[int]:
    fixed = sum(w for _, w in cols) + len(cols) - 1
    caption = max(MIN_CAPTION, width - fixed)
    return [caption if w == 0 else w for _, w in cols]


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells (wide characters count twice), cut with '…'."""
    text = safe_line(text)
    if cell_len(text) > width:
        return set_cell_size(set_cell_size(text, max(0, width - 1)).rstrip() + "…", width)
    return set_cell_size(text, width)


def row_cells(item: Any, names: Sequence[str] | None = None) -> list[str]:
    """The text of each column for one item (what is wrong now, e.g. ``missing`` or
    ``changed``, replaces the verdict). Without a folder column, a story with copies in
    several folders has its caption marked (⧉); the report lists the folders."""
    kind = item.kind + ("♪" if item.sound.startswith("track:") else "")
    verdict = VERDICT_TEXT.get(item.verdict, item.verdict or "—")
    if item.audit:
        verdict = item.audit
    names = names or [n for n, _ in COLUMNS]
    folder = getattr(item, "folder", "")
    caption = item.caption or "—"
    if folder and "folder" not in names:
        caption = COPIES_MARK + caption
    cells = {
        "creator": f"@{item.creator}" if item.creator else item.story_id,
        "caption": caption, "kind": kind, "posted": short_date(item.posted_at),
        "saved": short_date(item.saved_at),
        "size": format_size(item.size) if item.size else "—", "verdict": verdict,
        "folder": folder_cell(folder, item),
    }
    return [cells[n] for n in names]


def folder_cell(folder: str, item: Any) -> str:
    """The folder's own name (the report has the whole path); '' for a single copy."""
    if not folder:
        return ""
    name = item.path.parent.name or folder
    return name if cell_len(name) <= FOLDER_WIDTH else "…" + name[-(FOLDER_WIDTH - 1):]


class LibraryTable(ScrollView, can_focus=True):
    """Saved items under a filter, in an order; a cursor; the row keys of the library."""

    DEFAULT_CSS = """
    LibraryTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    LibraryTable > .library--header { text-style: bold; color: $text-muted; }
    LibraryTable > .library--cursor { background: $block-cursor-blurred-background; }
    LibraryTable:focus > .library--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    LibraryTable > .library--fail { color: $text-error; text-style: bold; }
    LibraryTable > .library--warn { color: $text-warning; }
    LibraryTable > .library--ok { color: $text-success; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "library--header", "library--cursor", "library--fail", "library--warn", "library--ok",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("library"),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, init=False)
    """The row under the cursor (an index into :attr:`items`)."""

    class ItemAction(Message):
        """Run ``action`` (report, verify, copy_path, open_file, edit_note, redownload,
        delete) on ``item``."""

        def __init__(self, action: str, item: Any) -> None:
            super().__init__()
            self.action = action
            self.item = item

    class SortRequested(Message):
        """The user asked for the next order."""

    class LeftTop(Message):
        """Up on the first row: back to the filter line."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[Any] = []
        self._copies = False  # a listed story has copies in several folders

    # -- data ----------------------------------------------------------------------

    def set_items(self, items: Sequence[Any]) -> None:
        """Show ``items`` (already filtered and sorted); the cursor stays on its item, and
        where that item is gone (deleted) on the same position: the row that followed it."""
        current = self.current
        self.items = list(items)
        self._copies = any(getattr(i, "folder", "") for i in self.items)
        self.virtual_size = Size(self.size.width, len(self.items) + 1)
        index = self.cursor if current is not None else 0
        if current is not None:
            for i, item in enumerate(self.items):
                if item.key == current.key:
                    index = i
                    break
        self.cursor = min(index, max(0, len(self.items) - 1))
        self.refresh()

    @property
    def current(self) -> Any | None:
        if 0 <= self.cursor < len(self.items):
            return self.items[self.cursor]
        return None

    # -- rendering -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        cols = self.columns(width)
        names = [n for n, _ in cols]
        if y == 0:  # the header stays on top
            return self._strip([HEADER.get(n, n) for n in names], width,
                               self.get_component_rich_style("library--header"), cols=cols)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.items):
            return Strip.blank(width, self.rich_style)
        item = self.items[index]
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("library--cursor")
        verdict = "fail" if item.audit else item.verdict
        accent = (self.get_component_rich_style(f"library--{verdict}", partial=True)
                  if verdict in ("ok", "warn", "fail") else Style())
        return self._strip(row_cells(item, names), width, base, accent, cols=cols)

    def columns(self, width: int) -> list[tuple[str, int]]:
        """The columns at this width: a folder column in the wide layout when a listed
        story has copies in several folders (at 80x24 the caption is marked instead)."""
        screen = self.screen
        wide = screen.has_class("-wide") and screen.has_class("-tall")
        return columns_for(width, wide and self._copies)

    def _strip(self, cells: list[str], width: int, style: Style,
               last: Style | None = None, *,
               cols: Sequence[tuple[str, int]] = COLUMNS) -> Strip:
        widths = column_widths(width, cols)
        segments: list[Segment] = []
        for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
            if i:
                segments.append(Segment(" ", style))
            cell_style = style + last if last is not None and i == len(cells) - 1 else style
            segments.append(Segment(fit(text, w), cell_style))
        return Strip(segments).adjust_cell_length(width, style)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.items) + 1)

    # -- keys ----------------------------------------------------------------------

    def _move(self, index: int) -> None:
        if self.items:
            self.cursor = max(0, min(len(self.items) - 1, index))

    def action_cursor(self, step: int) -> None:
        if step < 0 and self.cursor == 0:
            self.post_message(self.LeftTop())
            return
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self._move(len(self.items) - 1 if end else 0)

    def on_click(self, event: Any) -> None:
        index = self.scroll_offset.y + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.items):
            self.cursor = index

    def _act(self, action: str) -> None:
        item = self.current
        if item is None:
            self.app.notify("nothing saved here yet (or nothing matches the filter)",
                            severity="warning", markup=False)
            return
        self.post_message(self.ItemAction(action, item))

    def action_report(self) -> None:
        self._act("report")

    def action_verify(self) -> None:
        self._act("verify")

    def action_copy_path(self) -> None:
        self._act("copy_path")

    def action_open_file(self) -> None:
        self._act("open_file")

    def action_edit_note(self) -> None:
        self._act("edit_note")

    def action_redownload(self) -> None:
        self._act("redownload")

    def action_delete(self) -> None:
        self._act("delete")

    def action_sort(self) -> None:
        self.post_message(self.SortRequested())
