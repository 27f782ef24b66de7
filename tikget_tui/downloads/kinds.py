"""Running one job by its kind: a video (the best rendition with sound, switching
renditions when one turns out video-only), its sound as MP3, or a photo story's images."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from tikget_tui.downloads import convert
from tikget_tui.downloads.engine import DownloadError, Renditions
from tikget_tui.downloads.fetching import Sources
from tikget_tui.downloads.sniff import EXTENSIONS
from tikget_tui.downloads.steps import JobSteps, finalize_in_thread, own_file
from tikget_tui.downloads.transfer import (
    SOUND_IDENTITY,
    TransferResult,
    image_identity,
    video_identity,
)
from tikget_tui.files import naming
from tikget_tui.models import Codec, Kind, MediaSource, Story
from tikget_tui.store import JobState

log = logging.getLogger(__name__)

_CODEC_NAMES = {Codec.H264: "H.264", Codec.HEVC: "HEVC", Codec.BYTEVC2: "ByteVC2"}


def rendition_words(source: MediaSource) -> str:
    """"360p HEVC" (what the listing says about a rendition; no listing text)."""
    short = min(source.width, source.height)
    words = [f"{short}p" if short > 0 else "", _CODEC_NAMES.get(source.codec, "")]
    return " ".join(w for w in words if w)


def switch_note(silent: MediaSource | None, nxt: MediaSource) -> str:
    """One line: which rendition had no sound and which one is fetched instead."""
    old = rendition_words(silent) if silent is not None else ""
    new = rendition_words(nxt)
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


class KindJobs(JobSteps):
    """``run_video``, ``run_audio``, ``run_photo``: fetch, convert and name one job's files."""

    def ranked_video(self, story: Story) -> list[MediaSource]:
        sources = list(story.sources)
        if self.engine.settings.prefer_h264:
            # the client's order (tiktok/parse.rank_sources); re-applied here because a
            # restored job may have been listed before the setting changed
            rank = {Codec.H264: 0, Codec.HEVC: 1, Codec.UNKNOWN: 2, Codec.BYTEVC2: 3}
            sources.sort(key=lambda s: rank.get(s.codec, 1))
        else:
            sources.sort(key=lambda s: s.codec == Codec.BYTEVC2)
        return sources

    def video_sources(self, story: Story, skip: frozenset[str] = frozenset()) -> Sources:
        sources = [s for s in self.ranked_video(story) if video_identity(s) not in skip]
        return ([s.url for s in sources], [s.data_size for s in sources],
                [video_identity(s) for s in sources])

    async def run_video(self, job_id: int) -> None:
        e = self.engine
        directory, stem = self.names(e.queue[job_id])
        final = naming.inside(directory, stem + ".mp4")
        part = naming.inside(directory, stem + ".mp4.part")
        seen = e.seen(job_id)
        done_before = own_file(final) and not part.exists() and not self.replaces(job_id, final)
        if not done_before:  # (else a run before this one saved it; not a file to replace)
            e.queue.set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final,
                        reason=seen.note)
            while True:
                untried = functools.partial(self.video_sources, skip=frozenset(seen.tried))
                result = await self.fetcher.fetch(job_id, part, "video", untried)
                if not await self._video_only_switch(job_id, part, result, seen):
                    break
            e.queue.set(job_id, state=JobState.CONVERTING, reason=seen.note)
            final = await self.place_new(job_id, lambda s: s + ".mp4",
                                         functools.partial(self.keep, job_id, part))
            self.keep_hash(final, result, rewritten=e.write_metadata)
        e.queue.set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final,
                    part_path=None, part_source=None, reason=seen.note)

    async def _video_only_switch(self, job_id: int, part: Path, result: TransferResult,
                                 seen: Renditions) -> bool:
        """The file in ``part`` has no audio stream and another listed rendition has not
        been tried in this job: throw the file away and say so (True: fetch again).

        Each rendition (identity) is tried at most once per job. When every listed one
        turned out video-only, the last file is kept and verified as usual (it fails
        ``audio_present``; the reason says no rendition had sound).
        """
        from tikget_tui.verify.verifier import has_audio_stream

        e = self.engine
        job = e.queue[job_id]
        if job.story.has_sound is False or result.identity is None:
            return False  # a silent story is fine silent; an unknown source cannot be skipped
        if await has_audio_stream(part, e.tools_or_find()) is not False:
            return False  # sound, or unreadable: the verifier says what is wrong
        seen.tried.add(result.identity)
        ranked = self.ranked_video(job.story)
        silent = next((s for s in ranked if video_identity(s) == result.identity), None)
        nxt = next((s for s in ranked if video_identity(s) not in seen.tried), None)
        if nxt is None:
            seen.all_video_only = True
            log.info("job %s: every listed rendition is video-only (%d tried)", job_id,
                     len(seen.tried))
            return False
        seen.note = switch_note(silent, nxt)
        log.info("job %s: %s", job_id, seen.note)
        part.unlink(missing_ok=True)  # never kept, never under a final name
        e.queue.set(job_id, reason=seen.note, part_source=None, bytes_done=0, bytes_total=None)
        return True

    async def run_audio(self, job_id: int) -> None:
        e = self.engine
        job = e.queue[job_id]
        directory, stem = self.names(job)
        final = naming.inside(directory, stem + ".mp3")
        part = naming.inside(directory, stem + ".mp3.src.part")
        if own_file(final) and not part.exists() and not self.replaces(job_id, final):
            e.queue.set(job_id, state=JobState.CONVERTING, files=(final,), final_path=final)
            return
        e.queue.set(job_id, state=JobState.DOWNLOADING, part_path=part, final_path=final,
                    reason="")
        story = job.story
        # a video's own sound, from its video (a story the list gave no video link for gets
        # one from its post page); a photo story's sound track
        use_sound = story.kind == Kind.PHOTO
        if use_sound and story.sound is None:
            raise DownloadError("this story has no sound to save as MP3")

        def sound_sources(s: Story) -> Sources:
            return ([s.sound.url] if s.sound else []), [None], [SOUND_IDENTITY]

        result = await self.fetcher.fetch(job_id, part, "audio" if use_sound else "video",
                                          sound_sources if use_sound else self.video_sources)
        e.queue.set(job_id, state=JobState.CONVERTING)
        meta = self.metadata(e.queue[job_id]) if e.write_metadata else {}

        async def make(final: Path) -> None:
            if result.media_type == "mp3":
                await self.keep(job_id, part, final)
            else:
                await convert.extract_mp3(part, final, e.tools_or_find(), meta)
                part.unlink(missing_ok=True)

        final = await self.place_new(job_id, lambda s: s + ".mp3", make)
        self.keep_hash(final, result, rewritten=bool(meta) or result.media_type != "mp3")
        e.queue.set(job_id, files=(final,), final_path=final, part_path=None, part_source=None)

    async def run_photo(self, job_id: int) -> None:
        e = self.engine
        job = e.queue[job_id]
        directory, stem = self.names(job)
        if not job.story.images:
            raise DownloadError("this photo story lists no images")
        files = list(job.files)
        for i in range(1, len(job.story.images) + 1):
            prefix = f"{stem}-{i:02d}"
            if any(f.name.startswith(prefix + ".") and f.is_file() for f in files):
                continue
            part = naming.inside(directory, prefix + ".part")
            e.queue.set(job_id, state=JobState.DOWNLOADING, part_path=part, reason="")

            def image_sources(s: Story, i: int = i) -> Sources:
                img = s.images[i - 1] if i - 1 < len(s.images) else None
                urls = list(img.urls) if img else []
                return (urls, [None] * len(urls),
                        [image_identity(i, n) for n in range(len(urls))])

            result = await self.fetcher.fetch(job_id, part, "image", image_sources)
            ext = EXTENSIONS.get(result.media_type, ".jpg")
            def image_name(s: str, i: int = i, ext: str = ext) -> str:
                return f"{s}-{i:02d}{ext}"

            final = await self.place_new(job_id, image_name,
                                         functools.partial(finalize_in_thread, part))
            self.keep_hash(final, result, rewritten=False)
            files.append(final)
            e.queue.set(job_id, files=tuple(files), final_path=files[0], part_path=None,
                        part_source=None)
        e.queue.set(job_id, state=JobState.CONVERTING)
