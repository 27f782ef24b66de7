"""Run ffprobe/ffmpeg as asyncio children and turn their output into small records.

The only module in the project that starts ffprobe (and, for decode windows,
ffmpeg). Every child gets ``stdin=DEVNULL`` and captured output, so it never
touches the terminal, and is killed when its time runs out.

The probe is the command ``ffmpeg.probe`` (ffmpeg-python) runs, ``ffprobe -show_format
-show_streams -of json``, but started here as an asyncio child because
``ffmpeg.probe`` blocks and has no timeout; the ffmpeg decode windows are built
with ffmpeg-python's stream API and run the same way.

Nothing here decodes a whole file: the probe reads the container, and each
window decodes at most a second or two (plus the run-up from the keyframe
before it, for video).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg

from tikget_tui.mediatools import ChildLimits, MediaTools, ToolNotFound, read_bounded


class ToolStopped(Exception):
    """A child was stopped at one of its limits; the message names the limit."""


class ToolTimeout(ToolStopped):
    """A child ran out of time and was killed."""

    def __init__(self, tool: str, seconds: float) -> None:
        self.tool = tool
        self.seconds = seconds
        super().__init__(f"{tool} did not finish within {seconds:g} s and was stopped")


class ToolLimit(ToolStopped):
    """A child ran into its memory or CPU-time limit (:class:`ChildLimits`)."""

    def __init__(self, tool: str, what: str) -> None:
        self.tool = tool
        super().__init__(f"{tool} {what}")


class ProbeFailed(Exception):
    """ffprobe could not read the container; ``reason`` is one cleaned-up line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str


class Deadline:
    """Time left for the whole verification, shared by every child."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self._end = asyncio.get_running_loop().time() + seconds

    def left(self) -> float:
        return self._end - asyncio.get_running_loop().time()


OUTPUT_LIMIT = 16 * 1024 * 1024
"""What we keep of a child's stdout and of its stderr (the rest is read and dropped)."""


async def run_tool(args: list[str], deadline: Deadline,
                   limits: ChildLimits | None = None) -> RunResult:
    """Run one child with no stdin and captured output (bounded), under ``limits``
    (address space and CPU time, set in the child before exec); kill it when time is up.
    :class:`ToolTimeout` / :class:`ToolLimit` name the limit it ran into."""
    tool = Path(args[0]).name
    limits = limits or ChildLimits()
    left = deadline.left()
    if left <= 0:
        raise ToolTimeout(tool, deadline.total)
    if not (os.path.isfile(args[0]) and os.access(args[0], os.X_OK)):
        raise ToolNotFound(tool, f"{args[0]} is not an executable file")
    try:
        proc = await asyncio.create_subprocess_exec(
            *limits.command(args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=limits.env(),
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise ToolNotFound(tool, str(exc)) from exc
    readers = asyncio.gather(
        read_bounded(proc.stdout, OUTPUT_LIMIT), read_bounded(proc.stderr, OUTPUT_LIMIT),
        proc.wait())
    # when we are cancelled or time runs out, what the readers end with is of no interest
    readers.add_done_callback(lambda f: f.cancelled() or f.exception())
    try:
        out, err, _ = await asyncio.wait_for(readers, left)
    except TimeoutError:
        raise ToolTimeout(tool, deadline.total) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    stderr = err.decode("utf-8", "replace")
    hit = limits.hit(proc.returncode, stderr)
    if hit is not None:
        raise ToolLimit(tool, hit)
    return RunResult(proc.returncode, out.decode("utf-8", "replace"), stderr)


_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")
_LEVEL = re.compile(r"^\[(panic|fatal|error|warning|info|verbose|debug|trace)\]\s*")


def error_lines(stderr: str, path: Path | None = None, *, leveled: bool = False) -> list[str]:
    """Distinct error messages from a child's stderr, without ``[h264 @ 0x..]`` noise.

    With ``leveled`` (the child ran with ``-loglevel level+...``) only lines
    tagged error or worse are kept.
    """
    out: list[str] = []
    for raw in stderr.splitlines():
        line = _PREFIX.sub("", raw.strip())
        if leveled:
            m = _LEVEL.match(line)
            if not m or m.group(1) not in ("panic", "fatal", "error"):
                continue
            line = line[m.end():]
        if path is not None:
            line = line.replace(f"{path}: ", "").replace(str(path), path.name)
        line = line.strip()
        if line and line not in out:
            out.append(line)
    return out


def one_line(messages: list[str], limit: int = 160) -> str:
    text = "; ".join(messages[:3])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rate(value: Any) -> float | None:
    if not isinstance(value, str) or "/" not in value:
        return _float(value)
    num, _, den = value.partition("/")
    n, d = _float(num), _float(den)
    if not n or not d:
        return None
    return n / d


@dataclass(frozen=True)
class RawStream:
    index: int
    codec_type: str
    codec_name: str
    codec_tag: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    start_time: float | None = None
    channels: int | None = None
    sample_rate: int | None = None
    frame_rate: float | None = None
    attached_pic: bool = False

    @property
    def end(self) -> float | None:
        if self.duration is None:
            return None
        return (self.start_time or 0.0) + self.duration


@dataclass(frozen=True)
class ProbeData:
    format_name: str
    duration: float | None
    start_time: float | None
    streams: list[RawStream] = field(default_factory=list)


def parse_probe(data: dict[str, Any]) -> ProbeData:
    fmt = data.get("format") or {}
    streams: list[RawStream] = []
    for s in data.get("streams") or []:
        frame_rate = _rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate"))
        streams.append(RawStream(
            index=int(s.get("index", len(streams))),
            codec_type=str(s.get("codec_type", "")),
            codec_name=str(s.get("codec_name") or s.get("codec_tag_string") or "unknown"),
            codec_tag=str(s.get("codec_tag_string") or ""),
            width=_int(s.get("width")) or None,
            height=_int(s.get("height")) or None,
            duration=_float(s.get("duration")),
            start_time=_float(s.get("start_time")),
            channels=_int(s.get("channels")),
            sample_rate=_int(s.get("sample_rate")),
            frame_rate=frame_rate,
            attached_pic=bool((s.get("disposition") or {}).get("attached_pic")),
        ))
    return ProbeData(
        format_name=str(fmt.get("format_name", "")),
        duration=_float(fmt.get("duration")),
        start_time=_float(fmt.get("start_time")),
        streams=streams,
    )


async def probe(tools: MediaTools, path: Path, deadline: Deadline) -> ProbeData:
    """Container and streams, as ``ffmpeg.probe`` would give them (but async, with a timeout)."""
    args = [tools.ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json",
            "--", str(path)]
    result = await run_tool(args, deadline, tools.limits)
    errors = error_lines(result.stderr, path)
    if result.returncode < 0:
        raise ProbeFailed(f"ffprobe crashed (signal {-result.returncode}) reading it")
    if result.returncode != 0:
        raise ProbeFailed(one_line(errors) or f"ffprobe exited with status {result.returncode}")
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise ProbeFailed(f"ffprobe printed something that is not JSON ({exc.msg})") from None
    parsed = parse_probe(data)
    if not parsed.streams:
        raise ProbeFailed(one_line(errors) or "no streams found")
    return parsed


OPEN_END_SECONDS = 86400.0


@dataclass(frozen=True)
class FrameWindow:
    """Video frames decoded in one window: their timestamps and the decoder's complaints."""

    times: list[float]
    errors: list[str]
    sizes: list[tuple[int, int]] = field(default_factory=list)


async def video_frames(tools: MediaTools, path: Path, deadline: Deadline, *,
                       start: float | None, length: float | None) -> FrameWindow:
    """Decode the first video stream from ``start`` (None: the very beginning, no seek)
    for ``length`` seconds (None: to the end) and list the frames that came out.

    ffprobe seeks to the keyframe at or before ``start`` and decodes from there, so
    every frame listed really decoded; the caller counts those inside its window.
    Exit status is not trusted: a cut-off MP4 exits 0 having decoded nothing.
    """
    begin = "" if start is None else f"{start:.3f}"
    # Always give the interval an end: ffprobe 6.0 (the static build of the ffmpeg
    # extra) leaves an open end ("%" or "START%") uninitialised and, depending on
    # where the binary lives, reads no frame at all. A day is "to the end" for a story.
    end = f"+{OPEN_END_SECONDS:.0f}" if length is None else f"+{length:.3f}"
    args = [tools.ffprobe, "-v", "error", "-select_streams", "v:0",
            "-read_intervals", f"{begin}%{end}",
            "-show_entries", "frame=best_effort_timestamp_time,width,height",
            "-of", "json=compact=1", "--", str(path)]
    result = await run_tool(args, deadline, tools.limits)
    times: list[float] = []
    sizes: list[tuple[int, int]] = []
    try:
        frames = json.loads(result.stdout or "{}").get("frames") or []
    except json.JSONDecodeError:
        frames = []
    for frame in frames:
        t = _float(frame.get("best_effort_timestamp_time"))
        times.append(t if t is not None else math.nan)
        w, h = _int(frame.get("width")), _int(frame.get("height"))
        if w and h:
            sizes.append((w, h))
    return FrameWindow(times=times, errors=error_lines(result.stderr, path), sizes=sizes)


_SHOWINFO = re.compile(r"\bn:\s*\d+\s.*?\bpts_time:(\S+).*?\bs:(\d+)x(\d+)")
FRAME_HEIGHT = 240
"""Height of the preview frames the decode windows write (small: a report, not a still)."""


THUMBNAIL_SIDE = 480
"""Longest side of a photo's preview thumbnail: the app draws pictures only from these."""
PHOTO_LABEL = "photo"
"""The label of a photo's thumbnail in ``Report.frames`` (a video's are first and last)."""


def thumbnail_args(tools: MediaTools, path: Path, out: Path) -> list[str]:
    """ffmpeg writing ``out``: the first picture of ``path``, at most
    :data:`THUMBNAIL_SIDE` pixels on its longest side, as a small JPEG."""
    side = THUMBNAIL_SIDE
    scale = (f"scale=w='min({side},iw)':h='min({side},ih)'"
             ":force_original_aspect_ratio=decrease:flags=bilinear")
    return [tools.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-i", str(path), "-map", "0:v:0", "-frames:v", "1", "-vf", scale,
            "-q:v", "5", "-f", "image2", "-y", str(out)]


async def thumbnail(tools: MediaTools, path: Path, deadline: Deadline, out: Path) -> bool:
    """Write a photo's preview thumbnail (see :func:`thumbnail_args`); True when written.
    A file the decoder cannot read simply has none (the checks say what is wrong)."""
    out.unlink(missing_ok=True)
    result = await run_tool(thumbnail_args(tools, path, out), deadline, tools.limits)
    if result.returncode != 0:
        out.unlink(missing_ok=True)
        return False
    return out.is_file() and out.stat().st_size > 0


@dataclass(frozen=True)
class FrameShot:
    """Which frame of a decode window to keep as a JPEG, and where."""

    path: Path
    last: bool = False  # the window's last frame (else its first)
    after: float | None = None
    """With ``last``: only frames from this timestamp on are scaled and encoded (each
    replaces the one before), so a long window costs a few small JPEGs, not one a frame."""


async def decode_window(tools: MediaTools, path: Path, deadline: Deadline, *,
                        start: float | None, length: float | None,
                        shot: FrameShot | None = None, origin: float = 0.0) -> FrameWindow:
    """Decode the first video stream from ``start`` (None: the very beginning) for
    ``length`` seconds (None: to the end) with ffmpeg and list the frames that came out
    (``showinfo``, timestamps of the file: ``-copyts``). With ``shot``, the same run also
    writes one small JPEG of the window's first or last frame (a second output of the
    one decode: no extra pass). Exit status is not trusted: a cut-off MP4 exits 0
    having decoded nothing. ``start`` is a timestamp in the file; ffmpeg's ``-ss`` counts
    from the file's own start time, which the caller passes as ``origin``.
    """
    args = [tools.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
            "-copyts"]
    seek = (start - origin) if start is not None else 0.0
    if seek > 0:
        args += ["-ss", f"{seek:.3f}"]
    if length is not None:
        args += ["-t", f"{length:.3f}"]
    args += ["-i", str(path), "-map", "0:v:0", "-vf", "showinfo=checksum=0", "-f", "null", "-"]
    if shot is not None:
        scale = f"scale=-2:{FRAME_HEIGHT}:flags=fast_bilinear"
        if shot.last and shot.after is not None:
            scale = f"select=gte(t\\,{shot.after:.3f}),{scale}"
        args += ["-map", "0:v:0", "-vf", scale, "-q:v", "5",
                 *(["-update", "1"] if shot.last else ["-frames:v", "1"]),
                 "-y", str(shot.path)]
    result = await run_tool(args, deadline, tools.limits)
    times: list[float] = []
    sizes: list[tuple[int, int]] = []
    for t, w, h in _SHOWINFO.findall(result.stderr):
        value = _float(t)
        times.append(value if value is not None else math.nan)
        if int(w) and int(h):
            sizes.append((int(w), int(h)))
    errors = error_lines(result.stderr, path, leveled=True)
    if result.returncode != 0 and not errors and not times:
        errors = [f"ffmpeg exited with status {result.returncode}"]
    return FrameWindow(times=times, errors=errors, sizes=sizes)


@dataclass(frozen=True)
class AudioWindow:
    """Audio decoded in one window: how much, and how loud."""

    start: float
    samples: int  # all channels together, as volumedetect counts them
    max_volume: float | None
    mean_volume: float | None
    errors: list[str]

    def seconds(self, sample_rate: int | None, channels: int | None) -> float:
        if not sample_rate:
            return 0.0
        return self.samples / (sample_rate * (channels or 1))


_VOLUME = re.compile(r"\b(n_samples|max_volume|mean_volume):\s*(-?[\d.]+|-inf)")


async def audio_window(tools: MediaTools, path: Path, deadline: Deadline, *,
                       start: float, length: float | None, origin: float = 0.0) -> AudioWindow:
    """Decode the first audio stream from ``start`` for ``length`` s through volumedetect.

    ``start`` is a timestamp in the file; ffmpeg's ``-ss`` counts from the file's
    own start time, which the caller passes as ``origin``.
    """
    seek = start - origin
    input_args: dict[str, Any] = {"ss": f"{seek:.3f}"} if seek > 0 else {}
    if length is not None:
        input_args["t"] = f"{length:.3f}"
    stream = (
        ffmpeg.input(str(path), **input_args)
        .audio.filter("volumedetect")
        .output("-", format="null")
    )
    compiled: list[str] = stream.compile(cmd=tools.ffmpeg)
    args = [compiled[0], "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
            *compiled[1:]]
    result = await run_tool(args, deadline, tools.limits)
    values: dict[str, str] = {}
    # The graph may be configured more than once; the last report is the real one.
    for key, value in _VOLUME.findall(result.stderr):
        values[key] = value
    samples = _int(values.get("n_samples")) or 0
    max_v = -math.inf if values.get("max_volume") == "-inf" else _float(values.get("max_volume"))
    mean_v = -math.inf if values.get("mean_volume") == "-inf" else _float(
        values.get("mean_volume"))
    errors = error_lines(result.stderr, path, leveled=True)
    if result.returncode != 0 and not errors:
        errors = [f"ffmpeg exited with status {result.returncode}"]
    return AudioWindow(start=start, samples=samples, max_volume=max_v, mean_volume=mean_v,
                       errors=errors)
