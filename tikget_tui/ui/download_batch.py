"""What the message line says about downloads (no textual: pure wording and tallies).

One summary for a batch of downloads, not one notice per file (:class:`DownloadBatch`);
the one line for what pressing d/a did (:func:`enqueue_summary`); why a queue key does
nothing for a job (:func:`job_action_refusal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tikget_tui.ui.text import safe_line

if TYPE_CHECKING:
    from tikget_tui.models import Story
    from tikget_tui.store import Job

FINISHED = ("done", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class BatchLine:
    """What to say about the batch: a notice (with its severity) or a plain status line."""

    text: str
    severity: Literal["information", "warning", "error"] = "information"
    notice: bool = True
    """A notice (the app's ``notify``); else only the message line's status (progress)."""


class DownloadBatch:
    """The jobs of the current batch and the last state seen of every job.

    The screen hands it every job change; it answers with the line to show, if any:
    '3 of 7 finished…' while the batch runs, one summary when its last job ends, and the
    result of a 'verify again' on its own.
    """

    def __init__(self) -> None:
        self.job_states: dict[int, str] = {}
        """The last state seen of each job in the queue."""
        self.outcomes: dict[int, str | None] = {}
        """Jobs of the current batch: None while unfinished, else 'state:verdict'."""
        self.reverifying: set[int] = set()
        """Jobs being verified again (each is said on its own, not in the batch)."""

    def restored(self, states: dict[int, str], active: Sequence[int]) -> None:
        """The queue as restored at start: its unfinished jobs are the first batch."""
        self.job_states = dict(states)
        for job_id in active:
            self.outcomes[job_id] = None

    def seen(self, job_id: int, state: str) -> str | None:
        """Note a job's new state; the state it had before (None if new)."""
        before = self.job_states.get(job_id)
        self.job_states[job_id] = state
        return before

    def queued(self, job_id: int) -> None:
        """A new download joins the batch."""
        self.outcomes[job_id] = None

    def forget(self, job_ids: Sequence[int]) -> None:
        """Rows cleared from the queue."""
        for job_id in job_ids:
            self.job_states.pop(job_id, None)

    def follow(self, job: Job, state: str,
               folder_missing: Callable[[], Path | None]) -> BatchLine | None:
        """What the message line says after ``job`` reached ``state`` (None: nothing).

        ``folder_missing`` is asked only for a summary: the download folder, when it was
        chosen and is gone now (the summary says so), else None."""
        if job.id in self.reverifying:
            if state in FINISHED:
                self.reverifying.discard(job.id)
                result = job.reason.removeprefix("verified again: ") or job.verdict or state
                return BatchLine(f"verified {job_name(job)} again: {safe_line(result, 300)}",
                                 "information" if state == "done" else "error")
            return None
        if state in FINISHED:
            if job.id not in self.outcomes:
                return None  # e.g. 'already saved' records
            self.outcomes[job.id] = f"{state}:{job.verdict or ''}"
        elif state in ("queued", "downloading", "converting", "verifying"):
            self.outcomes[job.id] = None
            return None
        # else paused: parked, not waited for (pausing the last one ends the batch too)
        waiting = [jid for jid, outcome in self.outcomes.items()
                   if outcome is None and self.job_states.get(jid) != "paused"]
        paused = sum(1 for jid, outcome in self.outcomes.items()
                     if outcome is None and self.job_states.get(jid) == "paused")
        outcomes = [o for o in self.outcomes.values() if o is not None]
        if not outcomes:
            return None
        parked = f", {paused} paused" if paused else ""
        if waiting:
            return BatchLine(f"{len(outcomes)} of {len(outcomes) + len(waiting) + paused} "
                             f"finished{parked}…", notice=False)
        line, bad = batch_summary(outcomes)
        if paused:  # parked, not forgotten: they are in the next summary
            line += f"; {paused} paused (u resumes)"
        folder = folder_missing()
        if folder is not None:
            line += f"; the download folder {folder} is missing: press o to choose one"
        self.outcomes = {jid: None for jid, outcome in self.outcomes.items()
                         if outcome is None}  # paused ones stay in the next summary
        return BatchLine(line, "error" if bad else "information")


def job_name(job: Any) -> str:
    """'@creator “caption”' for one-line messages."""
    caption = safe_line(job.story.caption, 30)
    who = safe_line(job.story.creator.handle, 40)
    return f"{who} “{caption}”" if caption else f"{who} {job.story.id}"


def has_sound_to_save(story: Story) -> bool:
    """Whether MP3 mode can save anything of this story (said before it is queued)."""
    from tikget_tui.models import Kind

    if story.has_sound is False:
        return False
    if story.kind == Kind.PHOTO:
        return story.sound is not None
    return True  # a video's own sound (its post page gives a video link the list left out)


def enqueue_summary(new: int, queued_before: int, saved: list[str], silent: list[str],
                    audio: bool, copied: Sequence[str] = ()) -> str:
    """One line for what pressing d/a did: new downloads, already queued, copied from
    another folder (``copied``: each copy's reason, 'copied from DIR (hard link, …)'),
    already saved, skipped."""
    parts = []
    if new:
        parts.append(f"queued {new} {'download' if new == 1 else 'downloads'}"
                     + (" as MP3" if audio else ""))
    if queued_before:
        parts.append(f"{queued_before} already in the queue")
    if copied:
        reasons = {safe_line(r, 200) for r in copied}
        how = reasons.pop() if len(reasons) == 1 else "copied from other folders"
        parts.append(f"{len(copied)} {how}")
    if saved:
        names = ", ".join(safe_line(n, 60) for n in saved[:2])
        more = f" and {len(saved) - 2} more" if len(saved) > 2 else ""
        parts.append(f"{len(saved)} already saved ({names}{more})")
    if silent:
        parts.append(f"{len(silent)} skipped: no sound to save as MP3 "
                     f"({', '.join(silent[:2])}{' …' if len(silent) > 2 else ''})")
    return "; ".join(parts) or "nothing new to queue"


def batch_summary(outcomes: list[str]) -> tuple[str, bool]:
    """'7 saved and verified', '5 saved and verified, 2 failed: see the queue (3)'."""
    ok = sum(1 for o in outcomes if o == "done:ok")
    warn = sum(1 for o in outcomes if o.startswith("done:") and o != "done:ok")
    failed = sum(1 for o in outcomes if o.startswith("failed:"))
    expired = sum(1 for o in outcomes if o.startswith("expired:"))
    cancelled = sum(1 for o in outcomes if o.startswith("cancelled:"))
    parts = []
    if ok:
        parts.append(f"{ok} saved and verified")
    if warn:
        parts.append(f"{warn} saved with verification warnings")
    if failed:
        parts.append(f"{failed} failed")
    if expired:
        parts.append(f"{expired} expired before they were saved")
    if cancelled:
        parts.append(f"{cancelled} cancelled")
    line = ", ".join(parts) or "nothing finished"
    bad = bool(failed or expired or warn)
    if bad:
        line += ": see the queue (3)"
    return line, bool(failed or expired)


def job_action_refusal(action: str, job: Any) -> str:
    """Why a queue key does nothing for this job ('' when it applies)."""
    from tikget_tui.store import JobState

    state = job.state
    allowed = {
        "pause": {JobState.QUEUED, JobState.DOWNLOADING, JobState.CONVERTING,
                  JobState.VERIFYING},
        "resume": {JobState.PAUSED},
        "cancel": {JobState.QUEUED, JobState.PAUSED, JobState.FAILED, JobState.DOWNLOADING,
                   JobState.CONVERTING, JobState.VERIFYING},
        "retry": {JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED},
        "reverify": {JobState.DONE, JobState.FAILED},
    }[action]
    if state in allowed and (action != "reverify" or job.files):
        return ""
    hint = {
        "pause": "only a queued or running download can be paused",
        "resume": "only a paused download can be resumed (u)",
        "cancel": "only an unfinished download can be cancelled",
        "retry": "only a failed, expired or cancelled download can be tried again",
        "reverify": "only a saved file can be verified again",
    }[action]
    return f"this download is {state}: {hint}"
