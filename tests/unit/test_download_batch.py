"""The batch summary's tally, apart from the screen (tests/ui drive it through the app)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tikget_tui.ui.download_batch import BatchLine, DownloadBatch


def job(job_id: int, verdict: str = "", reason: str = "", caption: str = "") -> Any:
    story = SimpleNamespace(id=f"74400000000000000{job_id:02d}", caption=caption,
                            creator=SimpleNamespace(handle="@mika.travels"))
    return SimpleNamespace(id=job_id, verdict=verdict, reason=reason, story=story)


def step(batch: DownloadBatch, j: Any, state: str,
         folder: Path | None = None) -> BatchLine | None:
    """The screen's part: note the state, then ask what to say."""
    batch.seen(j.id, state)
    return batch.follow(j, state, lambda: folder)


def not_asked() -> Path | None:
    raise AssertionError("the folder is looked at only for a summary")


def test_one_summary_when_the_last_job_of_the_batch_ends() -> None:
    batch = DownloadBatch()
    a, b = job(1, "ok"), job(2, "warn")
    for j in (a, b):
        batch.queued(j.id)
        assert step(batch, j, "downloading") is None
    batch.seen(a.id, "done")
    assert batch.follow(a, "done", not_asked) == BatchLine("1 of 2 finished…", notice=False)
    said = step(batch, b, "done")
    assert said == BatchLine("1 saved and verified, 1 saved with verification warnings: "
                             "see the queue (3)", "information")
    assert batch.outcomes == {}  # the next batch starts empty


def test_a_paused_job_ends_the_batch_and_stays_for_the_next_summary() -> None:
    batch = DownloadBatch()
    a, b = job(1, "ok"), job(2)
    batch.restored({1: "downloading", 2: "downloading"}, [1, 2])
    assert step(batch, b, "paused") is None  # nothing finished yet
    said = step(batch, a, "done", folder=Path("/gone/TikGet"))
    assert said is not None and said.severity == "information"
    assert said.text == ("1 saved and verified; 1 paused (u resumes); the download folder "
                         "/gone/TikGet is missing: press o to choose one")
    assert batch.outcomes == {2: None}
    assert step(batch, b, "queued") is None
    failed = step(batch, job(2, "fail"), "failed")
    assert failed == BatchLine("1 failed: see the queue (3)", "error")


def test_verify_again_is_said_on_its_own_and_records_outside_the_batch_are_not() -> None:
    batch = DownloadBatch()
    again = job(5, "ok", reason="verified again: ok: 13 checks passed", caption="Coffee")
    batch.reverifying.add(5)
    assert step(batch, again, "verifying") is None
    said = step(batch, again, "done")
    assert said == BatchLine("verified @mika.travels “Coffee” again: ok: 13 checks passed",
                             "information")
    assert batch.reverifying == set() and batch.outcomes == {}
    assert step(batch, job(6, "ok"), "done") is None  # 'already saved': never queued here
    batch.forget([5, 6])
    assert batch.job_states == {}
