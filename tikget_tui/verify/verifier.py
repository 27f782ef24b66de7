"""``verify(path, expected)``: run the checks a saved file must pass, cheaply.

Order: size → magic bytes → ffprobe (container, streams, codecs, durations) →
decode windows, concurrently: video frames in the first second and the last
1.5 s, audio level and coverage in a start, a middle and an end window. The
SHA-256 is computed in a thread while the children run. A full decode never
happens; a 60 s 1080x1920 story costs a small fraction of one (see bench/).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import stat
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from tikget_tui.mediatools import MediaTools
from tikget_tui.units import format_size
from tikget_tui.verify import checks as C
from tikget_tui.verify.probe import (
    PHOTO_LABEL,
    AudioWindow,
    Deadline,
    FrameShot,
    FrameWindow,
    ProbeData,
    ProbeFailed,
    RawStream,
    ToolStopped,
    audio_window,
    decode_window,
    probe,
    thumbnail,
    video_frames,
)
from tikget_tui.verify.report import (
    Check,
    Expected,
    Frame,
    MediaKind,
    Report,
    StreamInfo,
    Verdict,
)

SNIFF_BYTES = 4096
TAIL_BYTES = 1024
HASH_CHUNK = 1 << 20
MIDDLE_WINDOW = 2.0

T = TypeVar("T")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_ends(path: Path) -> tuple[bytes, bytes]:
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read(TAIL_BYTES)
    return head, tail


def _stream_info(s: RawStream, format_name: str) -> StreamInfo:
    if C.is_image_stream(s, format_name):
        kind: Any = "image"
    elif s.codec_type in ("video", "audio"):
        kind = s.codec_type
    else:
        kind = "other"
    return StreamInfo(index=s.index, type=kind, codec=s.codec_name, width=s.width,
                      height=s.height, duration=s.duration, channels=s.channels,
                      sample_rate=s.sample_rate)


async def _guard(name: str, aw: Awaitable[T]) -> T | Check:
    """Await a window; a timed-out child becomes a failed check instead of an exception."""
    try:
        return await aw
    except ToolStopped as exc:
        return Check(name, Verdict.FAIL, str(exc))


async def verify(path: Path, expected: Expected | None = None, *,
                 tools: MediaTools | None = None, timeout: float = 60.0,
                 sha256: str | None = None, frames_dir: Path | None = None) -> Report:
    """Check one saved file. Raises ``ToolNotFound`` only; every other problem is a check.

    ``sha256``: the file's hash when the caller already has it (the download engine
    computes it while the bytes arrive); then the file is not read again to hash it.
    ``frames_dir``: for a video, the first-second and last-second decode windows also
    write their first and their last frame there (``first.jpg``, ``last.jpg``), listed
    in ``report.frames`` with their timestamps."""
    expected = expected or Expected()
    tools = tools or MediaTools.find()
    path = Path(path)
    report = Report(path=path)
    deadline = Deadline(timeout)

    try:
        st = path.stat()
    except FileNotFoundError:
        report.add("size", Verdict.FAIL, "the file does not exist")
        return report
    except OSError as exc:
        report.add("size", Verdict.FAIL, f"cannot read the file: {exc.strerror or exc}")
        return report
    if not stat.S_ISREG(st.st_mode):
        report.add("size", Verdict.FAIL, "not a regular file")
        return report
    report.size = st.st_size
    if st.st_size == 0:
        report.add("size", Verdict.FAIL, "empty file (0 bytes)")
        return report
    if expected.size is not None and st.st_size != expected.size:
        short = st.st_size < expected.size
        report.add("size", Verdict.FAIL if short else Verdict.WARN,
                   f"{st.st_size} bytes, the source said {expected.size}"
                   + (" (download incomplete?)" if short else ""))
    else:
        report.add("size", Verdict.OK, format_size(st.st_size))

    try:
        head, tail = await asyncio.to_thread(_read_ends, path)
    except OSError as exc:
        report.add("sniff", Verdict.FAIL, f"cannot read the file: {exc.strerror or exc}")
        return report
    sniffed = C.sniff(head)
    if sniffed.problem:
        report.add("sniff", Verdict.FAIL, sniffed.problem)
        return report
    report.add("sniff", Verdict.OK, sniffed.label)

    if sha256 is not None:
        report.sha256 = sha256
        await _checks(report, path.resolve(), expected, tools, deadline, sniffed, tail,
                      frames_dir)
        return report
    hashing = asyncio.create_task(asyncio.to_thread(sha256_file, path))
    try:
        await _checks(report, path.resolve(), expected, tools, deadline, sniffed, tail,
                      frames_dir)
    finally:
        try:
            report.sha256 = await hashing
        except OSError:
            report.sha256 = None
    return report


async def _checks(report: Report, path: Path, expected: Expected, tools: MediaTools,
                  deadline: Deadline, sniffed: C.Sniff, tail: bytes,
                  frames_dir: Path | None = None) -> None:
    try:
        data = await probe(tools, path, deadline)
    except ProbeFailed as exc:
        report.add("probe", Verdict.FAIL, f"ffprobe cannot read it: {exc.reason}")
        return
    except ToolStopped as exc:
        report.add("probe", Verdict.FAIL, str(exc))
        return

    report.format_name = data.format_name
    report.streams = [_stream_info(s, data.format_name) for s in data.streams]
    report.kind = C.detect_kind(data.streams, data.format_name)
    n = len(data.streams)
    report.add("probe", Verdict.OK,
               f"{data.format_name}: {n} stream{'s' if n != 1 else ''}, {report.kind}")
    report.add(*_fields(C.codec_check(data.streams, data.format_name)))
    kind = C.kind_check(report.kind, expected.kind)
    if kind is not None:
        report.add(*_fields(kind))

    if report.kind is MediaKind.VIDEO:
        await _video(report, path, expected, tools, deadline, data, frames_dir)
    elif report.kind is MediaKind.AUDIO:
        await _audio_file(report, path, expected, tools, deadline, data)
    elif report.kind is MediaKind.IMAGE:
        await _image(report, path, tools, deadline, data, sniffed, tail, frames_dir)
    else:
        report.add("streams", Verdict.FAIL, "no audio, video or image stream")


def _fields(check: Check) -> tuple[str, Verdict, str]:
    return check.name, check.status, check.detail


def _duration_of(data: ProbeData) -> float | None:
    if data.duration is not None:
        return data.duration
    ends = [s.end for s in data.streams if s.end is not None]
    return max(ends) if ends else None


async def _video(report: Report, path: Path, expected: Expected, tools: MediaTools,
                 deadline: Deadline, data: ProbeData, frames_dir: Path | None = None) -> None:
    video = next(s for s in data.streams
                 if s.codec_type == "video" and not C.is_image_stream(s, data.format_name))
    audio = [s for s in data.streams if s.codec_type == "audio"]
    duration = _duration_of(data)
    report.duration = duration
    report.add(*_fields(C.duration_check(duration, expected.duration)))
    report.add(*_fields(C.streams_agree_check(data.duration, data.streams, data.start_time)))

    start = video.start_time or 0.0
    end = video.end if video.end is not None else (duration or 0.0)
    tail_start = C.end_window_start(start, end)

    shots: dict[str, FrameShot | None] = {"first_second": None, "last_second": None}
    if frames_dir is not None:
        frames_dir.mkdir(parents=True, exist_ok=True)
        shots = {"first_second": FrameShot(frames_dir / "first.jpg"),
                 "last_second": FrameShot(frames_dir / "last.jpg", last=True,
                                          after=max(tail_start, end - 0.25))}
        for shot in shots.values():
            assert shot is not None
            shot.path.unlink(missing_ok=True)
    jobs: dict[str, Awaitable[Any]] = {
        "first_second": decode_window(tools, path, deadline, start=None, length=1.0,
                                      shot=shots["first_second"]),
        "last_second": decode_window(tools, path, deadline, start=tail_start, length=None,
                                     shot=shots["last_second"],
                                     origin=data.start_time or 0.0),
    }
    if audio:
        origin = data.start_time or 0.0
        jobs["audio_first"] = audio_window(tools, path, deadline, start=origin, length=1.0,
                                           origin=origin)
        if end - start > 2 * MIDDLE_WINDOW:
            jobs["audio_middle"] = audio_window(tools, path, deadline,
                                                start=(start + end) / 2 - MIDDLE_WINDOW / 2,
                                                length=MIDDLE_WINDOW, origin=origin)
        jobs["audio_last"] = audio_window(tools, path, deadline, start=tail_start, length=None,
                                          origin=origin)
    results = dict(zip(jobs, await asyncio.gather(
        *(_guard(name, aw) for name, aw in jobs.items())), strict=True))

    for name, label in (("first_second", "first"), ("last_second", "last")):
        window, shot = results[name], shots[name]
        if shot is not None and isinstance(window, FrameWindow) and window.times \
                and shot.path.is_file():
            when = window.times[-1] if shot.last else window.times[0]
            report.frames.append(Frame(label, None if math.isnan(when) else when,
                                       str(shot.path)))
    first = results["first_second"]
    if isinstance(first, FrameWindow):
        first = C.first_second_check(first, start=start, fps=video.frame_rate,
                                     duration=end - start)
    report.add(*_fields(first))
    last = results["last_second"]
    if isinstance(last, FrameWindow):
        last = C.last_second_check(last, window_start=tail_start, end=end, fps=video.frame_rate)
    report.add(*_fields(last))

    report.add(*_fields(C.audio_present_check(audio, expected.has_sound)))
    if not audio:
        return
    windows = [results[k] for k in ("audio_first", "audio_middle", "audio_last") if k in results]
    timed_out = [w for w in windows if isinstance(w, Check)]
    heard = [w for w in windows if isinstance(w, AudioWindow)]
    if timed_out:
        report.add("audio_level", Verdict.FAIL, timed_out[0].detail)
    else:
        report.add(*_fields(C.audio_level_check(heard, expected.has_sound)))
    audio_last = results["audio_last"]
    if isinstance(audio_last, AudioWindow):
        report.add(*_fields(C.audio_coverage_check(audio[0], audio_last, end)))
    else:
        report.add("audio_coverage", Verdict.FAIL, audio_last.detail)


async def _audio_file(report: Report, path: Path, expected: Expected, tools: MediaTools,
                      deadline: Deadline, data: ProbeData) -> None:
    stream = next(s for s in data.streams if s.codec_type == "audio")
    duration = _duration_of(data)
    report.duration = duration
    report.add(*_fields(C.duration_check(duration, expected.duration)))
    if not duration:
        return
    # Audio files are judged on their own clock: 0 is where the file starts.
    tail_start = max(0.0, duration - C.END_WINDOW)
    jobs: list[Awaitable[AudioWindow | Check]] = [
        _guard("first_second", audio_window(tools, path, deadline, start=0.0, length=1.0)),
        _guard("last_second", audio_window(tools, path, deadline, start=tail_start, length=None)),
    ]
    if duration > 2 * MIDDLE_WINDOW:
        jobs.append(_guard("audio_level", audio_window(
            tools, path, deadline, start=duration / 2 - MIDDLE_WINDOW / 2, length=MIDDLE_WINDOW)))
    results = await asyncio.gather(*jobs)
    checks = [r for r in results if isinstance(r, Check)]
    windows = [r for r in results if isinstance(r, AudioWindow)]
    if checks:
        for c in checks:
            report.add(*_fields(c))
        return
    for c in C.audio_edges_checks(windows[0], windows[1], stream, duration):
        report.add(*_fields(c))
    report.add(*_fields(C.audio_level_check(windows, expected.has_sound)))


async def _image(report: Report, path: Path, tools: MediaTools, deadline: Deadline,
                 data: ProbeData, sniffed: C.Sniff, tail: bytes,
                 frames_dir: Path | None = None) -> None:
    """Decode the picture (ffprobe); with ``frames_dir``, ffmpeg writes its preview
    thumbnail there at the same time (``photo.jpg``, at most 480 px a side): the app
    draws photos only from these, never from the original."""
    stream = next(s for s in data.streams if s.codec_type == "video")
    thumb: Awaitable[bool | Check] | None = None
    if frames_dir is not None:
        frames_dir.mkdir(parents=True, exist_ok=True)
        out = frames_dir / f"{PHOTO_LABEL}.jpg"
        thumb = _guard("preview", thumbnail(tools, path, deadline, out))
    try:
        if thumb is not None:
            window, made = await asyncio.gather(
                video_frames(tools, path, deadline, start=None, length=None), thumb)
            if made is True:
                report.frames.append(Frame(PHOTO_LABEL, None, str(out)))
            elif isinstance(made, Check):  # stopped at a limit: say which
                report.add(*_fields(made))
        else:
            window = await video_frames(tools, path, deadline, start=None, length=None)
    except ToolStopped as exc:
        report.add("image_decode", Verdict.FAIL, str(exc))
        return
    for c in C.image_checks(window, stream, family=sniffed.family, tail=tail):
        report.add(*_fields(c))


async def has_audio_stream(path: Path, tools: MediaTools | None = None, *,
                           timeout: float = 30.0) -> bool | None:
    """Does ffprobe list an audio stream in ``path``? One container probe, no decoding.

    ``None`` when ffprobe cannot read the file (or runs out of time): the caller cannot
    tell, and :func:`verify` will say what is wrong. Raises ``ToolNotFound`` only.
    """
    tools = tools or MediaTools.find()
    try:
        data = await probe(tools, Path(path).resolve(), Deadline(timeout))
    except (ProbeFailed, ToolStopped):
        return None
    return any(s.codec_type == "audio" for s in data.streams)


def verify_sync(path: Path, expected: Expected | None = None, *,
                tools: MediaTools | None = None, timeout: float = 60.0) -> Report:
    """:func:`verify` for callers without an event loop (not from inside a running loop)."""
    return asyncio.run(verify(path, expected, tools=tools, timeout=timeout))
