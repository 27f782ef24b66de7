"""The main screen's side of the core: what the download queue and the watch list tell it.

The app posts ``CoreReady``, ``CoreFailed``, ``CoreEvent`` and ``WatchPolled`` to the
screen (``bubble=False``; each handler stops its message). A job's change updates the
queue, the report, the library and the ✓ marks, and feeds the batch summary
(:class:`~tikget_tui.ui.download_batch.DownloadBatch`). w in the stories pane watches
or unwatches a creator.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on

from tikget_tui.ui.download_batch import FINISHED
from tikget_tui.ui.messages import CoreEvent, CoreFailed, CoreReady, WatchPolled
from tikget_tui.ui.screens.panes import PaneScreen
from tikget_tui.ui.text import error_line, safe_line
from tikget_tui.ui.widgets.stories_table import StoriesTable, format_wait

if TYPE_CHECKING:
    from tikget_tui.store import Job


class CoreEvents(PaneScreen):
    """Show the queue's and the watch list's news."""

    @on(CoreReady)
    def _core_ready(self, message: CoreReady) -> None:
        message.stop()
        from tikget_tui.store import ACTIVE_STATES

        manager = self.host.manager
        if manager is None:
            return
        jobs = manager.jobs()
        active = [j for j in jobs if j.state in ACTIVE_STATES]
        self.download_batch.restored({job.id: str(job.state) for job in jobs},
                                     [j.id for j in active])
        try:
            self.queue.set_jobs(jobs)
        except Exception as exc:  # no restored row, whatever it holds, stops the app
            self.queue.set_jobs([])
            self.notify(f"the saved queue could not be shown: {error_line(exc)}; downloads "
                        "still run (tikget audit lists the archive)", severity="error",
                        markup=False)
        if active:
            self.notify(f"resuming {len(active)} download(s) from last time", markup=False)
        self._mark_archived(list(self.stories.stories.values()))
        self.library.changed()
        host = self.host
        if host.watcher is not None:
            watched = manager.store.watch_list()
            self.stories.set_watching(watched)
            self._show_known_stories(manager, watched)
            host.start_watching()
        self.show_timer_line()
        self.set_interval(60, self.show_timer_line)

    def show_timer_line(self) -> None:
        """The stories pane's subtitle: when a timer (`tikget watch install`) polled last
        and runs next, from the state database ('' when no timer ever ran)."""
        from tikget_tui.store import StoreError
        from tikget_tui.watch import timer_line

        manager = self.host.manager
        if manager is None:
            return
        try:
            self._timer_line = timer_line(manager.store.watch_runs(20), self.host.clock.now())
        except StoreError:
            return
        self._show_audio()

    def _show_known_stories(self, manager: Any, watched: Sequence[Any]) -> None:
        """Watched creators show their last known stories at once (from the queue's jobs,
        marked with when they were listed), not only a header until the next poll."""
        from tikget_tui.models import StoryList
        from tikget_tui.ui.widgets.stories_table import group_key

        now = self.host.clock.now()
        for entry in watched:
            group = self.stories.groups.get(group_key(entry.username))
            if group is None or group.creator is not None or group.refused:
                continue  # already listed in this run, or refused
            known = [s for s in manager.known_stories(entry.username) if not s.is_expired(now)]
            if known:
                self.stories.show_known(StoryList(creator=known[-1].creator,
                                                  stories=tuple(known)), entry.last_poll_at)
                self._mark_archived(known)

    @on(CoreFailed)
    def _core_failed(self, message: CoreFailed) -> None:
        message.stop()
        self.notify(message.reason, severity="error", markup=False)

    # -- the download queue ----------------------------------------------------------

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
        manager = self.host.manager
        order = [j.id for j in manager.jobs()] if manager is not None else None
        self.queue.job_changed(job, order)
        state = str(job.state)
        before = self.download_batch.seen(job.id, state)
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
        said = self.download_batch.follow(job, state, self._download_folder_missing)
        if said is None:
            return
        if said.notice:
            self.notify(said.text, severity=said.severity, markup=False)
        else:
            self.input_pane.set_status(said.text)

    def _download_folder_missing(self) -> Path | None:
        """The download folder, when the user chose it and it is gone now."""
        settings = self.host.settings
        folder = settings.download_dir
        return folder if settings.download_dir_chosen and not folder.is_dir() else None

    # -- the watch list --------------------------------------------------------------

    @on(WatchPolled)
    def watchlist_poll_shown(self, message: WatchPolled) -> None:
        message.stop()
        result = message.result
        manager = self.host.manager
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

        host = self.host
        manager, watcher = host.manager, host.watcher
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
        now = host.clock.now()
        when = ("in a moment" if entry.next_poll_at is None or entry.next_poll_at <= now
                else f"in {format_wait((entry.next_poll_at - now).total_seconds())}")
        self.notify(f"watching @{name}: next poll {when}; new stories are saved "
                    "automatically before they expire", markup=False)
