"""The main screen's downloads: queueing stories, notes, and the actions on the queue.

d/a in the stories pane queue downloads (one line says what it did); n keeps a note;
p/u/x/t/v in the queue (and v in the library) act on one job; c clears finished rows.
The report pane follows the queue's highlighted row and the library's Enter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on

from tikget_tui.ui.download_batch import (
    enqueue_summary,
    has_sound_to_save,
    job_action_refusal,
    job_name,
)
from tikget_tui.ui.screens.panes import PaneScreen
from tikget_tui.ui.text import safe_line
from tikget_tui.ui.widgets.queue_table import QueueTable
from tikget_tui.ui.widgets.stories_table import StoriesTable

if TYPE_CHECKING:
    from tikget_tui.models import Story


class JobActions(PaneScreen):
    """Queue downloads and act on them."""

    def action_toggle_audio(self) -> None:
        self.audio_only = not self.audio_only
        self._show_audio()
        self.notify("next downloads: audio only (MP3)" if self.audio_only
                    else "next downloads: video/photos as posted", markup=False)

    @on(StoriesTable.DownloadRequested)
    def _download(self, message: StoriesTable.DownloadRequested) -> None:
        message.stop()
        manager = self._manager_or_say()
        if manager is None:
            return
        audio = self.audio_only
        default_note = self.host.settings.default_note
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
                    self.download_batch.queued(job.id)
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
        self.download_batch.forget(gone)
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
            self.download_batch.reverifying.add(job_id)
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

    def show_library_report(self, job: Any, report: Any, item: Any) -> None:
        """The library's Enter: the item's report (with its frames); narrow: on its tab."""
        self.report.show(job, report, item=item)
        if not (self.has_class("-wide") and self.has_class("-tall")):
            # focus moves first (not deferred): were the library hidden with the focus in
            # it, Textual would hand the focus to the first input on the screen
            self.set_focus(self.report)
            self.action_pane("report")
