"""Caps on what a server can make the client hold or wait for (README "Limits").

A page or API answer is read raw (``aiter_raw``) and decoded here, layer by
layer, with a bound on every layer's output (``max_length`` of zlib and zstd,
brotli's ``output_buffer_limit``), so a bomb (even gzip inside gzip) stops at
:class:`Settings.max_page_bytes` instead of being inflated by httpx in one call.
A media body is paced by :class:`RateFloor`: once ``min_rate_grace`` seconds have
passed it must have averaged ``min_media_rate`` bytes/s (one byte every few seconds never does).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

from tikget_tui.tiktok.errors import MalformedResponse, NetworkError, TooLarge

# what we ask for (what Chrome sends: the browser's headers must agree, tiktok/browser.py);
# a server answering with anything else is refused
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
_READABLE = ("gzip", "x-gzip", "deflate", "br", "zstd")


def _layers(content_encoding: str) -> list[str]:
    """Content-Encoding values in the order they must be undone (last applied first)."""
    names = [v.strip().lower() for v in content_encoding.split(",") if v.strip()]
    return [n for n in reversed(names) if n != "identity"]


class _Layer:
    """One encoding undone incrementally, never more than ``room`` bytes out per call;
    :attr:`pending`: output was held back (the layer would produce more than allowed)."""

    pending = False

    def __init__(self, name: str, raw_deflate: bool = False) -> None:
        self.name = name
        self._zlib: zlib._Decompress | None = None
        self._other: Any = None
        if name == "br":
            import brotli

            self._other = brotli.Decompressor()
        elif name == "zstd":
            try:
                from compression.zstd import ZstdDecompressor
            except ImportError:  # Python < 3.14: the same module, backported
                from backports.zstd import ZstdDecompressor
            self._other = ZstdDecompressor()
        elif name == "deflate":
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        else:
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def decompress(self, data: bytes, room: int) -> bytes:
        if self._zlib is not None:
            out = self._zlib.decompress(data, room)
            self.pending = bool(self._zlib.unconsumed_tail)
        elif self.name == "br":
            out = self._other.process(data, output_buffer_limit=room)
            self.pending = not self._other.can_accept_more_data()
        else:
            if self._other.eof:  # data after the end of the frame: ignored, as zlib does
                return b""
            out = self._other.decompress(data, max_length=room)
            self.pending = not self._other.needs_input and not self._other.eof
        return out

    def flush(self) -> bytes:
        return self._zlib.flush(64 * 1024) if self._zlib is not None else b""


class BoundedDecoder:
    """Undo gzip/deflate/br/zstd layers incrementally, never producing more than ``limit``
    bytes per layer (so memory stays near ``limit`` whatever the compression ratio)."""

    def __init__(self, content_encoding: str, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self._names = _layers(content_encoding)
        for name in self._names:
            if name not in _READABLE:
                raise MalformedResponse(
                    f"TikTok sent {what} in an encoding tikget does not read "
                    f"({name[:20]!r}); try again later", retryable=False)
        self._decoders = [_Layer(n) for n in self._names]
        self._produced = [0] * len(self._names)
        self._raw_deflate = [False] * len(self._names)
        self.size = 0

    def _too_large(self) -> TooLarge:
        mb = self.limit / (1024 * 1024)
        return TooLarge(
            f"TikTok sent {self.what} larger than the {mb:.3g} MB limit (max_page_bytes); "
            "refusing it")

    def _layer(self, i: int, data: bytes) -> bytes:
        room = self.limit - self._produced[i] + 1
        try:
            out = self._decoders[i].decompress(data, room)
        except Exception:  # zlib.error, brotli.error, ZstdError: the body is broken
            if self._names[i] == "deflate" and not self._raw_deflate[i] and not self._produced[i]:
                # "deflate" is sometimes raw deflate without the zlib header
                self._raw_deflate[i] = True
                self._decoders[i] = _Layer("deflate", raw_deflate=True)
                return self._layer(i, data)
            raise MalformedResponse(
                f"TikTok sent {self.what} with a broken compression; try again later"
            ) from None
        self._produced[i] += len(out)
        if self._produced[i] > self.limit or self._decoders[i].pending:
            raise self._too_large()
        return out

    def feed(self, data: bytes) -> bytes:
        for i in range(len(self._decoders)):
            if not data:
                return b""
            data = self._layer(i, data)
        self.size += len(data)
        if self.size > self.limit:
            raise self._too_large()
        return data

    def flush(self) -> bytes:
        out = b""
        for i in range(len(self._decoders)):
            if out:
                out = self._layer(i, out)
            tail = self._decoders[i].flush()
            self._produced[i] += len(tail)
            if self._produced[i] > self.limit:
                raise self._too_large()
            out += tail
        self.size += len(out)
        if self.size > self.limit:
            raise self._too_large()
        return out


async def read_capped(raw: AsyncIterator[bytes], content_encoding: str, limit: int,
                      what: str) -> bytes:
    """The decoded body of ``raw`` (a response's ``aiter_raw()``), at most ``limit`` bytes."""
    decoder = BoundedDecoder(content_encoding, limit, what)
    parts: list[bytes] = []
    async for chunk in raw:
        out = decoder.feed(chunk)
        if out:
            parts.append(out)
    parts.append(decoder.flush())
    return b"".join(parts)


class RateFloor:
    """Fail a media body that averages under ``min_rate`` bytes/s after ``grace`` seconds.

    Checked as each chunk arrives (cheap: one clock read); a server that sends nothing at
    all is caught by the per-read ``request_timeout`` instead.
    """

    def __init__(self, min_rate: int, grace: float) -> None:
        self.min_rate = min_rate
        self.grace = grace
        self.start = time.monotonic()
        self.received = 0
        # the clock time the bytes so far stop being enough (inf: no floor)
        self._deadline = self.start + grace if min_rate > 0 else math.inf

    def add(self, n: int) -> None:
        """Count ``n`` more bytes; NetworkError when the average is under the floor."""
        self.received += n
        now = time.monotonic()
        if now > self._deadline:
            raise self.too_slow(now)
        if self.min_rate > 0:
            self._deadline = self.start + max(self.grace, self.received / self.min_rate)

    def too_slow(self, now: float) -> NetworkError:
        spent = max(now - self.start, 1e-9)
        return NetworkError(
            f"the media server is too slow ({self.received / spent / 1024:.1f} KB/s on "
            f"average over {spent:.0f} s, under the {self.min_rate / 1024:.3g} KB/s minimum, "
            "min_media_rate); retrying")
