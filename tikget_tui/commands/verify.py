"""``tikget verify FILE... [--expect-duration S] [--json]``: check saved media files.

Exit status: 0 when every file is ok or warn, 1 when any fails, 2 on a usage
error or when ffmpeg/ffprobe cannot be found (the check cannot run at all).
File names are printed as plain text, never interpreted as markup.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from tikget_tui.config import Settings
from tikget_tui.mediatools import MediaTools, ToolNotFound
from tikget_tui.verify import Expected, Report, Verdict, verify

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
# Files verified at once: each runs up to five short children, on few cores.
PARALLEL_FILES = 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    expect = args.expect_duration
    if expect is not None and not expect > 0:
        print("tikget: error: --expect-duration must be a positive number of seconds",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        tools = MediaTools.find(settings.ffmpeg_path, settings.ffprobe_path)
    except ToolNotFound as exc:
        print(f"tikget: {exc}", file=sys.stderr)
        return EXIT_USAGE
    expected = Expected(duration=expect)
    reports = asyncio.run(_verify_all(list(args.files), expected, tools))
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        print(render_table(reports))
    return EXIT_FAIL if any(r.verdict is Verdict.FAIL for r in reports) else EXIT_OK


async def _verify_all(files: list[Path], expected: Expected, tools: MediaTools) -> list[Report]:
    gate = asyncio.Semaphore(PARALLEL_FILES)

    async def one(path: Path) -> Report:
        async with gate:
            return await verify(path, expected, tools=tools)

    return list(await asyncio.gather(*(one(p) for p in files)))


def _clean(text: str) -> str:
    """File names and tool output as one printable line (no terminal escapes)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def render_table(reports: list[Report]) -> str:
    lines: list[str] = []
    for report in reports:
        streams = ", ".join(s.describe() for s in report.streams) or "-"
        duration = f"{report.duration:.2f} s" if report.duration is not None else "-"
        lines.append(f"{report.verdict.upper():<4}  {_clean(str(report.path))}")
        lines.append(f"      {report.kind}, {duration}, {_clean(streams)}")
        width = max((len(c.name) for c in report.checks), default=0)
        for c in report.checks:
            lines.append(f"      {c.status:<4}  {c.name:<{width}}  {_clean(c.detail)}")
        lines.append("")
    counts = {v: sum(r.verdict is v for r in reports) for v in Verdict}
    lines.append(f"{len(reports)} file{'s' if len(reports) != 1 else ''}: "
                 f"{counts[Verdict.OK]} ok, {counts[Verdict.WARN]} warn, "
                 f"{counts[Verdict.FAIL]} fail")
    return "\n".join(lines)
