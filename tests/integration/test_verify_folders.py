"""``tikget verify`` on what the project saved: folders, sidecars skipped, files compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.clock import FakeClock
from tikget_tui.demo import Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_PHOTO_STORY

STORY_B = "7440000000000000002"


@pytest.fixture
def demo_clock() -> FakeClock:
    return realtime_clock()


@pytest.fixture
def saved(run_cli, cli_env: Path, demo_scenario: Scenario) -> Path:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B, DEMO_PHOTO_STORY})
    result = run_cli("save", "@" + DEMO_CREATOR)
    assert result.rc == 0, result
    return cli_env


def test_a_folder_the_project_saved_verifies_with_exit_0(run_cli, saved: Path) -> None:
    names = sorted(p.name for p in saved.iterdir())
    assert sum(n.endswith(".info.json") for n in names) == 2
    (saved / "half.mp4.part").write_bytes(b"\0" * 100)  # a download in progress

    result = run_cli("verify", str(saved))
    assert result.rc == 0, result
    assert "FAIL" not in result.out
    assert result.out.count("OK    ") == 4  # one video, three photos
    assert "4 files: 4 ok, 0 warn, 0 fail; skipped 2 sidecars (.info.json), " \
        "1 partial download (.part)" in result.out
    # each file was compared with its sidecar
    assert result.out.count("ok    sidecar") == 4

    # the shell's glob names the sidecars too: skipped, not failed
    every = run_cli("verify", *sorted(str(p) for p in saved.iterdir()))
    assert every.rc == 0, every
    assert "skipped 2 sidecars (.info.json), 1 partial download (.part)" in every.out
    assert "JSON, not media" not in every.out


def test_sub_folders_need_r(run_cli, saved: Path) -> None:
    parent = saved.parent
    shallow = run_cli("verify", str(parent))
    assert shallow.rc == 2  # nothing to verify at the top
    assert "sub-folder" in shallow.err and "-r" in shallow.err
    deep = run_cli("verify", "-r", str(parent), "--json")
    assert deep.rc == 0, deep
    items = json.loads(deep.out)
    assert len(items) == 4 and not any(i["changed"] for i in items)
    assert "skipped 2 sidecars" in deep.err


def test_a_file_changed_since_saved_is_reported_as_changed(run_cli, saved: Path) -> None:
    [video] = saved.glob("*.mp4")
    data = bytearray(video.read_bytes())
    data[-40:-34] = bytes(b ^ 0xFF for b in data[-40:-34])  # still a playable file
    video.write_bytes(bytes(data))
    result = run_cli("verify", str(saved))
    assert result.rc == 1
    assert f"FAIL  {video}  (changed since it was saved)" in result.out
    assert "fail  sidecar" in result.out and "changed: its sha256 differs" in result.out
    assert "(1 changed since saved)" in result.out
    as_json = json.loads(run_cli("verify", "--json", str(video)).out)
    assert as_json[0]["changed"] is True


def test_the_declared_duration_is_checked(run_cli, saved: Path) -> None:
    [video] = saved.glob("*.mp4")
    side_path = video.with_name(video.stem + ".info.json")
    side = json.loads(side_path.read_text(encoding="utf-8"))
    side["duration"] = 30.0  # TikTok said 30 s; the file holds 5
    side_path.write_text(json.dumps(side), encoding="utf-8")
    result = run_cli("verify", str(video))
    assert result.rc == 1
    assert "the source said 30.00 s" in result.out


def test_r_says_why_it_skipped_a_cache_folder(run_cli, saved: Path) -> None:
    """The preview frames' cache (tagged CACHEDIR.TAG) is skipped by -r: said as such, never
    as '-r looks inside' to someone who gave -r (issue 26)."""
    cache = saved / "frames"
    cache.mkdir()
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    (cache / "first.jpg").write_bytes(b"\xff\xd8 not a real picture")
    deep = run_cli("verify", "-r", str(saved))
    assert deep.rc == 0, deep
    assert "-r looks inside" not in deep.out + deep.err
    assert "1 cache folder (a CACHEDIR.TAG marks it" in deep.out
    assert "first.jpg" not in deep.out
    shallow = run_cli("verify", str(saved))
    assert "1 sub-folder (-r looks inside)" in shallow.out


def test_a_file_gone_from_beside_its_sidecar_fails_the_folder(run_cli, saved: Path) -> None:
    """A saved story whose media was deleted leaves only its sidecar, which verify skips: it
    must not pass the folder (found by a new-user tryout: '1 ok' and exit 0)."""
    video = next(p for p in saved.iterdir() if p.suffix == ".mp4")
    video.unlink()
    result = run_cli("verify", str(saved))
    assert result.rc == 1, result
    assert f"FAIL  {video}  (missing)" in result.out
    assert "3 files: 3 ok, 0 warn, 0 fail; 1 missing (listed by a sidecar)" in result.out
    as_json = run_cli("verify", str(saved), "--json")
    assert as_json.rc == 1
    [gone] = [i for i in json.loads(as_json.out) if i.get("missing")]
    assert gone["path"] == str(video) and gone["verdict"] == "fail"
    # a sidecar naming something that is not a plain file name beside it is ignored
    sidecar = next(p for p in saved.iterdir() if p.name.endswith(".info.json")
                   and "azulejos" not in p.name)
    data = json.loads(sidecar.read_text())
    data["files"] = [{"name": "../../etc/passwd"}, {"name": ".."}]
    sidecar.write_text(json.dumps(data))
    assert run_cli("verify", str(saved)).rc == 0
