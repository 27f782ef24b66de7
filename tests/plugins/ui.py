"""Helpers for driving the Textual app in tests (Pilot against the stand-in service)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
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


def key_event(key: str) -> events.Key:
    """The key event ``pilot.press(key)`` sends (same names: ``"a"``, ``"@"``, ``"enter"``,
    ``"alt+1"``)."""
    import unicodedata

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def burst(app: object, *keys: str) -> int:
    """Post keys to the app all at once, as one read from the terminal delivers a second
    of typing over SSH: nothing runs between them (``pilot.press`` waits after each key).
    Each argument is a key name or a single character; returns how many were posted."""
    post = getattr(app, "post_message")  # noqa: B009
    for key in keys:
        post(key_event(key))
    return len(keys)


async def burst_done(pilot: Pilot[object], app: object, what: str = "the burst") -> None:
    """Wait until every key posted so far has been routed and the app has settled."""
    order = getattr(app, "key_order")  # noqa: B009
    queue = getattr(app, "_message_queue")  # noqa: B009
    await pilot.pause()
    await wait_until(pilot, lambda: not order.backlog and not order.routing and queue.empty(),
                     what)
    await pilot.pause()
    assert order.overdue == 0, "a held key went only after the hold limit: the app never settled"


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


