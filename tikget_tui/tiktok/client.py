"""The TikTok web client: pages, the story API, short links and media, politely.

One :class:`TikTokClient` is one browser-like session: one ``httpx.AsyncClient``
(HTTP/1.1), one cookie jar (``ttwid``, ``tt_csrf_token``, ``tt_chain_token``,
the challenge cookies), one device id. Redirects are followed by hand so every
hop can be checked against :meth:`Service.accepts_url`. Pages and API calls
are spaced by ``settings.api_min_interval`` and retried with exponential
backoff and jitter on network errors, 5xx, 429 and empty bodies; media
requests are a thin primitive (:meth:`TikTokClient.open_media`) on which the
download engine builds resume and retry.

Public content only: no browser cookies are imported, no credentials are
sent, nobody is asked for a password. A login wall is reported as "not
public" and never worked around.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.links import PostTarget, ShortLink, UserTarget
from tikget_tui.models import AGE_GATED, Creator, Story, StoryList
from tikget_tui.tiktok import challenge as chal
from tikget_tui.tiktok import diagnostics, parse
from tikget_tui.tiktok.browser import CHROME, Browser, Kind
from tikget_tui.tiktok.errors import (
    AgeRestricted,
    BotWall,
    ChallengeFailed,
    LoginRequired,
    MalformedResponse,
    MediaError,
    MediaExpired,
    MediaForbidden,
    MediaNotFound,
    NetworkError,
    PostUnavailable,
    PrivateAccount,
    RangeNotSatisfiable,
    RefusedHost,
    SlowServer,
    Throttled,
    TikTokError,
    TooLarge,
    UserNotFound,
)
from tikget_tui.tiktok.impersonate import connection_mode
from tikget_tui.tiktok.limits import RateFloor, read_capped
from tikget_tui.tiktok.parse import header_url, path_part
from tikget_tui.tiktok.politeness import HostLimiter, Pacer, Sleep, backoff_delay
from tikget_tui.tiktok.transport import MEDIA, AiohttpMediaTransport, RoutingTransport

log = logging.getLogger(__name__)

BROWSER_UA = CHROME.user_agent  # the one browser: tiktok/browser.py
STORY_PAGE_SIZE = 5
MAX_STORY_PAGES = 30  # 150 stories: far more than anyone posts in 24 h
FRESH_DEVICES = 3  # fresh device ids tried when the story list repeats a page
# The device ids the web app really issues (peers, 2026); ids outside are linked to
# repeated pages of the story list.
DEVICE_ID_MIN = 7_250_000_000_000_000_000
DEVICE_ID_MAX = 7_325_099_899_999_994_577
MAX_REDIRECTS = 8
SHORT_HOST_ATTEMPTS = 2  # tries at vm.tiktok.com before its codes are tried at vt.tiktok.com
MAX_RETRY_AFTER = 120.0  # longer waits are reported, not slept through
_REDIRECTS = (301, 302, 303, 307, 308)


_POST_PATH_RE = re.compile(
    r"^/(?:@(?P<user>[^/]*)/)?(?:share/)?(?:video|photo|v)/(?P<id>[0-9]{5,25})(?:\.html)?/?$"
)


def new_device_id() -> str:
    """A random 19-digit device id in the range the web app issues (DEVICE_ID_MIN..MAX)."""
    return str(DEVICE_ID_MIN + secrets.randbelow(DEVICE_ID_MAX - DEVICE_ID_MIN + 1))


def new_verify_fp() -> str:
    return "verify_" + secrets.token_hex(4)[:7]


def web_params(device_id: str, verify_fp: str) -> dict[str, str]:
    """The fixed query parameters every TikTok web API call carries."""
    return {
        "aid": "1988",
        "app_name": "tiktok_web",
        "device_platform": "web_pc",
        "channel": "tiktok_web",
        "app_language": "en",
        "browser_language": "en-US",
        "browser_name": "Mozilla",
        "browser_online": "true",
        "browser_platform": "Win32",
        "browser_version": "5.0 (Windows)",
        "cookie_enabled": "true",
        "focus_state": "true",
        "from_page": "user",
        "history_len": "2",
        "is_fullscreen": "false",
        "is_page_visible": "true",
        "language": "en",
        "os": "windows",
        "priority_region": "",
        "referer": "",
        "region": "US",
        "screen_height": "1080",
        "screen_width": "1920",
        "tz_name": "UTC",
        "webcast_language": "en",
        "device_id": device_id,
        "verifyFp": verify_fp,
    }


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _shown_host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or url
    except ValueError:
        host = url
    return repr(host[:80])


def _join(base: str, location: str) -> str:
    """Resolve a Location header; nonsense becomes MalformedResponse, not ValueError."""
    try:
        target = urljoin(base, location.strip())
        urlsplit(target).port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise MalformedResponse(
            f"TikTok redirected to an unreadable address {location[:80]!r}; try again later"
        ) from None
    return target


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        import time as _time

        seconds = when.timestamp() - _time.time()
    if seconds != seconds:
        return None
    return max(0.0, min(seconds, 24 * 3600.0))


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes a-b/total`` → (a, b, total or None)."""
    if not value:
        return None
    m = re.fullmatch(r"\s*bytes\s+([0-9]+)-([0-9]+)/([0-9]+|\*)\s*", value, re.ASCII)
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), int(m.group(2)), total


class MediaResponse:
    """An open media response (status 200 or 206), body not yet read."""

    def __init__(self, response: httpx.Response, url: str, requested_start: int,
                 floor: RateFloor | None = None) -> None:
        self._response = response
        self.url = url
        self.status = response.status_code
        self.headers = response.headers
        self.requested_start = requested_start
        length = response.headers.get("content-length", "")
        self.content_length: int | None = (int(length) if length.isascii() and length.isdigit()
                                           else None)
        cr = _content_range(response.headers.get("content-range"))
        if self.status == 206 and cr is not None:
            self.range_start = cr[0]
            self.total_size: int | None = cr[2]
        else:
            # the server ignored Range (or none was sent): the body starts at byte 0
            self.range_start = 0
            self.total_size = self.content_length
        self.content_type = response.headers.get("content-type", "")
        self._floor = floor

    @property
    def content_range_start(self) -> int:
        return self.range_start

    async def aiter_bytes(self, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """The body as it arrives; a dropped connection becomes NetworkError."""
        floor = self._floor
        try:
            async for chunk in self._response.aiter_raw(chunk_size):
                if floor is not None:
                    floor.add(len(chunk))  # NetworkError under min_media_rate
                yield chunk
        except httpx.TimeoutException:
            raise NetworkError(
                "the media download stalled (timed out); it will resume from where it stopped"
            ) from None
        except (httpx.TransportError, httpx.StreamError):
            raise NetworkError(
                "the connection dropped during the download; it will resume from where it stopped"
            ) from None


@dataclass
class _Fetched:
    response: httpx.Response
    url: str  # final URL after redirects


class TikTokClient:
    """A polite, typed client of TikTok's public web (or of the stand-in).

    ``sleep`` (default ``asyncio.sleep``) and ``backoff_base`` (seconds, default
    1.0) exist so tests can make retries instant; ``max_attempts`` defaults to
    ``settings.max_retries``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = SYSTEM_CLOCK,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        backoff_base: float = 1.0,
        max_attempts: int | None = None,
    ) -> None:
        self.settings = settings
        self.service = settings.service
        self.clock = clock
        self._transport = transport
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self.backoff_base = max(0.0, backoff_base)
        self.max_attempts = max(1, max_attempts if max_attempts is not None else
                                settings.max_retries)
        self.limiter = HostLimiter(settings.per_host_concurrency)
        self.pacer = Pacer(settings.api_min_interval, self._sleep)
        self.device_id = new_device_id()
        self.verify_fp = new_verify_fp()
        self.browser: Browser = CHROME
        self.impersonating = connection_mode(settings.impersonate) != "off"
        """Pages and API calls go over the browser's own TLS/HTTP2 (curl-cffi); False with
        ``impersonate = "off"`` or where curl-cffi cannot be imported."""
        self.max_story_pages = MAX_STORY_PAGES
        self.challenges_solved = 0
        self.auto_session = True  # open_media fetches the home page once if no page was seen
        self._session_ready = False
        self._http: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> TikTokClient:
        self._client()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            t = float(self.settings.request_timeout)
            self._http = HttpClient(
                browser=self.browser,
                impersonate=self.impersonating,
                max_page_bytes=int(self.settings.max_page_bytes),
                request_deadline=float(self.settings.request_deadline),
                http1=True,
                http2=False,
                follow_redirects=False,
                timeout=httpx.Timeout(t, connect=min(t, 15.0)),
                headers={"User-Agent": self.browser.user_agent,
                         "Accept-Language": self.browser.accept_language},
                transport=self._transport,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
        return self._http

    @property
    def cookies(self) -> httpx.Cookies:
        """The session's cookie jar (read-only use, e.g. for diagnostics)."""
        return self._client().cookies

    def regenerate_device(self) -> None:
        self.device_id = new_device_id()
        self.verify_fp = new_verify_fp()

    # ------------------------------------------------------------------ low level

    def _check(self, url: str, *, redirect: bool = False) -> None:
        try:
            accepted = self.service.accepts_url(url)
        except ValueError:
            accepted = False
        if not accepted:
            if url[:7].lower() == "http://" and self.service.accepts_url("https://" + url[7:]):
                what = "a redirect" if redirect else "to fetch"
                raise RefusedHost(f"refused {what} over plain http (TikTok is used over https "
                                  f"only): {_shown_host(url)}")
            if redirect:
                raise RefusedHost(f"refused redirect to a host outside TikTok: {_shown_host(url)}")
            raise RefusedHost(f"refused to fetch a URL outside TikTok: {_shown_host(url)}")

    async def _send_once(
        self, method: str, url: str, headers: dict[str, str], *, stream: bool = False
    ) -> httpx.Response:
        """:meth:`_send_raw`, logged (``-v``) and kept for diagnostics (``--write-pages``,
        the answer saved on MalformedResponse); see :mod:`tikget_tui.tiktok.diagnostics`."""
        started = time.monotonic()
        try:
            response = await self._send_raw(method, url, headers, stream=stream)
        except TikTokError as exc:
            diagnostics.failed(method, url, exc, started)
            raise
        diagnostics.record(method, url, response, started, streamed=stream)
        return response

    async def _send_raw(
        self, method: str, url: str, headers: dict[str, str], *, stream: bool = False
    ) -> httpx.Response:
        """One request, no redirects, within ``settings.request_deadline`` (a streamed one:
        until the headers); network failures become NetworkError. A body that is not
        streamed is read here, decoded within ``settings.max_page_bytes``."""
        self._check(url)
        deadline = float(self.settings.request_deadline)
        try:
            async with asyncio.timeout(deadline):
                return await self._send_within(method, url, headers, stream=stream)
        except TimeoutError:
            raise SlowServer(
                f"{_shown_host(url)} took more than {deadline:g} s to answer "
                "(request_deadline); try again later") from None

    async def _send_within(
        self, method: str, url: str, headers: dict[str, str], *, stream: bool
    ) -> httpx.Response:
        http = self._client()
        try:
            # a streamed body is a media file: aiohttp's transport (tiktok/transport.py)
            request = http.build_request(method, url, headers=headers,
                                         extensions={MEDIA: True} if stream else None)
            response = await http.send(request, stream=True)
            if stream:
                return response
            what = "an answer" if "/api/" in url else "a page"
            limit = int(self.settings.max_page_bytes)
            if response.is_stream_consumed:  # an in-memory transport (tests) read it already
                if len(response.content) > limit:
                    raise TooLarge(f"TikTok sent {what} larger than the limit "
                                   "(max_page_bytes); refusing it")
                return response
            try:
                body = await read_capped(response.aiter_raw(),
                                         response.headers.get("content-encoding", ""),
                                         limit, what)
            finally:
                await response.aclose()
            kept = [(k, v) for k, v in response.headers.multi_items()
                    if k.lower() not in ("content-encoding", "content-length",
                                         "transfer-encoding")]
            return httpx.Response(response.status_code, headers=kept, content=body,
                                  request=request)
        except httpx.TimeoutException:
            raise NetworkError("TikTok did not answer in time; check the connection and retry") \
                from None
        except httpx.InvalidURL:
            raise RefusedHost(f"refused to fetch an invalid URL: {url[:80]!r}") from None
        except (UnicodeEncodeError, httpx.LocalProtocolError):
            # never retried as "could not reach": the same text would fail the same way
            raise RefusedHost(
                f"refused to send a request to {_shown_host(url)} carrying characters HTTP "
                "headers cannot hold; this is a bug in tikget, please report it") from None
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise NetworkError(
                f"could not reach {_shown_host(url)} ({type(exc).__name__}); "
                "check the connection and retry"
            ) from None

    async def _follow(
        self, url: str, headers: dict[str, str], *, method: str = "GET"
    ) -> _Fetched:
        """GET/HEAD following redirects by hand; every hop must be a TikTok URL."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            async with self.limiter.slot(_host_of(current)):
                response = await self._send_once(method, current, headers)
            if response.status_code not in _REDIRECTS:
                return _Fetched(response, current)
            location = response.headers.get("location")
            if not location:
                return _Fetched(response, current)
            target = _join(current, location)
            if urlsplit(target).path.rstrip("/").endswith("/login"):
                raise LoginRequired(
                    "TikTok shows this only to logged-in users, so it is not public; skipped"
                )
            self._check(target, redirect=True)
            current = target
        raise MalformedResponse("TikTok redirected too many times; try again later")

    async def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        *,
        expect_body: bool = True,
        follow: bool = True,
        method: str = "GET",
        attempts: int | None = None,
    ) -> _Fetched:
        """A paced page/API request with bounded retries (network, 5xx, 429, empty body);
        ``attempts`` (at most ``max_attempts``) when a quicker give-up has a fallback."""
        last: TikTokError = NetworkError()
        slow = 0
        tries = min(attempts, self.max_attempts) if attempts else self.max_attempts
        for attempt in range(tries):
            await self.pacer.wait()
            delay = backoff_delay(attempt, self.backoff_base)
            try:
                if follow:
                    fetched = await self._follow(url, headers, method=method)
                else:
                    async with self.limiter.slot(_host_of(url)):
                        fetched = _Fetched(await self._send_once(method, url, headers), url)
            except SlowServer as exc:
                slow += 1
                if slow > 1:  # once more at most: a deadline is long already
                    raise
                last = exc
            except NetworkError as exc:
                last = exc
            else:
                status = fetched.response.status_code
                if status == 429:
                    wait = _retry_after(fetched.response.headers.get("retry-after"))
                    if wait is not None and wait > MAX_RETRY_AFTER:
                        raise Throttled(
                            f"TikTok is rate-limiting us and asks to wait {int(wait)} s; "
                            "try again after that",
                            retry_after=wait,
                        )
                    last = Throttled(retry_after=wait)
                    if wait is not None:
                        delay = max(delay, wait)
                elif status >= 500:
                    last = NetworkError(
                        f"TikTok answered {status} (server trouble) several times; "
                        "try again in a few minutes"
                    )
                elif expect_body and status == 200 and not fetched.response.content.strip():
                    last = Throttled(
                        "TikTok answered with empty pages (rate-limiting); "
                        "wait a few minutes and try again"
                    )
                else:
                    return fetched
            if attempt + 1 < tries:
                log.info("retrying in %.1f s (attempt %d of %d): %s", delay, attempt + 2,
                         tries, last.reason)
                await self._sleep(delay)
        raise last

    @contextlib.contextmanager
    def _challenge_cookies(self, url: str, cookies: dict[str, str]) -> Iterator[None]:
        """The challenge's answer cookies in the jar for the requests inside the block:
        expiring :data:`~tikget_tui.tiktok.challenge.COOKIE_LIFE` seconds from now, and
        dropped when the block ends, so they never ride along on later requests."""
        host = urlsplit(url).hostname or ""
        jar = self._client().cookies.jar
        expires = int(time.time()) + chal.COOKIE_LIFE
        for name, value in cookies.items():
            jar.set_cookie(Cookie(
                version=0, name=name, value=value, port=None, port_specified=False,
                domain=host, domain_specified=False, domain_initial_dot=False, path="/",
                path_specified=True, secure=False, expires=expires, discard=True,
                comment=None, comment_url=None, rest={}))
        try:
            yield
        finally:
            for name in cookies:
                with contextlib.suppress(KeyError):
                    jar.clear(host, "/", name)

    async def _page(
        self, url: str, *, referer: str, what: str, not_found: TikTokError
    ) -> tuple[dict[str, Any], str]:
        """A page's ``__DEFAULT_SCOPE__`` (and the final URL), solving the challenge once."""
        headers = {**self.browser.headers(Kind.PAGE), "Referer": header_url(referer)}
        fetched = await self._fetch(url, headers)
        text = self._page_text(fetched, not_found, what)
        if chal.looks_like_challenge(fetched.response.status_code, text):
            puzzle = chal.parse_challenge(text)
            if puzzle is None:
                raise ChallengeFailed(
                    "TikTok's 'please wait' check page has an unknown shape; update tikget "
                    "or try again later"
                )
            solution = await asyncio.to_thread(chal.solve, puzzle)
            self.challenges_solved += 1
            log.info("solved TikTok's 'please wait' check page; asking for the page again")
            # the answer rides on this one retry only (and lives COOKIE_LIFE s at most)
            with self._challenge_cookies(fetched.url, solution.cookies):
                fetched = await self._fetch(url, headers)
            text = self._page_text(fetched, not_found, what)
            if chal.looks_like_challenge(fetched.response.status_code, text):
                raise ChallengeFailed(
                    "TikTok kept showing its 'please wait' check page after it was solved; "
                    "try again in a few minutes"
                )
        self._session_ready = True  # the page set the session cookies
        scope = parse.rehydration_scope(text)
        if scope is None:
            raise MalformedResponse(
                f"TikTok's page for {what} carries no data this version understands; "
                "try again later or update tikget"
            )
        return scope, fetched.url

    def refused(self, status: int, what: str) -> BotWall:
        """The one line for TikTok refusing the connection itself (the 2026 bot wall):
        which connection was used, and what to try instead of retrying."""
        if self.impersonating:
            how = f"impersonate = {self.settings.impersonate} ({self.browser.target})"
            other = "another network, later, or a newer tikget"
        elif self.settings.impersonate == "off":
            how = 'impersonate = "off"'
            other = 'impersonate = "chrome", another network, or later'
        else:
            how = "curl-cffi missing: plain httpx"
            other = "pip install curl-cffi, another network, or later"
        return BotWall(f"TikTok refused this client or network (HTTP {status} for {what}, "
                       f"{how}); retrying will not help: try {other}")

    def _page_text(self, fetched: _Fetched, not_found: TikTokError, what: str) -> str:
        status = fetched.response.status_code
        if status in (404, 410):
            raise not_found
        if status == 403:
            raise self.refused(status, f"the page of {what}")
        if status in _REDIRECTS:
            raise MalformedResponse("TikTok redirected without saying where; try again later")
        if status != 200:
            raise MalformedResponse(
                f"TikTok answered HTTP {status} for a page; try again later", retryable=True
            )
        try:
            return fetched.response.text
        except (UnicodeDecodeError, LookupError):
            raise MalformedResponse("TikTok sent a page that is not text; try again later") \
                from None

    async def ensure_session(self) -> None:
        """Visit the home page once, as a browser would, so the jar holds the session cookies
        (``tt_chain_token`` is what the video CDN wants)."""
        if self._session_ready:
            return
        home = self.service.url("/")
        with contextlib.suppress(MalformedResponse):  # the cookies count, not the page data
            await self._page(
                home, referer=home, what="TikTok's home page",
                not_found=MalformedResponse("TikTok's home page is missing (404); try later"),
            )
        self._session_ready = True

    # ------------------------------------------------------------------ stories

    @diagnostics.keeps_answer
    async def lookup_stories(self, user: UserTarget | str) -> StoryList:
        """The creator's active (not yet expired) stories, oldest first."""
        target = _as_user_target(user)
        what = target.display or "the creator"
        profile_url = self.service.url("/@" + path_part(target.username or target.user_id or ""))
        creator: Creator | None = None
        if target.username:
            # an all-digit @name is a username first (such handles exist): its profile
            # page gives its id; a bare number (``either``) is an author id when no such
            # user exists
            shown = "@" + target.username
            try:
                scope, _ = await self._page(
                    profile_url,
                    referer=self.service.url("/"),
                    what=shown,
                    not_found=UserNotFound(
                        f"{shown} does not exist on TikTok (misspelled or banned)"),
                )
                creator = parse.parse_user_detail(scope, shown)
            except UserNotFound:
                if not target.either:
                    raise
                log.info("no user named @%s; trying it as an author id", target.username)
        if creator is None:
            # an author id (a /share/user/ link, or a bare number no user is named):
            # the authorId already, no profile page
            creator = Creator(unique_id="", user_id=target.user_id or "")
            await self.ensure_session()
        else:
            what = creator.handle or what
        if creator.private:
            raise PrivateAccount(f"{what} is a private account; only public stories can be saved")
        stories, stopped = await self._story_items(creator, profile_url, what)
        if not creator.unique_id and stories:
            creator = stories[0].creator
        now = self.clock.now()
        active = tuple(s for s in parse.unique(stories) if not s.is_expired(now))
        shown = creator.handle or what
        reason = "" if active else f"{shown} has no active story right now"
        incomplete = ""
        if stopped:
            n = len(active)
            incomplete = (f"only {n} stor{'y' if n == 1 else 'ies'} listed: {stopped}; "
                          "there may be more, look it up again later")
            log.warning("%s: %s", shown, incomplete)
        return StoryList(creator=creator, stories=active, reason=reason, fetched_at=now,
                         incomplete=incomplete)

    async def _story_items(self, creator: Creator, profile_url: str,
                           what: str) -> tuple[list[Story], str]:
        """Every listed story, and why the paging stopped early ("" when the list ended)."""
        collected: list[Story] = []
        cursor = 0
        previous: tuple[str, ...] | None = None
        fresh = 0
        pages = 0
        while True:
            if pages >= self.max_story_pages:
                return collected, (f"the listing stopped at its limit of {pages} page"
                                   f"{'s' if pages != 1 else ''} while "
                                   "TikTok still said there were more")
            pages += 1
            data = await self._story_api(creator.user_id, cursor, profile_url)
            page = parse.parse_story_page(
                data,
                service=self.service,
                prefer_h264=self.settings.prefer_h264,
                creator=creator,
                what=what,
            )
            if previous is not None and page.item_ids and page.item_ids == previous:
                # a known failure: the API repeats a page (linked to the device id)
                if fresh >= FRESH_DEVICES:
                    return collected, ("TikTok kept sending the same page of the list "
                                       f"({fresh} fresh device ids tried)")
                fresh += 1
                log.info("the story list repeated a page; trying a fresh device id (%d of %d)",
                         fresh, FRESH_DEVICES)
                self.regenerate_device()
                pages -= 1  # the repeated page does not count towards the limit
                continue
            previous = page.item_ids or previous
            collected.extend(page.stories)
            if not page.has_more:
                return collected, ""
            if not page.item_ids:
                return collected, ("TikTok said there were more stories but sent a page "
                                   "without any")
            nxt = page.max_cursor
            if nxt is None or nxt <= cursor:
                nxt = page.last_create_ms
            if nxt is None or nxt <= cursor:
                return collected, ("TikTok said there were more stories but gave no place "
                                   "to go on from")
            cursor = nxt

    async def _story_api(self, author_id: str, cursor: int, referer: str) -> dict[str, Any]:
        params = {
            "authorId": author_id,
            "count": str(STORY_PAGE_SIZE),
            "loadBackward": "false",
            "cursor": str(cursor),
            **web_params(self.device_id, self.verify_fp),
        }
        url = self.service.url("/api/story/item_list/") + "?" + urlencode(params)
        headers = {**self.browser.headers(Kind.API), "Referer": header_url(referer)}
        fetched = await self._fetch(url, headers)
        status = fetched.response.status_code
        if status == 403:
            raise self.refused(status, "the story list (/api/)")
        if status != 200:
            raise MalformedResponse(
                f"TikTok's story list answered HTTP {status}; try again later", retryable=True
            )
        try:
            text = fetched.response.text
        except (UnicodeDecodeError, LookupError):
            text = ""
        return parse.loads_json(text, "story list")

    # ------------------------------------------------------------------ single posts

    @diagnostics.keeps_answer
    async def resolve(self, target: PostTarget | ShortLink) -> Story:
        """One post or story by id or short link."""
        hint = False
        if isinstance(target, ShortLink):
            url, hint, post_id = await self._expand_short(target)
            what = f"post {post_id}" if post_id else f"short link {target.display}"
        else:
            post_id = target.post_id
            if not _is_id(post_id):
                raise PostUnavailable(f"{post_id[:40]!r} is not a TikTok post id (digits 0-9)")
            url = self.service.url(f"/@{path_part(target.username or '')}/video/{post_id}")
            what = f"post {post_id}"
        return await self._post(url, what=what, story_hint=hint)

    async def _short_redirect(self, url: str, *, attempts: int | None = None) -> _Fetched:
        """A short link's answer (HEAD, or GET where HEAD is not allowed), not followed."""
        self._check(url)
        headers = self.browser.headers(Kind.SHORT_LINK)
        fetched = await self._fetch(url, headers, expect_body=False, follow=False, method="HEAD",
                                    attempts=attempts)
        if fetched.response.status_code in (405, 501):
            fetched = await self._fetch(url, headers, expect_body=False, follow=False,
                                        attempts=attempts)
        return fetched

    async def _expand_short(self, link: ShortLink) -> tuple[str, bool, str]:
        """(post page URL, is-story hint, post id or "") from a short link's redirect.

        A vm.tiktok.com code whose host cannot be reached (it stopped resolving on some
        networks) is tried at vt.tiktok.com, which serves the same codes."""
        url = self.service.short_link_url(link.host_kind, link.code)
        if link.host_kind != "vm":
            fetched = await self._short_redirect(url)
        else:
            try:
                fetched = await self._short_redirect(url, attempts=SHORT_HOST_ATTEMPTS)
            except NetworkError:
                other = self.service.short_link_url("vt", link.code)
                log.info("%s could not be reached; trying the code at %s", _shown_host(url),
                         _shown_host(other))
                try:
                    fetched = await self._short_redirect(other)
                except NetworkError:
                    raise NetworkError(
                        f"the short link {link.display} could not be resolved: neither "
                        "vm.tiktok.com nor vt.tiktok.com could be reached; check the "
                        "connection, or paste the post's full link") from None
                url = other
        gone = PostUnavailable(
            f"the short link {link.display} leads nowhere: the post is gone (removed or expired)"
        )
        location = fetched.response.headers.get("location", "").strip()
        if fetched.response.status_code not in _REDIRECTS or not location:
            if fetched.response.status_code == 404:
                raise gone
            if fetched.response.status_code in _REDIRECTS or fetched.response.status_code < 300:
                raise gone
            if fetched.response.status_code == 403:
                raise self.refused(403, f"the short link {link.display}")
            raise MalformedResponse(
                f"the short link {link.display} answered HTTP {fetched.response.status_code}; "
                "try again later",
                retryable=True,
            )
        target = _join(url, location)
        parts = urlsplit(target)
        if parts.path.rstrip("/").endswith("/login"):
            raise LoginRequired(
                f"{link.display} needs a TikTok login, so it is not public; skipped"
            )
        self._check(target, redirect=True)
        if parts.path in ("", "/"):
            raise gone
        query = parse_qs(parts.query)
        hint = "1" in query.get("story_type", []) or "40" in query.get("aweme_type", [])
        m = _POST_PATH_RE.match(parts.path)
        if m is None:
            return target, hint, ""
        user = m.group("user") or ""
        post_id = m.group("id")
        return self.service.url(f"/@{user}/video/{post_id}"), hint, post_id

    async def _post(self, url: str, *, what: str, story_hint: bool) -> Story:
        not_found = PostUnavailable(f"{what} is not available any more (removed or expired)")
        scope, final = await self._page(
            url, referer=self.service.url("/"), what=what, not_found=not_found
        )
        item = parse.video_detail_item(scope, what)
        if item is None:
            canonical = parse.seo_canonical(scope)
            if canonical is None or canonical in (url, final):
                raise MalformedResponse(
                    f"TikTok's page for {what} carries no post details; try again later"
                )
            self._check(canonical, redirect=True)
            scope, _ = await self._page(
                canonical, referer=self.service.url("/"), what=what, not_found=not_found
            )
            item = parse.video_detail_item(scope, what)
            if item is None:
                raise MalformedResponse(
                    f"TikTok's page for {what} carries no post details; try again later"
                )
        is_story = story_hint or parse.item_story_hint(item)
        story = parse.parse_item(
            item, service=self.service, prefer_h264=self.settings.prefer_h264, is_story=is_story
        )
        if story.is_expired(self.clock.now()):
            raise PostUnavailable(f"{what} was a story and it has expired; nothing left to save")
        if story.age_gated:
            raise AgeRestricted(f"{what} {AGE_GATED}")
        return story

    # ------------------------------------------------------------------ media

    @asynccontextmanager
    async def open_media(
        self, url: str, *, start: int = 0, referer: str | None = None
    ) -> AsyncIterator[MediaResponse]:
        """Open one media URL (video, image, sound) for streaming.

        Sends the session cookies and a TikTok Referer, ``Range: bytes=START-``
        when ``start`` > 0, follows redirects (each hop checked), and holds one
        of the host's concurrency slots until the context exits. Statuses other
        than 200/206 become typed errors; no retries happen here.
        """
        self._check(url)
        if self.auto_session and not self._session_ready:
            await self.ensure_session()
        headers = {**self.browser.headers(Kind.MEDIA),
                   "Referer": header_url(referer or self.service.url("/"))}
        if start > 0:
            headers["Range"] = f"bytes={int(start)}-"
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            async with self.limiter.slot(_host_of(current)):
                response = await self._send_once("GET", current, headers, stream=True)
                try:
                    status = response.status_code
                    if status in _REDIRECTS and response.headers.get("location"):
                        target = _join(current, response.headers["location"])
                        self._check(target, redirect=True)
                        current = target
                        continue
                    self._media_status(response, current)
                    floor = RateFloor(int(self.settings.min_media_rate),
                                      float(self.settings.min_rate_grace))
                    yield MediaResponse(response, current, start, floor)
                    return
                finally:
                    await response.aclose()
        raise MediaError("the media server redirected too many times; try again later",
                         retryable=True)

    def _media_status(self, response: httpx.Response, url: str) -> None:
        status = response.status_code
        if status in (200, 206):
            return
        if status == 403:
            expire = parse.expiry_from_url(url)
            if expire is not None and expire <= self.clock.time():
                raise MediaExpired()
            raise MediaForbidden(
                "the media server refused the file (403 Access Denied); look the story up "
                "again for fresh links"
            )
        if status in (404, 410):
            raise MediaNotFound()
        if status == 416:
            raise RangeNotSatisfiable()
        if status == 429:
            raise Throttled(
                "the media server is rate-limiting us (429); wait and retry",
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise NetworkError(f"the media server answered {status}; retry in a moment")
        raise MediaError(f"the media server answered HTTP {status}; try again later",
                         retryable=False)


class HttpClient(httpx.AsyncClient):
    """httpx's client whose own transports route each request to the right connection:
    pages and API calls over the browser's TLS/HTTP2 (:class:`CurlTransport`, when
    ``impersonate``), media bodies through aiohttp (:mod:`.transport`).

    The routing wraps the transports httpx makes itself, rather than being passed as
    ``transport=``: httpx ignores the environment's proxies (HTTPS_PROXY...) when given a
    transport. With a proxy set, httpx's proxy mount for it is wrapped the same way: pages
    and API calls go through that proxy over curl (a CONNECT tunnel, the browser's
    handshake inside), media through httpx's own proxy transport. A transport given to
    ``TikTokClient`` (tests) takes everything."""

    def __init__(self, *, browser: Browser, impersonate: bool, max_page_bytes: int,
                 request_deadline: float, **kwargs: Any) -> None:
        self._browser = browser
        self._impersonate = impersonate
        self._max_body = max_page_bytes
        self._deadline = request_deadline
        super().__init__(**kwargs)

    def _pages_transport(self, proxy: httpx.Proxy | None) -> httpx.AsyncBaseTransport | None:
        if not self._impersonate:
            return None
        from tikget_tui.tiktok.impersonate import CurlTransport

        # curl's own hard bounds: the client's deadline (+ a margin so the client's own,
        # clearer, message wins) and the body size on the wire
        return CurlTransport(self._browser, proxy=str(proxy.url) if proxy else None,
                             proxy_auth=proxy.auth if proxy else None,
                             max_body_bytes=self._max_body, total_timeout=self._deadline + 5.0)

    def _init_transport(  # type: ignore[override]  # (httpx's signature, by keyword)
        self, *, limits: httpx.Limits, transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> httpx.AsyncBaseTransport:
        default = super()._init_transport(limits=limits, transport=transport, **kwargs)
        if transport is not None:
            return default
        timeout: httpx.Timeout = self.timeout
        media = AiohttpMediaTransport(max_connections=limits.max_connections or 64,
                                      read_timeout=timeout.read,
                                      connect_timeout=timeout.connect)
        return RoutingTransport(self._pages_transport(None) or default, media, default)

    def _init_proxy_transport(  # type: ignore[override]
        self, proxy: httpx.Proxy, **kwargs: Any,
    ) -> httpx.AsyncBaseTransport:
        default = super()._init_proxy_transport(proxy, **kwargs)
        pages = self._pages_transport(proxy)  # its user:password (httpx took them out of
        # the URL) go to curl too, for the proxy only
        if pages is None:
            return default
        return RoutingTransport(pages, default)


def _as_user_target(user: UserTarget | str) -> UserTarget:
    if isinstance(user, UserTarget):
        if not user.username and not user.user_id:
            raise UserNotFound("no user name given")
        return user
    text = str(user).strip()
    name = text.lstrip("@").strip()
    if not name:
        raise UserNotFound("no user name given")
    if _is_id(name) and not text.startswith("@"):
        return UserTarget(username=name, user_id=name)  # a username first, else the id
    return UserTarget(username=name.lower())


def _is_id(text: str) -> bool:
    """TikTok ids are ASCII digits ('١٢٣' and '１２３' are digits to str.isdigit, not here)."""
    return text.isascii() and text.isdigit()


__all__ = ["BROWSER_UA", "HttpClient", "MediaResponse", "TikTokClient", "new_device_id",
           "web_params"]
