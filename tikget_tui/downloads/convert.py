"""ffmpeg steps after a transfer, through ffmpeg-python: MP3 extraction and metadata tags.

Commands are built with ffmpeg-python and run as asyncio subprocesses
(stdin from /dev/null, output captured, killed on timeout), writing to a
temporary name that is renamed into place only on success.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import ffmpeg  # ffmpeg-python

from tikget_tui.downloads.naming import truncate_bytes
from tikget_tui.downloads.transfer import finalize
from tikget_tui.mediatools import MediaTools

TIMEOUT = 300.0


class ConvertError(RuntimeError):
    """ffmpeg failed; the message is one line."""


def _tmp_for(dst: Path) -> Path:
    # same directory (atomic rename), the real extension last (ffmpeg picks the muxer by it)
    return dst.with_name(f".{truncate_bytes(dst.stem, 150)}.tmp{dst.suffix}")


async def _run(args: list[str], timeout: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise ConvertError(f"ffmpeg failed: {last}")


async def _produce(stream: object, dst: Path, timeout: float) -> None:
    tmp = _tmp_for(dst)
    args: list[str] = stream.compile()  # type: ignore[attr-defined]
    try:
        await _run(args, timeout)
        finalize(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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
    """Audio of ``src`` as MP3 (VBR ~190 kb/s) into ``dst``, tags included."""
    stream = (
        ffmpeg.input(str(src))
        .output(str(_tmp_for(dst)), vn=None, acodec="libmp3lame", **{"q:a": 2},
                id3v2_version=3, map_metadata=-1)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
        .overwrite_output()
    )
    await _produce(_Compiled(stream, tools.ffmpeg, _meta_args(metadata or {}), _tmp_for(dst)),
                   dst, timeout)


async def tag(
    path: Path, metadata: Mapping[str, str], tools: MediaTools, *, timeout: float = TIMEOUT
) -> None:
    """Rewrite ``path`` with ``metadata`` tags, streams copied (no re-encode), atomically."""
    kwargs: dict[str, object] = {"c": "copy", "map": 0}
    if path.suffix.lower() in (".mp4", ".m4a", ".mov"):
        kwargs["movflags"] = "+faststart"
    if path.suffix.lower() == ".mp3":
        kwargs["id3v2_version"] = 3
    stream = (
        ffmpeg.input(str(path))
        .output(str(_tmp_for(path)), **kwargs)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
        .overwrite_output()
    )
    await _produce(_Compiled(stream, tools.ffmpeg, _meta_args(metadata), _tmp_for(path)),
                   path, timeout)


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
    """Remove temp files a killed ffmpeg step left (``.NAME.tmp.EXT``)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and ".tmp." in entry.name and entry.is_file():
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
