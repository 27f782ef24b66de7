"""Polling that outlives the terminal: a systemd user timer, a launchd agent or a cron line
that runs ``tikget watch run --once`` every few hours (``tikget watch install``).

Core code (no textual). What it makes:

- **systemd** (Linux with ``systemctl``): ``tikget-watch.service`` (oneshot) and
  ``tikget-watch.timer`` (``OnActiveSec``, ``OnUnitActiveSec``, ``RandomizedDelaySec``,
  ``Persistent=true``) in ``$XDG_CONFIG_HOME/systemd/user``, enabled and started with
  ``systemctl --user``. Lingering (polls after logout) is reported, never switched on.
- **launchd** (macOS): ``~/Library/LaunchAgents/io.github.tikget.watch.plist``
  (``StartInterval``), loaded with ``launchctl bootstrap gui/UID``.
- **cron** (elsewhere, or asked for): a crontab line, printed for the user to add.

The command written into each runs this Python (``sys.executable -m tikget_tui``) with
the folders and ``TIKGET_*`` settings in force now, as absolute paths. A record of what
was installed (files with their SHA-256, the kind, the interval) is kept in
``DATA_DIR/watch-service.json``; ``tikget watch uninstall`` removes exactly those files,
and leaves a file alone that was changed since (it says so).

Every outside program is found on ``Host.env["PATH"]`` and run with a timeout, stdin
closed and its output captured, so tests put recording fakes first on PATH.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tikget_tui.config import Settings

UNIT = "tikget-watch"
SERVICE = f"{UNIT}.service"
TIMER = f"{UNIT}.timer"
LAUNCHD_LABEL = "io.github.tikget.watch"
CRON_MARK = "# tikget-watch"
RECORD_NAME = "watch-service.json"
RECORD_VERSION = 1
COMMAND_TIMEOUT = 30.0  # seconds for one systemctl/launchctl/loginctl/crontab call
FIRST_RUN_DELAY = 120  # seconds after the timer starts (boot, login, install): a first poll
MAX_RANDOM_DELAY = 900  # seconds; the timer's randomized delay is at most this
RECORD_MAX_BYTES = 64 * 1024

KINDS = ("systemd", "launchd", "cron")


class ScheduleError(ValueError):
    """Polling cannot be set up (or removed) as asked; one line that says what to do."""


# -- the interval ------------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|h|minutes?|min|m|seconds?|sec|s)?", re.I)


def parse_every(text: str) -> float:
    """'4h', '90m', '1h30m', '45min', '3600', '3600s' → seconds (checked: a minute or more,
    under 24 hours)."""
    from tikget_tui.watch import WatchError, check_interval

    clean = text.strip().lower().replace(" ", "")
    total = 0.0
    pos = 0
    while pos < len(clean):
        m = _SPAN.match(clean, pos)
        if m is None or m.end() == pos:
            raise ScheduleError(f"cannot read the interval {text!r}; write it like 4h, 90m "
                                "or 1h30m")
        unit = (m.group(2) or "s")[0]
        total += float(m.group(1)) * {"h": 3600, "m": 60, "s": 1}[unit]
        pos = m.end()
    if not clean:
        raise ScheduleError("the interval is empty; write it like 4h, 90m or 1h30m")
    try:
        return check_interval(total)
    except WatchError as exc:
        raise ScheduleError(str(exc)) from None


def every_text(seconds: float) -> str:
    """14400 → '4h', 5400 → '1h30m', 90 → '1m30s' (what ``parse_every`` reads back)."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    parts = [f"{h}h" if h else "", f"{m}m" if m else "", f"{sec}s" if sec else ""]
    return "".join(parts) or "0s"


def _systemd_span(seconds: float) -> str:
    """14400 → '4h', 5400 → '1h 30min' (systemd.time)."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    parts = [f"{h}h" if h else "", f"{m}min" if m else "", f"{sec}s" if sec else ""]
    return " ".join(p for p in parts if p) or "0"


def random_delay(every: float) -> int:
    """The timer's ``RandomizedDelaySec``: a tenth of the interval, at most 15 minutes."""
    return int(min(MAX_RANDOM_DELAY, every / 10))


# -- the machine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """The machine as far as scheduling cares; tests build one with a fake HOME and PATH."""

    system: str  # platform.system(): "Linux", "Darwin", ...
    home: Path
    user: str
    uid: int
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable

    @classmethod
    def current(cls) -> Host:
        # the account's name (for `loginctl enable-linger NAME`): the login's, as the
        # environment gives it, else the system's
        user = next((os.environ[v] for v in ("LOGNAME", "USER", "LNAME", "USERNAME")
                     if os.environ.get(v)), "")
        if not user:
            try:
                import pwd

                user = pwd.getpwuid(os.getuid()).pw_name
            except (ImportError, KeyError, OSError):
                user = str(os.getuid())
        return cls(system=platform.system(), home=Path.home(), user=user, uid=os.getuid(),
                   env=dict(os.environ), python=sys.executable)

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self.env.get("PATH", os.defpath))

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a helper program found on PATH; a missing program or a timeout is
        :class:`ScheduleError`."""
        exe = self.which(argv[0])
        if exe is None:
            raise ScheduleError(f"{argv[0]} is not installed (not found on PATH)")
        try:
            return subprocess.run([exe, *argv[1:]], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, errors="replace",
                                  timeout=COMMAND_TIMEOUT, env=dict(self.env), check=False)
        except subprocess.TimeoutExpired:
            raise ScheduleError(f"{' '.join(argv)} did not answer within "
                                f"{COMMAND_TIMEOUT:.0f} seconds") from None
        except OSError as exc:
            raise ScheduleError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None

    @property
    def unit_dir(self) -> Path:
        config = self.env.get("XDG_CONFIG_HOME", "").strip()
        base = Path(config) if config and Path(config).is_absolute() else self.home / ".config"
        return base / "systemd" / "user"

    @property
    def agent_file(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"


def choose_kind(host: Host, *, cron: bool = False) -> str:
    """systemd on Linux with systemctl, launchd on macOS, else (or asked) cron."""
    if cron:
        return "cron"
    if host.system == "Darwin" and host.which("launchctl"):
        return "launchd"
    if host.system == "Linux" and host.which("systemctl"):
        return "systemd"
    return "cron"


# -- what the scheduler runs ----------------------------------------------------------------


def run_argv(host: Host, every: float, *, notify: bool = False, demo: bool = False
             ) -> list[str]:
    """``PYTHON -m tikget_tui watch run --once --every 4h [--notify] [--demo]``."""
    argv = [host.python, "-m", "tikget_tui", "watch", "run", "--once", "--every",
            every_text(every)]
    if notify:
        argv.append("--notify")
    if demo:
        argv.append("--demo")
    return argv


_PATH_VARS = {"TIKGET_HOME", "TIKGET_CONFIG", "TIKGET_DATA_DIR", "TIKGET_CACHE_DIR",
              "TIKGET_DOWNLOAD_DIR", "TIKGET_FFPROBE", "TIKGET_FFMPEG"}


def run_environment(settings: Settings, host: Host, *, download_dir_given: bool = False,
                    concurrency_given: bool = False) -> dict[str, str]:
    """The ``TIKGET_*`` variables the scheduled run gets: every override set now (paths made
    absolute), the folders in use now, the service origin, and ffprobe/ffmpeg as found now
    (a user service's PATH is shorter than a login shell's)."""
    from tikget_tui.mediatools import find_tool

    env: dict[str, str] = {}
    for name, value in host.env.items():
        if name.startswith("TIKGET_") and value.strip():
            env[name] = value
    for name in _PATH_VARS & env.keys():
        if name in ("TIKGET_FFPROBE", "TIKGET_FFMPEG") and os.sep not in env[name]:
            continue  # a program name, found on PATH
        env[name] = str(Path(env[name]).expanduser().absolute())
    env["TIKGET_CONFIG"] = str(settings.config_file.expanduser().absolute())
    env["TIKGET_DATA_DIR"] = str(settings.data_dir.expanduser().absolute())
    env["TIKGET_CACHE_DIR"] = str(settings.cache_dir.expanduser().absolute())
    if download_dir_given or "TIKGET_DOWNLOAD_DIR" in env:
        env["TIKGET_DOWNLOAD_DIR"] = str(settings.download_dir.expanduser().absolute())
    if settings.service_origin:
        env["TIKGET_SERVICE"] = settings.service_origin
    if concurrency_given:  # --concurrency N on the install command line
        env["TIKGET_CONCURRENCY"] = str(settings.concurrency)
    for var, name, configured in (("TIKGET_FFPROBE", "ffprobe", settings.ffprobe_path),
                                  ("TIKGET_FFMPEG", "ffmpeg", settings.ffmpeg_path)):
        with contextlib.suppress(Exception):  # not found now: the run says so in its log
            env[var] = str(Path(find_tool(name, configured)).absolute())
    for name, value in env.items():
        if any(c in value for c in "\n\r\0"):
            raise ScheduleError(f"${name} holds a line break; a scheduled run cannot "
                                "carry it")
    return dict(sorted(env.items()))


# -- systemd -------------------------------------------------------------------------------


def _systemd_escape(text: str) -> str:
    """A word for ExecStart=/Environment=: double-quoted, C escapes, % and $ doubled."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{body}"'


def systemd_units(argv: list[str], env: Mapping[str, str], every: float,
                  *, version: str) -> tuple[str, str]:
    """The text of ``tikget-watch.service`` and ``tikget-watch.timer``."""
    exec_start = " ".join(_systemd_escape(a).replace("$", "$$") for a in argv)
    environment = "".join(f"Environment={_systemd_escape(f'{k}={v}')}\n"
                          for k, v in env.items())
    header = (f"# Written by `tikget watch install` (tikget {version}); "
              "`tikget watch uninstall` removes it.\n")
    service = (
        header
        + "[Unit]\n"
        "Description=TikGet: save new stories of watched creators\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
        f"{environment}"
        # a run that hangs ends before the next one is due
        f"TimeoutStartSec={_systemd_span(every)}\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
    )
    timer = (
        header
        + "[Unit]\n"
        f"Description=TikGet: poll watched creators every {every_text(every)}\n"
        "\n"
        "[Timer]\n"
        # a first poll soon after the timer starts (install, login, boot): this also
        # catches up what a powered-down machine missed; then every interval after the
        # last run
        f"OnActiveSec={_systemd_span(FIRST_RUN_DELAY)}\n"
        f"OnUnitActiveSec={_systemd_span(every)}\n"
        f"RandomizedDelaySec={_systemd_span(random_delay(every))}\n"
        "AccuracySec=1min\n"
        "Persistent=true\n"
        f"Unit={SERVICE}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return service, timer


# -- launchd -------------------------------------------------------------------------------


def launchd_plist(argv: list[str], env: Mapping[str, str], every: float) -> bytes:
    """The agent's plist (XML): runs ``argv`` every ``every`` seconds and once at load."""
    data: dict[str, Any] = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(argv),
        "EnvironmentVariables": dict(env),
        "StartInterval": round(every),
        "RunAtLoad": True,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": 10,
        # the run logs to the file `tikget locate` names; nothing else is kept
        "StandardOutPath": "/dev/null",
        "StandardErrorPath": "/dev/null",
    }
    return plistlib.dumps(data, fmt=plistlib.FMT_XML, sort_keys=False)


# -- cron ----------------------------------------------------------------------------------


def cron_schedule(every: float, user: str) -> tuple[str, float]:
    """The five cron fields for ``every`` and the interval cron really keeps (cron steps
    must divide an hour or a day: 5h becomes 4h). The minute is spread per user."""
    minutes = max(1, int(every // 60))
    if minutes < 60:
        step = max(d for d in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if d <= minutes)
        return f"*/{step} * * * *", step * 60.0
    hours = max(d for d in (1, 2, 3, 4, 6, 8, 12) if d <= minutes // 60)
    minute = zlib.crc32(user.encode()) % 60
    return f"{minute} */{hours} * * *", hours * 3600.0


def cron_line(argv: list[str], env: Mapping[str, str], every: float, user: str
              ) -> tuple[str, float]:
    """The crontab line (``%`` escaped, as cron reads it as a line break) and its interval."""
    when, kept = cron_schedule(every, user)
    words = [f"{k}={shlex.quote(v)}" for k, v in env.items()] + [shlex.quote(a) for a in argv]
    command = " ".join(words).replace("%", "\\%")
    return f"{when} {command} >/dev/null 2>&1 {CRON_MARK}", kept


# -- the record of what was installed ---------------------------------------------------------


@dataclass(frozen=True)
class Record:
    kind: str
    every: float
    installed_at: datetime
    files: dict[str, str]  # path → sha256 of what was written
    cron_line: str = ""
    notify: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, "kind": self.kind, "every": self.every,
                "installed_at": self.installed_at.isoformat(), "files": self.files,
                "cron_line": self.cron_line, "notify": self.notify}


def record_path(settings: Settings) -> Path:
    return settings.data_dir / RECORD_NAME


def read_record(settings: Settings) -> Record | None:
    """The install record (None when nothing is installed); a broken one is an error."""
    path = record_path(settings)
    try:
        if path.is_symlink():
            raise ScheduleError(f"{path} is a symbolic link; tikget did not write it")
        with path.open("rb") as fh:
            raw = fh.read(RECORD_MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ScheduleError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if len(raw) > RECORD_MAX_BYTES:
            raise ValueError("too large")
        data = json.loads(raw)
        files = data["files"]
        if data["kind"] not in KINDS or not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise ValueError("unexpected content")
        return Record(kind=data["kind"], every=float(data["every"]),
                      installed_at=datetime.fromisoformat(data["installed_at"]),
                      files=dict(files), cron_line=str(data.get("cron_line", "")),
                      notify=bool(data.get("notify", False)))
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ScheduleError(f"{path} cannot be read ({exc}); move it aside and remove "
                            "the timer by hand") from None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise ScheduleError(f"{path} is a symbolic link; tikget will not write through it")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_record(settings: Settings, record: Record) -> None:
    text = json.dumps(record.as_dict(), indent=2) + "\n"
    try:
        _write_atomic(record_path(settings), text.encode())
    except OSError as exc:
        raise ScheduleError(f"cannot write {record_path(settings)}: {exc.strerror}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    """The file's digest; None when it is missing (or not a regular file we may read)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return _sha256(path.read_bytes())
    except OSError:
        return None


# -- install / uninstall ------------------------------------------------------------------------


@dataclass
class Plan:
    """What an install writes and runs (``--dry-run`` prints it)."""

    kind: str
    every: float
    argv: list[str]
    env: dict[str, str]
    files: dict[Path, bytes] = field(default_factory=dict)
    commands: list[list[str]] = field(default_factory=list)
    cron_line: str = ""
    notes: list[str] = field(default_factory=list)
    notify: bool = False


def plan_install(settings: Settings, host: Host, every: float, *, cron: bool = False,
                 notify: bool = False, demo: bool = False, download_dir_given: bool = False,
                 concurrency_given: bool = False, version: str = "") -> Plan:
    kind = choose_kind(host, cron=cron)
    argv = run_argv(host, every, notify=notify, demo=demo)
    env = run_environment(settings, host, download_dir_given=download_dir_given,
                          concurrency_given=concurrency_given)
    plan = Plan(kind, every, argv, env, notify=notify)
    if kind == "systemd":
        service, timer = systemd_units(argv, env, every, version=version)
        plan.files = {host.unit_dir / SERVICE: service.encode(),
                      host.unit_dir / TIMER: timer.encode()}
        plan.commands = [["systemctl", "--user", "daemon-reload"],
                         ["systemctl", "--user", "enable", "--now", TIMER]]
    elif kind == "launchd":
        plan.files = {host.agent_file: launchd_plist(argv, env, every)}
        plan.commands = [["launchctl", "bootstrap", f"gui/{host.uid}", str(host.agent_file)]]
    else:
        plan.cron_line, kept = cron_line(argv, env, every, host.user)
        if abs(kept - every) >= 1:
            plan.notes.append(f"cron steps must divide an hour or a day: it runs every "
                              f"{every_text(kept)}, not every {every_text(every)}")
    return plan


def _check(host: Host, argv: list[str]) -> subprocess.CompletedProcess[str]:
    done = host.run(*argv)
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split())[:300] or f"exit {done.returncode}"
        raise ScheduleError(f"{' '.join(argv)} failed: {said}")
    return done


def install(settings: Settings, host: Host, plan: Plan, *, now: datetime | None = None,
            say: Callable[[str], None] = print) -> Record:
    """Write the plan's files, run its commands, keep the record. A failure undoes what
    this call did (files removed, units reloaded) and raises :class:`ScheduleError`."""
    old = read_record(settings)
    for path in plan.files:
        if path.is_symlink():
            raise ScheduleError(f"{path} is a symbolic link; remove it first")
        digest = _file_sha256(path)
        ours = old is not None and old.files.get(str(path)) == digest
        if path.exists() and not ours:
            raise ScheduleError(f"{path} exists and was not written by `tikget watch "
                                "install` (or was changed since); move it aside first")
    if old is not None and old.kind != plan.kind:
        raise ScheduleError(f"a {old.kind} schedule is installed; "
                            "`tikget watch uninstall` it first")
    for argv in plan.commands:
        if host.which(argv[0]) is None:
            raise ScheduleError(f"{argv[0]} is not installed; "
                                "`tikget watch install --cron` prints a crontab line instead")
    if plan.kind == "launchd" and old is not None:
        # loaded already: bootstrap would fail; unload the old agent first
        host.run("launchctl", "bootout", f"gui/{host.uid}/{LAUNCHD_LABEL}")
    written: list[Path] = []
    try:
        for path, data in plan.files.items():
            try:
                _write_atomic(path, data)
            except OSError as exc:
                raise ScheduleError(f"cannot write {path}: {exc.strerror}") from None
            written.append(path)
        record = Record(plan.kind, plan.every, now or datetime.now(UTC),
                        {str(p): _sha256(d) for p, d in plan.files.items()},
                        cron_line=plan.cron_line, notify=plan.notify)
        for argv in plan.commands:
            try:
                _check(host, argv)
            except ScheduleError as exc:
                raise ScheduleError(f"{exc}; nothing was installed (`tikget watch install "
                                    "--cron` prints a crontab line instead)") from None
        _write_record(settings, record)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        if plan.kind == "systemd" and written:
            with contextlib.suppress(ScheduleError):
                host.run("systemctl", "--user", "daemon-reload")
        raise
    return record


def uninstall(settings: Settings, host: Host) -> list[str]:
    """Stop and remove what the record names; returns what it did, one line each."""
    record = read_record(settings)
    if record is None:
        raise ScheduleError("nothing to remove: `tikget watch install` has not set up "
                            f"polling for these settings (no {record_path(settings)})")
    done: list[str] = []
    if record.kind == "systemd":
        if host.which("systemctl"):
            stopped = host.run("systemctl", "--user", "disable", "--now", TIMER)
            done.append(f"stopped and disabled {TIMER}" if stopped.returncode == 0 else
                        f"could not stop {TIMER} ({' '.join(stopped.stderr.split())[:200]})")
    elif record.kind == "launchd" and host.which("launchctl"):
        out = host.run("launchctl", "bootout", f"gui/{host.uid}/{LAUNCHD_LABEL}")
        done.append("unloaded the launchd agent" if out.returncode == 0 else
                    "the launchd agent was not loaded")
    for name, digest in record.files.items():
        path = Path(name)
        now_digest = _file_sha256(path)
        if now_digest is None and not path.exists():
            done.append(f"{path} was already gone")
        elif now_digest != digest:
            done.append(f"left {path} in place: it was changed after install")
        else:
            try:
                path.unlink()
            except OSError as exc:
                raise ScheduleError(f"cannot remove {path}: {exc.strerror}") from None
            done.append(f"removed {path}")
    if record.kind == "systemd" and record.files and host.which("systemctl"):
        host.run("systemctl", "--user", "daemon-reload")
    if record.kind == "cron":
        state = cron_state(host, record)
        if state:
            done.append("your crontab still has the line; remove it with `crontab -e`: "
                        + record.cron_line)
        else:
            done.append("the crontab line is not in your crontab (nothing to remove there)")
    try:
        record_path(settings).unlink()
    except OSError as exc:
        raise ScheduleError(f"cannot remove {record_path(settings)}: {exc.strerror}") from None
    return done


# -- what is running ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceState:
    """What ``tikget watch status`` says about the scheduler."""

    kind: str | None  # None: nothing installed
    every: float | None = None
    installed_at: datetime | None = None
    active: bool | None = None  # None: cannot tell
    next_run_at: datetime | None = None  # from the scheduler (systemd only)
    lingering: bool | None = None  # systemd only; None: cannot tell
    files: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # files the record names that are gone
    detail: str = ""  # why something could not be told

    def as_dict(self) -> dict[str, Any]:
        return {"installed": self.kind is not None, "kind": self.kind, "every": self.every,
                "installed_at": self.installed_at.isoformat() if self.installed_at else None,
                "active": self.active,
                "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
                "lingering": self.lingering, "files": list(self.files),
                "missing_files": list(self.missing), "detail": self.detail}


def lingering(host: Host) -> bool | None:
    """Does the user's systemd manager keep running after logout? None: cannot tell."""
    if host.which("loginctl") is None:
        return None
    with contextlib.suppress(ScheduleError):
        done = host.run("loginctl", "show-user", host.user, "--property=Linger", "--value")
        value = done.stdout.strip().lower()
        if done.returncode == 0 and value in ("yes", "no"):
            return value == "yes"
    # no session of this user known to logind: lingering is off unless its flag file exists
    flag = Path("/var/lib/systemd/linger") / host.user
    return True if flag.exists() else None


def linger_command(host: Host) -> str:
    return f"loginctl enable-linger {shlex.quote(host.user)}"


def cron_state(host: Host, record: Record) -> bool | None:
    """Is the recorded line in the user's crontab? None: cannot tell."""
    if host.which("crontab") is None:
        return None
    try:
        done = host.run("crontab", "-l")
    except ScheduleError:
        return None
    if done.returncode != 0:
        return False  # "no crontab for USER"
    return any(line.strip() == record.cron_line.strip() for line in done.stdout.splitlines())


def _systemd_state(host: Host) -> tuple[bool | None, datetime | None, str]:
    if host.which("systemctl") is None:
        return None, None, "systemctl is not installed"
    try:
        done = host.run("systemctl", "--user", "show", TIMER, "--timestamp=unix",
                        "--property=ActiveState,NextElapseUSecRealtime")
    except ScheduleError as exc:
        return None, None, str(exc)
    if done.returncode != 0:
        return None, None, " ".join(done.stderr.split())[:200] or "systemctl --user failed"
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    active = values.get("ActiveState", "") == "active"
    nxt = None
    m = re.fullmatch(r"@(\d+)", values.get("NextElapseUSecRealtime", "").strip())
    if m:
        nxt = datetime.fromtimestamp(int(m.group(1)), UTC)
    return active, nxt, ""


def service_state(settings: Settings, host: Host) -> ServiceState:
    try:
        record = read_record(settings)
    except ScheduleError as exc:
        return ServiceState(None, detail=str(exc))
    if record is None:
        linger = lingering(host) if choose_kind(host) == "systemd" else None
        return ServiceState(None, lingering=linger)
    state = ServiceState(record.kind, every=record.every, installed_at=record.installed_at,
                         files=tuple(record.files),
                         missing=tuple(p for p in record.files if not Path(p).exists()))
    if record.kind == "systemd":
        active, nxt, detail = _systemd_state(host)
        return dataclasses.replace(state, active=active, next_run_at=nxt,
                                   lingering=lingering(host), detail=detail)
    if record.kind == "launchd":
        if host.which("launchctl") is None:
            return dataclasses.replace(state, detail="launchctl is not installed")
        try:
            done = host.run("launchctl", "print", f"gui/{host.uid}/{LAUNCHD_LABEL}")
        except ScheduleError as exc:
            return dataclasses.replace(state, detail=str(exc))
        return dataclasses.replace(state, active=done.returncode == 0)
    return dataclasses.replace(state, active=cron_state(host, record))
