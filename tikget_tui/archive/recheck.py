"""``v``: a saved copy verified again and compared with what its save recorded (sha256,
size, duration). What is found is the copy's latest check (table ``checks``); the archive
row, the sidecar and the save-time report are never rewritten (only a save writes them)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from tikget_tui.archive import sidecar
from tikget_tui.archive.evidence import change_of, recorded_of
from tikget_tui.archive.records import ArchiveEntry, CopyCheck, Records
from tikget_tui.clock import Clock
from tikget_tui.mediatools import MediaTools
from tikget_tui.store import Job
from tikget_tui.verify import Check, Expected, Report, Verdict, verify
from tikget_tui.verify.frames import frames_dir

log = logging.getLogger(__name__)

_ORDER = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Recheck:
    """What ``v`` found: ``status`` is ``missing``, ``changed`` or the worst verdict;
    ``detail`` says what (both values when changed); ``verdict`` is the worst report's."""

    status: str
    detail: str
    verdict: str
    missing: tuple[Path, ...] = ()

    @property
    def good(self) -> bool:
        return self.status in ("ok", "warn")


async def check_again(records: Records, job: Job, expected: Expected, *, tools: MediaTools,
                      cache_dir: Path, clock: Clock) -> Recheck:
    """Verify each of ``job``'s files, plus the check ``recorded`` against what was recorded
    when they were saved; the result is recorded as the copy's check (with the report
    shown) and returned."""
    main_path = job.files[0]
    entry = next((e for e in records.locations(job.story.id, job.variant)
                  if e.path == main_path), None)
    if entry is None:  # no archive row (e.g. forgotten): what the job recorded
        entry = ArchiveEntry(story_id=job.story.id, variant=job.variant, path=main_path,
                             files=job.files, sha256=job.sha256)
    side_path = sidecar.sidecar_for(entry, job)
    side = await asyncio.to_thread(sidecar.read, side_path)
    recorded = recorded_of(entry, job, side)
    when = ""
    saved = next((r.saved_at for r in recorded.values() if r.saved_at), "")
    if saved:
        when = f" (saved {saved[:16].replace('T', ' ')} UTC)"
    missing: list[Path] = []
    changed: list[str] = []
    reports: list[Report] = []
    for path in job.files:
        if not path.is_file():
            missing.append(path)
        report = await verify(path, expected, tools=tools,
                              frames_dir=frames_dir(cache_dir, path) if path.is_file() else None)
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
    worst = max((str(r.verdict) for r in reports), key=lambda v: _ORDER.get(v, 2))
    shown = next((r for r in reports if str(r.verdict) == worst), reports[0])
    if missing:
        status = "missing"
        detail = (f"{missing[0].name} is gone from {missing[0].parent}"
                  + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    elif changed:
        status, detail = "changed", changed[0]
    else:
        status, detail = worst, shown.summary
    records.check_put(CopyCheck(
        path=main_path, story_id=job.story.id, variant=job.variant, status=status,
        detail=detail, checked_at=clock.now(), report=shown.to_dict()))
    log.info("job %s verified again: %s (%s)", job.id, status, detail)
    return Recheck(status=status, detail=detail, verdict=worst, missing=tuple(missing))
