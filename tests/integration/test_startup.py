"""Start-up: the first frame needs only the UI; the rest loads after it, and ``--demo`` still
answers the first look-up (it waits for the service that starts after the first frame)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.plugins.ui import notifications, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_CREATOR
from tikget_tui.ui.app import TikGetApp

# Loaded only after the first frame (or on first use): none of these may be imported by then.
NOT_BEFORE_FIRST_FRAME = (
    "aiohttp", "httpx", "httpcore", "sqlite3", "ffmpeg", "tikget_tui.tiktok.client",
    "curl_cffi", "tikget_tui.tiktok.impersonate", "trustme", "tikget_tui.demo.strict",
    "tikget_tui.downloads", "tikget_tui.downloads.manager", "tikget_tui.store",
    "tikget_tui.demo", "tikget_tui.verify", "tikget_tui.watch",
    # issue 15's second round: the models and links (dataclasses cost), the log file's
    # handlers, the config parser (no config file here), what only other panes or sizes use
    "tikget_tui.models", "tikget_tui.links", "tikget_tui.tiktok.diagnostics",
    "logging.handlers", "tomllib", "textual.widgets._tabs", "tikget_tui.ui.widgets.library_pane",
    "tikget_tui.ui.screens.help", "tikget_tui.ui.screens.folder", "tikget_tui.ui.screens.note",
    "rich._emoji_codes", "tikget_tui.ui.widgets.pane_tabs",
)

# Runs ``tikget`` (cli.main, as the console script does) and, at the first frame Textual
# paints, writes the loaded modules to a file and ends the process.
PROBE = """
import json, os, sys
import textual.app

paint = textual.app.App._display

def first_frame(self, screen, renderable):
    paint(self, screen, renderable)
    if renderable is not None:
        with open(os.environ["PROBE_OUT"], "w") as f:
            json.dump(sorted(sys.modules), f)
        os._exit(0)

textual.app.App._display = first_frame
from tikget_tui.cli import main
main(sys.argv[1:])
"""


def loaded_at_first_frame(args: list[str], tmp_path: Path) -> set[str]:
    out = tmp_path / "modules.json"
    env = dict(os.environ, TERM="xterm-256color", TIKGET_HOME=str(tmp_path / "home"),
               PROBE_OUT=str(out))
    master, slave = os.openpty()  # a real terminal, 120x40, as a person starts it
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", PROBE, *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 1 << 16)  # keep the terminal drained
                except OSError:
                    break
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert out.exists(), "the app painted no frame"
    return set(json.loads(out.read_text()))


@pytest.mark.parametrize("args", [[], ["--demo"]], ids=["tikget", "tikget --demo"])
def test_first_frame_imports_only_the_ui(args: list[str], tmp_path: Path) -> None:
    loaded = loaded_at_first_frame(args, tmp_path)
    assert "textual" in loaded and "tikget_tui.ui.screens.main" in loaded
    early = sorted(m for m in NOT_BEFORE_FIRST_FRAME if m in loaded)
    assert early == [], f"imported before the first frame: {early}"


def test_the_app_log_starts_after_the_first_frame(tmp_path: Path) -> None:
    """``tikget`` on a terminal: the log file `tikget locate` names gets its first line
    (which tikget, service, folders) once the app runs, though it starts after the frame."""
    home = tmp_path / "home"
    log = home / "cache" / "tikget.log"
    env = dict(os.environ, TERM="xterm-256color", TIKGET_HOME=str(home))
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", "from tikget_tui.cli import main; main()"],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and "app started" in log.read_text(encoding="utf-8"):
                break
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert "app started" in text and "download dir" in text, text[-500:]


async def test_demo_service_starts_after_the_first_frame_and_lookups_wait(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    started = threading.Event()
    release = threading.Event()

    def start_service() -> None:  # the service is slow to come up (first run: its media)
        started.set()
        assert release.wait(30)

    app = TikGetApp(demo_settings, clock=demo_clock, demo_origin=demo_server.origin,
                    start_service=start_service)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, started.is_set, "the service to be started")
        assert app.manager is None  # the queue waits for the service too
        screen = app.main_screen
        assert screen is not None
        screen.input_pane.input.focus()
        await pilot.press(*f"@{DEMO_CREATOR}", "enter")
        await wait_until(pilot, lambda: screen.lookups_started == 1, "the look-up to start")
        await pilot.pause(0.2)
        assert DEMO_CREATOR not in screen.stories.groups or not (
            screen.stories.groups[DEMO_CREATOR].story_ids)
        release.set()
        await wait_until(pilot, lambda: bool(
            DEMO_CREATOR in screen.stories.groups
            and screen.stories.groups[DEMO_CREATOR].story_ids), "the stories")
        await wait_until(pilot, lambda: app.manager is not None, "the download queue")


async def test_a_demo_service_that_cannot_start_says_why(
    demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    def start_service() -> None:
        raise OSError("ffmpeg is missing")

    app = TikGetApp(demo_settings, clock=demo_clock, demo_origin="http://127.0.0.1:9",
                    start_service=start_service)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any("could not start" in n
                                            for n in notifications(app)), "the reason")
        screen = app.main_screen
        assert screen is not None
        screen.input_pane.input.focus()
        await pilot.press(*f"@{DEMO_CREATOR}", "enter")
        await wait_until(pilot, lambda: screen.lookups_started == 1, "the look-up to start")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("the demo service could not start: ffmpeg is missing" in n
                   for n in notifications(app))
        assert app.manager is None and app.is_running
