"""The main screen: input, active stories, download queue and verification report.

At 80x24 (anything narrower than 110 columns or shorter than 34 rows) the
input stays on top and the other panes share the space below as tabs; from
120x40 up all four are visible in a grid. Number keys 1-4 and Tab switch
panes. All slow work runs in workers; one ``Worker.StateChanged`` handler
turns any failure into a one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.events import Resize
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from tikget_tui.ui import keymap
from tikget_tui.ui.messages import (
    CoreEvent,
    CoreFailed,
    CoreReady,
    LookupRefused,
    StoriesListed,
    StoryResolved,
    WatchPolled,
)
from tikget_tui.ui.text import safe_line
from tikget_tui.ui.widgets.input_pane import InputPane
from tikget_tui.ui.widgets.queue_table import QueueTable
from tikget_tui.ui.widgets.report_view import ReportView
from tikget_tui.ui.widgets.stories_table import StoriesTable, format_wait

if TYPE_CHECKING:  # links, models, the library and the dialogs load after the first frame
    from tikget_tui import links
    from tikget_tui.models import Story
    from tikget_tui.store import Job
    from tikget_tui.ui.app import TikGetApp
    from tikget_tui.ui.lookup_tally import LookupTally
    from tikget_tui.ui.widgets.library_pane import LibraryPane
    from tikget_tui.ui.widgets.pane_tabs import PaneTabs

PANES = ("input", "stories", "queue", "report", "library")
TITLES = {"input": "1 Input", "stories": "2 Active stories", "queue": "3 Download queue",
          "report": "4 Verification report", "library": "5 Library"}


def wide_layout(width: int, height: int) -> bool:
    """All four panes in a grid (no tab bar): the ``-wide`` and ``-tall`` breakpoints."""
    return width >= MainScreen.HORIZONTAL_BREAKPOINTS[1][0] and \
        height >= MainScreen.VERTICAL_BREAKPOINTS[1][0]


def error_line(exc: BaseException) -> str:
    """One line for the user from any failure."""
    reason = getattr(exc, "reason", None)
    text = reason if isinstance(reason, str) and reason else str(exc) or type(exc).__name__
    return safe_line(text, 300)


class MainScreen(Screen[None]):
    """Four panes; the screen coordinates them and talks to the core."""

    BINDINGS = keymap.bindings("screen")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    active_pane: reactive[str] = reactive("input", init=False)
    """The pane with the focus (1-4)."""
    shown_pane: reactive[str] = reactive("stories", init=False)
    """The pane below the input in the narrow (tabbed) layout."""
    audio_only: reactive[bool] = reactive(False, init=False)
    """Save the next downloads as MP3 (audio only)."""
    _timer_line = ""  # what show_timer_line found: the stories pane's subtitle shows it

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._job_states: dict[int, str] = {}
        self._batch: dict[int, str | None] = {}
        """Jobs of the current batch: None while unfinished, else 'state:verdict'."""
        self._reverifying: set[int] = set()
        self.lookups_started = 0
        """How many lookups this screen has started (tests wait on it)."""

    @property
    def tikget(self) -> TikGetApp:
        return self.app  # type: ignore[return-value]

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.tikget
        # The classes for the terminal as it is now (breakpoints, colours), so the first
        # Resize finds them in place and the screen is not styled a second time; and only
        # what this size shows: the tab bar is made when the layout first needs it, the
        # library's contents when the library is first used (bench/bench_ui.py).
        width, height = app.size
        self.set_class(True, *self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS),
                       *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS),
                       update=False)
        # 16 colours (TERM=xterm): the accent maps to bright red; see app.tcss
        self.set_class(app.console.color_system == "standard", "-few-colors", update=False)
        yield Header(icon="▶")
        if not wide_layout(width, height):
            yield self._make_tabs()
        with Container(id="panes"):
            pane = InputPane(history_file=app.settings.data_dir / "input-history.txt",
                             id="pane-input", classes="pane active")
            pane.border_title = TITLES["input"]
            yield pane
            with Vertical(id="pane-report", classes="pane") as report:
                report.border_title = TITLES["report"]
                yield ReportView(id="report")
            with Vertical(id="pane-stories", classes="pane shown") as stories:
                stories.border_title = TITLES["stories"]
                yield StoriesTable(app.clock, id="stories")
            with Vertical(id="pane-library", classes="pane") as library:
                library.border_title = TITLES["library"]  # its LibraryPane: self.library
            with Vertical(id="pane-queue", classes="pane") as queue:
                queue.border_title = TITLES["queue"]
                yield QueueTable(id="queue")
        yield Footer(compact=True)

    def _make_tabs(self) -> PaneTabs:
        from tikget_tui.ui.widgets.pane_tabs import PaneTabs

        return PaneTabs({p: TITLES[p] for p in PANES}, self.active_pane, id="pane-bar")

    def on_resize(self, event: Resize) -> None:
        # (Screen._on_resize sets the breakpoint classes; this only adds the tab bar the
        # first time the layout needs it: it was not made for a wide start)
        if not wide_layout(*event.size) and not self.query("#pane-bar"):
            self.mount(self._make_tabs(), before="#panes")

    def on_mount(self) -> None:
        # the library's contents right after the first frame (not for it), so that a key
        # pressed soon after 5 finds its filter line
        self.call_after_refresh(lambda: self.library)
        self.audio_only = self.tikget.settings.audio_mp3
        self._show_audio()
        self.watch_active_pane(self.active_pane)  # the first pane is highlighted from the start
        self.query_one("#query").focus()
        if self.tikget.demo_origin:
            self.input_pane.set_status(
                "demo service: try @mika.travels, @studio.photos, @quiet.creator, "
                "@secret.garden, @weird.names or @nobody; @big.files has large stories "
                "that download slowly (try p, u and x in the queue)")

    @property
    def input_pane(self) -> InputPane:
        return self.query_one(InputPane)

    @property
    def stories(self) -> StoriesTable:
        return self.query_one(StoriesTable)

    @property
    def queue(self) -> QueueTable:
        return self.query_one(QueueTable)

    @property
    def report(self) -> ReportView:
        return self.query_one(ReportView)

    @property
    def library(self) -> LibraryPane:
        """The library pane's contents, made on first use (not needed for the first frame;
        its filter and table exist once it has been composed, see :meth:`focus_pane`)."""
        from tikget_tui.ui.widgets.library_pane import LibraryPane

        for found in self.query(LibraryPane).results(LibraryPane):
            return found
        library = LibraryPane(id="library-pane")
        self.query_one("#pane-library").mount(library)
        return library

    def focus_pane(self, pane: str) -> None:
        """Give the pane's main widget the focus (the library's filter line, once it is
        there: a library made just now focuses it when composed)."""
        if pane == "library":
            self.library.focus_filter()
            return
        {"input": self.input_pane.input, "stories": self.stories,
         "queue": self.queue, "report": self.report}[pane].focus()

    def watch_active_pane(self, pane: str) -> None:
        for name in PANES:
            self.query_one(f"#pane-{name}").set_class(name == pane, "active")
        if pane != "input":
            self.shown_pane = pane
        if pane in ("library", "stories"):  # wide: the library stands in for the stories
            self.set_class(pane == "library", "-library")
        if pane == "library":
            self.library.shown()
        for tabs in self.query("#pane-bar").results():  # none in a wide start (compose)
            tabs.mark(pane)  # type: ignore[attr-defined]  # (PaneTabs: the bar follows)

    def watch_shown_pane(self, pane: str) -> None:
        for name in PANES[1:]:
            self.query_one(f"#pane-{name}").set_class(name == pane, "shown")

    def on_descendant_focus(self, event: Any) -> None:
        # the widget that has the focus now: after quick changes an event can be stale
        node: Any = self.app.focused or event.widget
        while node is not None and node is not self:
            if node.id and node.id.startswith("pane-") and node.id[5:] in PANES:
                self.active_pane = node.id[5:]
                return
            node = node.parent

    def on_pane_tabs_pane_clicked(self, event: PaneTabs.PaneClicked) -> None:
        # a click on a tab (the handler by name: PaneTabs loads with the tab bar); the
        # bar's own TabActivated messages are not listened to (see ui/widgets/pane_tabs.py)
        event.stop()
        if event.pane in PANES and event.pane != self.active_pane:
            self.action_pane(event.pane)

    # -- actions -------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.active_pane = pane
        self.focus_pane(pane)

    def _step_pane(self, step: int) -> None:
        index = PANES.index(self.active_pane) if self.active_pane in PANES else 0
        self.action_pane(PANES[(index + step) % len(PANES)])

    def action_next_pane(self) -> None:
        self._step_pane(1)

    def action_previous_pane(self) -> None:
        self._step_pane(-1)

    def action_lookup(self) -> None:
        if self.input_pane.input.value.strip():
            self.input_pane.submit()
        else:
            self.action_pane("input")
            self.input_pane.set_status("type a @user or paste links, then press Enter")

    def action_refresh(self) -> None:
        names = self.stories.creators()
        if not names:
            self.notify("nothing to refresh yet: look up a @user first", severity="warning",
                        markup=False)
            return
        from tikget_tui import links

        for name in names:
            self._start_lookup(links.UserTarget(username=name.lower()), "@" + name)
        self.input_pane.set_status(f"refreshing {len(names)} creator(s)…")

    def action_toggle_audio(self) -> None:
        self.audio_only = not self.audio_only
        self._show_audio()
        self.notify("next downloads: audio only (MP3)" if self.audio_only
                    else "next downloads: video/photos as posted", markup=False)

    def _show_audio(self) -> None:
        pane = self.query_one("#pane-stories")
        audio = "MP3: on" if self.audio_only else "MP3: off"
        timer = self._timer_line
        pane.border_subtitle = f"{audio} · {timer}" if timer else audio

    def action_folder(self, problem: str = "") -> None:
        """Show the download folder (path copied to the clipboard) and let the user change it."""
        from tikget_tui.config import ConfigError, save_download_dir

        app = self.tikget
        current = app.settings.download_dir
        app.copy_to_clipboard(str(current))

        def chosen(path: Path | None) -> None:
            if path is None:
                self.notify(f"download folder: {current} (path copied to the clipboard)",
                            markup=False)
                return
            try:
                path.mkdir(exist_ok=True)
            except OSError as exc:
                self.action_folder(f"cannot create {path}: {exc.strerror}")
                return
            app.settings = app.settings.with_download_dir(path)
            if app.manager is not None:
                app.manager.set_download_dir(path)
            try:
                save_download_dir(app.settings.config_file, path)
                kept = f"saved in {app.settings.config_file}"
            except ConfigError as exc:
                kept = f"for this session only: {exc}"
            self.notify(f"downloads now go to {path} ({kept}); t retries a failed one",
                        markup=False)

        from tikget_tui.ui.screens.folder import FolderScreen

        self.app.push_screen(FolderScreen(current, app.settings.config_file, problem), chosen)

    def action_help(self) -> None:
        from tikget_tui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.tikget.user_keymap))

    async def action_quit(self) -> None:
        await self.tikget.action_quit()

    async def run_spec(self, spec: keymap.ActionSpec) -> None:
        """Run an action from the command palette, on the widget that owns it."""
        target: Any = {"screen": self, "stories": self.stories, "queue": self.queue,
                       "library": self.library.table}[spec.scope]
        await self.app.run_action(spec.action, default_namespace=target)

    # -- messages to the user --------------------------------------------------------

    def show_notice(self, message: str, *, title: str = "", severity: str = "information") -> None:
        """Every notice goes to the message line under the input: it wraps when long and
        never covers the pane the user works in (the app's ``notify`` comes here)."""
        text = f"{title}: {message}" if title else message
        self.input_pane.set_status(text, error=severity == "error",
                                   warning=severity == "warning")

    # -- lookups -------------------------------------------------------------------

    @on(InputPane.LookupRequested)
    def _lookup_requested(self, event: InputPane.LookupRequested) -> None:
        event.stop()
        from tikget_tui import links

        try:
            parsed = links.parse_detailed(event.text, self.tikget.settings.service)
        except links.ParseError as exc:
            self.input_pane.set_status(str(exc), error=True)
            return
        targets = list(parsed.targets)
        self.input_pane.accepted()
        shown = ", ".join(safe_line(t.display, 40) for t in targets[:3])
        more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
        notes = [n for n in (parsed.rejected_note(), parsed.ignored_note()) if n]
        status = f"looking up {shown}{more}…"
        if notes:
            self.notify(f"{status} {'; '.join(notes)}", severity="warning", markup=False)
        else:
            self.input_pane.set_status(status)
        from tikget_tui.ui.lookup_tally import LookupTally

        # several at once: one summary when the last one ends (each result alone would
        # leave only the last on the message line)
        tally = (LookupTally(len(targets), notes=tuple(notes))
                 if len(targets) > 1 or notes else None)
        for target in targets:
            self._start_lookup(target, target.display, reveal=True, tally=tally)
        if self.active_pane == "input":
            self.shown_pane = "stories"

    def _start_lookup(self, target: links.Target, query: str, *, reveal: bool = False,
                      tally: LookupTally | None = None) -> None:
        from tikget_tui import links

        self.lookups_started += 1
        if isinstance(target, links.UserTarget) and target.username:
            self.stories.expect(target.username)
        self.run_worker(self._lookup(target, query, reveal, tally), group="lookup",
                        name=f"look up {query}", exit_on_error=False)

    async def _lookup(self, target: links.Target, query: str, reveal: bool,
                      tally: LookupTally | None = None) -> None:
        from tikget_tui import links
        from tikget_tui.tiktok.errors import (
            LoginRequired,
            PostUnavailable,
            PrivateAccount,
            PrivatePost,
            RegionLocked,
            TikTokError,
            UserNotFound,
        )

        refusals = (PrivateAccount, UserNotFound, PostUnavailable, PrivatePost, RegionLocked,
                    LoginRequired)
        kinds = {PrivateAccount: "private", PrivatePost: "private", UserNotFound: "unknown",
                 PostUnavailable: "unavailable"}
        outcome: tuple[str, int] = ("failed", 0)
        error = ""
        try:
            client = await self.tikget.ready_client()
            if isinstance(target, links.UserTarget):
                listed = await client.lookup_stories(target)
                n = len(listed.stories)
                outcome = ("stories", n) if n else ("none", 0)
                self.post_message(StoriesListed(listed, query, reveal=reveal))
            else:
                self.post_message(StoryResolved(await client.resolve(target), query))
                outcome = ("found", 1)
        except TikTokError as exc:  # refused (private, gone, bot wall) or failed: its line
            # goes where the look-up was shown, not only to the message line
            if isinstance(exc, refusals):
                outcome = (kinds.get(type(exc), "refused"), 0)
            else:
                error = exc.reason
            name = (target.username or target.user_id or query) if isinstance(
                target, links.UserTarget) else (getattr(target, "username", None) or query)
            self.post_message(LookupRefused(name or query, exc.reason))
        except Exception as exc:
            error = error_line(exc)
            raise
        finally:
            if tally is not None:
                tally.add(*outcome, error=error)
                if tally.complete:  # after the messages posted above: the last word
                    self.call_later(self._show_tally, tally)

    def _show_tally(self, tally: LookupTally) -> None:
        self.input_pane.set_status(tally.summary(), error=tally.any_problem)

    @on(StoriesListed)
    def _listed(self, message: StoriesListed) -> None:
        message.stop()
        story_list = message.story_list
        self.stories.show_list(story_list)
        self._mark_archived(story_list.stories)
        n = len(story_list.stories)
        who = safe_line(story_list.creator.handle or message.query, 60)
        if story_list.incomplete:
            self.input_pane.set_status(f"{who}: {safe_line(story_list.incomplete)}",
                                       warning=True)
        elif n:
            self.input_pane.set_status(
                f"{who}: {n} active {'story' if n == 1 else 'stories'} "
                "(in pane 2: space selects, d downloads, a takes all)")
        else:
            reason = safe_line(story_list.reason) or "no active story right now"
            # the reason often names the creator already ('@x has no active story right now')
            self.input_pane.set_status(reason if who and who in reason else f"{who}: {reason}")
        if message.reveal:
            self.stories.reveal(story_list.creator.unique_id or story_list.creator.user_id)

    @on(StoryResolved)
    def _resolved(self, message: StoryResolved) -> None:
        message.stop()
        self.stories.add_story(message.story)
        self._mark_archived([message.story])
        self.input_pane.set_status(f"found {safe_line(message.query, 60)}")

    @on(LookupRefused)
    def _refused(self, message: LookupRefused) -> None:
        message.stop()
        self.stories.show_refusal(message.query, message.reason)
        self.input_pane.set_status(safe_line(message.reason), error=True)

    def _mark_archived(self, stories: Sequence[Story]) -> None:
        """Mark the listed stories already in the archive (✓ in the stories pane)."""
        manager = self.tikget.manager
        if manager is None or not stories:
            return
        from tikget_tui.archive.records import Records
        from tikget_tui.models import Kind

        saved: dict[str, Path] = {}
        for story in stories:
            for variant in ("photo" if story.kind == Kind.PHOTO else "video", "audio"):
                entry = Records(manager.store).get(story.id, variant)
                if entry is not None and not entry.missing_files():
                    saved[story.id] = entry.path
                    break
        self.stories.mark_saved(saved)

    # -- failures of any worker ----------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()
        if event.state != WorkerState.ERROR:
            return
        self.task_failed(event.worker.name or "a task", event.worker.error)

    def _manager_or_say(self) -> Any:
        """The download manager, or None after saying on the message line that it is still
        starting (a key pressed right after the first frame)."""
        manager = self.tikget.manager
        if manager is None:
            self.notify("the download queue is still starting; try again in a moment",
                        severity="warning", markup=False)
        return manager

    def task_failed(self, what: str, error: BaseException | None) -> None:
        """A worker or background task failed: one line on the message line."""
        line = error_line(error) if error is not None else "something failed"
        self.notify(f"{what}: {line}", severity="error", markup=False)

    # -- downloads -----------------------------------------------------------------

    @on(StoriesTable.DownloadRequested)
    def _download(self, message: StoriesTable.DownloadRequested) -> None:
        message.stop()
        manager = self._manager_or_say()
        if manager is None:
            return
        audio = self.audio_only
        default_note = self.tikget.settings.default_note
        stories = list(message.stories)
        notes = dict(message.notes)

        async def enqueue() -> None:
            from tikget_tui.downloads.events import Enqueued

            new = queued_before = 0
            saved: list[str] = []
            copied: list[str] = []
            silent: list[str] = []
            for story in stories:
                if audio and not has_sound_to_save(story):
                    silent.append(safe_line(story.caption, 30) or story.id)
                    continue
                job = await manager.enqueue(story, audio=audio,
                                            note=notes.get(story.id, default_note))
                self.queue.job_changed(job, [j.id for j in manager.jobs()])
                how = manager.enqueued_as(job.id)
                if how == Enqueued.COPIED:
                    copied.append(job.reason)
                elif how == Enqueued.ALREADY_SAVED:
                    saved.append(job.final_path.name if job.final_path else story.id)
                elif how == Enqueued.ACTIVE:
                    queued_before += 1
                else:
                    new += 1
                    self._batch[job.id] = None
            self.notify(enqueue_summary(new, queued_before, saved, silent, audio, copied),
                        severity="warning" if silent and not new else "information",
                        markup=False)

        self.run_worker(enqueue(), group="enqueue", name="queue the download",
                        exit_on_error=False)

    @on(StoriesTable.NoteRequested)
    def _note(self, message: StoriesTable.NoteRequested) -> None:
        message.stop()
        ids = message.story_ids
        current = self.stories.notes.get(ids[0], "") if len(ids) == 1 else ""

        def done(note: str | None) -> None:
            if note is None:
                return
            self.stories.set_note(ids, note)
            self.notify("note cleared" if not note else
                        f"note kept for {len(ids)} {'story' if len(ids) == 1 else 'stories'}",
                        markup=False)

        from tikget_tui.ui.screens.note import NoteScreen, story_line

        named = [story_line(s.creator.handle, s.caption, s.created_at)
                 for s in (self.stories.stories.get(i) for i in ids) if s is not None]
        self.app.push_screen(NoteScreen(len(ids), current, named), done)

    @on(StoriesTable.StoryExpired)
    def _expired(self, message: StoriesTable.StoryExpired) -> None:
        message.stop()
        story: Story = message.story
        self.notify(f"expired: {safe_line(story.creator.handle)} "
                    f"{safe_line(story.caption, 50)}", severity="warning", markup=False)

    @on(QueueTable.JobAction)
    def _job_action(self, message: QueueTable.JobAction) -> None:
        message.stop()
        self.run_job_action(message.action, message.job_id)

    @on(QueueTable.ClearFinished)
    def _clear_finished(self, message: QueueTable.ClearFinished) -> None:
        message.stop()
        manager = self._manager_or_say()
        if manager is None:
            return
        gone = manager.clear_finished()
        for job_id in gone:
            self._job_states.pop(job_id, None)
        self.queue.set_jobs(manager.jobs())
        self.notify(f"cleared {len(gone)} finished row(s) from the queue" if gone else
                    "no done, cancelled or expired row to clear", markup=False)

    def run_job_action(self, action: str, job_id: int) -> None:
        """Pause, resume, cancel, retry or verify again (the queue's keys; the library's v)."""
        manager = self._manager_or_say()
        if manager is None:
            return
        job = manager.job(job_id)
        if job is None:
            return
        refusal = job_action_refusal(action, job)
        if refusal:
            self.notify(refusal, severity="warning", markup=False)
            return
        name = job_name(job)
        if action == "reverify":
            self._reverifying.add(job_id)
            self.input_pane.set_status(f"verifying {name} again…")

        async def act() -> None:
            changed = await getattr(manager, action)(job_id)
            self.queue.job_changed(changed, [j.id for j in manager.jobs()])
            done = {"pause": f"paused {name}", "resume": f"resumed {name}",
                    "cancel": f"cancelled {name}; its partial file was removed",
                    "retry": f"trying {name} again"}.get(action)
            if done:
                self.notify(done, markup=False)
            if action == "reverify":
                self._show_report(changed)

        names = {"reverify": "verify again"}
        self.run_worker(act(), group="job", name=names.get(action, action),
                        exit_on_error=False)

    @on(QueueTable.JobHighlighted)
    def _job_highlighted(self, message: QueueTable.JobHighlighted) -> None:
        message.stop()
        self._show_report(message.job)

    def _show_report(self, job: Any) -> None:
        self.report.show(job, self.tikget.load_report(job))

    def show_library_report(self, job: Any, report: Any, item: Any) -> None:
        """The library's Enter: the item's report (with its frames); narrow: on its tab."""
        self.report.show(job, report, item=item)
        if not (self.has_class("-wide") and self.has_class("-tall")):
            # focus moves first (not deferred): were the library hidden with the focus in
            # it, Textual would hand the focus to the first input on the screen
            self.set_focus(self.report)
            self.action_pane("report")

    # -- core events ---------------------------------------------------------------

    @on(CoreReady)
    def _core_ready(self, message: CoreReady) -> None:
        message.stop()
        from tikget_tui.store import ACTIVE_STATES

        manager = self.tikget.manager
        if manager is None:
            return
        jobs = manager.jobs()
        self._job_states = {job.id: str(job.state) for job in jobs}
        try:
            self.queue.set_jobs(jobs)
        except Exception as exc:  # no restored row, whatever it holds, stops the app
            self.queue.set_jobs([])
            self.notify(f"the saved queue could not be shown: {error_line(exc)}; downloads "
                        "still run (tikget audit lists the archive)", severity="error",
                        markup=False)
        active = [j for j in jobs if j.state in ACTIVE_STATES]
        for job in active:
            self._batch[job.id] = None
        if active:
            self.notify(f"resuming {len(active)} download(s) from last time", markup=False)
        self._mark_archived(list(self.stories.stories.values()))
        self.library.changed()
        app = self.tikget
        if app.watcher is not None:
            watched = manager.store.watch_list()
            self.stories.set_watching(watched)
            self._show_known_stories(manager, watched)
            app.start_watching()
        self.show_timer_line()
        self.set_interval(60, self.show_timer_line)

    def show_timer_line(self) -> None:
        """The stories pane's subtitle: when a timer (`tikget watch install`) polled last
        and runs next, from the state database ('' when no timer ever ran)."""
        from tikget_tui.store import StoreError
        from tikget_tui.watch import timer_line

        manager = self.tikget.manager
        if manager is None:
            return
        try:
            self._timer_line = timer_line(manager.store.watch_runs(20), self.tikget.clock.now())
        except StoreError:
            return
        self._show_audio()

    def _show_known_stories(self, manager: Any, watched: Sequence[Any]) -> None:
        """Watched creators show their last known stories at once (from the queue's jobs,
        marked with when they were listed), not only a header until the next poll."""
        from tikget_tui.models import StoryList
        from tikget_tui.ui.widgets.stories_table import group_key

        now = self.tikget.clock.now()
        for entry in watched:
            group = self.stories.groups.get(group_key(entry.username))
            if group is None or group.creator is not None or group.refused:
                continue  # already listed in this run, or refused
            known = [s for s in manager.known_stories(entry.username) if not s.is_expired(now)]
            if known:
                self.stories.show_known(StoryList(creator=known[-1].creator,
                                                  stories=tuple(known)), entry.last_poll_at)
                self._mark_archived(known)

    # -- the watch list --------------------------------------------------------------

    @on(WatchPolled)
    def watchlist_poll_shown(self, message: WatchPolled) -> None:
        message.stop()
        result = message.result
        manager = self.tikget.manager
        entry = manager.store.watch_get(result.username) if manager is not None else None
        self.stories.apply_poll(result, entry)
        if result.ok:
            self._mark_archived(list(result.stories))
        if entry is not None and entry.paused and result.paused:
            self.notify(f"@{safe_line(result.username, 60)} is no longer polled: "
                        f"{safe_line(result.error or 'its polls failed', 200)}; w on it "
                        "resumes it", severity="warning", markup=False)
        new = len(result.new_jobs)
        if new:
            self.notify(f"@{safe_line(result.username, 60)}: {new} new "
                        f"{'story' if new == 1 else 'stories'} queued (watch list)",
                        markup=False)

    @on(StoriesTable.WatchRequested)
    def _watch_requested(self, message: StoriesTable.WatchRequested) -> None:
        message.stop()
        from tikget_tui.store import StoreError

        app = self.tikget
        manager, watcher = app.manager, app.watcher
        name = safe_line(message.username, 60)
        if manager is None or watcher is None:
            self.notify("the watch list starts with the download queue; try again in a moment",
                        severity="warning", markup=False)
            return
        try:
            if message.watch:
                entry = manager.store.watch_add(message.username)
            else:
                manager.store.watch_remove(message.username)
                entry = None
        except (StoreError, ValueError) as exc:
            self.notify(f"the watch list could not be changed: {error_line(exc)}",
                        severity="error", markup=False)
            return
        self.stories.watchlist_changed(message.username, entry)
        if entry is None:
            self.notify(f"stopped watching @{name}", markup=False)
            return
        watcher.wake()
        now = app.clock.now()
        when = ("in a moment" if entry.next_poll_at is None or entry.next_poll_at <= now
                else f"in {format_wait((entry.next_poll_at - now).total_seconds())}")
        self.notify(f"watching @{name}: next poll {when}; new stories are saved "
                    "automatically before they expire", markup=False)

    @on(CoreFailed)
    def _core_failed(self, message: CoreFailed) -> None:
        message.stop()
        self.notify(message.reason, severity="error", markup=False)

    @on(CoreEvent)
    def _core_event(self, message: CoreEvent) -> None:
        message.stop()
        from tikget_tui.downloads.events import JobChanged, Progress

        event = message.event
        if isinstance(event, Progress):
            self.queue.progress(event.job_id, event.done, event.total, event.speed, event.eta)
        elif isinstance(event, JobChanged):
            self._job_changed(event.job)

    def _job_changed(self, job: Job) -> None:
        manager = self.tikget.manager
        order = [j.id for j in manager.jobs()] if manager is not None else None
        self.queue.job_changed(job, order)
        state, before = str(job.state), self._job_states.get(job.id)
        self._job_states[job.id] = state
        shown = self.report.job
        if (shown is not None and shown.id == job.id) or (shown is None and state == "done"):
            self._show_report(job)
        if state == before:
            return
        if state in FINISHED:
            self.library.changed()
        if state == "done" and job.final_path is not None:
            self.stories.mark_saved({job.story.id: job.final_path})
        self._follow_batch(job, state)

    def _follow_batch(self, job: Job, state: str) -> None:
        """One summary for a batch of downloads, not one notice per file: the message line
        counts the finished ones and says the outcome once the last one ends."""
        if job.id in self._reverifying:
            if state in FINISHED:
                self._reverifying.discard(job.id)
                result = job.reason.removeprefix("verified again: ") or job.verdict or state
                self.notify(f"verified {job_name(job)} again: {safe_line(result, 300)}",
                            severity="information" if state == "done" else "error",
                            markup=False)
            return
        if state in FINISHED:
            if job.id not in self._batch:
                return  # e.g. 'already saved' records
            self._batch[job.id] = f"{state}:{job.verdict or ''}"
        elif state in ("queued", "downloading", "converting", "verifying"):
            self._batch[job.id] = None
            return
        # else paused: parked, not waited for (pausing the last one ends the batch too)
        waiting = [jid for jid, outcome in self._batch.items()
                   if outcome is None and self._job_states.get(jid) != "paused"]
        paused = sum(1 for jid, outcome in self._batch.items()
                     if outcome is None and self._job_states.get(jid) == "paused")
        outcomes = [o for o in self._batch.values() if o is not None]
        if not outcomes:
            return
        parked = f", {paused} paused" if paused else ""
        if waiting:
            self.input_pane.set_status(
                f"{len(outcomes)} of {len(outcomes) + len(waiting) + paused} finished"
                f"{parked}…")
            return
        line, bad = batch_summary(outcomes)
        if paused:  # parked, not forgotten: they are in the next summary
            line += f"; {paused} paused (u resumes)"
        if self._download_folder_missing():
            folder = self.tikget.settings.download_dir
            line += f"; the download folder {folder} is missing: press o to choose one"
        self.notify(line, severity="error" if bad else "information", markup=False)
        self._batch = {jid: None for jid, outcome in self._batch.items()
                       if outcome is None}  # paused ones stay in the next summary

    def _download_folder_missing(self) -> bool:
        folder = self.tikget.settings.download_dir
        return self.tikget.settings.download_dir_chosen and not folder.is_dir()


FINISHED = ("done", "failed", "expired", "cancelled")


def job_name(job: Any) -> str:
    """'@creator “caption”' for one-line messages."""
    caption = safe_line(job.story.caption, 30)
    who = safe_line(job.story.creator.handle, 40)
    return f"{who} “{caption}”" if caption else f"{who} {job.story.id}"


def has_sound_to_save(story: Story) -> bool:
    """Whether MP3 mode can save anything of this story (said before it is queued)."""
    from tikget_tui.models import Kind

    if story.has_sound is False:
        return False
    if story.kind == Kind.PHOTO:
        return story.sound is not None
    return True  # a video's own sound (its post page gives a video link the list left out)


def enqueue_summary(new: int, queued_before: int, saved: list[str], silent: list[str],
                    audio: bool, copied: Sequence[str] = ()) -> str:
    """One line for what pressing d/a did: new downloads, already queued, copied from
    another folder (``copied``: each copy's reason, 'copied from DIR (hard link, …)'),
    already saved, skipped."""
    parts = []
    if new:
        parts.append(f"queued {new} {'download' if new == 1 else 'downloads'}"
                     + (" as MP3" if audio else ""))
    if queued_before:
        parts.append(f"{queued_before} already in the queue")
    if copied:
        reasons = {safe_line(r, 200) for r in copied}
        how = reasons.pop() if len(reasons) == 1 else "copied from other folders"
        parts.append(f"{len(copied)} {how}")
    if saved:
        names = ", ".join(safe_line(n, 60) for n in saved[:2])
        more = f" and {len(saved) - 2} more" if len(saved) > 2 else ""
        parts.append(f"{len(saved)} already saved ({names}{more})")
    if silent:
        parts.append(f"{len(silent)} skipped: no sound to save as MP3 "
                     f"({', '.join(silent[:2])}{' …' if len(silent) > 2 else ''})")
    return "; ".join(parts) or "nothing new to queue"


def batch_summary(outcomes: list[str]) -> tuple[str, bool]:
    """'7 saved and verified', '5 saved and verified, 2 failed: see the queue (3)'."""
    ok = sum(1 for o in outcomes if o == "done:ok")
    warn = sum(1 for o in outcomes if o.startswith("done:") and o != "done:ok")
    failed = sum(1 for o in outcomes if o.startswith("failed:"))
    expired = sum(1 for o in outcomes if o.startswith("expired:"))
    cancelled = sum(1 for o in outcomes if o.startswith("cancelled:"))
    parts = []
    if ok:
        parts.append(f"{ok} saved and verified")
    if warn:
        parts.append(f"{warn} saved with verification warnings")
    if failed:
        parts.append(f"{failed} failed")
    if expired:
        parts.append(f"{expired} expired before they were saved")
    if cancelled:
        parts.append(f"{cancelled} cancelled")
    line = ", ".join(parts) or "nothing finished"
    bad = bool(failed or expired or warn)
    if bad:
        line += ": see the queue (3)"
    return line, bool(failed or expired)


def job_action_refusal(action: str, job: Any) -> str:
    """Why a queue key does nothing for this job ('' when it applies)."""
    from tikget_tui.store import JobState

    state = job.state
    allowed = {
        "pause": {JobState.QUEUED, JobState.DOWNLOADING, JobState.CONVERTING,
                  JobState.VERIFYING},
        "resume": {JobState.PAUSED},
        "cancel": {JobState.QUEUED, JobState.PAUSED, JobState.FAILED, JobState.DOWNLOADING,
                   JobState.CONVERTING, JobState.VERIFYING},
        "retry": {JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED},
        "reverify": {JobState.DONE, JobState.FAILED},
    }[action]
    if state in allowed and (action != "reverify" or job.files):
        return ""
    hint = {
        "pause": "only a queued or running download can be paused",
        "resume": "only a paused download can be resumed (u)",
        "cancel": "only an unfinished download can be cancelled",
        "retry": "only a failed, expired or cancelled download can be tried again",
        "reverify": "only a saved file can be verified again",
    }[action]
    return f"this download is {state}: {hint}"
