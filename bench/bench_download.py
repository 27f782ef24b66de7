"""Download benchmark against a loopback media server.

1. Throughput: one large MP4 (~200 MB, made from the demo media with an ffmpeg
   stream copy loop) fetched by the engine's transfer layer (TikTokClient.open_media
   + Transfer: .part, sha256 while the bytes arrive, fsync, rename) vs ``curl -o`` on
   the same URL (then fsync'd), and vs ``yt-dlp`` and ``gallery-dl`` (whole processes)
   when they are installed. Runs alternate (``--runs``, default 5); prints min/median/max
   and the ratios (ours / curl throughput; 1.0 = as fast as curl), best and median, and
   what the engine does without the sha256 (``digest=False``), to show what hashing costs.
2. Memory: 20 concurrent 50 MB downloads through the whole DownloadManager
   (queue, transfer, verification). Prints the peak RSS of this process
   (``ru_maxrss``) and its growth over the baseline.

The media server is a plain aiohttp FileResponse (Range/206 included) run in a
child process, so its memory is not counted. Run: ``.venv/bin/python bench/bench_download.py``.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIG_MB = 200
SMALL_MB = 50
CONCURRENT = 20


def serve(directory: str) -> None:
    """Child process: serve DIRECTORY on a free loopback port, print the origin."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.StreamResponse:
        path = Path(directory) / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, chunk_size=256 * 1024)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/video/{name}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def make_media(folder: Path) -> tuple[Path, Path]:
    """A ~200 MB and a ~50 MB valid MP4, looped from the demo media without re-encoding."""
    from tikget_tui.demo import ensure_media
    from tikget_tui.mediatools import MediaTools

    tools = MediaTools.find()
    catalog = ensure_media(Path(tempfile.gettempdir()) / "tikget-bench-demo-media", tools)
    src = catalog["h264_a"]
    out = []
    for name, mb in (("big.mp4", BIG_MB), ("small.mp4", SMALL_MB)):
        loops = max(0, round(mb * 1024 * 1024 / src.size) - 1)
        target = folder / name
        subprocess.run([tools.ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-stream_loop",
                        str(loops), "-i", str(src.path), "-c", "copy", str(target)],
                       check=True, stdin=subprocess.DEVNULL)
        out.append(target)
    return out[0], out[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def ours_once(settings, url: str, dest: Path,  # type: ignore[no-untyped-def]
                    digest: bool = True) -> float:
    from tikget_tui.downloads.transfer import Transfer, finalize
    from tikget_tui.tiktok import TikTokClient

    part = dest.with_name(dest.name + ".part")
    async with TikTokClient(settings) as client:
        t0 = time.perf_counter()
        result = await Transfer(client=client, urls=[url], part=part, want="video",
                                digest=digest).run()
        await asyncio.to_thread(finalize, part, dest)
        elapsed = time.perf_counter() - t0
    assert (result.sha256 is not None) == digest
    return elapsed


def peer_commands(url: str, dest: Path) -> dict[str, list[str]]:
    """Each downloader's command for ``url`` into ``dest`` (installed ones only)."""
    commands = {
        "curl": ["curl", "-s", "-f", "-o", str(dest), url],
        "yt-dlp": ["yt-dlp", "-q", "--no-progress", "--no-part", "--no-mtime",
                   "-o", str(dest), url],
        "gallery-dl": ["gallery-dl", "-q", "-D", str(dest.parent), "-f", dest.name, url],
    }
    return {name: argv for name, argv in commands.items() if shutil.which(argv[0])}


def peer_once(argv: list[str], dest: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    with open(dest, "rb") as f:
        os.fsync(f.fileno())  # the engine fsyncs too: compare like with like
    return time.perf_counter() - t0


async def concurrent(settings, origin: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from tikget_tui.downloads import DownloadManager, JobState
    from tikget_tui.models import Creator, Kind, MediaSource, Story

    now = datetime.now(UTC)
    stories = [
        Story(id=f"90000000000000{i:05d}", creator=Creator("bench"), created_at=now,
              expires_at=now + timedelta(hours=1 + i), caption=f"bench {i}", kind=Kind.VIDEO,
              sources=(MediaSource(url=f"{origin}/video/small.mp4"),), is_story=False)
        for i in range(CONCURRENT)
    ]
    t0 = time.perf_counter()
    async with DownloadManager(settings, write_metadata=False, lock=False) as m:
        for s in stories:
            await m.enqueue(s)
        await m.wait_idle()
        done = sum(1 for j in m.jobs() if j.state == JobState.DONE)
    return time.perf_counter() - t0, done


def spread(values: list[float]) -> str:
    return (f"min {min(values):.3f} s  median {statistics.median(values):.3f} s  "
            f"max {max(values):.3f} s")


def throughput(settings, url: str, out: Path, size_mb: float, runs: int) -> None:  # type: ignore[no-untyped-def]
    peers = peer_commands(url, out / "peer.mp4")
    for name in ("curl", "yt-dlp", "gallery-dl"):
        if name not in peers:
            print(f"{name} is not installed: no comparison with it"
                  + (" (apt-get install -y curl)" if name == "curl" else ""))
    times: dict[str, list[float]] = {"tikget": [], "tikget, no sha256": []}
    times.update({name: [] for name in peers})
    for _ in range(runs):  # alternating, so a slower moment of the machine hits all alike
        for name in times:
            dest = out / "bench.mp4"
            if name.startswith("tikget"):
                times[name].append(asyncio.run(ours_once(settings, url, dest,
                                                         digest=name == "tikget")))
            else:
                times[name].append(peer_once(peers[name], out / "peer.mp4"))
                dest = out / "peer.mp4"
            dest.unlink()
    print(f"single {size_mb:.0f} MB file, {runs} alternating runs each:")
    for name, values in times.items():
        print(f"  {name:18s} {size_mb / min(values):5.0f} MB/s best   {spread(values)}")
    ours = times["tikget"]
    for name in peers:
        theirs = times[name]
        pairs = [t / o for o, t in zip(ours, theirs, strict=True)]
        print(f"throughput ratio tikget/{name}: {min(theirs) / min(ours):.2f} (best of each), "
              f"{statistics.median(pairs):.2f} (median of pairs)")
    if "curl" in peers:
        plain = times["tikget, no sha256"]
        pairs = [t / o for o, t in zip(plain, times["curl"], strict=True)]
        print(f"  without the sha256: {min(times['curl']) / min(plain):.2f} (best), "
              f"{statistics.median(pairs):.2f} (median of pairs)")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return 0
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    work = Path(tempfile.mkdtemp(prefix="tikget-bench-"))
    os.environ["TIKGET_HOME"] = str(work / "home")
    server = None
    try:
        media = work / "media"
        media.mkdir()
        big, small = make_media(media)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(media)],
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert server.stdout is not None
        origin = server.stdout.readline().strip()

        from tikget_tui.config import load

        out = work / "out"
        out.mkdir()
        settings = load().replace(service_origin=origin, download_dir=out, api_min_interval=0.0,
                                  concurrency=CONCURRENT, per_host_concurrency=CONCURRENT)
        url = f"{origin}/video/big.mp4"
        size_mb = big.stat().st_size / 1e6
        baseline = peak_rss_mb()
        throughput(settings, url, out, size_mb, runs)
        after_single = peak_rss_mb()

        elapsed, done = asyncio.run(concurrent(settings, origin))
        peak = peak_rss_mb()
        total_mb = CONCURRENT * small.stat().st_size / 1e6
        print(f"{CONCURRENT} concurrent {SMALL_MB} MB downloads (whole engine, verified):"
              f" {done}/{CONCURRENT} done in {elapsed:.1f} s ({total_mb / elapsed:.0f} MB/s)")
        print(f"peak RSS: {peak:.0f} MB (baseline {baseline:.0f} MB before any download,"
              f" {after_single:.0f} MB after the single-file runs)")
        return 0 if done == CONCURRENT else 1
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
