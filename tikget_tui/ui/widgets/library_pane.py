"""Pane 5's contents: the filter line over the library table, and a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from tikget_tui.ui.widgets.library_table import LibraryTable

if TYPE_CHECKING:
    from tikget_tui.ui.host import AppHost

PLACEHOLDER = "filter: creator, caption, note, #tag, today, nov 28, fail, missing"


class FilterInput(Input):
    """The filter line; Down goes to the list."""

    BINDINGS = [Binding("down", "to_list", "List", show=False)]

    class ToList(Message):
        """Down in the filter line: to the list."""

    def action_to_list(self) -> None:
        self.post_message(self.ToList())


class LibraryPane(Vertical):
    """Filter as you type; Enter in the filter opens the report of the first match.

    The pane loads the archive itself (a worker, once the download queue has opened it,
    again after anything was saved or changed) and runs the row actions; the main
    screen only places it and shows reports."""

    def __init__(self, host: AppHost, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        """The app: its download manager (and archive), clock and stored reports."""
        self.all_items: list[Any] = []
        """Every saved copy, newest first (as loaded)."""
        self.sort_key: str = "saved"
        self.stale = True
        """The archive changed since it was loaded (reloaded when the pane is shown)."""
        self.loads = 0
        """How many times the archive was loaded (tests wait on it)."""
        self._composed = False
        self._focus_when_composed = False
        self._version = -1  # the store's data_version when last loaded

    # The main screen makes this pane on first use (not for the first frame): until its
    # children are composed, focus and loading wait for on_mount.

    def focus_filter(self) -> None:
        """Focus the filter line (at once, or as soon as it exists)."""
        if self._composed:
            self.filter.focus()
        else:
            self._focus_when_composed = True

    def on_mount(self) -> None:
        self._composed = True
        if self._focus_when_composed:
            self._focus_when_composed = False
            self.filter.focus()
        screen: Any = self.screen
        if "library" in (getattr(screen, "active_pane", ""), getattr(screen, "shown_pane", "")):
            self.shown()

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=PLACEHOLDER, id="library-filter", select_on_focus=False)
        yield LibraryTable(id="library")
        yield Static(Content(""), id="library-status", markup=False)

    @property
    def filter(self) -> FilterInput:
        return self.query_one(FilterInput)

    @property
    def table(self) -> LibraryTable:
        return self.query_one(LibraryTable)

    def set_status(self, text: str) -> None:
        self.query_one("#library-status", Static).update(Content.styled(text, "$text-muted"))

    @property
    def status_text(self) -> str:
        visual = self.query_one("#library-status", Static).visual
        return str(getattr(visual, "plain", visual))

    def on_filter_input_to_list(self, message: FilterInput.ToList) -> None:
        message.stop()
        self.table.focus()

    def on_library_table_left_top(self, message: LibraryTable.LeftTop) -> None:
        message.stop()
        self.filter.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        item: Any = self.table.current
        if item is not None:
            self.act_on("report", item)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.apply_view()

    def on_library_table_sort_requested(self, message: LibraryTable.SortRequested) -> None:
        message.stop()
        from tikget_tui.archive.library import next_sort

        self.sort_key = next_sort(self.sort_key)  # type: ignore[arg-type]
        self.apply_view()

    def on_library_table_item_action(self, message: LibraryTable.ItemAction) -> None:
        message.stop()
        self.act_on(message.action, message.item)

    # -- loading -------------------------------------------------------------------

    @property
    def store(self) -> Any | None:
        return getattr(self.host.manager, "store", None)

    def reload(self) -> None:
        """Load the archive again (in a worker), if the download queue has opened it."""
        if not self._composed:
            self.stale = True  # on_mount loads it
            return
        store = self.store
        if store is None:
            self.set_status("the archive opens with the download queue…")
            return
        self.stale = False
        self._version = store.data_version()
        self.run_worker(self._load(store), group="library", name="list the library",
                        exclusive=True, exit_on_error=False)

    async def _load(self, store: Any) -> None:
        import asyncio

        from tikget_tui.archive.library import load

        items = await asyncio.to_thread(load, store)
        self.all_items = items
        self.loads += 1
        self.apply_view()

    def changed(self) -> None:
        """Something was saved, deleted or re-verified: reload now if shown, else later."""
        self.stale = True
        screen: Any = self.screen
        if "library" in (getattr(screen, "active_pane", ""), getattr(screen, "shown_pane", "")):
            self.reload()

    def shown(self) -> None:
        """The pane is opened or returned to: what it shows is checked again against the
        disk (a stat per file, in a thread) and, when the archive changed (here, or in
        another process such as ``tikget audit``: SQLite's data_version), loaded again. The
        sha256 is only computed by ``v``."""
        store = self.store
        if self.stale or store is None or not self._composed \
                or store.data_version() != self._version:
            self.reload()
            return
        self.run_worker(self._restat(), group="library", name="check the library's files",
                        exclusive=True, exit_on_error=False)

    async def _restat(self) -> None:
        import asyncio

        from tikget_tui.archive.library import restat

        before = self.all_items
        items = await asyncio.to_thread(restat, before)
        self.loads += 1
        if any(a is not b for a, b in zip(items, before, strict=True)):
            self.all_items = items
            self.apply_view()

    def apply_view(self) -> None:
        from tikget_tui.archive.library import view

        text = self.filter.value
        shown = view(self.all_items, text, self.sort_key,  # type: ignore[arg-type]
                     self.host.clock.now())
        self.table.set_items(shown)
        total = len(self.all_items)
        if not total:
            self.set_status("nothing saved yet: d in the stories pane saves a story"
                            if self.store is not None else
                            "the archive opens with the download queue…")
            return
        what = f"{len(shown)} of {total}" if text.strip() else f"{total}"
        # keys that work where this is read: typed in the filter, ? and s are text; F1 is not
        self.set_status(f"{what} saved · sorted by {self.sort_key} (s in the list) · "
                        "Enter: report · F1 lists the keys")

    # -- row actions -----------------------------------------------------------------

    def act_on(self, action: str, item: Any) -> None:
        getattr(self, f"do_{action}")(item)

    def _job(self, item: Any) -> Any | None:
        manager = self.host.manager
        if manager is None or item.job_id is None:
            return None
        return manager.job(item.job_id) or manager.store.get_job(item.job_id)

    def do_report(self, item: Any) -> None:
        job = self._job(item)
        if job is None:
            self.app.notify("no download record is kept for this item: tikget audit "
                             "checks it", severity="warning")
            return
        from tikget_tui.archive.records import Records
        from tikget_tui.verify.report import Report

        store = self.store
        data = Records(store).latest_report(item.path) if store is not None else None

        report = Report.from_dict(data) if data else self.host.load_report(job)
        self.screen.show_library_report(job, report, item)  # type: ignore[attr-defined]

    def do_verify(self, item: Any) -> None:
        job = self._job(item)
        if job is None:
            self.app.notify("no download record is kept for this item: tikget verify "
                             f"{item.path} checks the file", severity="warning")
            return
        self.screen.run_job_action("reverify", job.id)  # type: ignore[attr-defined]

    def do_copy_path(self, item: Any) -> None:
        self.app.copy_to_clipboard(str(item.path))
        self.app.notify(f"path copied to the clipboard: {item.path}")

    def do_open_file(self, item: Any) -> None:
        import os
        import sys

        from tikget_tui.archive.library import can_open_here

        if not item.path.exists():
            self.app.notify(f"{item.path} is missing from disk: r downloads it again while "
                             "the story is active", severity="warning")
            return
        why = can_open_here(dict(os.environ), sys.platform)
        if why:
            self.app.notify(f"{item.path}: not opened, {why} (c copies the path)",
                             severity="warning")
            return
        self.run_worker(self._open(item.path, sys.platform), group="library-open",
                        name="open the file", exit_on_error=False)

    async def _open(self, path: Any, platform: str) -> None:
        from tikget_tui.archive.library import open_in_viewer

        await open_in_viewer(path, platform)
        self.app.notify(f"opened {path.name} with the system viewer")

    def do_edit_note(self, item: Any) -> None:
        from tikget_tui.ui.screens.note import NoteScreen, story_line

        store = self.store
        if store is None:
            return

        def done(note: str | None) -> None:
            if note is None or note == item.note:
                return
            self.run_worker(self._set_note(store, item, note), group="library-note",
                            name="change the note", exit_on_error=False)

        self.app.push_screen(NoteScreen(1, item.note, [
            story_line(f"@{item.creator}" if item.creator else "", item.caption,
                       item.posted_at)]), done)

    async def _set_note(self, store: Any, item: Any, note: str) -> None:
        import asyncio

        from tikget_tui.archive.library import set_note

        beside = await asyncio.to_thread(set_note, store, item, note)
        where = "its .info.json and the archive" if beside else \
            "the archive (its .info.json is missing)"
        self.app.notify(("note cleared in " if not note else "note saved in ") + where)
        self.reload()

    def do_redownload(self, item: Any) -> None:
        from tikget_tui.ui.text import safe_line

        manager = self.host.manager
        if manager is None:
            return
        missing = item.audit == "missing" or not all(p.exists() for p in item.all_files)
        failing = item.verdict == "fail" or item.audit == "changed"
        if not (missing or failing):
            self.app.notify("this file is saved and verified: nothing to download again "
                             "(v verifies it again)")
            return
        now = self.host.clock.now()
        if item.story is None or not item.is_active(now):
            ended = (f" on {item.story.expires_at:%b %d %H:%M} UTC"
                     if item.story is not None and item.story.expires_at else "")
            self.app.notify(f"the story expired{ended}: it can no longer be downloaded "
                             f"({safe_line(item.caption, 40) or item.story_id})",
                             severity="warning")
            return

        async def enqueue() -> None:
            job = await manager.enqueue(item.story, audio=item.variant == "audio",
                                        note=item.note, directory=item.path.parent,
                                        replace=failing and not missing)
            self.screen.queue.job_changed(job, [j.id for j in manager.jobs()])  # type: ignore[attr-defined]
            name = safe_line(item.caption, 40) or item.story_id
            if missing:
                self.app.notify(f"downloading {name} again under its own name "
                                 "(see the queue, 3)")
            else:  # its record is kept in the .info.json's history
                self.app.notify(f"downloading {name} again (see the queue, 3): it replaces "
                                 f"{item.path.name} under the same name; the earlier save "
                                 "stays in its .info.json's history")

        self.run_worker(enqueue(), group="enqueue", name="download again",
                        exit_on_error=False)

    def do_delete(self, item: Any) -> None:
        from tikget_tui.archive.library import files_of
        from tikget_tui.ui.screens.confirm import ConfirmScreen
        from tikget_tui.ui.text import safe_line

        store = self.store
        if store is None:
            return
        files = files_of(store, item)
        name = safe_line(item.caption, 40) or item.story_id
        question = (f"Delete {len(files)} file(s) of “{name}” and its library entry?"
                    if files else f"Forget “{name}”? (no file of it is left on disk)")

        def answered(yes: bool | None) -> None:
            if not yes:
                self.app.notify("nothing deleted")
                return
            self.run_worker(self._delete(store, item), group="library-delete",
                            name="delete the saved files", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(question, [safe_line(str(p)) for p in files]),
                              answered)

    async def _delete(self, store: Any, item: Any) -> None:
        import asyncio

        from tikget_tui.archive.library import delete

        removed = await asyncio.to_thread(delete, store, item)
        names = ", ".join(p.name for p in removed[:3]) + (" …" if len(removed) > 3 else "")
        self.app.notify(f"deleted {len(removed)} file(s) ({names}) and the library entry"
                         if removed else "the library entry is gone (no file was left)")
        self.reload()

