"""Fixtures for the download engine against the stand-in service.

- ``fast_retry``: a RetryPolicy with tiny backoff; ``fast_retry.waits`` records each wait asked for.
- ``dl_client``: a TikTokClient on the demo service (the demo clock), shared with the manager.
- ``manager``: a started DownloadManager (write_metadata on) over ``dl_client``.
- ``find_story``: ``await find_story(story_id)`` looks it up through ``dl_client``.
- ``sha256_of(path)``; ``no_partials(dir)`` asserts no ``*.part`` / temp file is left.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.downloads import DownloadManager, RetryPolicy
from tikget_tui.models import Story
from tikget_tui.tiktok import TikTokClient


class RecordingRetry(RetryPolicy):
    """Backoff without the wait: every requested delay is recorded, the sleep is ~0."""

    def __init__(self, attempts: int = 4) -> None:
        super().__init__(attempts=attempts, base=0.001, cap=0.01, jitter=0.5,
                         sleep=self._sleep)
        self.waits: list[float] = []

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fast_retry() -> RecordingRetry:
    return RecordingRetry()


@pytest.fixture
async def dl_client(demo_settings: Settings, demo_clock: FakeClock) -> AsyncIterator[TikTokClient]:
    async with TikTokClient(demo_settings, clock=demo_clock, sleep=_no_sleep,
                            backoff_base=0.001) as client:
        yield client


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def manager(demo_settings: Settings, demo_clock: FakeClock, dl_client: TikTokClient,
                  fast_retry: RecordingRetry) -> AsyncIterator[DownloadManager]:
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry) as m:
        yield m


@pytest.fixture
def find_story(dl_client: TikTokClient, demo_server: DemoServer
               ) -> Callable[[str], Awaitable[Story]]:
    async def find(story_id: str) -> Story:
        found = demo_server.scenario.find_story(story_id)
        assert found is not None, story_id
        listing = await dl_client.lookup_stories(found[0].username)
        return next(s for s in listing.stories if s.id == story_id)

    return find


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(directory: Path) -> list[str]:
    """Partial or temporary files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir()
                  if p.name.endswith((".part", ".tmp")) or ".tmp." in p.name)
