"""Pane 3: the download queue, one row per job, in the manager's (expiring-first) order.

Rows are keyed by job id. A ``JobChanged`` event re-orders the rows only when
the order changed; ``Progress`` events update only the cells whose text
changed (progress, speed, ETA).
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tikget_tui.ui import keymap
from tikget_tui.ui.text import format_duration, format_speed, progress_bar, safe_line
from tikget_tui.ui.theme import state_style

FIXED_COLUMNS = (("state", "state", 11), ("progress", "progress", 15), ("speed", "speed", 9),
                 ("eta", "ETA", 7), ("retries", "↻", 2))
MIN_NAME = 12
# speed and ETA say something only while a job downloads: when the name column would be
# narrower than this, they are left out until a download runs, and the name gets their width
ROOMY_NAME = 30
LIVE_COLUMNS = frozenset({"speed", "eta"})

# what the progress column says in the states where no bytes are moving
STEP_WORDS = {"converting": "converting…", "verifying": "verifying…", "queued": "waiting"}


class QueueTable(DataTable[Any]):
    """Jobs of the download manager; p/u/x/t act on the job under the cursor."""

    BINDINGS = [*keymap.bindings("queue"), *keymap.ROW_KEYS]

    class JobAction(Message):
        """Run ``action`` (pause, resume, cancel, retry, verify) on a job."""

        def __init__(self, action: str, job_id: int) -> None:
            super().__init__()
            self.action = action
            self.job_id = job_id

    class ClearFinished(Message):
        """Take the done, cancelled and expired rows out of the queue."""

    class JobHighlighted(Message):
        """The cursor moved to a job (the report pane follows it)."""

        def __init__(self, job: Any) -> None:
            super().__init__()
            self.job = job

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.jobs: dict[int, Any] = {}
        self.order: list[int] = []
        self._shown: dict[tuple[int, str], str] = {}
        self._name_width = 30
        self._width = 0  # the table's width at the last resize
        self._live_columns = True  # speed and ETA shown

    def on_mount(self) -> None:
        self._add_columns()

    def _fixed_columns(self) -> list[tuple[str, str, int]]:
        return [c for c in FIXED_COLUMNS if self._live_columns or c[0] not in LIVE_COLUMNS]

    def _add_columns(self) -> None:
        # Text labels: a str label is parsed as markup, which loads rich's emoji table
        # (a few ms of the first frame) for plain words
        self.add_column(Text("name"), key="name", width=self._name_width)
        for key, label, width in self._fixed_columns():
            self.add_column(Text(label), key=key, width=width)

    def _fit_columns(self) -> bool:
        """Size the name column (and show speed/ETA or not); True when that changed."""
        def name_room(columns: Any) -> int:
            fixed = sum(width + 2 * self.cell_padding for _, _, width in columns)
            return self._width - fixed - 2 * self.cell_padding - 1

        downloading = any(str(job.state) == "downloading" for job in self.jobs.values())
        live = downloading or name_room(FIXED_COLUMNS) >= ROOMY_NAME
        self._live_columns, was_live = live, self._live_columns
        width = max(MIN_NAME, name_room(self._fixed_columns()))
        changed = width != self._name_width or live != was_live
        self._name_width = width
        return changed

    def on_resize(self, event: Resize) -> None:
        self._width = event.size.width
        if self._fit_columns():
            self._rebuild()

    # -- data ----------------------------------------------------------------------

    def set_jobs(self, jobs: list[Any]) -> None:
        """The whole queue, in the manager's order."""
        self.jobs = {job.id: job for job in jobs}
        self.order = [job.id for job in jobs]
        self._fit_columns()
        self._rebuild()

    def job_changed(self, job: Any, order: list[int] | None = None) -> None:
        """One job's snapshot changed; ``order`` is the manager's order when known."""
        known = job.id in self.jobs
        self.jobs[job.id] = job
        new_order = order if order is not None else (
            self.order if known else [*self.order, job.id])
        new_order = [jid for jid in new_order if jid in self.jobs]
        if self._fit_columns() or new_order != self.order or not known:
            self.order = new_order
            self._rebuild()
            return
        self._update_job_row(job)

    def progress(self, job_id: int, done: int, total: int | None, speed: float,
                 eta: float | None) -> None:
        job = self.jobs.get(job_id)
        if job is None or str(job.state) != "downloading":
            return  # a late progress event never paints over 'verifying…' or 'done'
        self._set_cell(job_id, "progress", progress_bar(done, total, complete=False))
        self._set_cell(job_id, "speed", format_speed(speed))
        self._set_cell(job_id, "eta", format_duration(eta) if eta else "")

    def selected_job(self) -> Any | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return self.jobs.get(int(str(row_key.value)))

    # -- rendering -----------------------------------------------------------------

    def _job_name(self, job: Any) -> Text:
        story = job.story
        caption = safe_line(story.caption) or story.id
        # the caption first: in a narrow column it is what tells jobs apart
        text = Text(no_wrap=True, overflow="ellipsis")
        if getattr(job, "audio", False):
            text.append("MP3 ", style="bold")
        text.append(caption)
        text.append(" · " + safe_line(story.creator.handle), style="dim")
        return text

    def _job_state(self, job: Any) -> Text:
        state = str(job.state)
        return Text(state, style=state_style(self.app, state))

    @staticmethod
    def _progress_text(job: Any) -> str:
        """The progress column: 100 % only for a finished file; words for the steps
        after the download; where a stopped download got to otherwise."""
        state = str(job.state)
        if state == "done":
            return progress_bar(1, 1)
        if state == "cancelled":
            return ""  # its partial file is gone: no progress to show
        if state == "failed" and job.files:  # saved once; verifying it again found this
            from tikget_tui.downloads.events import checked_word  # (loads the store)

            return checked_word(job) or "✗ verify"
        done, total = job.bytes_done or 0, job.bytes_total
        if state in STEP_WORDS and not (state == "queued" and done):
            return STEP_WORDS[state]
        return progress_bar(done, total, complete=False) if total else ""

    def _job_cells(self, job: Any) -> dict[str, Any]:
        bar = self._progress_text(job)
        return {
            "name": self._job_name(job),
            "state": self._job_state(job),
            "progress": bar,
            "speed": "",
            "eta": "",
            "retries": str(job.retries) if job.retries else "",
        }

    def _set_cell(self, job_id: int, column: str, value: str | Text) -> None:
        plain = value.plain if isinstance(value, Text) else value
        if self._shown.get((job_id, column)) == plain:
            return
        self._shown[(job_id, column)] = plain
        with contextlib.suppress(RowDoesNotExist, CellDoesNotExist, KeyError):
            self.update_cell(str(job_id), column,
                             value if isinstance(value, Text) else Text(value))

    def _update_job_row(self, job: Any) -> None:
        cells = self._job_cells(job)
        for column in ("name", "state", "retries"):
            self._set_cell(job.id, column, cells[column])
        shown = self._shown.get((job.id, "progress"), "")
        # while downloading, progress events own the bar (the job's bytes lag behind)
        if str(job.state) != "downloading" or not shown or shown in STEP_WORDS.values():
            self._set_cell(job.id, "progress", cells["progress"])
            self._set_cell(job.id, "speed", "")
            self._set_cell(job.id, "eta", "")

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        current = self.selected_job()
        with self.app.batch_update():
            self.clear(columns=True)
            self._add_columns()
            self._shown.clear()
            for jid in self.order:
                job = self.jobs[jid]
                cells = self._job_cells(job)
                if not self._live_columns:
                    for column in LIVE_COLUMNS:
                        del cells[column]
                for column, value in cells.items():
                    self._shown[(jid, column)] = (
                        value.plain if isinstance(value, Text) else value)
                self.add_row(*(c if isinstance(c, Text) else Text(c) for c in cells.values()),
                             key=str(jid))
            if current is not None and current.id in self.jobs:
                self.move_cursor(row=self.get_row_index(str(current.id)))

    # -- events and actions --------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key  # None: an empty table (pagedown on it highlights row -1)
        job = self.jobs.get(int(str(key.value))) if key is not None and key.value else None
        if job is not None:
            self.post_message(self.JobHighlighted(job))

    def _job_act(self, action: str) -> None:
        job = self.selected_job()
        if job is None:
            self.app.notify("the queue is empty: pick stories in pane 2 and press d",
                            severity="warning", markup=False)
            return
        self.post_message(self.JobAction(action, job.id))

    def action_pause(self) -> None:
        self._job_act("pause")

    def action_resume(self) -> None:
        self._job_act("resume")

    def action_cancel(self) -> None:
        self._job_act("cancel")

    def action_retry(self) -> None:
        self._job_act("retry")

    def action_verify(self) -> None:
        self._job_act("reverify")

    def action_clear_finished(self) -> None:
        self.post_message(self.ClearFinished())
