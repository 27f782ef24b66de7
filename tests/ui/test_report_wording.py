"""The report pane says what is true of the file now (found by a new-user tryout: it said
"saved to NAME" while the download was at 14 % and only NAME.part existed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.unit.test_store import story
from tikget_tui.store import Job, JobState
from tikget_tui.ui.widgets.report_view import ReportView


def test_the_file_is_saved_to_its_name_only_once_done() -> None:
    view = ReportView()
    running = Job(id=1, story=story(), variant="video", state=JobState.DOWNLOADING,
                  final_path=Path("/d/mika.mp4"), part_path=Path("/d/mika.mp4.part"))
    text = view.render_report(running, None).plain
    assert "saving to /d/mika.mp4" in text and "saved to" not in text
    done = dataclasses.replace(running, state=JobState.DONE, part_path=None)
    assert "saved to  /d/mika.mp4" in view.render_report(done, None).plain
    cancelled = dataclasses.replace(running, state=JobState.CANCELLED, part_path=None)
    assert "not saved (it would have been /d/mika.mp4)" in view.render_report(
        cancelled, None).plain
