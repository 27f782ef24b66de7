"""``tikget verify``: the table, the JSON, the exit codes, a missing ffprobe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.plugins.media import MediaFiles
from tikget_tui.cli import main


def test_table_and_exit_one_when_a_file_fails(media: MediaFiles,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = media.path("h264_faststart.mp4"), media.path("no_audio.mp4")
    assert main(["verify", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"OK    {good}\n" in out
    assert f"FAIL  {bad}\n" in out
    assert "video, 5.00 s, h264 180x320 5.00s, aac 1ch 44100Hz 5.00s" in out
    assert "fail  audio_present  no audio: the file has no audio stream" in out
    assert out.rstrip().endswith("2 files: 1 ok, 0 warn, 1 fail")


def test_json_output(media: MediaFiles, capsys: pytest.CaptureFixture[str]) -> None:
    html, good = media.path("html.mp4"), media.path("audio.mp3")
    assert main(["verify", "--json", str(html), str(good)]) == 1
    items = json.loads(capsys.readouterr().out)
    assert [i["file"] for i in items] == [str(html), str(good)]
    assert [i["verdict"] for i in items] == ["fail", "ok"]
    for item in items:
        assert {"file", "verdict", "checks", "duration", "streams"} <= set(item)
        for c in item["checks"]:
            assert set(c) == {"name", "status", "detail"}
    assert items[0]["checks"][-1]["name"] == "sniff"
    assert items[1]["streams"][0]["codec"] == "mp3"
    assert items[1]["duration"] == pytest.approx(5.0, abs=0.1)


def test_warnings_still_exit_zero(media: MediaFiles, capsys: pytest.CaptureFixture[str]) -> None:
    path = media.path("h264_faststart.mp4")
    assert main(["verify", "--json", "--expect-duration", "6", str(path)]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["verdict"] == "warn"


def test_expect_duration_failing(media: MediaFiles, capsys: pytest.CaptureFixture[str]) -> None:
    path = media.path("h264_faststart.mp4")
    assert main(["verify", "--expect-duration", "10", str(path)]) == 1
    assert "fail  duration" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["verify"],
    ["verify", "--expect-duration", "soon", "x.mp4"],
])
def test_usage_errors_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_non_positive_expected_duration_is_a_usage_error(
        media: MediaFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--expect-duration", "-3", str(media.path("audio.mp3"))]) == 2
    assert capsys.readouterr().err == (
        "tikget: error: --expect-duration must be a positive number of seconds\n")


def test_missing_ffprobe_is_one_line_not_a_traceback(
        media: MediaFiles, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TIKGET_FFPROBE", "/nonexistent/ffprobe")
    assert main(["verify", str(media.path("audio.mp3"))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tikget: ffprobe not found")
    assert "pip install 'tikget-tui[ffmpeg]'" in lines[0]


def test_file_names_are_printed_as_plain_text(media: MediaFiles, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "[red]story[bold]\x1b[2J.jpg"
    shutil.copyfile(media.path("image.jpg"), path)
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"OK    {tmp_path}/[red]story[bold]?[2J.jpg\n" in out
    assert "\x1b" not in out
