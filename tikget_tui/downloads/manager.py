"""The download engine: a persistent, expiring-first queue of jobs run in the caller's loop.

:class:`DownloadManager` ties the parts together and owns the workers: the queue
(:mod:`.queue`: jobs, states, order, events), taking a story in (:mod:`.intake`: the
archive decides once, the intake acts), running one job (:mod:`.runner` over
:mod:`.kinds`, :mod:`.steps` and :mod:`.fetching`, with :mod:`.relookup` for stale links).
The :class:`~tikget_tui.store.Store` owns the truth: every state change is written there
first, then published as a :class:`JobChanged`; transfers publish rate-limited
:class:`Progress`. See docs/contracts.md ("Downloads and store").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from tikget_tui.archive import Archive
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.downloads import convert
from tikget_tui.downloads.engine import DownloadError, Engine
from tikget_tui.downloads.events import Enqueued, Event
from tikget_tui.downloads.intake import Intake
from tikget_tui.downloads.queue import Callback, JobQueue
from tikget_tui.downloads.runner import JobRunner
from tikget_tui.downloads.transfer import Opener, RetryPolicy, TransferError, disk_reason, open_part
from tikget_tui.files import naming, safefile
from tikget_tui.mediatools import MediaTools, ToolNotFound
from tikget_tui.models import Story
from tikget_tui.store import ACTIVE_STATES, RUNNING_STATES, InstanceLock, Job, JobState, Store

log = logging.getLogger(__name__)

__all__ = ["DownloadError", "DownloadManager"]


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
        queue = JobQueue(lambda: self._engine.folder(None), store)
        self._engine = Engine(
            settings=settings, clock=clock, queue=queue,
            retry_policy=retry or RetryPolicy(attempts=settings.max_retries), opener=opener,
            write_metadata=write_metadata, progress_rate=progress_per_second, client=client,
            tools=tools)
        self._queue = self._engine.queue
        self._own_client = client is None
        self._given_store = store
        self._lock = InstanceLock(settings.data_dir) if lock else None
        self._intake = Intake(self._engine, self.retry, self._wake_up)
        self._runner = JobRunner(self._engine)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._intent: dict[int, str] = {}
        self._enqueued: dict[int, Enqueued] = {}  # what the last enqueue of a job did
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._started = False
        self._stopping = False

    # -- what the engine shares --------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._engine.settings

    @property
    def clock(self) -> Clock:
        return self._engine.clock

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._engine.retry_policy

    @property
    def write_metadata(self) -> bool:
        return self._engine.write_metadata

    @property
    def store(self) -> Store:
        return self._queue.store

    @property
    def archive(self) -> Archive:
        """What was saved, where, with which note (over this manager's store)."""
        return self._engine.archive

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> DownloadManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._started:
            return
        e = self._engine
        if self._lock is not None:
            self._lock.acquire()
        try:
            store = self._given_store or Store.open(e.settings.state_db)
            if e.client is None:
                from tikget_tui.tiktok import TikTokClient

                client = TikTokClient(e.settings, clock=e.clock)
                await client.__aenter__()
                e.client = client
        except BaseException:
            if self._given_store is None and "store" in locals():
                store.close()
            if self._lock is not None:
                self._lock.release()
            raise
        self._queue.load(store, drop_finished=e.settings.drop_finished_at_start)
        e.archive_ = Archive(store)
        if e.settings.download_dir.is_dir():
            convert.cleanup_temp(e.settings.download_dir)
        self._started = True
        self._stopping = False
        self._scheduler = asyncio.create_task(self._schedule(), name="tikget-downloads")

    async def stop(self) -> None:
        """Stop the workers; interrupted jobs go back to ``queued`` and resume next start."""
        if not self._started:
            return
        e = self._engine
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
        if self._own_client and e.client is not None:
            with contextlib.suppress(Exception):
                await e.client.__aexit__(None, None, None)
            e.client = None
        if self._given_store is None and self._queue.loaded:
            self._queue.store.close()
            self._queue.unload()
        if self._lock is not None:
            self._lock.release()
        self._started = False

    # -- queries -----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """Every job of the queue, in the order they were added (not the cleared ones)."""
        return self._queue.jobs()

    def job(self, job_id: int) -> Job | None:
        return self._queue.job(job_id)

    def known_stories(self, username: str) -> list[Story]:
        """The stories of ``username`` its jobs hold (:meth:`JobQueue.known_stories`)."""
        return self._queue.known_stories(username)

    def clear_finished(self) -> list[int]:
        """Take the done, cancelled and expired jobs out of the queue; their ids.

        They stay known (``job()``, the archive's already-saved answers) and in the store
        (the library reads a saved story's caption and dates from its job); a job that
        changes again (a new note, a retry) comes back. With
        ``settings.drop_finished_at_start`` the next start leaves them out too."""
        return self._queue.clear_finished(self._tasks)

    async def wait_idle(self) -> None:
        """Return when no job is queued or running (paused ones do not count)."""
        while True:
            if not self._tasks and not self._queue.any_in(ACTIVE_STATES):
                return
            self._idle.clear()
            self._wake.set()
            await self._idle.wait()

    # -- events ------------------------------------------------------------------------------

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        return self._queue.subscribe(callback)

    def events(self) -> AsyncIterator[Event]:
        return self._queue.events()

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
        self._require_started()
        if replace:
            job, how = await self._intake.enqueue_replacing(story, audio=audio, note=note,
                                                            directory=directory)
        else:
            job, how = await self._intake.enqueue(story, audio=audio, note=note, again=again,
                                                  directory=directory)
        self._enqueued[job.id] = how
        return job

    def enqueued_as(self, job_id: int) -> Enqueued | None:
        """What the latest ``enqueue`` that returned this job did (None: never enqueued in
        this run): a new download, one already queued, already saved, or a copy."""
        return self._enqueued.get(job_id)

    async def pause(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state in RUNNING_STATES and job_id in self._tasks:
            await self._interrupt(job_id, "pause")
            return self._queue[job_id]
        if job.state == JobState.QUEUED:
            return self._queue.set(job_id, state=JobState.PAUSED, reason="paused")
        return job

    async def resume(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state != JobState.PAUSED:
            return job
        job = self._queue.set(job_id, state=JobState.QUEUED, reason="")
        self._wake.set()
        return job

    async def cancel(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job_id in self._tasks:
            await self._interrupt(job_id, "cancel")
            return self._queue[job_id]
        if job.state in (JobState.QUEUED, JobState.PAUSED, JobState.FAILED):
            self._engine.remove_parts(job)
            return self._queue.set(job_id, state=JobState.CANCELLED, reason="cancelled")
        return job

    async def retry(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state not in (JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED):
            return job
        if job.files:  # saved once, then failed (verification, or v found it changed):
            # downloaded again under its name, replacing exactly these files, never
            # finished by recording what is on disk now as if it were the save
            self._engine.replacing[job_id] = self._engine.stamps_of(job.files)
            job = self._queue.set(job_id, files=(), final_path=None)
        job = self._queue.set(job_id, state=JobState.QUEUED, reason="", retries=job.retries + 1)
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
        task = asyncio.create_task(self._guard(job_id, self._runner.check_again(job_id)))
        self._tasks[job_id] = task
        task.add_done_callback(self._done_callback(job_id))
        await task
        return self._queue[job_id]

    def set_download_dir(self, path: Path) -> None:
        """Save the next downloads into ``path`` (a folder the user chose in the app).

        Unfinished jobs whose own folder cannot be used (it is gone, or was never made)
        move with it, so retrying them works; jobs in a folder that exists stay there
        (their .part is there)."""
        e = self._engine
        e.settings = e.settings.with_download_dir(path)
        target = e.folder(None)
        for job in list(self._queue.all()):
            if job.state in (JobState.DONE, *RUNNING_STATES) or job.files:
                continue
            if not self._queue.dir_of(job).is_dir():
                self._queue.record(job.id, directory=target, stem=None, part_path=None,
                                   part_source=None)

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("DownloadManager.start() has not run")

    def _get(self, job_id: int) -> Job:
        self._require_started()
        job = self._queue.job(job_id)
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

    # -- the workers -------------------------------------------------------------------------

    def _wake_up(self) -> None:
        self._wake.set()

    async def _schedule(self) -> None:
        while not self._stopping:
            self._wake.clear()
            now = self.clock.now()
            for job in self._queue.queued_in_order(self._tasks):
                if len(self._tasks) >= self.settings.concurrency:
                    break
                if job.expires_at is not None and job.expires_at <= now and job.bytes_done == 0:
                    self._engine.remove_parts(job)
                    self._queue.set(job.id, state=JobState.EXPIRED, reason=(
                        "the story expired before its turn came "
                        f"({job.expires_at.strftime('%Y-%m-%d %H:%M')} UTC); nothing was saved"))
                    continue
                task = asyncio.create_task(self._guard(job.id, self._runner.run(job.id)),
                                           name=f"tikget-job-{job.id}")
                self._tasks[job.id] = task
                task.add_done_callback(self._done_callback(job.id))
            if not self._tasks and not self._queue.any_in((JobState.QUEUED,)):
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
        if not self._tasks and not self._queue.any_in(ACTIVE_STATES):
            self._idle.set()

    async def _guard(self, job_id: int, work: Any) -> None:
        """Run a job's work and turn every outcome into a state with a reason."""
        queue = self._queue
        try:
            await work
        except asyncio.CancelledError:
            intent = self._intent.get(job_id, "stop")
            job = queue[job_id]
            if intent == "pause":
                queue.set(job_id, state=JobState.PAUSED,
                          reason="paused; resumes from where it stopped")
            elif intent == "cancel":
                self._engine.remove_parts(job)
                queue.set(job_id, state=JobState.CANCELLED, reason="cancelled")
            elif queue.loaded:
                queue.set(job_id, state=JobState.QUEUED,
                          reason="interrupted; resumes from where it stopped")
        except DownloadError as exc:
            job = queue[job_id]
            if exc.state in (JobState.EXPIRED, JobState.CANCELLED):
                self._engine.remove_parts(job)
            queue.set(job_id, state=exc.state, reason=exc.reason)
        except TransferError as exc:
            queue.set(job_id, state=JobState.FAILED, reason=exc.reason)
        except (safefile.ForeignFile, safefile.ClaimHeld) as exc:
            queue.set(job_id, state=JobState.FAILED, reason=exc.reason)
        except OSError as exc:
            where = self.settings.download_dir / "x"
            queue.set(job_id, state=JobState.FAILED, reason=disk_reason(exc, where))
        except (ToolNotFound, convert.ConvertError, naming.UnsafePath) as exc:
            queue.set(job_id, state=JobState.FAILED, reason=str(exc))
        except Exception as exc:
            log.exception("download job %s failed", job_id)
            queue.set(job_id, state=JobState.FAILED,
                      reason=f"unexpected error ({type(exc).__name__}: {exc}); retry, or report it")
