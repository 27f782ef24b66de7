"""End to end in a real terminal: ``tikget --demo`` in a detached tmux session.

Types a demo username, downloads a story and reads the verification report
off the screen with ``tmux capture-pane -p``. Polling is bounded; the tmux
server (a private socket) is killed at the end whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tikget_tui.demo import MediaCatalog

TIKGET = Path(sys.executable).parent / "tikget"
LIMIT = 60.0  # seconds for any one thing to appear on screen

pytestmark = pytest.mark.slow


class Terminal:
    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
        return done.stdout

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def wait_for(self, condition: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + LIMIT
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen was:\n{text}")
            time.sleep(0.2)  # polling a separate process's screen: no event to wait on


@pytest.fixture
def terminal(tmp_path: Path, demo_media: MediaCatalog) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for this test (apt install tmux)")
    home = tmp_path / "home"
    cache = tmp_path / "cache"
    cache.mkdir(parents=True)
    (cache / "demo-media").symlink_to(demo_media.folder, target_is_directory=True)
    socket = f"tikget-test-{os.getpid()}"
    term = Terminal(socket, "ui")
    # a clean environment: nothing from the test session (COLUMNS, TEXTUAL_*, ...) leaks in
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "LANG": "C.UTF-8", "TERM": "tmux-256color",
           "TIKGET_HOME": str(home), "TIKGET_CACHE_DIR": str(cache)}
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    term.tmux("new-session", "-d", "-s", "ui", "-x", "120", "-y", "40",
              f"env -i {exports} {TIKGET} --demo; echo TIKGET-EXIT=$?; sleep 30")
    term.tmux("resize-window", "-t", "ui", "-x", "120", "-y", "40")
    try:
        yield term
    finally:
        term.tmux("kill-server")


def test_demo_in_bursts_lookup_download_filter_and_report_on_screen(
        terminal: Terminal) -> None:
    """Each step is one ``send-keys``: the keys reach the app in one read, as a second of
    typing does over a slow SSH link, and each acts on what the keys before it left."""
    terminal.wait_for(lambda s: "1 Input" in s and "demo service" in s, "the app to start")
    # to the stories and back, then a look-up: its letters are text, not stories keys
    terminal.send("Tab", "1", "@mika.travels", "Enter")
    terminal.wait_for(lambda s: "7 active stories" in s, "the stories of @mika.travels")
    # from the input: Tab to the stories, Home to the creator's row, a takes all seven
    terminal.send("Tab", "Home", "a")
    terminal.wait_for(lambda s: "7 saved and verified" in s, "seven stories saved")
    # a note dialog, then Escape and 1 (they arrive together): the dialog closes, pane 1
    # takes the look-up, and its q never quits
    terminal.send("Down", "n", "why", "Escape", "1", "@quiet.creator", "Enter")
    terminal.wait_for(lambda s: "@quiet.creator has no active story" in s,
                      "the look-up typed after Escape 1")
    # Tab, 5 (the library, made on first use) and a filter: the filter gets the letters
    terminal.send("Tab", "5", "tram")
    screen = terminal.wait_for(lambda s: "1 of 7 saved" in s, "the library filtered")
    assert "│tram " in screen and "Tram 28" in screen
    # Down to the list, Enter: the item's verification report
    terminal.send("Down", "Enter")
    screen = terminal.wait_for(lambda s: "verdict ✓ ok" in s and "sha256" in s
                               and "tram-28" in s, "the verification report")
    assert "│ file" in screen
    for check in ("size", "probe", "codecs", "duration"):
        assert f" {check} " in screen
    # Alt+2 from inside the filter line goes to the stories; q there quits (nothing runs)
    terminal.send("M-2", "q")
    terminal.wait_for(lambda s: "TIKGET-EXIT=0" in s, "tikget to quit with status 0")
