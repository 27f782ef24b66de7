"""The download engine: a persistent, expiring-first queue of jobs run in the caller's loop.

:class:`DownloadManager` owns the workers; the :class:`~tikget_tui.store.Store`
owns the truth. Every state change is written to the store first, then
published as a :class:`JobChanged`; transfers publish rate-limited
:class:`Progress`. See docs/contracts.md ("Downloads and store") for the
public API and the file-safety rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import re
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tikget_tui.archive import copies, sidecar
from tikget_tui.archive.records import ArchiveEntry, CopyCheck, Records
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.downloads import convert
from tikget_tui.downloads.events import (
    CHANGED_REASON,
    MISSING_REASON,
    Enqueued,
    Event,
    JobChanged,
    Progress,
)
from tikget_tui.downloads.transfer import (
    EXTENSIONS,
    SOUND_IDENTITY,
    MediaLimits,
    Opener,
    RateLimiter,
    RetryPolicy,
    Transfer,
    TransferError,
    TransferResult,
    disk_reason,
    finalize,
    image_identity,
    open_part,
    video_identity,
)
from tikget_tui.files import naming, safefile
from tikget_tui.mediatools import MediaTools, ToolNotFound
from tikget_tui.models import AGE_GATED, Codec, Kind, MediaSource, Story
from tikget_tui.store import (
    ACTIVE_STATES,
    FINAL_STATES,
    RUNNING_STATES,
    InstanceLock,
    Job,
    JobState,
    Store,
    same_folder,
)
from tikget_tui.units import folder_for_people

log = logging.getLogger(__name__)

Callback = Callable[[Event], None]
# (urls, DataSizes, identities) of a story's ranked sources for one file
Sources = tuple[Sequence[str], Sequence[int | None], Sequence[str | None]]
_PERSIST_EVERY = 1.0  # seconds between bytes_done writes to the store while transferring
_MAX_SIDECAR = 1024 * 1024  # a sidecar bigger than this is not one of ours: never read


class DownloadError(Exception):
    """A job cannot go on; ``reason`` is the one line shown to the user."""

    def __init__(self, reason: str, state: JobState = JobState.FAILED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state


@dataclass
class _Renditions:
    """Video renditions of one job found to be video-only (kept for the manager's lifetime)."""

    tried: set[str] = field(default_factory=set)  # identities whose file had no audio stream
    note: str = ""  # "the 360p HEVC rendition has no sound; using the 270p H.264 one"
    # (also any other line the done job keeps as its reason: a name taken meanwhile...)
    all_video_only: bool = False  # no listed rendition had sound: the last one was kept


_CODEC_NAMES = {Codec.H264: "H.264", Codec.HEVC: "HEVC", Codec.BYTEVC2: "ByteVC2"}


def _rendition_words(source: MediaSource) -> str:
    """"360p HEVC" (what the listing says about a rendition; no listing text)."""
    short = min(source.width, source.height)
    words = [f"{short}p" if short > 0 else "", _CODEC_NAMES.get(source.codec, "")]
    return " ".join(w for w in words if w)


def _switch_note(silent: MediaSource | None, nxt: MediaSource) -> str:
    """One line: which rendition had no sound and which one is fetched instead."""
    old = _rendition_words(silent) if silent is not None else ""
    new = _rendition_words(nxt)
    first = f"the {old} rendition" if old else "the rendition just saved"
    if nxt.watermarked:
        then = "the watermarked download"
    elif nxt.label == "playAddr":
        then = "the default (playAddr) stream"
    elif not new:
        then = "another rendition"
    elif new == old:
        then = f"another {new} one"
    else:
        then = f"the {new} one"
    return f"{first} has no sound; using {then}"


def _own(path: Path) -> bool:
    """A finished file of ours under ``path`` (not a link, not another user's file)."""
    st = safefile.lstat_or_none(path)
    return st is not None and safefile.is_own(st)


def _regular(path: Path) -> bool:
    """A regular file under ``path`` itself (a link there does not count)."""
    st = safefile.lstat_or_none(path)
    return st is not None and stat.S_ISREG(st.st_mode)


async def _to_thread_finalize(part: Path, final: Path) -> None:
    await asyncio.to_thread(finalize, part, final)


# what the queue's clear key (and, at start, drop_finished_at_start) takes out of the queue:
# final states but failed, which can be tried again
FINISHED_STATES = FINAL_STATES - {JobState.FAILED}


def _variant(story: Story, audio: bool) -> str:
    if audio:
        return "audio"
    return "photo" if story.kind == Kind.PHOTO else "video"


class DownloadManager:
    """Queue, workers and events. Use as ``async with DownloadManager(settings) as m:``."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: Any = None,
        store: Store | None = None,
        clock: Clock = SYSTEM_CLOCK,
        tools: MediaTools | None = None,
        retry: RetryPolicy | None = None,
        lock: bool = True,
        write_metadata: bool = True,
        opener: Opener = open_part,
        progress_per_second: float = 10.0,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.retry_policy = retry or RetryPolicy(attempts=settings.max_retries)
        self.write_metadata = write_metadata
        self._client = client
        self._own_client = client is None
        self._store = store
        self._own_store = store is None
        self._tools = tools
        self._lock = InstanceLock(settings.data_dir) if lock else None
        self._opener = opener
        self._streamed: dict[Path, str] = {}
        """sha256 of saved files that are the transferred bytes as they were written
        (computed during the transfer): verification takes it instead of reading them."""
        self._progress_rate = progress_per_second
        self._jobs: dict[int, Job] = {}
        self._cleared: set[int] = set()
        """Finished jobs taken out of the queue (:meth:`clear_finished`): ``jobs()`` leaves
        them out, ``job()`` still knows them; a change to one brings it back."""
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._intent: dict[int, str] = {}
        self._renditions: dict[int, _Renditions] = {}
        self._stamps: dict[str, safefile.Stamp] = {}  # .part path -> the file we wrote there
        self._adopted: set[int] = set()  # jobs that took over another tikget's saved file
        self._enqueued: dict[int, Enqueued] = {}  # what the last enqueue of a job did
        # job id -> {final path: (device, inode)} of failing files it may replace (replace=True)
        self._replacing: dict[int, dict[Path, safefile.Stamp]] = {}
        self._subscribers: list[Callback] = []
        self._queues: list[asyncio.Queue[Event]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._started = False
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("DownloadManager.start() has not run")
        return self._store

    async def __aenter__(self) -> DownloadManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._started:
            return
        if self._lock is not None:
            self._lock.acquire()
        try:
            if self._store is None:
                self._store = Store.open(self.settings.state_db)
            if self._client is None:
                from tikget_tui.tiktok import TikTokClient

                client = TikTokClient(self.settings, clock=self.clock)
                await client.__aenter__()
                self._client = client
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        for job in self.store.list_jobs():
            if job.state in RUNNING_STATES:
                job = self.store.update_job(
                    job.id, state=JobState.QUEUED, reason="resuming after a restart"
                )
            elif job.state in FINISHED_STATES and self.settings.drop_finished_at_start:
                self._cleared.add(job.id)  # an earlier run's finished row: not in the queue
            self._jobs[job.id] = job
        if self.settings.download_dir.is_dir():
            convert.cleanup_temp(self.settings.download_dir)
        self._started = True
        self._stopping = False
        self._scheduler = asyncio.create_task(self._schedule(), name="tikget-downloads")

    async def stop(self) -> None:
        """Stop the workers; interrupted jobs go back to ``queued`` and resume next start."""
        if not self._started:
            return
        self._stopping = True
        for job_id, task in list(self._tasks.items()):
            self._intent[job_id] = "stop"
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
        if self._own_client and self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.__aexit__(None, None, None)
            self._client = None
        if self._own_store and self._store is not None:
            self._store.close()
            self._store = None
        if self._lock is not None:
            self._lock.release()
        self._started = False

    # -- queries -----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job of the queue, in the order they were added (not the cleared ones)."""
        return [self._jobs[k] for k in sorted(self._jobs) if k not in self._cleared]

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def known_stories(self, username: str) -> list[Story]:
        """The stories of ``username`` its jobs hold (cleared ones too), each once (the
        newest job's copy), oldest post first as a listing has them: what a watched
        creator last showed, before its next poll lists it afresh."""
        name = username.lstrip("@").lower()
        by_id: dict[str, Story] = {}
        for job_id in sorted(self._jobs):
            story = self._jobs[job_id].story
            if story.creator.unique_id.lower() == name:
                by_id[story.id] = story
        # in the order a listing has them (queued order is expiring-first, and a restart
        # showed them shuffled)
        return sorted(by_id.values(), key=lambda s: (s.created_at, s.id))

    def clear_finished(self) -> list[int]:
        """Take the done, cancelled and expired jobs out of the queue; their ids.

        They stay known (``job()``, the archive's already-saved answers) and in the store
        (the library reads a saved story's caption and dates from its job); a job that
        changes again (a new note, a retry) comes back. With
        ``settings.drop_finished_at_start`` the next start leaves them out too."""
        gone = [jid for jid, job in sorted(self._jobs.items())
                if job.state in FINISHED_STATES and jid not in self._tasks
                and jid not in self._cleared]
        self._cleared.update(gone)
        return gone

    async def wait_idle(self) -> None:
        """Return when no job is queued or running (paused ones do not count)."""
        while True:
            if not self._tasks and not any(j.state in ACTIVE_STATES for j in self._jobs.values()):
                return
            self._idle.clear()
            self._wake.set()
            await self._idle.wait()

    # -- events ------------------------------------------------------------------------------

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    async def events(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    def _emit(self, event: Event) -> None:
        for cb in list(self._subscribers):
            try:
                cb(event)
            except Exception:  # a broken listener must not stop downloads
                log.exception("download event listener failed")
        for q in self._queues:
            q.put_nowait(event)

    def _set(self, job_id: int, **changes: Any) -> Job:
        job = self.store.update_job(job_id, **changes)
        self._jobs[job_id] = job
        self._cleared.discard(job_id)  # changed again: back in the queue
        self._emit(JobChanged(job))
        return job

    # -- commands ----------------------------------------------------------------------------

    async def enqueue(
        self, story: Story, *, audio: bool = False, note: str = "", again: bool = False,
        directory: Path | None = None, replace: bool = False,
    ) -> Job:
        """Queue ``story`` for saving into ``directory`` (default: the download folder).

        What the archive means (docs/contracts.md): a story already saved *in that folder*
        is not downloaded again (a ``note`` is added to its sidecar and archive entry); one
        saved only in *another* folder gets a verified copy there (hard link or copy, no
        network); ``again`` downloads anyway. Every saved copy stays in the archive.
        ``replace`` (the library's r on a failing or changed copy): download it again under
        that copy's own name, replacing exactly the files that are there now (by inode);
        the sidecar keeps the earlier save in its history.
        """
        if replace:
            return await self._enqueue_replacing(story, audio=audio, note=note,
                                                 directory=directory)
        job, how = await self._enqueue(story, audio=audio, note=note, again=again,
                                       directory=directory)
        self._enqueued[job.id] = how
        return job

    async def _enqueue_replacing(self, story: Story, *, audio: bool, note: str,
                                 directory: Path | None) -> Job:
        self._require_started()
        variant = _variant(story, audio)
        target = self._folder(directory)
        active = self._active_job(story.id, variant, target)
        if active is not None:
            self._enqueued[active.id] = Enqueued.ACTIVE
            return active
        here = [e for e in Records(self.store).locations(story.id, variant)
                if same_folder(e.directory, target)]
        stamps: dict[Path, safefile.Stamp] = {}
        stem = None
        if here:
            entry = here[-1]
            old = self.store.get_job(entry.job_id) if entry.job_id is not None else None
            stem = copies.old_stem(entry, old.stem if old else None)
            for path in entry.all_files:
                st = safefile.lstat_or_none(path)
                if st is not None and stat.S_ISREG(st.st_mode):
                    stamps[path] = safefile.stamp_of(st)
        reason = (f"downloading {here[-1].path.name} again to replace the failing file"
                  if here else "")
        job = self.store.add_job(story, variant=variant, audio=audio,
                                 note=note or self.settings.default_note, reason=reason,
                                 directory=target)
        if stem is not None:
            job = self.store.update_job(job.id, stem=stem)
            self._replacing[job.id] = stamps
        self._jobs[job.id] = job
        self._enqueued[job.id] = Enqueued.QUEUED
        self._emit(JobChanged(job))
        self._wake.set()
        return job

    def enqueued_as(self, job_id: int) -> Enqueued | None:
        """What the latest ``enqueue`` that returned this job did (None: never enqueued in
        this run): a new download, one already queued, already saved, or a copy."""
        return self._enqueued.get(job_id)

    async def _enqueue(self, story: Story, *, audio: bool, note: str, again: bool,
                       directory: Path | None) -> tuple[Job, Enqueued]:
        self._require_started()
        variant = _variant(story, audio)
        target = self._folder(directory)
        active = self._active_job(story.id, variant, target)
        if active is not None:
            return active, Enqueued.ACTIVE
        reason = ""
        if not again:
            earlier = [j for j in self.store.list_jobs([JobState.FAILED, JobState.CANCELLED])
                       if j.story_id == story.id and j.variant == variant and not j.files
                       and same_folder(self._dir_of(j), target)]
            if earlier:  # a failed (or cancelled) attempt: the same job again, never a 2nd row
                self._set(earlier[-1].id, story=story)
                return await self.retry(earlier[-1].id), Enqueued.QUEUED
            locations = Records(self.store).locations(story.id, variant)
            here = [e for e in locations if same_folder(e.directory, target)]
            intact_here = [e for e in here if not e.missing_files()]
            if intact_here:
                return (await self._already_saved(story, variant, audio, note, intact_here[-1]),
                        Enqueued.ALREADY_SAVED)
            for entry in here:  # every file of these is gone: what follows replaces them
                Records(self.store).delete(story.id, variant, entry.path)
                reason = f"{entry.missing_files()[0].name} was deleted from disk; saving it again"
            elsewhere = [e for e in locations if e not in here and not e.missing_files()]
            for entry in reversed(elsewhere):  # the newest intact copy first
                try:
                    return (await self._copy_saved(story, variant, audio, note, entry, target),
                            Enqueued.COPIED)
                except copies.CopyError as exc:
                    log.warning("not copying %s: %s; downloading it again", entry.path.name, exc)
                    reason = f"{exc}; downloading it again"
                except DownloadError:
                    break  # the folder cannot be used: the queued job will say why
        job = self.store.add_job(story, variant=variant, audio=audio,
                                 note=note or self.settings.default_note, reason=reason,
                                 directory=target)
        self._jobs[job.id] = job
        self._emit(JobChanged(job))
        self._wake.set()
        return job, Enqueued.QUEUED

    def _folder(self, directory: Path | None) -> Path:
        return Path(os.path.abspath(directory or self.settings.download_dir))

    def _dir_of(self, job: Job) -> Path:
        """The folder a job saves into (rows from before schema 4: the download folder)."""
        return job.directory if job.directory is not None else self._folder(None)

    def _active_job(self, story_id: str, variant: str, target: Path) -> Job | None:
        wanted = ACTIVE_STATES | {JobState.PAUSED}
        found = [j for j in self._jobs.values()
                 if j.story_id == story_id and j.variant == variant and j.state in wanted
                 and same_folder(self._dir_of(j), target)]
        return max(found, key=lambda j: j.id) if found else None

    async def _already_saved(self, story: Story, variant: str, audio: bool, note: str,
                             entry: ArchiveEntry) -> Job:
        """A DONE job for a story saved in the asked folder; a new note is added to it."""
        name = entry.path.name
        added = ""
        if note.strip() and copies.combine_notes(entry.note, note) != entry.note:
            try:
                beside = await self._add_note(entry, note)
            except OSError as exc:
                added = f"; the note could not be added ({exc.strerror or exc})"
                log.warning("cannot add the note to %s: %s", entry.path, exc)
            else:
                added = ("; the note was added to its .info.json" if beside else
                         "; the note was added to the archive (its .info.json is missing)")
                log.info("note added to the saved copy %s", entry.path)
        job = self.store.get_job(entry.job_id) if entry.job_id is not None else None
        if job is not None and job.state == JobState.DONE and not added:
            self._cleared.discard(job.id)  # asked for again: back in the queue, as done
            return self._jobs.get(job.id, job)
        if job is not None and job.state == JobState.DONE:
            noted = job.note if "could not" in added else copies.combine_notes(job.note, note)
            return self._set(job.id, note=noted, reason=f"already saved: {name}{added}")
        job = self.store.add_job(
            story, variant=variant, audio=audio, note=copies.combine_notes(entry.note, note),
            state=JobState.DONE, reason=f"already saved: {name}{added}",
            directory=entry.directory,
        )
        job = self.store.update_job(job.id, final_path=entry.path, files=entry.all_files,
                                    verdict=entry.verdict, sha256=entry.sha256)
        self._jobs[job.id] = job
        self._emit(JobChanged(job))
        return job

    async def _add_note(self, entry: ArchiveEntry, note: str) -> bool:
        """The note into the copy's sidecar and archive entry: both, or neither (True: the
        sidecar was there to update; the archive entry is updated either way)."""
        from tikget_tui.archive.audit import sidecar_for

        job = self.store.get_job(entry.job_id) if entry.job_id is not None else None
        side_path = sidecar_for(entry, job)
        before = await asyncio.to_thread(sidecar.read, side_path)
        combined = copies.combine_notes(entry.note, note)
        try:
            updated = await asyncio.to_thread(copies.add_note, side_path, note)
            Records(self.store).set_note(entry.story_id, entry.variant, entry.path, combined)
        except BaseException:
            await asyncio.to_thread(copies.restore_sidecar, side_path, before)
            raise
        return updated is not None

    async def _copy_saved(self, story: Story, variant: str, audio: bool, note: str,
                          entry: ArchiveEntry, target: Path) -> Job:
        """A verified copy of ``entry`` in ``target`` as a DONE job. Raises ``CopyError``
        (e.g. the saved files no longer match their sha256) and ``DownloadError`` (the
        folder cannot be used); nothing is left behind then."""
        from tikget_tui.archive.audit import sidecar_for

        old_job = self.store.get_job(entry.job_id) if entry.job_id is not None else None
        directory = self._download_dir(target)
        # a finished job of this story here whose files are all gone: its name comes back
        # (its old sidecar, describing the same story, is rewritten), as for a download
        gone = sorted((j for j in self._jobs.values()
                       if j.stem and j.story_id == story.id and j.variant == variant
                       and j.state in (JobState.DONE, JobState.FAILED)
                       and same_folder(self._dir_of(j), directory)
                       and j.files and not any(p.exists() for p in j.files)),
                      key=lambda j: j.id)
        claimed = {j.stem for j in self._jobs.values()
                   if j.state not in FINAL_STATES and same_folder(self._dir_of(j), directory)}
        if gone and gone[-1].stem and gone[-1].stem not in claimed:
            stem = gone[-1].stem
        else:
            stem = naming.build_stem(story, self.settings.filename_template, kind=variant)
            stem = naming.choose_stem(
                directory, stem, story.id, variant=variant,
                taken=self._stems_in(directory, sharing=(story.id, variant)),
                owners=functools.partial(sidecar.owners, directory))
        side = await asyncio.to_thread(sidecar.read, sidecar_for(entry, old_job))
        placed = await asyncio.to_thread(
            copies.place_copy, entry, old_job.stem if old_job else None, directory, stem, side)
        combined = copies.combine_notes(entry.note, note)
        now = datetime.now(UTC)
        data = dict(placed.sidecar)
        if not data:  # the original sidecar is gone: describe the story afresh
            report = Records(self.store).get_report(entry.path)
            data = sidecar.build(
                story, files=[{"name": p.name, "sha256": entry.sha256 if i == 0 else None,
                               "size": p.stat().st_size, "verdict": entry.verdict}
                              for i, p in enumerate(placed.files)],
                note=combined, saved_at=entry.saved_at, variant=variant, verification=report)
        data.update(note=combined, copied_from=str(entry.path), copied_at=now.isoformat())
        side_path = sidecar.sidecar_path(directory, stem, variant)
        replaced = sidecar.history_of(await asyncio.to_thread(sidecar.read, side_path), data)
        if replaced:  # a copy put back where an earlier one was deleted: keep that one's save
            data["history"] = replaced
        await asyncio.to_thread(sidecar.write, side_path, data)
        for src, dest in zip(entry.all_files, placed.files, strict=True):
            report = Records(self.store).get_report(src)
            if report is not None:
                Records(self.store).save_report(dest, {**report, "file": str(dest)},
                                                story_id=story.id)
        where = folder_for_people(entry.directory)
        reason = f"copied from {where} ({placed.how}, sha256 verified)"
        job = self.store.add_job(story, variant=variant, audio=audio, note=combined,
                                 state=JobState.DONE, reason=reason, directory=directory)
        job = self.store.update_job(job.id, final_path=placed.files[0], files=placed.files,
                                    verdict=entry.verdict, sha256=entry.sha256, stem=stem)
        Records(self.store).put(ArchiveEntry(
            story_id=story.id, variant=variant, path=placed.files[0], files=placed.files,
            sha256=entry.sha256, size=entry.size, verdict=entry.verdict, saved_at=now,
            creator=entry.creator or story.creator.unique_id, job_id=job.id, note=combined,
            copied_from=entry.path,
        ))
        self._jobs[job.id] = job
        self._emit(JobChanged(job))
        return job

    def _stems_in(self, directory: Path, *, besides: int | None = None,
                  sharing: tuple[str, str] | None = None) -> set[str]:
        """Stems of live jobs saving into ``directory`` (names reserved before files exist);
        ``sharing=(story_id, variant)``: not those of the story's other variants (its audio
        and video share a stem, told apart by the extension)."""
        return {j.stem for j in self._jobs.values()
                if j.stem and j.id != besides and same_folder(self._dir_of(j), directory)
                and not (sharing is not None and j.story_id == sharing[0]
                         and j.variant != sharing[1])}

    async def pause(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state in RUNNING_STATES and job_id in self._tasks:
            await self._interrupt(job_id, "pause")
            return self._jobs[job_id]
        if job.state == JobState.QUEUED:
            return self._set(job_id, state=JobState.PAUSED, reason="paused")
        return job

    async def resume(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state != JobState.PAUSED:
            return job
        job = self._set(job_id, state=JobState.QUEUED, reason="")
        self._wake.set()
        return job

    async def cancel(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job_id in self._tasks:
            await self._interrupt(job_id, "cancel")
            return self._jobs[job_id]
        if job.state in (JobState.QUEUED, JobState.PAUSED, JobState.FAILED):
            self._remove_parts(job)
            return self._set(job_id, state=JobState.CANCELLED, reason="cancelled")
        return job

    async def retry(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state not in (JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED):
            return job
        if job.files:  # saved once, then failed (verification, or v found it changed):
            # downloaded again under its name, replacing exactly these files, never
            # finished by recording what is on disk now as if it were the save
            stamps = {}
            for path in job.files:
                st = safefile.lstat_or_none(path)
                if st is not None and stat.S_ISREG(st.st_mode):
                    stamps[path] = safefile.stamp_of(st)
            self._replacing[job_id] = stamps
            job = self._set(job_id, files=(), final_path=None)
        job = self._set(job_id, state=JobState.QUEUED, reason="", retries=job.retries + 1)
        self._wake.set()
        return job

    async def reverify(self, job_id: int) -> Job:
        """Verify a saved job's files again and compare them with what was recorded when
        they were saved: the job, its report and the copy's check get the fresh result
        (``missing``, ``changed`` with both values, or the verdict); the archive record, the
        sidecar and the save-time report are never rewritten (only a save writes them)."""
        job = self._get(job_id)
        if job.state not in (JobState.DONE, JobState.FAILED) or not job.files:
            return job
        if job_id in self._tasks:
            return job
        task = asyncio.create_task(self._guard(job_id, self._check_again(job_id)))
        self._tasks[job_id] = task
        task.add_done_callback(self._done_callback(job_id))
        await task
        return self._jobs[job_id]

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("DownloadManager.start() has not run")

    def _get(self, job_id: int) -> Job:
        self._require_started()
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    async def _interrupt(self, job_id: int, intent: str) -> None:
        task = self._tasks.get(job_id)
        if task is None:
            return
        self._intent[job_id] = intent
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    # -- scheduling --------------------------------------------------------------------------

    def _order(self, job: Job) -> tuple[float, int]:
        exp = job.expires_at.timestamp() if job.expires_at else float("inf")
        return (exp, job.id)

    async def _schedule(self) -> None:
        while not self._stopping:
            self._wake.clear()
            queued = sorted(
                (j for j in self._jobs.values()
                 if j.state == JobState.QUEUED and j.id not in self._tasks),
                key=self._order,
            )
            now = self.clock.now()
            for job in queued:
                if len(self._tasks) >= self.settings.concurrency:
                    break
                if job.expires_at is not None and job.expires_at <= now and job.bytes_done == 0:
                    self._remove_parts(job)
                    self._set(job.id, state=JobState.EXPIRED, reason=(
                        "the story expired before its turn came "
                        f"({job.expires_at.strftime('%Y-%m-%d %H:%M')} UTC); nothing was saved"))
                    continue
                task = asyncio.create_task(self._guard(job.id, self._run(job.id)),
                                           name=f"tikget-job-{job.id}")
                self._tasks[job.id] = task
                task.add_done_callback(self._done_callback(job.id))
            if not self._tasks and not any(
                j.state == JobState.QUEUED for j in self._jobs.values()
            ):
                self._idle.set()
            await self._wake.wait()

    def _done_callback(self, job_id: int) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._task_done(job_id)

        return done

    def _task_done(self, job_id: int) -> None:
        self._tasks.pop(job_id, None)
        self._intent.pop(job_id, None)
        self._wake.set()
        if not self._tasks and not any(j.state in ACTIVE_STATES for j in self._jobs.values()):
            self._idle.set()

    async def _guard(self, job_id: int, work: Any) -> None:
        """Run a job's work and turn every outcome into a state with a reason."""
        try:
            await work
        except asyncio.CancelledError:
            intent = self._intent.get(job_id, "stop")
            job = self._jobs[job_id]
            if intent == "pause":
                self._set(job_id, state=JobState.PAUSED,
                          reason="paused; resumes from where it stopped")
            elif intent == "cancel":
                self._remove_parts(job)
                self._set(job_id, state=JobState.CANCELLED, reason="cancelled")
            elif self._store is not None:
                self._set(job_id, state=JobState.QUEUED,
                          reason="interrupted; resumes from where it stopped")
        except DownloadError as exc:
            job = self._jobs[job_id]
            if exc.state in (JobState.EXPIRED, JobState.CANCELLED):
                self._remove_parts(job)
            self._set(job_id, state=exc.state, reason=exc.reason)
        except TransferError as exc:
            self._set(job_id, state=JobState.FAILED, reason=exc.reason)
        except (safefile.ForeignFile, safefile.ClaimHeld) as exc:
            self._set(job_id, state=JobState.FAILED, reason=exc.reason)
        except OSError as exc:
            where = self.settings.download_dir / "x"
            self._set(job_id, state=JobState.FAILED, reason=disk_reason(exc, where))
        except ToolNotFound as exc:
            self._set(job_id, state=JobState.FAILED, reason=str(exc))
        except convert.ConvertError as exc:
            self._set(job_id, state=JobState.FAILED, reason=str(exc))
        except naming.UnsafePath as exc:
            self._set(job_id, state=JobState.FAILED, reason=str(exc))
        except Exception as exc:
            log.exception("download job %s failed", job_id)
            self._set(job_id, state=JobState.FAILED,
                      reason=f"unexpected error ({type(exc).__name__}: {exc}); retry, or report it")

    # -- one job -----------------------------------------------------------------------------

    def _tools_or_find(self) -> MediaTools:
        if self._tools is None:
            self._tools = MediaTools.for_settings(self.settings)
        return self._tools

    def _download_dir(self, folder: Path | Job | None = None) -> Path:
        """The folder to save into (a job's own, or the download folder), created when
        missing: the default one always (as yt-dlp and gallery-dl do; a new machine or an
        SSH server has no ~/Downloads), a folder the user named only when its parent exists
        (a typo must not grow a tree of folders)."""
        if isinstance(folder, Job):
            folder = self._dir_of(folder)
        d = folder if folder is not None else self.settings.download_dir
        if d.is_dir():
            return d
        how = ("choose another (--dir DIR, download_dir in the config file, "
               "or o in the app)")
        if d.exists():
            raise DownloadError(f"the download folder {d} is not a folder; {how}")
        if self.settings.download_dir_chosen and not d.parent.is_dir():
            raise DownloadError(
                f"the download folder {d} does not exist, nor its parent {d.parent}; "
                f"create it, or {how}"
            )
        try:
            d.mkdir(parents=not self.settings.download_dir_chosen, exist_ok=True)
        except OSError as exc:
            raise DownloadError(
                f"cannot create the download folder {d}: {exc.strerror}; {how}") from None
        return d

    def set_download_dir(self, path: Path) -> None:
        """Save the next downloads into ``path`` (a folder the user chose in the app).

        Unfinished jobs whose own folder cannot be used (it is gone, or was never made)
        move with it, so retrying them works; jobs in a folder that exists stay there
        (their .part is there)."""
        self.settings = self.settings.with_download_dir(path)
        target = self._folder(None)
        for job in list(self._jobs.values()):
            if job.state in (JobState.DONE, *RUNNING_STATES) or job.files:
                continue
            if not self._dir_of(job).is_dir():
                self._jobs[job.id] = self.store.update_job(job.id, directory=target, stem=None,
                                                           part_path=None, part_source=None)

    def _names(self, job: Job) -> tuple[Path, str]:
        directory = self._download_dir(job)
        if job.stem:
            return directory, job.stem
        restored = self._restorable_stem(job)
        if restored is not None:
            # the same story saved before, its files since deleted: put it back where it was
            # (the old sidecar, describing the same story, is rewritten)
            self._set(job.id, stem=restored)
            return directory, restored
        taken = self._stems_in(directory, besides=job.id, sharing=(job.story.id, job.variant))
        stem = naming.build_stem(job.story, self.settings.filename_template, kind=job.variant)
        stem = naming.choose_stem(directory, stem, job.story.id, taken=taken,
                                  variant=job.variant,
                                  owners=functools.partial(sidecar.owners, directory))
        naming.inside(directory, sidecar.sidecar_path(directory, stem, job.variant).name)
        self._set(job.id, stem=stem)
        return directory, stem

    def _restorable_stem(self, job: Job) -> str | None:
        """The stem of an earlier finished job for the same story and variant whose files
        are all gone from disk (and not claimed by another live job), else None."""
        earlier = sorted(  # done, or failed after its file was saved (e.g. v: missing)
            (j for j in self._jobs.values()
             if j.id != job.id and j.stem and j.story_id == job.story_id
             and j.variant == job.variant
             and (j.state == JobState.DONE or (j.state == JobState.FAILED and j.files))
             and same_folder(self._dir_of(j), self._dir_of(job))),
            key=lambda j: j.id, reverse=True)
        for prior in earlier:
            paths = [*prior.files, *([prior.final_path] if prior.final_path else [])]
            if not paths or any(p.exists() for p in paths):
                continue
            if any(j.stem == prior.stem and j.id not in (job.id, prior.id)
                   and j.state not in FINAL_STATES for j in self._jobs.values()):
                continue
            return prior.stem
        return None

    async def _run(self, job_id: int) -> None:
        job = self._jobs[job_id]
        if job.story.age_gated:  # never its music instead, never "no media"
            raise DownloadError(AGE_GATED)
        directory = self._download_dir()
        naming.inside(directory, f".tikget-{job.story.id}-{job.variant}.claim")
        claim = safefile.Claim(directory, job.story.id, job.variant)

        def waiting() -> None:
            self._set(job_id, reason="another tikget is saving this story into the same "
                                     "folder; waiting for it to finish")

        # one tikget at a time saves a story into a folder (state folders may differ)
        saved = await claim.acquire(waiting)
        stem: str | None = None
        files: list[str] | None = None
        try:
            if not self._adopt(job_id, saved or self._saved_beside(job, directory), directory):
                if job.variant == "photo":
                    await self._run_photo(job_id)
                elif job.variant == "audio":
                    await self._run_audio(job_id)
                else:
                    await self._run_video(job_id)
            await self._verify_and_finish(job_id)
            done = self._jobs[job_id]
            stem, files = done.stem, [p.name for p in done.files]
        finally:
            claim.release(stem, files)

    def _saved_beside(self, job: Job, directory: Path) -> dict[str, Any]:
        """``{"stem": ...}`` when a sidecar under the story's usual name may show that
        another tikget saved it (checked by :meth:`_adopt`); else {}."""
        if job.files or job.stem:
            return {}  # this job has its own name already
        return {"stem": naming.build_stem(job.story, self.settings.filename_template,
                                          kind=job.variant)}

    def _adopt(self, job_id: int, saved: dict[str, Any], directory: Path) -> bool:
        """Another tikget saved this story into the folder: take its files over instead of
        saving a second copy. Only when the sidecar ``STEM.info.json`` (a regular file of
        sane size) describes this very story and variant, every file it lists (named after
        STEM) is there as a regular file, the claim (when it names files) lists the same, and
        this instance never archived the story (``again`` makes a new copy on purpose)."""
        job = self._jobs[job_id]
        stem = saved.get("stem")
        if job.files or not isinstance(stem, str) or not stem:
            return False
        if Records(self.store).get(job.story.id, job.variant) is not None:
            return False
        try:
            side = naming.inside(directory, sidecar.sidecar_path(directory, stem,
                                                                 job.variant).name)
        except naming.UnsafePath:
            return False
        st = safefile.lstat_or_none(side)
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_SIDECAR:
            return False
        data = sidecar.read(side) or {}
        if (data.get("story_id"), data.get("variant")) != (job.story.id, job.variant):
            return False
        names = [e.get("name") for e in data.get("files") or [] if isinstance(e, dict)]
        if not names or saved.get("files", names) != names:
            return False
        try:
            paths = [naming.inside(directory, n) for n in names if isinstance(n, str)
                     and n.startswith(stem)]
        except naming.UnsafePath:
            return False
        if len(paths) != len(names) or not all(_regular(p) for p in paths):
            return False
        self._remove_parts(job)
        note = f"already saved by another tikget in this folder: {paths[0].name}"
        self._renditions.setdefault(job_id, _Renditions()).note = note
        self._adopted.add(job_id)
        self._set(job_id, stem=stem, files=tuple(paths), final_path=paths[0], part_path=None,
                  part_source=None, reason=note)
        return True

    async def _place_new(self, job_id: int, name_of: Callable[[str], str],
                         make: Callable[[Path], Awaitable[None]]) -> Path:
        """``await make(final)`` for the job's final name; ``make`` never replaces anything
        (FileExistsError), so when something appeared under that name meanwhile (not made by
        this job) the job takes a fresh stem and tries again."""
        for _ in range(5):
            directory, stem = self._names(self._jobs[job_id])
            final = naming.inside(directory, name_of(stem))
            try:
                await make(final)
                return final
            except FileExistsError:
                if await self._replace_failing(job_id, final):
                    continue  # the failing file it replaces is gone: the same name again
                taken = {j.stem for j in self._jobs.values() if j.stem}
                fresh = naming.choose_stem(directory, stem, self._jobs[job_id].story.id,
                                           taken=taken)
                naming.inside(directory, name_of(fresh))
                log.info("job %s: %s exists (not ours); saving as %s", job_id, final.name,
                         name_of(fresh))
                why = (f"{final.name} appeared in the folder meanwhile (not made by this "
                       f"download; left alone); saved as {name_of(fresh)}")
                seen = self._renditions.setdefault(job_id, _Renditions())
                seen.note = f"{seen.note}; {why}" if seen.note else why  # kept as the reason
                self._set(job_id, stem=fresh, reason=seen.note)
        raise DownloadError("every name tried for this story was taken in the folder meanwhile; "
                            "retry later")

    def _replaces(self, job_id: int, final: Path) -> bool:
        """Whether ``final`` is a failing file this job was asked to replace."""
        return final in self._replacing.get(job_id, {})

    async def _replace_failing(self, job_id: int, final: Path) -> bool:
        """Remove ``final`` when it is the very file (same inode) this job was asked to
        replace (enqueue(replace=True)); anything else there is left alone."""
        expected = self._replacing.get(job_id, {}).pop(final, None)
        if expected is None:
            return False
        st = safefile.lstat_or_none(final)
        if st is None or not stat.S_ISREG(st.st_mode) or safefile.stamp_of(st) != expected:
            return False
        await asyncio.to_thread(final.unlink)
        log.info("job %s: replaced the failing %s", job_id, final.name)
        return True

    def _ranked_video(self, story: Story) -> list[MediaSource]:
        sources = list(story.sources)
        if self.settings.prefer_h264:
            # the client's order (tiktok/parse.rank_sources); re-applied here because a
            # restored job may have been listed before the setting changed
            rank = {Codec.H264: 0, Codec.HEVC: 1, Codec.UNKNOWN: 2, Codec.BYTEVC2: 3}
            sources.sort(key=lambda s: rank.get(s.codec, 1))
        else:
            sources.sort(key=lambda s: s.codec == Codec.BYTEVC2)
        return sources

    def _video_sources(self, story: Story, skip: frozenset[str] = frozenset()) -> Sources:
        sources = [s for s in self._ranked_video(story) if video_identity(s) not in skip]
        return ([s.url for s in sources], [s.data_size for s in sources],
                [video_identity(s) for s in sources])

    async def _run_video(self, job_id: int) -> None:
        job = self._jobs[job_id]
        directory, stem = self._names(job)
        final = naming.inside(directory, stem + ".mp4")
        part = naming.inside(directory, stem + ".mp4.part")
        seen = self._renditions.setdefault(job_id, _Renditions())
        done_before = _own(final) and not part.exists() and not self._replaces(job_id, final)
        if not done_before:  # (else a run before this one saved it; not a file to replace)
            self._set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final,
                      reason=seen.note)
            while True:
                untried = functools.partial(self._video_sources, skip=frozenset(seen.tried))
                result = await self._fetch(job_id, part, "video", untried)
                if not await self._video_only_switch(job_id, part, result, seen):
                    break
            self._set(job_id, state=JobState.CONVERTING, reason=seen.note)
            final = await self._place_new(job_id, lambda s: s + ".mp4",
                                          functools.partial(self._keep, job_id, part))
            self._keep_hash(final, result, rewritten=self.write_metadata)
        self._set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final,
                  part_path=None, part_source=None, reason=seen.note)

    async def _keep(self, job_id: int, part: Path, final: Path) -> None:
        """The finished ``part`` as the new file ``final``: tagged by ffmpeg (reading the
        .part, writing a private folder) when metadata is on, else the .part itself."""
        if self.write_metadata:
            await convert.tag(part, final, self._metadata(self._jobs[job_id]),
                              self._tools_or_find())
            part.unlink(missing_ok=True)
        else:
            await asyncio.to_thread(finalize, part, final)

    async def _video_only_switch(self, job_id: int, part: Path, result: TransferResult,
                                 seen: _Renditions) -> bool:
        """The file in ``part`` has no audio stream and another listed rendition has not
        been tried in this job: throw the file away and say so (True: fetch again).

        Each rendition (identity) is tried at most once per job. When every listed one
        turned out video-only, the last file is kept and verified as usual (it fails
        ``audio_present``; the reason says no rendition had sound).
        """
        from tikget_tui.verify.verifier import has_audio_stream

        job = self._jobs[job_id]
        if job.story.has_sound is False or result.identity is None:
            return False  # a silent story is fine silent; an unknown source cannot be skipped
        if await has_audio_stream(part, self._tools_or_find()) is not False:
            return False  # sound, or unreadable: the verifier says what is wrong
        seen.tried.add(result.identity)
        ranked = self._ranked_video(job.story)
        silent = next((s for s in ranked if video_identity(s) == result.identity), None)
        nxt = next((s for s in ranked if video_identity(s) not in seen.tried), None)
        if nxt is None:
            seen.all_video_only = True
            log.info("job %s: every listed rendition is video-only (%d tried)", job_id,
                     len(seen.tried))
            return False
        seen.note = _switch_note(silent, nxt)
        log.info("job %s: %s", job_id, seen.note)
        part.unlink(missing_ok=True)  # never kept, never under a final name
        self._set(job_id, reason=seen.note, part_source=None, bytes_done=0, bytes_total=None)
        return True

    async def _run_audio(self, job_id: int) -> None:
        job = self._jobs[job_id]
        directory, stem = self._names(job)
        final = naming.inside(directory, stem + ".mp3")
        part = naming.inside(directory, stem + ".mp3.src.part")
        if _own(final) and not part.exists() and not self._replaces(job_id, final):
            self._set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final)
            return
        self._set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final, reason="")
        story = job.story
        # a video's own sound, from its video (a story the list gave no video link for gets
        # one from its post page); a photo story's sound track
        use_sound = story.kind == Kind.PHOTO
        if use_sound and story.sound is None:
            raise DownloadError("this story has no sound to save as MP3")

        def sound_sources(s: Story) -> Sources:
            return ([s.sound.url] if s.sound else []), [None], [SOUND_IDENTITY]

        result = await self._fetch(job_id, part, "audio" if use_sound else "video",
                                   sound_sources if use_sound else self._video_sources)
        self._set(job_id, state=JobState.CONVERTING)
        meta = self._metadata(self._jobs[job_id]) if self.write_metadata else {}

        async def make(final: Path) -> None:
            if result.media_type == "mp3":
                await self._keep(job_id, part, final)
            else:
                await convert.extract_mp3(part, final, self._tools_or_find(), meta)
                part.unlink(missing_ok=True)

        final = await self._place_new(job_id, lambda s: s + ".mp3", make)
        self._keep_hash(final, result, rewritten=bool(meta) or result.media_type != "mp3")
        self._set(job_id, files=(final,), final_path=final, part_path=None, part_source=None)

    async def _run_photo(self, job_id: int) -> None:
        job = self._jobs[job_id]
        directory, stem = self._names(job)
        if not job.story.images:
            raise DownloadError("this photo story lists no images")
        files = list(job.files)
        for i in range(1, len(job.story.images) + 1):
            prefix = f"{stem}-{i:02d}"
            if any(f.name.startswith(prefix + ".") and f.is_file() for f in files):
                continue
            part = naming.inside(directory, prefix + ".part")
            self._set(job_id, state=JobState.DOWNLOADING, part_path=part, reason="")

            def image_sources(s: Story, i: int = i) -> Sources:
                img = s.images[i - 1] if i - 1 < len(s.images) else None
                urls = list(img.urls) if img else []
                return (urls, [None] * len(urls),
                        [image_identity(i, n) for n in range(len(urls))])

            result = await self._fetch(job_id, part, "image", image_sources)
            ext = EXTENSIONS.get(result.media_type, ".jpg")
            def image_name(s: str, i: int = i, ext: str = ext) -> str:
                return f"{s}-{i:02d}{ext}"

            final = await self._place_new(job_id, image_name,
                                          functools.partial(_to_thread_finalize, part))
            self._keep_hash(final, result, rewritten=False)
            files.append(final)
            self._set(job_id, files=tuple(files), final_path=files[0], part_path=None,
                      part_source=None)
        self._set(job_id, state=JobState.CONVERTING)

    def _keep_hash(self, final: Path, result: TransferResult, *, rewritten: bool) -> None:
        """Remember the transfer's sha256 for ``final`` unless ffmpeg rewrites the file."""
        if result.sha256 is not None and not rewritten:
            self._streamed[final] = result.sha256
        else:
            self._streamed.pop(final, None)

    async def _fetch(
        self, job_id: int, part: Path, want: str,
        sources_of: Callable[[Story], Sources],
    ) -> TransferResult:
        """Transfer into ``part``; on an expired/refused link look the story up once again."""
        reresolved = False
        limiter = RateLimiter(self._progress_rate)
        last_persist = [0.0]
        loop = asyncio.get_running_loop()
        state: dict[str, Any] = {"done": 0, "total": None}

        def on_progress(done: int, total: int | None) -> None:
            state["done"], state["total"] = done, total
            if not limiter.due():
                return
            speed = limiter.speed(done)
            eta = (total - done) / speed if total and speed > 0 else None
            self._emit(Progress(job_id, done, total, speed, eta))
            now = loop.time()
            if now - last_persist[0] >= _PERSIST_EVERY:
                last_persist[0] = now
                job = self.store.update_job(job_id, bytes_done=done, bytes_total=total)
                self._jobs[job_id] = job

        def on_source(identity: str | None) -> None:
            log.info("job %s: fetching %s from source %s", job_id, part.name, identity)
            # written before the first byte from this source lands in the .part
            self._jobs[job_id] = self.store.update_job(job_id, part_source=identity)

        def on_restart(reason: str) -> None:
            log.info("job %s: %s", job_id, reason)
            self._set(job_id, reason=reason)

        post_page = False  # the story's post page was asked for its media
        while True:
            limiter.restart()  # speed and ETA of this attempt only (a resumed .part is no
            # burst of bytes: a restart once showed 531 MB/s)
            job = self._jobs[job_id]
            urls, sizes, identities = sources_of(job.story)
            if not urls:
                if not post_page:
                    post_page = True
                    await self._media_from_post_page(
                        job_id, "the story list gave no usable media link")
                    continue
                raise DownloadError("no usable media link, in the story list nor on its "
                                    "post page")
            has_part = part.exists()
            transfer = Transfer(
                client=self._client, urls=urls, part=part, want=want,
                limits=MediaLimits.from_settings(self.settings), stamps=self._stamps,
                expected_sizes=sizes, referer=job.story.canonical_url or None,
                retry=self.retry_policy,
                opener=self._opener, on_progress=on_progress,
                known_total=job.bytes_total if has_part else None,
                identities=identities,
                part_source=job.part_source if has_part else None,
                on_source=on_source, on_restart=on_restart,
            )
            try:
                result = await transfer.run()
            except TransferError as exc:
                # refused, expired or no source left: the links are stale (a restored job,
                # a signature that expired, the service moved): look the story up once more
                if exc.kind in ("expired", "forbidden", "gone") and not reresolved:
                    reresolved = True
                    await self._reresolve(job_id, exc.reason)
                    continue
                if exc.kind in ("expired", "forbidden") and self._is_expired(job):
                    raise DownloadError(
                        f"the story expired while downloading ({exc.reason})", JobState.EXPIRED
                    ) from None
                if exc.kind in ("expired", "forbidden", "gone"):
                    if not post_page and job.story.is_story:
                        # refused even after a fresh look-up: gallery-dl's place to look
                        post_page = True
                        await self._media_from_post_page(
                            job_id, f"the story list's links were refused ({exc.reason})")
                        continue
                    if post_page:
                        raise DownloadError(f"{exc.reason}; the links from its post page were "
                                            "tried too") from None
                raise
            finally:
                speed = limiter.speed(state["done"])
                self._emit(Progress(job_id, state["done"], state["total"], speed,
                                    0.0 if state["done"] == state["total"] else None, final=True))
            self._jobs[job_id] = self.store.update_job(
                job_id, bytes_done=result.size, bytes_total=result.size
            )
            return result

    def _is_expired(self, job: Job) -> bool:
        exp = job.story.expires_at
        return exp is not None and exp <= self.clock.now()

    async def _media_from_post_page(self, job_id: int, why: str) -> None:
        """Take the story's media links from its post page (``/@user/video/ID``), as
        gallery-dl does, when the story list gave none that work (``why``)."""
        from tikget_tui.links import PostTarget
        from tikget_tui.tiktok.errors import AgeRestricted, PostUnavailable, TikTokError

        job = self._jobs[job_id]
        story = job.story
        log.info("job %s: %s; asking its post page", job_id, why)
        try:
            page = await self._client.resolve(PostTarget(
                post_id=story.id, username=story.creator.unique_id or None, kind=str(story.kind)))
        except AgeRestricted:
            raise DownloadError(AGE_GATED) from None
        except PostUnavailable as exc:
            state = JobState.EXPIRED if self._is_expired(job) else JobState.FAILED
            raise DownloadError(f"{why}; its post page says: {exc.reason}", state) from None
        except TikTokError as exc:
            raise DownloadError(f"{why}; its post page failed too: {exc.reason}") from None
        fresh = dataclasses.replace(
            story, kind=page.kind, sources=page.sources, images=page.images,
            sound=page.sound or story.sound, duration=page.duration or story.duration,
            width=page.width or story.width, height=page.height or story.height,
            has_sound=page.has_sound if page.has_sound is not None else story.has_sound)
        self._set(job_id, story=fresh, reason=f"{why}; using the links from its post page")

    async def _reresolve(self, job_id: int, why: str) -> None:
        """Look the story up again for fresh links (and cookies); expired when it is gone."""
        from tikget_tui.links import PostTarget
        from tikget_tui.tiktok.errors import PostUnavailable, TikTokError, UserNotFound

        job = self._jobs[job_id]
        story = job.story
        try:
            if story.is_story:
                listing = await self._client.lookup_stories(
                    story.creator.unique_id or story.creator.user_id
                )
                fresh = next((s for s in listing.stories if s.id == story.id), None)
            else:
                fresh = await self._client.resolve(
                    PostTarget(post_id=story.id, username=story.creator.unique_id or None,
                               kind=str(story.kind))
                )
        except (PostUnavailable, UserNotFound):
            fresh = None
        except TikTokError as exc:
            if self._is_expired(job):
                raise DownloadError(
                    "the story expired while downloading; looking it up again failed: "
                    f"{exc.reason}",
                    JobState.EXPIRED,
                ) from None
            raise DownloadError(f"{why}; looking the story up again failed: {exc.reason}") from None
        if fresh is None:
            raise DownloadError(
                "the story expired (it is no longer listed) before the download finished; "
                "the partial file was removed",
                JobState.EXPIRED,
            )
        self._set(job_id, story=fresh,
                  reason="looked up again for fresh links (the old ones expired or were refused)")

    # -- after the transfer ------------------------------------------------------------------

    def _metadata(self, job: Job) -> dict[str, str]:
        s = job.story
        who = s.creator.nickname or s.creator.unique_id
        if s.creator.nickname and s.creator.unique_id:
            who = f"{s.creator.nickname} (@{s.creator.unique_id})"
        what = "story" if s.is_story else "post"
        title = s.caption.strip() or f"{s.creator.handle} {what} {s.id}"
        comment = s.canonical_url
        if job.note:
            comment = f"{comment} — {job.note}" if comment else job.note
        return {
            "title": title[:250],
            "artist": who,
            "comment": comment,
            "description": job.note,
            "date": s.created_at.strftime("%Y-%m-%d"),
            "purl": s.canonical_url,
        }

    def _expected(self, job: Job, path: Path) -> Any:
        from tikget_tui.verify import Expected

        s = job.story
        if job.variant == "photo":
            return Expected(kind="photo")
        if job.variant == "audio":
            return Expected(kind="audio", duration=s.duration or None, has_sound=True)
        return Expected(kind="video", duration=s.duration or None, has_sound=s.has_sound)

    async def _verify_and_finish(self, job_id: int) -> None:
        from tikget_tui.verify import verify
        from tikget_tui.verify.frames import frames_dir
        from tikget_tui.verify.verifier import sha256_file

        job = self._set(job_id, state=JobState.VERIFYING, part_path=None)
        directory = self._download_dir(job)
        tools = self._tools_or_find()
        reports: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        worst = "ok"
        order = {"ok": 0, "warn": 1, "fail": 2}
        missing = [p for p in job.files if not p.is_file()]
        if missing:
            raise DownloadError(f"{missing[0].name} is no longer on disk; save the story again")
        for path in job.files:
            report = await verify(path, self._expected(job, path), tools=tools,
                                  sha256=self._streamed.pop(path, None),
                                  frames_dir=frames_dir(self.settings.cache_dir, path))
            d = report.to_dict()
            reports.append(d)
            Records(self.store).save_report(path, d, story_id=job.story.id)
            verdict = str(d.get("verdict", "fail"))
            if order.get(verdict, 2) > order[worst]:
                worst = verdict
            sha = d.get("sha256") or await asyncio.to_thread(sha256_file, path)
            entries.append({"name": path.name, "sha256": sha, "size": path.stat().st_size,
                            "verdict": verdict})
        saved_at = datetime.now(UTC)
        data = sidecar.build(
            job.story, files=entries, note=job.note, saved_at=saved_at, variant=job.variant,
            verification=(reports[0] if len(reports) == 1
                          else {"verdict": worst, "reports": reports}),
        )
        assert job.stem is not None
        side = sidecar.sidecar_path(directory, job.stem, job.variant)
        if not (job_id in self._adopted and _regular(side)):  # the other tikget wrote it
            earlier = await asyncio.to_thread(sidecar.read, side)
            data["history"] = sidecar.history_of(earlier, data)
            await asyncio.to_thread(sidecar.write, side, data)
        main = entries[0]
        prior = next((e for e in Records(self.store).locations(job.story.id, job.variant)
                      if e.path == job.files[0]), None)  # verified again: keep what it was
        Records(self.store).put(ArchiveEntry(
            story_id=job.story.id, variant=job.variant, path=job.files[0], files=job.files,
            sha256=main["sha256"], size=sum(e["size"] for e in entries), verdict=worst,
            saved_at=saved_at, creator=job.story.creator.unique_id, job_id=job_id,
            note=prior.note if prior is not None and prior.note else job.note,
            copied_from=prior.copied_from if prior is not None else None,
        ))
        seen = self._renditions.get(job_id, _Renditions())
        if worst == "fail":
            failed = [c for r in reports for c in r.get("checks", []) if c.get("status") == "fail"]
            detail = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed[:2])
            why = ""
            if seen.all_video_only and any(c.get("name") == "audio_present" for c in failed):
                n = len(seen.tried)
                why = "; every listed rendition was video-only" + (f" ({n} tried)" if n > 1
                                                                     else "")
            self._set(job_id, state=JobState.FAILED, verdict=worst, sha256=main["sha256"],
                      reason=f"verification failed ({detail}){why}; the file is kept, "
                             "labelled in its .info.json")
        else:
            reason = seen.note if worst == "ok" else "saved; verification has warnings"
            if worst != "ok" and seen.note:
                reason += f"; {seen.note}"
            self._set(job_id, state=JobState.DONE, verdict=worst, sha256=main["sha256"],
                      reason=reason)

    async def _check_again(self, job_id: int) -> None:
        """``v``: the verifier on each file, plus the check ``recorded`` against the sha256,
        size and duration recorded at save time; the result goes to the job (state, verdict,
        reason) and to the copy's check (with the fresh report), nothing else."""
        from tikget_tui.archive.audit import change_of, read_sidecar, recorded_of, sidecar_for
        from tikget_tui.verify import verify
        from tikget_tui.verify.frames import frames_dir
        from tikget_tui.verify.report import Check, Verdict

        before = self._jobs[job_id]
        job = self._set(job_id, state=JobState.VERIFYING)
        main_path = job.files[0]
        entry = next((e for e in Records(self.store).locations(job.story.id, job.variant)
                      if e.path == main_path), None)
        if entry is None:  # no archive row (e.g. forgotten): what the job recorded
            entry = ArchiveEntry(story_id=job.story.id, variant=job.variant, path=main_path,
                                 files=job.files, sha256=job.sha256)
        side_path = sidecar_for(entry, job)
        side = await asyncio.to_thread(read_sidecar, side_path)
        recorded = recorded_of(self.store, entry, job, side)
        when = ""
        saved = next((r.saved_at for r in recorded.values() if r.saved_at), "")
        if saved:
            when = f" (saved {saved[:16].replace('T', ' ')} UTC)"
        tools = self._tools_or_find()
        missing: list[Path] = []
        changed: list[str] = []
        reports = []
        for path in job.files:
            if not path.is_file():
                missing.append(path)
            report = await verify(path, self._expected(job, path), tools=tools,
                                  frames_dir=frames_dir(self.settings.cache_dir, path)
                                  if path.is_file() else None)
            rec = recorded.get(path.name)
            if path in missing:
                check = Check("recorded", Verdict.FAIL,
                              f"missing: {path.name} is gone from {path.parent}{when}")
            else:
                change = change_of(path.name, rec, size=report.size, sha256=report.sha256,
                                   duration=report.duration)
                if change:
                    changed.append(change)
                    check = Check("recorded", Verdict.FAIL, f"changed: {change}{when}")
                elif rec is None:
                    check = Check("recorded", Verdict.WARN,
                                  f"nothing was recorded for {path.name} when it was saved "
                                  f"({side_path.name} is missing or does not list it)")
                else:
                    what = "sha256" if rec.sha256 else "size"
                    check = Check("recorded", Verdict.OK,
                                  f"the same file as saved ({what} matches){when}")
            report.checks.insert(0, check)
            report.verdict = Verdict.worst([report.verdict, check.status])
            reports.append(report)
        order = {"ok": 0, "warn": 1, "fail": 2}
        worst = max((str(r.verdict) for r in reports), key=lambda v: order.get(v, 2))
        shown = next((r for r in reports if str(r.verdict) == worst), reports[0])
        if missing:
            status = "missing"
            detail = (f"{missing[0].name} is gone from {missing[0].parent}"
                      + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
            reason = f"{MISSING_REASON}{detail}; t downloads it again while the story is active"
        elif changed:
            status = "changed"
            detail = changed[0]
            reason = f"{CHANGED_REASON}{detail}; the record of the save is kept as it was"
        else:
            status = worst
            detail = shown.summary
            reason = ("verified again: " + detail if worst != "fail" else
                      f"verified again: verification failed ({detail}); the file is kept")
        Records(self.store).check_put(CopyCheck(
            path=main_path, story_id=job.story.id, variant=job.variant, status=status,
            detail=detail, checked_at=self.clock.now(), report=shown.to_dict()))
        log.info("job %s verified again: %s (%s)", job_id, status, detail)
        good = status in ("ok", "warn")
        self._set(job_id, state=JobState.DONE if good else JobState.FAILED,
                  verdict=worst, reason=reason,
                  sha256=before.sha256)  # the job keeps the hash recorded at save time

    def _remove_parts(self, job: Job) -> None:
        """Remove this job's partial files: STEM.mp4.part, STEM.mp3.src.part, STEM-NN.part."""
        paths = [job.part_path] if job.part_path else []
        if job.stem:
            own = re.compile(re.escape(job.stem) + r"(?:\.mp4|\.mp3\.src|-[0-9]{2})\.part")
            with contextlib.suppress(OSError):
                for entry in os.scandir(self._dir_of(job)):
                    if own.fullmatch(entry.name):
                        paths.append(Path(entry.path))
        for p in paths:
            with contextlib.suppress(OSError):
                p.unlink()
        if job.part_source is not None and self._store is not None:
            self._jobs[job.id] = self.store.update_job(job.id, part_source=None)
