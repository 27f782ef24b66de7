"""Bounded decoding of page/API bodies and the media rate floor (tiktok/limits.py)."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest

from tikget_tui.demo.hostile import double_gzip
from tikget_tui.tiktok.errors import MalformedResponse, NetworkError
from tikget_tui.tiktok.limits import BoundedDecoder, RateFloor, TooLarge, read_capped

MiB = 1024 * 1024


async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def read(data: bytes, encoding: str, limit: int = MiB) -> bytes:
    return asyncio.run(read_capped(chunks(data), encoding, limit, "a page"))


def _brotli(data: bytes) -> bytes:
    import brotli

    return bytes(brotli.compress(data))


def _zstd(data: bytes) -> bytes:
    try:
        from compression.zstd import compress
    except ImportError:
        from backports.zstd import compress
    return bytes(compress(data))


@pytest.mark.parametrize("encoding", ["", "identity", "gzip", "x-gzip", "deflate", "raw-deflate",
                                      "gzip, gzip", "br", "zstd", "br, gzip"])
def test_ordinary_bodies_decode_whole(encoding: str) -> None:
    """What Chrome accepts (gzip, deflate, br, zstd) is what we ask for and read."""
    body = b"<html>" + b"caption " * 20000 + b"</html>"
    if encoding == "br":
        wire = _brotli(body)
    elif encoding == "zstd":
        wire = _zstd(body)
    elif encoding == "br, gzip":  # brotli first, then gzip over it
        wire = gzip.compress(_brotli(body))
    elif encoding in ("gzip", "x-gzip"):
        wire = gzip.compress(body)
    elif encoding == "deflate":
        wire = zlib.compress(body)
    elif encoding == "raw-deflate":
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        wire, encoding = c.compress(body) + c.flush(), "deflate"
    elif encoding == "gzip, gzip":
        wire = gzip.compress(gzip.compress(body))
    else:
        wire = body
    assert read(wire, encoding) == body


@pytest.mark.parametrize("layers", [1, 2])
def test_bombs_stop_at_the_limit_with_flat_memory(layers: int) -> None:
    size = 256 * MiB
    wire = double_gzip(size) if layers == 2 else gzip.compress(b" " * (8 * MiB))
    limit = MiB if layers == 2 else 2 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge) as info:
            read(wire, "gzip, gzip" if layers == 2 else "gzip", limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "max_page_bytes" in info.value.reason and not info.value.retryable
    assert peak < 4 * limit + MiB, f"{peak / MiB:.1f} MiB"


def test_a_body_just_under_the_limit_passes_and_one_over_does_not() -> None:
    assert len(read(gzip.compress(b"x" * MiB), "gzip", MiB)) == MiB
    with pytest.raises(TooLarge):
        read(gzip.compress(b"x" * (MiB + 1)), "gzip", MiB)
    with pytest.raises(TooLarge):
        read(b"x" * (MiB + 1), "", MiB)


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_brotli_and_zstd_bombs_stop_at_the_limit_with_flat_memory(encoding: str) -> None:
    wire = (_brotli if encoding == "br" else _zstd)(b" " * (64 * MiB))
    limit = MiB
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge):
            read(wire, encoding, limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * limit + MiB, f"{peak / MiB:.1f} MiB"
    assert len(read((_brotli if encoding == "br" else _zstd)(b"x" * MiB), encoding, MiB)) == MiB


@pytest.mark.parametrize("encoding", ["compress", "gzip, compress", "lzma"])
def test_encodings_not_asked_for_are_refused(encoding: str) -> None:
    with pytest.raises(MalformedResponse, match="encoding tikget does not read"):
        BoundedDecoder(encoding, MiB, "a page")


def test_broken_compression_is_one_line() -> None:
    with pytest.raises(MalformedResponse, match="broken compression"):
        read(b"\x1f\x8b\x08\x00garbage" * 10, "gzip")


def test_rate_floor_fails_a_trickling_body() -> None:
    floor = RateFloor(min_rate=1000, grace=0.3)
    floor.add(100)  # within the grace: fine whatever the rate
    time.sleep(0.35)
    with pytest.raises(NetworkError, match=r"too slow .* min_media_rate"):
        floor.add(1)  # 101 bytes in 0.35 s is under 1000 B/s


def test_rate_floor_lets_a_fast_body_and_a_zero_floor_through() -> None:
    floor = RateFloor(min_rate=1000, grace=0.1)
    floor.add(10_000)  # enough for 10 s
    time.sleep(0.2)
    floor.add(1)
    off = RateFloor(min_rate=0, grace=0.01)
    time.sleep(0.05)
    off.add(1)


@pytest.mark.parametrize("chunk", [64, 4096, 1 << 30])
def test_gzip_inside_gzip_whose_inner_layer_is_over_the_limit_is_too_large(chunk: int) -> None:
    """Each layer is bounded on its own: the inner layer's output alone is over the
    limit, so the page is refused as too large, never cut short and returned (the rest
    left behind in the decoder), whatever the chunking on the wire."""
    import random

    limit = 64 * 1024
    noise = random.Random(25).randbytes(3 * limit)  # incompressible: the inner gzip stream
    for inner_size in (limit + 1, limit + 5000, 3 * limit):  # is itself over the limit
        for body in ((b"caption " * (inner_size // 8 + 1))[:inner_size], noise[:inner_size]):
            wire = gzip.compress(gzip.compress(body))
            with pytest.raises(TooLarge):
                asyncio.run(read_capped(chunks(wire, chunk), "gzip, gzip", limit, "a page"))
    # the same at exactly the limit is a page like any other
    exact = (b"caption " * (limit // 8 + 1))[:limit]
    wire = gzip.compress(gzip.compress(exact))
    assert asyncio.run(read_capped(chunks(wire, chunk), "gzip, gzip", limit, "a page")) == exact


def test_each_layer_is_bounded_while_it_inflates() -> None:
    """The outer layer of a gzip-in-gzip bomb is bounded too: no decompress call of any
    layer is asked for more than the limit (plus one byte to see it is over)."""
    limit = 256 * 1024
    wire = double_gzip(64 * MiB)
    decoder = BoundedDecoder("gzip, gzip", limit, "a page")
    asked: list[int] = []
    for i, inner in enumerate(decoder._decoders):

        class Spy:
            def __init__(self, real: object) -> None:
                self.real = real

            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                asked.append(max_length)
                return self.real.decompress(data, max_length)  # type: ignore[attr-defined]

            def __getattr__(self, name: str) -> object:
                return getattr(self.real, name)

        decoder._decoders[i] = Spy(inner)  # type: ignore[assignment]
    with pytest.raises(TooLarge):
        for start in range(0, len(wire), 4096):
            decoder.feed(wire[start:start + 4096])
        decoder.flush()
    assert asked and all(0 < n <= limit + 1 for n in asked), asked[:20]
