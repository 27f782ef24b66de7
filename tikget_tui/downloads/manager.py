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
import functools
import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.downloads import convert, naming, sidecar
from tikget_tui.downloads.events import Event, JobChanged, Progress
from tikget_tui.downloads.transfer import (
    EXTENSIONS,
    SOUND_IDENTITY,
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
from tikget_tui.mediatools import MediaTools, ToolNotFound
from tikget_tui.models import Codec, Kind, MediaSource, Story
from tikget_tui.store import (
    ACTIVE_STATES,
    FINAL_STATES,
    RUNNING_STATES,
    ArchiveEntry,
    InstanceLock,
    Job,
    JobState,
    Store,
)

log = logging.getLogger(__name__)

Callback = Callable[[Event], None]
# (urls, DataSizes, identities) of a story's ranked sources for one file
Sources = tuple[Sequence[str], Sequence[int | None], Sequence[str | None]]
_PERSIST_EVERY = 1.0  # seconds between bytes_done writes to the store while transferring


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
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._intent: dict[int, str] = {}
        self._renditions: dict[int, _Renditions] = {}
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
        """Every job, in the order they were added."""
        return [self._jobs[k] for k in sorted(self._jobs)]

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

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
        self._emit(JobChanged(job))
        return job

    # -- commands ----------------------------------------------------------------------------

    async def enqueue(
        self, story: Story, *, audio: bool = False, note: str = "", again: bool = False
    ) -> Job:
        self._require_started()
        variant = _variant(story, audio)
        active = self.store.active_job_for(story.id, variant)
        if active is not None:
            return self._jobs.get(active.id, active)
        reason = ""
        if not again:
            earlier = [j for j in self.store.list_jobs([JobState.FAILED])
                       if j.story_id == story.id and j.variant == variant and not j.files]
            if earlier:  # a failed attempt keeps its .part: go on from there
                self._set(earlier[-1].id, story=story)
                return await self.retry(earlier[-1].id)
            entry = self.store.archive_get(story.id, variant)
            if entry is not None:
                missing = entry.missing_files()
                if not missing:
                    job = self.store.get_job(entry.job_id) if entry.job_id is not None else None
                    if job is not None and job.state == JobState.DONE:
                        return self._jobs.get(job.id, job)
                    job = self.store.add_job(
                        story, variant=variant, audio=audio, note=note, state=JobState.DONE,
                        reason=f"already saved: {entry.path.name}",
                    )
                    job = self.store.update_job(job.id, final_path=entry.path,
                                                files=entry.all_files, verdict=entry.verdict,
                                                sha256=entry.sha256)
                    self._jobs[job.id] = job
                    self._emit(JobChanged(job))
                    return job
                self.store.archive_delete(story.id, variant)
                reason = f"{missing[0].name} was deleted from disk; saving it again"
        job = self.store.add_job(story, variant=variant, audio=audio,
                                 note=note or self.settings.default_note, reason=reason)
        self._jobs[job.id] = job
        self._emit(JobChanged(job))
        self._wake.set()
        return job

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
        job = self._set(job_id, state=JobState.QUEUED, reason="", retries=job.retries + 1)
        self._wake.set()
        return job

    async def reverify(self, job_id: int) -> Job:
        job = self._get(job_id)
        if job.state not in (JobState.DONE, JobState.FAILED) or not job.files:
            return job
        if job_id in self._tasks:
            return job
        task = asyncio.create_task(self._guard(job_id, self._verify_and_finish(job_id)))
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
            self._tools = MediaTools.find(self.settings.ffmpeg_path, self.settings.ffprobe_path)
        return self._tools

    def _download_dir(self) -> Path:
        d = self.settings.download_dir
        if d.is_dir():
            return d
        if d.exists():
            raise DownloadError(f"the download folder {d} is not a folder; choose another (--dir)")
        if not d.parent.is_dir():
            raise DownloadError(
                f"the download folder {d} does not exist (nor its parent); "
                "create it or choose another (--dir)"
            )
        try:
            d.mkdir()
        except FileExistsError:
            pass
        except OSError as exc:
            raise DownloadError(f"cannot create the download folder {d}: {exc.strerror}") from None
        return d

    def _names(self, job: Job) -> tuple[Path, str]:
        directory = self._download_dir()
        if job.stem:
            return directory, job.stem
        restored = self._restorable_stem(job)
        if restored is not None:
            # the same story saved before, its files since deleted: put it back where it was
            # (the old sidecar, describing the same story, is rewritten)
            self._set(job.id, stem=restored)
            return directory, restored
        taken = {j.stem for j in self._jobs.values() if j.stem and j.id != job.id}
        stem = naming.build_stem(job.story, self.settings.filename_template, kind=job.variant)
        stem = naming.choose_stem(directory, stem, job.story.id, taken=taken)
        naming.inside(directory, stem + ".info.json")
        self._set(job.id, stem=stem)
        return directory, stem

    def _restorable_stem(self, job: Job) -> str | None:
        """The stem of an earlier finished job for the same story and variant whose files
        are all gone from disk (and not claimed by another live job), else None."""
        earlier = sorted(
            (j for j in self._jobs.values()
             if j.id != job.id and j.stem and j.story_id == job.story_id
             and j.variant == job.variant and j.state == JobState.DONE),
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
        if job.variant == "photo":
            await self._run_photo(job_id)
        elif job.variant == "audio":
            await self._run_audio(job_id)
        else:
            await self._run_video(job_id)
        await self._verify_and_finish(job_id)

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
        if not (final.is_file() and not part.exists()):
            self._set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final,
                      reason=seen.note)
            while True:
                untried = functools.partial(self._video_sources, skip=frozenset(seen.tried))
                result = await self._fetch(job_id, part, "video", untried)
                if not await self._video_only_switch(job_id, part, result, seen):
                    break
            await asyncio.to_thread(finalize, part, final)
            self._keep_hash(final, result, rewritten=self.write_metadata)
        self._set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final,
                  part_path=None, part_source=None, reason=seen.note)
        if self.write_metadata:
            await convert.tag(final, self._metadata(self._jobs[job_id]), self._tools_or_find())

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
        if final.is_file() and not part.exists():
            self._set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final)
            return
        self._set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final, reason="")
        story = job.story
        use_sound = story.kind == Kind.PHOTO or not story.sources
        if use_sound and story.sound is None:
            raise DownloadError("this story has no sound to save as MP3")

        def sound_sources(s: Story) -> Sources:
            return ([s.sound.url] if s.sound else []), [None], [SOUND_IDENTITY]

        result = await self._fetch(job_id, part, "audio" if use_sound else "video",
                                   sound_sources if use_sound else self._video_sources)
        self._set(job_id, state=JobState.CONVERTING)
        meta = self._metadata(self._jobs[job_id]) if self.write_metadata else {}
        if result.media_type == "mp3":
            await asyncio.to_thread(finalize, part, final)
            self._keep_hash(final, result, rewritten=bool(meta))
            if meta:
                await convert.tag(final, meta, self._tools_or_find())
        else:
            await convert.extract_mp3(part, final, self._tools_or_find(), meta)
            part.unlink(missing_ok=True)
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
            final = naming.inside(directory, prefix + EXTENSIONS.get(result.media_type, ".jpg"))
            await asyncio.to_thread(finalize, part, final)
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
            # written before the first byte from this source lands in the .part
            self._jobs[job_id] = self.store.update_job(job_id, part_source=identity)

        def on_restart(reason: str) -> None:
            log.info("job %s: %s", job_id, reason)
            self._set(job_id, reason=reason)

        while True:
            job = self._jobs[job_id]
            urls, sizes, identities = sources_of(job.story)
            if not urls:
                raise DownloadError("the story lists no media to download")
            has_part = part.exists()
            transfer = Transfer(
                client=self._client, urls=urls, part=part, want=want,
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
                if exc.kind in ("expired", "forbidden") and not reresolved:
                    reresolved = True
                    await self._reresolve(job_id, exc.reason)
                    continue
                if exc.kind in ("expired", "forbidden") and self._is_expired(job):
                    raise DownloadError(
                        f"the story expired while downloading ({exc.reason})", JobState.EXPIRED
                    ) from None
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
        self._set(job_id, story=fresh, reason="fresh links after the old ones were refused")

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
        from tikget_tui.verify.verifier import sha256_file

        job = self._set(job_id, state=JobState.VERIFYING, part_path=None)
        directory = self._download_dir()
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
                                  sha256=self._streamed.pop(path, None))
            d = report.to_dict()
            reports.append(d)
            self.store.save_report(path, d, story_id=job.story.id)
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
        await asyncio.to_thread(sidecar.write, sidecar.sidecar_path(directory, job.stem), data)
        main = entries[0]
        self.store.archive_put(ArchiveEntry(
            story_id=job.story.id, variant=job.variant, path=job.files[0], files=job.files,
            sha256=main["sha256"], size=sum(e["size"] for e in entries), verdict=worst,
            saved_at=saved_at, creator=job.story.creator.unique_id, job_id=job_id,
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

    def _remove_parts(self, job: Job) -> None:
        """Remove this job's partial files: STEM.mp4.part, STEM.mp3.src.part, STEM-NN.part."""
        paths = [job.part_path] if job.part_path else []
        if job.stem:
            own = re.compile(re.escape(job.stem) + r"(?:\.mp4|\.mp3\.src|-\d{2})\.part")
            with contextlib.suppress(OSError):
                for entry in os.scandir(self.settings.download_dir):
                    if own.fullmatch(entry.name):
                        paths.append(Path(entry.path))
        for p in paths:
            with contextlib.suppress(OSError):
                p.unlink()
        if job.part_source is not None and self._store is not None:
            self._jobs[job.id] = self.store.update_job(job.id, part_source=None)
