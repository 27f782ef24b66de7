"""Private by default (issue 22): whatever the umask, what tikget keeps about the user's
research (config, data, cache and log folders; the state database with its -wal/-shm,
the log file, saved answers, written pages, the input history) is the user's alone;
what an older tikget left open is tightened once, with a line in ``-v``; the download
folder keeps the user's umask."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tikget_tui.archive.records import Records
from tikget_tui.config import load
from tikget_tui.private import write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual one: files 0644, folders 0755 unless we say so
    try:
        yield
    finally:
        os.umask(old)


def tikget(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tikget_tui", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)


def test_a_fresh_start_makes_everything_private(isolated_home: Path) -> None:
    done = tikget("-v", "export")
    assert done.returncode == 0, done.stderr
    settings = load()
    assert mode(settings.data_dir) == 0o700
    assert not settings.cache_dir.exists()  # nothing needed it yet
    from tikget_tui import logs

    try:
        assert logs.start_app_log(settings) == logs.log_file(settings)  # the app's log
    finally:
        logs.setup_logging(settings)
    assert mode(settings.cache_dir) == 0o700
    assert mode(logs.log_file(settings)) == 0o600
    assert mode(settings.state_db) == 0o600
    wal = [settings.state_db.with_name(settings.state_db.name + x) for x in ("-wal", "-shm")]
    for path in wal:
        if path.exists():  # SQLite keeps them while a connection is open
            assert mode(path) == 0o600
    from tikget_tui.instance import InstanceLock

    lock = InstanceLock(settings.data_dir)
    lock.acquire()
    try:
        assert mode(lock.path) == 0o600
    finally:
        lock.release()
    assert "made " not in done.stderr  # nothing needed tightening: it was made private
    # TIKGET_HOME holds the download folder: neither is ours to close
    assert mode(isolated_home) == 0o755


def test_the_database_and_its_wal_are_private_while_open(isolated_home: Path) -> None:
    from tikget_tui.store import Store

    settings = load()
    with Store.open(settings.state_db) as store:
        Records(store).save_report(isolated_home / "a.mp4", {"verdict": "ok"}, story_id="1")
        for suffix in ("", "-wal", "-shm"):
            path = settings.state_db.with_name(settings.state_db.name + suffix)
            assert path.exists() and mode(path) == 0o600, suffix


def test_older_files_are_tightened_once_with_a_line_in_verbose(isolated_home: Path) -> None:
    settings = load()
    for folder in (settings.data_dir, settings.cache_dir):
        folder.mkdir(mode=0o755)
    log = settings.cache_dir / "tikget.log"
    for path in (settings.state_db, log, settings.data_dir / "input-history.txt"):
        path.write_text("")
        path.chmod(0o644)
    downloads = isolated_home / "downloads"
    downloads.mkdir(mode=0o755)

    first = tikget("-v", "locate")
    assert first.returncode == 0, first.stderr
    for path in (settings.data_dir, settings.cache_dir):
        assert mode(path) == 0o700
        assert f"made {path} private: mode 0700, was 0755" in first.stderr, first.stderr
    for path in (settings.state_db, log, settings.data_dir / "input-history.txt"):
        assert mode(path) == 0o600
        assert f"made {path} private: mode 0600, was 0644" in first.stderr
    assert mode(downloads) == 0o755  # the user's call
    assert "Traceback" not in first.stderr

    again = tikget("-v", "locate")
    assert again.returncode == 0 and "private" not in again.stderr  # once


def test_log_file_and_its_rotations_are_private(isolated_home: Path) -> None:
    from tikget_tui import logs

    settings = load()
    path = settings.cache_dir / "t.log"
    try:
        assert logs.setup_logging(settings, file=path) == path
        logger = logging.getLogger("tikget_tui.test")
        for _ in range(3):
            logger.info("x" * logs.LOG_FILE_BYTES)  # each line rotates the file
    finally:
        logs.setup_logging(settings)  # close the handler
    assert mode(path.parent) == 0o700
    rotated = [path, *(path.with_name(f"{path.name}.{n}") for n in (1, 2))]
    assert all(p.exists() and mode(p) == 0o600 for p in rotated), [oct(mode(p)) for p in rotated]


def test_saved_answers_and_written_pages_are_private(isolated_home: Path,
                                                     tmp_path: Path) -> None:
    from tikget_tui.tiktok import diagnostics

    settings = load()
    url = "https://www.tiktok.com/api/story/item_list/?aid=1988"
    response = httpx.Response(200, content=b'{"ok": 1}',
                              request=httpx.Request("GET", url))
    answer = diagnostics.Answer("GET", url, 200, (), b'{"ok": 1}', 0.1)
    saved = diagnostics.save_answer(settings.cache_dir, answer, "did not parse")
    assert mode(saved) == 0o600 and mode(saved.parent) == 0o700
    pages = tmp_path / "pages"
    diagnostics.configure(write_pages=pages)
    try:
        diagnostics.record("GET", url, response, time.monotonic(), streamed=False)
    finally:
        diagnostics.configure(write_pages=None)
    [page] = pages.iterdir()
    assert mode(page) == 0o600 and mode(pages) == 0o700


def test_written_files_are_private_and_never_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("theirs")
    link = tmp_path / "input-history.txt"
    link.symlink_to(target)
    with pytest.raises(OSError):
        write_private(link, "@creator\n")
    assert target.read_text() == "theirs"
    fresh = tmp_path / "history.txt"
    write_private(fresh, "@creator\n")
    assert mode(fresh) == 0o600
