"""Fixtures for the batch CLI (save / watch / audit / export) against the stand-in.

- ``cli_env``: environment pointing ``tikget`` at ``demo_thread`` (TIKGET_SERVICE, no API
  spacing, downloads under ``tmp_path/downloads``); returns the download dir.
- ``run_cli``: ``run_cli(*argv, stdin="") -> CliResult(rc, out, err)`` runs
  ``tikget_tui.cli.main`` in-process with captured output (and optional stdin text).
- ``trim_stories(scenario, username, keep)``: keep only those story ids (faster tests).

Sync tests only (``main`` runs its own event loop); the server runs in ``demo_thread``.
In-process commands use the system clock, so modules that save should pin ``demo_clock``
to real time (``realtime_clock()``), keeping the stand-in's story times consistent with it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tikget_tui.clock import FakeClock
from tikget_tui.demo import DemoServerThread, Scenario


def realtime_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@dataclass
class CliResult:
    rc: int
    out: str
    err: str


@pytest.fixture
def cli_env(demo_thread: DemoServerThread, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    downloads = tmp_path / "downloads"
    monkeypatch.setenv("TIKGET_SERVICE", demo_thread.origin)
    monkeypatch.setenv("TIKGET_API_MIN_INTERVAL", "0")
    monkeypatch.setenv("TIKGET_DOWNLOAD_DIR", str(downloads))
    return downloads


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
            ) -> Callable[..., CliResult]:
    from tikget_tui.cli import main

    def run(*argv: str, stdin: str | None = None) -> CliResult:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        rc = main(list(argv))
        captured = capsys.readouterr()
        return CliResult(rc, captured.out, captured.err)

    return run


def trim_stories(scenario: Scenario, username: str, keep: set[str]) -> None:
    creator = scenario.creator(username)
    assert creator is not None, username
    creator.stories = [s for s in creator.stories if s.id in keep]
