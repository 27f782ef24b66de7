"""Benchmark: the library pane on 10,000 saved items against 100, in one run.

Builds two archives (100 and 10,000 saved copies, each with the job that saved it) in
a temp folder, then times, on each (medians):

1. listing: ``library.load`` (one SQL query, the stories parsed, each file stat'ed: what
   opening the pane, or returning to it, runs in a thread), and the stat pass alone
   (``library.restat``; the archive's files exist, a few are missing or of another size);
2. filtering: one key press's worth of filtering (``view`` with a word, a date, a
   verdict), what the pane does on every keystroke;
3. showing: the items handed to the pane's line-API table and the screen painted
   (headless, 120x40), next to a Textual ``DataTable`` given the same rows.

and prints the times and the ratio 10,000 / 100 (listing and filtering grow with the
archive, about linearly; showing should not grow at all).

    .venv/bin/python bench/bench_library.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tikget_tui.archive import library
from tikget_tui.models import Creator, Kind, Story
from tikget_tui.store import Store

SIZES = (100, 10_000)
WORDS = ["tram", "lisboa", "market", "coffee", "sunset", "gallery", "fado", "beach"]
FILTERS = ("tram", "nov 28", "fail", "#lisboa mika")
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def build(folder: Path, n: int) -> Store:
    store = Store.open(folder / "state.db")
    now = NOW.timestamp()
    jobs, archive = [], []
    downloads = folder / "downloads"
    downloads.mkdir()
    for i in range(n):
        creator = Creator(unique_id=f"creator{i % 50}", nickname=f"Creator {i % 50}")
        posted = NOW - timedelta(hours=i % 500)
        story = Story(id=f"74{i:017d}", creator=creator, created_at=posted,
                      expires_at=posted + timedelta(hours=24),
                      caption=f"{WORDS[i % len(WORDS)]} {i} #lisboa" if i % 3 == 0
                      else f"{WORDS[(i * 7) % len(WORDS)]} number {i}",
                      kind=Kind.PHOTO if i % 5 == 0 else Kind.VIDEO)
        variant = "photo" if story.kind == Kind.PHOTO else "video"
        jobs.append((i + 1, story.id, variant, "done", json.dumps(story.to_dict()), now, now))
        path = downloads / f"{creator.unique_id}-{i}.mp4"
        body = b"x" * (i % 4096 + 1)
        if i % 101:  # a few are gone from disk: the re-check finds them missing
            path.write_bytes(body + (b"!" if i % 89 == 0 else b""))  # and a few changed
        verdict = "fail" if i % 97 == 0 else "ok"
        archive.append((story.id, variant, str(path), "[]", len(body), verdict,
                        now - i * 60, creator.unique_id, i + 1, ""))
    with store.transaction() as c:  # one transaction: building is not what is measured
        c.executemany("INSERT INTO jobs (id, story_id, variant, state, story_json, created_at,"
                      " updated_at) VALUES (?,?,?,?,?,?,?)", jobs)
        c.executemany("INSERT INTO archive (story_id, variant, path, files_json, size, verdict,"
                      " saved_at, creator, job_id, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      archive)
    return store


def median_time(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def time_show(items: list[library.LibraryItem], runs: int, *,
                    datatable: bool) -> float:
    """Hand ``items`` to the widget and wait for the screen to be painted (median)."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from tikget_tui.ui.widgets.library_table import LibraryTable, row_cells

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable() if datatable else LibraryTable()

    times = []
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        if datatable:
            table: Any = app.query_one(DataTable)
            table.add_columns("creator", "caption", "kind", "posted", "saved", "size", "verdict")
        else:
            table = app.query_one(LibraryTable)
        await pilot.pause()
        for _ in range(runs):
            start = time.perf_counter()
            if datatable:
                table.clear()
                table.add_rows([row_cells(i) for i in items])
            else:
                table.set_items(items)
            await pilot.pause()
            app.screen._refresh_layout()
            await pilot.pause()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measure (median)")
    args = parser.parse_args()
    results: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            store = build(folder, n)
            items = library.load(store)
            assert len(items) == n
            assert sum(i.audit == "missing" for i in items) == len(range(0, n, 101))
            assert any(i.audit == "changed" for i in items)
            results.setdefault("list (load + parse + stat)", {})[n] = median_time(
                lambda store=store: library.load(store), args.runs)  # type: ignore[misc]
            # opening the pane again: the archive and the latest checks read again, every
            # file stat'ed (in a thread), then the filtered view handed to the table
            results.setdefault("re-check on return (stat only)", {})[n] = median_time(
                lambda items=items: library.restat(items), args.runs)  # type: ignore[misc]
            for text in FILTERS:
                results.setdefault(f"filter {text!r}", {})[n] = median_time(
                    lambda items=items, text=text: library.view(  # type: ignore[misc]
                        items, text, "saved", NOW), args.runs)
            results.setdefault("sort by creator", {})[n] = median_time(
                lambda items=items: library.view(items, "", "creator", NOW),  # type: ignore[misc]
                args.runs)
            results.setdefault("show: library pane (line API)", {})[n] = asyncio.run(
                time_show(items, args.runs, datatable=False))
            results.setdefault("show: DataTable, same rows", {})[n] = asyncio.run(
                time_show(items, max(1, args.runs // 2), datatable=True))
            store.close()
    small, large = SIZES
    print(f"{'library':<34} {f'{small} items':>11} {f'{large:,} items':>13} {'ratio':>8}")
    for name, row in results.items():
        print(f"{name:<34} {row[small] * 1000:>9.2f}ms {row[large] * 1000:>11.2f}ms "
              f"{row[large] / row[small]:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
