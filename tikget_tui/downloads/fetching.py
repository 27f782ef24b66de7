"""One file of a job fetched into its ``.part``: the transfer with rate-limited progress
(published, and persisted about once a second), and the fallbacks when the links went
stale: one fresh look-up of the story, then its post page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tikget_tui.downloads.engine import DownloadError, Engine
from tikget_tui.downloads.events import Progress
from tikget_tui.downloads.rate import RateLimiter
from tikget_tui.downloads.relookup import Relookup
from tikget_tui.downloads.transfer import (
    MediaLimits,
    Transfer,
    TransferError,
    TransferResult,
)
from tikget_tui.models import Story
from tikget_tui.store import JobState

log = logging.getLogger(__name__)

# (urls, DataSizes, identities) of a story's ranked sources for one file
Sources = tuple[Sequence[str], Sequence[int | None], Sequence[str | None]]
_PERSIST_EVERY = 1.0  # seconds between bytes_done writes to the store while transferring


class Fetcher:
    """``fetch``: transfer one file of a job, looking the story up again when needed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.relookup = Relookup(engine)

    async def fetch(
        self, job_id: int, part: Path, want: str,
        sources_of: Callable[[Story], Sources],
    ) -> TransferResult:
        """Transfer into ``part``; on an expired/refused link look the story up once again."""
        e = self.engine
        reresolved = False
        limiter = RateLimiter(e.progress_rate)
        last_persist = [0.0]
        loop = asyncio.get_running_loop()
        state: dict[str, Any] = {"done": 0, "total": None}

        def on_progress(done: int, total: int | None) -> None:
            state["done"], state["total"] = done, total
            if not limiter.due():
                return
            speed = limiter.speed(done)
            eta = (total - done) / speed if total and speed > 0 else None
            e.queue.emit(Progress(job_id, done, total, speed, eta))
            now = loop.time()
            if now - last_persist[0] >= _PERSIST_EVERY:
                last_persist[0] = now
                e.queue.record(job_id, bytes_done=done, bytes_total=total)

        def on_source(identity: str | None) -> None:
            log.info("job %s: fetching %s from source %s", job_id, part.name, identity)
            # written before the first byte from this source lands in the .part
            e.queue.record(job_id, part_source=identity)

        def on_restart(reason: str) -> None:
            log.info("job %s: %s", job_id, reason)
            e.queue.set(job_id, reason=reason)

        post_page = False  # the story's post page was asked for its media
        while True:
            limiter.restart()  # speed and ETA of this attempt only (a resumed .part is no
            # burst of bytes: a restart once showed 531 MB/s)
            job = e.queue[job_id]
            urls, sizes, identities = sources_of(job.story)
            if not urls:
                if not post_page:
                    post_page = True
                    await self.relookup.media_from_post_page(
                        job_id, "the story list gave no usable media link")
                    continue
                raise DownloadError("no usable media link, in the story list nor on its "
                                    "post page")
            has_part = part.exists()
            transfer = Transfer(
                client=e.client, urls=urls, part=part, want=want,
                limits=MediaLimits.from_settings(e.settings), stamps=e.stamps,
                expected_sizes=sizes, referer=job.story.canonical_url or None,
                retry=e.retry_policy,
                opener=e.opener, on_progress=on_progress,
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
                    await self.relookup.reresolve(job_id, exc.reason)
                    continue
                if exc.kind in ("expired", "forbidden") and self.relookup.is_expired(job):
                    raise DownloadError(
                        f"the story expired while downloading ({exc.reason})", JobState.EXPIRED
                    ) from None
                if exc.kind in ("expired", "forbidden", "gone"):
                    if not post_page and job.story.is_story:
                        # refused even after a fresh look-up: gallery-dl's place to look
                        post_page = True
                        await self.relookup.media_from_post_page(
                            job_id, f"the story list's links were refused ({exc.reason})")
                        continue
                    if post_page:
                        raise DownloadError(f"{exc.reason}; the links from its post page were "
                                            "tried too") from None
                raise
            finally:
                speed = limiter.speed(state["done"])
                e.queue.emit(Progress(job_id, state["done"], state["total"], speed,
                                      0.0 if state["done"] == state["total"] else None,
                                      final=True))
            e.queue.record(job_id, bytes_done=result.size, bytes_total=result.size)
            return result
