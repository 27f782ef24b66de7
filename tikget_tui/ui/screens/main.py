"""The main screen: input, active stories, download queue and verification report.

At 80x24 (anything narrower than 110 columns or shorter than 34 rows) the
input stays on top and the other panes share the space below as tabs; from
120x40 up all four are visible in a grid. Number keys 1-4 and Tab switch
panes. All slow work runs in workers; one ``Worker.StateChanged`` handler
turns any failure into a one-line error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Tab, Tabs
from textual.worker import Worker, WorkerState

from tikget_tui import links
from tikget_tui.models import Story
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
from tikget_tui.ui.screens.help import HelpScreen
from tikget_tui.ui.screens.note import NoteScreen
from tikget_tui.ui.text import safe_line
from tikget_tui.ui.widgets.input_pane import InputPane
from tikget_tui.ui.widgets.queue_table import QueueTable
from tikget_tui.ui.widgets.report_view import ReportView
from tikget_tui.ui.widgets.stories_table import StoriesTable, format_wait

if TYPE_CHECKING:
    from tikget_tui.ui.app import TikGetApp

PANES = ("input", "stories", "queue", "report")
TITLES = {"input": "1 Input", "stories": "2 Active stories", "queue": "3 Download queue",
          "report": "4 Verification report"}


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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._job_states: dict[int, str] = {}
        self.lookups_started = 0
        """How many lookups this screen has started (tests wait on it)."""

    @property
    def tikget(self) -> TikGetApp:
        return self.app  # type: ignore[return-value]

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.tikget
        yield Header(icon="▶")
        tabs = Tabs(*(Tab(TITLES[p], id=f"tab-{p}") for p in PANES), id="pane-bar")
        tabs.can_focus = False
        yield tabs
        with Container(id="panes"):
            pane = InputPane(history_file=app.settings.data_dir / "input-history.txt",
                             id="pane-input", classes="pane")
            pane.border_title = TITLES["input"]
            yield pane
            with Vertical(id="pane-report", classes="pane") as report:
                report.border_title = TITLES["report"]
                yield ReportView(id="report")
            with Vertical(id="pane-stories", classes="pane shown") as stories:
                stories.border_title = TITLES["stories"]
                yield StoriesTable(app.clock, id="stories")
            with Vertical(id="pane-queue", classes="pane") as queue:
                queue.border_title = TITLES["queue"]
                yield QueueTable(id="queue")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.audio_only = self.tikget.settings.audio_mp3
        self._show_audio()
        self.query_one("#query").focus()
        if self.tikget.demo_origin:
            self.input_pane.set_status(
                "demo service: try @mika.travels, @studio.photos, @quiet.creator, "
                "@secret.garden, @weird.names or @nobody")

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

    def _pane_widget(self, pane: str) -> Widget:
        return {"input": self.input_pane.input, "stories": self.stories,
                "queue": self.queue, "report": self.report}[pane]

    def watch_active_pane(self, pane: str) -> None:
        for name in PANES:
            self.query_one(f"#pane-{name}").set_class(name == pane, "active")
        if pane != "input":
            self.shown_pane = pane
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{pane}":
            tabs.active = f"tab-{pane}"

    def watch_shown_pane(self, pane: str) -> None:
        for name in PANES[1:]:
            self.query_one(f"#pane-{name}").set_class(name == pane, "shown")

    def on_descendant_focus(self, event: Any) -> None:
        node: Any = event.widget
        while node is not None and node is not self:
            if node.id and node.id.startswith("pane-") and node.id[5:] in PANES:
                self.active_pane = node.id[5:]
                return
            node = node.parent

    @on(Tabs.TabActivated, "#pane-bar")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            pane = event.tab.id.removeprefix("tab-")
            if pane != self.active_pane:
                self.action_pane(pane)

    # -- actions -------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.active_pane = pane
        self._pane_widget(pane).focus()

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
        pane.border_subtitle = "MP3: on" if self.audio_only else "MP3: off"

    def action_folder(self) -> None:
        path = str(self.tikget.settings.download_dir)
        self.app.copy_to_clipboard(path)
        self.notify(f"download folder: {path} (path copied to the clipboard)",
                    title="Folder", markup=False, timeout=8)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.tikget.user_keymap))

    async def action_quit(self) -> None:
        await self.tikget.action_quit()

    async def run_spec(self, spec: keymap.ActionSpec) -> None:
        """Run an action from the command palette, on the widget that owns it."""
        target: Any = {"screen": self, "stories": self.stories, "queue": self.queue}[spec.scope]
        await self.app.run_action(spec.action, default_namespace=target)

    # -- lookups -------------------------------------------------------------------

    @on(InputPane.LookupRequested)
    def _lookup_requested(self, event: InputPane.LookupRequested) -> None:
        try:
            parsed = links.parse_detailed(event.text, self.tikget.settings.service)
        except links.ParseError as exc:
            self.input_pane.set_status(str(exc), error=True)
            return
        targets = list(parsed.targets)
        if parsed.ignored:
            self.notify(parsed.ignored_note(), severity="warning", markup=False)
        self.input_pane.accepted()
        shown = ", ".join(safe_line(t.display, 40) for t in targets[:3])
        more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
        self.input_pane.set_status(f"looking up {shown}{more}…")
        for target in targets:
            self._start_lookup(target, target.display)
        if self.active_pane == "input":
            self.shown_pane = "stories"

    def _start_lookup(self, target: links.Target, query: str) -> None:
        self.lookups_started += 1
        if isinstance(target, links.UserTarget) and target.username:
            self.stories.expect(target.username)
        self.run_worker(self._lookup(target, query), group="lookup",
                        name=f"look up {query}", exit_on_error=False)

    async def _lookup(self, target: links.Target, query: str) -> None:
        from tikget_tui.tiktok.errors import (
            LoginRequired,
            PostUnavailable,
            PrivateAccount,
            PrivatePost,
            RegionLocked,
            UserNotFound,
        )

        refusals = (PrivateAccount, UserNotFound, PostUnavailable, PrivatePost, RegionLocked,
                    LoginRequired)
        client = await self.tikget.ready_client()
        try:
            if isinstance(target, links.UserTarget):
                self.post_message(StoriesListed(await client.lookup_stories(target), query))
            else:
                self.post_message(StoryResolved(await client.resolve(target), query))
        except refusals as exc:
            name = (target.username or target.user_id or query) if isinstance(
                target, links.UserTarget) else (getattr(target, "username", None) or query)
            self.post_message(LookupRefused(name or query, exc.reason))

    @on(StoriesListed)
    def _listed(self, message: StoriesListed) -> None:
        story_list = message.story_list
        self.stories.show_list(story_list)
        n = len(story_list.stories)
        who = safe_line(story_list.creator.handle or message.query, 60)
        if n:
            self.input_pane.set_status(
                f"{who}: {n} active {'story' if n == 1 else 'stories'} "
                "(space selects, d downloads, a takes all)")
            if self.active_pane == "input" and not self.input_pane.input.value:
                self.stories.move_to(story_list.stories[0].id)
        else:
            self.input_pane.set_status(
                f"{who}: {safe_line(story_list.reason) or 'no active story right now'}")

    @on(StoryResolved)
    def _resolved(self, message: StoryResolved) -> None:
        self.stories.add_story(message.story)
        self.input_pane.set_status(f"found {safe_line(message.query, 60)}")

    @on(LookupRefused)
    def _refused(self, message: LookupRefused) -> None:
        self.stories.show_refusal(message.query, message.reason)
        self.input_pane.set_status(safe_line(message.reason), error=True)

    # -- failures of any worker ----------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        self.task_failed(event.worker.name or "a task", event.worker.error,
                         lookup=event.worker.group == "lookup")

    def task_failed(self, what: str, error: BaseException | None, *,
                    lookup: bool = False) -> None:
        """A worker or background task failed: one line in a toast."""
        line = error_line(error) if error is not None else "something failed"
        self.notify(f"{what}: {line}", severity="error", markup=False, timeout=10)
        if lookup:
            self.input_pane.set_status(f"{what}: {line}", error=True)

    # -- downloads -----------------------------------------------------------------

    @on(StoriesTable.DownloadRequested)
    def _download(self, message: StoriesTable.DownloadRequested) -> None:
        manager = self.tikget.manager
        if manager is None:
            self.notify("the download queue is still starting; try again in a moment",
                        severity="warning", markup=False)
            return
        audio = self.audio_only
        default_note = self.tikget.settings.default_note
        stories = list(message.stories)
        notes = dict(message.notes)

        async def enqueue() -> None:
            queued = 0
            for story in stories:
                job = await manager.enqueue(story, audio=audio,
                                            note=notes.get(story.id, default_note))
                self.queue.job_changed(job, [j.id for j in manager.jobs()])
                if str(job.state) == "done" and job.reason:
                    self.notify(safe_line(job.reason), markup=False)
                else:
                    queued += 1
            if queued:
                self.notify(f"queued {queued} {'download' if queued == 1 else 'downloads'}"
                            + (" as MP3" if audio else ""), markup=False)

        self.run_worker(enqueue(), group="enqueue", name="queue the download",
                        exit_on_error=False)

    @on(StoriesTable.NoteRequested)
    def _note(self, message: StoriesTable.NoteRequested) -> None:
        ids = message.story_ids
        current = self.stories.notes.get(ids[0], "") if len(ids) == 1 else ""

        def done(note: str | None) -> None:
            if note is None:
                return
            self.stories.set_note(ids, note)
            self.notify("note cleared" if not note else
                        f"note kept for {len(ids)} {'story' if len(ids) == 1 else 'stories'}",
                        markup=False)

        self.app.push_screen(NoteScreen(len(ids), current), done)

    @on(StoriesTable.StoryExpired)
    def _expired(self, message: StoriesTable.StoryExpired) -> None:
        story: Story = message.story
        self.notify(f"expired: {safe_line(story.creator.handle)} "
                    f"{safe_line(story.caption, 50)}", title="Story expired",
                    severity="warning", markup=False)

    @on(QueueTable.JobAction)
    def _job_action(self, message: QueueTable.JobAction) -> None:
        manager = self.tikget.manager
        if manager is None:
            return
        action, job_id = message.action, message.job_id

        async def act() -> None:
            job = await getattr(manager, action)(job_id)
            self.queue.job_changed(job, [j.id for j in manager.jobs()])
            if action == "reverify":
                self._show_report(job)

        names = {"reverify": "verify again"}
        self.run_worker(act(), group="job", name=names.get(action, action),
                        exit_on_error=False)

    @on(QueueTable.JobHighlighted)
    def _job_highlighted(self, message: QueueTable.JobHighlighted) -> None:
        self._show_report(message.job)

    def _show_report(self, job: Any) -> None:
        self.report.show(job, self.tikget.load_report(job))

    # -- core events ---------------------------------------------------------------

    @on(CoreReady)
    def _core_ready(self) -> None:
        manager = self.tikget.manager
        if manager is None:
            return
        jobs = manager.jobs()
        self._job_states = {job.id: str(job.state) for job in jobs}
        self.queue.set_jobs(jobs)
        active = [j for j in jobs if str(j.state) in ("queued", "downloading", "converting",
                                                     "verifying")]
        if active:
            self.notify(f"resuming {len(active)} download(s) from last time", markup=False)
        app = self.tikget
        if app.watcher is not None:
            self.stories.set_watching(manager.store.watch_list())
            app.start_watching()

    # -- the watch list --------------------------------------------------------------

    @on(WatchPolled)
    def _watch_polled(self, message: WatchPolled) -> None:
        result = message.result
        manager = self.tikget.manager
        entry = manager.store.watch_get(result.username) if manager is not None else None
        self.stories.apply_poll(result, entry)
        new = len(result.new_jobs)
        if new:
            self.notify(f"@{safe_line(result.username, 60)}: {new} new "
                        f"{'story' if new == 1 else 'stories'} queued (watch list)",
                        title="Watch list", markup=False)

    @on(StoriesTable.WatchRequested)
    def _watch_requested(self, message: StoriesTable.WatchRequested) -> None:
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
                        severity="error", markup=False, timeout=10)
            return
        self.stories.watch_changed(message.username, entry)
        if entry is None:
            self.notify(f"stopped watching @{name}", title="Watch list", markup=False)
            return
        watcher.wake()
        now = app.clock.now()
        when = ("in a moment" if entry.next_poll_at is None or entry.next_poll_at <= now
                else f"in {format_wait((entry.next_poll_at - now).total_seconds())}")
        self.notify(f"watching @{name}: next poll {when}; new stories are saved "
                    "automatically before they expire", title="Watch list", markup=False)

    @on(CoreFailed)
    def _core_failed(self, message: CoreFailed) -> None:
        self.notify(message.reason, title="Downloads unavailable", severity="error",
                    markup=False, timeout=15)
        self.input_pane.set_status(message.reason, error=True)

    @on(CoreEvent)
    def _core_event(self, message: CoreEvent) -> None:
        event = message.event
        kind = type(event).__name__
        if kind == "Progress":
            self.queue.progress(event.job_id, event.done, event.total, event.speed, event.eta)
            return
        if kind != "JobChanged":
            return
        job = event.job
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
        name = f"{safe_line(job.story.creator.handle)} {safe_line(job.story.caption, 40)}"
        if state == "done":
            verdict = f" (verified: {job.verdict})" if job.verdict else ""
            self.notify(f"saved {name}{verdict}", title="Finished", markup=False)
        elif state == "failed":
            self.notify(f"{name}: {safe_line(job.reason)}", title="Failed",
                        severity="error", markup=False, timeout=10)
        elif state == "expired":
            self.notify(f"{name}: {safe_line(job.reason) or 'expired before it was saved'}",
                        title="Expired", severity="warning", markup=False)
