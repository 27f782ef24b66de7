"""Running one job from its claim to its record: one tikget at a time saves a story into
a folder (a claim); a story another tikget saved there is taken over; otherwise its kind
runs (:mod:`.kinds`); then every file is verified and the save recorded in the archive
(sidecar and row together). Also ``v``: a saved job's files checked again."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path
from typing import Any

from tikget_tui.archive import read_sidecar, sidecar_path
from tikget_tui.downloads.engine import DownloadError, Renditions
from tikget_tui.downloads.events import CHANGED_REASON, MISSING_REASON
from tikget_tui.downloads.kinds import KindJobs
from tikget_tui.files import naming, safefile
from tikget_tui.models import AGE_GATED
from tikget_tui.store import Job, JobState

log = logging.getLogger(__name__)

_MAX_SIDECAR = 1024 * 1024  # a sidecar bigger than this is not one of ours: never read
_ORDER = {"ok": 0, "warn": 1, "fail": 2}


class JobRunner(KindJobs):
    """``run`` (a queued job to done, failed or expired) and ``check_again`` (``v``)."""

    async def run(self, job_id: int) -> None:
        e = self.engine
        job = e.queue[job_id]
        if job.story.age_gated:  # never its music instead, never "no media"
            raise DownloadError(AGE_GATED)
        directory = e.download_dir()
        naming.inside(directory, f".tikget-{job.story.id}-{job.variant}.claim")
        claim = safefile.Claim(directory, job.story.id, job.variant)

        def waiting() -> None:
            e.queue.set(job_id, reason="another tikget is saving this story into the same "
                                       "folder; waiting for it to finish")

        # one tikget at a time saves a story into a folder (state folders may differ)
        saved = await claim.acquire(waiting)
        stem: str | None = None
        files: list[str] | None = None
        try:
            if not self._adopt(job_id, saved or self._saved_beside(job), directory):
                if job.variant == "photo":
                    await self.run_photo(job_id)
                elif job.variant == "audio":
                    await self.run_audio(job_id)
                else:
                    await self.run_video(job_id)
            await self._verify_and_finish(job_id)
            done = e.queue[job_id]
            stem, files = done.stem, [p.name for p in done.files]
        finally:
            claim.release(stem, files)

    def _saved_beside(self, job: Job) -> dict[str, Any]:
        """``{"stem": ...}`` when a sidecar under the story's usual name may show that
        another tikget saved it (checked by :meth:`_adopt`); else {}."""
        if job.files or job.stem:
            return {}  # this job has its own name already
        return {"stem": naming.build_stem(job.story, self.engine.settings.filename_template,
                                          kind=job.variant)}

    def _adopt(self, job_id: int, saved: dict[str, Any], directory: Path) -> bool:
        """Another tikget saved this story into the folder: take its files over instead of
        saving a second copy. Only when the sidecar ``STEM.info.json`` (a regular file of
        sane size) describes this very story and variant, every file it lists (named after
        STEM) is there as a regular file, the claim (when it names files) lists the same, and
        this instance never archived the story (``again`` makes a new copy on purpose)."""
        e = self.engine
        job = e.queue[job_id]
        stem = saved.get("stem")
        if job.files or not isinstance(stem, str) or not stem:
            return False
        if e.archive.saved_anywhere(job.story.id, job.variant) is not None:
            return False
        try:
            side = naming.inside(directory, sidecar_path(directory, stem, job.variant).name)
        except naming.UnsafePath:
            return False
        st = safefile.lstat_or_none(side)
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_SIDECAR:
            return False
        data = read_sidecar(side) or {}
        if (data.get("story_id"), data.get("variant")) != (job.story.id, job.variant):
            return False
        names = [x.get("name") for x in data.get("files") or [] if isinstance(x, dict)]
        if not names or saved.get("files", names) != names:
            return False
        try:
            paths = [naming.inside(directory, n) for n in names if isinstance(n, str)
                     and n.startswith(stem)]
        except naming.UnsafePath:
            return False
        if len(paths) != len(names) or not all(safefile.is_regular(p) for p in paths):
            return False
        e.remove_parts(job)
        note = f"already saved by another tikget in this folder: {paths[0].name}"
        e.seen(job_id).note = note
        e.adopted.add(job_id)
        e.queue.set(job_id, stem=stem, files=tuple(paths), final_path=paths[0], part_path=None,
                    part_source=None, reason=note)
        return True

    async def _verify_and_finish(self, job_id: int) -> None:
        from tikget_tui.verify import verify
        from tikget_tui.verify.frames import frames_dir
        from tikget_tui.verify.verifier import sha256_file

        e = self.engine
        job = e.queue.set(job_id, state=JobState.VERIFYING, part_path=None)
        directory = e.download_dir(job)
        tools = e.tools_or_find()
        reports: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        worst = "ok"
        missing = [p for p in job.files if not p.is_file()]
        if missing:
            raise DownloadError(f"{missing[0].name} is no longer on disk; save the story again")
        for path in job.files:
            report = await verify(path, self.expected(job), tools=tools,
                                  sha256=e.streamed.pop(path, None),
                                  frames_dir=frames_dir(e.settings.cache_dir, path))
            d = report.to_dict()
            reports.append(d)
            verdict = str(d.get("verdict", "fail"))
            if _ORDER.get(verdict, 2) > _ORDER[worst]:
                worst = verdict
            sha = d.get("sha256") or await asyncio.to_thread(sha256_file, path)
            entries.append({"name": path.name, "sha256": sha, "size": path.stat().st_size,
                            "verdict": verdict})
        await e.archive.record_save(job, directory, entries, reports, worst,
                                    keep_sidecar=job_id in e.adopted)
        seen = e.renditions.get(job_id, Renditions())
        main = entries[0]
        if worst == "fail":
            failed = [c for r in reports for c in r.get("checks", []) if c.get("status") == "fail"]
            detail = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed[:2])
            why = ""
            if seen.all_video_only and any(c.get("name") == "audio_present" for c in failed):
                n = len(seen.tried)
                why = "; every listed rendition was video-only" + (f" ({n} tried)" if n > 1
                                                                     else "")
            e.queue.set(job_id, state=JobState.FAILED, verdict=worst, sha256=main["sha256"],
                        reason=f"verification failed ({detail}){why}; the file is kept, "
                               "labelled in its .info.json")
        else:
            reason = seen.note if worst == "ok" else "saved; verification has warnings"
            if worst != "ok" and seen.note:
                reason += f"; {seen.note}"
            e.queue.set(job_id, state=JobState.DONE, verdict=worst, sha256=main["sha256"],
                        reason=reason)

    async def check_again(self, job_id: int) -> None:
        """``v``: the verifier on each file, plus the check ``recorded`` against what was
        recorded at save time; the result goes to the job (state, verdict, reason) and to the
        copy's check (the archive's), nothing else."""
        e = self.engine
        before = e.queue[job_id]
        job = e.queue.set(job_id, state=JobState.VERIFYING)
        found = await e.archive.check_again(job, self.expected(job), tools=e.tools_or_find(),
                                            cache_dir=e.settings.cache_dir, clock=e.clock)
        if found.status == "missing":
            reason = (f"{MISSING_REASON}{found.detail}; t downloads it again while the story "
                      "is active")
        elif found.status == "changed":
            reason = f"{CHANGED_REASON}{found.detail}; the record of the save is kept as it was"
        elif found.verdict != "fail":
            reason = "verified again: " + found.detail
        else:
            reason = (f"verified again: verification failed ({found.detail}); "
                      "the file is kept")
        e.queue.set(job_id, state=JobState.DONE if found.good else JobState.FAILED,
                    verdict=found.verdict, reason=reason,
                    sha256=before.sha256)  # the job keeps the hash recorded at save time
