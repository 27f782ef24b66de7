"""Hostile files for the "no file can crash the app or take its memory" tests, made here
(no downloaded fixtures): JPEGs of any declared size written directly (a flat grey
picture costs 4 bits an 8x8 block, so 200 Mpx is a 2.4 MB file and nothing is ever held
in memory), a video of giant dimensions stream-copied from such JPEGs with ffmpeg, and
sidecars that are too deep or too large (a sparse file: no disk is spent).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

from tikget_tui.mediatools import MediaTools


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def write_grey_jpeg(path: Path, width: int, height: int) -> Path:
    """A real, decodable baseline JPEG of ``width`` x ``height`` mid-grey pixels (one
    component). Every block is DC difference 0 then end-of-block, each coded "00" by
    one-symbol Huffman tables, so the scan is zero bytes: a file of about
    ``width * height / 128`` bytes, written in pieces."""
    blocks = -(-width // 8) * -(-height // 8)
    head = b"\xff\xd8" + b"".join((
        _segment(0xDB, b"\x00" + b"\x01" * 64),  # quantisation: all ones
        _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _segment(0xC4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00"),  # DC: "00" = 0
        _segment(0xC4, b"\x10" + bytes([0, 1] + [0] * 14) + b"\x00"),  # AC: "00" = EOB
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
    ))
    bits = 4 * blocks
    whole, rest = divmod(bits, 8)
    with path.open("wb") as f:
        f.write(head)
        chunk = b"\x00" * (1 << 20)
        left = whole
        while left:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
        if rest:
            f.write(bytes([0xFF >> rest]))  # the last byte padded with one bits
        f.write(b"\xff\xd9")
    return path


def bomb_jpeg(path: Path) -> Path:
    """A JPEG declaring 14000x14000 (196 Mpx: over Pillow's bomb limit of ~179 Mpx)."""
    return write_grey_jpeg(path, 14000, 14000)


def huge_jpeg(path: Path) -> Path:
    """A 12000x10000 photo (120 Mpx: under Pillow's limit, 360 MB once decoded as RGB)."""
    return write_grey_jpeg(path, 12000, 10000)


def giant_video(path: Path, tools: MediaTools, side: int = 8192) -> Path:
    """A 2-second MJPEG video of ``side`` x ``side`` frames (4 frames at 2 fps), made by
    stream copy (ffmpeg never decodes or encodes a frame while making it)."""
    frame = write_grey_jpeg(path.with_suffix(".frame.jpg"), side, side)
    subprocess.run(
        [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-framerate", "2",
         "-loop", "1", "-i", str(frame), "-t", "2", "-c:v", "copy", "-f", "mov", str(path)],
        check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    frame.unlink()
    return path


def deep_sidecar(path: Path, levels: int = 1_000_000) -> Path:
    """``NAME.info.json`` nested ``levels`` deep (1 MB: under the size limit)."""
    path.write_text("[" * levels + "]" * levels, encoding="ascii")
    return path


def large_sidecar(path: Path, size: int = 300 * 1024 * 1024) -> Path:
    """A ``size``-byte ``NAME.info.json`` (sparse: no disk spent; reading it is the cost).
    It starts as a real sidecar's JSON so only its size is wrong."""
    with path.open("wb") as f:
        f.write(json.dumps({"schema": 1, "files": [], "note": ""}).encode()[:-1]
                + b', "pad": "')
        f.truncate(size - 2)
        f.seek(size - 2)
        f.write(b'"}')
    os.utime(path)
    return path
