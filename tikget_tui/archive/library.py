"""The library: every saved copy in the archive as one flat record, filtered and sorted.

The app's library pane (5) and ``bench/bench_library.py`` use this module; it never
imports textual. Loading is one SQL query (:meth:`Store.library_rows`); each item keeps
a lower-case search text built once, so filtering 10,000 items is a loop of substring
tests, never a query or a file read per key press.

A filter is words, all of which must match an item:

- ``today``, ``yesterday``, ``nov 28`` / ``28 nov`` (month and day): the saved or the
  posted date, in local time;
- ``ok``, ``warn``, ``fail``: the verdict; ``missing``, ``changed``: what the disk shows now
  (a stat each when the pane is opened or returned to) or the latest check found (``v``,
  ``tikget audit``);
- ``#tag``: a hashtag in the caption; ``@name``: the creator;
- anything else: a piece of the creator, caption, note, kind or file name.

Matching ignores case and accents (``kyoto`` finds "Kyōto", ``strasse`` "Straße").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tikget_tui import jsonfile
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.models import Story, sound_line

if TYPE_CHECKING:
    from tikget_tui.store import Store

SortKey = Literal["saved", "posted", "creator", "size"]
SORT_KEYS: tuple[SortKey, ...] = ("saved", "posted", "creator", "size")
VERDICT_WORDS = {"ok": "ok", "warn": "warn", "warning": "warn", "fail": "fail",
                 "failed": "fail"}
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}


@dataclass(eq=False)
class LibraryItem:
    """One saved copy, with what the library shows and filters on (not frozen: building
    10,000 frozen records costs twice as much; nothing changes one after loading)."""

    story_id: str
    variant: str
    path: Path
    files: tuple[Path, ...]
    creator: str
    caption: str
    kind: str
    posted_at: datetime | None
    saved_at: datetime
    size: int
    verdict: str
    note: str
    audit: str  # '' or what is wrong now: 'missing', 'changed', 'unrecoverable'…
    job_id: int | None
    checked: str = ""  # the latest check (v, tikget audit): 'ok', 'missing', 'changed'…
    check_detail: str = ""
    mark: str = ""  # the audit mark ('unrecoverable'), if any
    copied_from: Path | None = None
    folders: tuple[Path, ...] = ()  # every folder holding a copy, when there is more than one
    story_json: str | None = field(default=None, repr=False, compare=False)
    search: str = field(default="", repr=False, compare=False)

    @property
    def story(self) -> Story | None:
        """The story it saved, parsed when first asked for (listing never parses it)."""
        cached = self.__dict__.get("_story", False)
        if cached is not False:
            return cached
        story: Story | None = None
        if self.story_json:
            try:
                story = Story.from_dict(jsonfile.loads(self.story_json,
                                                       limit=4 * jsonfile.max_bytes()))
            except (ValueError, TypeError, KeyError):
                story = None
        self.__dict__["_story"] = story
        return story

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.story_id, self.variant, str(self.path))

    @property
    def all_files(self) -> tuple[Path, ...]:
        return self.files or (self.path,)

    @property
    def folder(self) -> str:
        """Its folder as people write it (``~/Downloads/TikGet``) when the story has copies
        in more than one folder, else '' (one place: nothing to tell apart)."""
        if len(self.folders) < 2:
            return ""
        from tikget_tui.units import folder_for_people

        return folder_for_people(self.path.parent)

    @property
    def sound(self) -> str:
        return sound_line(self.story.music if self.story is not None else None)

    def is_active(self, now: datetime) -> bool:
        """Whether its story can still be fetched (not expired)."""
        story = self.story
        return story is not None and (story.expires_at is None or story.expires_at > now)


def _dt(value: float | None) -> datetime | None:
    from datetime import UTC

    return datetime.fromtimestamp(value, UTC) if value is not None else None


def fold(text: str) -> str:
    """``text`` for matching: case folded, accents dropped ('Kyōto' -> 'kyoto')."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def item_from_row(row: dict[str, Any]) -> LibraryItem:
    raw_files = row.get("files_json") or "[]"
    try:
        listed = jsonfile.loads(raw_files, limit=4 * jsonfile.max_bytes()) \
            if raw_files != "[]" else []
    except ValueError:
        listed = []
    files = tuple(Path(p) for p in listed if isinstance(p, str)) \
        if isinstance(listed, list) else ()
    creator = row.get("creator") or ""
    caption = row.get("caption") or ""
    kind = "mp3" if row["variant"] == "audio" else (row.get("kind") or row["variant"])
    note = row.get("note") or ""
    path = Path(row["path"])
    posted: datetime | None = None
    if row.get("posted_at"):
        try:
            posted = datetime.fromisoformat(row["posted_at"])
        except (TypeError, ValueError):
            posted = None
    search = fold(" ".join((f"@{creator}", row.get("nickname") or "", caption, note, kind,
                            path.name, path.parent.name, row["story_id"])))
    mark = row.get("audit") or ""
    checked = row.get("checked") or ""
    copied = row.get("copied_from")
    return LibraryItem(
        story_id=row["story_id"], variant=row["variant"], path=path, files=files,
        creator=creator, caption=caption, kind=kind, posted_at=posted,
        saved_at=_dt(row["saved_at"]) or datetime.fromtimestamp(0).astimezone(),
        size=int(row.get("size") or 0), verdict=row.get("verdict") or "",
        note=note, audit=checked if checked in CHECK_WORDS else mark,
        job_id=row.get("job_id"), checked=checked,
        check_detail=row.get("checked_detail") or "", mark=mark,
        copied_from=Path(copied) if copied else None,
        story_json=row.get("story_json"), search=search)


CHECK_WORDS = ("missing", "changed")  # what a check found that the row shows


def disk_state(item: LibraryItem) -> str:
    """What the files on disk say now, from one stat each (no hashing): 'missing' when a
    file is gone, 'changed' when they hold another size than was saved; else what the
    latest check found ('changed' after a same-size edit stays until a check says
    otherwise; a 'missing' file that is back is no longer missing), else the audit mark."""
    import os

    total = 0
    for p in item.all_files:
        try:
            total += os.stat(p).st_size
        except OSError:
            return "missing"
    if item.size and total != item.size:
        return "changed"
    if item.checked == "changed":
        return "changed"
    return item.mark


def load(store: Store, *, check_files: bool = True) -> list[LibraryItem]:
    """Every saved copy, newest first. ``check_files``: each copy's files are stat'ed
    (:func:`disk_state`): a file gone shows as ``missing``, another size as ``changed``."""
    items = [item_from_row(r) for r in Records(store).library_rows()]
    mark_copies(items)
    if check_files:
        items = restat(items)
    return items


def mark_copies(items: list[LibraryItem]) -> None:
    """Give each copy of a story saved in more than one folder the list of those folders
    (:attr:`LibraryItem.folder` then tells the rows apart)."""
    where: dict[tuple[str, str], list[Path]] = {}
    for item in items:
        folders = where.setdefault((item.story_id, item.variant), [])
        if item.path.parent not in folders:
            folders.append(item.path.parent)
    for item in items:
        folders = where[(item.story_id, item.variant)]
        if len(folders) > 1:
            item.folders = tuple(folders)


def restat(items: list[LibraryItem]) -> list[LibraryItem]:
    """The items with ``audit`` set from the disk now (a stat per file; the same objects
    when nothing changed, so a re-check of what is shown costs no rebuild)."""
    out = []
    for item in items:
        state = disk_state(item)
        out.append(item if state == item.audit else _with(item, audit=state))
    return out


def _with(item: LibraryItem, **changes: Any) -> LibraryItem:
    from dataclasses import replace

    return replace(item, **changes)


# -- filtering -------------------------------------------------------------------------------

_MONTH_DAY = re.compile(r"^(?:([a-z]{3})[a-z]*\s+(\d{1,2})|(\d{1,2})\s+([a-z]{3})[a-z]*)$")


def _local_day(when: datetime | None) -> date | None:
    return when.astimezone().date() if when is not None else None


Test = Callable[[LibraryItem], bool]


def _day_test(days: set[date] | None, month_day: tuple[int, int] | None) -> Test:
    def test(item: LibraryItem) -> bool:
        for when in (item.saved_at, item.posted_at):
            day = _local_day(when)
            if day is None:
                continue
            if days is not None and day in days:
                return True
            if month_day is not None and (day.month, day.day) == month_day:
                return True
        return False

    return test


def compile_filter(text: str, now: datetime) -> list[Test]:
    """The tests a filter text stands for (each must pass)."""
    words = fold(text).split()
    tests: list[Test] = []
    today = now.astimezone().date()
    i = 0
    while i < len(words):
        word = words[i]
        pair = " ".join(words[i:i + 2])
        match = _MONTH_DAY.match(pair) if i + 1 < len(words) else None
        if match:
            month = MONTHS.get(match.group(1) or match.group(4) or "")
            day = int(match.group(2) or match.group(3))
            if month and 1 <= day <= 31:
                tests.append(_day_test(None, (month, day)))
                i += 2
                continue
        i += 1
        if word == "today":
            tests.append(_day_test({today}, None))
        elif word == "yesterday":
            tests.append(_day_test({today - timedelta(days=1)}, None))
        elif word in VERDICT_WORDS:
            want = VERDICT_WORDS[word]
            tests.append(lambda item, want=want: item.verdict == want)  # type: ignore[misc]
        elif word in ("missing", "changed"):
            tests.append(lambda item, word=word: item.audit == word)  # type: ignore[misc]
        else:
            tests.append(lambda item, word=word: word in item.search)  # type: ignore[misc]
    return tests


def filter_items(items: Iterable[LibraryItem], text: str, now: datetime) -> list[LibraryItem]:
    tests = compile_filter(text, now)
    if not tests:
        return list(items)
    return [item for item in items if all(test(item) for test in tests)]


def sort_items(items: Sequence[LibraryItem], key: SortKey) -> list[LibraryItem]:
    """Newest saved first, newest posted first, creator A-Z, or largest first."""
    epoch = datetime.fromtimestamp(0).astimezone()
    if key == "posted":
        return sorted(items, key=lambda i: i.posted_at or epoch, reverse=True)
    if key == "creator":
        return sorted(items, key=lambda i: (i.creator.lower(), -i.saved_at.timestamp()))
    if key == "size":
        return sorted(items, key=lambda i: i.size, reverse=True)
    return sorted(items, key=lambda i: i.saved_at, reverse=True)


def view(items: Sequence[LibraryItem], text: str, key: SortKey,
         now: datetime) -> list[LibraryItem]:
    """What the pane lists: the items that pass the filter, in the chosen order (items
    arrive newest saved first, so that order needs no sort)."""
    shown = filter_items(items, text, now)
    return shown if key == "saved" else sort_items(shown, key)


def next_sort(key: SortKey) -> SortKey:
    return SORT_KEYS[(SORT_KEYS.index(key) + 1) % len(SORT_KEYS)]


# -- actions on a saved copy ------------------------------------------------------------------

def set_note(store: Store, item: LibraryItem, note: str) -> bool:
    """Replace the note of a saved copy in its sidecar and its archive entry: both or
    neither (the sidecar is put back when the archive cannot be written). True when
    there was a sidecar to update."""
    from tikget_tui.archive import copies, sidecar
    from tikget_tui.archive.sidecar import sidecar_for

    job = store.get_job(item.job_id) if item.job_id is not None else None
    entry = ArchiveEntry(story_id=item.story_id, variant=item.variant, path=item.path,
                         files=item.files)
    side_path = sidecar_for(entry, job)
    before = sidecar.read(side_path)
    try:
        if before is not None:
            sidecar.write(side_path, {**before, "note": note})
        Records(store).set_note(item.story_id, item.variant, item.path, note)
        if job is not None:
            store.update_job(job.id, note=note)
    except BaseException:
        copies.restore_sidecar(side_path, before)
        raise
    return before is not None


def files_of(store: Store, item: LibraryItem) -> list[Path]:
    """Every file of a saved copy that exists: the media and its sidecar."""
    from tikget_tui.archive.sidecar import sidecar_for

    job = store.get_job(item.job_id) if item.job_id is not None else None
    entry = ArchiveEntry(story_id=item.story_id, variant=item.variant, path=item.path,
                         files=item.files)
    out = [p for p in item.all_files if p.exists()]
    side = sidecar_for(entry, job)
    if side.exists() and side not in out:
        out.append(side)
    return out


def delete(store: Store, item: LibraryItem) -> list[Path]:
    """Remove a saved copy's files and its archive entry; the files removed."""
    removed = []
    for path in files_of(store, item):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    Records(store).delete(item.story_id, item.variant, item.path)
    return removed


def can_open_here(env: dict[str, str], platform: str) -> str:
    """'' when a system viewer can open files here, else why not."""
    if platform == "darwin":
        return ""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return ""
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return "this is an SSH session with no display: copy the file to a machine with one"
    return "there is no display here (no DISPLAY or WAYLAND_DISPLAY)"


async def open_in_viewer(path: Path, platform: str) -> None:
    """Hand ``path`` to the system viewer (``open`` on macOS, else ``xdg-open``); the
    child gets no terminal and is not waited for beyond its start."""
    import asyncio

    command = "open" if platform == "darwin" else "xdg-open"
    proc = await asyncio.create_subprocess_exec(
        command, str(path), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True)
    await proc.wait()
