"""The proof-of-work page TikTok shows before a page ("Please wait...").

``cs.class`` is unpadded base64 of a JSON object ``c``; ``c.v.a`` is base64 of
random bytes and ``c.v.c`` base64 of ``sha256(a_bytes + str(i))`` for a secret
``i``. A solver sets ``c.d = base64(str(i))`` and stores the cookie named by
``wci.class`` holding base64 of the compact JSON of ``c``, plus the cookie named
by ``rci.class`` holding ``rs.class``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from typing import Any

COOKIE_NAME = "_wafchallengeid"
RCI_COOKIE_NAME = "waforiginalreid"
DEFAULT_WORDING = "Please wait..."


@dataclass(frozen=True)
class Challenge:
    a: bytes
    i: int
    rs: str

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.a + str(self.i).encode()).digest()

    @property
    def data(self) -> dict[str, Any]:
        return {
            "v": {
                "a": base64.b64encode(self.a).decode(),
                "b": "tt-web",
                "c": base64.b64encode(self.digest).decode(),
            },
            "s": secrets.token_hex(8),
            "e": "web",
        }

    def html(self, wording: str = DEFAULT_WORDING, padding: int = 0) -> str:
        """The page; ``wording`` is its visible text (TikTok's varies), ``padding`` the
        bytes of inline script TikTok's bigger variants carry (over 64 KiB at times)."""
        blob = base64.b64encode(json.dumps(self.data, separators=(",", ":")).encode())
        cs = blob.decode().rstrip("=")
        words = html.escape(wording)
        filler = f"<script>/*{'x' * padding}*/</script>" if padding > 0 else ""
        return (
            f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{words}</title>"
            f"</head><body><p>{words}</p>{filler}"
            f'<div id="cs" class="{cs}"></div>'
            f'<div id="wci" class="{COOKIE_NAME}"></div>'
            f'<div id="rci" class="{RCI_COOKIE_NAME}"></div>'
            f'<div id="rs" class="{self.rs}"></div>'
            "<script>/* the browser solves the challenge here */</script>"
            "</body></html>"
        )


def new_challenge(max_i: int) -> Challenge:
    return Challenge(a=secrets.token_bytes(16), i=secrets.randbelow(max(1, max_i)),
                     rs=secrets.token_hex(12))


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def check_solution(cookie: str, issued: dict[str, Challenge]) -> Challenge | None:
    """The issued challenge this cookie solves, or None."""
    try:
        data = json.loads(_b64decode(cookie))
        a = str(data["v"]["a"])
        answer = _b64decode(str(data["d"])).decode("ascii")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    challenge = issued.get(a)
    if challenge is None or answer != str(challenge.i):
        return None
    if data["v"].get("c") != base64.b64encode(challenge.digest).decode():
        return None
    return challenge
