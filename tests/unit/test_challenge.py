"""The 'Please wait...' proof-of-work solver, against pages built from the protocol notes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tikget_tui.tiktok import challenge as chal
from tikget_tui.tiktok.errors import ChallengeFailed


def build_page(answer: int, *, a: bytes = b"\x01\x02tiktok-salt", rs: str | None = "rs-token",
               class_first: bool = False, extra: str = "") -> str:
    digest = hashlib.sha256(a + str(answer).encode()).digest()
    c = {"v": {"a": base64.b64encode(a).decode(), "b": "x", "c": base64.b64encode(digest).decode()},
         "s": "abc", "e": "web"}
    cs = base64.b64encode(json.dumps(c).encode()).decode().rstrip("=")

    def el(ident: str, cls: str) -> str:
        if class_first:
            return f"<div class='{cls}' id='{ident}'></div>"
        return f'<div id="{ident}" class="{cls}"></div>'

    parts = [el("cs", cs), el("wci", "_wafchallengeid"), el("rci", "waforiginalreid")]
    if rs is not None:
        parts.append(el("rs", rs))
    return ("<html><head><title>Please wait...</title></head><body>Please wait..."
            + "".join(parts) + extra + "</body></html>")


def decode_cookie(value: str) -> dict[str, object]:
    data = json.loads(base64.b64decode(value))
    assert isinstance(data, dict)
    return data


def test_detects_the_challenge_page_and_not_real_pages() -> None:
    page = build_page(7)
    assert chal.looks_like_challenge(200, page)
    assert not chal.looks_like_challenge(403, page)
    real = ('<html><body>Please wait <div id="cs" class="x"></div><script id="'
            '__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{}</script></body></html>')
    assert not chal.looks_like_challenge(200, real)
    assert not chal.looks_like_challenge(200, "<html>Please wait</html>")
    assert not chal.looks_like_challenge(200, '<html><div id="cs" class="x"></div></html>')
    assert not chal.looks_like_challenge(
        200, '<html><div id="cs-menu" class="x"></div><i id="wci-old"></i></html>')
    assert chal.looks_like_challenge(200, "<html><div id=cs class=x></div><p id=wci></p></html>")


def test_detected_by_its_elements_whatever_the_words_and_the_size() -> None:
    """2026 variants: other wording, and pages over 64 KiB of inline script."""
    other = build_page(7).replace("Please wait...", "Checking your browser")
    assert "Please wait" not in other
    assert chal.looks_like_challenge(200, other)
    big = build_page(7, extra="<script>/*" + "x" * 200_000 + "*/</script>")
    assert len(big) > 64 * 1024 and chal.looks_like_challenge(200, big)
    puzzle = chal.parse_challenge(big)
    assert puzzle is not None and chal.solve(puzzle).answer == 7


def test_solves_and_builds_the_cookies() -> None:
    page = build_page(123_456)
    puzzle = chal.parse_challenge(page)
    assert puzzle == chal.Challenge(cs=puzzle.cs if puzzle else "", wci="_wafchallengeid",
                                    rci="waforiginalreid", rs="rs-token")
    assert puzzle is not None
    solution = chal.solve(puzzle)
    assert solution.answer == 123_456
    assert set(solution.cookies) == {"_wafchallengeid", "waforiginalreid"}
    assert solution.cookies["waforiginalreid"] == "rs-token"
    data = decode_cookie(solution.cookies["_wafchallengeid"])
    assert base64.b64decode(str(data["d"])) == b"123456"
    # the original fields are kept, compact JSON, d added at top level
    assert data["s"] == "abc" and data["e"] == "web"
    raw = base64.b64decode(solution.cookies["_wafchallengeid"]).decode()
    assert ", " not in raw and ": " not in raw


@pytest.mark.parametrize("answer", [0, 1, 999_999, 1_000_000])
def test_answers_at_the_edges_of_the_range(answer: int) -> None:
    puzzle = chal.parse_challenge(build_page(answer))
    assert puzzle is not None
    assert chal.solve(puzzle).answer == answer


def test_attribute_order_and_missing_rs() -> None:
    puzzle = chal.parse_challenge(build_page(42, rs=None, class_first=True))
    assert puzzle is not None and puzzle.rs is None
    solution = chal.solve(puzzle)
    assert list(solution.cookies) == ["_wafchallengeid"]


def test_unquoted_attributes() -> None:
    page = build_page(99).replace('"', "")
    assert chal.looks_like_challenge(200, page)
    puzzle = chal.parse_challenge(page)
    assert puzzle is not None and chal.solve(puzzle).answer == 99


def test_no_answer_in_range_is_a_clear_failure() -> None:
    puzzle = chal.parse_challenge(build_page(5000))
    assert puzzle is not None
    with pytest.raises(ChallengeFailed) as info:
        chal.solve(puzzle, limit=100)
    assert "try again" in info.value.reason
    assert info.value.retryable


@pytest.mark.parametrize(
    "cs",
    [
        "!!!not-base64!!!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b'{"v": "x"}').decode(),
        base64.b64encode(b'{"v": {"a": 1, "c": "x"}}').decode(),
        base64.b64encode(b"[1, 2]").decode(),
    ],
)
def test_broken_puzzles_raise_challenge_failed(cs: str) -> None:
    page = (f'<html>Please wait...<div id="cs" class="{cs}"></div>'
            '<div id="wci" class="w"></div></html>')
    puzzle = chal.parse_challenge(page)
    assert puzzle is not None
    with pytest.raises(ChallengeFailed):
        chal.solve(puzzle, limit=10)


def test_page_without_the_elements_is_not_a_puzzle() -> None:
    assert chal.parse_challenge("<html>Please wait...</html>") is None
    assert chal.parse_challenge('<div id="cs" class="abc"></div>') is None
