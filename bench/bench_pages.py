"""What the browser's connection costs: look-ups and a media body, curl-cffi vs httpx.

1. Look-ups: ``lookup_stories(@mika.travels)`` (a profile page and two story-list pages)
   against the stand-in, with ``impersonate = "chrome"`` (pages/API through curl-cffi,
   tiktok/impersonate.py) and ``"off"`` (httpx's own transport), alternating, one client
   per run (so each run pays its connection set-up, as a first look-up does), over plain
   http; and chrome over TLS against the strict stand-in (``off`` cannot pass its wall),
   to show what the handshake adds.
2. A media body (200 MiB, bench_download.py's file server) through aiohttp (what the
   client uses) and through curl-cffi (what it would use if media went "the same way"),
   alternating.

Prints min/median/max and the ratio of medians (curl / baseline). Run:
``.venv/bin/python bench/bench_pages.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tikget_tui.config import load
from tikget_tui.demo import DemoServerThread, people_scenario
from tikget_tui.tiktok.client import TikTokClient

USER = "mika.travels"
MEDIA_MB = 200


def show(name: str, times: list[float]) -> float:
    med = statistics.median(times)
    print(f"  {name:<34} min {min(times) * 1000:7.1f} ms  median {med * 1000:7.1f} ms  "
          f"max {max(times) * 1000:7.1f} ms")
    return med


async def lookup(origin: str, impersonate: str, home: Path) -> float:
    settings = load().replace(service_origin=origin, api_min_interval=0.0,
                              download_dir=home / "d", impersonate=impersonate)
    started = time.perf_counter()
    async with TikTokClient(settings) as client:
        listing = await client.lookup_stories(USER)
    assert listing.stories, listing.reason
    return time.perf_counter() - started


async def media(origin: str, url: str, through_curl: bool, home: Path) -> tuple[float, int]:
    import httpx

    from tikget_tui.tiktok.browser import CHROME, Kind
    from tikget_tui.tiktok.impersonate import CurlTransport

    settings = load().replace(service_origin=origin, api_min_interval=0.0,
                              download_dir=home / "d")
    async with TikTokClient(settings) as client:
        client.auto_session = False  # a plain file server: no pages
        started = time.perf_counter()
        if not through_curl:
            n = 0
            async with client.open_media(url) as resp:
                async for chunk in resp.aiter_bytes():
                    n += len(chunk)
            return time.perf_counter() - started, n
        transport = CurlTransport(CHROME)
        async with httpx.AsyncClient(transport=transport, cookies=client.cookies) as http:
            headers = {**CHROME.headers(Kind.MEDIA), "Referer": origin + "/"}
            n = 0
            async with http.stream("GET", url, headers=headers) as resp:
                async for chunk in resp.aiter_raw():
                    n += len(chunk)
        return time.perf_counter() - started, n


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tikget-bench-pages-"))
    os.environ.setdefault("TIKGET_HOME", str(home))
    with DemoServerThread(people_scenario()) as plain, \
            DemoServerThread(people_scenario(), strict=True) as strict:
        assert strict.server.ca_file is not None
        os.environ["SSL_CERT_FILE"] = str(strict.server.ca_file)
        times: dict[str, list[float]] = {"chrome": [], "off": [], "chrome TLS": []}
        asyncio.run(lookup(plain.origin, "chrome", home))  # warm both (imports)
        asyncio.run(lookup(plain.origin, "off", home))
        for _ in range(args.runs):
            times["chrome"].append(asyncio.run(lookup(plain.origin, "chrome", home)))
            times["off"].append(asyncio.run(lookup(plain.origin, "off", home)))
            times["chrome TLS"].append(asyncio.run(lookup(strict.origin, "chrome", home)))
        print(f"look-up of @{USER} (profile page + 2 story-list pages), {args.runs} runs each:")
        off = show("httpx (impersonate = off), http", times["off"])
        chrome = show("curl-cffi (chrome), http", times["chrome"])
        tls = show("curl-cffi (chrome), TLS + bot wall", times["chrome TLS"])
        print(f"  ratio chrome/off (http): {chrome / off:.2f}x; chrome over TLS/http: "
              f"{tls / chrome:.2f}x")
        del os.environ["SSL_CERT_FILE"]  # its file goes with the strict stand-in

    # media: a big body from a plain aiohttp FileResponse in a child (bench_download's)
    folder = home / "media"
    folder.mkdir()
    with (folder / "big.mp4").open("wb") as f:
        for _ in range(MEDIA_MB):
            f.write(os.urandom(1 << 20))
    server = subprocess.Popen([sys.executable, str(Path(__file__).parent / "bench_download.py"),
                               "--serve", str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        origin = server.stdout.readline().strip()
        url = origin + "/video/big.mp4"
        body: dict[str, list[float]] = {"aiohttp": [], "curl": []}
        for _ in range(max(3, args.runs // 3)):
            t, size = asyncio.run(media(origin, url, False, home))
            assert size == MEDIA_MB << 20
            body["aiohttp"].append(t)
            t, size = asyncio.run(media(origin, url, True, home))
            assert size == MEDIA_MB << 20
            body["curl"].append(t)
    finally:
        server.kill()
        server.wait()
    print(f"one media body ({MEDIA_MB} MiB over loopback), {len(body['curl'])} runs each:")
    a = show("aiohttp (the client's media path)", body["aiohttp"])
    c = show("curl-cffi (chrome)", body["curl"])
    print(f"  ratio curl/aiohttp: {c / a:.2f}x (above 1: slower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
