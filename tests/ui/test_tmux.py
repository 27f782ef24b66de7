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


def test_demo_lookup_download_and_report_on_screen(terminal: Terminal) -> None:
    terminal.wait_for(lambda s: "1 Input" in s and "demo service" in s, "the app to start")
    terminal.type("@mika.travels")
    terminal.send("Enter")
    terminal.wait_for(lambda s: "7 active stories" in s, "the stories of @mika.travels")
    # Tab to the stories, down past the creator row and the story about to expire
    terminal.send("Tab")
    terminal.send("Down")
    terminal.send("Down")
    terminal.send("d")
    screen = terminal.wait_for(lambda s: "verdict ✓ ok" in s and "sha256" in s,
                               "the verification report")
    assert "done" in screen
    assert "│ file " in screen and "│ sha256 " in screen
    assert "mika.travels" in screen
    for check in ("size", "probe", "codecs", "duration"):
        assert f" {check} " in screen
    terminal.send("q")
    terminal.wait_for(lambda s: "TIKGET-EXIT=0" in s, "tikget to quit with status 0")
