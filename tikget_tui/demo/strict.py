"""The stand-in's bot wall: TLS on loopback, and a 403 for clients that are not the
browser they claim to be (../shared/tiktok-web-protocol.md, section 6).

Two checks, on pages and ``/api/`` calls (the media CDN and short links' redirects are not
walled, as on the site):

- **The handshake.** The ClientHello is read as it arrives (OpenSSL's message callback),
  before any header: a current browser offers GREASE values among its cipher suites and
  extensions, the ``compress_certificate`` extension (27) and ``h2`` in ALPN. Python's
  ``ssl`` (httpx, aiohttp) does none of these.
- **The headers.** A User-Agent naming Chrome must come with ``sec-ch-ua`` naming the
  same major version, ``sec-ch-ua-mobile`` and ``sec-ch-ua-platform``, ``sec-fetch-mode``
  ``navigate`` for a page and ``cors`` for ``/api/``, ``Accept-Language``, and an
  ``Accept-Encoding`` with Chrome's ``br`` and ``zstd``.

The stand-in speaks HTTP/1.1 (it offers only ``http/1.1`` in ALPN), so a browser's HTTP/2
settings are not checked here; its ClientHello, sent before ALPN is agreed, is.

The certificate is made for this run (trustme: a throw-away CA and a leaf for 127.0.0.1
and localhost); clients trust it through ``SSL_CERT_FILE`` = :attr:`Wall.ca_file`.
"""

from __future__ import annotations

import re
import ssl
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WALL_PAGE = (
    "<!DOCTYPE html><html><head><title>Access Denied</title></head><body>"
    "<h1>Access Denied</h1><p>Your request was blocked. Reference #18.bot-wall</p>"
    "</body></html>"
)

# Short links answer link-preview bots (the client resolves them as one, protocol notes
# section 2): their redirects are not behind the wall, whatever the connection.
SHORT_LINK_PATHS = ("/t/", "/vm/", "/vt/")

_CLIENT_HELLO = 1
_EXT_ALPN = 16
_EXT_COMPRESS_CERTIFICATE = 27


def _is_grease(value: int) -> bool:
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


@dataclass(frozen=True)
class Hello:
    """What a ClientHello offered."""

    ciphers: tuple[int, ...]
    extensions: tuple[int, ...]
    alpn: tuple[str, ...]

    def refusal(self) -> str | None:
        """Why this handshake is not a current browser's (``None``: it is)."""
        if not any(_is_grease(c) for c in self.ciphers):
            return "no GREASE cipher suite"
        if not any(_is_grease(e) for e in self.extensions):
            return "no GREASE extension"
        if _EXT_COMPRESS_CERTIFICATE not in self.extensions:
            return "no compress_certificate extension"
        if "h2" not in self.alpn:
            return "no h2 in ALPN"
        return None


def parse_client_hello(data: bytes) -> Hello | None:
    """A handshake message (``data`` may start with its 4-byte header) → :class:`Hello`;
    ``None`` when it is not a readable ClientHello."""
    try:
        if data[:1] == bytes([_CLIENT_HELLO]):
            data = data[4:]
        pos = 2 + 32  # version, random
        pos += 1 + data[pos]  # session id
        (n,) = struct.unpack_from("!H", data, pos)
        ciphers = struct.unpack_from(f"!{n // 2}H", data, pos + 2)
        pos += 2 + n
        pos += 1 + data[pos]  # compression methods
        (total,) = struct.unpack_from("!H", data, pos)
        pos += 2
        end = min(len(data), pos + total)
        extensions: list[int] = []
        alpn: list[str] = []
        while pos + 4 <= end:
            kind, length = struct.unpack_from("!HH", data, pos)
            body = data[pos + 4: pos + 4 + length]
            extensions.append(kind)
            if kind == _EXT_ALPN and len(body) >= 2:
                i = 2
                while i < len(body):
                    size = body[i]
                    alpn.append(body[i + 1: i + 1 + size].decode("ascii", "replace"))
                    i += 1 + size
            pos += 4 + length
    except (IndexError, struct.error):
        return None
    return Hello(tuple(ciphers), tuple(extensions), tuple(alpn))


_CHROME_UA = re.compile(r"\bChrome/(\d+)\.")


def header_refusal(headers: Any, kind: str) -> str | None:
    """Why these request headers disagree with the browser their User-Agent names."""
    ua = headers.get("User-Agent", "")
    m = _CHROME_UA.search(ua)
    if m is None:
        return None if "Firefox/" in ua or "Safari/" in ua else "not a browser's User-Agent"
    major = m.group(1)
    hints = headers.get("sec-ch-ua", "")
    if not re.search(rf'"(?:Google Chrome|Chromium)";v="{major}"', hints):
        return f"sec-ch-ua {hints[:80]!r} does not name Chrome {major}"
    if "sec-ch-ua-mobile" not in headers or "sec-ch-ua-platform" not in headers:
        return "no sec-ch-ua-mobile/-platform"
    mode = headers.get("sec-fetch-mode", "")
    wanted = "cors" if kind == "api" else "navigate"
    if mode != wanted:
        return f"sec-fetch-mode {mode[:20]!r} for a {kind} (a browser sends {wanted!r})"
    if not headers.get("Accept-Language"):
        return "no Accept-Language"
    accepted = {v.strip().split(";")[0] for v in headers.get("Accept-Encoding", "").split(",")}
    if not {"br", "zstd"} <= accepted:
        return f"Accept-Encoding {headers.get('Accept-Encoding', '')[:40]!r} is not Chrome's"
    return None


class Wall:
    """The strict stand-in's TLS context and its verdicts on connections."""

    def __init__(self, folder: Path) -> None:
        import trustme

        self.ca = trustme.CA()
        leaf = self.ca.issue_cert("127.0.0.1", "localhost", "::1")
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / "tikget-demo-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(ctx)
        ctx.set_alpn_protocols(["http/1.1"])
        ctx._msg_callback = self._on_message  # type: ignore[attr-defined]
        self.context = ctx
        self.refused = 0

    @staticmethod
    def _on_message(conn: Any, direction: str, version: Any, content_type: Any,
                    msg_type: Any, data: bytes) -> None:
        if direction != "read" or getattr(conn, "_tikget_hello", None) is not None:
            return
        if int(content_type) == 22 and data[:1] == bytes([_CLIENT_HELLO]):
            hello = parse_client_hello(data)
            conn._tikget_hello = ("unreadable ClientHello" if hello is None
                                  else hello.refusal() or "")

    def refusal(self, request: Any, kind: str) -> str | None:
        """Why this request meets the wall (``None``: let it through)."""
        if kind not in ("page", "api") or request.path.startswith(SHORT_LINK_PATHS):
            return None
        ssl_object = request.transport.get_extra_info("ssl_object") \
            if request.transport is not None else None
        verdict = getattr(ssl_object, "_tikget_hello", None)
        if verdict is None:
            return "no TLS handshake seen"
        if verdict:
            return f"TLS: {verdict}"
        return header_refusal(request.headers, kind)


__all__ = ["WALL_PAGE", "Hello", "Wall", "header_refusal", "parse_client_hello"]
