"""Fixtures for the stand-in TikTok service (tikget_tui.demo).

- ``demo_media`` (session): the generated media, made once per test run in a shared cache
  (``$TIKGET_DEMO_MEDIA`` or ``.pytest_cache/d/tikget-demo-media``).
- ``demo_clock``: a FakeClock; ``demo_scenario``: a fresh default scenario to tweak.
- ``demo_server`` (async): a started DemoServer with ``.origin``, ``.scenario``, ``.clock``,
  ``.stats``.
- ``demo_thread``: the same in a background thread (sync tests, the UI).
- ``demo_settings``: Settings pointed at ``demo_server`` with downloads under tmp_path.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, DemoServerThread, MediaCatalog, Scenario, ensure_media
from tikget_tui.demo.scenario import default_scenario


@pytest.fixture(scope="session")
def demo_media(request: pytest.FixtureRequest) -> MediaCatalog:
    configured = os.environ.get("TIKGET_DEMO_MEDIA", "").strip()
    if configured:
        folder = Path(configured)
    elif getattr(request.config, "cache", None) is not None:
        folder = request.config.cache.mkdir("tikget-demo-media")
    else:  # -p no:cacheprovider
        folder = request.config.rootpath / ".pytest_cache" / "d" / "tikget-demo-media"
    return ensure_media(folder)


@pytest.fixture
def demo_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def demo_scenario() -> Scenario:
    return default_scenario()


@pytest.fixture
async def demo_server(demo_media: MediaCatalog, demo_scenario: Scenario,
                      demo_clock: FakeClock) -> AsyncIterator[DemoServer]:
    server = DemoServer(demo_scenario, clock=demo_clock, media=demo_media,
                        media_dir=demo_media.folder.parent)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def demo_thread(demo_media: MediaCatalog, demo_scenario: Scenario,
                demo_clock: FakeClock) -> Iterator[DemoServerThread]:
    with DemoServerThread(demo_scenario, clock=demo_clock, media=demo_media,
                          media_dir=demo_media.folder.parent) as runner:
        yield runner


@pytest.fixture
def demo_settings(demo_server: DemoServer, tmp_path: Path) -> Settings:
    return load().replace(service_origin=demo_server.origin, download_dir=tmp_path / "downloads",
                          api_min_interval=0.0)
