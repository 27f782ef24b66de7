"""The archive audit: the state database vs the files on disk vs their ``.info.json`` sidecars.

Core code (no textual, no ffprobe: it compares what verification recorded).
For every archive entry it reports the problems it finds:

- ``missing``: a saved file is gone from disk;
- ``changed``: a file's sha256 or size differs from what was recorded (archive
  or sidecar);
- ``unverified``: no verification verdict or report was recorded, or the
  sidecar that carries it is gone;
- ``failing``: verification said ``fail``.

:func:`requeue` re-queues the entries with problems whose story is still
active (looked up again for fresh links) and marks the rest ``unrecoverable``
with the reason, in the store's audit marks (``Store.audit_mark``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from tikget_tui.archive import sidecar
from tikget_tui.archive.evidence import change_of, recorded_of
from tikget_tui.archive.records import ArchiveEntry, CopyCheck, Records
from tikget_tui.archive.sidecar import sidecar_for
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.store import Job, JobState, Store
from tikget_tui.verify.verifier import sha256_file

UNRECOVERABLE = "unrecoverable"


class Problem(StrEnum):
    MISSING = "missing"
    CHANGED = "changed"
    UNVERIFIED = "unverified"
    FAILING = "failing"


@dataclass(frozen=True)
class Finding:
    """The audit of one archive entry."""

    story_id: str
    variant: str
    creator: str
    path: Path
    problems: tuple[Problem, ...] = ()
    details: tuple[str, ...] = ()  # one line per problem found
    verdict: str | None = None
    saved_at: datetime | None = None
    job_id: int | None = None
    mark: str = ""  # "unrecoverable" once marked
    mark_reason: str = ""
    action: str = ""  # what --requeue did
    requeued_job: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        """``ok``, the first problem, or ``unrecoverable`` once marked."""
        if self.mark:
            return self.mark
        return str(self.problems[0]) if self.problems else "ok"

    @property
    def detail(self) -> str:
        parts = list(self.details)
        if self.mark_reason:
            parts.append(f"{self.mark}: {self.mark_reason}")
        if self.action:
            parts.append(self.action)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "variant": self.variant,
            "creator": self.creator,
            "path": str(self.path),
            "status": self.status,
            "problems": [str(p) for p in self.problems],
            "details": list(self.details),
            "verdict": self.verdict,
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
            "mark": self.mark or None,
            "mark_reason": self.mark_reason or None,
            "action": self.action or None,
            "requeued_job": self.requeued_job,
        }


def check_entry(store: Store, entry: ArchiveEntry,
                marks: dict[tuple[str, str], tuple[str, str]] | None = None) -> Finding:
    job = store.get_job(entry.job_id) if entry.job_id is not None else None
    problems: list[Problem] = []
    details: list[str] = []

    def add(problem: Problem, detail: str) -> None:
        if problem not in problems:
            problems.append(problem)
        details.append(detail)

    files = entry.all_files
    present = [p for p in files if p.is_file()]
    for p in files:
        if not p.is_file():
            add(Problem.MISSING, f"{p.name} is gone from {p.parent}")

    side_path = sidecar_for(entry, job)
    side = sidecar.read(side_path)
    recorded = recorded_of(entry, job, side)

    total = 0
    for p in present:
        size = p.stat().st_size
        total += size
        rec = recorded.get(p.name)
        sha = sha256_file(p) if rec is not None and rec.sha256 else None
        change = change_of(p.name, rec, size=size, sha256=sha)
        if change:
            add(Problem.CHANGED, change)
    if len(present) == len(files) and entry.size and total != entry.size \
            and Problem.CHANGED not in problems:
        add(Problem.CHANGED, f"the files hold {total} bytes, {entry.size} were saved")

    report = Records(store).get_report(entry.path)
    verdict = entry.verdict or (report or {}).get("verdict")
    if side is None:
        add(Problem.UNVERIFIED, f"its sidecar {side_path.name} is missing or unreadable")
    if not entry.verdict:
        add(Problem.UNVERIFIED, "no verification verdict was recorded")
    elif report is None and not (side or {}).get("verification"):
        add(Problem.UNVERIFIED, "no verification report was recorded")
    if verdict == "fail" or (report or {}).get("verdict") == "fail":
        failed = [c for c in (report or {}).get("checks", []) if c.get("status") == "fail"]
        why = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed[:2])
        add(Problem.FAILING, f"verification failed ({why})" if why else "verification failed")

    mark, mark_reason = (marks or {}).get((entry.story_id, entry.variant), ("", ""))
    return Finding(
        story_id=entry.story_id, variant=entry.variant, creator=entry.creator, path=entry.path,
        problems=tuple(problems), details=tuple(details), verdict=verdict,
        saved_at=entry.saved_at, job_id=entry.job_id, mark=mark, mark_reason=mark_reason,
    )


def audit(store: Store, entries: Iterable[ArchiveEntry] | None = None) -> list[Finding]:
    """One :class:`Finding` per archive entry (oldest first); nothing is changed."""
    marks = Records(store).audit_marks()
    return [check_entry(store, e, marks) for e in (entries or Records(store).entries())]


def record(store: Store, findings: Iterable[Finding], now: datetime) -> None:
    """Keep each finding as its copy's latest check (what the library shows: ``missing``,
    ``changed``…); the archive records and sidecars are left as they are."""

    for f in findings:
        status = "ok"
        for problem in (Problem.MISSING, Problem.CHANGED, Problem.FAILING, Problem.UNVERIFIED):
            if problem in f.problems:
                status = str(problem)
                break
        detail = "; ".join(f.details) if f.details else "the files match what was saved"
        Records(store).check_put(CopyCheck(path=f.path, story_id=f.story_id, variant=f.variant,
                                  status=status, detail=detail, checked_at=now))


async def requeue(findings: Sequence[Finding], manager: Any, client: Any, *,
                  clock: Clock = SYSTEM_CLOCK, wait: bool = True) -> list[Finding]:
    """Re-queue problem entries whose story is still active; mark the rest unrecoverable.

    ``manager`` is a started DownloadManager, ``client`` its TikTok client. With
    ``wait`` the downloads are driven to the end and each finding says how it went.
    A temporary look-up failure (network, throttling) marks nothing: the action
    says to try again later.
    """
    from tikget_tui.links import PostTarget
    from tikget_tui.tiktok.errors import TikTokError

    store: Store = manager.store
    out: list[Finding] = []
    for f in findings:
        if f.ok or f.mark == UNRECOVERABLE:
            out.append(f)
            continue
        job = store.get_job(f.job_id) if f.job_id is not None else None
        if job is None:
            out.append(_mark(store, f, "no record of the story is left to look it up again"))
            continue
        story = job.story
        try:
            if story.is_story:
                listing = await client.lookup_stories(story.creator.unique_id
                                                      or story.creator.user_id)
                fresh = next((s for s in listing.stories if s.id == story.id), None)
            else:
                fresh = await client.resolve(PostTarget(
                    post_id=story.id, username=story.creator.unique_id or None,
                    kind=str(story.kind)))
        except TikTokError as exc:
            if exc.retryable:
                out.append(replace(f, action=f"could not look it up now ({exc.reason}); "
                                             "run the audit again later"))
            else:
                out.append(_mark(store, f, exc.reason))
            continue
        if fresh is None or fresh.is_expired(clock.now()):
            who = story.creator.handle or "its creator"
            out.append(_mark(store, f, f"the story expired ({who} no longer lists it); "
                                       "it cannot be saved again"))
            continue
        entry = Records(store).get(f.story_id, f.variant, directory=f.path.parent)
        # downloaded again under the copy's own name, replacing exactly its failing or
        # changed files (a missing one is simply put back); the sidecar keeps the history
        new = await manager.enqueue(fresh, audio=f.variant == "audio",
                                    note=entry.note if entry is not None else job.note,
                                    replace=True, directory=f.path.parent)
        out.append(replace(f, action=f"re-queued as job {new.id}", requeued_job=new.id))
    if wait:
        await manager.wait_idle()
        out = [_outcome(store, manager, f) for f in out]
    return out


def _mark(store: Store, f: Finding, reason: str) -> Finding:
    Records(store).audit_mark(f.story_id, f.variant, UNRECOVERABLE, reason)
    return replace(f, mark=UNRECOVERABLE, mark_reason=reason)


def _outcome(store: Store, manager: Any, f: Finding) -> Finding:
    if f.requeued_job is None:
        return f
    job: Job | None = manager.job(f.requeued_job) or store.get_job(f.requeued_job)
    if job is None:
        return f
    if job.state == JobState.DONE and job.verdict in ("ok", "warn"):
        Records(store).audit_unmark(f.story_id, f.variant)
        name = job.final_path.name if job.final_path else "?"
        action = f"re-queued and saved again as {name} ({job.verdict})"
        if job.final_path is not None and job.final_path != f.path:
            # the new copy replaces the broken one in the archive (its file stays on disk)
            Records(store).delete(f.story_id, f.variant, f.path)
            if f.path.exists():
                action += f"; {f.path.name} stays on disk but is no longer counted as a copy"
        return replace(f, action=action)
    return replace(f, action=f"re-queued, but {job.state}: {job.reason}")


def resolved(f: Finding) -> bool:
    """No problem, or a requeue that saved it again."""
    return f.ok or (f.requeued_job is not None and "saved again" in f.action)
