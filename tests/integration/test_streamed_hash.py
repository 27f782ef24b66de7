"""The sha256 is computed while the bytes arrive: a resumed .part is read once for the bytes
it holds, a retry continues the running hash, and verification takes it instead of reading
the file again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.plugins.downloads import RecordingRetry, sha256_of
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import MediaFaults
from tikget_tui.downloads import DownloadManager, JobState
from tikget_tui.downloads import streamhash as streamhash_module
from tikget_tui.downloads.transfer import Transfer
from tikget_tui.tiktok import TikTokClient
from tikget_tui.verify import verifier

STORY_A = "7440000000000000001"  # h264_a, 3.7 MB
STORY_B = "7440000000000000002"  # h264_b, 60 kB


@pytest.fixture
def hashed_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(position, length) of every read the sha256 thread makes of a .part."""
    reads: list[tuple[int, int]] = []
    real = streamhash_module._read_into

    def counting(fd: int, view: memoryview, pos: int) -> int:
        got = real(fd, view, pos)
        reads.append((pos, got))
        return got

    monkeypatch.setattr(streamhash_module, "_read_into", counting)
    return reads


def each_byte_once(reads: list[tuple[int, int]], size: int) -> bool:
    spans = sorted(reads)
    at = 0
    for pos, length in spans:
        if pos != at:
            return False
        at += length
    return at == size


async def test_resume_hashes_the_existing_part_once_and_a_retry_continues(
    dl_client: TikTokClient, find_story, demo_server: DemoServer, tmp_path: Path,
    fast_retry: RecordingRetry, hashed_reads: list[tuple[int, int]],
) -> None:
    source = demo_server.media["h264_a"].path.read_bytes()
    story = await find_story(STORY_A)
    part = tmp_path / "a.mp4.part"
    part.write_bytes(source[:1_000_000])  # last run's bytes
    # the first response drops after 700 kB more: the retry resumes from 1.7 MB
    demo_server.scenario.story(STORY_A).media_faults = MediaFaults(drop_after=700_000,
                                                                   drop_times=1)
    result = await Transfer(client=dl_client, urls=[story.sources[0].url], part=part,
                            want="video", retry=fast_retry).run()
    assert part.read_bytes() == source
    assert result.sha256 == hashlib.sha256(source).hexdigest()
    # the 1 MB already there was read once, every new byte once, nothing again on the retry
    assert each_byte_once(hashed_reads, len(source)), hashed_reads
    assert len(fast_retry.waits) == 1


async def test_no_hash_asked_no_hash_read(
    dl_client: TikTokClient, find_story, tmp_path: Path, hashed_reads: list[tuple[int, int]],
) -> None:
    story = await find_story(STORY_B)
    result = await Transfer(client=dl_client, urls=[story.sources[0].url],
                            part=tmp_path / "b.part", want="video", digest=False).run()
    assert result.sha256 is None and hashed_reads == []


async def test_verification_takes_the_streamed_hash(
    demo_settings: Settings, demo_clock: FakeClock, dl_client: TikTokClient, find_story,
    fast_retry: RecordingRetry, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def read_again(path: Path) -> str:
        raise AssertionError(f"{path.name} was read again to hash it")

    monkeypatch.setattr(verifier, "sha256_file", read_again)
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=False) as m:
        job = await m.enqueue(await find_story(STORY_B))
        await m.wait_idle()
        job = m.job(job.id)
        assert job is not None and job.state == JobState.DONE, job.reason
        assert job.sha256 == sha256_of(job.files[0])
        assert Records(m.store).get(STORY_B, "video").sha256 == job.sha256
        report = Records(m.store).get_report(job.files[0])
        assert report is not None and report["sha256"] == job.sha256


async def test_a_file_rewritten_with_tags_is_hashed_after_the_rewrite(
    demo_settings: Settings, demo_clock: FakeClock, dl_client: TikTokClient, find_story,
    fast_retry: RecordingRetry, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[Path] = []
    real = verifier.sha256_file

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(verifier, "sha256_file", counting)
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry, write_metadata=True) as m:
        job = await m.enqueue(await find_story(STORY_B))
        await m.wait_idle()
        job = m.job(job.id)
        assert job is not None and job.state == JobState.DONE, job.reason
        # ffmpeg rewrote the file after the transfer: its hash is the new file's
        assert hashed == [job.files[0]]
        assert job.sha256 == sha256_of(job.files[0])


async def test_media_bodies_stream_through_aiohttp_and_pages_do_not(
    dl_client: TikTokClient, find_story,
) -> None:
    """Issue 15: a media body is read by aiohttp (its C parser, up to MEDIA_READ_BYTES a
    step); pages and API answers stay on httpx's own transport. The bytes are the file's."""
    from tikget_tui.tiktok.transport import MEDIA_READ_BYTES, RoutingTransport

    story = await find_story(STORY_A)  # a page and API answers: httpx's transport
    http = dl_client._client()
    routing = http._transport
    assert isinstance(routing, RoutingTransport)
    assert routing.media._session is None  # aiohttp was not needed for them
    sizes: list[int] = []
    digest = hashlib.sha256()
    async with dl_client.open_media(story.sources[0].url) as resp:
        async for chunk in resp.aiter_bytes(None):
            sizes.append(len(chunk))
            digest.update(chunk)
    assert routing.media._session is not None
    assert sum(sizes) > 1_000_000 and max(sizes) <= 2 * MEDIA_READ_BYTES
    # the same bytes as the service's file (fetched again through httpx's own transport)
    plain = await http.get(story.sources[0].url, follow_redirects=True,
                           headers={"Referer": dl_client.service.url("/")})
    assert plain.status_code == 200 and hashlib.sha256(plain.content).digest() == digest.digest()


@pytest.mark.parametrize("impersonate", ["chrome", "off"])
async def test_a_proxy_from_the_environment_still_takes_every_request(
    find_story, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, impersonate: str,
) -> None:
    """The media transport wraps httpx's own: HTTP(S)_PROXY is honoured for pages and for
    media (httpx ignores the environment when it is handed a transport), whichever
    transport carries pages (curl-cffi with chrome, httpx's own with off)."""
    import asyncio

    from tikget_tui.tiktok import NetworkError

    story = await find_story(STORY_A)  # the links, without a proxy
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readline())
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    try:
        async def no_wait(seconds: float) -> None:
            return None

        async with TikTokClient(demo_settings.replace(impersonate=impersonate),
                                clock=demo_clock, sleep=no_wait, max_attempts=1) as client:
            assert client.impersonating is (impersonate == "chrome")
            client.auto_session = False
            with pytest.raises(NetworkError):
                async with client.open_media(story.sources[0].url):
                    pass
            with pytest.raises(NetworkError):
                await client.lookup_stories("mika.travels")
    finally:
        server.close()
        await server.wait_closed()
    assert len(seen) >= 2
    assert all(line.startswith(b"GET http://127.0.0.1:") for line in seen)  # proxy form
