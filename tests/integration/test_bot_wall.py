"""Issue 19: TikTok's 2026 bot wall. The strict stand-in serves TLS on loopback and refuses
(403) a connection whose ClientHello is not a browser's, or whose headers disagree with the
browser its User-Agent names. The default client (curl-cffi presenting Chrome) gets
through; plain httpx (impersonate = "off") gets one honest line, once, and no retries."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.plugins.batch import CliResult, realtime_clock
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServerThread, MediaCatalog, Scenario
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_SHORT_POST
from tikget_tui.demo.strict import header_refusal
from tikget_tui.downloads import DownloadManager
from tikget_tui.tiktok import BotWall, TikTokClient
from tikget_tui.tiktok import impersonate as imp
from tikget_tui.tiktok.browser import CHROME, Kind
from tikget_tui.watch import PAUSE_AFTER, Watcher

HOUR = 3600.0


@pytest.fixture
def demo_clock() -> FakeClock:
    """Real "now" (the CLI runs on the system clock)."""
    return realtime_clock()


@pytest.fixture
def strict(demo_media: MediaCatalog, demo_scenario: Scenario, demo_clock: FakeClock,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoServerThread]:
    """The stand-in as TikTok's bot wall, its throw-away CA trusted via SSL_CERT_FILE."""
    with DemoServerThread(demo_scenario, clock=demo_clock, media=demo_media,
                          media_dir=demo_media.folder.parent, strict=True) as runner:
        assert runner.origin.startswith("https://127.0.0.1:")
        assert runner.server.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(runner.server.ca_file))
        yield runner


def _settings(strict: DemoServerThread, tmp_path: Path, impersonate: str) -> Settings:
    return load().replace(service_origin=strict.origin, download_dir=tmp_path / "downloads",
                          api_min_interval=0.0, impersonate=impersonate)


async def _no_wait(seconds: float) -> None:
    return None


async def test_the_browser_gets_through_and_python_tls_meets_the_wall(
    strict: DemoServerThread, tmp_path: Path, demo_clock: FakeClock,
) -> None:
    stats = strict.server.stats
    async with TikTokClient(_settings(strict, tmp_path, "chrome"), clock=demo_clock,
                            sleep=_no_wait) as client:
        assert client.impersonating
        listing = await client.lookup_stories(DEMO_CREATOR)
        assert len(listing.stories) >= 5
        # media (not walled, as on the site) through aiohttp, trusting the same CA
        async with client.open_media(listing.stories[0].sources[0].url) as media:
            body = b"".join([c async for c in media.aiter_bytes()])
        assert body[4:8] == b"ftyp"
    assert stats.requests and all(r.walled is None for r in stats.requests)
    assert {r.kind for r in stats.requests} == {"page", "api", "media"}

    stats.reset()
    async with TikTokClient(_settings(strict, tmp_path, "off"), clock=demo_clock,
                            sleep=_no_wait, max_attempts=5) as client:
        assert not client.impersonating
        with pytest.raises(BotWall) as refused:
            await client.lookup_stories(DEMO_CREATOR)
    reason = refused.value.reason
    assert reason.startswith("TikTok refused this client or network (HTTP 403 for the page")
    assert 'impersonate = "off"' in reason and 'try impersonate = "chrome"' in reason
    assert "malformed" not in reason and not refused.value.retryable
    # asked once: retrying the same way would get the same answer (no hammering)
    assert [(r.kind, r.status) for r in stats.requests] == [("page", 403)]
    assert (stats.requests[0].walled or "").startswith("TLS: no GREASE")


async def test_headers_that_disagree_with_the_user_agent_are_refused(
    strict: DemoServerThread, tmp_path: Path, demo_clock: FakeClock,
) -> None:
    """Chrome's handshake with an older Chrome's client hints: the headers give it away."""
    async with TikTokClient(_settings(strict, tmp_path, "chrome"), clock=demo_clock,
                            sleep=_no_wait) as client:
        client.browser = dataclasses.replace(
            CHROME, sec_ch_ua='"Chromium";v="131", "Not_A Brand";v="24", '
                              '"Google Chrome";v="131"')
        with pytest.raises(BotWall, match=r"impersonate = chrome \(chrome152\)"):
            await client.lookup_stories(DEMO_CREATOR)
    [record] = strict.server.stats.requests
    assert record.status == 403 and "does not name Chrome 152" in (record.walled or "")


def test_the_walls_header_rules() -> None:
    page = CHROME.headers(Kind.PAGE)
    api = CHROME.headers(Kind.API)
    assert header_refusal(page, "page") is None and header_refusal(api, "api") is None
    assert "sec-fetch-mode" in (header_refusal(page, "api") or "")  # a navigation to /api/
    assert "sec-fetch-mode" in (header_refusal(api, "page") or "")
    no_lang = {k: v for k, v in page.items() if k != "Accept-Language"}
    assert header_refusal(no_lang, "page") == "no Accept-Language"
    assert header_refusal({"User-Agent": "python-httpx/0.28.1"}, "page") is not None
    old_encodings = {**page, "Accept-Encoding": "gzip, deflate"}
    assert "not Chrome's" in (header_refusal(old_encodings, "page") or "")


def test_our_headers_are_what_curl_cffi_sends_for_that_browser() -> None:
    """One place names the browser (tiktok/browser.py): its User-Agent and client hints
    must be what curl-cffi's own profile of that exact target sends, and our navigation
    must list them in that browser's order."""
    from curl_cffi import requests as curl_requests

    seen: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            seen.append(data)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        curl_requests.get(f"http://127.0.0.1:{port}/", impersonate=CHROME.target,
                          http_version="v1", timeout=10)
    finally:
        thread.join(10)
        server.close()
    lines = seen[0].decode("latin-1").split("\r\n")[1:]
    theirs = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    assert theirs["user-agent"] == CHROME.user_agent
    assert theirs["sec-ch-ua"] == CHROME.sec_ch_ua
    assert theirs["sec-ch-ua-platform"] == CHROME.platform
    assert theirs["accept-language"] == CHROME.accept_language
    ours = [k.lower() for k, _ in CHROME.ordered(CHROME.headers(Kind.PAGE).items())]
    their_order = [k for k in theirs if k in ours]
    assert [k for k in ours if k in their_order] == their_order


def test_cli_against_the_wall(strict: DemoServerThread, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch,
                              run_cli: Callable[..., CliResult]) -> None:
    """Acceptance: default settings list and save; impersonate = "off" exits 1 with the
    honest line and no traceback."""
    downloads = tmp_path / "downloads"
    monkeypatch.setenv("TIKGET_SERVICE", strict.origin)
    monkeypatch.setenv("TIKGET_API_MIN_INTERVAL", "0")
    monkeypatch.setenv("TIKGET_DOWNLOAD_DIR", str(downloads))
    listed = run_cli("stories", "@" + DEMO_CREATOR, "--json")
    assert listed.rc == 0, listed.err
    [target] = json.loads(listed.out)
    assert len(target["stories"]) >= 5, target
    saved = run_cli("save", "@" + DEMO_CREATOR)
    assert saved.rc == 0, saved.err
    assert len([p for p in downloads.iterdir() if p.suffix == ".mp4"]) >= 5

    # a short link: its redirect answers link-preview bots, then the post page is walled
    short = f"{strict.origin}/t/{DEMO_SHORT_POST}/"
    linked = run_cli("save", short, "--dir", str(tmp_path / "linked"))
    assert linked.rc == 0, linked.out + linked.err
    assert [p.suffix for p in (tmp_path / "linked").iterdir()].count(".mp4") == 1

    monkeypatch.setenv("TIKGET_IMPERSONATE", "off")
    for argv in (("stories", "@" + DEMO_CREATOR), ("save", "@" + DEMO_CREATOR, "--again"),
                 ("save", short, "--dir", str(tmp_path / "refused"))):
        refused = run_cli(*argv)
        assert refused.rc == 1, (argv, refused.out, refused.err)
        text = refused.out + refused.err
        assert "TikTok refused this client or network" in text
        assert 'impersonate = "off"' in text and "Traceback" not in text


async def test_a_proxy_from_the_environment_carries_the_browsers_handshake(
    strict: DemoServerThread, tmp_path: Path, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY with both transports: a CONNECT tunnel (with the proxy's user:password
    from the URL, sent to the proxy only), the TLS handshake inside it is the client's own
    (the browser's through curl; Python's, refused, with off)."""
    tunnels: list[bytes] = []
    credentials: list[bytes] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        tunnels.append(head.split(b"\r\n", 1)[0])
        credentials.extend(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                           if line.lower().startswith(b"proxy-authorization:"))
        method, target, _ = head.split(b" ", 2)
        assert method == b"CONNECT"
        host, port = target.decode().rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://us%40er:p%3Ass@127.0.0.1:{port}")
    try:
        async with TikTokClient(_settings(strict, tmp_path, "chrome"), clock=demo_clock,
                                sleep=_no_wait) as client:
            listing = await client.lookup_stories(DEMO_CREATOR)
            assert listing.stories
            async with client.open_media(listing.stories[0].sources[0].url) as media:
                assert (await anext(media.aiter_bytes()))[4:8] == b"ftyp"
        through_chrome = len(tunnels)
        async with TikTokClient(_settings(strict, tmp_path, "off"), clock=demo_clock,
                                sleep=_no_wait) as client:
            with pytest.raises(BotWall):
                await client.lookup_stories(DEMO_CREATOR)
    finally:
        server.close()
        await server.wait_closed()
    target = strict.origin.removeprefix("https://").encode()
    assert through_chrome >= 2  # pages/API (curl) and media (httpx's proxy transport)
    assert len(tunnels) > through_chrome
    assert all(line == b"CONNECT " + target + b" HTTP/1.1" for line in tunnels)
    assert credentials == [b"Basic " + base64.b64encode(b"us@er:p:ss")] * len(tunnels)
    assert all("proxy-authorization" not in r.header_names for r in strict.server.stats.requests)
    assert all(r.walled is None for r in strict.server.stats.requests[:-1])
    assert strict.server.stats.requests[-1].status == 403


async def test_without_curl_cffi_plain_httpx_is_used_and_said_once(
    demo_settings: Settings, demo_clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, run_cli: Callable[..., CliResult],
) -> None:
    why = "curl-cffi cannot be imported (ImportError: No module named 'curl_cffi')"
    monkeypatch.setattr(imp, "available", lambda: why)
    monkeypatch.setattr(imp, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="tikget_tui.tiktok.impersonate"):
        for _ in range(2):
            async with TikTokClient(demo_settings, clock=demo_clock) as client:
                assert not client.impersonating
                assert (await client.lookup_stories(DEMO_CREATOR)).stories
    warnings = [r.getMessage() for r in caplog.records if "curl-cffi cannot" in r.getMessage()]
    assert len(warnings) == 1 and "plain httpx" in warnings[0]
    located = run_cli("locate")
    assert located.rc == 0
    line = next(x for x in located.out.splitlines() if x.startswith("impersonate"))
    assert "plain httpx instead" in line and "ImportError" in line


def test_locate_names_the_connection(run_cli: Callable[..., CliResult],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    line = next(x for x in run_cli("locate").out.splitlines() if x.startswith("impersonate"))
    assert f"chrome: {CHROME.target}'s TLS and HTTP/2 through curl-cffi" in line
    monkeypatch.setenv("TIKGET_IMPERSONATE", "off")
    line = next(x for x in run_cli("locate").out.splitlines() if x.startswith("impersonate"))
    assert "off: plain httpx" in line
    monkeypatch.setenv("TIKGET_IMPERSONATE", "firefox")
    bad = run_cli("locate")
    assert bad.rc != 0 and 'impersonate must be "chrome" or "off"' in bad.err


async def test_the_watch_list_counts_a_refusal_but_never_pauses_for_it(
    strict: DemoServerThread, tmp_path: Path, demo_clock: FakeClock,
    manager: DownloadManager,
) -> None:
    manager.store.watch_add(DEMO_CREATOR)
    async with TikTokClient(_settings(strict, tmp_path, "off"), clock=demo_clock,
                            sleep=_no_wait) as client:
        watcher = Watcher(manager, client, clock=demo_clock, interval=HOUR, pause=0)
        for n in range(1, PAUSE_AFTER + 2):
            result = await watcher.poll(DEMO_CREATOR)
            assert (result.failures, result.paused) == (n, False)
            assert "refused this client or network" in result.error
            demo_clock.advance(HOUR)
    entry = manager.store.watch_get(DEMO_CREATOR)
    assert entry is not None and not entry.paused and entry.failures == PAUSE_AFTER + 1


async def test_the_app_shows_the_refusal_where_the_look_up_was(
    strict: DemoServerThread, tmp_path: Path, demo_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The honest line on the message line and in the stories pane's row for the creator
    (not "looking up…" left behind); the default connection then lists the stories."""
    from tests.ui.test_app import look_up, main_screen
    from tikget_tui.ui.app import TikGetApp

    caplog.set_level(logging.INFO, logger="tikget_tui.ui")
    app = TikGetApp(_settings(strict, tmp_path, "off"), clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        table = main_screen(app).stories
        group = table.groups[DEMO_CREATOR]
        assert group.refused and group.reason.startswith(
            "TikTok refused this client or network (HTTP 403"), group.reason
        assert table.row_text(f"!{DEMO_CREATOR}").replace("\n", " ") == group.reason
        status = str(main_screen(app).input_pane.query_one("#input-status").render())
        assert 'impersonate = "off"' in status.replace("\n", " ")
        # the whole line is in the log too (the message line shows at most three lines)
        assert any(r.name == "tikget_tui.ui" and "message: TikTok refused this client"
                   in r.getMessage() and r.getMessage().endswith("or later")
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
    app = TikGetApp(_settings(strict, tmp_path, "chrome"), clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        assert len(main_screen(app).stories.groups[DEMO_CREATOR].story_ids) >= 5
