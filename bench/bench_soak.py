"""Soak benchmark (not a test): is the app idle after downloads as it is before any?

The whole app (headless ``run_test``) on the stand-in in a thread, in a fresh TIKGET_HOME:

1. idle ``--duration`` seconds before any download: CPU (process seconds per wall second,
   as % of one core) and memory growth (RSS);
2. 20 downloads (videos, photos and MP3s of the demo creators) run to the end;
3. idle ``--duration`` seconds again: the same two figures.

Printed side by side with their ratio (after / before). The runaway message loop of
November 2026 showed here as ~100 % of a core and hundreds of MB after one download.

    .venv/bin/python bench/bench_soak.py                # 30 s windows
    .venv/bin/python bench/bench_soak.py --duration 5   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

DOWNLOADS = 20


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def idle_window(pilot, seconds: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(% of a core, MB of RSS growth) while the app sits idle for ``seconds``."""
    await pilot.pause(1.0)  # let the last repaint settle
    cpu0, wall0, mem0 = time.process_time(), time.monotonic(), rss_mb()
    await asyncio.sleep(seconds)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    return cpu, rss_mb() - mem0


async def soak(duration: float) -> None:
    from tikget_tui.clock import SYSTEM_CLOCK
    from tikget_tui.config import load
    from tikget_tui.demo import DemoServerThread, default_scenario, ensure_media
    from tikget_tui.ui.app import TikGetApp

    home = Path(tempfile.mkdtemp(prefix="tikget-soak-"))
    os.environ["TIKGET_HOME"] = str(home)
    media = ensure_media(home / "cache" / "demo-media")
    with DemoServerThread(default_scenario(), media=media, media_dir=home / "cache") as demo:
        settings = load().replace(service_origin=demo.origin, api_min_interval=0.0)
        app = TikGetApp(settings, clock=SYSTEM_CLOCK)
        async with app.run_test(size=(100, 30)) as pilot:
            while app.manager is None:
                await pilot.pause(0.05)
            before = await idle_window(pilot, duration)
            manager = app.manager
            stories = []
            for name in ("mika.travels", "studio.photos", "weird.names"):
                stories += (await app.client.lookup_stories(name)).stories
            queued = 0
            for audio in (False, True):
                for story in stories:
                    if queued == DOWNLOADS:
                        break
                    await manager.enqueue(story, audio=audio)
                    queued += 1
            started = time.monotonic()
            await manager.wait_idle()
            took = time.monotonic() - started
            states = [str(j.state) for j in manager.jobs()]
            after = await idle_window(pilot, duration)
    print(f"soak: {queued} downloads in {took:.1f} s "
          f"({states.count('done')} done, {len(states) - states.count('done')} other)")
    print(f"  idle {duration:.0f} s before any download: CPU {before[0]:5.2f} % of a core, "
          f"memory {before[1]:+.1f} MB")
    print(f"  idle {duration:.0f} s after {queued} downloads: CPU {after[0]:5.2f} % of a core, "
          f"memory {after[1]:+.1f} MB")
    ratio = after[0] / before[0] if before[0] > 0 else float("inf")
    print(f"  ratio after/before: CPU {ratio:.2f}x; memory growth {after[1] - before[1]:+.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="idle window, seconds")
    asyncio.run(soak(parser.parse_args().duration))


if __name__ == "__main__":
    main()
