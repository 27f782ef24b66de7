"""No file, however made, can crash tikget or take its memory (issue 22): sidecars too deep
or too large beside good media, a config or database column nested a million levels, a
picture bomb and a 120 Mpx photo, a video of giant dimensions, ffprobe/ffmpeg at their
memory and CPU-time limits. Every case: no traceback, one line that says what happened,
memory peaks measured (tracemalloc in this process, ``ru_maxrss`` of the ``tikget``
process and its children through ``wait4`` in a small parent of theirs)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tests.plugins.hostile_files import (
    bomb_jpeg,
    deep_sidecar,
    giant_video,
    huge_jpeg,
    large_sidecar,
)
from tests.plugins.media import MediaFiles
from tikget_tui import jsonfile
from tikget_tui.archive.records import Records
from tikget_tui.mediatools import ChildLimits, MediaTools
from tikget_tui.verify import Verdict, verify
from tikget_tui.verify.files import sidecar_of
from tikget_tui.verify.probe import Deadline, run_tool

MB = 1024 * 1024


# A process's peak resident memory (ru_maxrss) starts at its parent's size when it is forked
# (Linux keeps the high-water mark across exec), and pytest grows to hundreds of MB over a
# whole run: measured straight from here, a 30 MB tikget showed as 362 MB. So a small Python
# forks tikget and reports what wait4 says of it and its children.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "tikget_tui", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
sys.stdout.flush()
print(f"\\nTIKGET-PEAK-KB {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_tikget(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, int]:
    """``tikget ARGS`` in a process of its own: exit status, output, and the peak resident
    memory of it and its children (``wait4`` in a small parent: ``_MEASURE``), in bytes."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env={**os.environ, **(env or {})}, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    out, _, peak = out.rpartition("\nTIKGET-PEAK-KB ")
    return proc.returncode, out, int(peak.strip()) * 1024


def no_traceback(out: str) -> None:
    assert "Traceback" not in out and "Error:" not in out.replace("tikget: error:", ""), out


# -- sidecars ---------------------------------------------------------------------------------

@pytest.mark.parametrize("planted", ["too deep", "too large"])
@pytest.mark.parametrize("media_name", ["h264_faststart.mp4", "no_audio.mp4"])
def test_a_planted_sidecar_is_a_note_and_the_file_is_still_verified(
    planted: str, media_name: str, media: MediaFiles, tmp_path: Path,
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    shutil.copyfile(media.path(media_name), folder / "clip.mp4")
    without, out_before, _ = run_tikget("verify", str(folder))
    make = deep_sidecar if planted == "too deep" else large_sidecar
    make(folder / "clip.info.json")

    status, out, peak = run_tikget("verify", str(folder))
    no_traceback(out)
    assert status == without == (0 if media_name == "h264_faststart.mp4" else 1), out
    assert re.search(rf"\n      warn  sidecar +sidecar unreadable: {planted} "
                     r"\(clip\.info\.json\); the file was checked without it\n", out), out
    # the file itself was checked as before: every check it had, with the same outcome
    before = [ln for ln in out_before.splitlines() if ln.startswith("      ") and "  " in ln[6:]]
    assert all(ln in out for ln in before[1:]), (out_before, out)
    # the 300 MB sidecar once cost 624 MB; the process and its ffmpeg children stay small
    assert peak < 200 * MB, f"peak {peak / MB:.0f} MB"


def test_reading_a_planted_sidecar_costs_almost_nothing(media: MediaFiles,
                                                        tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copyfile(media.path("h264_faststart.mp4"), clip)
    for make, reason, budget in ((deep_sidecar, "too deep", 12 * MB),
                                 (large_sidecar, "too large", 1 * MB)):
        make(tmp_path / "clip.info.json")
        tracemalloc.start()
        try:
            record = sidecar_of(clip)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert record is not None and record.unreadable == reason
        assert peak < budget, f"{reason}: peak {peak / MB:.1f} MB"


def test_bounded_json_reader(tmp_path: Path) -> None:
    # brackets inside strings are text, not nesting
    text = '{"caption": "' + "[{" * 500 + '", "files": [[1], {"a": [2]}]}'
    assert jsonfile.depth(text) == 4
    assert jsonfile.loads(text)["files"] == [[1], {"a": [2]}]
    assert jsonfile.depth('{"a": "\\"[[[[", "b": [1]}') == 2
    with pytest.raises(jsonfile.JsonUnreadable) as deep:
        jsonfile.loads("[" * 65 + "]" * 65)
    assert deep.value.reason == "too deep"
    jsonfile.loads("[" * 64 + "]" * 64)  # at the limit: fine
    with pytest.raises(jsonfile.JsonUnreadable) as large:
        jsonfile.loads(b" " * 2000, limit=1024)
    assert large.value.reason == "too large"
    # never read through a link, a FIFO or a device planted at the name
    fifo = tmp_path / "fifo.info.json"
    os.mkfifo(fifo)
    link = tmp_path / "link.info.json"
    link.symlink_to("/dev/zero")
    for path in (fifo, link):
        with pytest.raises(jsonfile.JsonUnreadable) as refused:
            jsonfile.read(path)
        assert refused.value.reason == "not a regular file"
    # the setting applies to reads that name no limit
    small = tmp_path / "ok.json"
    small.write_text('{"pad": "' + "x" * 3000 + '"}')
    try:
        jsonfile.configure(2048)
        with pytest.raises(jsonfile.JsonUnreadable):
            jsonfile.read(small)
    finally:
        jsonfile.configure(jsonfile.DEFAULT_MAX_BYTES)
    assert jsonfile.read(small)["pad"] == "x" * 3000


# -- the config file and the state database -------------------------------------------------

CONFIGS = {
    "deep": ("x = " + "[" * 100_000 + "]" * 100_000 + "\n",
             "nests brackets more than 64 levels deep"),
    "large": ("# " + "x" * (2 * MB) + "\n", "is too large (over 1,048,576 bytes)"),
}


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_a_hostile_config_file_is_one_line(kind: str, isolated_home: Path) -> None:
    text, line = CONFIGS[kind]
    (isolated_home / "config.toml").write_text(text)
    status, out, _ = run_tikget("locate")
    no_traceback(out)
    assert status == 2
    [only] = out.strip().splitlines()
    assert only.startswith("tikget: config file ") and line in only, out


def test_database_json_columns_are_bounded(tmp_path: Path) -> None:
    from tests.unit.test_store import story
    from tikget_tui.store import Store

    path = tmp_path / "state.sqlite3"
    with Store.open(path) as store:
        good = store.add_job(story("7440000000000000001"), variant="video")
        bad = store.add_job(story("7440000000000000002"), variant="video")
        Records(store).save_report(tmp_path / "a.mp4", {"verdict": "ok", "checks": []},
                          story_id="7440000000000000001")
    deep = "[" * 1_000_000 + "]" * 1_000_000
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE jobs SET story_json = ? WHERE id = ?", (deep, bad.id))
        conn.execute("UPDATE jobs SET files_json = ? WHERE id = ?", (deep, good.id))
        conn.execute("UPDATE reports SET report = ?", (deep,))
    with Store.open(path) as store:
        assert [j.id for j in store.list_jobs()] == [good.id]  # the unreadable row skipped
        assert store.get_job(bad.id) is None
        assert store.get_job(good.id).files == ()  # type: ignore[union-attr]
        assert Records(store).get_report(tmp_path / "a.mp4") is None


# -- media children under limits ------------------------------------------------------------

async def test_limits_are_set_in_the_child_before_it_runs(tmp_path: Path) -> None:
    script = ("import resource; print(resource.getrlimit(resource.RLIMIT_AS), "
              "resource.getrlimit(resource.RLIMIT_CPU))")
    result = await run_tool([sys.executable, "-c", script], Deadline(30),
                            ChildLimits(memory=1536 * MB, cpu_seconds=7))
    assert result.stdout.strip() == f"({1536 * MB}, {1536 * MB}) (7, 9)"


async def test_a_child_at_its_cpu_limit_fails_the_check_naming_it(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path,
) -> None:
    spin = tmp_path / "ffprobe"
    spin.write_text("#!/bin/sh\nwhile :; do :; done\n")
    spin.chmod(0o755)
    tools = MediaTools(media_tools.ffmpeg, str(spin), ChildLimits(cpu_seconds=1))
    report = await verify(media.path("h264_faststart.mp4"), tools=tools, timeout=60)
    probe = report.check("probe")
    assert probe is not None and probe.status is Verdict.FAIL
    assert probe.detail == "ffprobe stopped at the CPU-time limit (1 s, child_cpu_seconds)"


async def test_an_mp3_step_at_its_cpu_limit_fails_naming_it(
    media: MediaFiles, media_tools: MediaTools, tmp_path: Path,
) -> None:
    from tikget_tui.downloads.convert import ConvertError, extract_mp3

    spin = tmp_path / "ffmpeg"
    spin.write_text("#!/bin/sh\nwhile :; do :; done\n")
    spin.chmod(0o755)
    source = tmp_path / "clip.mp4"
    shutil.copyfile(media.path("h264_faststart.mp4"), source)
    tools = MediaTools(str(spin), media_tools.ffprobe, ChildLimits(cpu_seconds=1))
    with pytest.raises(ConvertError) as stopped:
        await extract_mp3(source, tmp_path / "clip.mp3", tools, timeout=60)
    assert str(stopped.value) == ("ffmpeg stopped at the CPU-time limit "
                                  "(1 s, child_cpu_seconds)")
    assert not (tmp_path / "clip.mp3").exists()  # nothing half-written


@pytest.fixture(scope="module")
def giant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return giant_video(tmp_path_factory.mktemp("giant") / "giant.mov", MediaTools.find())


def test_a_video_of_giant_dimensions_stays_under_the_memory_limit(
    giant: Path, media: MediaFiles,
) -> None:
    good = media.path("h264_faststart.mp4")
    # the default limit: the checks run, nothing takes the machine
    status, out, peak = run_tikget("verify", str(giant), str(good))
    no_traceback(out)
    assert "video, 2.00 s, mjpeg 8192x8192 2.00s" in out
    assert f"OK    {good}" in out, out
    assert peak < 1536 * MB, f"peak {peak / MB:.0f} MB"
    # a lower limit: the decode windows stop at it, say so, and the next file is checked
    limit = 300 * 1000 * 1000
    status, out, peak = run_tikget("verify", str(giant), str(good),
                                   env={"TIKGET_CHILD_MEMORY_BYTES": str(limit)})
    no_traceback(out)
    assert status == 1
    assert re.search(r"\n      fail  (first|last)_second +ffmpeg ran out of memory at the "
                     r"address-space limit \(286 MB, child_memory_bytes\)\n", out), out
    assert f"OK    {good}" in out, out
    assert peak < limit, f"peak {peak / MB:.0f} MB"


# -- pictures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    return {"bomb": bomb_jpeg(folder / "bomb.jpg"), "huge": huge_jpeg(folder / "huge.jpg")}


async def test_verification_writes_small_thumbnails_of_hostile_photos(
    photos: dict[str, Path], media_tools: MediaTools, tmp_path: Path,
) -> None:
    from PIL import Image

    for name, path in photos.items():
        frames = tmp_path / name
        report = await verify(path, tools=media_tools, frames_dir=frames)
        assert report.verdict is Verdict.OK, report.checks
        [thumb] = report.frames
        assert (thumb.label, Path(thumb.file)) == ("photo", frames / "photo.jpg")
        with Image.open(thumb.file) as image:
            assert max(image.size) == 480 and min(image.size) > 0


def test_a_picture_is_checked_before_it_is_decoded(photos: dict[str, Path]) -> None:
    from tikget_tui.ui.widgets.frame_strip import prepare

    tracemalloc.start()
    try:
        over = prepare(photos["huge"], "halfcell", budget=40_000_000)
        bomb = prepare(photos["bomb"], "halfcell", budget=400_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert over.image is None
    assert over.note == "preview not drawn: 12000x10000 image over the 40 Mpx budget"
    assert bomb.image is None
    assert bomb.note == ("preview not drawn: the image declares more pixels than Pillow "
                         "allows")
    assert peak < 1 * MB, f"peak {peak / MB:.1f} MB"


def test_prepare_never_raises(tmp_path: Path) -> None:
    from tikget_tui.ui.widgets.frame_strip import prepare

    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    for path in (junk, tmp_path / "gone.jpg"):
        result = prepare(path, "halfcell")
        assert result.image is None and result.note.startswith("preview not drawn: ")
        assert "\n" not in result.note



def test_readme_limits_list_the_new_settings() -> None:
    from tikget_tui.config import _ENV, Settings, load

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    limits = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    settings = load()
    for name in ("max_json_bytes", "max_picture_pixels", "child_memory_bytes",
                 "child_cpu_seconds"):
        env = _ENV[name][0]
        default = getattr(settings, name)
        assert f"| `{name}` | `{env}` | {default}" in limits, name
        assert getattr(Settings, name) == default  # the README's default is the code's
