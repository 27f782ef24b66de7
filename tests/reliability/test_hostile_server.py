"""A broken or hostile server (the stand-in's hostile mode, tikget_tui/demo/hostile.py):
every attack ends in one clear line, within the configured limits of memory and time.

Limits are set small here (README "Limits") so each attack is over in seconds.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.plugins.downloads import RecordingRetry
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import Attack, DemoServer, DemoStory
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.downloads import DownloadManager, Job, JobState
from tikget_tui.links import ParseError, PostTarget, parse
from tikget_tui.tiktok import TikTokClient
from tikget_tui.tiktok.errors import MalformedResponse, NetworkError, RefusedHost, TikTokError

STORY_A = "7440000000000000001"  # h264_a, 3.7 MB, listed with its DataSize
MiB = 1024 * 1024
T = TypeVar("T")


def one_line(reason: str) -> str:
    assert reason and "\n" not in reason and "Traceback" not in reason, reason
    assert len(reason) < 400, reason
    return reason


async def measured(work: Awaitable[T]) -> tuple[T | BaseException, float, int]:
    """(result or exception, seconds, peak bytes allocated by Python meanwhile)."""
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        out: T | BaseException = await asyncio.wait_for(work, 30)  # a hang guard
    except Exception as exc:  # the attack's outcome, checked by the caller
        out = exc
    finally:
        seconds = time.monotonic() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, seconds, peak


@pytest.fixture
def tight(demo_settings: Settings) -> Settings:
    return demo_settings.replace(max_page_bytes=1 * MiB, request_deadline=2.0,
                                 min_media_rate=256 * 1024, min_rate_grace=1.0,
                                 max_media_bytes=2 * MiB, max_retries=1)


@pytest.fixture
async def client(tight: Settings, demo_clock: FakeClock) -> AsyncIterator[TikTokClient]:
    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    async with TikTokClient(tight, clock=demo_clock, sleep=no_wait, backoff_base=0.0) as c:
        yield c


def attack(server: DemoServer, what: Attack, kinds: set[str], **knobs: Any) -> None:
    faults = server.scenario.faults
    faults.attack = what
    faults.attack_kinds = kinds
    for k, v in knobs.items():
        setattr(faults, k, v)


# ------------------------------------------------------------------ pages and API answers


@pytest.mark.parametrize("kind", ["page", "api"])
async def test_double_gzip_bomb_stops_at_the_page_cap(
    demo_server: DemoServer, client: TikTokClient, kind: str
) -> None:
    attack(demo_server, Attack.GZIP_BOMB, {kind}, bomb_size=256 * MiB)  # ~500 bytes on the wire
    out, seconds, peak = await measured(client.lookup_stories(DEMO_CREATOR))
    assert isinstance(out, MalformedResponse), out
    assert "larger than the 1 MB limit (max_page_bytes)" in one_line(out.reason)
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert seconds < 10
    assert len([r for r in demo_server.stats.requests if r.kind == kind]) == 1  # not retried


async def test_endless_page_stops_at_the_page_cap(
    demo_server: DemoServer, client: TikTokClient
) -> None:
    attack(demo_server, Attack.ENDLESS, {"page"})
    out, seconds, peak = await measured(client.lookup_stories(DEMO_CREATOR))
    assert isinstance(out, MalformedResponse), out
    assert "max_page_bytes" in one_line(out.reason)
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert seconds < 10


@pytest.mark.parametrize("kind", ["page", "api"])
async def test_slowloris_page_ends_at_the_request_deadline(
    demo_server: DemoServer, client: TikTokClient, kind: str
) -> None:
    # a byte every 0.2 s: the 30 s read timeout never fires, the 2 s deadline does
    attack(demo_server, Attack.SLOW, {kind}, slow_interval=0.2)
    out, seconds, _ = await measured(client.lookup_stories(DEMO_CREATOR))
    assert isinstance(out, NetworkError), out
    assert "took more than 2 s to answer (request_deadline)" in one_line(out.reason)
    assert seconds < 2 * 2.0 + 3  # one retry at most for a deadline


# ------------------------------------------------------------------ media bodies


async def run_job(settings: Settings, clock: FakeClock, story_of: Callable[[TikTokClient],
                  Awaitable[Any]], retry: RecordingRetry | None = None) -> tuple[Job, float]:
    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    t0 = time.monotonic()
    async with TikTokClient(settings, clock=clock, sleep=no_wait, backoff_base=0.0) as c:
        story = await story_of(c)
        async with DownloadManager(settings, client=c, clock=clock,
                                   retry=retry or RecordingRetry(attempts=1),
                                   write_metadata=False) as m:
            job = await m.enqueue(story)
            await asyncio.wait_for(m.wait_idle(), 60)
            out = m.job(job.id)
    assert out is not None
    return out, time.monotonic() - t0


def story_a(c: TikTokClient) -> Awaitable[Any]:
    async def find() -> Any:
        return next(s for s in (await c.lookup_stories(DEMO_CREATOR)).stories if s.id == STORY_A)
    return find()


def first_photo(c: TikTokClient) -> Awaitable[Any]:
    async def find() -> Any:
        return (await c.lookup_stories(DEMO_PHOTO_CREATOR)).stories[0]
    return find()


def media_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".part")
                  and not p.name.startswith("."))


def part_sizes(folder: Path) -> list[int]:
    return [p.stat().st_size for p in folder.iterdir() if p.name.endswith(".part")]


async def test_endless_video_stops_at_a_margin_over_its_listed_size(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    listed = demo_server.media["h264_a"].size
    settings = tight.replace(max_media_bytes=64 * MiB, min_media_rate=0)
    attack(demo_server, Attack.ENDLESS, {"media"})
    job, seconds = await run_job(settings, demo_clock, story_a)
    assert job.state == JobState.FAILED
    # no size announced: the listed DataSize is the end
    assert f"more bytes than the listing said ({listed})" in one_line(job.reason)
    assert all(size <= listed for size in part_sizes(settings.download_dir))
    assert media_files(settings.download_dir) == []
    assert seconds < 30


async def test_endless_image_with_no_listed_size_stops_at_max_media_bytes(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    settings = tight.replace(min_media_rate=0)  # max_media_bytes = 2 MiB
    attack(demo_server, Attack.ENDLESS, {"media"})
    job, seconds = await run_job(settings, demo_clock, first_photo)
    assert job.state == JobState.FAILED
    assert "more than 2097152 bytes" in one_line(job.reason)
    assert all(size <= 2 * MiB for size in part_sizes(settings.download_dir))
    assert media_files(settings.download_dir) == []
    assert seconds < 30


async def test_media_memory_stays_flat_up_to_max_media_bytes(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    settings = tight.replace(min_media_rate=0, max_media_bytes=48 * MiB)
    attack(demo_server, Attack.ENDLESS, {"media"})
    out, seconds, peak = await measured(run_job(settings, demo_clock, first_photo))
    assert not isinstance(out, BaseException), out
    job, _ = out
    assert job.state == JobState.FAILED
    assert f"more than {48 * MiB} bytes" in one_line(job.reason)
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB for a 48 MiB body"
    assert seconds < 30


async def test_body_announced_far_beyond_the_listed_size_is_refused_unread(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    listed = demo_server.media["h264_a"].size
    attack(demo_server, Attack.OVERSIZE, {"media"}, oversize_bytes=329_000_000)
    job, seconds = await run_job(tight, demo_clock, story_a)
    assert job.state == JobState.FAILED
    assert f"announced a 329000000-byte file but the listing said {listed}" in one_line(job.reason)
    assert sum(part_sizes(tight.download_dir)) == 0
    assert seconds < 30


async def test_slowloris_media_fails_under_the_minimum_rate(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    attack(demo_server, Attack.SLOW, {"media"}, slow_interval=0.2)
    retry = RecordingRetry(attempts=1)
    job, seconds = await run_job(tight, demo_clock, story_a, retry)
    assert job.state == JobState.FAILED
    assert "too slow" in one_line(job.reason) and "min_media_rate" in job.reason
    assert len(retry.waits) == 1  # retried once, then gave up with the reason
    assert seconds < 2 * (1.0 + 1.5) + 10


# ------------------------------------------------------------------ the two defences (issue 13 §6)


@pytest.fixture
async def outsider() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback server playing a host outside TikTok: it must receive nothing."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(request.path_qs)
        return web.Response(body=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40000)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", hits
    finally:
        await runner.cleanup()


async def test_media_redirect_hop_to_a_foreign_host_is_refused_by_the_hop_check(
    demo_server: DemoServer, client: TikTokClient, outsider: tuple[str, list[str]],
    tight: Settings, demo_clock: FakeClock,
) -> None:
    origin, hits = outsider
    story = next(s for s in (await client.lookup_stories(DEMO_CREATOR)).stories
                 if s.id == STORY_A)
    attack(demo_server, Attack.REDIRECT_AWAY, {"media"}, redirect_to=origin)
    with pytest.raises(RefusedHost) as info:
        async with client.open_media(story.sources[0].url):
            pass
    # the hop check says "redirect"; the per-request check alone would say "fetch"
    assert info.value.reason == "refused redirect to a host outside TikTok: '127.0.0.1'"
    job, _ = await run_job(tight, demo_clock, story_a)
    assert job.state == JobState.FAILED
    assert "refused redirect to a host outside TikTok" in one_line(job.reason)
    assert hits == []


async def test_a_media_link_answering_with_html_is_never_kept(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock
) -> None:
    attack(demo_server, Attack.NOT_MEDIA, {"media"})  # 40 KB of HTML: above the 8 KiB minimum
    job, _ = await run_job(tight, demo_clock, story_a)
    assert job.state == JobState.FAILED
    assert "the media link returned an HTML page, not the video" in one_line(job.reason)
    assert media_files(tight.download_dir) == []


# ------------------------------------------------------------------ server text in URLs and headers


@pytest.mark.parametrize("name", ["\u202eevil\u202c😀name", "رحمة.٣", "nul\x00name"])
async def test_author_names_from_the_server_never_break_a_header(
    demo_server: DemoServer, tight: Settings, demo_clock: FakeClock, name: str
) -> None:
    demo_server.scenario.faults.author_name = name
    settings = tight.replace(min_media_rate=0)
    job, _ = await run_job(settings, demo_clock, story_a)
    assert job.state == JobState.DONE, job.reason
    referers = [r.referer or "" for r in demo_server.stats.requests if r.kind == "media"]
    assert referers and all(r.isascii() and "\x00" not in r for r in referers)
    assert all("%" in r.split("/@", 1)[1] for r in referers)  # percent-encoded, not dropped


ARABIC_INDIC = "".join(chr(0x660 + int(d)) for d in "7440000000000000001")
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in "7440000000000000001")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH])
async def test_ids_in_other_digits_are_not_ids(
    demo_server: DemoServer, client: TikTokClient, digits: str
) -> None:
    demo_server.scenario.creator(DEMO_CREATOR).stories.insert(
        0, DemoStory(id=digits, media="h264_b", caption="digits"))
    listing = await client.lookup_stories(DEMO_CREATOR)
    assert digits not in {s.id for s in listing.stories}
    assert all(s.id.isascii() and s.id.isdigit() for s in listing.stories)
    with pytest.raises(ParseError):
        parse(f"https://www.tiktok.com/@someone/video/{digits}")
    with pytest.raises(TikTokError) as info:
        await client.resolve(PostTarget(digits, "someone"))
    assert "not a TikTok post id" in one_line(info.value.reason)
    with pytest.raises(TikTokError) as info2:  # a name to look up, not an author id
        await client.lookup_stories(digits)
    one_line(info2.value.reason)


async def test_a_raw_referer_from_an_older_record_is_percent_encoded(
    demo_server: DemoServer, client: TikTokClient
) -> None:
    """A Story saved by an older version may carry a canonical URL with raw server text."""
    story = next(s for s in (await client.lookup_stories(DEMO_CREATOR)).stories
                 if s.id == STORY_A)
    raw = f"{demo_server.origin}/@\u202eevil😀\x00name/video/7440000000000000001"
    async with client.open_media(story.sources[0].url, referer=raw) as resp:
        assert resp.status == 200
    [sent] = [r.referer for r in demo_server.stats.requests if r.kind == "media"]
    assert sent == (f"{demo_server.origin}/@%E2%80%AEevil%F0%9F%98%80%00name/video/"
                    "7440000000000000001")


async def test_the_real_service_never_follows_a_redirect_down_to_http(tmp_path: Path) -> None:
    """Issue 13 §5, through the client (an httpx mock transport: no traffic leaves)."""
    import httpx

    from tikget_tui.config import load

    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.startswith("/video/"):
            return httpx.Response(302, headers={"Location": "http://v16-webapp-prime.tiktok.com"
                                                            "/video/tos/x.mp4?expire=9"})
        return httpx.Response(302, headers={"Location": "http://www.tiktok.com/@someone"})

    settings = load().replace(download_dir=tmp_path / "dl")
    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    async with TikTokClient(settings, transport=httpx.MockTransport(handle), sleep=no_wait,
                            backoff_base=0.0) as c:
        with pytest.raises(RefusedHost) as info:
            await c.lookup_stories("someone")
        assert "refused a redirect over plain http" in one_line(info.value.reason)
        c.auto_session = False
        with pytest.raises(RefusedHost, match="refused a redirect over plain http"):
            async with c.open_media("https://v16-webapp-prime.tiktok.com/video/tos/x.mp4"):
                pass
        with pytest.raises(RefusedHost, match="refused to fetch over plain http"):
            async with c.open_media("http://v16-webapp-prime.tiktok.com/video/tos/x.mp4"):
                pass
    assert all(u.startswith("https://") for u in seen)
