"""Helpers for the cross-cutting reliability tests (tests/reliability/).

- ``source_hashes(catalog)``: sha256 → catalog name of every file the stand-in serves.
- ``scan_download_dir(directory, catalog, tools)``: the "never a corrupt file under a final
  name" check: every media file that is not a ``.part`` must hash to one of the stand-in's
  sources and verify ok/warn; returns the list of problems (empty when all is well).
- ``run_e2e``: client + engine + verifier in this loop against ``settings.service_origin``
  (look creators up, enqueue every story, wait), always under an ``asyncio.wait_for`` guard.
- ``media_tools`` (session fixture): the ffmpeg/ffprobe pair, found once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tikget_tui.clock import Clock
from tikget_tui.config import Settings
from tikget_tui.demo import MediaCatalog
from tikget_tui.downloads import DownloadManager, Job, RetryPolicy
from tikget_tui.mediatools import MediaTools
from tikget_tui.models import Story
from tikget_tui.tiktok import TikTokClient
from tikget_tui.tiktok.errors import TikTokError

GUARD_SECONDS = 90.0  # a hang guard, never a timing assertion
MEDIA_SUFFIXES = {".mp4", ".mp3", ".jpg", ".jpeg", ".png", ".webp", ".gif", ".m4a", ".webm"}


@pytest.fixture(scope="session")
def media_tools() -> MediaTools:
    return MediaTools.find()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def source_hashes(catalog: MediaCatalog) -> dict[str, str]:
    return {sha256_file(f.path): name for name, f in catalog.items()}


def final_media_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)


def partials(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(".part"))


async def scan_download_dir(directory: Path, catalog: MediaCatalog,
                            tools: MediaTools) -> list[str]:
    """Problems with files under final names: unknown bytes, or a failing verification."""
    from tikget_tui.verify import verify

    known = source_hashes(catalog)
    problems: list[str] = []
    for path in final_media_files(directory):
        digest = await asyncio.to_thread(sha256_file, path)
        if digest not in known:
            problems.append(f"{path.name}: bytes match no source file")
            continue
        report = await verify(path, tools=tools)
        if str(report.verdict) == "fail":
            problems.append(f"{path.name}: verification failed: {report.summary}")
    return problems


@dataclass
class E2EResult:
    jobs: list[Job] = field(default_factory=list)
    lookup_errors: dict[str, TikTokError] = field(default_factory=dict)
    stories: list[Story] = field(default_factory=list)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def run_e2e(
    settings: Settings,
    creators: Iterable[str],
    *,
    clock: Clock,
    tools: MediaTools,
    retry: RetryPolicy | None = None,
    client_sleep: Callable[[float], Awaitable[None]] = no_sleep,
    on_event: Callable[[object], None] | None = None,
    after_lookup: Callable[[list[Story]], list[Story]] | None = None,
    write_metadata: bool = False,
    lookup_concurrency: int = 1,
    guard: float = GUARD_SECONDS,
) -> E2EResult:
    """Look creators up and save every active story through one client and one manager."""
    result = E2EResult()

    async def body() -> None:
        async with TikTokClient(settings, clock=clock, sleep=client_sleep,
                                backoff_base=0.001) as client:
            gate = asyncio.Semaphore(lookup_concurrency)

            async def one(name: str) -> list[Story]:
                async with gate:
                    try:
                        return list((await client.lookup_stories(name)).stories)
                    except TikTokError as exc:
                        result.lookup_errors[name] = exc
                        return []

            for found in await asyncio.gather(*(one(n) for n in creators)):
                result.stories.extend(found)
            stories = after_lookup(result.stories) if after_lookup else result.stories
            async with DownloadManager(settings, client=client, clock=clock, tools=tools,
                                       retry=retry or RetryPolicy(attempts=4, base=0.001,
                                                                  cap=0.01, sleep=no_sleep),
                                       write_metadata=write_metadata) as manager:
                if on_event is not None:
                    manager.subscribe(on_event)
                for story in stories:
                    await manager.enqueue(story)
                await manager.wait_idle()
                result.jobs = manager.jobs()

    await asyncio.wait_for(body(), guard)
    return result
