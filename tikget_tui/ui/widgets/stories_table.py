"""Pane 2: the active stories, grouped by creator, with a live countdown to expiry.

One ``set_interval`` ticks the whole table; deadlines are stored as
timestamps (``Story.expires_at``) and each tick updates only the countdown
cells whose text or urgency changed. A watched creator's header row also
says when the watcher polls it next (``WatchEntry.next_poll_at``), ticking
with the same interval, and what the last poll found. Untrusted text (captions, nicknames)
is sanitised and rendered as ``rich.text.Text``, never as markup.

The table has no cell padding: every column's width includes a one-cell gap on its
right, so a creator's header row (and a refusal reason) can be cut at the column
boundaries and read as one line across the whole width (:func:`span_cells`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist, RowKey

from tikget_tui.clock import Clock
from tikget_tui.ui import keymap
from tikget_tui.ui.text import format_duration, format_posted, format_time_left, safe_line
from tikget_tui.ui.theme import theme_color

if TYPE_CHECKING:  # the models load after the first frame (bench/bench_ui.py)
    from tikget_tui.models import Creator, Story, StoryList
    from tikget_tui.store import WatchEntry
    from tikget_tui.watch import PollResult

URGENT = 10 * 60  # seconds left below which the countdown turns red
SOON = 60 * 60  # ... and yellow below this
COUNTDOWN_WIDTH = 10  # '! 0:09:59' (urgent), ' 23:59:59', 'expired'; plus the gap

# (key, label, width including the one-cell gap); the caption takes what is left
FIXED_COLUMNS = (("mark", "", 4), ("kind", "kind", 6), ("posted", "posted", 10),
                 ("dur", "dur", 6), ("left", "time left", COUNTDOWN_WIDTH + 1))
MIN_CAPTION = 12
HEADER_LINES = 2  # a header wraps over at most this many lines (a watched creator's can)


@dataclass
class CreatorGroup:
    """The rows of one creator (or of one refused lookup)."""

    key: str
    creator: Creator | None
    story_ids: list[str] = field(default_factory=list)
    reason: str = ""
    refused: bool = False  # TikTok refused the look-up (private, unknown...): ``reason`` says why
    listed_at: datetime | None = None  # stories known from an earlier run: when last listed


def group_key(name: str) -> str:
    return name.lstrip("@").lower()


def format_wait(seconds: float) -> str:
    """Fixed-format wait until a poll: '0:00:05', '1:23:45' (never negative)."""
    s = max(0, int(seconds + 0.999))  # round up: 'in 0:00:00' only once it is due
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}"


def next_poll_text(next_poll_at: datetime | None, now: datetime) -> str:
    """'next poll 16:00 (in 3:59:59)', or 'next poll now' when it is due."""
    if next_poll_at is None or next_poll_at <= now:
        return "next poll now"
    local = next_poll_at.astimezone().strftime("%H:%M")
    return f"next poll {local} (in {format_wait((next_poll_at - now).total_seconds())})"


def _ease_wide(line: Text, widths: list[int]) -> Text:
    """``line`` with a space doubled wherever that keeps a wide character off a column
    boundary: the blank a straddling character needs then sits beside a space instead of
    inside a word ("旅 行日記"). Where no space precedes it in that column, unchanged."""
    boundaries: list[int] = []
    total = 0
    for width in widths[:-1]:
        total += width
        boundaries.append(total)
    inserts: list[int] = []
    pos, last_space, column_start = 0, -1, 0
    for index, ch in enumerate(line.plain):
        w = cell_len(ch)
        crossed = next((b for b in boundaries if pos < b < pos + w), None)
        if crossed is not None and last_space >= column_start:
            inserts.append(last_space)
            pos += 1  # everything from that space on moves one cell: the character fits
            last_space = -1
        if crossed is not None or pos in boundaries:  # this character starts a column
            column_start = index
        if ch == " ":
            last_space = index
        pos += w
    if not inserts:
        return line
    pieces = line.divide(inserts)
    eased = pieces[0]
    for piece in pieces[1:]:
        eased = eased + Text(" ") + piece
    return eased


def _cut(line: Text, widths: list[int]) -> list[Text]:
    """Cut one line at the column boundaries (in cells; a wide character never straddles
    one: it moves to the next column and the cell before it is padded)."""
    offsets: list[int] = []
    column, used, boundary = 0, 0, widths[0] if widths else 0
    for index, ch in enumerate(line.plain):
        w = cell_len(ch)
        while column < len(widths) - 1 and used + w > boundary:
            offsets.append(index)
            column += 1
            used = boundary
            boundary += widths[column]
        used += w
    pieces = list(line.divide(offsets)) if offsets else [line]
    pieces += [Text("")] * (len(widths) - len(pieces))
    return pieces


def span_cells(text: Text, widths: list[int], *, max_lines: int | None = 1) -> list[Text]:
    """One cell per column that together read as ``text`` across the whole row.

    ``max_lines`` 1: one line, cut with an ellipsis; more (or None): wrapped on words over
    the total width, each column's cell holding its part of every line."""
    total = max(1, sum(widths) - 1)  # the last column's gap stays free
    if max_lines == 1:
        lines = [text.copy()]
        lines[0].truncate(total, overflow="ellipsis")
    else:
        from rich.console import Console

        lines = list(text.wrap(Console(width=total, color_system=None), total,
                               overflow="fold"))
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1].truncate(total - 1)
            lines[-1].append("…")
    columns: list[list[Text]] = [[] for _ in widths]
    for line in lines:
        line.rstrip()
        eased = _ease_wide(line, widths)
        if eased is not line:  # one cell longer per doubled space: fit the row again
            eased.truncate(total, overflow="ellipsis")
        for i, piece in enumerate(_cut(eased, widths)):
            columns[i].append(piece)
    cells = []
    for parts in columns:
        cell = Text("\n").join(parts)
        cell.no_wrap = True
        cell.overflow = "crop"
        cells.append(cell)
    return cells


def _cell(value: str | Text, width: int, *, right: bool = False) -> Text:
    """A cell's text fitted to ``width - 1`` cells (the last cell is the gap)."""
    text = Text(value) if isinstance(value, str) else value.copy()
    text.no_wrap = True
    text.truncate(width - 1, overflow="ellipsis")
    if right:
        text.pad_left(width - 1 - text.cell_len)
    return text


class StoriesTable(DataTable[Any]):
    """Stories grouped by creator; select with space, download with d."""

    BINDINGS = [*keymap.bindings("stories"), *keymap.ROW_KEYS]

    class DownloadRequested(Message):
        """Queue these (not expired) stories; ``notes`` maps story id → note."""

        def __init__(self, stories: list[Story], notes: dict[str, str]) -> None:
            super().__init__()
            self.stories = stories
            self.notes = notes

    class NoteRequested(Message):
        """Ask the user for a note for these stories."""

        def __init__(self, story_ids: list[str]) -> None:
            super().__init__()
            self.story_ids = story_ids

    class StoryExpired(Message):
        """A listed story just expired (it can no longer be saved)."""

        def __init__(self, story: Story) -> None:
            super().__init__()
            self.story = story

    class WatchRequested(Message):
        """Start (``watch``) or stop watching ``username``."""

        def __init__(self, username: str, watch: bool) -> None:
            super().__init__()
            self.username = username
            self.watch = watch

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=0, **kwargs)
        self.clock = clock
        self.groups: dict[str, CreatorGroup] = {}
        self.stories: dict[str, Story] = {}
        self.selected: set[str] = set()
        self.notes: dict[str, str] = {}
        self.saved: dict[str, Path] = {}
        """Stories already in the archive (story id → the saved file), marked ✓."""
        self._shown: dict[str, tuple[str, str]] = {}  # story id -> (countdown text, level)
        self.watching: dict[str, WatchEntry] = {}
        """Watched creators by group key (the store's rows: next poll, last result)."""
        self._header_shown: dict[str, tuple[str, int]] = {}  # group key -> (text, lines)
        self._caption_width = 40
        self.ticks = 0

    # -- lifecycle -----------------------------------------------------------------

    def on_mount(self) -> None:
        self._add_columns()
        self.countdown_timer = self.set_interval(1.0, self.tick, name="countdown")

    def _widths(self) -> list[int]:
        return [width for _, _, width in FIXED_COLUMNS] + [self._caption_width]

    def _add_columns(self) -> None:
        for key, label, width in FIXED_COLUMNS:
            self.add_column(_cell(label, width, right=key in ("dur", "left")), key=key,
                            width=width)
        # a Text label: a str is parsed as markup (rich's emoji table: ms of the first frame)
        self.add_column(Text("caption"), key="caption", width=self._caption_width)

    def on_resize(self, event: Resize) -> None:
        fixed = sum(width for _, _, width in FIXED_COLUMNS)
        width = max(MIN_CAPTION, event.size.width - fixed - 1)  # 1: the scrollbar
        if width != self._caption_width:
            self._caption_width = width
            self._rebuild()

    # -- content -------------------------------------------------------------------

    def show_list(self, story_list: StoryList) -> None:
        """Replace one creator's rows with a fresh listing."""
        creator = story_list.creator
        key = group_key(creator.unique_id or creator.user_id)
        old = self.groups.get(key)
        for sid in old.story_ids if old else []:
            self.stories.pop(sid, None)
            self._shown.pop(sid, None)
        group = CreatorGroup(key=key, creator=creator)
        for story in story_list.stories:
            group.story_ids.append(story.id)
            self.stories[story.id] = story
        if not story_list.stories:
            group.reason = story_list.reason or "no active story right now"
        if story_list.incomplete:  # the paging stopped early: say how many and why
            group.reason = story_list.incomplete
        self.groups[key] = group
        kept = set(self.stories)
        self.selected &= kept
        self._rebuild()

    def show_known(self, story_list: StoryList, listed_at: datetime | None) -> None:
        """A watched creator's last known stories (from an earlier run), marked with when
        they were listed, until a poll or a look-up lists them afresh."""
        self.show_list(story_list)
        creator = story_list.creator
        group = self.groups.get(group_key(creator.unique_id or creator.user_id))
        if group is not None:
            group.listed_at = listed_at
            self._rebuild()

    def show_refusal(self, name: str, reason: str) -> None:
        """A lookup TikTok refused (private, unknown...): say why, in place."""
        key = group_key(name)
        old = self.groups.get(key)
        for sid in old.story_ids if old else []:
            self.stories.pop(sid, None)
        self.groups[key] = CreatorGroup(key=key, creator=old.creator if old else None,
                                        reason=reason, refused=True)
        self.selected &= set(self.stories)
        self._rebuild()

    def expect(self, name: str) -> None:
        """Hold a place (in input order) for a creator being looked up."""
        key = group_key(name)
        if key not in self.groups:
            self.groups[key] = CreatorGroup(key=key, creator=None, reason="looking up…")
            self._rebuild()

    def add_story(self, story: Story) -> None:
        """A single resolved story/post: add it under its creator."""
        key = group_key(story.creator.unique_id or story.creator.user_id)
        group = self.groups.get(key)
        if group is None or group.creator is None:
            group = CreatorGroup(key=key, creator=story.creator)
            self.groups[key] = group
        group.reason = ""
        group.refused = False
        if story.id not in group.story_ids:
            group.story_ids.append(story.id)
        self.stories[story.id] = story
        self._rebuild()
        self.move_to(story.id)

    def remove_group(self, key: str) -> None:
        """Take a creator (and their stories, selection and notes) off the pane."""
        group = self.groups.pop(key, None)
        if group is None:
            return
        try:  # the cursor stays at this position: on what followed the creator's rows
            position: int | None = self.get_row_index(f"@{key}")
        except Exception:  # not drawn yet
            position = None
        for sid in group.story_ids:
            self.stories.pop(sid, None)
            self._shown.pop(sid, None)
            self.selected.discard(sid)
            self.notes.pop(sid, None)
        self._header_shown.pop(key, None)
        self._rebuild()
        if position is not None and self.row_count:
            self.move_cursor(row=min(position, self.row_count - 1))

    def reveal(self, key: str) -> None:
        """Bring a creator's rows into view: the cursor on their first story (or header)."""
        group = self.groups.get(group_key(key))
        if group is None:
            return
        self.move_to(group.story_ids[0] if group.story_ids else f"@{group.key}")

    def mark_saved(self, saved: dict[str, Path]) -> None:
        """Stories found in the archive (story id → saved file): shown with ✓."""
        changed = [sid for sid, path in saved.items() if self.saved.get(sid) != path]
        self.saved.update(saved)
        for sid in changed:
            self._refresh_mark(sid)

    # -- the watch list ------------------------------------------------------------

    def set_watching(self, entries: list[WatchEntry]) -> None:
        """The whole watch list (at start): every watched creator gets a group, looked up or not."""
        self.watching = {group_key(e.username): e for e in entries}
        for key in self.watching:
            if key not in self.groups:
                self.groups[key] = CreatorGroup(key=key, creator=None)
        self._rebuild()

    def watchlist_changed(self, username: str, entry: WatchEntry | None) -> None:
        """One creator was watched (``entry``) or is no longer watched (``None``)."""
        key = group_key(username)
        if entry is not None:
            self.watching[key] = entry
            self.groups.setdefault(key, CreatorGroup(key=key, creator=None))
        else:
            self.watching.pop(key, None)
            group = self.groups.get(key)
            if group is not None and group.creator is None and not group.story_ids \
                    and not group.reason:
                del self.groups[key]  # a watched name never looked up: nothing left to show
        self._rebuild()

    def apply_poll(self, result: PollResult, entry: WatchEntry | None) -> None:
        """A poll of a watched creator returned: its rows show what the poll listed."""
        key = group_key(result.username)
        if entry is not None:
            self.watching[key] = entry
        if result.ok and result.creator is not None:
            from tikget_tui.models import StoryList

            self.show_list(StoryList(creator=result.creator, stories=result.stories,
                                     reason="" if result.stories else "no active story right now",
                                     incomplete=result.incomplete))
            return
        if result.error and not result.retryable:
            self.show_refusal(result.username, result.error)
            return
        self.groups.setdefault(key, CreatorGroup(key=key, creator=None))
        self._rebuild()  # a passing failure: the rows stay, the header says what happened

    def watchlist_target(self) -> tuple[str, CreatorGroup] | None:
        """The creator under the cursor: (username, group)."""
        key = self._cursor_key()
        group = self._row_group(key) if key else None
        if group is None:
            return None
        name = group.creator.unique_id if group.creator and group.creator.unique_id else group.key
        return name.lower(), group

    def creators(self) -> list[str]:
        """Usernames listed (for refresh), in display order."""
        return [g.creator.unique_id if g.creator and g.creator.unique_id else g.key
                for g in self.groups.values()]

    def move_to(self, key: str) -> None:
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(key))

    # -- rendering -----------------------------------------------------------------

    def _urgency(self, seconds: float | None) -> str:
        if seconds is None:
            return "none"
        if seconds <= 0:
            return "expired"
        if seconds < URGENT:
            return "urgent"
        if seconds < SOON:
            return "soon"
        return "ok"

    def _countdown(self, story: Story) -> tuple[str, str]:
        seconds = story.seconds_left(self.clock.now())
        level = self._urgency(seconds)
        text = format_time_left(seconds)
        if level == "urgent":  # a mark that shows without colour too
            text = "!" + text.lstrip().rjust(COUNTDOWN_WIDTH - 2)
        return text.rjust(COUNTDOWN_WIDTH - 1), level

    def _countdown_text(self, text: str, level: str) -> Text:
        if level == "expired":
            style = Style(dim=True)
        elif level == "urgent":
            style = theme_color(self.app, "error") + Style(
                bold=True, reverse=bool(self.app.no_color) or None)
        elif level == "soon":
            style = theme_color(self.app, "warning")
        else:
            style = Style()
        return _cell(Text(text, style=style), COUNTDOWN_WIDTH + 1, right=True)

    def _mark_cell(self, story_id: str) -> Text:
        return Text(("●" if story_id in self.selected else " ")
                    + ("✎" if story_id in self.notes else " ")
                    + ("✓" if story_id in self.saved else " "))

    def _header_text(self, group: CreatorGroup) -> Text:
        creator = group.creator
        text = Text()
        if creator is not None:
            text.append(safe_line(creator.handle, 60), style="bold")
            nick = safe_line(creator.nickname, 40)
            if nick:
                text.append(" · " + nick)
            if group.story_ids:
                n = len(group.story_ids)
                text.append(f" · {n} {'story' if n == 1 else 'stories'}", style="dim")
                if group.listed_at is not None:
                    when = format_posted(group.listed_at, self.clock.now())
                    text.append(f" as listed {when}, before this start", style="dim")
        else:
            text.append("@" + safe_line(group.key, 60), style="bold")
        entry = self.watching.get(group.key)
        if entry is not None:
            from tikget_tui.watch import health_line

            health = health_line(entry, resume="w resumes it")
            warning = theme_color(self.app, "warning") + Style(bold=True)
            if entry.paused:  # its next poll time is stale: say it is not polled any more
                text.append(" · watching " + health, style=warning)
            else:
                text.append(" · watching · " + next_poll_text(entry.next_poll_at,
                                                              self.clock.now()))
                if health:
                    text.append(" · " + health, style=warning)
            text.append(" · " + self._last_poll_line(entry), style="dim")
        return text

    def _header_cells(self, group: CreatorGroup) -> tuple[list[Text], int]:
        text = self._header_text(group)
        watched = group.key in self.watching
        cells = span_cells(text, self._widths(), max_lines=HEADER_LINES if watched else 1)
        lines = max(len(c.plain.split("\n")) for c in cells)
        self._header_shown[group.key] = (text.plain, lines)
        return cells, lines

    def _last_poll_line(self, entry: WatchEntry) -> str:
        if entry.last_poll_at is None:
            return "not polled yet"
        when = format_posted(entry.last_poll_at, self.clock.now())
        return f"last poll {when}: {safe_line(entry.last_result, 200) or 'done'}"

    def _story_cells(self, story: Story) -> list[Any]:
        text, level = self._countdown(story)
        self._shown[story.id] = (text, level)
        caption = safe_line(story.caption) or "(no caption)"
        if story.age_gated:  # said in place of what cannot be saved
            from tikget_tui.models import AGE_GATED  # (models: not before the first frame)

            caption = f"{AGE_GATED} · {caption}"
        widths = self._widths()
        return [
            self._mark_cell(story.id),
            _cell(story.kind.value if story.is_story else "post", widths[1]),
            _cell(format_posted(story.created_at, self.clock.now()), widths[2]),
            _cell(format_duration(story.duration), widths[3], right=True),
            self._countdown_text(text, level),
            Text(caption, no_wrap=True, overflow="ellipsis",
                 style="dim" if level == "expired" else ""),
        ]

    def _reason_cells(self, group: CreatorGroup) -> tuple[list[Text], int]:
        reason = Text("  " + safe_line(group.reason, 300), style=theme_color(self.app, "warning"))
        cells = span_cells(reason, self._widths(), max_lines=None)
        return cells, max(len(c.plain.split("\n")) for c in cells)

    def _rebuild(self) -> None:
        """Redraw all rows (on a new listing or a resize; the tick never does this)."""
        if not self.is_mounted:
            return
        cursor_key = self._cursor_key()
        with self.app.batch_update():
            self.clear(columns=True)
            self._add_columns()
            for group in self.groups.values():
                cells, lines = self._header_cells(group)
                self.add_row(*cells, key=f"@{group.key}", height=lines)
                if group.reason:
                    cells, lines = self._reason_cells(group)
                    self.add_row(*cells, key=f"!{group.key}", height=lines)
                for sid in group.story_ids:
                    self.add_row(*self._story_cells(self.stories[sid]), key=sid)
            if cursor_key is not None:
                self.move_to(cursor_key)

    def _cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # the cursor may point past the rows after a clear
            return None
        return row_key.value

    # -- the clock -----------------------------------------------------------------

    def tick(self) -> int:
        """Update the countdowns whose text changed; returns how many cells changed."""
        self.ticks += 1
        changed = 0
        expired: list[Story] = []
        for sid, story in self.stories.items():
            text, level = self._countdown(story)
            if self._shown.get(sid) == (text, level):
                continue
            was = self._shown.get(sid, ("", ""))[1]
            self._shown[sid] = (text, level)
            try:
                self.update_cell(sid, "left", self._countdown_text(text, level))
                if level == "expired" and was != "expired":
                    self.update_cell(sid, "caption", Text(
                        safe_line(story.caption) or "(no caption)", style="dim",
                        no_wrap=True, overflow="ellipsis"))
            except (RowDoesNotExist, CellDoesNotExist, KeyError):
                continue
            changed += 1
            if level == "expired" and was not in ("expired", ""):
                expired.append(story)
        for story in expired:
            if story.id in self.selected:
                self.selected.discard(story.id)
                self._refresh_mark(story.id)
            self.post_message(self.StoryExpired(story))
        return changed + self._tick_watchlist()

    def _tick_watchlist(self) -> int:
        """Update the header of watched creators whose next-poll text changed."""
        changed = 0
        for key in self.watching:
            group = self.groups.get(key)
            if group is None:
                continue
            old = self._header_shown.get(key)
            if old is not None and old[0] == self._header_text(group).plain:
                continue
            cells, lines = self._header_cells(group)
            if old is None or old[1] != lines:
                self._rebuild()  # the row's height changes
                return changed + 1
            with contextlib.suppress(RowDoesNotExist, CellDoesNotExist, KeyError):
                for (column, _, _), cell in zip(FIXED_COLUMNS, cells, strict=False):
                    self.update_cell(f"@{key}", column, cell)
                self.update_cell(f"@{key}", "caption", cells[-1])
                changed += 1
        return changed

    def header_text(self, username: str) -> str:
        """A creator's header as shown, one line (for tests and the report)."""
        return self._header_shown.get(group_key(username), ("", 0))[0]

    def row_text(self, row_key: str) -> str:
        """A row as it reads across the columns, line by line (for tests)."""
        try:
            cells = self.get_row(row_key)
        except (RowDoesNotExist, CellDoesNotExist, KeyError):
            return ""
        columns = [(c.plain if isinstance(c, Text) else str(c)).split("\n") for c in cells]
        widths = self._widths()
        lines = []
        for i in range(max(len(c) for c in columns)):
            parts = [col[i] if i < len(col) else "" for col in columns]
            lines.append("".join(p.ljust(w) if n < len(parts) - 1 else p
                                 for n, (p, w) in enumerate(zip(parts, widths, strict=False)))
                         .rstrip())
        return "\n".join(" ".join(line.split()) for line in lines)

    def countdown_text(self, story_id: str) -> str:
        """What the countdown cell shows now (for tests and the report)."""
        return self._shown.get(story_id, ("", ""))[0].strip()

    # -- actions -------------------------------------------------------------------

    def _refresh_mark(self, story_id: str) -> None:
        with contextlib.suppress(RowDoesNotExist, CellDoesNotExist, KeyError):
            self.update_cell(story_id, "mark", self._mark_cell(story_id))

    def _row_group(self, key: str) -> CreatorGroup | None:
        if key[:1] in "@!":
            return self.groups.get(key[1:])
        for group in self.groups.values():
            if key in group.story_ids:
                return group
        return None

    def _is_expired(self, story: Story) -> bool:
        return story.is_expired(self.clock.now())

    def _target_stories(self) -> list[Story]:
        """The selection in display order, else the story (or creator) under the cursor."""
        if self.selected:
            return [self.stories[sid] for g in self.groups.values() for sid in g.story_ids
                    if sid in self.selected]
        key = self._cursor_key()
        if key is None:
            return []
        if key in self.stories:
            return [self.stories[key]]
        group = self._row_group(key)
        return [self.stories[sid] for sid in group.story_ids] if group else []

    def nothing_here(self, verb: str) -> str:
        """Why the row under the cursor has nothing to ``verb`` (download, select...)."""
        key = self._cursor_key()
        group = self._row_group(key) if key else None
        if group is None:
            return f"nothing to {verb} here: look up a @user first, then pick a story"
        name = "@" + safe_line(group.key, 60)
        if group.refused:
            why = safe_line(group.reason, 200) or "TikTok refused the look-up"
            return f"nothing to {verb} from {name}: {why}"
        if group.creator is None:
            return f"{name} is still being looked up; press again once it is listed"
        return f"nothing to {verb} from {name}: no active story right now"

    def _warn(self, text: str, severity: str = "warning") -> None:
        self.app.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    def action_toggle_select(self) -> None:
        key = self._cursor_key()
        if key is None:
            self._warn("nothing to select yet: look up a @user first")
            return
        if key in self.stories:
            story = self.stories[key]
            if key in self.selected:
                self.selected.discard(key)
            elif self._is_expired(story):
                self._warn("that story has expired and can no longer be saved")
                return
            else:
                self.selected.add(key)
            self._refresh_mark(key)
            return
        group = self._row_group(key)
        if group is None or not group.story_ids:
            self._warn(self.nothing_here("select"))
            return
        live = [sid for sid in group.story_ids if not self._is_expired(self.stories[sid])]
        if live and all(sid in self.selected for sid in live):
            self.selected.difference_update(live)
        else:
            self.selected.update(live)
        for sid in group.story_ids:
            self._refresh_mark(sid)

    def _request_download(self, stories: list[Story]) -> None:
        if not stories:
            self._warn(self.nothing_here("download"))
            return
        gated = [s for s in stories if s.age_gated]
        if gated:
            from tikget_tui.models import AGE_GATED

            stories = [s for s in stories if not s.age_gated]
            self._warn(f"that story {AGE_GATED}" if len(gated) == 1
                       else f"{len(gated)} stories {AGE_GATED}; skipped")
            if not stories:
                return
        live = [s for s in stories if not self._is_expired(s)]
        gone = len(stories) - len(live)
        if not live:
            self._warn("that story has expired and can no longer be saved"
                      if gone == 1 else f"those {gone} stories have expired; nothing to save")
            return
        if gone:
            self._warn(f"{gone} expired {'story was' if gone == 1 else 'stories were'} skipped")
        notes = {s.id: self.notes[s.id] for s in live if s.id in self.notes}
        self.post_message(self.DownloadRequested(live, notes))
        for story in live:
            if story.id in self.selected:
                self.selected.discard(story.id)
                self._refresh_mark(story.id)

    def action_download(self) -> None:
        self._request_download(self._target_stories())

    def action_download_creator(self) -> None:
        key = self._cursor_key()
        group = self._row_group(key) if key else None
        if group is None or not group.story_ids:
            self._warn(self.nothing_here("download"))
            return
        self._request_download([self.stories[sid] for sid in group.story_ids])

    def action_note(self) -> None:
        targets = [s.id for s in self._target_stories()]
        if not targets:
            key = self._cursor_key()
            self._warn(self.nothing_here("add a note to") if key and self._row_group(key)
                       else "pick a story (or select some with space) to add a note to")
            return
        self.post_message(self.NoteRequested(targets))

    def action_watch(self) -> None:
        target = self.watchlist_target()
        if target is None:
            self._warn("nothing to watch here: look up a @user first, then press w on it")
            return
        name, group = target
        entry = self.watching.get(group.key)
        if entry is not None:
            # a paused account (it failed polls) is resumed; a watched one is let go
            self.post_message(self.WatchRequested(name, watch=entry.paused))
            return
        if group.refused:
            self._warn(f"cannot watch @{safe_line(name, 60)}: "
                       f"{safe_line(group.reason, 200) or 'TikTok refused the look-up'}")
            return
        if group.creator is None:
            self._warn(f"@{safe_line(name, 60)} is still being looked up; "
                       "press w again once it is listed")
            return
        self.post_message(self.WatchRequested(name, watch=True))

    def action_remove_creator(self) -> None:
        key = self._cursor_key()
        group = self._row_group(key) if key else None
        if group is None:
            self._warn("nothing to remove: the pane is empty")
            return
        name = "@" + safe_line(group.creator.unique_id if group.creator and
                               group.creator.unique_id else group.key, 60)
        if group.key in self.watching:
            self._warn(f"{name} is on the watch list: press w to stop watching, then remove it")
            return
        self.remove_group(group.key)
        self.app.notify(f"removed {name} from the pane (look it up again to bring it back)",
                        markup=False)

    def set_note(self, story_ids: list[str], note: str) -> None:
        for sid in story_ids:
            if note:
                self.notes[sid] = note
            else:
                self.notes.pop(sid, None)
            self._refresh_mark(sid)

    def row_key_at_cursor(self) -> RowKey | None:
        key = self._cursor_key()
        return RowKey(key) if key else None
