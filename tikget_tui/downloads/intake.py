"""Taking a story into the queue: the archive decides once (already here / copy from there /
download) and this acts on it: a note added to the copy here, a verified copy placed from
another folder, or a queued download."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from tikget_tui.archive import ArchiveEntry, CopyError, combine_notes, sidecar_owners
from tikget_tui.downloads.engine import DownloadError, Engine
from tikget_tui.downloads.events import Enqueued
from tikget_tui.files import naming
from tikget_tui.models import Kind, Story
from tikget_tui.store import Job, JobState, same_folder
from tikget_tui.units import folder_for_people

log = logging.getLogger(__name__)


def variant_of(story: Story, audio: bool) -> str:
    if audio:
        return "audio"
    return "photo" if story.kind == Kind.PHOTO else "video"


class Intake:
    """``enqueue`` (see :meth:`DownloadManager.enqueue` for what the archive means)."""

    def __init__(self, engine: Engine, retry: Callable[[int], Awaitable[Job]],
                 wake: Callable[[], None]) -> None:
        self.engine = engine
        self._retry = retry
        self._wake = wake

    async def enqueue(self, story: Story, *, audio: bool, note: str, again: bool,
                      directory: Path | None) -> tuple[Job, Enqueued]:
        e = self.engine
        variant, target, active = self._asked(story, audio, directory)
        if active is not None:
            return active, Enqueued.ACTIVE
        reason = ""
        if not again:
            earlier = [j for j in e.store.list_jobs([JobState.FAILED, JobState.CANCELLED])
                       if j.story_id == story.id and j.variant == variant and not j.files
                       and same_folder(e.queue.dir_of(j), target)]
            if earlier:  # a failed (or cancelled) attempt: the same job again, never a 2nd row
                e.queue.set(earlier[-1].id, story=story)
                return await self._retry(earlier[-1].id), Enqueued.QUEUED
            decision = e.archive.decide(story.id, variant, target)
            if decision.saved_here is not None:
                return (await self._already_saved(story, variant, audio, note,
                                                  decision.saved_here),
                        Enqueued.ALREADY_SAVED)
            reason = decision.reason
            for entry in decision.copy_from:  # the newest intact copy first
                try:
                    return (await self._copy_saved(story, variant, audio, note, entry, target),
                            Enqueued.COPIED)
                except CopyError as exc:
                    log.warning("not copying %s: %s; downloading it again", entry.path.name, exc)
                    reason = f"{exc}; downloading it again"
                except DownloadError:
                    break  # the folder cannot be used: the queued job will say why
        job = e.queue.add(story, variant=variant, audio=audio,
                          note=note or e.settings.default_note, reason=reason, directory=target)
        self._wake()
        return job, Enqueued.QUEUED

    async def enqueue_replacing(self, story: Story, *, audio: bool, note: str,
                                directory: Path | None) -> tuple[Job, Enqueued]:
        """Download the story again under its copy's own name in ``directory``, replacing
        exactly the files that are there now (by inode)."""
        e = self.engine
        variant, target, active = self._asked(story, audio, directory)
        if active is not None:
            return active, Enqueued.ACTIVE
        here = e.archive.saved_in(story.id, variant, target)
        stamps = e.stamps_of(here.all_files) if here is not None else {}
        reason = (f"downloading {here.path.name} again to replace the failing file"
                  if here is not None else "")
        job = e.store.add_job(story, variant=variant, audio=audio,
                              note=note or e.settings.default_note, reason=reason,
                              directory=target)
        if here is not None:
            job = e.store.update_job(job.id, stem=e.archive.stem_of(here))
            e.replacing[job.id] = stamps
        e.queue.publish(job)
        self._wake()
        return job, Enqueued.QUEUED

    def _asked(self, story: Story, audio: bool,
               directory: Path | None) -> tuple[str, Path, Job | None]:
        """The variant and folder asked for, and the job already saving it there (queued,
        running or paused), if any."""
        variant = variant_of(story, audio)
        target = self.engine.folder(directory)
        return variant, target, self.engine.queue.active_for(story.id, variant, target)

    async def _already_saved(self, story: Story, variant: str, audio: bool, note: str,
                             entry: ArchiveEntry) -> Job:
        """A DONE job for a story saved in the asked folder; a new note is added to it."""
        e = self.engine
        name = entry.path.name
        added = ""
        if note.strip() and combine_notes(entry.note, note) != entry.note:
            try:
                beside = await e.archive.add_note(entry, note)
            except OSError as exc:
                added = f"; the note could not be added ({exc.strerror or exc})"
                log.warning("cannot add the note to %s: %s", entry.path, exc)
            else:
                added = ("; the note was added to its .info.json" if beside else
                         "; the note was added to the archive (its .info.json is missing)")
                log.info("note added to the saved copy %s", entry.path)
        job = e.store.get_job(entry.job_id) if entry.job_id is not None else None
        if job is not None and job.state == JobState.DONE and not added:
            e.queue.uncleared(job.id)  # asked for again: back in the queue, as done
            return e.queue.job(job.id) or job
        if job is not None and job.state == JobState.DONE:
            noted = job.note if "could not" in added else combine_notes(job.note, note)
            return e.queue.set(job.id, note=noted, reason=f"already saved: {name}{added}")
        job = e.store.add_job(
            story, variant=variant, audio=audio, note=combine_notes(entry.note, note),
            state=JobState.DONE, reason=f"already saved: {name}{added}",
            directory=entry.directory,
        )
        job = e.store.update_job(job.id, final_path=entry.path, files=entry.all_files,
                                 verdict=entry.verdict, sha256=entry.sha256)
        return e.queue.publish(job)

    async def _copy_saved(self, story: Story, variant: str, audio: bool, note: str,
                          entry: ArchiveEntry, target: Path) -> Job:
        """A verified copy of ``entry`` in ``target`` as a DONE job. Raises ``CopyError``
        (e.g. the saved files no longer match their sha256) and ``DownloadError`` (the
        folder cannot be used); nothing is left behind then."""
        e = self.engine
        directory = e.download_dir(target)
        # a finished job of this story here whose files are all gone: its name comes back
        # (its old sidecar, describing the same story, is rewritten), as for a download
        stem = e.queue.stem_of_gone_copy(story.id, variant, directory)
        if stem is None:
            stem = naming.build_stem(story, e.settings.filename_template, kind=variant)
            stem = naming.choose_stem(
                directory, stem, story.id, variant=variant,
                taken=e.queue.stems_in(directory, sharing=(story.id, variant)),
                owners=functools.partial(sidecar_owners, directory))
        copy = await e.archive.place_copy(entry, story, variant, directory, stem, note)
        reason = (f"copied from {folder_for_people(entry.directory)} ({copy.how}, "
                  "sha256 verified)")
        try:
            job = e.store.add_job(story, variant=variant, audio=audio, note=copy.entry.note,
                                  state=JobState.DONE, reason=reason, directory=directory)
        except BaseException:
            e.archive.discard_copy(copy)
            raise
        job = e.store.update_job(job.id, final_path=copy.files[0], files=copy.files,
                                 verdict=entry.verdict, sha256=entry.sha256, stem=stem)
        try:
            await e.archive.record_copy(copy, job.id)
        except BaseException:
            e.queue.forget(job.id)
            raise
        return e.queue.publish(job)
