"""verify() on real media generated with ffmpeg: the good files and every way they break."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.plugins.media import DURATION, MediaFiles
from tikget_tui.mediatools import MediaTools
from tikget_tui.verify import Check, Expected, MediaKind, Report, Verdict, verify, verify_sync


def check(report: Report, name: str) -> Check:
    found = report.check(name)
    assert found is not None, f"no {name!r} check in {[c.name for c in report.checks]}"
    return found


def only_failure(report: Report) -> Check:
    """The single failing check; the broken file must fail for exactly the right reason."""
    assert report.verdict is Verdict.FAIL, report.checks
    assert len(report.failed) == 1, report.failed
    return report.failed[0]


# ------------------------------------------------------------------ complete files


@pytest.mark.parametrize("name", ["h264_faststart.mp4", "h264_moov_end.mp4"])
async def test_complete_h264_aac_is_ok(media: MediaFiles, media_tools: MediaTools,
                                       name: str) -> None:
    path = media.path(name)
    report = await verify(path, Expected(duration=DURATION, kind="video", has_sound=True,
                                         size=path.stat().st_size), tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert report.kind is MediaKind.VIDEO
    assert report.duration == pytest.approx(DURATION, abs=0.05)
    video, audio = report.streams
    assert (video.type, video.codec, video.width, video.height) == ("video", "h264", 180, 320)
    assert (audio.type, audio.codec, audio.sample_rate) == ("audio", "aac", 44100)
    assert [c.name for c in report.checks] == [
        "size", "sniff", "probe", "codecs", "kind", "duration", "streams_agree",
        "first_second", "last_second", "audio_present", "audio_level", "audio_coverage"]
    assert check(report, "first_second").detail == "30 frames decode in the first second"
    assert "up to 5.00 s" in check(report, "last_second").detail
    assert check(report, "audio_level").detail.startswith("audible")
    assert report.sha256 is not None and len(report.sha256) == 64
    assert report.size == path.stat().st_size


async def test_hevc_is_ok_with_a_playback_note(media: MediaFiles,
                                               media_tools: MediaTools) -> None:
    report = await verify(media.path("hevc.mp4"), Expected(duration=DURATION),
                          tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert report.streams[0].codec == "hevc"
    codecs = check(report, "codecs")
    assert codecs.detail.startswith("hevc 180x320, aac")
    assert "some players" in codecs.detail
    assert check(report, "last_second").status is Verdict.OK


async def test_timestamps_not_starting_at_zero_are_ok(media: MediaFiles,
                                                     media_tools: MediaTools) -> None:
    report = await verify(media.path("offset_start.mp4"), Expected(duration=DURATION),
                          tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert check(report, "last_second").detail.endswith("up to 7.00 s")
    assert check(report, "audio_coverage").status is Verdict.OK


@pytest.mark.parametrize("name, codec", [("audio.mp3", "mp3"), ("audio.m4a", "aac")])
async def test_audio_files_are_ok(media: MediaFiles, media_tools: MediaTools, name: str,
                                  codec: str) -> None:
    report = await verify(media.path(name), Expected(duration=DURATION, kind="audio"),
                          tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert report.kind is MediaKind.AUDIO
    assert [s.codec for s in report.streams] == [codec]
    assert report.duration == pytest.approx(DURATION, abs=0.1)
    assert [c.name for c in report.checks] == [
        "size", "sniff", "probe", "codecs", "kind", "duration", "first_second", "last_second",
        "audio_level"]


@pytest.mark.parametrize("name, codec", [("image.jpg", "mjpeg"), ("image.webp", "webp")])
async def test_images_decode_and_report_dimensions(media: MediaFiles, media_tools: MediaTools,
                                                   name: str, codec: str) -> None:
    report = await verify(media.path(name), Expected(kind="photo"), tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert report.kind is MediaKind.IMAGE
    assert check(report, "image_decode").detail == f"{codec} decodes fully"
    assert check(report, "dimensions").detail == "180x320"
    assert (report.streams[0].width, report.streams[0].height) == (180, 320)


# ------------------------------------------------------------------ broken files


async def test_truncated_at_75_percent_fails_on_the_last_second(
        media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("truncated_75.mp4"), Expected(duration=DURATION),
                          tools=media_tools)
    # The index at the front still promises the full duration ...
    assert check(report, "duration").status is Verdict.OK
    assert check(report, "first_second").status is Verdict.OK
    # ... but the frames stop early.
    last = check(report, "last_second")
    assert last.status is Verdict.FAIL
    assert "file truncated?" in last.detail
    assert report.verdict is Verdict.FAIL


async def test_truncated_at_97_percent_fails_on_the_last_second(
        media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("truncated_97.mp4"), Expected(duration=DURATION),
                          tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "last_second"
    assert failure.detail.startswith("video stops ")
    assert failure.detail.endswith("(file truncated?)")


async def test_truncated_with_index_at_the_end_does_not_parse(
        media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("truncated_moov_end.mp4"), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "probe"
    assert failure.detail.startswith("ffprobe cannot read it: ")
    assert "moov atom not found" in failure.detail
    assert report.kind is MediaKind.UNKNOWN


async def test_no_audio_stream_fails(media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("no_audio.mp4"), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "audio_present"
    assert failure.detail.startswith("no audio")


async def test_no_audio_is_ok_when_the_source_has_no_sound(
        media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("no_audio.mp4"), Expected(has_sound=False),
                          tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    assert check(report, "audio_present").detail == "no audio stream (the source has no sound)"


async def test_silent_audio_fails(media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("silent.mp4"), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "audio_level"
    assert failure.detail.startswith("the audio is silent (loudest -")
    assert "3 windows" in failure.detail


async def test_audio_ending_halfway_is_a_dropout(media: MediaFiles,
                                                 media_tools: MediaTools) -> None:
    report = await verify(media.path("audio_half.mp4"), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "audio_coverage"
    assert failure.detail == "audio ends 2.50 s early, at 2.50 of 5.00 s (dropout)"


@pytest.mark.parametrize("name, reason", [
    ("html.mp4", "the file is an HTML page, not media"),
    ("json.mp4", "the file is JSON, not media"),
])
async def test_web_replies_saved_as_mp4_fail_the_sniff(media: MediaFiles,
                                                       media_tools: MediaTools, name: str,
                                                       reason: str) -> None:
    report = await verify(media.path(name), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "sniff"
    assert failure.detail.startswith(reason)
    # Nothing was handed to ffprobe.
    assert [c.name for c in report.checks] == ["size", "sniff"]


async def test_empty_file_fails(media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("empty.mp4"), tools=media_tools)
    failure = only_failure(report)
    assert (failure.name, failure.detail) == ("size", "empty file (0 bytes)")


@pytest.mark.parametrize("name", ["truncated.jpg", "truncated.webp"])
async def test_truncated_images_fail_to_decode(media: MediaFiles, media_tools: MediaTools,
                                               name: str) -> None:
    report = await verify(media.path(name), tools=media_tools)
    decode = check(report, "image_decode")
    assert decode.status is Verdict.FAIL
    assert decode.detail.startswith(("the image does not decode",
                                     "the image decodes with errors"))
    assert report.verdict is Verdict.FAIL


async def test_truncated_mp3_fails_on_its_last_second(media: MediaFiles,
                                                      media_tools: MediaTools) -> None:
    report = await verify(media.path("truncated.mp3"), tools=media_tools)
    last = check(report, "last_second")
    assert last.status is Verdict.FAIL
    assert "file truncated?" in last.detail


async def test_file_shorter_than_expected_fails_on_duration(media: MediaFiles,
                                                            media_tools: MediaTools) -> None:
    report = await verify(media.path("h264_faststart.mp4"), Expected(duration=10.0),
                          tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "duration"
    assert failure.detail == "5.00 s, the source said 10.00 s: the file is 5.00 s shorter"


async def test_slightly_short_is_a_warning(media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("h264_faststart.mp4"), Expected(duration=6.0),
                          tools=media_tools)
    assert report.verdict is Verdict.WARN
    assert check(report, "duration").detail == "5.00 s, the source said 6.00 s (1.00 s shorter)"


async def test_smaller_than_the_source_said_fails_on_size(media: MediaFiles,
                                                          media_tools: MediaTools) -> None:
    path = media.path("h264_faststart.mp4")
    report = await verify(path, Expected(size=path.stat().st_size + 1000), tools=media_tools)
    failure = only_failure(report)
    assert failure.name == "size"
    assert failure.detail.endswith("(download incomplete?)")


async def test_wrong_kind_fails(media: MediaFiles, media_tools: MediaTools) -> None:
    report = await verify(media.path("image.jpg"), Expected(kind="video"), tools=media_tools)
    failure = only_failure(report)
    assert (failure.name, failure.detail) == ("kind", "expected a video, found an image")


async def test_missing_file_fails(tmp_path: Path, media_tools: MediaTools) -> None:
    report = await verify(tmp_path / "gone.mp4", tools=media_tools)
    assert [(c.name, c.status, c.detail) for c in report.checks] == [
        ("size", Verdict.FAIL, "the file does not exist")]


# ------------------------------------------------------------------ plumbing


async def test_a_hung_tool_is_killed_and_reported(media: MediaFiles, media_tools: MediaTools,
                                                  tmp_path: Path) -> None:
    hang = tmp_path / "ffprobe"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(0o755)
    tools = MediaTools(ffmpeg=media_tools.ffmpeg, ffprobe=str(hang))
    report = await verify(media.path("h264_faststart.mp4"), tools=tools, timeout=0.5)
    failure = only_failure(report)
    assert failure.name == "probe"
    assert failure.detail == "ffprobe did not finish within 0.5 s and was stopped"


def test_verify_sync_and_json_round_trip(media: MediaFiles, media_tools: MediaTools,
                                         tmp_path: Path) -> None:
    # A name with spaces, brackets and a leading dash is just a name.
    path = tmp_path / "-[bold]odd name].mp4"
    shutil.copyfile(media.path("h264_faststart.mp4"), path)
    report = verify_sync(path, tools=media_tools)
    assert report.verdict is Verdict.OK, report.checks
    data = json.loads(json.dumps(report.to_dict()))
    assert data["file"] == str(path)
    assert Report.from_dict(data) == report


async def test_cancelling_verify_kills_its_children(media: MediaFiles, media_tools: MediaTools,
                                                    tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    hang = tmp_path / "ffprobe"
    hang.write_text(f"#!/bin/sh\necho $$ > '{pidfile}'\nexec sleep 60\n")
    hang.chmod(0o755)
    tools = MediaTools(ffmpeg=media_tools.ffmpeg, ffprobe=str(hang))
    task = asyncio.create_task(verify(media.path("h264_faststart.mp4"), tools=tools))
    while not (pidfile.exists() and pidfile.read_text().strip()):
        await asyncio.sleep(0.01)  # waiting for the child to start, not for time to pass
    pid = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_verdicts_do_not_depend_on_where_ffprobe_lives(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path
) -> None:
    """Regression: ffprobe 6.0 (the ffmpeg extra's static build) reads no frame for an
    open-ended ``-read_intervals`` ("%" or "START%") when the length of its own path
    falls in some ranges (14 of every 30 characters here), which made fresh CI clones
    fail every image and every last second. Every interval we ask for has an end."""
    real_probe = Path(media_tools.ffprobe)
    verdicts: dict[int, list[str]] = {}
    for pad in (1, 5, 9, 13, 17, 21, 25, 29):  # spans a whole 30-character period
        folder = tmp_path / ("p" * pad)
        folder.mkdir()
        probe = folder / "ffprobe"
        try:
            os.link(real_probe, probe)
        except OSError:  # another filesystem: copy it (about 80 MB, once per length)
            shutil.copy2(real_probe, probe)
        tools = MediaTools(ffmpeg=media_tools.ffmpeg, ffprobe=str(probe))
        verdicts[pad] = [
            str(verify_sync(media.path(name), tools=tools).verdict)
            for name in ("h264_faststart.mp4", "image.jpg", "image.webp")
        ]
    assert all(v == ["ok", "ok", "ok"] for v in verdicts.values()), verdicts
