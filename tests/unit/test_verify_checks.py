"""The verifier's rules on their own: magic bytes, tolerances, codec notes, report data."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tikget_tui.verify import checks as C
from tikget_tui.verify.probe import AudioWindow, FrameWindow, RawStream, error_lines, parse_probe
from tikget_tui.verify.report import Check, Expected, MediaKind, Report, StreamInfo, Verdict

# ------------------------------------------------------------------ sniffing


@pytest.mark.parametrize("head, family", [
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
    (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00", "m4a"),
    (b"\x00\x00\x00\x08free\x00\x00\x00\x08mdat", "mp4"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
    (b"GIF89a\x01\x00", "gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
    (b"\xff\xfb\x90\x64\x00", "mp3"),
    (b"\xff\xf1\x50\x80\x00", "aac"),
    (b"\x1aE\xdf\xa3\x9fB\x86", "mkv"),
    (b"OggS\x00\x02", "ogg"),
    (b"fLaC\x00\x00", "flac"),
])
def test_sniff_recognises_media(head: bytes, family: str) -> None:
    result = C.sniff(head)
    assert (result.family, result.problem) == (family, None)


@pytest.mark.parametrize("head, problem", [
    (b"", "empty file (0 bytes)"),
    (b"<!DOCTYPE html><html><body>Access denied</body></html>",
     "the file is an HTML page, not media"),
    (b"\xef\xbb\xbf\r\n  <html lang='en'>", "the file is an HTML page, not media"),
    (b"<div><script>location.reload()</script></div>", "the file is an HTML page, not media"),
    (b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
     "the file is an XML document, not media"),
    (b'{"statusCode": 10204, "statusMsg": ""}', "the file is JSON, not media"),
    (b'[{"a": 1}, {"b": "cut here', "the file is JSON, not media"),
    (b"\x00" * 512, "the file holds only zero bytes"),
    (b"Forbidden\n", "the file is plain text, not media"),
])
def test_sniff_names_what_is_not_media(head: bytes, problem: str) -> None:
    result = C.sniff(head)
    assert result.family is None
    assert result.problem is not None and result.problem.startswith(problem)


def test_unrecognised_binary_is_left_to_ffprobe() -> None:
    result = C.sniff(bytes(range(1, 256)) * 4)
    assert (result.family, result.problem, result.label) == (None, None, "unrecognised bytes")


@given(st.binary(max_size=600))
def test_sniff_never_raises(head: bytes) -> None:
    result = C.sniff(head)
    assert result.label


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize("actual, expected, status", [
    (15.3, 15.0, Verdict.OK),     # within 0.5 s
    (14.0, 15.0, Verdict.WARN),   # within 1.5 s
    (13.0, 15.0, Verdict.FAIL),
    (16.2, 15.0, Verdict.WARN),
    (98.5, 100.0, Verdict.OK),    # within 2 %
    (96.0, 100.0, Verdict.WARN),  # within 5 %
    (94.0, 100.0, Verdict.FAIL),
    (5.0, None, Verdict.OK),
])
def test_duration_bands(actual: float, expected: float | None, status: Verdict) -> None:
    assert C.duration_check(actual, expected).status is status


def test_no_duration_fails_only_when_one_was_expected() -> None:
    assert C.duration_check(None, 10.0).status is Verdict.FAIL
    assert C.duration_check(None, None).status is Verdict.WARN


def _video(codec: str, tag: str = "") -> RawStream:
    return RawStream(index=0, codec_type="video", codec_name=codec, codec_tag=tag,
                     width=1080, height=1920, duration=10.0, frame_rate=30.0)


def test_codec_notes() -> None:
    h264 = C.codec_check([_video("h264")], "mov,mp4,m4a,3gp,3g2,mj2")
    assert (h264.status, h264.detail) == (Verdict.OK, "h264 1080x1920")
    hevc = C.codec_check([_video("hevc", "hvc1")], "mov,mp4,m4a,3gp,3g2,mj2")
    assert hevc.status is Verdict.OK
    assert "H.265/HEVC: some players" in hevc.detail
    bvc2 = C.codec_check([_video("none", "bvc2"), _video("bytevc2")], "mov,mp4,m4a,3gp,3g2,mj2")
    assert bvc2.status is Verdict.WARN
    assert "ByteVC2" in bvc2.detail


def test_streams_agree_warns_on_a_lying_container() -> None:
    s = RawStream(index=0, codec_type="video", codec_name="h264", duration=5.0)
    assert C.streams_agree_check(5.0, [s]).status is Verdict.OK
    lying = C.streams_agree_check(12.0, [s])
    assert lying.status is Verdict.WARN
    assert lying.detail == "container says 12.00 s but the longest stream is 5.00 s"


# ------------------------------------------------------------------ windows


def _frames(start: float, stop: float, fps: float = 30.0, errors: list[str] | None = None
            ) -> FrameWindow:
    n = round((stop - start) * fps)
    return FrameWindow(times=[start + i / fps for i in range(n)], errors=errors or [])


def test_last_second_ok_when_frames_reach_the_end() -> None:
    c = C.last_second_check(_frames(8.0, 10.0), window_start=8.5, end=10.0, fps=30.0)
    assert c.status is Verdict.OK
    assert c.detail == "45 frames decode in the last 1.5 s, up to 10.00 s"


def test_last_second_fails_with_no_frames_whatever_the_exit_code() -> None:
    c = C.last_second_check(FrameWindow(times=[], errors=[]), window_start=8.5, end=10.0,
                            fps=30.0)
    assert (c.status, c.detail) == (Verdict.FAIL,
                                    "the last second does not decode (file truncated?)")


def test_frames_before_the_window_do_not_count() -> None:
    # The decoder ran up from the keyframe at 0 but stopped at 7 s.
    c = C.last_second_check(_frames(0.0, 7.0), window_start=8.5, end=10.0, fps=30.0)
    assert c.status is Verdict.FAIL


def test_last_second_fails_on_a_partial_file_error() -> None:
    c = C.last_second_check(_frames(8.5, 10.0, errors=["stream 0, offset 0x1f: partial file"]),
                            window_start=8.5, end=10.0, fps=30.0)
    assert c.status is Verdict.FAIL
    assert "partial file" in c.detail


def test_first_second_warns_on_too_few_frames() -> None:
    c = C.first_second_check(_frames(0.0, 0.2), start=0.0, fps=30.0, duration=10.0)
    assert (c.status, c.detail) == (Verdict.WARN,
                                    "only 6 of ~30 frames decode in the first second")


def _audio(start: float, seconds: float, max_db: float) -> AudioWindow:
    return AudioWindow(start=start, samples=int(seconds * 44100), max_volume=max_db,
                       mean_volume=max_db - 3, errors=[])


def test_audio_level_bands() -> None:
    assert C.audio_level_check([_audio(0, 1, -12.0)], None).status is Verdict.OK
    assert C.audio_level_check([_audio(0, 1, -50.0)], None).status is Verdict.WARN
    silent = C.audio_level_check([_audio(0, 1, -math.inf), _audio(4, 1, -91.0)], None)
    assert (silent.status, silent.detail) == (
        Verdict.FAIL, "the audio is silent (loudest -91.0 dB in 2 windows)")
    assert C.audio_level_check([_audio(0, 1, -91.0)], False).status is Verdict.OK
    nothing = C.audio_level_check([_audio(0, 0, -91.0)], None)
    assert (nothing.status, nothing.detail) == (Verdict.FAIL, "no audio decodes")


def test_audio_coverage_uses_the_smaller_of_listed_and_decoded_ends() -> None:
    stream = RawStream(index=1, codec_type="audio", codec_name="aac", duration=10.0,
                       start_time=0.0, channels=1, sample_rate=44100)
    full = C.audio_coverage_check(stream, _audio(8.5, 1.5, -10), 10.0)
    assert full.status is Verdict.OK
    # The index says 10 s, but the samples stop at 9.0 s.
    early = C.audio_coverage_check(stream, _audio(8.5, 0.5, -10), 10.0)
    assert (early.status, early.detail) == (
        Verdict.WARN, "audio ends 1.00 s early, at 9.00 of 10.00 s (dropout)")


def test_jpeg_without_end_marker_fails() -> None:
    stream = RawStream(index=0, codec_type="video", codec_name="mjpeg", width=10, height=10)
    window = FrameWindow(times=[0.0], errors=[], sizes=[(10, 10)])
    decode, dims = C.image_checks(window, stream, family="jpeg", tail=b"\x12\x34")
    assert (decode.status, decode.detail) == (Verdict.FAIL,
                                              "the JPEG has no end marker (file cut off?)")
    assert dims.detail == "10x10"


def test_kind_detection() -> None:
    audio = RawStream(index=1, codec_type="audio", codec_name="mp3")
    cover = RawStream(index=0, codec_type="video", codec_name="mjpeg", attached_pic=True)
    assert C.detect_kind([cover, audio], "mp3") is MediaKind.AUDIO
    assert C.detect_kind([_video("h264"), audio], "mov,mp4") is MediaKind.VIDEO
    jpeg = RawStream(index=0, codec_type="video", codec_name="mjpeg")
    assert C.detect_kind([jpeg], "image2") is MediaKind.IMAGE
    assert C.detect_kind([], "data") is MediaKind.UNKNOWN


# ------------------------------------------------------------------ probe output


def test_parse_probe_reads_ffprobe_json() -> None:
    data = parse_probe({
        "streams": [
            {"index": 0, "codec_type": "video", "codec_name": "h264", "codec_tag_string": "avc1",
             "width": 1080, "height": 1920, "avg_frame_rate": "30000/1001", "duration": "15.015",
             "start_time": "0.000000", "disposition": {"attached_pic": 0}},
            {"index": 1, "codec_type": "audio", "codec_name": "aac", "sample_rate": "44100",
             "channels": 2, "duration": "N/A", "avg_frame_rate": "0/0"},
        ],
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "15.015"},
    })
    video, audio = data.streams
    assert video.frame_rate == pytest.approx(29.97, abs=0.01)
    assert video.end == pytest.approx(15.015)
    assert (audio.sample_rate, audio.channels, audio.duration, audio.frame_rate) == (
        44100, 2, None, None)
    assert data.duration == pytest.approx(15.015)


def test_error_lines_drop_noise_and_the_path() -> None:
    path = Path("/downloads/x.mp4")
    stderr = (
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0] moov atom not found\n"
        "/downloads/x.mp4: Invalid data found when processing input\n"
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0] moov atom not found\n"
    )
    assert error_lines(stderr, path) == ["moov atom not found",
                                         "Invalid data found when processing input"]
    leveled = "[Parsed_volumedetect_0 @ 0x1] [info] n_samples: 0\n[aac @ 0x2] [error] bad\n"
    assert error_lines(leveled, leveled=True) == ["bad"]


# ------------------------------------------------------------------ report data


def test_report_verdict_is_the_worst_check_and_round_trips() -> None:
    report = Report(path=Path("/d/a.mp4"), size=10, duration=1.5, kind=MediaKind.VIDEO,
                    sha256="0" * 64, format_name="mp4",
                    streams=[StreamInfo(0, "video", "h264", 1080, 1920, 1.5)])
    report.add("size", Verdict.OK, "10 bytes")
    assert report.verdict is Verdict.OK
    report.add("duration", Verdict.WARN, "a bit short")
    report.add("audio_present", Verdict.FAIL, "no audio")
    report.add("codecs", Verdict.OK, "h264")
    assert report.verdict is Verdict.FAIL
    assert report.summary == "fail: no audio"
    assert report.failed == [Check("audio_present", Verdict.FAIL, "no audio")]
    assert Report.from_dict(report.to_dict()) == report
    assert report.to_dict()["checks"][1] == {"name": "duration", "status": "warn",
                                             "detail": "a bit short"}


def test_expected_round_trips() -> None:
    e = Expected(duration=12.5, kind="photo", has_sound=False, size=99)
    assert Expected.from_dict(e.to_dict()) == e
