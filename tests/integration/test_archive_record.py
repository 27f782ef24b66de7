"""Recording a saved copy writes its sidecar and its archive row together: both, or neither
(issue 23). The row is made to fail (a database write refused) after the sidecar was
written; what the save leaves is then checked on disk and in the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tikget_tui.archive import Records
from tikget_tui.downloads import DownloadManager, Job, JobState

VIDEO = "7440000000000000002"  # mika.travels, H.264
OTHER = "7440000000000000003"


def _refuse_rows(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records.put raises (as a locked or full database would); the paths it was given."""
    tried: list[Path] = []

    def refused(self: Records, entry: Any, reports: Any = None) -> None:
        tried.append(entry.path)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Records, "put", refused)
    return tried


async def _saved(manager: DownloadManager, story: Any, **kw: Any) -> Job:
    """``story`` saved and verified (the job, done)."""
    job = await manager.enqueue(story, **kw)
    await manager.wait_idle()
    saved = manager.job(job.id)
    assert saved is not None and saved.state == JobState.DONE, saved
    return saved


def _sidecar_of(job: Job) -> Path:
    return job.files[0].parent / f"{job.stem}.info.json"


async def test_a_download_whose_row_fails_leaves_no_sidecar(
        manager: DownloadManager, find_story: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tried = _refuse_rows(monkeypatch)
    job = await manager.enqueue(await find_story(VIDEO))
    await manager.wait_idle()
    done = manager.job(job.id)
    assert done is not None and done.state == JobState.FAILED, done
    assert "disk I/O error" in done.reason
    assert tried == [done.files[0]]
    folder = done.files[0].parent
    assert not list(folder.glob("*.info.json"))  # the sidecar written first was taken back
    assert Records(manager.store).locations(VIDEO, "video") == []
    assert Records(manager.store).get_report(done.files[0]) is None  # nor its report


async def test_a_save_again_whose_row_fails_puts_the_old_sidecar_back(
        manager: DownloadManager, find_story: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    story = await find_story(VIDEO)
    saved = await _saved(manager, story, note="first")
    side = _sidecar_of(saved)
    before = side.read_bytes()
    row = Records(manager.store).get(VIDEO, "video")

    tried = _refuse_rows(monkeypatch)
    again = await manager.enqueue(story, note="second", again=True)
    await manager.wait_idle()
    out = manager.job(again.id)
    assert out is not None and out.state == JobState.FAILED, out
    assert tried, "the second save never reached its row"
    # every sidecar there is as a save recorded it: the first one's, byte for byte, and
    # none for the second save (whose row failed)
    sides = sorted(saved.files[0].parent.glob("*.info.json"))
    assert [p.read_bytes() for p in sides] == [before]
    assert Records(manager.store).locations(VIDEO, "video") == [row]


async def test_a_copy_whose_row_fails_leaves_no_file_no_sidecar_no_job(
        manager: DownloadManager, find_story: Any, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    story = await find_story(OTHER)
    saved = await _saved(manager, story)
    jobs_before = [j.id for j in manager.store.list_jobs()]

    second = tmp_path / "second"
    second.mkdir()
    tried = _refuse_rows(monkeypatch)
    with pytest.raises(sqlite3.OperationalError):
        await manager.enqueue(story, directory=second)
    assert tried and tried[0].parent == second
    assert list(second.iterdir()) == []  # the placed copy and its sidecar were taken back
    assert [j.id for j in manager.store.list_jobs()] == jobs_before  # no job row left
    assert all(j.directory != second for j in manager.jobs())
    assert len(Records(manager.store).locations(OTHER, "video")) == 1
    # the original copy is untouched, and what its save recorded still describes it
    side = json.loads(_sidecar_of(saved).read_text())
    assert side["files"][0]["name"] == saved.files[0].name and saved.files[0].is_file()


async def test_a_note_whose_row_fails_leaves_the_sidecar_as_it_was(
        manager: DownloadManager, find_story: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    story = await find_story(VIDEO)
    saved = await _saved(manager, story, note="kept")
    side = _sidecar_of(saved)
    before = side.read_bytes()

    def refused(self: Records, *args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Records, "set_note", refused)
    with pytest.raises(sqlite3.OperationalError):
        await manager.enqueue(story, note="added later")
    assert side.read_bytes() == before
    row = Records(manager.store).get(VIDEO, "video")
    assert row is not None and row.note == "kept"
