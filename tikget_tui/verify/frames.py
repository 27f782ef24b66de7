"""Preview pictures of saved files: where they are cached, and making them again.

The verifier's first- and last-second decode windows write a video's two frames while
they run (``verify(..., frames_dir=...)``), and its image check writes a photo's
thumbnail (``photo.jpg``, at most 480 px a side); they live in the cache folder, one
folder per saved file, never beside the user's files. When the cache was cleared,
:func:`remake` (a report's pictures) and :func:`remake_thumbnails` (a photo story's
images) make them again with ffmpeg, on demand, when a report is shown. The app draws
pictures only from these small files, never from an original.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from pathlib import Path

from tikget_tui.mediatools import MediaTools
from tikget_tui.private import private_dir
from tikget_tui.verify.probe import (
    FRAME_HEIGHT,
    PHOTO_LABEL,
    Deadline,
    ToolStopped,
    run_tool,
    thumbnail,
)
from tikget_tui.verify.report import Frame, Report

TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
       "# tikget's preview frames (made again when needed); https://bford.info/cachedir/\n")


def frames_dir(cache_dir: Path, media: Path) -> Path:
    """The cache folder of one saved file's preview frames. The ``frames`` folder gets a
    ``CACHEDIR.TAG`` (backup tools skip it; so does ``tikget verify -r``)."""
    key = hashlib.sha256(str(media.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    root = cache_dir / "frames"
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        try:
            private_dir(cache_dir)
            root.mkdir(exist_ok=True)
            tag.write_text(TAG, encoding="ascii")
        except OSError:
            pass  # the verifier says so if the folder cannot be used
    return root / key[:24]


def present(report: Report) -> bool:
    """Whether every preview frame the report lists is still in the cache."""
    return bool(report.frames) and all(Path(f.file).is_file() for f in report.frames)


async def remake(report: Report, cache_dir: Path, *, tools: MediaTools | None = None,
                 timeout: float = 30.0) -> list[Frame]:
    """Decode the report's frames again (at their timestamps) into the cache; the frames
    made. One short ffmpeg run per frame, each from the keyframe before it."""
    tools = tools or MediaTools.find()
    folder = frames_dir(cache_dir, report.path)
    folder.mkdir(parents=True, exist_ok=True)
    deadline = Deadline(timeout)
    made: list[Frame] = []
    for frame in report.frames:
        out = folder / f"{frame.label}.jpg"
        if frame.label == PHOTO_LABEL:
            with contextlib.suppress(ToolStopped):
                if await thumbnail(tools, report.path, deadline, out):
                    made.append(Frame(frame.label, None, str(out)))
            continue
        when = frame.time or 0.0
        # seek a little before (ffmpeg's -ss counts from the file's start time), then
        # keep the first frame at or after the timestamp (file time: -copyts)
        seek = ["-ss", f"{when - 1.5:.3f}"] if when > 1.5 else []
        pick = f"select=gte(t\\,{when - 0.002:.3f})," if when > 0 else ""
        args = [tools.ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
                "-copyts", *seek, "-i", str(report.path), "-map", "0:v:0", "-frames:v", "1",
                "-vf", f"{pick}scale=-2:{FRAME_HEIGHT}", "-q:v", "5", "-y", str(out)]
        try:
            await run_tool(args, deadline, tools.limits)
        except ToolStopped:
            continue
        if out.is_file():
            made.append(Frame(frame.label, frame.time, str(out)))
    return made


def photo_thumbnail(cache_dir: Path, media: Path) -> Path:
    """Where the verification wrote the preview thumbnail of the photo ``media``."""
    return frames_dir(cache_dir, media) / f"{PHOTO_LABEL}.jpg"


async def remake_thumbnails(files: list[Path], cache_dir: Path, *,
                            tools: MediaTools | None = None,
                            timeout: float = 30.0) -> list[Path]:
    """Write the missing preview thumbnails of a photo story's images (ffmpeg, under the
    child limits; the originals are never opened here); the thumbnails that exist after."""
    tools = tools or MediaTools.find()
    deadline = Deadline(timeout)
    out: list[Path] = []
    for media in files:
        thumb = photo_thumbnail(cache_dir, media)
        if not thumb.is_file():
            thumb.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(ToolStopped):
                await thumbnail(tools, media, deadline, thumb)
        if thumb.is_file():
            out.append(thumb)
    return out


def export(report: Report, folder: Path, stem: str) -> list[Path]:
    """Copy a report's frames to ``folder`` as ``STEM.first.jpg`` and ``STEM.last.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for frame in report.frames:
        dest = folder / f"{stem}.{frame.label}.jpg"
        shutil.copyfile(frame.file, dest)
        out.append(dest)
    return out
