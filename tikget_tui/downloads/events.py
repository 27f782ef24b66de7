"""Typed events the download engine publishes (the TUI and the CLI both listen)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tikget_tui.store import Job


@dataclass(frozen=True)
class JobChanged:
    """A job's state (or reason, verdict, files) changed; ``job`` is the new snapshot."""

    job: Job


@dataclass(frozen=True)
class Progress:
    """Bytes of a running transfer: at most ~10 per second per job, always one final."""

    job_id: int
    done: int
    total: int | None
    speed: float  # bytes per second, averaged over the last few seconds
    eta: float | None  # seconds, None when unknown
    final: bool = False  # the last one of this transfer


Event = JobChanged | Progress

__all__ = ["Event", "JobChanged", "Progress"]


# How a job's reason starts after ``v`` found its file gone or edited (the manager writes
# them; the queue shows the word instead of a progress bar).
MISSING_REASON = "missing: "
CHANGED_REASON = "changed since it was saved: "


def checked_word(job: Job) -> str:
    """'missing' or 'changed' when verifying a saved job again found that, else ''."""
    if str(job.state) != "failed" or not job.files:
        return ""
    if job.reason.startswith(MISSING_REASON):
        return "missing"
    if job.reason.startswith(CHANGED_REASON):
        return "changed"
    return ""


class Enqueued(StrEnum):
    """What ``DownloadManager.enqueue`` did with a story (``manager.enqueued_as(job_id)``):
    every message counts these apart."""

    QUEUED = "queued"  # a new download (or a failed one taken up again)
    ACTIVE = "active"  # it was already queued or running for that folder
    ALREADY_SAVED = "already saved"  # saved in that folder, its files on disk: nothing done
    COPIED = "copied"  # copied (hard link or copy) from another folder, no download
