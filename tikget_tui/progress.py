"""Terminal progress for the batch CLI: one bar per job with speed and ETA.

Shown only when the stream is a terminal; otherwise (pipes, files, CI) it is
silent and the commands print just their final summary. Uses ``rich.progress``
(Rich comes with Textual); the TUI never uses this module.

Untrusted text (captions, nicknames) never reaches Rich markup: descriptions
are built as :class:`rich.text.Text` from our own labels and escaped ids.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from tikget_tui.downloads.events import Event, JobChanged, Progress
from tikget_tui.store import Job, JobState


def _label(job: Job) -> str:
    """Short enough for 80 columns: ``mika.travels …000003 video``."""
    who = job.creator.unique_id or job.creator.user_id or "?"
    if len(who) > 14:
        who = who[:13] + "…"
    return f"{who} …{job.story_id[-6:]} {job.variant}"


def _safe(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class CliProgress:
    """``with CliProgress(stream) as p: p.attach(manager)`` — bars while jobs run."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[int, Any] = {}
        self._totals: dict[int, int] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def __enter__(self) -> CliProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            console = Console(file=self.stream, highlight=False, markup=False, emoji=False)
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=10),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(compact=True),
                TextColumn("{task.fields[state]}", markup=False),
                console=console,
                transient=False,
                refresh_per_second=8,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def attach(self, manager: Any) -> None:
        """Listen to a DownloadManager's events (a no-op when not on a terminal)."""
        if self.enabled:
            self._unsubscribe = manager.subscribe(self.handle)

    def note(self, text: str) -> None:
        """A status line above the bars (look-ups); silent when not on a terminal."""
        if self._progress is not None:
            self._progress.console.print(_safe(text), markup=False, highlight=False)

    def handle(self, event: Event) -> None:
        progress = self._progress
        if progress is None:
            return
        if isinstance(event, JobChanged):
            job = event.job
            task = self._tasks.get(job.id)
            if task is None:
                task = progress.add_task(_safe(_label(job)), total=job.bytes_total,
                                         completed=job.bytes_done, state=str(job.state))
                self._tasks[job.id] = task
            state = str(job.state)
            if job.state == JobState.DONE and job.verdict:
                state = f"done ({job.verdict})"
            progress.update(task, state=state)
            if job.is_final:
                if job.state == JobState.DONE:
                    total = self._totals.get(job.id) or job.bytes_total or job.bytes_done or 1
                    progress.update(task, completed=total, total=total)
                progress.stop_task(task)
        elif isinstance(event, Progress):
            task = self._tasks.get(event.job_id)
            if task is not None:
                if event.total:
                    self._totals[event.job_id] = event.total
                progress.update(task, completed=event.done, total=event.total)
