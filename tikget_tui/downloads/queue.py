"""The queue: every job, its state and its order, persisted in the store and published.

Every change is written to the :class:`~tikget_tui.store.Store` first, then published as a
:class:`JobChanged` to the listeners (the TUI, the CLI); transfers publish
:class:`Progress` through :meth:`JobQueue.emit` too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from tikget_tui.downloads.events import Event, JobChanged
from tikget_tui.models import Story
from tikget_tui.store import (
    FINAL_STATES,
    RUNNING_STATES,
    Job,
    JobState,
    Store,
    same_folder,
)

log = logging.getLogger(__name__)

Callback = Callable[[Event], None]

# what the queue's clear key (and, at start, drop_finished_at_start) takes out of the queue:
# final states but failed, which can be tried again
FINISHED_STATES = FINAL_STATES - {JobState.FAILED}


class JobQueue:
    """The jobs (by id), the finished ones taken out of view, and the event listeners.

    ``default_dir`` gives the download folder (it changes when the user picks another):
    the folder of a job whose row has none (rows from before schema 4)."""

    def __init__(self, default_dir: Callable[[], Path], store: Store | None = None) -> None:
        self._default_dir = default_dir
        self._store = store
        self._jobs: dict[int, Job] = {}
        self._cleared: set[int] = set()
        """Finished jobs taken out of the queue (:meth:`clear_finished`): ``jobs()`` leaves
        them out, ``job()`` still knows them; a change to one brings it back."""
        self._subscribers: list[Callback] = []
        self._queues: list[asyncio.Queue[Event]] = []

    # -- loading -----------------------------------------------------------------------------

    def load(self, store: Store, *, drop_finished: bool) -> None:
        """The jobs of the store: interrupted ones back to ``queued``; with
        ``drop_finished``, an earlier run's finished rows are not in the queue."""
        self._store = store
        for job in store.list_jobs():
            if job.state in RUNNING_STATES:
                job = store.update_job(job.id, state=JobState.QUEUED,
                                       reason="resuming after a restart")
            elif job.state in FINISHED_STATES and drop_finished:
                self._cleared.add(job.id)  # an earlier run's finished row: not in the queue
            self._jobs[job.id] = job

    def unload(self) -> None:
        self._store = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("DownloadManager.start() has not run")
        return self._store

    @property
    def loaded(self) -> bool:
        return self._store is not None

    # -- queries -----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job of the queue, in the order they were added (not the cleared ones)."""
        return [self._jobs[k] for k in sorted(self._jobs) if k not in self._cleared]

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def __getitem__(self, job_id: int) -> Job:
        return self._jobs[job_id]

    def all(self) -> Iterable[Job]:
        """Every job known (cleared ones too), in no particular order."""
        return self._jobs.values()

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

    def clear_finished(self, running: Iterable[int]) -> list[int]:
        """Take the done, cancelled and expired jobs (not ``running``) out of the queue."""
        busy = set(running)
        gone = [jid for jid, job in sorted(self._jobs.items())
                if job.state in FINISHED_STATES and jid not in busy
                and jid not in self._cleared]
        self._cleared.update(gone)
        return gone

    def uncleared(self, job_id: int) -> None:
        """Asked for again: back in the queue (as it is)."""
        self._cleared.discard(job_id)

    def any_in(self, states: Iterable[JobState]) -> bool:
        wanted = set(states)
        return any(j.state in wanted for j in self._jobs.values())

    def queued_in_order(self, running: Iterable[int]) -> list[Job]:
        """Queued jobs not running, expiring-first (then oldest first)."""
        busy = set(running)
        return sorted((j for j in self._jobs.values()
                       if j.state == JobState.QUEUED and j.id not in busy), key=_order)

    # -- folders and names -------------------------------------------------------------------

    def dir_of(self, job: Job) -> Path:
        """The folder a job saves into (rows from before schema 4: the download folder)."""
        return job.directory if job.directory is not None else self._default_dir()

    def active_for(self, story_id: str, variant: str, target: Path) -> Job | None:
        """The newest queued, running or paused job of the story's variant into ``target``."""
        wanted = {JobState.QUEUED, JobState.PAUSED, *RUNNING_STATES}
        found = [j for j in self._jobs.values()
                 if j.story_id == story_id and j.variant == variant and j.state in wanted
                 and same_folder(self.dir_of(j), target)]
        return max(found, key=lambda j: j.id) if found else None

    def stems_in(self, directory: Path, *, besides: int | None = None,
                 sharing: tuple[str, str] | None = None) -> set[str]:
        """Stems of live jobs saving into ``directory`` (names reserved before files exist);
        ``sharing=(story_id, variant)``: not those of the story's other variants (its audio
        and video share a stem, told apart by the extension)."""
        return {j.stem for j in self._jobs.values()
                if j.stem and j.id != besides and same_folder(self.dir_of(j), directory)
                and not (sharing is not None and j.story_id == sharing[0]
                         and j.variant != sharing[1])}

    def stem_of_gone_copy(self, story_id: str, variant: str, directory: Path) -> str | None:
        """The stem of the newest finished job of the story's variant in ``directory`` whose
        files are all gone, unless a live job there holds it: a copy placed there again
        takes that name back (its old sidecar, describing the same story, is rewritten)."""
        gone = sorted((j for j in self._jobs.values()
                       if j.stem and j.story_id == story_id and j.variant == variant
                       and j.state in (JobState.DONE, JobState.FAILED)
                       and same_folder(self.dir_of(j), directory)
                       and j.files and not any(p.exists() for p in j.files)),
                      key=lambda j: j.id)
        claimed = {j.stem for j in self._jobs.values()
                   if j.state not in FINAL_STATES and same_folder(self.dir_of(j), directory)}
        if gone and gone[-1].stem and gone[-1].stem not in claimed:
            return gone[-1].stem
        return None

    def restorable_stem(self, job: Job) -> str | None:
        """The stem of an earlier finished job for the same story and variant whose files
        are all gone from disk (and not claimed by another live job), else None."""
        earlier = sorted(  # done, or failed after its file was saved (e.g. v: missing)
            (j for j in self._jobs.values()
             if j.id != job.id and j.stem and j.story_id == job.story_id
             and j.variant == job.variant
             and (j.state == JobState.DONE or (j.state == JobState.FAILED and j.files))
             and same_folder(self.dir_of(j), self.dir_of(job))),
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

    def stems(self) -> set[str]:
        """Every stem a job holds (a fresh name avoids all of them)."""
        return {j.stem for j in self._jobs.values() if j.stem}

    # -- changes -----------------------------------------------------------------------------

    def add(self, story: Story, **fields: Any) -> Job:
        """A new job (``Store.add_job``'s fields), published."""
        job = self.store.add_job(story, **fields)
        self._jobs[job.id] = job
        self.emit(JobChanged(job))
        return job

    def set(self, job_id: int, **changes: Any) -> Job:
        """Change a job (store first), bring it back into view, publish it."""
        job = self.store.update_job(job_id, **changes)
        self._jobs[job_id] = job
        self._cleared.discard(job_id)  # changed again: back in the queue
        self.emit(JobChanged(job))
        return job

    def record(self, job_id: int, **changes: Any) -> Job:
        """Change a job in the store without publishing it (bytes done, its source...)."""
        job = self.store.update_job(job_id, **changes)
        self._jobs[job_id] = job
        return job

    def publish(self, job: Job) -> Job:
        """Take ``job`` (as the store has it) into the queue and publish it."""
        self._jobs[job.id] = job
        self.emit(JobChanged(job))
        return job

    def forget(self, job_id: int) -> None:
        """A job row added but never published (its save could not be recorded)."""
        self._jobs.pop(job_id, None)
        self.store.delete_job(job_id)

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

    def emit(self, event: Event) -> None:
        for cb in list(self._subscribers):
            try:
                cb(event)
            except Exception:  # a broken listener must not stop downloads
                log.exception("download event listener failed")
        for q in self._queues:
            q.put_nowait(event)


def _order(job: Job) -> tuple[float, int]:
    exp = job.expires_at.timestamp() if job.expires_at else float("inf")
    return (exp, job.id)
