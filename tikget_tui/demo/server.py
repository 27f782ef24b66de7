"""The stand-in TikTok web service: a real aiohttp server on loopback.

One origin (``http://127.0.0.1:PORT``) plays every role the client meets on
TikTok: profile and post pages with the rehydration JSON, the story list API,
short links, the challenge page, and the media CDN (signed video URLs that want
the ``tt_chain_token`` cookie and a Referer, signed images, MP3 sounds). What it
plays and how it misbehaves comes from a :class:`~tikget_tui.demo.scenario.Scenario`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import ipaddress
import json
import secrets
import socket
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter

from tikget_tui.clock import Clock, SystemClock
from tikget_tui.demo import hostile
from tikget_tui.demo.challenge import (
    COOKIE_NAME,
    RCI_COOKIE_NAME,
    Challenge,
    check_solution,
    new_challenge,
)
from tikget_tui.demo.media import (
    LARGE_BY_NAME,
    MediaCatalog,
    MediaFile,
    ensure_media,
    with_large_media,
)
from tikget_tui.demo.scenario import (
    ChallengeMode,
    DemoCreator,
    DemoPost,
    DemoStory,
    MediaFaults,
    PostStatus,
    Quirk,
    Scenario,
    default_scenario,
)
from tikget_tui.demo.strict import WALL_PAGE, Wall
from tikget_tui.mediatools import MediaTools
from tikget_tui.models import Kind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CHAIN_COOKIE = "tt_chain_token"
AWEME_PLAY_BODY = b"\x00\x00\x00\x18ftypdemo" + b"not a video: TikTok placeholder\n" * 40
# the device ids TikTok's web app issues; the story list repeats pages for others
DEVICE_ID_MIN = 7_250_000_000_000_000_000
DEVICE_ID_MAX = 7_325_099_899_999_994_577
_SOLVED = web.RequestKey("solved", bool)  # this request carried a valid challenge answer
_STRING_KEYS = frozenset({"createTime", "duration", "width", "height", "Width", "Height",
                          "DataSize", "Bitrate", "ExpiredAt", "imageWidth", "imageHeight"})


class NotLoopback(ValueError):
    """The demo service refuses to listen anywhere but on loopback."""


def check_loopback(host: str) -> str:
    """Return ``host`` if it is a loopback address, else raise :class:`NotLoopback`."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host.strip("[]")
    except ValueError:
        pass
    raise NotLoopback(
        f"the demo service listens on loopback only (127.0.0.1 or ::1), not {host!r}"
    )


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    kind: str  # "page" | "api" | "media"
    status: int = 0
    has_cookie: bool = False
    cookie_names: tuple[str, ...] = ()
    referer: str | None = None
    range: str | None = None
    user_agent: str | None = None
    cut: bool = False  # the body was cut short (on purpose, or the client left)
    header_names: tuple[str, ...] = ()  # every request header name, lower-cased
    set_cookie_names: tuple[str, ...] = ()  # cookies this response set
    walled: str | None = None  # strict mode: why the bot wall refused it


@dataclass
class ServerStats:
    total: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    current: int = 0
    max_concurrent: int = 0
    current_by_kind: Counter[str] = field(default_factory=Counter)
    max_by_kind: Counter[str] = field(default_factory=Counter)
    requests: list[RequestRecord] = field(default_factory=list)

    def enter(self, record: RequestRecord) -> None:
        self.total += 1
        self.by_kind[record.kind] += 1
        self.requests.append(record)
        if len(self.requests) > 50_000:  # a long-running demo: keep the recent half
            del self.requests[:25_000]
        self.current += 1
        self.max_concurrent = max(self.max_concurrent, self.current)
        self.current_by_kind[record.kind] += 1
        self.max_by_kind[record.kind] = max(self.max_by_kind[record.kind],
                                            self.current_by_kind[record.kind])

    def leave(self, record: RequestRecord) -> None:
        self.current -= 1
        self.current_by_kind[record.kind] -= 1

    def of_kind(self, kind: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.kind == kind]

    def reset(self) -> None:
        self.total = self.current = self.max_concurrent = 0
        self.by_kind.clear()
        self.current_by_kind.clear()
        self.max_by_kind.clear()
        self.requests.clear()


def _kind_of(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith(("/video/", "/photo/", "/obj/", "/aweme/")):
        return "media"
    return "page"


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (str(v) if k in _STRING_KEYS and isinstance(v, int | float) else _stringify(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    return value


def _script_json(data: Any) -> str:
    """JSON safe to embed in a <script> element (untrusted captions cannot close it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Dropped(Exception):
    """Raised inside a body transfer that the demo cuts on purpose."""


class _MediaResponse(web.FileResponse):
    """FileResponse (it still does Range/206/416) whose body can misbehave on purpose.

    ``prepare`` may be called twice (by our middleware, which streams the body
    inside it so the concurrency counters cover the transfer, then by aiohttp);
    the second call is a no-op.
    """

    def __init__(self, path: Path, *, faults: MediaFaults, on_drop: Callable[[], bool],
                 deadline: float | None, clock: Clock, headers: dict[str, str]) -> None:
        super().__init__(path, chunk_size=64 * 1024, headers=headers)
        self._faults = faults
        self._on_drop = on_drop
        self._deadline = deadline
        self._clock = clock
        self._started = False

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self._started:
            return self._payload_writer
        self._started = True
        if self._faults.ignore_range:
            request = request.clone(headers={k: v for k, v in request.headers.items()
                                             if k.lower() not in ("range", "if-range")})
        return await super().prepare(request)

    async def _sendfile(self, request: web.BaseRequest, fobj: IO[Any], offset: int,
                        count: int) -> AbstractStreamWriter:
        faults = self._faults
        if faults.plain:
            return await super()._sendfile(request, fobj, offset, count)
        if faults.content_length_delta and self.content_length is not None:
            self.content_length = max(0, self.content_length + faults.content_length_delta)
        writer = await web.StreamResponse.prepare(self, request)
        assert writer is not None
        drop_at = None
        if faults.drop_after is not None and count > faults.drop_after and self._on_drop():
            drop_at = faults.drop_after
        chunk = 64 * 1024
        if faults.bytes_per_second:
            chunk = max(256, min(chunk, int(faults.bytes_per_second / 10)))
        loop = asyncio.get_running_loop()
        sent = 0
        fobj.seek(offset)
        while sent < count:
            if self._deadline is not None and self._clock.time() >= self._deadline:
                return self._cut(request, writer)
            size = min(chunk, count - sent)
            if drop_at is not None:
                size = min(size, drop_at - sent)
            data = await loop.run_in_executor(None, fobj.read, size)
            if not data:
                break
            await writer.write(data)
            sent += len(data)
            if drop_at is not None and sent >= drop_at:
                await writer.drain()
                return self._cut(request, writer)
            if faults.bytes_per_second:
                await writer.drain()
                await asyncio.sleep(len(data) / faults.bytes_per_second)
        await writer.drain()
        if faults.content_length_delta:
            # The announced length was wrong: end the connection, as a broken server does.
            return self._cut(request, writer)
        return writer

    def _cut(self, request: web.BaseRequest, writer: AbstractStreamWriter) -> AbstractStreamWriter:
        """Drop the connection mid-body (what a flaky CDN does)."""
        self.force_close()
        if request.transport is not None:
            request.transport.close()
        raise _Dropped()


class _Unreachable(web.StreamResponse):
    """No answer at all: the connection is closed unanswered (a host that does not
    resolve, as the client sees it, played on loopback)."""

    def __init__(self) -> None:
        super().__init__(status=502)
        self._done = False

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if not self._done:
            self._done = True
            self.force_close()
            if request.transport is not None:
                request.transport.close()
            raise _Dropped()
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class DemoServer:
    """The stand-in service. ``async with DemoServer() as server: server.origin``."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        clock: Clock | None = None,
        media_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tools: MediaTools | None = None,
        media: MediaCatalog | None = None,
        sock: socket.socket | None = None,
        strict: bool = False,
    ) -> None:
        """``sock``: a listening loopback socket to serve on (its address wins over
        ``host``/``port``); lets a caller know the origin before the server starts.
        ``strict``: serve over TLS with a throw-away certificate and play TikTok's 2026
        bot wall (:mod:`tikget_tui.demo.strict`); clients trust :attr:`ca_file`."""
        if sock is not None:
            host, port = sock.getsockname()[:2]
        self.host = check_loopback(host)
        self.port = port
        self._sock = sock
        self.scenario = scenario if scenario is not None else default_scenario()
        self.clock: Clock = clock if clock is not None else SystemClock()
        if media_dir is None:
            from tikget_tui import locations

            media_dir = locations.resolve().demo_media_dir
        self.media_dir = Path(media_dir)
        self.tools = tools
        self.media: MediaCatalog | None = media
        self.stats = ServerStats()
        self.origin = ""
        self._secret = secrets.token_bytes(32)
        self._runner: web.AppRunner | None = None
        self._chain_tokens: set[str] = set()
        self._challenges: dict[str, Challenge] = {}
        self._passed: dict[str, None] = {}  # ttwid of sessions that solved the challenge
        self._devices: dict[str, bool] = {}  # device ids seen by the story list: repeating?
        self._media_keys: dict[str, tuple[str, str]] = {}  # key -> (item id, media name)
        self._drops: Counter[str] = Counter()
        self.strict = strict
        self._wall: Wall | None = None
        self._wall_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def ca_file(self) -> Path | None:
        """Strict mode: the PEM file of the CA that signed this run's certificate."""
        return self._wall.ca_file if self._wall is not None else None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> str:
        if self._runner is not None:
            return self.origin
        if self.media is None:
            self.media = await asyncio.to_thread(ensure_media, self.media_dir, self.tools)
        large = {s.media for c in self.scenario.creators.values() for s in c.stories
                 if s.media in LARGE_BY_NAME} - set(self.media)
        if large:  # made only for a scenario that lists them (the demo's @big.files)
            self.media = await asyncio.to_thread(with_large_media, self.media, large, self.tools)
        if self.scenario.epoch is None:
            self.scenario.epoch = self.clock.time()
        if self.strict and self._wall is None:
            self._wall_dir = tempfile.TemporaryDirectory(prefix="tikget-demo-tls-")
            self._wall = await asyncio.to_thread(Wall, Path(self._wall_dir.name))
        tls = self._wall.context if self._wall is not None else None
        app = web.Application(middlewares=[self._middleware])
        self._add_routes(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site: web.BaseSite = (web.SockSite(runner, self._sock, ssl_context=tls)
                              if self._sock is not None
                              else web.TCPSite(runner, self.host, self.port, ssl_context=tls))
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.port = int(port)
        shown = f"[{host}]" if ":" in str(host) else str(host)
        self.origin = f"{'https' if tls else 'http'}://{shown}:{self.port}"
        return self.origin

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        folder, self._wall_dir, self._wall = self._wall_dir, None, None
        if folder is not None:
            folder.cleanup()

    async def __aenter__(self) -> DemoServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- helpers for callers

    def page_url(self, username: str) -> str:
        return f"{self.origin}/@{username}"

    def post_url(self, item_id: str) -> str:
        return self.origin + self._canonical_path(item_id)

    def short_url(self, code: str) -> str:
        return f"{self.origin}/t/{code}/"

    def media_url(self, story_id: str, *, gear: int = 0) -> str:
        """The signed URL of a story's (or post's) video gear (0 = best)."""
        entry = self._entry(story_id)
        if entry is None:
            raise KeyError(story_id)
        names = [entry.media, *(entry.gears if isinstance(entry, DemoStory) else [])]
        return self._video_urls(entry, names[gear], gear)[0]

    @property
    def epoch(self) -> float:
        return self.scenario.epoch if self.scenario.epoch is not None else self.clock.time()

    # ---------------------------------------------------------------- routing

    def _add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/", self._home)
        r.add_get("/login", self._login)
        r.add_get("/api/story/item_list/", self._story_list)
        r.add_get("/api/story/item_list", self._story_list)
        for prefix in ("t", "vm", "vt"):  # www.tiktok.com/t/, vm.tiktok.com/, vt.tiktok.com/
            r.add_get(f"/{prefix}/{{code}}/", self._short_link)
            r.add_get(f"/{prefix}/{{code}}", self._short_link)
        r.add_get("/@/video/{id}", self._post_page)
        r.add_get("/@{user}/video/{id}", self._post_page)
        r.add_get("/@{user}/photo/{id}", self._post_page)
        r.add_get("/share/video/{id}", self._post_page)
        r.add_get(r"/v/{id:\d+}.html", self._post_page)
        r.add_get("/embed/v2/{id}", self._post_page)
        r.add_get("/embed/{id}", self._post_page)
        r.add_get("/@{user}", self._profile)
        r.add_get("/@{user}/", self._profile)
        r.add_get("/video/tos/{region}/{bucket}/{key}/", self._video_file)
        r.add_get("/photo/{bucket}/{name}", self._image_file)
        r.add_get("/obj/{bucket}/{name}", self._sound_file)
        r.add_get("/aweme/v1/play/", self._aweme_play)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = _kind_of(request.path)
        record = RequestRecord(
            method=request.method, path=request.path, query=request.query_string, kind=kind,
            has_cookie=bool(request.cookies), cookie_names=tuple(sorted(request.cookies)),
            referer=request.headers.get(hdrs.REFERER), range=request.headers.get(hdrs.RANGE),
            user_agent=request.headers.get(hdrs.USER_AGENT),
            header_names=tuple(sorted({k.lower() for k in request.headers})),
        )
        self.stats.enter(record)
        try:
            walled = self._wall.refusal(request, kind) if self._wall is not None else None
            record.walled = walled
            response = ((web.Response(status=403, text=WALL_PAGE, content_type="text/html")
                         if walled else None)
                        or self._throttled(kind)
                        or await hostile.respond(self.scenario.faults, request, kind)
                        or await handler(request))
            record.status = response.status
            # Send the body inside the middleware, so "current" covers the transfer.
            try:
                await response.prepare(request)
            except _Dropped:
                record.cut = True  # cut mid-body on purpose
            except ConnectionError:
                record.cut = True  # the client went away
            record.status = response.status  # FileResponse picks 206/416 in prepare()
            record.set_cookie_names = tuple(sorted(response.cookies))
            return response
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        finally:
            self.stats.leave(record)

    def _throttled(self, kind: str) -> web.StreamResponse | None:
        f = self.scenario.faults
        if kind not in f.fault_kinds:
            return None
        if f.server_errors > 0:
            f.server_errors -= 1
            return web.Response(status=503, text="<html><body>Service Unavailable</body></html>",
                                content_type="text/html")
        if f.too_many > 0:
            f.too_many -= 1
            headers = {"Retry-After": f.retry_after} if f.retry_after is not None else {}
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        if f.empty_bodies > 0:
            f.empty_bodies -= 1
            return web.Response(status=200, body=b"", content_type="application/json")
        return None

    # ---------------------------------------------------------------- pages

    def _page(self, request: web.Request, scope: dict[str, Any], title: str) -> web.Response:
        scope = {"webapp.app-context": self._app_context(request), **scope}
        data = {"__DEFAULT_SCOPE__": scope}
        body = (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "</head><body><div id=\"app\"></div>"
            '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
            f"{_script_json(data)}</script></body></html>"
        )
        response = web.Response(text=body, content_type="text/html")
        self._set_session_cookies(request, response)
        return response

    def _set_session_cookies(self, request: web.Request, response: web.StreamResponse) -> None:
        if "ttwid" not in request.cookies:
            ttwid = "1%7C" + secrets.token_urlsafe(24)
            if request.get(_SOLVED, False):
                self._pass(ttwid)
            response.set_cookie("ttwid", ttwid, path="/", httponly=True, samesite="None")
        if "tt_csrf_token" not in request.cookies:
            response.set_cookie("tt_csrf_token", secrets.token_urlsafe(18), path="/",
                                samesite="Lax")
        if request.cookies.get(CHAIN_COOKIE) not in self._chain_tokens:
            token = secrets.token_urlsafe(18)
            self._chain_tokens.add(token)
            response.set_cookie(CHAIN_COOKIE, token, path="/", httponly=True, samesite="Lax")

    def _app_context(self, request: web.Request) -> dict[str, Any]:
        return {
            "appId": 1233, "appType": "m", "language": "en", "region": "US",
            "wid": "7" + "".join(str(secrets.randbelow(10)) for _ in range(18)),
            "webIdCreatedTime": str(int(self.clock.time())), "user": {},
            "botType": "others", "abTestVersion": None,
            "csrfToken": request.cookies.get("tt_csrf_token", ""),
        }

    def _pass(self, ttwid: str) -> None:
        if len(self._passed) >= 10_000:  # a long-running demo: forget the oldest
            del self._passed[next(iter(self._passed))]
        self._passed[ttwid] = None

    def _challenge_response(self, request: web.Request) -> web.Response | None:
        f = self.scenario.faults
        if f.challenge == ChallengeMode.OFF:
            return None
        if f.challenge == ChallengeMode.FIRST_VISIT:
            if request.cookies.get("ttwid", "") in self._passed:
                return None  # this session solved one already (its ttwid says so)
            solved = check_solution(request.cookies.get(COOKIE_NAME, ""), self._challenges)
            if solved is not None and request.cookies.get(RCI_COOKIE_NAME) == solved.rs:
                request[_SOLVED] = True  # the session cookies of this answer are let through
                if "ttwid" in request.cookies:
                    self._pass(request.cookies["ttwid"])
                return None
        challenge = new_challenge(f.challenge_max)
        if len(self._challenges) >= 10_000:  # a long-running demo: forget the oldest
            del self._challenges[next(iter(self._challenges))]
        self._challenges[base64.b64encode(challenge.a).decode()] = challenge
        return web.Response(text=challenge.html(f.challenge_wording, f.challenge_padding),
                            content_type="text/html")

    async def _home(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, {"seo.abtest": {"canonical": self.origin + "/"}},
                          "TikTok - Make Your Day")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            text="<!DOCTYPE html><html><head><title>Log in | TikTok</title></head>"
            "<body><h1>Log in to TikTok</h1></body></html>", content_type="text/html")

    async def _profile(self, request: web.Request) -> web.StreamResponse:
        if (challenge := self._challenge_response(request)) is not None:
            return challenge
        # /@NAME is a username, all digits or not (the page gives the numeric id)
        creator = self.scenario.creator(request.match_info["user"])
        if creator is None:
            detail: dict[str, Any] = {"statusCode": 10221, "statusMsg": "user not exist",
                                      "needFix": False}
            return self._page(request, {"webapp.user-detail": detail}, "TikTok - Make Your Day")
        detail = {
            "userInfo": {
                "user": self._user(creator),
                "stats": self._stats(creator),
                "statsV2": {k: str(v) for k, v in self._stats(creator).items()},
                "itemList": [],
            },
            "shareMeta": {"title": f"{creator.nickname} on TikTok", "desc": creator.signature},
            "statusCode": 10222 if creator.private else 0,
            "statusMsg": "",
            "needFix": True,
        }
        scope = {
            "webapp.user-detail": detail,
            "seo.abtest": {"canonical": self.page_url(creator.username), "pageId": creator.user_id},
        }
        return self._page(request, scope,
                          f"{creator.nickname} (@{creator.username}) | TikTok")

    async def _post_page(self, request: web.Request) -> web.StreamResponse:
        if (challenge := self._challenge_response(request)) is not None:
            return challenge
        item_id = request.match_info["id"]
        canonical = self._canonical_path(item_id)
        post = self.scenario.posts.get(item_id)
        found = self.scenario.find_story(item_id)
        scope: dict[str, Any] = {"seo.abtest": {"canonical": self.origin + canonical}}
        detail: dict[str, Any]
        title = "TikTok - Make Your Day"
        if post is not None:
            if post.status == PostStatus.LOGIN_REQUIRED:
                raise web.HTTPFound(f"{self.origin}/login?redirect_url="
                                    f"{self.origin}{canonical}")
            if post.canonical_only and request.path != canonical:
                return self._page(request, scope, title)
            creator = self.scenario.creator(post.username)
            code = {PostStatus.REMOVED: 10204, PostStatus.PRIVATE: 10216,
                    PostStatus.REGION_LOCKED: 10231}.get(post.status, 0)
            if code or creator is None:
                detail = {"statusCode": code or 10204, "statusMsg": ""}
            else:
                detail = {"statusCode": 0, "statusMsg": "",
                          "itemInfo": {"itemStruct": self._item(creator, post, story=False)}}
                title = f"{creator.nickname} on TikTok"
        elif found is not None:
            creator, story = found
            if creator.private:
                detail = {"statusCode": 10216, "statusMsg": ""}
            elif story.removed or not self._is_active(story):
                detail = {"statusCode": 10204, "statusMsg": "item doesn't exist"}
            else:
                detail = {"statusCode": 0, "statusMsg": "",
                          "itemInfo": {"itemStruct": self._story_item(creator, story,
                                                                      listed=False)}}
                title = f"{creator.nickname} on TikTok"
        else:
            detail = {"statusCode": 10204, "statusMsg": "item doesn't exist"}
        scope["webapp.video-detail"] = detail
        return self._page(request, scope, title)

    async def _short_link(self, request: web.Request) -> web.StreamResponse:
        host = request.path.split("/")[1]
        if host in self.scenario.faults.short_hosts_down:
            return _Unreachable()
        code = request.match_info["code"]
        target = self.scenario.short_links.get(code)
        entry = self._entry(target) if target else None
        if entry is None:
            raise web.HTTPMovedPermanently(f"{self.origin}/?_r=1")
        params = {"_r": "1", "_t": "ZM-demo" + code[-3:], "is_from_webapp": "1",
                  "sender_device": "pc"}
        if isinstance(entry, DemoStory):
            params["story_type"] = "1"
            params["aweme_type"] = "150" if entry.kind == Kind.PHOTO else "40"
        elif entry.kind == Kind.PHOTO:
            params["aweme_type"] = "150"
        location = f"{self.origin}{self._canonical_path(entry.id)}?{urlencode(params)}"
        if "facebookexternalhit" in request.headers.get(hdrs.USER_AGENT, "").lower():
            raise web.HTTPMovedPermanently(location)
        # Browsers get a page that sends them on with script, as TikTok does.
        return web.Response(
            text=f'<!DOCTYPE html><html><head><link rel="canonical" href="{html.escape(location)}">'
            f"<title>TikTok</title></head><body><script>location.replace("
            f"{json.dumps(location)})</script></body></html>",
            content_type="text/html")

    # ---------------------------------------------------------------- story list API

    async def _story_list(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        base: dict[str, Any] = {
            "extra": {"now": int(self.clock.time() * 1000), "fatal_item_ids": [],
                      "logid": secrets.token_hex(16)},
            "log_pb": {"impr_id": secrets.token_hex(16)},
        }
        author_id = q.get("authorId", "").strip()
        if not author_id.isdigit():
            return web.json_response({**base, "statusCode": 10201, "status_code": 10201,
                                      "status_msg": "Invalid parameters"})
        try:
            count = max(1, min(30, int(q.get("count") or 5)))
            cursor = int(q.get("cursor") or 0)
        except ValueError:
            return web.json_response({**base, "statusCode": 10201, "status_code": 10201,
                                      "status_msg": "Invalid parameters"})
        creator = self.scenario.creator_by_id(author_id)
        active = [] if creator is None or creator.private else sorted(
            (s for s in creator.stories if not s.removed and self._is_active(s)),
            key=lambda s: s.created)
        out: dict[str, Any] = {**base, "statusCode": 0, "status_code": 0, "status_msg": "",
                               "TotalCount": str(len(active))}
        quirks = creator.quirks if creator is not None else set()

        def ms(s: DemoStory) -> int:
            return int(self.epoch + s.created) * 1000

        repeat = Quirk.REPEAT_PAGE in quirks or self._repeating_device(q.get("device_id", ""))
        if repeat and active:
            page, more = active[:count], True
        else:
            rest = [s for s in active if ms(s) > cursor]
            page, more = rest[:count], len(rest) > count
        if Quirk.ENDLESS_MORE in quirks and active:
            more = True
        if not page:
            if Quirk.ENDLESS_MORE in quirks and active:
                out.update(itemList=[], HasMoreAfter=True, MaxCursor=cursor)
            else:
                out.update(HasMoreAfter=False, MaxCursor=cursor)
            return web.json_response(out)
        assert creator is not None
        items = [self._story_item(creator, s, listed=True) for s in page]
        if Quirk.BITRATE_OBJECT in quirks:
            for item in items:
                infos = item.get("video", {}).get("bitrateInfo")
                if isinstance(infos, list) and infos:
                    item["video"]["bitrateInfo"] = infos[0]
        if Quirk.STRINGS in quirks:
            items = _stringify(items)
        max_cursor: int | str = ms(page[-1])
        if Quirk.STALE_CURSOR in quirks:
            max_cursor = cursor
        if cursor or Quirk.STRINGS in quirks:
            max_cursor = str(max_cursor)  # TikTok sends it as a string at times
        out.update(itemList=items, HasMoreAfter=more)
        if Quirk.MISSING_CURSOR not in quirks:
            out["MaxCursor"] = max_cursor
        return web.json_response(out)

    def _repeating_device(self, device_id: str) -> bool:
        """Does the story list repeat its first page for this device id? (Ids outside what
        the app issues, and the next ``Faults.repeating_devices`` new ids.)"""
        f = self.scenario.faults
        if f.foreign_devices_repeat and not (
            device_id.isascii() and device_id.isdigit()
            and DEVICE_ID_MIN <= int(device_id) <= DEVICE_ID_MAX
        ):
            return True
        if device_id not in self._devices:
            if len(self._devices) >= 10_000:  # a long-running demo: forget the oldest
                del self._devices[next(iter(self._devices))]
            bad = f.repeating_devices > 0
            f.repeating_devices -= bad
            self._devices[device_id] = bad
        return self._devices[device_id]

    # ---------------------------------------------------------------- JSON shapes

    def _user(self, c: DemoCreator) -> dict[str, Any]:
        avatar = self._image_url("", "avatar", bucket="tos-maliva-avt-0068",
                                 suffix="~tplv-tiktokx-cropcenter:100:100.webp")
        return {
            "id": c.user_id, "shortId": "", "uniqueId": c.username, "nickname": c.nickname,
            "avatarLarger": avatar, "avatarMedium": avatar, "avatarThumb": avatar,
            "signature": c.signature, "createTime": int(self.epoch) - 400 * 86400,
            "verified": c.verified, "secUid": c.sec_uid, "ftc": False, "relation": 0,
            "openFavorite": False, "commentSetting": 0, "duetSetting": 0, "stitchSetting": 0,
            "privateAccount": c.private, "secret": c.private, "isADVirtual": False,
            "roomId": "", "uniqueIdModifyTime": 0, "ttSeller": False, "region": "US",
            "language": "en", "isEmbedBanned": False, "canExpPlaylist": True,
        }

    @staticmethod
    def _stats(c: DemoCreator) -> dict[str, int]:
        return {"followerCount": c.followers, "followingCount": c.following,
                "heart": c.likes, "heartCount": c.likes, "videoCount": c.videos,
                "diggCount": 0, "friendCount": 12}

    def _item(self, creator: DemoCreator, entry: DemoStory | DemoPost, *,
              story: bool) -> dict[str, Any]:
        created = int(self.epoch + entry.created)
        item: dict[str, Any] = {
            "id": entry.id,
            "createTime": created,
            "desc": entry.caption,
            "author": {"id": creator.user_id,
                       "uniqueId": self.scenario.faults.author_name or creator.username,
                       "nickname": creator.nickname, "secUid": creator.sec_uid,
                       "avatarThumb": self._user(creator)["avatarThumb"],
                       "signature": creator.signature, "verified": creator.verified,
                       "privateAccount": creator.private},
            "stats": {"diggCount": 1532, "shareCount": 12, "commentCount": 48, "playCount": 20417,
                      "collectCount": 9},
            "statsV2": {"diggCount": "1532", "shareCount": "12", "commentCount": "48",
                        "playCount": "20417", "collectCount": "9"},
            "music": self._music(creator, entry),
            "textExtra": [], "challenges": [], "isAd": False, "secret": False,
            "privateItem": False, "duetEnabled": True, "stitchEnabled": True,
            "itemCommentStatus": 0, "AIGCDescription": "", "CategoryType": 0,
        }
        cover = self._image_url(entry.id, entry.cover, bucket="tos-maliva-p-0068",
                                suffix="~tplv-tiktokx-origin.image")
        if entry.kind == Kind.PHOTO:
            assert self.media is not None
            images = [self.media[n] for n in entry.images]
            item["imagePost"] = {
                "images": [
                    {"imageURL": {"urlList": [self._image_url(
                        entry.id, f.name, bucket="tos-maliva-i-photomode-us",
                        suffix="~tplv-photomode-image.jpeg")]},
                     "imageWidth": f.width, "imageHeight": f.height}
                    for f in images
                ],
                "cover": {"imageURL": {"urlList": [cover]},
                          "imageWidth": images[0].width if images else 0,
                          "imageHeight": images[0].height if images else 0},
                "title": entry.caption.split("#")[0].strip()[:40],
            }
            item["video"] = {"id": "", "duration": 0, "width": 0, "height": 0, "cover": cover,
                             "ratio": "720p"}
        else:
            item["video"] = self._video(entry, cover)
        item["isContentClassified"] = entry.age_gated
        if entry.age_gated:  # TikTok sends the public no URL of an age-gated post's media
            self._strip_media_urls(item)
        if story:
            item["isStory"] = True
            if isinstance(entry, DemoStory) and entry.expired_at_field:
                item["story"] = {"ExpiredAt": int((self.epoch + entry.expires_offset()) * 1000),
                                 "StoryType": 1}
        return item

    def _story_item(self, creator: DemoCreator, story: DemoStory, *,
                    listed: bool) -> dict[str, Any]:
        """A story as the story list (``listed``) or its post page sends it: its media links
        may be left out or refused (``DemoStory.list_urls`` / ``page_urls``)."""
        item = self._item(creator, story, story=True)
        links = story.list_urls if listed else story.page_urls
        if links == "none":
            self._strip_media_urls(item)
        elif links == "refused":
            video = item.get("video", {})
            for info in video.get("bitrateInfo", []):
                play = info["PlayAddr"]
                play["UrlList"] = [u + "&ls=1" for u in play["UrlList"]]
            if video.get("playAddr"):
                video["playAddr"] += "&ls=1"
            for image in item.get("imagePost", {}).get("images", []):
                image["imageURL"]["urlList"] = [u + "&ls=1"
                                                for u in image["imageURL"]["urlList"]]
        return item

    @staticmethod
    def _refused_link(request: web.Request, story: DemoStory | None) -> bool:
        return story is not None and request.query.get("ls") == "1"

    @staticmethod
    def _strip_media_urls(item: dict[str, Any]) -> None:
        """The item's video and image URLs removed (its cover and music kept)."""
        video = item.get("video", {})
        for info in video.get("bitrateInfo", []):
            info["PlayAddr"]["UrlList"] = []
        if "playAddr" in video:
            video["playAddr"] = ""
        if "downloadAddr" in video:
            video["downloadAddr"] = ""
        for image in item.get("imagePost", {}).get("images", []):
            image["imageURL"]["urlList"] = []

    def _video(self, entry: DemoStory | DemoPost, cover: str) -> dict[str, Any]:
        assert self.media is not None
        names = [entry.media, *(entry.gears if isinstance(entry, DemoStory) else [])]
        infos: list[dict[str, Any]] = []
        for index, name in enumerate(names):
            f = self.media[name]
            urls = self._video_urls(entry, name, index)
            bitrate = int(f.size * 8 / f.duration) if f.duration else 0
            tag = "bytevc1" if f.codec == "hevc" else "h264"
            short = min(f.width, f.height)
            url_key = f"v12044gd0000demo{entry.id}_{tag}_{short}p_{bitrate}"
            infos.append({
                "Bitrate": bitrate,
                "CodecType": "h265_hvc1" if f.codec == "hevc" else "h264",
                "GearName": f"adapt_{short}_{index}" if index else f"normal_{short}_0",
                "QualityType": 20 + index * 4,
                "MVMAF": "", "BitrateFPS": 24,
                "PlayAddr": {
                    "DataSize": f.size if index % 2 == 0 else str(f.size),
                    "FileCs": f"c:0-{f.size // 3}-a1b2",
                    "FileHash": hashlib.md5(f"{entry.id}:{name}".encode()).hexdigest(),
                    "Height": f.height, "Width": f.width,
                    "Uri": self._key(entry.id, name),
                    "UrlKey": url_key,
                    "UrlList": urls,
                },
            })
        best = self.media[entry.media]
        return {
            "id": entry.id,
            "duration": round(best.duration),
            "width": best.width, "height": best.height,
            "ratio": f"{min(best.width, best.height)}p",
            "definition": f"{min(best.width, best.height)}p",
            "format": "mp4",
            "codecType": "h265_hvc1" if best.codec == "hevc" else "h264",
            "videoQuality": "normal",
            "cover": cover, "originCover": cover, "dynamicCover": cover,
            "playAddr": infos[0]["PlayAddr"]["UrlList"][0],
            "downloadAddr": f"{self.origin}/aweme/v1/play/?" + urlencode(
                {"video_id": f"v12044gd0000demo{entry.id}", "line": "0", "is_play_url": "1",
                 "watermark": "1", "source": "PackSourceEnum_AWEME_DETAIL"}),
            "bitrate": infos[0]["Bitrate"],
            "encodedType": "normal",
            "bitrateInfo": infos,
            "volumeInfo": {"Loudness": -15.2, "Peak": 0.89},
            "VQScore": "70.1",
        }

    def _music(self, creator: DemoCreator, entry: DemoStory | DemoPost) -> dict[str, Any]:
        music: dict[str, Any] = {
            "id": "72" + entry.id[2:],
            "title": entry.sound_title if entry.sound else f"original sound - {creator.username}",
            "authorName": creator.nickname,
            "original": entry.sound is None,
            "album": "",
            "coverThumb": self._user(creator)["avatarThumb"],
            "playUrl": "",
            "duration": 0,
        }
        if entry.sound is not None:
            assert self.media is not None
            f = self.media[entry.sound]
            key = self._key(entry.id, f.name)
            music["playUrl"] = self._signed(f"/obj/ies-music-va/{key}.mp3", image=True)
            music["duration"] = round(f.duration)
        return music

    # ---------------------------------------------------------------- URLs and signatures

    def _key(self, item_id: str, name: str) -> str:
        digest = hmac.new(self._secret, f"{item_id}:{name}".encode(), hashlib.sha256).digest()
        key = "o" + base64.b32encode(digest[:20]).decode().rstrip("=")
        self._media_keys[key] = (item_id, name)
        return key

    def _sign(self, path: str, expire: int) -> str:
        return hmac.new(self._secret, f"{path}|{expire}".encode(), hashlib.sha256).hexdigest()[:32]

    def _expire_for(self, item_id: str) -> int:
        found = self.scenario.find_story(item_id)
        faults = self.scenario.media_faults_for(found[1] if found else None)
        return int(self.clock.time() + faults.url_lifetime)

    def _signed(self, path: str, *, image: bool, item_id: str = "") -> str:
        expire = self._expire_for(item_id) if item_id else int(self.clock.time() + 6 * 3600)
        sig = self._sign(path, expire)
        if image:
            return f"{self.origin}{path}?" + urlencode({"x-expires": expire, "x-signature": sig})
        return f"{self.origin}{path}?" + urlencode({
            "a": "1988", "bti": "NEBzNTY6QGo6OjZALnAjNDQuYCMxNDNg", "ch": "0", "cr": "3",
            "dr": "0", "lr": "all", "cd": "0|0|0|3", "cv": "1", "br": "1102", "bt": "551",
            "cs": "0", "ds": "6", "ft": "4KJMyMzm8Zmo0", "mime_type": "video_mp4", "qs": "0",
            "rc": secrets.token_urlsafe(12), "vvpl": "1", "l": "2026112612000000DEMO",
            "btag": "e00088000", "expire": expire, "signature": sig, "tk": CHAIN_COOKIE,
        })

    def _video_urls(self, entry: DemoStory | DemoPost, name: str, index: int) -> list[str]:
        key = self._key(entry.id, name)
        bucket = f"tos-useast2a-ve-0068c{index + 1:03d}"
        return [self._signed(f"/video/tos/{region}/{bucket}/{key}/", image=False,
                             item_id=entry.id)
                for region in ("useast2a", "useast5")]

    def _image_url(self, item_id: str, name: str, *, bucket: str, suffix: str) -> str:
        key = self._key(item_id, name)
        return self._signed(f"/photo/{bucket}/{key}{suffix}", image=True, item_id=item_id)

    def _entry(self, item_id: str | None) -> DemoStory | DemoPost | None:
        if not item_id:
            return None
        if item_id in self.scenario.posts:
            return self.scenario.posts[item_id]
        found = self.scenario.find_story(item_id)
        return found[1] if found else None

    def _canonical_path(self, item_id: str) -> str:
        post = self.scenario.posts.get(item_id)
        found = self.scenario.find_story(item_id)
        if post is not None:
            user, kind = post.username, post.kind
        elif found is not None:
            user, kind = found[0].username, found[1].kind
        else:
            return f"/@/video/{item_id}"
        return f"/@{user}/{'photo' if kind == Kind.PHOTO else 'video'}/{item_id}"

    def _is_active(self, story: DemoStory) -> bool:
        return self.clock.time() < self.epoch + story.expires_offset()

    # ---------------------------------------------------------------- media

    def _denied(self, why: str) -> web.Response:
        return web.Response(
            status=403, content_type="text/html",
            text="<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>"
            f"You don't have permission to access this resource.<P>({html.escape(why)})</P>"
            "</BODY></HTML>")

    def _check_signature(self, request: web.Request, exp_name: str,
                         sig_name: str) -> web.Response | None:
        try:
            expire = int(request.query.get(exp_name, ""))
        except ValueError:
            return self._denied("missing expiry")
        if not hmac.compare_digest(self._sign(request.path, expire),
                                   request.query.get(sig_name, "")):
            return self._denied("bad signature")
        if self.clock.time() >= expire:
            return self._denied("URL expired")
        return None

    def _lookup(self, key: str) -> tuple[DemoStory | None, MediaFile] | None:
        entry = self._media_keys.get(key)
        if entry is None or self.media is None:
            return None
        item_id, name = entry
        found = self.scenario.find_story(item_id) if item_id else None
        return (found[1] if found else None), self.media[name]

    async def _video_file(self, request: web.Request) -> web.StreamResponse:
        found = self._lookup(request.match_info["key"])
        if found is None:
            raise web.HTTPNotFound()
        if (denied := self._check_signature(request, "expire", "signature")) is not None:
            return denied
        if self._refused_link(request, found[0]):
            return self._denied("a link marked refused (list_urls/page_urls)")
        if request.cookies.get(CHAIN_COOKIE) not in self._chain_tokens:
            return self._denied("no tt_chain_token cookie")
        referer = urlsplit(request.headers.get(hdrs.REFERER, ""))
        if f"{referer.scheme}://{referer.netloc}" != self.origin:
            return self._denied("no Referer from the site")
        return self._serve(request, *found)

    async def _image_file(self, request: web.Request) -> web.StreamResponse:
        found = self._lookup(request.match_info["name"].split("~", 1)[0])
        if found is None:
            raise web.HTTPNotFound()
        if (denied := self._check_signature(request, "x-expires", "x-signature")) is not None:
            return denied
        if self._refused_link(request, found[0]):
            return self._denied("a link marked refused (list_urls/page_urls)")
        return self._serve(request, *found)

    async def _sound_file(self, request: web.Request) -> web.StreamResponse:
        found = self._lookup(request.match_info["name"].removesuffix(".mp3"))
        if found is None:
            raise web.HTTPNotFound()
        if (denied := self._check_signature(request, "x-expires", "x-signature")) is not None:
            return denied
        return self._serve(request, *found)

    async def _aweme_play(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=AWEME_PLAY_BODY, content_type="video/mp4")

    def _serve(self, request: web.Request, story: DemoStory | None,
               media: MediaFile) -> web.StreamResponse:
        faults = self.scenario.media_faults_for(story)
        deadline = None
        if story is not None:
            if story.removed:
                return self._denied("removed")
            if faults.dies_with_story:
                deadline = self.epoch + story.expires_offset()
                if self.clock.time() >= deadline:
                    return self._denied("story expired")
        headers = {hdrs.CONTENT_TYPE: media.content_type, hdrs.ACCEPT_RANGES: "bytes",
                   hdrs.CACHE_CONTROL: "max-age=3600", "X-Cache": "HIT from demo"}
        key = request.path

        def on_drop() -> bool:
            if self._drops[key] >= faults.drop_times:
                return False
            self._drops[key] += 1
            return True

        return _MediaResponse(media.path, faults=faults, on_drop=on_drop, deadline=deadline,
                              clock=self.clock, headers=headers)
