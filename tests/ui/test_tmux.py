"""End to end in a real terminal: ``tikget --demo`` in a detached tmux session.

Types in bursts (each step one ``send-keys``), downloads, filters the library and reads
the verification report off the screen with ``tmux capture-pane -p``; then the same over
real SSH (``sshd`` on 127.0.0.1 with throw-away keys, ``ssh -tt`` inside tmux). Polling is
bounded; the tmux server (a private socket) and sshd are stopped whatever happens.
"""

from __future__ import annotations

import base64
import getpass
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


# -- over real SSH ----------------------------------------------------------------------

SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SshServer:
    port: int
    user: str
    key: Path
    known_hosts: Path

    def command(self, remote: str) -> list[str]:
        """``ssh -tt`` to this server running ``remote`` (nothing from ~/.ssh is read)."""
        return ["ssh", "-tt", "-F", "/dev/null", "-p", str(self.port), "-i", str(self.key),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20",
                f"{self.user}@127.0.0.1", remote]


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshServer]:
    """sshd on 127.0.0.1 with a throw-away host key and user key (stopped at the end)."""
    if not SSHD.exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.fail("sshd and ssh are needed for this test (apt install openssh-server)")
    folder = tmp_path / "sshd"
    folder.mkdir()
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"tikget-{name}",
                        "-f", str(folder / name)], check=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    (folder / "authorized_keys").write_text((folder / "user.pub").read_text())
    port = free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", "PubkeyAuthentication yes",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no",
        f"PidFile {folder / 'sshd.pid'}", "PrintMotd no", "PrintLastLog no",
        "LogLevel ERROR", ""]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation (as init)
    log = (folder / "sshd.log").open("wb")
    server = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + LIMIT
        while True:  # until it listens (a separate process: nothing to wait on)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("sshd did not start: "
                                         + (folder / "sshd.log").read_text()) from None
                time.sleep(0.1)
        yield SshServer(port, getpass.getuser(), folder / "user", folder / "known_hosts")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_over_ssh_lookup_download_resize_copy_open_quit_and_restart(
        tmp_path: Path, demo_media: MediaCatalog, ssh_server: SshServer) -> None:
    """``ssh -tt`` into ``tikget --demo`` inside tmux, as a user on a remote machine: look
    up, download all, the terminal shrinks, ``c`` copies a path (OSC 52 goes back through
    ssh to the outer terminal), ``o`` says there is no display, quit; ssh in again: the
    queue is restored."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for this test (apt install tmux)")
    home = tmp_path / "home"
    cache = tmp_path / "cache"
    cache.mkdir(parents=True)
    (cache / "demo-media").symlink_to(demo_media.folder, target_is_directory=True)
    # on the remote side: a clean environment, plus what sshd sets for the session
    remote = " ".join([
        "env", "-i", f"PATH={shlex.quote(os.environ.get('PATH', '/usr/bin:/bin'))}",
        f"HOME={shlex.quote(str(tmp_path))}", "LANG=C.UTF-8", 'TERM="$TERM"',
        'SSH_CONNECTION="$SSH_CONNECTION"', 'SSH_TTY="$SSH_TTY"',
        f"TIKGET_HOME={shlex.quote(str(home))}", f"TIKGET_CACHE_DIR={shlex.quote(str(cache))}",
        shlex.quote(str(TIKGET)), "--demo"])
    ssh = shlex.join(ssh_server.command(remote))
    script = tmp_path / "session.sh"
    script.write_text(f"{ssh}; echo FIRST-EXIT=$?\nread _\n{ssh}; echo SECOND-EXIT=$?\n"
                      "sleep 30\n")
    raw = tmp_path / "pane-output.bin"
    term = Terminal(f"tikget-ssh-{os.getpid()}", "ui")
    outer = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
             "LANG": "C.UTF-8", "TERM": "tmux-256color"}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in outer.items())
    term.tmux("new-session", "-d", "-s", "ui", "-x", "120", "-y", "40",
              f"env -i {exports} sh {shlex.quote(str(script))}")
    try:
        term.tmux("resize-window", "-t", "ui", "-x", "120", "-y", "40")
        # every byte the pane's program (ssh) writes to the outer terminal
        term.tmux("pipe-pane", "-t", "ui", "-O", f"cat >> {shlex.quote(str(raw))}")
        term.wait_for(lambda s: "1 Input" in s and "demo service" in s, "the app over ssh")
        term.send("@mika.travels", "Enter")
        term.wait_for(lambda s: "7 active stories" in s, "the stories of @mika.travels")
        term.send("Tab", "Home", "a")
        term.wait_for(lambda s: "7 saved and verified" in s, "seven stories saved")

        # the terminal shrinks: the app follows (the narrow layout has the tab bar)
        term.tmux("resize-window", "-t", "ui", "-x", "80", "-y", "24")
        term.wait_for(lambda s: "2 Active stories  3 Download queue" in s
                      and max(len(line) for line in s.splitlines()) <= 80, "the 80x24 layout")

        # the library's first item: c copies its path to the clipboard of the outer
        # terminal (OSC 52, through ssh); o explains there is no display
        term.send("5", "Down", "c")
        term.wait_for(lambda s: "path copied" in flat(s), "the path copied")
        copied = osc52_payloads(raw)
        downloads = home / "downloads"
        assert any(Path(text).parent == downloads and Path(text).is_file()
                   for text in copied), copied
        term.send("o")
        term.wait_for(lambda s: "SSH session with no display" in flat(s),
                      "o saying there is no display")
        term.send("q")  # nothing runs: quits at once
        term.wait_for(lambda s: "FIRST-EXIT=0" in s, "tikget to quit with status 0")

        # ssh in again: what was saved is there (Alt+5 over ssh: Escape and 5 together);
        # the queue starts without the earlier run's finished rows (drop_finished_at_start)
        term.send("Enter")
        term.wait_for(lambda s: "1 Input" in s and "demo service" in s, "the app again")
        term.send("M-5")
        screen = term.wait_for(lambda s: s.count("✓ ok") >= 7 and "Tram 28" in s,
                               "the library after the restart")
        assert "5 Library" in screen
        term.send("M-3")
        screen = term.wait_for(lambda s: "p Pause" in s and "Tram 28" not in s,
                               "the queue, without the earlier run's finished rows")
        term.send("q")
        term.wait_for(lambda s: "SECOND-EXIT=0" in s, "tikget to quit again")
    finally:
        term.tmux("kill-server")


def flat(screen: str) -> str:
    """The screen's text without box lines and line breaks (messages wrap in a pane)."""
    return " ".join(screen.replace("│", " ").split())


def osc52_payloads(raw: Path) -> list[str]:
    """The texts sent to the clipboard with OSC 52 in the pane's raw output."""
    data = raw.read_bytes() if raw.exists() else b""
    found = re.findall(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)", data)
    return [base64.b64decode(payload).decode("utf-8", "replace") for payload in found]
