"""Helpers for driving the Textual app in tests (Pilot against the stand-in service)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServerThread

UI_WAIT_LIMIT = 30.0  # seconds: a bound so a broken condition fails instead of hanging


async def wait_until(pilot: Pilot[object], condition: Callable[[], bool], what: str,
                     limit: float = UI_WAIT_LIMIT) -> None:
    """Let the app run until ``condition()`` holds (bounded; fails with ``what``)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def notifications(app: object) -> list[str]:
    """The messages of the toasts the app raised, oldest first."""
    return list(getattr(app, "recent_notices"))  # noqa: B009


@pytest.fixture
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time = UTC, so 'posted' columns are the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def thread_settings(demo_thread: DemoServerThread, tmp_path: Path) -> Settings:
    """Settings pointing at the stand-in running in its own thread (for sync tests)."""
    return load().replace(service_origin=demo_thread.origin,
                          download_dir=tmp_path / "downloads", api_min_interval=0.0)


