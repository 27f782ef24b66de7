"""Typed events the download engine publishes (the TUI and the CLI both listen)."""

from __future__ import annotations

from dataclasses import dataclass

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
