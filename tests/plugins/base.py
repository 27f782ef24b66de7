"""Fixtures every test gets: an isolated TIKGET_HOME, no user config leaking in."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "tikget-home"
    home.mkdir()
    keep = {"TIKGET_DEMO_MEDIA"}  # a cache location, not a setting
    for var in [v for v in os.environ if v.startswith("TIKGET_") and v not in keep]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TIKGET_HOME", str(home))
    yield home


@contextlib.contextmanager
def database_held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another program holds ``BEGIN EXCLUSIVE`` on the SQLite file at ``path`` (created
    first) until the block ends; yields that process (its ``pid`` is what messages name)."""
    from tikget_tui.store import Store

    Store.open(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, time\n"
         f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE'); c.execute('CREATE TABLE IF NOT EXISTS x (y)')\n"
         "print('locked', flush=True); time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()
