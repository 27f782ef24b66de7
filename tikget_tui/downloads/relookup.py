"""Fresh links for a job whose media links went stale: the story looked up again (its list,
or its post page for a post), or, as gallery-dl does, the story's post page asked for its
media when the list gave none that work. A story no longer listed has expired."""

from __future__ import annotations

import dataclasses
import logging

from tikget_tui.downloads.engine import DownloadError, Engine
from tikget_tui.models import AGE_GATED
from tikget_tui.store import Job, JobState

log = logging.getLogger(__name__)


class Relookup:
    """Looks a job's story up again through the engine's client."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def is_expired(self, job: Job) -> bool:
        exp = job.story.expires_at
        return exp is not None and exp <= self.engine.clock.now()

    async def media_from_post_page(self, job_id: int, why: str) -> None:
        """Take the story's media links from its post page (``/@user/video/ID``), as
        gallery-dl does, when the story list gave none that work (``why``)."""
        from tikget_tui.links import PostTarget
        from tikget_tui.tiktok.errors import AgeRestricted, PostUnavailable, TikTokError

        e = self.engine
        job = e.queue[job_id]
        story = job.story
        log.info("job %s: %s; asking its post page", job_id, why)
        try:
            page = await e.client.resolve(PostTarget(
                post_id=story.id, username=story.creator.unique_id or None, kind=str(story.kind)))
        except AgeRestricted:
            raise DownloadError(AGE_GATED) from None
        except PostUnavailable as exc:
            state = JobState.EXPIRED if self.is_expired(job) else JobState.FAILED
            raise DownloadError(f"{why}; its post page says: {exc.reason}", state) from None
        except TikTokError as exc:
            raise DownloadError(f"{why}; its post page failed too: {exc.reason}") from None
        fresh = dataclasses.replace(
            story, kind=page.kind, sources=page.sources, images=page.images,
            sound=page.sound or story.sound, duration=page.duration or story.duration,
            width=page.width or story.width, height=page.height or story.height,
            has_sound=page.has_sound if page.has_sound is not None else story.has_sound)
        e.queue.set(job_id, story=fresh, reason=f"{why}; using the links from its post page")

    async def reresolve(self, job_id: int, why: str) -> None:
        """Look the story up again for fresh links (and cookies); expired when it is gone."""
        from tikget_tui.links import PostTarget
        from tikget_tui.tiktok.errors import PostUnavailable, TikTokError, UserNotFound

        e = self.engine
        job = e.queue[job_id]
        story = job.story
        try:
            if story.is_story:
                listing = await e.client.lookup_stories(
                    story.creator.unique_id or story.creator.user_id
                )
                fresh = next((s for s in listing.stories if s.id == story.id), None)
            else:
                fresh = await e.client.resolve(
                    PostTarget(post_id=story.id, username=story.creator.unique_id or None,
                               kind=str(story.kind))
                )
        except (PostUnavailable, UserNotFound):
            fresh = None
        except TikTokError as exc:
            if self.is_expired(job):
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
        e.queue.set(job_id, story=fresh,
                    reason="looked up again for fresh links (the old ones expired or were refused)")
