"""What to go on when TikTok changes: request logs, kept pages, the answer that did not parse.

- Every request the client sends is logged on the ``tikget_tui.tiktok.http`` logger
  (method, URL with signed query values redacted, status, bytes, time); ``-v`` shows it.
- ``--write-pages DIR`` (:func:`configure`) keeps every page and API answer in DIR.
- :func:`keeps_answer` wraps the client's public look-ups: when one raises
  :class:`MalformedResponse`, the last page/API answer of that look-up is saved under
  ``CACHE_DIR/answers/`` and the one-line reason says where and what to attach to a report.

Saved answers and kept pages are redacted: cookie values (``Set-Cookie``/``Cookie``),
tokens (``tt_chain_token``, ``msToken``, ``ttwid``, ``tt_csrf_token``...) and URL
signatures (``signature``, ``x-signature``, ``tk``, ``X-Bogus``...) are replaced by
``REDACTED``. No textual import here.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from tikget_tui.private import private_dir, write_private
from tikget_tui.tiktok.errors import MalformedResponse, TikTokError

if TYPE_CHECKING:  # annotations only: the app loads this before its first frame, httpx after
    import httpx

log = logging.getLogger("tikget_tui.tiktok.http")

REDACTED = "REDACTED"
ANSWERS_FOLDER = "answers"
KEEP_ANSWERS = 50  # older saved answers are removed
ISSUES_HINT = "attach it to a bug report"
# query parameters whose values sign a URL or identify a session (lower case)
SIGNED_PARAMS = frozenset({
    "signature", "x-signature", "_signature", "x-bogus", "a_bogus", "x-gnarly", "mstoken",
    "tk", "verifyfp", "s_v_web_id", "policy",
})
SECRET_COOKIES = ("tt_chain_token", "tt_csrf_token", "ttwid", "mstoken", "s_v_web_id",
                  "sessionid", "sid_tt", "sid_guard", "odin_tt", "passport_csrf_token",
                  "tt-target-idc", "csrf_session_id", "verifyfp")
_SIGNED_IN_TEXT = re.compile(
    r"((?:[?&]|\\u0026|&amp;)(?:" + "|".join(re.escape(p) for p in sorted(SIGNED_PARAMS))
    + r")=)[^&\"'\s\\<>]+", re.IGNORECASE)
_COOKIE_IN_TEXT = re.compile(
    r"((?:" + "|".join(re.escape(c) for c in SECRET_COOKIES)
    + r")(?:\"\s*:\s*\"|=|\\\"\s*:\s*\\\"))[^\"'\s;&\\<>,]+", re.IGNORECASE)
_SECRET_HEADERS = frozenset({"set-cookie", "cookie", "authorization", "x-tt-token"})


@dataclass(frozen=True)
class Answer:
    """One page/API answer as it arrived (the body already read)."""

    method: str
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed: float


_last_answer: contextvars.ContextVar[Answer | None] = contextvars.ContextVar(
    "tikget_last_answer", default=None)
_pages_dir: Path | None = None
_pages_counter = itertools.count(1)


def configure(*, write_pages: Path | None = None) -> None:
    """Keep every page and API answer in ``write_pages`` (None: keep none)."""
    global _pages_dir, _pages_counter
    _pages_dir = write_pages.expanduser() if write_pages is not None else None
    _pages_counter = itertools.count(1)


def pages_dir() -> Path | None:
    return _pages_dir


# -- redaction -------------------------------------------------------------------------------

def redact_url(url: str) -> str:
    """``url`` with the values of signed/session query parameters replaced by REDACTED."""
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return _SIGNED_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, url)
    if not pairs:
        return url
    query = "&".join(
        f"{quote(k, safe='')}={REDACTED if k.lower() in SIGNED_PARAMS else quote(v, safe='')}"
        for k, v in pairs)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Signed URL values and token/cookie values inside a page or JSON body, redacted."""
    text = _SIGNED_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return _COOKIE_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


def redact_header(name: str, value: str) -> str:
    low = name.lower()
    if low == "set-cookie":
        cookie_name = value.split("=", 1)[0].strip()
        attrs = value.split(";", 1)[1].strip() if ";" in value else ""
        return f"{cookie_name}={REDACTED}" + (f"; {attrs}" if attrs else "")
    if low in _SECRET_HEADERS:
        return REDACTED
    if low in ("location", "content-location", "referer"):
        return redact_url(value)
    return value


def render(answer: Answer, *, error: str = "") -> str:
    """A saved answer: a few ``#`` lines (request, status, headers), a blank line, the body."""
    from tikget_tui import __version__

    lines = [f"# tikget {__version__}: a TikTok answer, redacted (cookies, tokens, signatures)"]
    if error:
        lines.append(f"# error: {error}")
    lines.append(f"# request: {answer.method} {redact_url(answer.url)}")
    lines.append(f"# status: {answer.status}, {len(answer.body)} bytes, {answer.elapsed:.3f} s")
    for name, value in answer.headers:
        lines.append(f"# {name}: {redact_header(name, value)}")
    body = answer.body.decode("utf-8", errors="replace")
    return "\n".join(lines) + "\n\n" + redact_text(body)


def _slug(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    slug = re.sub(r"[^A-Za-z0-9._@-]+", "_", path.strip("/"))[:60].strip("_.")
    return slug or "home"


# -- the client's hooks ------------------------------------------------------------------------

def record(method: str, url: str, response: httpx.Response, started: float, *,
           streamed: bool) -> None:
    """Log one answered request; keep a page/API answer for :func:`keeps_answer` and
    ``--write-pages``. Called by the client right after ``send`` (media are streamed:
    their bytes are what Content-Length says)."""
    elapsed = time.monotonic() - started
    shown = redact_url(url)
    if streamed:
        size = response.headers.get("content-length")
        log.info("%s %s -> %s, %s bytes (streamed), %.3f s", method, shown,
                 response.status_code, size if size is not None else "?", elapsed)
        return
    body = response.content
    log.info("%s %s -> %s, %d bytes, %.3f s", method, shown, response.status_code, len(body),
             elapsed)
    answer = Answer(method, url, response.status_code, tuple(response.headers.multi_items()),
                    body, elapsed)
    _last_answer.set(answer)
    if _pages_dir is not None:
        name = f"{next(_pages_counter):04d}-{_slug(url)}.txt"
        try:
            if not _pages_dir.is_dir():  # a folder the user named: made private, never changed
                _pages_dir.parent.mkdir(parents=True, exist_ok=True)
                _pages_dir.mkdir(mode=0o700, exist_ok=True)
            write_private(_pages_dir / name, render(answer))
        except OSError as exc:
            log.warning("cannot keep the page in %s: %s", _pages_dir, exc.strerror or exc)


def failed(method: str, url: str, exc: TikTokError, started: float) -> None:
    log.info("%s %s -> failed after %.3f s: %s", method, redact_url(url),
             time.monotonic() - started, exc.reason)


def save_answer(cache_dir: Path, answer: Answer, error: str) -> Path:
    """Write ``answer`` (redacted) under ``cache_dir/answers/``; the newest KEEP_ANSWERS stay."""
    folder = cache_dir / ANSWERS_FOLDER
    private_dir(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"{stamp}-{_slug(answer.url)}.txt"
    write_private(path, render(answer, error=error))
    old = sorted(folder.glob("*.txt"))[:-KEEP_ANSWERS]
    for p in old:
        p.unlink(missing_ok=True)
    return path


T = TypeVar("T")


def keeps_answer(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorate a client look-up: a MalformedResponse gets the answer saved and its reason
    names the file. The client must have ``settings.cache_dir``."""

    @functools.wraps(fn)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        token = _last_answer.set(None)
        try:
            return await fn(self, *args, **kwargs)
        except MalformedResponse as exc:
            answer = _last_answer.get()
            if answer is not None and getattr(exc, "saved_answer", None) is None:
                try:
                    path = save_answer(self.settings.cache_dir, answer, exc.reason)
                except OSError as os_exc:
                    log.warning("cannot save TikTok's answer: %s", os_exc.strerror or os_exc)
                else:
                    exc.saved_answer = path  # type: ignore[attr-defined]
                    exc.reason = (f"{exc.reason} (TikTok's answer is saved in {path}; "
                                  f"{ISSUES_HINT} with `tikget -v` output)")
                    exc.args = (exc.reason,)
                    log.warning("unexpected answer from TikTok saved in %s", path)
            raise
        finally:
            _last_answer.reset(token)

    return wrapper
