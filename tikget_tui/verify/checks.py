"""Judgements: bytes and measurements in, ``Check`` results out.

Pure functions with no child processes, so each rule can be read (and tested)
on its own. The numbers that decide ok/warn/fail live here as named constants.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from tikget_tui.verify.probe import AudioWindow, FrameWindow, RawStream
from tikget_tui.verify.report import Check, MediaKind, Verdict

# Duration against what the source said: ok within max(0.5 s, 2 %),
# warn within max(1.5 s, 5 %), fail beyond.
DURATION_OK = (0.5, 0.02)
DURATION_WARN = (1.5, 0.05)

# The format's duration against the longest stream's.
STREAMS_AGREE = (0.5, 0.02)

# How long the end window is (the "last second", with some run-up).
END_WINDOW = 1.5
# The last decoded frame may end this far before the video stream's end:
# max(2 frame durations, 0.1 s). A 5 s clip cut at 97 % misses ~0.15 s.
END_SLACK_FRAMES = 2
END_SLACK_SECONDS = 0.1

# Audio against video: ok if audio ends within 0.5 s of the video, warn within 1.5 s.
AUDIO_GAP_OK = 0.5
AUDIO_GAP_WARN = 1.5

# Loudest sample in the sampled windows (dBFS): silent at or below -60, quiet below -45.
SILENT_DB = -60.0
QUIET_DB = -45.0

IMAGE_CODECS = frozenset({"mjpeg", "jpeg", "png", "webp", "gif", "bmp", "tiff", "jpegls",
                          "jpeg2000", "heic", "avif"})
IMAGE_FORMATS = frozenset({"image2", "jpeg_pipe", "png_pipe", "webp_pipe", "gif", "gif_pipe",
                           "bmp_pipe", "tiff_pipe"})


def tolerance(expected: float, band: tuple[float, float]) -> float:
    floor, share = band
    return max(floor, share * expected)


# ---------------------------------------------------------------- sniffing


@dataclass(frozen=True)
class Sniff:
    """What the first bytes say the file is."""

    family: str | None  # "mp4", "mp3", "jpeg", ... or None when unrecognised
    label: str  # for humans: "MP4 (ISO-BMFF)", "an HTML page", ...
    problem: str | None = None  # set when the bytes are certainly not media


_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
_TEXT_OK = set(range(32, 127)) | {9, 10, 13}


def sniff(head: bytes) -> Sniff:
    """Recognise media by magic bytes; recognise web pages, JSON and text as not media."""
    if not head:
        return Sniff(None, "empty", "empty file (0 bytes)")
    if len(head) >= 12 and head[4:8] in _BMFF_BOXES:
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniff("m4a", "M4A audio (ISO-BMFF)")
        if brand in (b"heic", b"heix", b"mif1", b"avif"):
            return Sniff("heif", "HEIF/AVIF image (ISO-BMFF)")
        return Sniff("mp4", "MP4 (ISO-BMFF)")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniff("jpeg", "JPEG image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniff("png", "PNG image")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniff("gif", "GIF image")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniff("webp", "WebP image")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Sniff("wav", "WAV audio")
    if head.startswith(b"ID3"):
        return Sniff("mp3", "MP3 audio (ID3 tag)")
    if head.startswith(b"\x1aE\xdf\xa3"):
        return Sniff("mkv", "Matroska/WebM")
    if head.startswith(b"OggS"):
        return Sniff("ogg", "Ogg")
    if head.startswith(b"fLaC"):
        return Sniff("flac", "FLAC audio")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return Sniff("aac", "AAC audio (ADTS)")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return Sniff("mp3", "MPEG audio")
    return _sniff_not_media(head)


def _sniff_not_media(head: bytes) -> Sniff:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    lower = text[:2048].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or (
        lower.startswith(b"<") and any(t in lower for t in (b"<head", b"<body", b"<script"))
    ):
        return Sniff(None, "an HTML page",
                     "the file is an HTML page, not media (a web page was saved instead)")
    if lower.startswith(b"<?xml"):
        return Sniff(None, "an XML document",
                     "the file is an XML document, not media (an error reply was saved?)")
    if lower[:1] in (b"{", b"["):
        try:
            json.loads(text.decode("utf-8"))
            is_json = True
        except (UnicodeDecodeError, ValueError):
            # A long JSON reply cut at the sniff limit still counts.
            is_json = _looks_textual(text)
        if is_json:
            return Sniff(None, "JSON",
                         "the file is JSON, not media (an API reply was saved instead)")
    if not head.strip(b"\x00"):
        return Sniff(None, "zeros", "the file holds only zero bytes (never written?)")
    if _looks_textual(text):
        return Sniff(None, "text", "the file is plain text, not media")
    return Sniff(None, "unrecognised bytes")


def _looks_textual(data: bytes) -> bool:
    sample = data[:1024]
    if not sample:
        return False
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end
            return False
        decoded = sample[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\r\n" for ch in decoded)


# ---------------------------------------------------------------- streams


def is_image_stream(s: RawStream, format_name: str) -> bool:
    if s.codec_type != "video":
        return False
    in_image_format = format_name in IMAGE_FORMATS or format_name.endswith("_pipe")
    return s.attached_pic or (s.codec_name in IMAGE_CODECS and in_image_format)


def detect_kind(streams: list[RawStream], format_name: str) -> MediaKind:
    video = [s for s in streams if s.codec_type == "video" and not is_image_stream(s, format_name)]
    audio = [s for s in streams if s.codec_type == "audio"]
    images = [s for s in streams if is_image_stream(s, format_name) and not s.attached_pic]
    if video:
        return MediaKind.VIDEO
    if audio:
        return MediaKind.AUDIO
    if images:
        return MediaKind.IMAGE
    return MediaKind.UNKNOWN


CODEC_NOTES = {
    "hevc": "H.265/HEVC: some players (older Windows, Firefox, some TVs) cannot play it",
    "bytevc1": "ByteVC1 (TikTok's HEVC): some players cannot play it",
    "bytevc2": "ByteVC2 (TikTok's own codec): most players, and ffmpeg, cannot decode it",
    "vvc": "H.266/VVC: few players can play it yet",
}
UNPLAYABLE = frozenset({"bytevc2"})


def codec_check(streams: list[RawStream], format_name: str) -> Check:
    """List the codecs; note HEVC (plays in fewer places) and warn on ByteVC2."""
    parts: list[str] = []
    notes: list[str] = []
    status = Verdict.OK
    for s in streams:
        names = {s.codec_name.lower(), s.codec_tag.lower()}
        desc = s.codec_name
        if s.width and s.height:
            desc += f" {s.width}x{s.height}"
        if s.codec_type == "audio" and s.channels:
            desc += f" {s.channels}ch {s.sample_rate or '?'}Hz"
        if s.attached_pic:
            desc += " (cover art)"
        parts.append(desc)
        for name in sorted(names):
            note = CODEC_NOTES.get(name)
            if note and note not in notes:
                notes.append(note)
            if name in UNPLAYABLE:
                status = Verdict.WARN
    detail = ", ".join(parts) or "no streams"
    if notes:
        detail += " — " + "; ".join(notes)
    return Check("codecs", status, detail)


# ---------------------------------------------------------------- durations


def duration_check(actual: float | None, expected: float | None) -> Check:
    if actual is None or actual <= 0:
        status = Verdict.FAIL if expected else Verdict.WARN
        return Check("duration", status, "the file reports no duration")
    if expected is None or expected <= 0:
        return Check("duration", Verdict.OK, f"{actual:.2f} s")
    diff = actual - expected
    said = f"{actual:.2f} s, the source said {expected:.2f} s"
    if abs(diff) <= tolerance(expected, DURATION_OK):
        return Check("duration", Verdict.OK, said)
    which = "shorter" if diff < 0 else "longer"
    if abs(diff) <= tolerance(expected, DURATION_WARN):
        return Check("duration", Verdict.WARN, f"{said} ({abs(diff):.2f} s {which})")
    return Check("duration", Verdict.FAIL, f"{said}: the file is {abs(diff):.2f} s {which}")


def streams_agree_check(format_duration: float | None, streams: list[RawStream],
                        format_start: float | None = None) -> Check:
    """The container's duration must match its longest stream (both measured from its start)."""
    ends = [s.end for s in streams if s.end is not None and not s.attached_pic
            and s.codec_type in ("video", "audio")]
    if format_duration is None or not ends:
        return Check("streams_agree", Verdict.OK, "no per-stream durations to compare")
    longest = max(ends) - (format_start or 0.0)
    if abs(format_duration - longest) <= tolerance(longest, STREAMS_AGREE):
        return Check("streams_agree", Verdict.OK,
                     f"container {format_duration:.2f} s, streams {longest:.2f} s")
    return Check("streams_agree", Verdict.WARN,
                 f"container says {format_duration:.2f} s but the longest stream is "
                 f"{longest:.2f} s")


# ---------------------------------------------------------------- video windows


def _frame_duration(fps: float | None) -> float:
    return 1.0 / fps if fps and fps > 0 else 1.0 / 30


def first_second_check(window: FrameWindow, *, start: float, fps: float | None,
                       duration: float | None) -> Check:
    times = [t for t in window.times if math.isnan(t) or t < start + 1.0 + 1e-3]
    n = len(times)
    errors = "; ".join(window.errors[:2])
    if n == 0:
        why = f": {errors}" if errors else ""
        return Check("first_second", Verdict.FAIL, f"the first second does not decode{why}")
    wanted = (fps or 0) * min(1.0, duration or 1.0)
    if wanted and n < 0.5 * wanted:
        return Check("first_second", Verdict.WARN,
                     f"only {n} of ~{wanted:.0f} frames decode in the first second")
    if errors:
        return Check("first_second", Verdict.WARN,
                     f"{n} frames decode in the first second, with errors: {errors}")
    return Check("first_second", Verdict.OK, f"{n} frames decode in the first second")


def end_window_start(start: float, end: float) -> float:
    return max(start, end - END_WINDOW)


def last_second_check(window: FrameWindow, *, window_start: float, end: float,
                      fps: float | None) -> Check:
    """Frames must decode right up to the end of the video stream.

    A cut-off MP4 whose index is at the front still probes with the full
    duration and decoding its tail exits 0; only the frames tell.
    """
    frame = _frame_duration(fps)
    times = [t for t in window.times if not math.isnan(t) and t >= window_start - frame / 2]
    cut = any("partial file" in e for e in window.errors)
    if not times:
        return Check("last_second", Verdict.FAIL,
                     "the last second does not decode (file truncated?)")
    last_end = max(times) + frame
    missing = end - last_end
    if missing > max(END_SLACK_FRAMES * frame, END_SLACK_SECONDS):
        return Check("last_second", Verdict.FAIL,
                     f"video stops {missing:.2f} s before the end, at {last_end:.2f} of "
                     f"{end:.2f} s (file truncated?)")
    if cut:
        return Check("last_second", Verdict.FAIL,
                     "the end of the file is missing (ffmpeg: partial file)")
    return Check("last_second", Verdict.OK,
                 f"{len(times)} frames decode in the last {end - window_start:.1f} s, "
                 f"up to {last_end:.2f} s")


# ---------------------------------------------------------------- audio


def audio_present_check(audio: list[RawStream], has_sound: bool | None) -> Check:
    if audio:
        s = audio[0]
        return Check("audio_present", Verdict.OK,
                     f"{s.codec_name} {s.channels or '?'}ch {s.sample_rate or '?'}Hz")
    if has_sound is False:
        return Check("audio_present", Verdict.OK, "no audio stream (the source has no sound)")
    return Check("audio_present", Verdict.FAIL, "no audio: the file has no audio stream")


def audio_level_check(windows: list[AudioWindow], has_sound: bool | None) -> Check:
    heard = [w for w in windows if w.samples > 0 and w.max_volume is not None]
    if not heard:
        errors = "; ".join(e for w in windows for e in w.errors[:1])
        why = f": {errors}" if errors else ""
        return Check("audio_level", Verdict.FAIL, f"no audio decodes{why}")
    loudest = max(w.max_volume for w in heard if w.max_volume is not None)
    means = [w.mean_volume for w in heard if w.mean_volume is not None]
    mean = max(means) if means else loudest
    where = f"{len(heard)} window{'s' if len(heard) != 1 else ''}"
    if loudest <= SILENT_DB:
        if has_sound is False:
            return Check("audio_level", Verdict.OK, "silent, as the source said")
        return Check("audio_level", Verdict.FAIL,
                     f"the audio is silent (loudest {_db(loudest)} in {where})")
    if loudest <= QUIET_DB:
        return Check("audio_level", Verdict.WARN,
                     f"the audio is very quiet (loudest {_db(loudest)} in {where})")
    return Check("audio_level", Verdict.OK,
                 f"audible: loudest {_db(loudest)}, mean {_db(mean)} in {where}")


def _db(value: float) -> str:
    return "-inf dB" if math.isinf(value) else f"{value:.1f} dB"


def audio_end(window: AudioWindow, stream: RawStream) -> float:
    """Where decoded audio stops, from the end window's sample count."""
    return window.start + window.seconds(stream.sample_rate, stream.channels)


def audio_coverage_check(audio: RawStream, last: AudioWindow, video_end: float) -> Check:
    """The audio must last as long as the video: a short stream or a silent tail is a dropout."""
    decoded_end = audio_end(last, audio)
    listed_end = audio.end if audio.end is not None else decoded_end
    ends = min(decoded_end, listed_end)
    gap = video_end - ends
    if gap <= AUDIO_GAP_OK:
        return Check("audio_coverage", Verdict.OK,
                     f"audio runs to {ends:.2f} s of {video_end:.2f} s")
    status = Verdict.WARN if gap <= AUDIO_GAP_WARN else Verdict.FAIL
    return Check("audio_coverage", status,
                 f"audio ends {gap:.2f} s early, at {ends:.2f} of {video_end:.2f} s (dropout)")


def audio_edges_checks(first: AudioWindow, last: AudioWindow, stream: RawStream,
                       duration: float) -> list[Check]:
    """For audio files: the first and the last seconds decode, right up to the end."""
    checks: list[Check] = []
    if first.samples == 0:
        why = f": {first.errors[0]}" if first.errors else ""
        checks.append(Check("first_second", Verdict.FAIL, f"the first second does not decode{why}"))
    else:
        secs = first.seconds(stream.sample_rate, stream.channels)
        checks.append(Check("first_second", Verdict.OK,
                            f"{secs:.2f} s of audio decode at the start"))
    if last.samples == 0:
        checks.append(Check("last_second", Verdict.FAIL,
                            "the last second does not decode (file truncated?)"))
        return checks
    end = audio_end(last, stream)
    gap = duration - end
    if gap > AUDIO_GAP_OK:
        checks.append(Check("last_second", Verdict.FAIL,
                            f"audio stops {gap:.2f} s before the end, at {end:.2f} of "
                            f"{duration:.2f} s (file truncated?)"))
    else:
        checks.append(Check("last_second", Verdict.OK, f"audio decodes up to {end:.2f} s"))
    return checks


# ---------------------------------------------------------------- images


def image_checks(window: FrameWindow, stream: RawStream, *, family: str | None,
                 tail: bytes) -> list[Check]:
    """An image must decode with no decoder errors; JPEGs must end with their end marker."""
    checks: list[Check] = []
    errors = "; ".join(window.errors[:2])
    if not window.times:
        why = f": {errors}" if errors else ""
        checks.append(Check("image_decode", Verdict.FAIL, f"the image does not decode{why}"))
    elif errors:
        checks.append(Check("image_decode", Verdict.FAIL,
                            f"the image decodes with errors (cut off?): {errors}"))
    elif family == "jpeg" and b"\xff\xd9" not in tail:
        checks.append(Check("image_decode", Verdict.FAIL,
                            "the JPEG has no end marker (file cut off?)"))
    else:
        checks.append(Check("image_decode", Verdict.OK, f"{stream.codec_name} decodes fully"))
    w, h = window.sizes[0] if window.sizes else (stream.width, stream.height)
    if w and h:
        checks.append(Check("dimensions", Verdict.OK, f"{w}x{h}"))
    else:
        checks.append(Check("dimensions", Verdict.FAIL, "no image dimensions"))
    return checks


def kind_check(found: MediaKind, expected: str | None) -> Check | None:
    if expected is None:
        return None
    wanted = {"video": MediaKind.VIDEO, "photo": MediaKind.IMAGE, "audio": MediaKind.AUDIO}.get(
        expected)
    if wanted is None or wanted == found:
        return Check("kind", Verdict.OK, f"{found}, as expected")
    return Check("kind", Verdict.FAIL, f"expected {_a(str(wanted))}, found {_a(str(found))}")


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
