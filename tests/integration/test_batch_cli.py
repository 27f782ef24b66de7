"""``tikget save`` end to end against the stand-in over real sockets (in-process + subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import load
from tikget_tui.demo import DemoServerThread, Scenario
from tikget_tui.demo.scenario import (
    DEMO_CREATOR,
    DEMO_PHOTO_STORY,
    DEMO_PRIVATE_CREATOR,
    DEMO_REMOVED_POST,
    DEMO_SHORT_PHOTO,
    DEMO_SHORT_STORY,
)
from tikget_tui.store import InstanceLock, Store

STORY_B = "7440000000000000002"  # h264_b, 5 s
STORY_A = "7440000000000000001"  # the story behind DEMO_SHORT_STORY


@pytest.fixture
def demo_clock() -> FakeClock:
    """The commands run on the system clock: keep the stand-in's "now" on it too."""
    return realtime_clock()


def _sidecar(path: Path, *, photo: bool = False) -> dict:
    stem = path.stem[:-3] if photo else path.stem  # photo: NAME-01.jpg → NAME.info.json
    return json.loads((path.parent / f"{stem}.info.json").read_text(encoding="utf-8"))


def test_mixed_batch_saves_what_it_may_and_explains_the_rest(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_A, STORY_B, DEMO_PHOTO_STORY})
    demo_scenario.story(STORY_A).expires = -60.0  # ended a minute before the server started
    origin = demo_thread.origin
    result = run_cli(
        "save", "@" + DEMO_CREATOR, "@" + DEMO_PRIVATE_CREATOR, "@no.such.creator",
        f"{origin}/t/{DEMO_SHORT_STORY}/", f"{origin}/@{DEMO_CREATOR}/video/{DEMO_REMOVED_POST}",
        "--note", "kept for the trip log",
    )
    assert result.rc == 1, result
    lines = result.out.splitlines()
    head = lines[0].split()
    assert head[:3] == ["ITEM", "CREATOR", "STATE"]
    row = {ln.split()[0]: ln for ln in lines[1:] if ln.strip()}

    def row_of(caption: str) -> str:
        [line] = [ln for ln in lines[1:] if ln.startswith(caption)]
        return line

    # the public creator's video and photo stories: saved and verified, named by their
    # caption and creator (the numeric ids are for --json)
    video, photo = row_of("Coffee first ☕️ "), row_of("Azulejos, a tiny gallery 🧱💙 ")
    assert " @" + DEMO_CREATOR + " " in video and " @" + DEMO_CREATOR + " " in photo
    assert " done " in video and video.rstrip().endswith("ok")
    assert " done " in photo and "(+2)" in photo
    assert STORY_B not in result.out and DEMO_PHOTO_STORY not in result.out
    # the rest: one line each, with its reason
    assert "private" in row["@" + DEMO_PRIVATE_CREATOR]
    assert "private account" in row["@" + DEMO_PRIVATE_CREATOR]
    assert "unknown" in row["@no.such.creator"]
    assert "does not exist" in row["@no.such.creator"]
    gone = [ln for ln in lines if " gone " in ln]
    assert len(gone) == 2  # the expired story's short link and the removed post
    assert any(DEMO_SHORT_STORY in ln and "expired" in ln for ln in gone)
    assert any(DEMO_REMOVED_POST in ln and "not available" in ln for ln in gone)
    assert "2 saved and verified, 4 not saved" in result.out

    files = sorted(p.name for p in cli_env.iterdir())
    videos = [n for n in files if n.endswith(".mp4")]
    photos = [n for n in files if n.endswith((".jpg", ".webp"))]
    assert len(videos) == 1 and len(photos) == 3
    assert not [n for n in files if n.endswith(".part")]
    side = _sidecar(cli_env / videos[0])
    assert side["story_id"] == STORY_B
    assert side["note"] == "kept for the trip log"
    assert side["verification"]["verdict"] == "ok"
    # the same names and archive the UI writes: the store knows both saved stories
    with Store.open(load().state_db) as store:
        saved = {(e.story_id, e.variant) for e in Records(store).entries()}
    assert saved == {(STORY_B, "video"), (DEMO_PHOTO_STORY, "photo")}


def test_json_lines_stdin_and_from_file(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
    tmp_path: Path,
) -> None:
    origin = demo_thread.origin
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# trip\n\n{origin}/t/{DEMO_SHORT_PHOTO}/\n", encoding="utf-8")
    result = run_cli("save", "-", "--from-file", str(listing), "--json",
                     stdin=f"@{DEMO_PRIVATE_CREATOR}\n")
    assert result.rc == 1, result
    items = [json.loads(line) for line in result.out.splitlines()]
    assert [set(i) >= {"target", "story_id", "creator", "state", "path", "verdict", "reason"}
            for i in items] == [True, True]
    private, photo = items
    assert private["state"] == "private" and private["story_id"] is None
    assert "private" in private["reason"]
    assert photo["state"] == "done" and photo["verdict"] == "ok"
    assert photo["story_id"] == DEMO_PHOTO_STORY and photo["creator"] == DEMO_CREATOR
    assert Path(photo["path"]).is_file() and len(photo["files"]) == 3

    # the same story again: already saved, nothing downloaded, exit 0
    before = {p: p.stat().st_mtime_ns for p in cli_env.iterdir()}
    again = run_cli("save", "--json", "--from-file", str(listing))
    assert again.rc == 0, again
    (item,) = [json.loads(line) for line in again.out.splitlines()]
    assert item["state"] == "done" and item["reason"].startswith("already saved")
    assert item["path"] == photo["path"]
    assert {p: p.stat().st_mtime_ns for p in cli_env.iterdir()} == before


def test_usage_errors_exit_2_with_one_line(run_cli, cli_env: Path, tmp_path: Path) -> None:
    bad = run_cli("save", "https://evil.example/@x")
    assert bad.rc == 2 and bad.out == ""
    assert len(bad.err.strip().splitlines()) == 1 and "TikTok" in bad.err

    none = run_cli("save")
    assert none.rc == 2 and "nothing to save" in none.err

    missing = run_cli("save", "--from-file", str(tmp_path / "nope.txt"))
    assert missing.rc == 2 and "cannot read" in missing.err

    listing = tmp_path / "list.txt"
    listing.write_text("@fine.user\nhttps://www.tiktok.com/@x/settings\n", encoding="utf-8")
    located = run_cli("save", "--from-file", str(listing))
    assert located.rc == 2 and f"{listing}:2:" in located.err
    assert not cli_env.exists()  # nothing was looked up or saved


def test_second_instance_is_refused_in_one_line(run_cli, cli_env: Path) -> None:
    with InstanceLock(load().data_dir):
        result = run_cli("save", "@" + DEMO_CREATOR)
    assert result.rc == 1
    assert result.err.strip().splitlines() == [
        f"tikget: tikget is already running (pid {os.getpid()}); "
        "close it first or wait for it to finish"
    ]


def test_real_subprocess_saves_a_story_and_prints_json(
    cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    tikget = Path(sys.executable).parent / "tikget"
    assert tikget.is_file(), tikget
    link = f"{demo_thread.origin}/@{DEMO_CREATOR}/video/{STORY_B}"
    proc = subprocess.run(
        [str(tikget), "save", link, "--json", "--note", "subprocess"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress bars
    (item,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert item["state"] == "done" and item["verdict"] == "ok"
    saved = Path(item["path"])
    assert saved.parent == cli_env and saved.suffix == ".mp4"
    assert _sidecar(saved)["note"] == "subprocess"


async def test_progress_bars_on_a_terminal_and_quiet_otherwise(manager, find_story) -> None:
    import io

    from tikget_tui.progress import CliProgress

    assert CliProgress(io.StringIO()).enabled is False  # not a TTY: quiet
    stream = io.StringIO()
    with CliProgress(stream, enabled=True) as progress:
        progress.attach(manager)
        progress.note("looking up @mika.travels \x1b[2J")
        await manager.enqueue(await find_story(STORY_B))
        await manager.wait_idle()
    shown = stream.getvalue()
    assert f"mika.travels …{STORY_B[-6:]} video" in shown
    assert "done (ok)" in shown and "looking up @mika.travels ?[2J" in shown
    assert "\x1b[2J" not in shown  # untrusted text never reaches the terminal raw


def test_audio_mp3_setting_makes_save_keep_the_sound_as_mp3(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The audio_mp3 setting is the default of --audio (as it is of the app's MP3 toggle)."""
    monkeypatch.setenv("TIKGET_AUDIO_MP3", "true")
    result = run_cli("save", "--json", f"{demo_thread.origin}/@{DEMO_CREATOR}/video/{STORY_A}")
    assert result.rc == 0, result
    (item,) = [json.loads(line) for line in result.out.splitlines()]
    assert item["state"] == "done" and item["verdict"] == "ok"
    assert item["path"].endswith(".mp3") and Path(item["path"]).is_file()
