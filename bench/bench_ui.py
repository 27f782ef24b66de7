"""UI benchmarks (not a test): time to first frame and CPU while 500 countdowns tick.

1. Time to first frame of TikGetApp vs a bare Textual app with a Header, a
   DataTable and a Footer, measured side by side in this process (headless
   ``run_test``, alternating, repeated; medians and their ratio).
2. Process CPU seconds per wall second while 500 story rows tick their
   countdowns once a second, next to the same app idle with no rows.

    .venv/bin/python bench/bench_ui.py                 # 30 s tick run
    .venv/bin/python bench/bench_ui.py --duration 5    # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

SIZE = (120, 40)


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()


def _settings():  # type: ignore[no-untyped-def]
    from tikget_tui.config import load

    return load()


async def first_frame(make_app) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        elapsed = time.perf_counter() - start
    return elapsed


def fake_lists(count: int):  # type: ignore[no-untyped-def]
    from tikget_tui.models import Creator, Kind, Story, StoryList

    now = datetime.now(UTC)
    per = 50
    lists = []
    for c in range((count + per - 1) // per):
        creator = Creator(unique_id=f"creator{c:02d}", nickname=f"Creator {c}")
        stories = []
        for i in range(min(per, count - c * per)):
            n = c * per + i
            created = now - timedelta(minutes=n)
            stories.append(Story(
                id=f"74{n:017d}", creator=creator, created_at=created,
                expires_at=created + timedelta(hours=24), caption=f"story number {n} #bench",
                kind=Kind.VIDEO, duration=10 + n % 50))
        lists.append(StoryList(creator=creator, stories=tuple(stories)))
    return lists


async def tick_cpu(rows: int, duration: float) -> tuple[float, float, int]:
    """(cpu seconds, wall seconds, ticks) with ``rows`` stories listed."""
    from tikget_tui.ui.app import TikGetApp

    app = TikGetApp(_settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.main_screen
        assert screen is not None
        table = screen.stories
        for story_list in fake_lists(rows):
            table.show_list(story_list)
        await pilot.press("tab")  # focus the table, as a user watching it would
        await pilot.pause()
        ticks0 = table.ticks
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(duration)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        return cpu, wall, table.ticks - ticks0


async def main(args: argparse.Namespace) -> None:
    from tikget_tui.ui.app import TikGetApp

    print(f"textual first frame at {SIZE[0]}x{SIZE[1]}, {args.runs} runs each (alternating)")
    bare: list[float] = []
    ours: list[float] = []
    await first_frame(BareApp)  # warm imports
    await first_frame(lambda: TikGetApp(_settings()))
    for _ in range(args.runs):
        bare.append(await first_frame(BareApp))
        ours.append(await first_frame(lambda: TikGetApp(_settings())))
    mb, mo = statistics.median(bare), statistics.median(ours)
    print(f"  bare Header+DataTable+Footer  median {mb * 1000:7.1f} ms")
    print(f"  TikGetApp                     median {mo * 1000:7.1f} ms")
    print(f"  ratio TikGetApp / bare        {mo / mb:7.2f}x")

    print(f"CPU while countdowns tick, {args.duration:g} s each")
    idle_cpu, idle_wall, _ = await tick_cpu(0, args.duration)
    cpu, wall, ticks = await tick_cpu(args.rows, args.duration)
    print(f"  idle app (no rows)            {idle_cpu / idle_wall * 100:6.2f}% of one core")
    print(f"  {args.rows} rows ticking ({ticks} ticks)   {cpu / wall * 100:6.2f}% of one core "
          f"({cpu:.2f} CPU s / {wall:.1f} s)")
    print(f"  ratio ticking / idle          {(cpu / wall) / max(idle_cpu / idle_wall, 1e-9):6.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of ticking")
    parser.add_argument("--runs", type=int, default=7, help="first-frame repetitions")
    parser.add_argument("--rows", type=int, default=500, help="story rows")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["TIKGET_HOME"] = home  # never touch the user's queue or config
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        asyncio.run(main(ns))
