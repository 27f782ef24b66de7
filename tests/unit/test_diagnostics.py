"""Redaction of what the diagnostics keep: URLs, headers, page and JSON bodies."""

from __future__ import annotations

from tikget_tui.tiktok.diagnostics import (
    REDACTED,
    Answer,
    redact_header,
    redact_text,
    redact_url,
    render,
)

MEDIA = ("https://v16-webapp.tiktok.com/video/tos/useast2a/o123/?a=1988&bti=NEB&expire=1795"
         "&signature=9f86d081884c7d65&tk=tt_chain_token&l=2026")


def test_signed_query_values_are_redacted_the_rest_kept() -> None:
    shown = redact_url(MEDIA)
    assert "signature=REDACTED" in shown and "tk=REDACTED" in shown
    assert "9f86d081884c7d65" not in shown
    assert "expire=1795" in shown and "a=1988" in shown and shown.startswith(
        "https://v16-webapp.tiktok.com/video/tos/useast2a/o123/?")
    api = redact_url("http://127.0.0.1:1/api/story/item_list/?authorId=68&verifyFp=verify_abc"
                     "&msToken=xyz&X-Bogus=DFS&device_id=7")
    assert "verifyFp=REDACTED" in api and "msToken=REDACTED" in api and "X-Bogus=REDACTED" in api
    assert "verify_abc" not in api and "xyz" not in api and "authorId=68" in api
    assert redact_url("https://www.tiktok.com/@mika") == "https://www.tiktok.com/@mika"


def test_tokens_and_signed_urls_inside_bodies_are_redacted() -> None:
    body = ('{"playAddr":"https://v16.tiktokcdn.com/x?expire=1\\u0026signature=SIGSECRET'
            '\\u0026tk=tt_chain_token","tt_chain_token":"CHAINSECRET",'
            '"imageURL":"https://p16.tiktokcdn.com/i.jpeg?x-expires=1&x-signature=IMGSECRET"}'
            ' <script>document.cookie="ttwid=TTWIDSECRET; path=/"; msToken=MSSECRET</script>')
    shown = redact_text(body)
    for secret in ("SIGSECRET", "CHAINSECRET", "IMGSECRET", "TTWIDSECRET", "MSSECRET"):
        assert secret not in shown, secret
    assert shown.count(REDACTED) >= 5
    assert '"playAddr":"https://v16.tiktokcdn.com/x?expire=1' in shown  # still readable


def test_headers() -> None:
    assert redact_header("Set-Cookie", "ttwid=1%7Cabc; Path=/; HttpOnly") == (
        "ttwid=REDACTED; Path=/; HttpOnly")
    assert redact_header("Cookie", "a=b; c=d") == REDACTED
    assert "signature=REDACTED" in redact_header("Location", MEDIA)
    assert redact_header("Content-Type", "text/html") == "text/html"


def test_render_names_the_request_and_the_error() -> None:
    answer = Answer("GET", MEDIA, 200, (("set-cookie", "tt_chain_token=SECRET; Path=/"),),
                    b"<html>no data</html>", 0.25)
    text = render(answer, error="the page carries no data")
    head, _, body = text.partition("\n\n")
    assert "# error: the page carries no data" in head
    assert "# request: GET " in head and "signature=REDACTED" in head
    assert "# status: 200, 20 bytes" in head
    assert "# set-cookie: tt_chain_token=REDACTED; Path=/" in head
    assert "SECRET" not in text and body == "<html>no data</html>"
