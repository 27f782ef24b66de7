"""Fixtures for the TikTok client (tikget_tui.tiktok) against the stand-in.

- ``sleep_log``: a ``sleep`` for the client that records the delays it was asked to wait
  and only yields to the loop, so backoff and Retry-After are checked without waiting.
- ``tiktok_client`` (async): a ``TikTokClient`` on ``demo_settings``, the demo clock,
  ``sleep_log`` and a tiny backoff base.
- ``make_client``: a factory for more clients with other settings (closed at teardown).
- ``redirector`` (async): a second loopback server whose answers are set per path
  (status, Location), to play a TikTok origin that redirects elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tikget_tui.clock import Clock, FakeClock
from tikget_tui.config import Settings
from tikget_tui.tiktok import TikTokClient


@dataclass
class SleepLog:
    delays: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleep_log() -> SleepLog:
    return SleepLog()


ClientFactory = Callable[..., TikTokClient]


@pytest.fixture
async def make_client(
    demo_settings: Settings, demo_clock: FakeClock, sleep_log: SleepLog
) -> AsyncIterator[ClientFactory]:
    made: list[TikTokClient] = []

    def factory(settings: Settings | None = None, *, clock: Clock | None = None,
                **kw: Any) -> TikTokClient:
        kw.setdefault("sleep", sleep_log.sleep)
        kw.setdefault("backoff_base", 0.001)
        client = TikTokClient(settings or demo_settings, clock=clock or demo_clock, **kw)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
async def tiktok_client(make_client: ClientFactory) -> TikTokClient:
    return make_client()


@dataclass
class Redirector:
    origin: str
    routes: dict[str, tuple[int, str | None]]  # path -> (status, Location)
    hits: list[str]


@pytest.fixture
async def redirector() -> AsyncIterator[Redirector]:
    routes: dict[str, tuple[int, str | None]] = {}
    hits: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        status, location = routes.get(request.path, (404, None))
        headers = {"Location": location} if location else {}
        return web.Response(status=status, headers=headers, text="")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Redirector(origin=f"http://127.0.0.1:{port}", routes=routes, hits=hits)
    finally:
        await runner.cleanup()
