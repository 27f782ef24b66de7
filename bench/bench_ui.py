"""UI benchmarks (not a test): time to first frame and CPU while 500 countdowns tick.

1. Whole process, as a person meets it: ``tikget`` and a bare Textual app (a
   Header, a DataTable and a Footer), each started as a fresh process on a
   pseudo-terminal of 120x40, timed from the spawn to the first full-screen
   paint (the write that reaches the last row); alternating runs after one
   warm-up each; min/median/max and the ratio of the medians.
2. In process: the same two apps headless (``run_test``), alternating,
   repeated; medians and their ratio (the UI's own share, imports excluded).
3. Process CPU seconds per wall second while 500 story rows tick their
   countdowns once a second, next to the same app idle with no rows.

    .venv/bin/python bench/bench_ui.py                 # 30 s tick run
    .venv/bin/python bench/bench_ui.py --duration 5    # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
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


BARE_SOURCE = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header


class BareApp(App[None]):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()


BareApp().run()
"""


def tikget_command() -> list[str]:
    """``tikget`` as installed next to this interpreter (else ``python -m tikget_tui``)."""
    script = Path(sys.executable).with_name("tikget")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tikget_tui"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_first_frame(argv: list[str], env: dict[str, str],
                        timeout: float = 30.0) -> tuple[float, float]:
    """(wall, CPU) seconds from spawning ``argv`` on a fresh pty of SIZE to its first
    full-screen paint.

    Textual paints the first frame in one write, top row to bottom row; the moment the
    cursor is sent to the last row is the moment the whole screen has been drawn. The CPU
    time (read from /proc at that moment, in clock ticks) is what the start cost the
    machine, and drifts less than the wall time when other jobs share the cores.
    """
    columns, rows = SIZE
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    last_row = f"\x1b[{rows};1H".encode()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        while True:
            left = start + timeout - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{argv[-1]}: no frame within {timeout:g} s")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed its end
                data = b""
            if not data:
                raise RuntimeError(f"{argv[-1]} ended before its first frame: "
                                   f"{bytes(seen[-400:])!r}")
            tail = max(0, len(seen) - len(last_row))
            seen += data
            if last_row in seen[tail:]:
                wall = time.perf_counter() - start
                return wall, cpu_seconds(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return "  ".join(f"{name} {value * scale:6.2f}{unit}"
                     for name, value in (("min", lo), ("median", mid), ("max", hi)))


def whole_process(runs: int, home: str) -> None:
    # What a person's second start finds: the package's bytecode compiled (an install, or
    # any earlier run, writes it; PYTHONDONTWRITEBYTECODE would otherwise recompile it on
    # every start of both programs' sources, and ours is the bigger).
    package = Path(__file__).resolve().parents[1] / "tikget_tui"
    with contextlib.suppress(OSError):
        compileall.compile_dir(package, quiet=2)
    env = dict(os.environ, TERM="xterm-256color", TIKGET_HOME=home)
    bare = [sys.executable, "-c", BARE_SOURCE]
    ours = tikget_command()
    print(f"whole process to first frame on a {SIZE[0]}x{SIZE[1]} pty, {runs} runs each "
          f"(alternating, after a warm-up): {' '.join(ours)} vs a bare app")
    process_first_frame(bare, env)
    process_first_frame(ours, env)
    b: list[tuple[float, float]] = []
    o: list[tuple[float, float]] = []
    for _ in range(runs):
        b.append(process_first_frame(bare, env))
        o.append(process_first_frame(ours, env))
    for i, what in enumerate(("wall time", "CPU time (user+sys)")):
        bb, oo = [x[i] for x in b], [x[i] for x in o]
        print(f"  {what}")
        print(f"    bare Header+DataTable+Footer  {spread(bb, 1000, ' ms')}")
        print(f"    tikget                        {spread(oo, 1000, ' ms')}")
        pairs = [x / y for x, y in zip(oo, bb, strict=True)]
        print(f"    ratio, pair by pair           {spread(pairs)}")
        print(f"    ratio tikget / bare (medians) "
              f"{statistics.median(oo) / statistics.median(bb):6.2f}x")


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

    print(f"in process (headless run_test) first frame at {SIZE[0]}x{SIZE[1]}, "
          f"{args.runs} runs each (alternating)")
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
    parser.add_argument("--process-runs", type=int, default=9,
                        help="whole-process first-frame repetitions")
    parser.add_argument("--start-only", action="store_true",
                        help="only the whole-process start measurement")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["TIKGET_HOME"] = home  # never touch the user's queue or config
        whole_process(ns.process_runs, home)
        if ns.start_only:
            sys.exit(0)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        asyncio.run(main(ns))
