"""JSON we read from disk (sidecars, claims, the state database's columns), bounded.

Every such read goes through here: at most ``max_json_bytes`` (README "Limits"; the
``max_json_bytes`` setting, :func:`configure` applies it) and at most
:data:`MAX_DEPTH` levels of nesting, checked with a cheap scan *before* ``json.loads``
(whose C scanner raises ``RecursionError`` on a deep nest, and whose memory is a
multiple of the text's). A file is opened without following a link and read only when
it is a regular file; a FIFO or ``/dev/zero`` planted at our name is never read.

Over a bound: :class:`JsonUnreadable` whose ``reason`` is ``"too large"`` or
``"too deep"`` (a ``ValueError``, so callers that already treat bad JSON as "no
sidecar" keep doing so).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from itertools import accumulate
from pathlib import Path
from typing import Any

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
"""Our own JSON nests 5 levels at most; 64 leaves room and stays far below recursion."""

_max_bytes = DEFAULT_MAX_BYTES
_STRINGS = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JsonUnreadable(ValueError):
    """A JSON file or text over a bound; ``reason``: ``too large`` / ``too deep`` / ..."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason} ({detail})")


def configure(max_bytes: int) -> None:
    """Use ``max_bytes`` (the ``max_json_bytes`` setting) for reads that name no limit."""
    global _max_bytes
    _max_bytes = max(1024, int(max_bytes))


def max_bytes() -> int:
    return _max_bytes


def depth(text: str) -> int:
    """How deep ``text``'s brackets nest, outside strings (a few C-speed passes)."""
    brackets = _NOT_BRACKET.sub("", _STRINGS.sub("", text))
    return max(accumulate(_STEP[c] for c in map(ord, brackets)), default=0)


def loads(text: str | bytes, *, limit: int | None = None) -> Any:
    """``json.loads`` within the size and depth bounds (else :class:`JsonUnreadable`)."""
    limit = _max_bytes if limit is None else limit
    if len(text) > limit:
        raise JsonUnreadable("too large", f"{len(text):,} bytes, the limit is {limit:,}")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # fewer brackets than the limit cannot nest deeper than it: most texts skip the scan
    levels = depth(text) if text.count("[") + text.count("{") > MAX_DEPTH else 0
    if levels > MAX_DEPTH:
        raise JsonUnreadable("too deep", f"nested {levels} levels, the limit is {MAX_DEPTH}")
    return json.loads(text)


def read(path: Path, *, limit: int | None = None) -> Any:
    """Read and parse the JSON file ``path`` within the bounds; ``OSError`` when it cannot
    be opened (``FileNotFoundError`` when missing), :class:`JsonUnreadable` when it is not
    a regular file or over a bound, ``ValueError`` when it is not JSON."""
    limit = _max_bytes if limit is None else limit
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(
        os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise JsonUnreadable("not a regular file", "a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise JsonUnreadable("not a regular file", "a device, FIFO or folder")
        if st.st_size > limit:
            raise JsonUnreadable("too large", f"{st.st_size:,} bytes, the limit is {limit:,}")
        chunks: list[bytes] = []
        got = 0
        while got <= limit:  # a file growing while we read is still cut at the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    if got > limit:
        raise JsonUnreadable("too large", f"more than {limit:,} bytes")
    return loads(b"".join(chunks), limit=limit)
