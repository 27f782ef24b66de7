"""No key may crash the app, in any pane and any state.

Hypothesis draws key sequences (every bound key, navigation, modal keys, and look-ups
typed mid-sequence, so keys also arrive while a look-up is in flight, on empty tables, on
a row just removed, on a modal half-built) and drives them through the Pilot against the
stand-in (in its own thread: each example runs the app in a fresh event loop). Some come
in bursts, posted all at once as one read over SSH delivers them, with look-ups typed
after ``alt+1`` in the same burst: their ``q`` never quits. The example database is off
and the run derandomized, so a failure reproduces as is; the whole run stays well inside
a minute.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plugins.ui import burst, burst_done
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.ui.app import TikGetApp

KEYS = ["tab", "shift+tab", "1", "2", "3", "4", "5", "space", "d", "a", "n", "w", "delete",
        "p", "u", "x", "t", "v", "m", "o", "r", "l", "e", "c", "s", "y", "escape", "enter",
        "up", "down", "home", "end", "pageup", "pagedown", "question_mark", "f1", "ctrl+p",
        "backspace"]
LOOKUPS = ["@mika.travels", "@studio.photos", "@secret.garden", "@nobody_here",
           "@quiet.creator https://bad.example/x"]

PANES = ["input", "stories", "queue", "report", "library", "library-list", "stay"]
# (pane to go to first, or "stay"; key) or (None, look-up text)
key_in_pane = st.tuples(st.sampled_from(PANES), st.sampled_from(KEYS))
lookup = st.tuples(st.none(), st.sampled_from(LOOKUPS))
# typing a filter into the library's filter line ("" clears it)
FILTERS = ["tram", "mika", "fail", "missing", "today", "nov 28", "#lisboa", ""]
library_filter = st.tuples(st.just("filter"), st.sampled_from(FILTERS))
# a burst: keys (the pane keys' alt form too) and look-ups typed after alt+1, all at once
ALT_PANES = ["alt+1", "alt+2", "alt+3", "alt+4", "alt+5"]
typed_lookup = st.sampled_from(LOOKUPS).map(lambda text: ("alt+1", *text, "enter"))
burst_keys = st.lists(st.one_of(st.sampled_from(KEYS + ALT_PANES).map(lambda k: (k,)),
                                typed_lookup), min_size=2, max_size=8).map(
    lambda parts: tuple(key for part in parts for key in part))
in_a_burst = st.tuples(st.just("burst"), burst_keys)
Action = tuple[str | None, str | tuple[str, ...]]


async def _drive(app_settings: Settings, actions: list[Action]) -> None:
    app = TikGetApp(app_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        for pane, key in actions:
            screen = app.main_screen
            on_main = screen is not None and app.screen is screen
            if pane == "burst":
                burst(app, *key)
                await burst_done(pilot, app)
                assert app.is_running, f"the burst {key} stopped the app"
                continue
            assert isinstance(key, str)
            if pane is None:  # type a look-up into the input and submit it (not waited for)
                if on_main and screen is not None:
                    screen.input_pane.input.focus()
                    await pilot.press(*key, "enter")
                continue
            if pane == "filter":  # type a filter into the library (pane 5)
                if on_main and screen is not None:
                    screen.action_pane("library")
                    await pilot.pause()  # as after a key: the library is made on first use
                    screen.library.filter.value = ""
                    if key:
                        await pilot.press(*key)
                continue
            if pane == "library-list" and on_main and screen is not None:
                screen.action_pane("library")
                await pilot.pause()  # as after a key: the library is made on first use
                screen.library.table.focus()  # the list under the filter (Down there)
            elif pane not in ("stay", "library-list") and on_main and screen is not None:
                screen.action_pane(pane)  # what 1-5 and tab do
            await pilot.press(key)
        await pilot.pause(0.05)
        assert app.is_running, "a key stopped the app"
        await app.workers.wait_for_complete()
    assert app.return_code in (None, 0)


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=st.lists(st.one_of(key_in_pane, lookup, library_filter, in_a_burst),
                        min_size=5, max_size=30))
def test_random_keys_never_crash_the_app(thread_settings: Settings,
                                         actions: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as folder:  # each example: a new state folder
        state = Path(folder)
        asyncio.run(_drive(thread_settings.replace(
            data_dir=state / "data", download_dir=state / "downloads",
            config_file=state / "config.toml"), actions))
