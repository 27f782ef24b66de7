"""Benchmark: ``verify()`` against a full decode of the same file, in one run.

Generates (once, cached in the system temp dir) 60-second 1080x1920 30 fps
H.264/AAC stories, then times, on each, our ``verify`` (median of several
runs, SHA-256 included) and ``ffmpeg -v error -i FILE -f null -`` (median),
and prints both and their ratio. Verification runs as the app runs it: its
first- and last-second decode windows also write the two preview frames
(``frames_dir``), so the ratio includes them. Two files: a 2-second GOP (common for
streaming encoders) and x264's default 250-frame GOP (the worst case for
the end window, which must decode from the keyframe before it).

    .venv/bin/python bench/bench_verify.py [--runs N] [--baseline-runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tikget_tui.mediatools import MediaTools
from tikget_tui.verify import Expected, Verdict, verify

CACHE = Path(tempfile.gettempdir()) / "tikget-bench-verify-v1"
DURATION = 60
FILES = {
    "gop-2s": ["-g", "60"],
    "gop-x264-default": [],
}


def generate(tools: MediaTools, name: str, gop_args: list[str]) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"story-60s-1080x1920-{name}.mp4"
    if out.exists():
        return out
    tmp = out.with_suffix(f".{os.getpid()}.tmp.mp4")
    print(f"generating {out.name} (once) ...", flush=True)
    subprocess.run([
        tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=s=1080x1920:r=30:d={DURATION}",
        "-f", "lavfi", "-i", f"sine=f=440:sample_rate=44100:d={DURATION}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *gop_args,
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(tmp),
    ], check=True, stdin=subprocess.DEVNULL)
    tmp.replace(out)
    return out


def time_ours(tools: MediaTools, path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as frames:
            report = asyncio.run(verify(path, Expected(duration=DURATION, kind="video"),
                                        tools=tools, frames_dir=Path(frames)))
            times.append(time.perf_counter() - start)
            if len(report.frames) != 2:
                raise SystemExit(f"expected two preview frames, got {report.frames}")
        if report.verdict is not Verdict.OK:
            raise SystemExit(f"unexpected verdict {report.verdict}: {report.summary}")
    return statistics.median(times)


def time_full_decode(tools: MediaTools, path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([tools.ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"],
                       check=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="verify runs per file (median)")
    parser.add_argument("--baseline-runs", type=int, default=3,
                        help="full-decode runs per file (median)")
    args = parser.parse_args()
    tools = MediaTools.find()
    print(f"ffmpeg: {tools.ffmpeg}  cores: {os.cpu_count()}")
    rows = []
    for name, gop in FILES.items():
        path = generate(tools, name, gop)
        ours = time_ours(tools, path, args.runs)
        full = time_full_decode(tools, path, args.baseline_runs)
        rows.append((name, path.stat().st_size, ours, full))
    print(f"{'file (60 s, 1080x1920, 30 fps)':<32} {'size':>9} {'verify+frames':>9} "
          f"{'full decode':>12} {'ratio':>7}")
    for name, size, ours, full in rows:
        print(f"{name:<32} {size / 2**20:>6.1f}MiB {ours:>8.3f}s {full:>11.3f}s "
              f"{ours / full:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
