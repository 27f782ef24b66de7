"""The steps every kind of job takes around its transfer: its name in the folder (kept
while it runs, given back when the story comes back), putting a finished file under that
name without replacing anything, the metadata written into it, and what the verifier
should expect of it."""

from __future__ import annotations

import asyncio
import functools
import logging
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

from tikget_tui.archive import sidecar_owners, sidecar_path
from tikget_tui.downloads import convert
from tikget_tui.downloads.engine import DownloadError, Engine
from tikget_tui.downloads.fetching import Fetcher
from tikget_tui.downloads.transfer import TransferResult, finalize
from tikget_tui.files import naming, safefile
from tikget_tui.store import Job
from tikget_tui.verify.report import Expected

log = logging.getLogger(__name__)


def own_file(path: Path) -> bool:
    """A finished file of ours under ``path`` (not a link, not another user's file)."""
    st = safefile.lstat_or_none(path)
    return st is not None and safefile.is_own(st)


async def finalize_in_thread(part: Path, final: Path) -> None:
    await asyncio.to_thread(finalize, part, final)


class JobSteps:
    """Names, placing, metadata and expectations of one job (over the shared engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fetcher = Fetcher(engine)

    def names(self, job: Job) -> tuple[Path, str]:
        """The job's folder (created when missing) and stem, chosen once and kept."""
        e = self.engine
        directory = e.download_dir(job)
        if job.stem:
            return directory, job.stem
        restored = e.queue.restorable_stem(job)
        if restored is not None:
            # the same story saved before, its files since deleted: put it back where it was
            # (the old sidecar, describing the same story, is rewritten)
            e.queue.set(job.id, stem=restored)
            return directory, restored
        taken = e.queue.stems_in(directory, besides=job.id, sharing=(job.story.id, job.variant))
        stem = naming.build_stem(job.story, e.settings.filename_template, kind=job.variant)
        stem = naming.choose_stem(directory, stem, job.story.id, taken=taken,
                                  variant=job.variant,
                                  owners=functools.partial(sidecar_owners, directory))
        naming.inside(directory, sidecar_path(directory, stem, job.variant).name)
        e.queue.set(job.id, stem=stem)
        return directory, stem

    async def place_new(self, job_id: int, name_of: Callable[[str], str],
                        make: Callable[[Path], Awaitable[None]]) -> Path:
        """``await make(final)`` for the job's final name; ``make`` never replaces anything
        (FileExistsError), so when something appeared under that name meanwhile (not made by
        this job) the job takes a fresh stem and tries again."""
        e = self.engine
        for _ in range(5):
            directory, stem = self.names(e.queue[job_id])
            final = naming.inside(directory, name_of(stem))
            try:
                await make(final)
                return final
            except FileExistsError:
                if await self.replace_failing(job_id, final):
                    continue  # the failing file it replaces is gone: the same name again
                fresh = naming.choose_stem(directory, stem, e.queue[job_id].story.id,
                                           taken=e.queue.stems())
                naming.inside(directory, name_of(fresh))
                log.info("job %s: %s exists (not ours); saving as %s", job_id, final.name,
                         name_of(fresh))
                why = (f"{final.name} appeared in the folder meanwhile (not made by this "
                       f"download; left alone); saved as {name_of(fresh)}")
                seen = e.seen(job_id)
                seen.note = f"{seen.note}; {why}" if seen.note else why  # kept as the reason
                e.queue.set(job_id, stem=fresh, reason=seen.note)
        raise DownloadError("every name tried for this story was taken in the folder meanwhile; "
                            "retry later")

    def replaces(self, job_id: int, final: Path) -> bool:
        """Whether ``final`` is a failing file this job was asked to replace."""
        return final in self.engine.replacing.get(job_id, {})

    async def replace_failing(self, job_id: int, final: Path) -> bool:
        """Remove ``final`` when it is the very file (same inode) this job was asked to
        replace (enqueue(replace=True)); anything else there is left alone."""
        expected = self.engine.replacing.get(job_id, {}).pop(final, None)
        if expected is None:
            return False
        st = safefile.lstat_or_none(final)
        if st is None or not stat.S_ISREG(st.st_mode) or safefile.stamp_of(st) != expected:
            return False
        await asyncio.to_thread(final.unlink)
        log.info("job %s: replaced the failing %s", job_id, final.name)
        return True

    async def keep(self, job_id: int, part: Path, final: Path) -> None:
        """The finished ``part`` as the new file ``final``: tagged by ffmpeg (reading the
        .part, writing a private folder) when metadata is on, else the .part itself."""
        e = self.engine
        if e.write_metadata:
            await convert.tag(part, final, self.metadata(e.queue[job_id]), e.tools_or_find())
            part.unlink(missing_ok=True)
        else:
            await asyncio.to_thread(finalize, part, final)

    def keep_hash(self, final: Path, result: TransferResult, *, rewritten: bool) -> None:
        """Remember the transfer's sha256 for ``final`` unless ffmpeg rewrites the file."""
        if result.sha256 is not None and not rewritten:
            self.engine.streamed[final] = result.sha256
        else:
            self.engine.streamed.pop(final, None)

    def metadata(self, job: Job) -> dict[str, str]:
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

    @staticmethod
    def expected(job: Job) -> Expected:
        s = job.story
        if job.variant == "photo":
            return Expected(kind="photo")
        if job.variant == "audio":
            return Expected(kind="audio", duration=s.duration or None, has_sound=True)
        return Expected(kind="video", duration=s.duration or None, has_sound=s.has_sound)
