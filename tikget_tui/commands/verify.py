"""``tikget verify FILE|FOLDER... [-r] [--expect-duration S] [--frames DIR] [--json]``: check
saved media.

A folder means its media files (``-r``: sub-folders too). The project's own ``.info.json``
sidecars and partial ``.part`` files are skipped and counted, never failed. When a sidecar
beside a file lists it, the file is checked against it: the declared duration (and kind),
and the sha256 recorded when it was saved — a file edited since is reported as changed.

Exit status: 0 when every file is ok or warn, 1 when any fails (or changed), 2 on a usage
error, when nothing is left to verify, or when ffmpeg/ffprobe cannot be found (the check
cannot run at all). File names are printed as plain text, never interpreted as markup.

``--frames DIR`` writes each video's first and last frame as ``NAME.first.jpg`` and
``NAME.last.jpg``: the first- and last-second decode checks write them as they run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from tikget_tui.config import Settings
from tikget_tui.mediatools import MediaTools, ToolNotFound
from tikget_tui.verify import Report, Verdict, verify
from tikget_tui.verify.files import collect, compare, expected_from, missing_listed, sidecar_of
from tikget_tui.verify.frames import export
from tikget_tui.verify.report import Frame

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
        tools = MediaTools.for_settings(settings)
    except ToolNotFound as exc:
        print(f"tikget: {exc}", file=sys.stderr)
        return EXIT_USAGE
    found = collect(list(args.files), recursive=bool(getattr(args, "recursive", False)))
    skipped = found.skipped_line()
    missing = missing_listed(found.sidecar_paths)
    if not found.files and not missing:
        print(f"tikget: nothing to verify ({skipped or 'no file named'}); name media files "
              "or folders that hold them", file=sys.stderr)
        return EXIT_USAGE
    frames_to: Path | None = getattr(args, "frames", None)
    if frames_to is not None:
        try:
            frames_to.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"tikget: error: cannot use {frames_to} for --frames: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    reports, changed = asyncio.run(_verify_all(found.files, expect, tools, frames_to))
    if args.json:
        items = []
        for report in reports:
            item = report.to_dict()
            item["changed"] = report.path in changed
            items.append(item)
        items.extend({"path": str(media), "verdict": "fail", "missing": True,
                      "sidecar": str(side)} for side, media in missing)
        print(json.dumps(items, indent=2))
        if skipped:
            print(f"tikget: {skipped}", file=sys.stderr)
    else:
        print(render_table(reports, changed=changed, skipped=skipped, missing=missing))
    failed = missing or any(r.verdict is Verdict.FAIL for r in reports)
    return EXIT_FAIL if failed else EXIT_OK


async def _verify_all(files: list[Path], expect: float | None, tools: MediaTools,
                      frames_to: Path | None = None) -> tuple[list[Report], set[Path]]:
    gate = asyncio.Semaphore(PARALLEL_FILES)
    changed: set[Path] = set()
    stems: set[str] = set()

    async def one(path: Path) -> Report:
        record = await asyncio.to_thread(sidecar_of, path)
        async with gate:
            if frames_to is None:
                report = await verify(path, expected_from(record, expect), tools=tools)
            else:
                with tempfile.TemporaryDirectory(prefix=".tikget-frames-",
                                                 dir=frames_to) as work:
                    report = await verify(path, expected_from(record, expect), tools=tools,
                                          frames_dir=Path(work))
                    stem = path.stem
                    n = 2
                    while stem in stems:  # two files of the same name in different folders
                        stem, n = f"{path.stem}-{n}", n + 1
                    stems.add(stem)
                    written = export(report, frames_to, stem)
                    report.frames = [Frame(f.label, f.time, str(p))
                                     for f, p in zip(report.frames, written, strict=True)]
        if compare(report, record):
            changed.add(report.path)
        return report

    return list(await asyncio.gather(*(one(p) for p in files))), changed


def _clean(text: str) -> str:
    """File names and tool output as one printable line (no terminal escapes)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def render_table(reports: list[Report], *, changed: set[Path] | None = None,
                 skipped: str = "", missing: list[tuple[Path, Path]] | None = None) -> str:
    lines: list[str] = []
    changed = changed or set()
    missing = missing or []
    for side, media in missing:
        lines.append(f"FAIL  {_clean(str(media))}  (missing)")
        lines.append(f"      missing: {_clean(side.name)} lists it, and it is not there")
        lines.append("")
    for report in reports:
        streams = ", ".join(s.describe() for s in report.streams) or "-"
        duration = f"{report.duration:.2f} s" if report.duration is not None else "-"
        note = "  (changed since it was saved)" if report.path in changed else ""
        lines.append(f"{report.verdict.upper():<4}  {_clean(str(report.path))}{note}")
        lines.append(f"      {report.kind}, {duration}, {_clean(streams)}")
        width = max((len(c.name) for c in report.checks), default=0)
        for c in report.checks:
            lines.append(f"      {c.status:<4}  {c.name:<{width}}  {_clean(c.detail)}")
        for f in report.frames:
            when = f"{f.time:.2f} s" if f.time is not None else "?"
            lines.append(f"      frame {f.label} ({when}): {_clean(f.file)}")
        lines.append("")
    counts = {v: sum(r.verdict is v for r in reports) for v in Verdict}
    lines.append(f"{len(reports)} file{'s' if len(reports) != 1 else ''}: "
                 f"{counts[Verdict.OK]} ok, {counts[Verdict.WARN]} warn, "
                 f"{counts[Verdict.FAIL]} fail"
                 + (f" ({len(changed)} changed since saved)" if changed else "")
                 + (f"; {len(missing)} missing (listed by a sidecar)" if missing else "")
                 + (f"; {skipped}" if skipped else ""))
    return "\n".join(lines)
