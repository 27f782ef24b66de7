"""The stand-in's hostile mode: a broken or malicious server, for the attack tests.

Set ``scenario.faults.attack`` (an :class:`Attack`) and the request kinds it hits
(``faults.attack_kinds``: "page", "api", "media"); every matching request gets the
attack instead of the normal answer, until ``faults.attack_times`` (when not None)
runs out. ``faults.author_name`` replaces the ``uniqueId`` of every item's author
(server text with RTL marks, emoji or a NUL). Loopback only, like the rest of the
stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import zlib
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tikget_tui.demo.scenario import Faults

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


class Attack(StrEnum):
    GZIP_BOMB = "gzip-bomb"  # gzip inside gzip: a few KB that inflate to faults.bomb_size
    ENDLESS = "endless"  # a body that never ends (page: HTML; media: an MP4 head, then zeros)
    SLOW = "slow"  # one byte every faults.slow_interval seconds (slowloris)
    OVERSIZE = "oversize"  # media: announces and sends far more than the listed DataSize
    NOT_MEDIA = "not-media"  # media: 200 with an HTML page well above the minimum video size
    REDIRECT_AWAY = "redirect-away"  # media: 302 to faults.redirect_to (a host outside TikTok)


@functools.lru_cache(maxsize=4)
def double_gzip(size: int) -> bytes:
    """``size`` bytes of spaces, gzip-compressed twice (1 GiB gives ~10 KB)."""

    def gzip_stream(chunks: list[bytes] | None, total: int) -> bytes:
        z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        out = []
        if chunks is None:
            block = b" " * (1 << 20)
            left = total
            while left > 0:
                out.append(z.compress(block[:min(left, len(block))]))
                left -= len(block)
        else:
            out.extend(z.compress(c) for c in chunks)
        out.append(z.flush())
        return b"".join(out)

    inner = gzip_stream(None, size)
    return gzip_stream([inner], len(inner))


def _due(faults: Faults, kind: str) -> bool:
    if faults.attack is None or kind not in faults.attack_kinds:
        return False
    if faults.attack_times is not None:
        if faults.attack_times <= 0:
            return False
        faults.attack_times -= 1
    return True


async def respond(faults: Faults, request: web.Request, kind: str) -> web.StreamResponse | None:
    """The attack's answer to ``request``, or None to answer normally."""
    if not _due(faults, kind):
        return None
    attack = Attack(str(faults.attack))
    ctype = "application/json" if kind == "api" else "text/html"
    if attack == Attack.GZIP_BOMB:
        body = await asyncio.to_thread(double_gzip, faults.bomb_size)
        return web.Response(body=body, headers={"Content-Encoding": "gzip, gzip",
                                                "Content-Type": ctype})
    if attack == Attack.REDIRECT_AWAY:
        raise web.HTTPFound(faults.redirect_to + request.path_qs)
    if attack == Attack.NOT_MEDIA:
        page = b"<!DOCTYPE html><html><body>" + b"<p>Access Denied</p>" * 2000 + b"</body></html>"
        return web.Response(body=page, content_type="text/html")
    head = b"<!DOCTYPE html><html><body>"
    if kind == "media":  # what the client expects to see first, so only the size is wrong
        head = (JPEG_HEAD if request.path.startswith("/photo/")
                else b"ID3\x03\x00\x00\x00\x00\x00\x00" if request.path.startswith("/obj/")
                else MP4_HEAD)
    if attack == Attack.OVERSIZE:
        length = faults.oversize_bytes
        response = web.StreamResponse(headers={"Content-Type": "video/mp4",
                                               "Content-Length": str(length)})
        return await _stream(request, response, head, 1 << 16, length)
    if attack == Attack.ENDLESS:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4" if kind == "media"
                                               else ctype})
        response.enable_chunked_encoding()
        filler = b"\0" if kind == "media" else b"a"
        return await _stream(request, response, head, 1 << 16, None, filler=filler)
    if attack == Attack.SLOW:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4" if kind == "media"
                                               else ctype})
        response.enable_chunked_encoding()
        return await _stream(request, response, head, 1, None, pause=faults.slow_interval)
    return None


async def _stream(request: web.Request, response: web.StreamResponse, head: bytes, chunk: int,
                  length: int | None, *, filler: bytes = b"\0", pause: float = 0.0
                  ) -> web.StreamResponse:
    """Send ``head`` then ``filler`` in ``chunk``-byte writes (``length`` in all, or
    forever), pausing ``pause`` s between writes; ends quietly when the client leaves."""
    await response.prepare(request)
    block = filler * chunk
    sent = 0
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        await response.write(head)
        sent += len(head)
        while length is None or sent < length:
            n = len(block) if length is None else min(len(block), length - sent)
            await response.write(block[:n])
            sent += n
            await asyncio.sleep(pause)
    return response
