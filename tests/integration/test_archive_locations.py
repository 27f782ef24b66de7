"""The archive means what it says (issue 12): one story, every folder it was saved in.

End to end through ``tikget`` against the stand-in over real sockets, options typed
after the subcommand as people type them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import load
from tikget_tui.demo import DemoServerThread, Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR
from tikget_tui.store import Store
from tikget_tui.verify.verifier import sha256_file

STORY_B = "7440000000000000002"  # h264_b, "Coffee first ☕️"
STORY_C = "7440000000000000003"


@pytest.fixture
def demo_clock() -> FakeClock:
    return realtime_clock()


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.stem + ".info.json").read_text(encoding="utf-8"))


def test_saving_into_a_second_folder_copies_verified_and_export_lists_both(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
    tmp_path: Path,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B, STORY_C})
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    origin = demo_thread.origin

    # as the issue writes it: options after the subcommand
    first = run_cli("save", "@" + DEMO_CREATOR, "--service", origin, "--dir", str(first_dir),
                    "--json", "--note", "trip log")
    assert first.rc == 0, first
    originals = {i["story_id"]: Path(i["path"]) for i in _json_lines(first.out)}
    assert set(originals) == {STORY_B, STORY_C}
    assert all(p.parent == first_dir for p in originals.values())
    media_requests = demo_thread.server.stats.by_kind["media"]
    assert media_requests > 0

    # the same stories asked for in another folder: copies there, no download
    second = run_cli("save", "@" + DEMO_CREATOR, "--dir", str(second_dir), "--json",
                     "--note", "for the zine")
    assert second.rc == 0, second
    items = {i["story_id"]: i for i in _json_lines(second.out)}
    assert set(items) == {STORY_B, STORY_C}
    for story_id, item in items.items():
        copy = Path(item["path"])
        assert item["state"] == "done" and item["verdict"] == "ok"
        assert copy.parent == second_dir and copy.is_file()
        # under the human name, not "-ID-2": the second folder had nothing in it
        assert copy.name == originals[story_id].name
        assert "copied from" in item["reason"] and "sha256 verified" in item["reason"]
        assert item["outcome"] == "copied"
        assert sha256_file(copy) == sha256_file(originals[story_id])
        side = _sidecar(copy)
        assert side["file"] == copy.name and side["files"][0]["name"] == copy.name
        assert side["note"] == "trip log; for the zine"
        assert side["copied_from"] == str(originals[story_id])
        # the original keeps its own note and sidecar
        assert _sidecar(originals[story_id])["note"] == "trip log"
        assert originals[story_id].is_file()
    assert demo_thread.server.stats.by_kind["media"] == media_requests  # no network needed
    # same file system: hard links (one inode, two names)
    b_copy = Path(items[STORY_B]["path"])
    assert "hard link" in items[STORY_B]["reason"]
    assert os.stat(b_copy).st_ino == os.stat(originals[STORY_B]).st_ino

    # export lists both locations, each with its note; audit checks both
    exported = json.loads(run_cli("export", "--format", "json").out)
    rows = sorted((r["story_id"], r["file"], r["note"]) for r in exported)
    assert rows == sorted(
        [(sid, str(originals[sid]), "trip log") for sid in originals]
        + [(sid, items[sid]["path"], "trip log; for the zine") for sid in originals])
    copied = {r["file"]: r["copied_from"] for r in exported}
    assert copied[items[STORY_B]["path"]] == str(originals[STORY_B])
    assert copied[str(originals[STORY_B])] is None
    audit = run_cli("audit", "--json")
    assert audit.rc == 0, audit
    assert json.loads(audit.out)["summary"] == {"entries": 4, "ok": 4}

    # asked for again in the first folder: already saved there, the note is added
    third = run_cli("save", "@" + DEMO_CREATOR, "--dir", str(first_dir), "--json",
                    "--note", "second look")
    assert third.rc == 0, third
    for item in _json_lines(third.out):
        assert item["path"] == str(originals[item["story_id"]])
        assert item["reason"].startswith("already saved")
        assert "note was added" in item["reason"]
        assert item["outcome"] == "already saved"
    assert _sidecar(originals[STORY_B])["note"] == "trip log; second look"
    with Store.open(load().state_db) as store:
        notes = {(e.story_id, e.path.parent.name): e.note for e in Records(store).entries()}
    assert notes[(STORY_B, "first")] == "trip log; second look"
    assert notes[(STORY_B, "second")] == "trip log; for the zine"
    # the same note twice is not added twice; the summary says nothing was saved this time
    fourth = run_cli("save", "@" + DEMO_CREATOR, "--dir", str(first_dir), "--note",
                     "second look")
    assert _sidecar(originals[STORY_B])["note"] == "trip log; second look"
    assert fourth.rc == 0 and fourth.out.rstrip().endswith("\n2 already saved"), fourth.out
    assert "saved and verified" not in fourth.out


def test_again_into_an_empty_folder_keeps_the_originals_and_human_names(
    run_cli, cli_env: Path, demo_scenario: Scenario, tmp_path: Path,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    first = run_cli("save", "@" + DEMO_CREATOR, "--json", "--note", "kept")
    assert first.rc == 0, first
    [original] = _json_lines(first.out)
    fresh_dir = tmp_path / "fresh"
    again = run_cli("--dir", str(fresh_dir), "save", "@" + DEMO_CREATOR, "--again", "--json")
    assert again.rc == 0, again
    [item] = _json_lines(again.out)
    assert Path(item["path"]).parent == fresh_dir
    assert Path(item["path"]).name == Path(original["path"]).name  # no "-ID-2"
    assert "copied" not in item["reason"]  # --again downloads
    exported = json.loads(run_cli("export", "--format", "json").out)
    assert sorted(r["file"] for r in exported) == sorted([original["path"], item["path"]])
    assert {r["note"] for r in exported if r["file"] == original["path"]} == {"kept"}


def test_a_changed_original_is_downloaded_again_not_copied(
    run_cli, cli_env: Path, demo_scenario: Scenario, tmp_path: Path,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    [original] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--json").out)
    path = Path(original["path"])
    data = bytearray(path.read_bytes())
    data[300:306] = bytes(b ^ 0xFF for b in data[300:306])
    path.write_bytes(bytes(data))  # edited after saving
    result = run_cli("save", "@" + DEMO_CREATOR, "--dir", str(tmp_path / "other"), "--json")
    assert result.rc == 0, result
    [item] = _json_lines(result.out)
    # the result says why the story was downloaded, not copied
    assert "no longer matches the sha256 recorded when it was saved" in item["reason"]
    assert "downloading it again" in item["reason"]
    assert item["verdict"] == "ok"
    assert sha256_file(Path(item["path"])) != sha256_file(path)
    assert not any(p.name.endswith(".part") for p in (tmp_path / "other").iterdir())


def test_stories_with_options_after_the_subcommand(
    run_cli, demo_thread: DemoServerThread, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIKGET_API_MIN_INTERVAL", "0")
    result = run_cli("stories", "@" + DEMO_CREATOR, "--service", demo_thread.origin, "--json")
    assert result.rc == 0, result
    [listing] = json.loads(result.out)
    assert listing["creator"]["username"] == DEMO_CREATOR and listing["stories"]


def test_a_copy_deleted_by_hand_is_copied_again_and_the_archive_stays_clean(
    run_cli, cli_env: Path, demo_scenario: Scenario, demo_thread: DemoServerThread,
    tmp_path: Path,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    other = tmp_path / "other"
    [original] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--json").out)
    [copy] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--dir", str(other), "--json").out)
    Path(copy["path"]).unlink()
    assert json.loads(run_cli("audit", "--json").out)["summary"].get("missing") == 1
    media = demo_thread.server.stats.by_kind["media"]
    [again] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--dir", str(other), "--json").out)
    assert again["path"] == copy["path"] and Path(again["path"]).is_file()
    assert "copied from" in again["reason"]
    assert demo_thread.server.stats.by_kind["media"] == media
    audit = json.loads(run_cli("audit", "--json").out)
    assert audit["summary"] == {"entries": 2, "ok": 2}
    assert sorted(e["path"] for e in audit["entries"]) == sorted([original["path"], copy["path"]])


def test_a_note_for_a_copy_without_its_sidecar_goes_to_the_archive_and_says_so(
    run_cli, cli_env: Path, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    [saved] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--json").out)
    path = Path(saved["path"])
    path.with_name(path.stem + ".info.json").unlink()
    [item] = _json_lines(run_cli("save", "@" + DEMO_CREATOR, "--json", "--note", "why").out)
    assert "the note was added to the archive (its .info.json is missing)" in item["reason"]
    [row] = json.loads(run_cli("export", "--format", "json").out)
    assert row["note"] == "why"
    assert not path.with_name(path.stem + ".info.json").exists()  # not made up
