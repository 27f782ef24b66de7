"""TikTok's proof-of-work page ("Please wait...", or other words), as every browser solves it.

The page (HTTP 200, no rehydration script) carries elements ``cs``,
``wci``, ``rci`` and ``rs`` whose ``class`` attributes hold the puzzle:
``cs.class`` is unpadded base64 of a JSON object ``c`` where ``c.v.a`` is
base64 bytes and ``c.v.c`` a base64 SHA-256 digest. The answer is the integer
``i`` in 0..1,000,000 with ``sha256(a + str(i)) == c``. The browser then sets
``c.d = base64(str(i))``, stores cookie ``<wci.class>`` = base64 of the compact
JSON of ``c`` (and ``<rci.class>`` = ``rs.class``) and loads the page again.
This is not an access control: it is what any visitor's browser does.

Peers (2026) know the page by its elements, not by its words or its size: any
page without the rehydration JSON that has ``cs`` and ``wci`` elements is one
(its size is bounded by ``settings.max_page_bytes`` like every page). The
answer cookies live :data:`COOKIE_LIFE` seconds at most and the client drops
them after the one retry they are for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from tikget_tui.tiktok.errors import ChallengeFailed

MAX_ANSWER = 1_000_000
COOKIE_LIFE = 120  # seconds: what peers give the answer cookies (seconds to two minutes)
_IDS = ("cs", "wci", "rci", "rs")


def _element_id(name: str) -> re.Pattern[str]:
    """``id="NAME"`` / ``id='NAME'`` / ``id=NAME`` in a start tag (not ``id="NAME-x"``)."""
    return re.compile(rf"""\bid\s*=\s*(?:"{name}"|'{name}'|{name}(?=[\s/>]))""", re.IGNORECASE)


_CS_ID = _element_id("cs")
_WCI_ID = _element_id("wci")


@dataclass(frozen=True)
class Challenge:
    cs: str  # unpadded base64 JSON of c
    wci: str  # cookie name for the answer
    rci: str | None = None  # second cookie name
    rs: str | None = None  # second cookie value


@dataclass(frozen=True)
class Solution:
    answer: int
    cookies: dict[str, str]  # name -> value to set before retrying


class _ClassById(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        ident = values.get("id", "").strip().lower()
        if ident in _IDS and ident not in self.found and "class" in values:
            self.found[ident] = values["class"].strip()

    handle_startendtag = handle_starttag


def looks_like_challenge(status: int, body: str) -> bool:
    """Cheap test on a page response: is this the proof-of-work page?

    Whatever its words ("Please wait...", "Checking your browser", another language) and
    its size: no rehydration JSON, and elements with ids ``cs`` and ``wci``."""
    if status != 200:
        return False
    if "__UNIVERSAL_DATA_FOR_REHYDRATION__" in body:
        return False
    return _CS_ID.search(body) is not None and _WCI_ID.search(body) is not None


# a start tag carrying one of the puzzle's ids (the only tags the parser needs to see)
_PUZZLE_TAG = re.compile(
    r"""<[A-Za-z][^<>]*?\bid\s*=\s*(?:"(?:cs|wci|rci|rs)"|'(?:cs|wci|rci|rs)'"""
    r"""|(?:cs|wci|rci|rs)(?=[\s/>]))[^<>]*>""", re.IGNORECASE)


def parse_challenge(body: str) -> Challenge | None:
    """The puzzle on a challenge page, or None when the page is not one.

    Only the start tags carrying the puzzle's ids are parsed (a page may be megabytes of
    other markup; parsing all of it would hold the event loop for seconds)."""
    tags = "".join(m.group(0) for m in _PUZZLE_TAG.finditer(body))
    parser = _ClassById()
    try:
        parser.feed(tags)
        parser.close()
    except Exception:  # html.parser is lenient; be safe against odd input anyway
        return None
    found = parser.found
    if not found.get("cs") or not found.get("wci"):
        return None
    return Challenge(cs=found["cs"], wci=found["wci"], rci=found.get("rci") or None,
                     rs=found.get("rs"))


def _b64decode(text: str) -> bytes:
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, altchars=b"-_" if ("-" in cleaned or "_" in cleaned)
                                else None, validate=False)
    except (binascii.Error, ValueError):
        raise ChallengeFailed(
            "TikTok's 'please wait' page could not be read (bad base64); try again later"
        ) from None


def decode_puzzle(challenge: Challenge) -> tuple[dict[str, Any], bytes, bytes]:
    """``(c, a, digest)`` from the page, or ChallengeFailed."""
    try:
        c = json.loads(_b64decode(challenge.cs).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChallengeFailed(
            "TikTok's 'please wait' page could not be read (bad JSON); try again later"
        ) from None
    v = c.get("v") if isinstance(c, dict) else None
    if not isinstance(v, dict) or not isinstance(v.get("a"), str) or not isinstance(
        v.get("c"), str
    ):
        raise ChallengeFailed(
            "TikTok's 'please wait' page has an unknown puzzle shape; update tikget or try later"
        )
    assert isinstance(c, dict)
    return c, _b64decode(v["a"]), _b64decode(v["c"])


def find_answer(prefix: bytes, digest: bytes, limit: int = MAX_ANSWER) -> int | None:
    """The ``i`` in 0..limit with ``sha256(prefix + str(i)) == digest`` (CPU-bound)."""
    base = hashlib.sha256(prefix)
    for i in range(limit + 1):
        h = base.copy()
        h.update(str(i).encode("ascii"))
        if h.digest() == digest:
            return i
    return None


def solve(challenge: Challenge, limit: int = MAX_ANSWER) -> Solution:
    """Solve the puzzle (synchronous; run it in a thread)."""
    c, prefix, digest = decode_puzzle(challenge)
    answer = find_answer(prefix, digest, limit)
    if answer is None:
        raise ChallengeFailed(
            "TikTok's 'please wait' puzzle has no answer in the usual range; try again later"
        )
    c = dict(c)
    c["d"] = base64.b64encode(str(answer).encode("ascii")).decode("ascii")
    value = base64.b64encode(
        json.dumps(c, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).decode("ascii")
    cookies = {challenge.wci: value}
    if challenge.rci and challenge.rs is not None:
        cookies[challenge.rci] = challenge.rs
    return Solution(answer=answer, cookies=cookies)
