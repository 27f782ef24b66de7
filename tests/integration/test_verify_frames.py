"""Preview frames: the first- and last-second decode windows write them, in the same
ffmpeg runs (no extra decode), with the timestamps of the frames the checks counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.plugins.media import DURATION, MediaFiles
from tikget_tui.mediatools import MediaTools
from tikget_tui.verify import Expected, Verdict, verify
from tikget_tui.verify import probe as probe_module
from tikget_tui.verify.report import Report


def record_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []
    real = probe_module.run_tool

    async def recording(args: list[str], deadline: Any, limits: Any = None) -> Any:
        runs.append(list(args))
        return await real(args, deadline, limits)

    monkeypatch.setattr(probe_module, "run_tool", recording)
    return runs


async def test_frames_come_from_the_decode_windows_already_run(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = media.path("h264_faststart.mp4")
    expected = Expected(duration=DURATION, kind="video", has_sound=True)
    runs = record_runs(monkeypatch)
    plain = await verify(path, expected, tools=media_tools)
    without = list(runs)
    runs.clear()
    report = await verify(path, expected, tools=media_tools, frames_dir=tmp_path / "f")
    # the same children, no more: the two windows just gained a second output
    assert len(runs) == len(without)
    assert [Path(r[0]).name for r in runs] == [Path(r[0]).name for r in without]
    windows = [r for r in runs if any("showinfo" in a for a in r)]
    assert len(windows) == 2
    outputs = sorted(r[-1] for r in windows)
    assert outputs == sorted(str(tmp_path / "f" / n) for n in ("first.jpg", "last.jpg"))
    assert all(r.count("-i") == 1 for r in windows)  # one input, decoded once
    # the checks are the same with or without frames
    assert [(c.name, c.status) for c in report.checks] == \
        [(c.name, c.status) for c in plain.checks]
    assert report.verdict is Verdict.OK
    first, last = report.frames
    assert (first.label, last.label) == ("first", "last")
    assert first.time == pytest.approx(0.0, abs=0.05)
    assert last.time is not None and DURATION - 0.2 < last.time < DURATION
    for frame in report.frames:
        with Image.open(frame.file) as image:
            assert image.format == "JPEG"
            assert image.height == probe_module.FRAME_HEIGHT
    # and they survive the trip through the store
    again = Report.from_dict(report.to_dict())
    assert again.frames == report.frames
    assert "frames" not in plain.to_dict()


async def test_a_photo_gets_a_small_thumbnail_and_verifies_as_before(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path,
) -> None:
    plain = await verify(media.path("image.jpg"), tools=media_tools)
    report = await verify(media.path("image.jpg"), tools=media_tools, frames_dir=tmp_path)
    assert [(f.label, f.time, f.file) for f in report.frames] == [
        ("photo", None, str(tmp_path / "photo.jpg"))]
    with Image.open(tmp_path / "photo.jpg") as image:  # 180x320: already under 480
        assert image.format == "JPEG" and image.size == (180, 320)
    assert report.verdict is Verdict.OK
    assert report.checks == plain.checks


def test_verify_frames_writes_two_jpegs_per_video_and_one_per_photo(
    media: MediaFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from tikget_tui.cli import main

    video, photo = media.path("h264_faststart.mp4"), media.path("image.jpg")
    out = tmp_path / "frames"
    assert main(["verify", "--frames", str(out), str(video), str(photo)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["h264_faststart.first.jpg", "h264_faststart.last.jpg",
                       "image.photo.jpg"]
    for name in written:
        with Image.open(out / name) as image:
            assert image.format == "JPEG"
    text = capsys.readouterr().out
    assert "frame first (0.00 s)" in text and "frame last (" in text


async def test_frames_cleared_from_the_cache_are_made_again(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path,
) -> None:
    from tikget_tui.verify.frames import frames_dir, present, remake

    path = media.path("h264_faststart.mp4")
    cache = tmp_path / "cache"
    report = await verify(path, tools=media_tools, frames_dir=frames_dir(cache, path))
    assert present(report)
    assert all(str(cache) in f.file for f in report.frames)  # never beside the file
    for frame in report.frames:
        Path(frame.file).unlink()
    assert not present(report)
    made = await remake(report, cache, tools=media_tools)
    assert [f.label for f in made] == ["first", "last"]
    assert all(Path(f.file).is_file() for f in made)
