"""Caps on what a server can make the client hold or wait for (README "Limits").

A page or API answer is read raw (``aiter_raw``) and decoded here, layer by
layer, with a bound on every layer's output (``zlib``'s ``max_length``), so a
gzip bomb (even gzip inside gzip) stops at :class:`Settings.max_page_bytes`
instead of being inflated by httpx in one call. A media body is paced by
:class:`RateFloor`: once ``min_rate_grace`` seconds have passed it must have
averaged ``min_media_rate`` bytes/s (one byte every few seconds never does).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import AsyncIterator

from tikget_tui.tiktok.errors import MalformedResponse, NetworkError, TooLarge

# what we ask for; a server answering with anything else is refused
ACCEPT_ENCODING = "gzip, deflate"


def _layers(content_encoding: str) -> list[str]:
    """Content-Encoding values in the order they must be undone (last applied first)."""
    names = [v.strip().lower() for v in content_encoding.split(",") if v.strip()]
    return [n for n in reversed(names) if n != "identity"]


class BoundedDecoder:
    """Undo gzip/deflate layers incrementally, never producing more than ``limit`` bytes
    per layer (so memory stays near ``limit`` whatever the compression ratio)."""

    def __init__(self, content_encoding: str, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self._names = _layers(content_encoding)
        for name in self._names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise MalformedResponse(
                    f"TikTok sent {what} in an encoding tikget does not read "
                    f"({name[:20]!r}); try again later", retryable=False)
        self._decoders = [self._new(n) for n in self._names]
        self._produced = [0] * len(self._names)
        self._raw_deflate = [False] * len(self._names)
        self.size = 0

    @staticmethod
    def _new(name: str, raw: bool = False) -> zlib._Decompress:
        if name == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    def _too_large(self) -> TooLarge:
        mb = self.limit / (1024 * 1024)
        return TooLarge(
            f"TikTok sent {self.what} larger than the {mb:.3g} MB limit (max_page_bytes); "
            "refusing it")

    def _layer(self, i: int, data: bytes) -> bytes:
        room = self.limit - self._produced[i] + 1
        try:
            out = self._decoders[i].decompress(data, room)
        except zlib.error:
            if self._names[i] == "deflate" and not self._raw_deflate[i] and not self._produced[i]:
                # "deflate" is sometimes raw deflate without the zlib header
                self._raw_deflate[i] = True
                self._decoders[i] = self._new("deflate", raw=True)
                return self._layer(i, data)
            raise MalformedResponse(
                f"TikTok sent {self.what} with a broken compression; try again later"
            ) from None
        self._produced[i] += len(out)
        if self._produced[i] > self.limit or self._decoders[i].unconsumed_tail:
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
            tail = self._decoders[i].flush(64 * 1024)
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
