"""Real media made with ffmpeg, for the verifier's tests (and anyone else's).

``media.path(name)`` returns a file generated on first use and cached under
the pytest cache dir (``.pytest_cache/d/tikget-media-v<N>``), so reruns cost
nothing. Files are small and short: 5 s, 180x320, 30 fps, ``-preset ultrafast``.
Treat them as read-only; copy one to ``tmp_path`` before changing it.

Bump ``VERSION`` when a recipe changes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tikget_tui.mediatools import MediaTools

VERSION = 1
DURATION = 5
SIZE = "180x320"
FPS = 30

_VIDEO = ["-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r={FPS}:d={DURATION}"]
_TONE = ["-f", "lavfi", "-i", f"sine=f=440:sample_rate=44100:d={DURATION}"]
_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
_AAC = ["-c:a", "aac", "-b:a", "64k"]

HTML = b"""<!DOCTYPE html>
<html lang="en"><head><title>TikTok - Make Your Day</title></head>
<body><div id="app">Please wait...</div><script>window.location.reload()</script></body></html>
"""
JSON_REPLY = b'{"statusCode": 10204, "statusMsg": "item not found", "extra": {"now": 1}}\n'


class MediaFiles:
    """Generate-on-first-use media files, each named after what it is."""

    def __init__(self, root: Path, tools: MediaTools) -> None:
        self.root = root
        self.tools = tools
        self._recipes: dict[str, Callable[[Path], object]] = {
            # complete files
            "h264_faststart.mp4": lambda out: self._ff(
                *_VIDEO, *_TONE, *_H264, *_AAC, "-movflags", "+faststart", out=out),
            "h264_moov_end.mp4": lambda out: self._ff(*_VIDEO, *_TONE, *_H264, *_AAC, out=out),
            "hevc.mp4": lambda out: self._ff(
                *_VIDEO, *_TONE, "-c:v", "libx265", "-preset", "ultrafast",
                "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
                *_AAC, "-movflags", "+faststart", out=out),
            "offset_start.mp4": lambda out: self._ff(
                *_VIDEO, *_TONE, *_H264, *_AAC, "-output_ts_offset", "2",
                "-movflags", "+faststart", out=out),
            "audio.mp3": lambda out: self._ff(*_TONE, "-c:a", "libmp3lame", "-b:a", "96k",
                                              out=out),
            "audio.m4a": lambda out: self._ff(*_TONE, *_AAC, "-movflags", "+faststart", out=out),
            "image.jpg": lambda out: self._ff(
                "-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r=1", "-frames:v", "1", out=out),
            "image.webp": lambda out: self._ff(
                "-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r=1", "-frames:v", "1",
                "-c:v", "libwebp", out=out),
            # broken files
            "truncated_75.mp4": lambda out: self._cut("h264_faststart.mp4", out, 0.75),
            "truncated_97.mp4": lambda out: self._cut("h264_faststart.mp4", out, 0.97),
            "truncated_moov_end.mp4": lambda out: self._cut("h264_moov_end.mp4", out, 0.90),
            "truncated.mp3": lambda out: self._cut("audio.mp3", out, 0.75),
            "truncated.jpg": lambda out: self._cut("image.jpg", out, 0.60),
            "truncated.webp": lambda out: self._cut("image.webp", out, 0.60),
            "no_audio.mp4": lambda out: self._ff(*_VIDEO, *_H264, "-an", "-movflags",
                                                 "+faststart", out=out),
            "silent.mp4": lambda out: self._ff(
                *_VIDEO, "-f", "lavfi", "-i", f"anullsrc=r=44100:cl=stereo:d={DURATION}",
                *_H264, *_AAC, "-movflags", "+faststart", out=out),
            "audio_half.mp4": lambda out: self._ff(
                *_VIDEO, "-f", "lavfi", "-i", f"sine=f=440:sample_rate=44100:d={DURATION / 2}",
                *_H264, *_AAC, "-movflags", "+faststart", out=out),
            "html.mp4": lambda out: out.write_bytes(HTML),
            "json.mp4": lambda out: out.write_bytes(JSON_REPLY),
            "empty.mp4": lambda out: out.write_bytes(b""),
        }

    @property
    def names(self) -> list[str]:
        return list(self._recipes)

    def path(self, name: str) -> Path:
        target = self.root / name
        if not target.exists():
            tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
            self._recipes[name](tmp)
            os.replace(tmp, target)
        return target

    def _ff(self, *args: str, out: Path) -> None:
        cmd = [self.tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *args, str(out)]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, capture_output=True)

    def _cut(self, source: str, out: Path, share: float) -> None:
        data = self.path(source).read_bytes()
        out.write_bytes(data[: int(len(data) * share)])


@pytest.fixture(scope="session")
def media_tools() -> MediaTools:
    """ffmpeg/ffprobe as the app finds them (the ffmpeg extra in the dev venv)."""
    return MediaTools.find()


@pytest.fixture(scope="session")
def media(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          media_tools: MediaTools) -> MediaFiles:
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    name = f"tikget-media-v{VERSION}"
    root = Path(cache.mkdir(name)) if cache is not None else tmp_path_factory.mktemp(name)
    return MediaFiles(root, media_tools)
