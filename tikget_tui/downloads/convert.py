"""ffmpeg steps after a transfer, through ffmpeg-python: MP3 extraction and metadata tags.

Commands are built with ffmpeg-python and run as asyncio subprocesses
(stdin from /dev/null, output captured, killed on timeout). ffmpeg reads the
source through a descriptor we opened (``/dev/fd/N``: a link swapped in under the
source's name is never read) and writes only into a fresh private folder
(:func:`safefile.private_dir`); the result gets its final name with
:func:`safefile.place`, which never replaces anything (``FileExistsError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import ffmpeg  # ffmpeg-python

from tikget_tui.files import safefile
from tikget_tui.files.safefile import open_own, place, private_dir, remove_private
from tikget_tui.mediatools import ChildLimits, MediaTools, read_bounded

TIMEOUT = 300.0


class ConvertError(RuntimeError):
    """ffmpeg failed; the message is one line."""


async def _run(args: list[str], timeout: float, pass_fds: tuple[int, ...] = (),
               limits: ChildLimits | None = None) -> None:
    limits = limits or ChildLimits()
    proc = await asyncio.create_subprocess_exec(
        *limits.command(args), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, pass_fds=pass_fds,
        env=limits.env(),
    )
    readers = asyncio.gather(read_bounded(proc.stderr, 1024 * 1024), proc.wait())
    readers.add_done_callback(lambda f: f.cancelled() or f.exception())
    try:
        err, _ = await asyncio.wait_for(readers, timeout)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    hit = limits.hit(proc.returncode or 0, err.decode("utf-8", "replace"))
    if hit is not None:
        raise ConvertError(f"ffmpeg {hit}")
    if proc.returncode != 0:
        lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise ConvertError(f"ffmpeg failed: {last}")


async def _produce(build: Callable[[str, Path], _Compiled], src: Path, dst: Path,
                   timeout: float, limits: ChildLimits | None = None) -> None:
    """Run ffmpeg from ``src`` (our file, by descriptor) to a private folder, then place the
    result at ``dst`` (never replacing anything there)."""
    fd = open_own(src, os.O_RDONLY)
    work = private_dir(dst.parent)
    try:
        out = work / ("out" + dst.suffix)  # the real extension: ffmpeg picks the muxer by it
        await _run(build(f"/dev/fd/{fd}", out).compile(), timeout, (fd,), limits)
        place(out, dst)
    finally:
        os.close(fd)
        remove_private(work)


def _meta_args(metadata: Mapping[str, str]) -> list[str]:
    # ffmpeg-python cannot repeat an option; these go in just before the output name
    out: list[str] = []
    for k, v in metadata.items():
        if v:
            out += ["-metadata", f"{k}={_one_line(v)}"]
    return out


def _one_line(value: str) -> str:
    return " ".join(value.replace("\0", "").split())[:1000]


async def extract_mp3(
    src: Path, dst: Path, tools: MediaTools, metadata: Mapping[str, str] | None = None,
    *, timeout: float = TIMEOUT,
) -> None:
    """Audio of ``src`` as MP3 (VBR ~190 kb/s) into the new file ``dst``, tags included."""

    def build(source: str, out: Path) -> _Compiled:
        stream = (
            ffmpeg.input(source)
            .output(str(out), vn=None, acodec="libmp3lame", **{"q:a": 2},
                    id3v2_version=3, map_metadata=-1)
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .overwrite_output()
        )
        return _Compiled(stream, tools.ffmpeg, _meta_args(metadata or {}), out)

    await _produce(build, src, dst, timeout, tools.limits)


async def tag(
    src: Path, dst: Path, metadata: Mapping[str, str], tools: MediaTools, *,
    timeout: float = TIMEOUT,
) -> None:
    """``src`` with ``metadata`` tags, streams copied (no re-encode), as the new file ``dst``
    (its suffix picks the container)."""
    kwargs: dict[str, object] = {"c": "copy", "map": 0}
    suffix = dst.suffix.lower()
    if suffix in (".mp4", ".m4a", ".mov"):
        kwargs["movflags"] = "+faststart"
    if suffix == ".mp3":
        kwargs["id3v2_version"] = 3

    def build(source: str, out: Path) -> _Compiled:
        stream = (
            ffmpeg.input(source)
            .output(str(out), **kwargs)
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .overwrite_output()
        )
        return _Compiled(stream, tools.ffmpeg, _meta_args(metadata), out)

    await _produce(build, src, dst, timeout, tools.limits)


class _Compiled:
    def __init__(self, stream: object, cmd: str, before_output: list[str], out: Path) -> None:
        self._out = str(out)
        self._stream = stream
        self._cmd = cmd
        self._extra = before_output

    def compile(self) -> list[str]:
        args: list[str] = self._stream.compile(cmd=self._cmd)  # type: ignore[attr-defined]
        at = len(args) - 1 - args[::-1].index(self._out) if self._out in args else len(args)
        return args[:at] + self._extra + args[at:]


def cleanup_temp(directory: Path) -> None:
    """Remove what a killed ffmpeg step left: private folders of dead tikget processes, and
    ``.NAME.tmp.EXT`` files of older versions (unlinked, never followed)."""
    safefile.cleanup(directory)
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if (entry.name.startswith(".") and ".tmp." in entry.name
                    and entry.is_file(follow_symlinks=False)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
