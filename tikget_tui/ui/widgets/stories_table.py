"""Pane 2: the active stories, grouped by creator, with a live countdown to expiry.

One ``set_interval`` ticks the whole table; deadlines are stored as
timestamps (``Story.expires_at``) and each tick updates only the countdown
cells whose text or urgency changed. A watched creator's header row also
says when the watcher polls it next (``WatchEntry.next_poll_at``), ticking
with the same interval, and what the last poll found. Untrusted text (captions, nicknames)
is sanitised and rendered as ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from tikget_tui.clock import Clock
from tikget_tui.models import Creator, Story, StoryList, format_time_left
from tikget_tui.ui import keymap
from tikget_tui.ui.text import format_duration, format_posted, safe_line

if TYPE_CHECKING:
    from tikget_tui.store import WatchEntry
    from tikget_tui.watch import PollResult

URGENT = 10 * 60  # seconds left below which the countdown turns red
SOON = 60 * 60  # ... and yellow below this
COUNTDOWN_WIDTH = 9  # format_time_left gives ' 23:59:59' / 'expired'

# (key, label, width); the caption column takes what is left of the pane width
FIXED_COLUMNS = (("mark", "", 2), ("kind", "kind", 5), ("posted", "posted", 9),
                 ("dur", "dur", 5), ("left", "time left", COUNTDOWN_WIDTH))
MIN_CAPTION = 12


@dataclass
class CreatorGroup:
    """The rows of one creator (or of one refused lookup)."""

    key: str
    creator: Creator | None
    story_ids: list[str] = field(default_factory=list)
    reason: str = ""
    refused: bool = False  # TikTok refused the look-up (private, unknown...): ``reason`` says why


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


class StoriesTable(DataTable[Any]):
    """Stories grouped by creator; select with space, download with d."""

    BINDINGS = keymap.bindings("stories")

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
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.clock = clock
        self.groups: dict[str, CreatorGroup] = {}
        self.stories: dict[str, Story] = {}
        self.selected: set[str] = set()
        self.notes: dict[str, str] = {}
        self._shown: dict[str, tuple[str, str]] = {}  # story id -> (countdown text, level)
        self.watching: dict[str, WatchEntry] = {}
        """Watched creators by group key (the store's rows: next poll, last result)."""
        self._watch_shown: dict[str, str] = {}  # group key -> the next-poll line shown
        self._caption_width = 40
        self.ticks = 0

    # -- lifecycle -----------------------------------------------------------------

    def on_mount(self) -> None:
        self._add_columns()
        self.set_interval(1.0, self.tick, name="countdown")

    def _add_columns(self) -> None:
        for key, label, width in FIXED_COLUMNS:
            self.add_column(Text(label, justify="right" if key == "left" else "left"),
                            key=key, width=width)
        self.add_column("caption", key="caption", width=self._caption_width)

    def on_resize(self, event: Resize) -> None:
        fixed = sum(width + 2 * self.cell_padding for _, _, width in FIXED_COLUMNS)
        room = event.size.width - fixed - 2 * self.cell_padding - 1
        width = max(MIN_CAPTION, room)
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
        self.groups[key] = group
        kept = set(self.stories)
        self.selected &= kept
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
        if story.id not in group.story_ids:
            group.story_ids.append(story.id)
        self.stories[story.id] = story
        self._rebuild()
        self.move_to(story.id)

    # -- the watch list ------------------------------------------------------------

    def set_watching(self, entries: list[WatchEntry]) -> None:
        """The whole watch list (at start): every watched creator gets a group, looked up or not."""
        self.watching = {group_key(e.username): e for e in entries}
        for key in self.watching:
            if key not in self.groups:
                self.groups[key] = CreatorGroup(key=key, creator=None)
        self._rebuild()

    def watch_changed(self, username: str, entry: WatchEntry | None) -> None:
        """One creator was watched (``entry``) or is no longer watched (``None``)."""
        key = group_key(username)
        if entry is not None:
            self.watching[key] = entry
            self.groups.setdefault(key, CreatorGroup(key=key, creator=None))
        else:
            self.watching.pop(key, None)
            self._watch_shown.pop(key, None)
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
                                     reason="" if result.stories else "no active story right now"))
            return
        if result.error and not result.retryable:
            self.show_refusal(result.username, result.error)
            return
        self.groups.setdefault(key, CreatorGroup(key=key, creator=None))
        self._rebuild()  # a passing failure: the rows stay, the header says what happened

    def watch_target(self) -> tuple[str, CreatorGroup] | None:
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
        return format_time_left(seconds).rjust(COUNTDOWN_WIDTH), self._urgency(seconds)

    def _countdown_text(self, text: str, level: str) -> Text:
        if self.app.no_color or level in ("ok", "none"):
            return Text(text, style="dim" if level == "expired" else "", justify="right")
        colours = self.app.theme_variables
        if level == "expired":
            return Text(text, style="dim", justify="right")
        colour = colours.get("error" if level == "urgent" else "warning", "")
        style = Style.parse(colour) if colour else Style()
        return Text(text, style=style + Style(bold=level == "urgent"), justify="right")

    def _mark_cell(self, story_id: str) -> Text:
        return Text(("●" if story_id in self.selected else " ")
                    + ("✎" if story_id in self.notes else " "))

    def _watch_line(self, key: str) -> str:
        entry = self.watching[key]
        return "watching · " + next_poll_text(entry.next_poll_at, self.clock.now())

    def _header_cells(self, group: CreatorGroup) -> list[Any]:
        creator = group.creator
        watched = group.key in self.watching
        # a watched creator's header grows (the row is as tall as its lines); others stay one line
        caption = Text(no_wrap=not watched, overflow="fold" if watched else "ellipsis")
        if creator is not None:
            caption.append(safe_line(creator.handle, 60), style="bold")
            nick = safe_line(creator.nickname, 40)
            if nick:
                caption.append(" · " + nick)
            if group.story_ids:
                n = len(group.story_ids)
                caption.append(f" · {n} {'story' if n == 1 else 'stories'}", style="dim")
        else:
            caption.append("@" + safe_line(group.key, 60), style="bold")
        if watched:
            line = self._watch_line(group.key)
            self._watch_shown[group.key] = line
            caption.append("\n" + line)
            caption.append("\n" + self._last_poll_line(self.watching[group.key]), style="dim")
        return [Text(""), Text(""), Text(""), Text(""), Text(""), caption]

    def _last_poll_line(self, entry: WatchEntry) -> str:
        if entry.last_poll_at is None:
            return "not polled yet"
        when = format_posted(entry.last_poll_at, self.clock.now())
        return f"last poll {when}: {safe_line(entry.last_result, 200) or 'done'}"

    def _story_cells(self, story: Story) -> list[Any]:
        text, level = self._countdown(story)
        self._shown[story.id] = (text, level)
        caption = safe_line(story.caption) or "(no caption)"
        return [
            self._mark_cell(story.id),
            Text(story.kind.value if story.is_story else "post"),
            Text(format_posted(story.created_at, self.clock.now())),
            Text(format_duration(story.duration), justify="right"),
            self._countdown_text(text, level),
            Text(caption, no_wrap=True, overflow="ellipsis",
                 style="dim" if level == "expired" else ""),
        ]

    def _rebuild(self) -> None:
        """Redraw all rows (on a new listing or a resize; the tick never does this)."""
        if not self.is_mounted:
            return
        cursor_key = self._cursor_key()
        with self.app.batch_update():
            self.clear(columns=True)
            self._add_columns()
            for group in self.groups.values():
                self.add_row(*self._header_cells(group), key=f"@{group.key}",
                             height=None if group.key in self.watching else 1)
                if group.reason:
                    reason = Text(safe_line(group.reason, 300))
                    colour = "" if self.app.no_color else self.app.theme_variables.get("warning")
                    if colour:
                        reason.stylize(Style.parse(colour))
                    # the whole reason, wrapped in the caption column (the row grows)
                    self.add_row(Text(""), Text(""), Text(""), Text(""), Text(""), reason,
                                 key=f"!{group.key}", height=None)
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
            except (RowDoesNotExist, KeyError):
                continue
            changed += 1
            if level == "expired" and was not in ("expired", ""):
                expired.append(story)
        for story in expired:
            if story.id in self.selected:
                self.selected.discard(story.id)
                self._refresh_mark(story.id)
            self.post_message(self.StoryExpired(story))
        return changed + self._tick_watch()

    def _tick_watch(self) -> int:
        """Update the next-poll line of watched creators whose text changed."""
        changed = 0
        rebuild = False
        for key in self.watching:
            group = self.groups.get(key)
            if group is None:
                continue
            line = self._watch_line(key)
            old = self._watch_shown.get(key)
            if old == line:
                continue
            if old is None or len(old) != len(line):
                rebuild = True  # the line may wrap differently: the row's height may change
                continue
            try:
                self.update_cell(f"@{key}", "caption", self._header_cells(group)[-1])
            except (RowDoesNotExist, KeyError):
                continue
            changed += 1
        if rebuild:
            self._rebuild()
            changed += 1
        return changed

    def watch_text(self, username: str) -> str:
        """The header caption of a creator as shown (for tests)."""
        with contextlib.suppress(RowDoesNotExist, KeyError):
            cell = self.get_cell(f"@{group_key(username)}", "caption")
            return cell.plain if isinstance(cell, Text) else str(cell)
        return ""

    def countdown_text(self, story_id: str) -> str:
        """What the countdown cell shows now (for tests and the report)."""
        return self._shown.get(story_id, ("", ""))[0].strip()

    # -- actions -------------------------------------------------------------------

    def _refresh_mark(self, story_id: str) -> None:
        with contextlib.suppress(RowDoesNotExist, KeyError):
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

    def _warn(self, text: str, severity: str = "warning") -> None:
        self.app.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    def action_toggle_select(self) -> None:
        key = self._cursor_key()
        if key is None:
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
            self._warn("nothing to download here: look up a @user first, then pick a story")
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
            self._warn("no stories listed for this creator")
            return
        self._request_download([self.stories[sid] for sid in group.story_ids])

    def action_note(self) -> None:
        targets = [s.id for s in self._target_stories()]
        if not targets:
            self._warn("pick a story (or select some with space) to add a note to")
            return
        self.post_message(self.NoteRequested(targets))

    def action_watch(self) -> None:
        target = self.watch_target()
        if target is None:
            self._warn("nothing to watch here: look up a @user first, then press w on it")
            return
        name, group = target
        if group.key in self.watching:
            self.post_message(self.WatchRequested(name, watch=False))
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
