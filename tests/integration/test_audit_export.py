"""``tikget audit`` and ``tikget export`` on an archive saved from the stand-in."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.archive.export import FIELDS, read_csv
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import load
from tikget_tui.demo import DemoServerThread, Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.store import Store

VIDEO = "7440000000000000002"  # mika.travels, h264_b
PHOTOS_A = "7440000000000000021"  # studio.photos, 4 images
PHOTOS_B = "7440000000000000022"  # studio.photos, 2 images
NOTE = '=1+1, "for the zine"; café'


@pytest.fixture
def demo_clock() -> FakeClock:
    return realtime_clock()


@pytest.fixture
def saved(run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario
          ) -> Path:
    """Three archived stories (one video, two photo stories) saved through ``tikget save``."""
    trim_stories(demo_scenario, DEMO_CREATOR, {VIDEO})
    result = run_cli("save", "@" + DEMO_CREATOR, "@" + DEMO_PHOTO_CREATOR, "--note", NOTE)
    assert result.rc == 0, result
    return cli_env


def _entries() -> dict[str, object]:
    with Store.open(load().state_db) as store:
        return {e.story_id: e for e in Records(store).entries()}


def test_audit_finds_missing_changed_unverified_and_requeue_repairs_or_marks(
    run_cli, saved: Path, demo_scenario: Scenario,
) -> None:
    clean = run_cli("audit")
    assert clean.rc == 0, clean
    assert clean.out.strip() == "3 archived, 3 ok"

    entries = _entries()
    video = entries[VIDEO].path  # type: ignore[attr-defined]
    video.unlink()  # deleted by hand; the story is still up
    first_image = entries[PHOTOS_A].path  # type: ignore[attr-defined]
    data = bytearray(first_image.read_bytes())
    data[200:206] = bytes(b ^ 0xFF for b in data[200:206])
    first_image.write_bytes(bytes(data))  # edited in place: same size, another sha256
    with Store.open(load().state_db) as store:  # never verified
        Records(store).put(replace(entries[PHOTOS_B], verdict=None))  # type: ignore[type-var]

    report = run_cli("audit")
    assert report.rc == 1
    rows = {ln.split()[1]: ln.split()[0] for ln in report.out.splitlines()[1:4]}
    assert rows == {VIDEO: "missing", PHOTOS_A: "changed", PHOTOS_B: "unverified"}
    assert "3 archived, 0 ok, 1 missing, 1 changed, 1 unverified" in report.out
    assert "--requeue" in report.out

    as_json = json.loads(run_cli("audit", "--json").out)
    by_id = {e["story_id"]: e for e in as_json["entries"]}
    assert by_id[VIDEO]["problems"] == ["missing"]
    assert by_id[PHOTOS_A]["problems"] == ["changed"]
    assert "sha256" in by_id[PHOTOS_A]["details"][0]
    assert by_id[PHOTOS_B]["problems"] == ["unverified"]
    assert as_json["summary"]["entries"] == 3

    # the photo stories are gone from TikTok by now; the video story is still up
    for story_id in (PHOTOS_A, PHOTOS_B):
        demo_scenario.story(story_id).removed = True
    fixed = run_cli("audit", "--requeue", "--json")
    assert fixed.rc == 1, fixed  # two entries cannot be saved again
    by_id = {e["story_id"]: e for e in json.loads(fixed.out)["entries"]}
    assert by_id[VIDEO]["requeued_job"] is not None
    assert "saved again" in by_id[VIDEO]["action"]
    resaved = _entries()[VIDEO].path  # type: ignore[attr-defined]
    assert resaved.is_file() and resaved.parent == saved and resaved.suffix == ".mp4"
    assert resaved.name in by_id[VIDEO]["action"]
    for story_id in (PHOTOS_A, PHOTOS_B):
        assert by_id[story_id]["status"] == "unrecoverable"
        assert "no longer lists it" in by_id[story_id]["mark_reason"]

    after = json.loads(run_cli("audit", "--json").out)
    statuses = {e["story_id"]: e["status"] for e in after["entries"]}
    assert statuses == {VIDEO: "ok", PHOTOS_A: "unrecoverable", PHOTOS_B: "unrecoverable"}
    text = run_cli("audit").out
    assert "unrecoverable" in text and "no longer lists it" in text


def test_audit_flags_a_failing_verdict(run_cli, saved: Path) -> None:
    entries = _entries()
    with Store.open(load().state_db) as store:
        Records(store).put(replace(entries[VIDEO], verdict="fail"))  # type: ignore[type-var]
    result = json.loads(run_cli("audit", "--json").out)
    (failing,) = [e for e in result["entries"] if e["problems"]]
    assert failing["story_id"] == VIDEO and failing["problems"] == ["failing"]


def test_export_csv_and_json_round_trip(run_cli, saved: Path, tmp_path: Path) -> None:
    as_csv = run_cli("export")
    assert as_csv.rc == 0 and as_csv.err == ""
    out_file = tmp_path / "archive.json"
    as_json = run_cli("export", "--format", "json", "-o", str(out_file))
    assert as_json.rc == 0 and as_json.out == ""
    data = json.loads(out_file.read_text(encoding="utf-8"))

    entries = _entries()
    assert {d["story_id"] for d in data} == set(entries) == {VIDEO, PHOTOS_A, PHOTOS_B}
    for d in data:
        entry = entries[d["story_id"]]
        assert d["file"] == str(entry.path)  # type: ignore[attr-defined]
        assert Path(d["file"]).is_file()
        assert d["note"] == NOTE
        assert d["verdict"] == "ok" and d["status"] == "ok"
        assert d["url"].endswith(d["story_id"]) and d["posted_at"] and d["saved_at"]
    video = next(d for d in data if d["story_id"] == VIDEO)
    assert video["creator"] == DEMO_CREATOR
    assert next(d for d in data if d["story_id"] == PHOTOS_A)["files"][3].endswith(".jpg")

    # the CSV holds the same content; a formula-looking note stays text in a spreadsheet
    raw = list(csv.reader(io.StringIO(as_csv.out, newline="")))
    assert tuple(raw[0]) == FIELDS
    assert all(row[FIELDS.index("note")] == "'" + NOTE for row in raw[1:])
    rows = read_csv(as_csv.out)
    assert len(rows) == 3
    for row in rows:
        d = next(x for x in data if x["story_id"] == row["story_id"])
        assert row == {k: str(d[k]) for k in FIELDS}


def test_empty_archive(run_cli, cli_env: Path) -> None:
    assert run_cli("audit").out.strip() == "0 archived, 0 ok"
    assert run_cli("export").out.splitlines() == [",".join(FIELDS)]
    assert json.loads(run_cli("export", "--format", "json").out) == []
