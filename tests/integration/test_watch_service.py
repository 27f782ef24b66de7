"""Polling that outlives the terminal: ``tikget watch install|uninstall|status`` and the
scheduled ``watch run --once``.

Every outside program (systemctl, loginctl, launchctl, crontab, notify-send) is a
recording fake first (and only) on PATH, HOME is a temporary folder: nothing here
touches the real user's units, agents or crontab.
"""

from __future__ import annotations

import io
import json
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from argparse import Namespace
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.plugins.batch import CliResult, realtime_clock
from tikget_tui import scheduler
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import load
from tikget_tui.demo import DemoServerThread, Scenario
from tikget_tui.demo.scenario import DEMO_PHOTO_CREATOR, DEMO_PRIVATE_CREATOR
from tikget_tui.scheduler import Host, ScheduleError
from tikget_tui.store import Store

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
# what the fake systemctl says the timer's next run is: 3h 25m from now (real time: the
# CLI tests run on the system clock); the snapshot sets $FAKE_NEXT_ELAPSE to NOW + 3h 25m
NEXT_ELAPSE = int(time.time()) + 3 * 3600 + 25 * 60

FAKE = '''#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as fh:
    fh.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
fail = os.environ.get("FAKE_FAIL", "")
if fail and fail in " ".join([name, *sys.argv[1:]]):
    print(name + ": Failed to connect to bus: No medium found", file=sys.stderr)
    sys.exit(1)
if name == "systemctl" and "show" in sys.argv:
    print("ActiveState=active")
    print("NextElapseUSecRealtime=@" + os.environ.get("FAKE_NEXT_ELAPSE", "{next_elapse}"))
elif name == "loginctl":
    print(os.environ.get("FAKE_LINGER", "no"))
elif name == "crontab":
    path = os.environ.get("FAKE_CRONTAB", "")
    if not path or not os.path.exists(path):
        print("no crontab for tester", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write(open(path).read())
'''


@pytest.fixture
def demo_clock() -> FakeClock:
    """Real "now": the CLI runs on the system clock (see tests/plugins/batch.py)."""
    return realtime_clock()


class Fakes:
    def __init__(self, root: Path) -> None:
        self.bin = root / "fakebin"
        self.bin.mkdir()
        self.log = root / "fake-calls.jsonl"
        for name in ("systemctl", "loginctl", "launchctl", "crontab", "notify-send"):
            path = self.bin / name
            path.write_text(FAKE.format(python=sys.executable, next_elapse=NEXT_ELAPSE))
            path.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def remove(self, name: str) -> None:
        (self.bin / name).unlink()


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    """HOME is a temporary folder, PATH holds only the recording fakes."""
    found = Fakes(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USER", "tester")
    monkeypatch.setenv("LOGNAME", "tester")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("PATH", str(found.bin))
    monkeypatch.setenv("FAKE_LOG", str(found.log))
    monkeypatch.setenv("FAKE_CRONTAB", str(tmp_path / "crontab.txt"))
    yield found


def host_for(fakes: Fakes, home: Path, *, system: str = "Linux",
             python: str = sys.executable, **env: str) -> Host:
    return Host(system=system, home=home, user="tester", uid=1000,
                env={"PATH": str(fakes.bin), **env}, python=python)


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file as section → [(key, value)] (comments and blanks dropped)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, value = line.split("=", 1)
        sections[current].append((key, value))
    return sections


def one(section: list[tuple[str, str]], key: str) -> str:
    [value] = [v for k, v in section if k == key]
    return value


def unquote_systemd(value: str, *, exec_line: bool = False) -> list[str]:
    """Words of an ExecStart=/Environment= value as systemd reads them: quotes and C escapes,
    then specifiers (``%%`` is a %, any other ``%X`` would be replaced by systemd) and, on an
    Exec line, variables (``$$`` is a $, any other ``$`` would be expanded)."""
    words = []
    for word in shlex.split(value, posix=True):
        specifiers = re.sub("%%", "", word)
        assert "%" not in specifiers, f"systemd would expand a specifier in {word!r}"
        word = word.replace("%%", "%")
        if exec_line:
            assert "$" not in word.replace("$$", ""), f"systemd would expand $ in {word!r}"
            word = word.replace("$$", "$")
        words.append(word)
    return words


# -- what is generated ------------------------------------------------------------------------


def test_parse_every_reads_spans_and_refuses_what_cannot_be_a_poll_interval() -> None:
    assert scheduler.parse_every("4h") == 14400
    assert scheduler.parse_every("90m") == scheduler.parse_every("1h30m") == 5400
    assert scheduler.parse_every("45min") == 2700
    assert scheduler.parse_every(" 3600 ") == scheduler.parse_every("3600s") == 3600
    for bad, words in (("24h", "under 24 hours"), ("30s", "at least 60"),
                       ("4x", "write it like"), ("", "empty"), ("h", "write it like")):
        with pytest.raises(ScheduleError, match=words):
            scheduler.parse_every(bad)
    assert [scheduler.every_text(s) for s in (14400, 5400, 90, 3600)] == [
        "4h", "1h30m", "1m30s", "1h"]


def test_systemd_units_for_a_fake_home_field_by_field(fakes: Fakes, tmp_path: Path,
                                                      isolated_home: Path) -> None:
    home = tmp_path / "home"
    odd = tmp_path / "odd 100% $HOME \"quoted\""  # a space, %, $ and quotes in a folder
    host = host_for(fakes, home, python="/opt/my $HOME python/bin/python3",
                    TIKGET_HOME=str(isolated_home), TIKGET_CONCURRENCY="2",
                    TIKGET_DOWNLOAD_DIR=str(odd))
    settings = load(dict(host.env))
    plan = scheduler.plan_install(settings, host, 4 * 3600, version="9.9")
    assert plan.kind == "systemd"
    unit_dir = home / ".config" / "systemd" / "user"
    assert list(plan.files) == [unit_dir / "tikget-watch.service",
                                unit_dir / "tikget-watch.timer"]
    assert plan.commands == [["systemctl", "--user", "daemon-reload"],
                             ["systemctl", "--user", "enable", "--now", "tikget-watch.timer"]]
    service = parse_unit(plan.files[unit_dir / "tikget-watch.service"].decode())
    timer = parse_unit(plan.files[unit_dir / "tikget-watch.timer"].decode())

    assert one(service["Unit"], "Description") == "TikGet: save new stories of watched creators"
    svc = service["Service"]
    assert one(svc, "Type") == "oneshot"
    assert unquote_systemd(one(svc, "ExecStart"), exec_line=True) == [
        "/opt/my $HOME python/bin/python3", "-m", "tikget_tui", "watch", "run", "--once",
        "--every", "4h"]
    env = dict(unquote_systemd(v)[0].split("=", 1) for k, v in svc if k == "Environment")
    assert env["TIKGET_HOME"] == str(isolated_home)
    assert env["TIKGET_DATA_DIR"] == str(isolated_home / "data")
    assert env["TIKGET_CACHE_DIR"] == str(isolated_home / "cache")
    assert env["TIKGET_CONFIG"] == str(isolated_home / "config.toml")
    assert env["TIKGET_DOWNLOAD_DIR"] == str(odd)  # read back exactly, escapes and all
    assert env["TIKGET_CONCURRENCY"] == "2"
    assert Path(env["TIKGET_FFPROBE"]).is_absolute() and Path(env["TIKGET_FFMPEG"]).is_absolute()
    assert "PATH" not in env  # only tikget's own settings
    assert one(svc, "TimeoutStartSec") == "4h"

    assert one(timer["Unit"], "Description") == "TikGet: poll watched creators every 4h"
    tmr = timer["Timer"]
    assert one(tmr, "OnUnitActiveSec") == "4h"
    assert one(tmr, "OnActiveSec") == "2min"
    assert one(tmr, "RandomizedDelaySec") == "15min"
    assert one(tmr, "Persistent") == "true"
    assert one(tmr, "Unit") == "tikget-watch.service"
    assert one(timer["Install"], "WantedBy") == "timers.target"

    short = scheduler.plan_install(settings, host, 90 * 60)
    tmr = parse_unit(short.files[unit_dir / "tikget-watch.timer"].decode())["Timer"]
    assert (one(tmr, "OnUnitActiveSec"), one(tmr, "RandomizedDelaySec")) == ("1h 30min",
                                                                             "9min")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (.ci/run installs it)")
def test_systemd_analyze_verify_accepts_the_units(fakes: Fakes, tmp_path: Path,
                                                   isolated_home: Path) -> None:
    analyze = shutil.which("systemd-analyze", path=os.defpath + ":/usr/bin:/bin")
    assert analyze is not None
    host = host_for(fakes, tmp_path / "home", TIKGET_HOME=str(isolated_home),
                    TIKGET_DOWNLOAD_DIR=str(tmp_path / "odd 100% $x"))
    plan = scheduler.plan_install(load(dict(host.env)), host, 4 * 3600)
    folder = tmp_path / "units"
    folder.mkdir()
    for path, data in plan.files.items():
        (folder / path.name).write_bytes(data)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    done = subprocess.run([analyze, "--user", "verify", str(folder / "tikget-watch.timer"),
                           str(folder / "tikget-watch.service")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path / "home"),
                               "PATH": "/usr/bin:/bin"})
    # systemd-analyze warns (exit 0) about a value it ignores: no output at all is the pass
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    # ... and it does read them: a broken value is reported
    bad = (folder / "tikget-watch.timer").read_text().replace("OnUnitActiveSec=4h",
                                                              "OnUnitActiveSec=4 hours!")
    (folder / "tikget-watch.timer").write_text(bad)
    done = subprocess.run([analyze, "--user", "verify", str(folder / "tikget-watch.timer")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"})
    assert "OnUnitActiveSec" in done.stderr or "timer value" in done.stderr


def test_launchd_plist_for_a_fake_home_field_by_field(fakes: Fakes, tmp_path: Path,
                                                      isolated_home: Path) -> None:
    home = tmp_path / "home"
    host = host_for(fakes, home, system="Darwin", TIKGET_HOME=str(isolated_home))
    (fakes.bin / "launchctl").chmod(0o755)
    plan = scheduler.plan_install(load(dict(host.env)), host, 2 * 3600, notify=True)
    agent = home / "Library" / "LaunchAgents" / "io.github.tikget.watch.plist"
    assert plan.kind == "launchd" and list(plan.files) == [agent]
    assert plan.commands == [["launchctl", "bootstrap", "gui/1000", str(agent)]]
    data = plistlib.loads(plan.files[agent])
    assert data["Label"] == "io.github.tikget.watch"
    assert data["ProgramArguments"] == [sys.executable, "-m", "tikget_tui", "watch", "run",
                                        "--once", "--every", "2h", "--notify"]
    assert data["StartInterval"] == 7200 and data["RunAtLoad"] is True
    env = data["EnvironmentVariables"]
    assert env["TIKGET_DATA_DIR"] == str(isolated_home / "data")
    assert env["TIKGET_CONFIG"] == str(isolated_home / "config.toml")
    assert data["StandardOutPath"] == data["StandardErrorPath"] == "/dev/null"
    # without launchctl (or on Linux without systemctl): a crontab line
    fakes.remove("launchctl")
    assert scheduler.choose_kind(host) == "cron"
    fakes.remove("systemctl")
    assert scheduler.choose_kind(host_for(fakes, home)) == "cron"


def test_cron_line_runs_the_same_command_and_escapes_percent(fakes: Fakes, tmp_path: Path,
                                                             isolated_home: Path) -> None:
    odd = tmp_path / "d 100%"
    host = host_for(fakes, tmp_path / "home", TIKGET_HOME=str(isolated_home),
                    TIKGET_DOWNLOAD_DIR=str(odd))
    settings = load(dict(host.env))
    plan = scheduler.plan_install(settings, host, 4 * 3600, cron=True)
    assert plan.kind == "cron" and plan.files == {} and plan.commands == [] and not plan.notes
    minute, hour, *rest = plan.cron_line.split(" ", 5)
    assert 0 <= int(minute) < 60 and hour == "*/4" and rest[:3] == ["*", "*", "*"]
    assert plan.cron_line.endswith(">/dev/null 2>&1 # tikget-watch")
    command = rest[3].removesuffix(" >/dev/null 2>&1 # tikget-watch")
    assert "%" not in command.replace("\\%", "")  # cron would read a bare % as a line break
    words = shlex.split(command.replace("\\%", "%"))
    assignments = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    assert assignments["TIKGET_DOWNLOAD_DIR"] == str(odd)
    assert assignments["TIKGET_DATA_DIR"] == str(isolated_home / "data")
    assert [w for w in words if not re.match(r"^[A-Z_]+=", w)] == [
        sys.executable, "-m", "tikget_tui", "watch", "run", "--once", "--every", "4h"]
    # cron steps divide an hour or a day: 5h runs every 4h, and the plan says so
    five = scheduler.plan_install(settings, host, 5 * 3600, cron=True)
    assert " */4 * * * " in five.cron_line
    assert five.notes == ["cron steps must divide an hour or a day: it runs every 4h, "
                          "not every 5h"]
    assert scheduler.cron_schedule(25 * 60, "tester") == ("*/20 * * * *", 1200.0)


# -- install and uninstall through recording fakes ----------------------------------------------


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    from tikget_tui.cli import main

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        rc = main(list(argv))
        captured = capsys.readouterr()
        return CliResult(rc, captured.out, captured.err)

    return run


def test_dry_run_writes_nothing_and_runs_nothing(fakes: Fakes, cli, tmp_path: Path) -> None:
    downloads = tmp_path / "chosen"
    downloads.mkdir()
    dry = cli("watch", "install", "--dry-run", "--every", "3h", "--dir", str(downloads),
              "--concurrency", "5")
    assert dry.rc == 0, dry
    # the command line's settings go into the unit too
    assert f'Environment="TIKGET_DOWNLOAD_DIR={downloads}"' in dry.out
    assert 'Environment="TIKGET_CONCURRENCY=5"' in dry.out
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    assert f"would write {unit_dir / 'tikget-watch.service'}:" in dry.out
    assert "OnUnitActiveSec=3h" in dry.out and "--every\" \"3h\"" in dry.out
    assert "would run: systemctl --user enable --now tikget-watch.timer" in dry.out
    assert "loginctl enable-linger tester" in dry.out
    assert not unit_dir.exists() and not scheduler.record_path(load()).exists()
    assert [c for c in fakes.calls() if c[0] != "loginctl"] == []  # only lingering was asked

    # what it printed is a valid unit and timer (as systemd-analyze reads them, where installed)
    printed = re.split(r"^would write (.+):$", dry.out, flags=re.M)
    files = {Path(printed[i]).name: printed[i + 1].split("\nwould ")[0].strip() + "\n"
             for i in range(1, len(printed), 2)}
    assert sorted(files) == ["tikget-watch.service", "tikget-watch.timer"]
    assert one(parse_unit(files["tikget-watch.timer"])["Timer"], "OnUnitActiveSec") == "3h"
    analyze = shutil.which("systemd-analyze", path="/usr/bin:/bin")
    if analyze is not None:
        folder = tmp_path / "printed"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        done = subprocess.run([analyze, "--user", "verify", str(folder / "tikget-watch.timer"),
                               str(folder / "tikget-watch.service")],
                              capture_output=True, text=True, timeout=60, check=False,
                              env={"XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"})
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_systemd_install_status_and_uninstall_with_recording_fakes(
    fakes: Fakes, cli, tmp_path: Path,
) -> None:
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    installed = cli("watch", "install", "--every", "4h")
    assert installed.rc == 0, installed
    assert "installed a systemd user timer tikget-watch.timer" in installed.out
    assert ("lingering is off: polls stop when you log out (and resume at the next login); "
            "to keep polling after logout, run: loginctl enable-linger tester") in installed.out
    assert "nobody is watched yet" in installed.out
    calls = fakes.calls()
    assert ["systemctl", "--user", "daemon-reload"] in calls
    assert ["systemctl", "--user", "enable", "--now", "tikget-watch.timer"] in calls
    assert ["loginctl", "show-user", "tester", "--property=Linger", "--value"] in calls
    assert not any("enable-linger" in c for c in calls)  # never run, only printed
    service, timer = unit_dir / "tikget-watch.service", unit_dir / "tikget-watch.timer"
    assert service.is_file() and timer.is_file()
    record = json.loads(scheduler.record_path(load()).read_text())
    assert record["kind"] == "systemd" and record["every"] == 14400
    assert set(record["files"]) == {str(service), str(timer)}

    status = cli("watch", "status", "--json")
    assert status.rc == 0, status
    svc = json.loads(status.out)["service"]
    assert (svc["installed"], svc["kind"], svc["active"], svc["lingering"]) == (
        True, "systemd", True, False)
    assert svc["next_run_at"] == datetime.fromtimestamp(NEXT_ELAPSE, UTC).isoformat()
    assert svc["linger_command"] == "loginctl enable-linger tester"
    text = cli("watch", "status")
    assert "timer: systemd user timer tikget-watch.timer, every 4h, active; next run in" \
        in text.out

    # installing again (another interval) replaces the files it wrote
    again = cli("watch", "install", "--every", "2h")
    assert again.rc == 0, again
    assert "OnUnitActiveSec=2h" in timer.read_text()

    before = len(fakes.calls())
    removed = cli("watch", "uninstall")
    assert removed.rc == 0, removed
    assert removed.out.splitlines() == [
        "stopped and disabled tikget-watch.timer", f"removed {service}", f"removed {timer}"]
    assert fakes.calls()[before:] == [
        ["systemctl", "--user", "disable", "--now", "tikget-watch.timer"],
        ["systemctl", "--user", "daemon-reload"]]
    assert not service.exists() and not timer.exists()
    assert not scheduler.record_path(load()).exists()
    nothing = cli("watch", "uninstall")
    assert nothing.rc == 1 and "nothing to remove" in nothing.err


def test_install_refuses_a_unit_it_did_not_write_and_uninstall_keeps_an_edited_one(
    fakes: Fakes, cli, tmp_path: Path,
) -> None:
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    unit_dir.mkdir(parents=True)
    foreign = unit_dir / "tikget-watch.timer"
    foreign.write_text("[Timer]\nOnCalendar=daily\n")
    refused = cli("watch", "install")
    assert refused.rc == 1 and "was not written by `tikget watch install`" in refused.err
    assert foreign.read_text() == "[Timer]\nOnCalendar=daily\n"
    assert fakes.calls() == [] and not (unit_dir / "tikget-watch.service").exists()
    foreign.unlink()

    assert cli("watch", "install").rc == 0
    (unit_dir / "tikget-watch.service").write_text("# my own now\n")
    removed = cli("watch", "uninstall")
    assert removed.rc == 0
    assert f"left {unit_dir / 'tikget-watch.service'} in place: it was changed after " \
        "install" in removed.out
    assert (unit_dir / "tikget-watch.service").read_text() == "# my own now\n"
    assert not foreign.exists()


def test_a_failing_systemctl_leaves_nothing_behind(fakes: Fakes, cli, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL", "enable --now")
    failed = cli("watch", "install")
    assert failed.rc == 1
    assert failed.err.startswith("tikget: systemctl --user enable --now tikget-watch.timer "
                                 "failed: systemctl: Failed to connect to bus")
    assert not (tmp_path / "home" / ".config" / "systemd" / "user" / "tikget-watch.timer"
                ).exists()
    assert not scheduler.record_path(load()).exists()
    assert failed.err.rstrip().endswith("nothing was installed (`tikget watch install --cron` "
                                        "prints a crontab line instead)")
    assert fakes.calls()[-1] == ["systemctl", "--user", "daemon-reload"]  # undone


def test_launchd_install_and_uninstall_with_recording_fakes(
    fakes: Fakes, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler.platform, "system", lambda: "Darwin")
    agent = tmp_path / "home" / "Library" / "LaunchAgents" / "io.github.tikget.watch.plist"
    uid = os.getuid()
    installed = cli("watch", "install", "--every", "6h")
    assert installed.rc == 0, installed
    assert "installed a launchd agent" in installed.out
    assert fakes.calls() == [["launchctl", "bootstrap", f"gui/{uid}", str(agent)]]
    assert plistlib.loads(agent.read_bytes())["StartInterval"] == 6 * 3600
    status = json.loads(cli("watch", "status", "--json").out)["service"]
    assert (status["kind"], status["active"], status["lingering"]) == ("launchd", True, None)
    removed = cli("watch", "uninstall")
    assert removed.rc == 0, removed
    assert fakes.calls()[-1] == ["launchctl", "bootout", f"gui/{uid}/io.github.tikget.watch"]
    assert not agent.exists()


def test_cron_prints_the_line_and_status_finds_it_in_the_crontab(
    fakes: Fakes, cli, tmp_path: Path,
) -> None:
    installed = cli("watch", "install", "--cron")
    assert installed.rc == 0, installed
    head, line = installed.out.splitlines()[:2]
    assert head.startswith("add this line to your crontab (crontab -e)")
    assert line.endswith("# tikget-watch") and " watch run --once --every 4h " in line
    assert [c for c in fakes.calls() if c[0] == "crontab"] == []  # the crontab is the user's
    status = json.loads(cli("watch", "status", "--json").out)["service"]
    assert (status["kind"], status["active"]) == ("cron", False)
    (tmp_path / "crontab.txt").write_text("MAILTO=''\n" + line + "\n")
    status = json.loads(cli("watch", "status", "--json").out)["service"]
    assert status["active"] is True
    assert [c for c in fakes.calls() if c[0] == "crontab"] == [["crontab", "-l"]] * 2
    removed = cli("watch", "uninstall")
    assert removed.rc == 0
    assert removed.out.strip() == ("your crontab still has the line; remove it with "
                                   f"`crontab -e`: {line}")
    assert not scheduler.record_path(load()).exists()


# -- the scheduled run against the stand-in ------------------------------------------------------


def hold_the_queue(data_dir: Path) -> subprocess.Popen[str]:
    """Another process (as the app does) holds the instance lock until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\n"
         "from tikget_tui.instance import InstanceLock\n"
         f"InstanceLock(Path({str(data_dir)!r})).acquire()\n"
         "print('held', flush=True)\ntime.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_scheduled_runs_save_once_skip_while_the_app_holds_the_queue_and_show_in_status(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    from tikget_tui.logs import log_file

    assert run_cli("watch", "add", "@" + DEMO_PHOTO_CREATOR).rc == 0
    settings = load()
    first = run_cli("watch", "run", "--once", "--every", "4h")
    assert first.rc == 0, first
    assert first.out.splitlines()[-1] == "run: polled 1 of 1 creator, saved 2 stories"
    saved = sorted(p.name for p in cli_env.iterdir())
    assert len([n for n in saved if n.endswith(".info.json")]) == 2  # two stories saved
    second = run_cli("watch", "run", "--once", "--every", "4h")
    assert second.rc == 0, second
    assert second.out.splitlines()[-1] == "run: polled 1 of 1 creator, saved 0 stories"
    assert sorted(p.name for p in cli_env.iterdir()) == saved  # nothing twice

    with Store.open(settings.state_db) as store:
        polled_at = store.watch_get(DEMO_PHOTO_CREATOR).last_poll_at  # type: ignore[union-attr]
    holder = hold_the_queue(settings.data_dir)
    try:
        skipped = run_cli("watch", "run", "--once", "--every", "4h")
    finally:
        holder.kill()
        holder.wait()
    assert (skipped.rc, skipped.out) == (0, "the app is running and polls the watch list "
                                            "itself\n"), skipped
    with Store.open(settings.state_db) as store:
        entry = store.watch_get(DEMO_PHOTO_CREATOR)
        assert entry is not None and entry.last_poll_at == polled_at  # nobody was polled

    status = run_cli("watch", "status", "--json")
    assert status.rc == 0, status
    data = json.loads(status.out)
    [creator] = data["creators"]
    assert (creator["username"], creator["found"], creator["saved"], creator["saved_24h"],
            creator["failed"], creator["paused"]) == (DEMO_PHOTO_CREATOR, 2, 0, 2, False,
                                                      False)
    runs = data["runs"]
    assert [(r["polled"], r["saved"], r["status"], r["skipped"], r["every"]) for r in runs] == [
        (0, 0, 0, True, 14400.0), (1, 0, 0, False, 14400.0), (1, 2, 0, False, 14400.0)]
    assert all(r["finished_at"] for r in runs)
    loop = run_cli("watch", "run", "--every", "4h")  # a scheduler's mark without --once
    assert loop.rc == 2 and "--every and --notify go with --once" in loop.err
    assert run_cli("watch", "run", "--once", "--every", "2d").rc == 2
    # the log file `tikget locate` names tells the same story
    logged = log_file(settings).read_text()
    assert "watch run --once: polled 1 of 1 creator, saved 2 stories; exit 0" in logged
    assert "the app is running and polls the watch list itself (tikget is already running" \
        in logged


def test_a_run_that_fails_for_a_creator_exits_1_and_notifies(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, fakes: Fakes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_cli("watch", "add", "@" + DEMO_PHOTO_CREATOR, "@" + DEMO_PRIVATE_CREATOR,
                   "--anyway").rc == 0
    done = run_cli("watch", "run", "--once", "--notify")
    assert done.rc == 1, done
    assert done.out.splitlines()[-1] == ("run: polled 2 of 2 creators, 1 look-up failed, "
                                         "saved 2 stories")
    [notified] = [c for c in fakes.calls() if c[0] == "notify-send"]
    assert notified[:4] == ["notify-send", "--app-name=tikget", "--urgency=critical",
                            "tikget watch"]
    with Store.open(load().state_db) as store:  # the two photo stories' main files
        names = ", ".join(sorted(j.final_path.name for j in store.list_jobs()
                                 if j.final_path is not None))
    assert names.count(".jpg") == 2
    assert notified[4] == (f"saved 2 new stories (@{DEMO_PHOTO_CREATOR}: {names}); failed: "
                           f"@{DEMO_PRIVATE_CREATOR}: @{DEMO_PRIVATE_CREATOR} is a private "
                           "account; only public stories can be saved")
    by_name = {c["username"]: c for c in json.loads(run_cli("watch", "status", "--json").out)[
        "creators"]}
    private = by_name[DEMO_PRIVATE_CREATOR]
    assert (private["failed"], private["found"], private["saved"], private["failures"]) == (
        True, None, None, 1)
    assert "is a private account" in private["error"]
    assert (by_name[DEMO_PHOTO_CREATOR]["found"], by_name[DEMO_PHOTO_CREATOR]["saved"]) == (2, 2)
    # the last poll failed for every creator → status exits 1 and says why
    monkeypatch.setenv("PATH", str(fakes.bin))
    assert run_cli("watch", "remove", "@" + DEMO_PHOTO_CREATOR).rc == 0
    status = run_cli("watch", "status")
    assert status.rc == 1
    assert status.err == "tikget: the last poll failed for every creator\n"


def test_desktop_notify_escapes_markup_and_needs_a_notifier(fakes: Fakes) -> None:
    from tikget_tui.notify import desktop_notify

    assert desktop_notify("tikget watch", "saved <b>1</b> & \x1b[31mred")
    [call] = fakes.calls()
    assert call[-1] == "saved &lt;b&gt;1&lt;/b&gt; &amp; [31mred"
    fakes.remove("notify-send")
    assert not desktop_notify("tikget watch", "nothing to show it with")


# -- the status snapshot -------------------------------------------------------------------------


def test_status_snapshot(fakes: Fakes, isolated_home: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Creators in every state, a systemd timer, one skipped run after a run that polled."""
    monkeypatch.setenv("FAKE_NEXT_ELAPSE", str(int((NOW + timedelta(hours=3, minutes=25))
                                                   .timestamp())))
    from tikget_tui.commands import watch_service

    settings = load()
    with Store.open(settings.state_db) as store:
        for name in ("mika.travels", "secret.garden", "quiet.creator", "new.one"):
            store.watch_add(name)
        store.watch_update("mika.travels", last_poll_at=NOW - timedelta(hours=1),
                           next_poll_at=NOW + timedelta(hours=3), last_found=3, last_new=2,
                           last_saved=2, last_error="", last_result="3 active stories")
        store.watch_update("secret.garden", last_poll_at=NOW - timedelta(hours=1),
                           last_found=0, last_new=0, failures=3, paused=True,
                           last_error="@secret.garden is a private account",
                           last_result="@secret.garden is a private account")
        store.watch_update("quiet.creator", last_poll_at=NOW - timedelta(minutes=61),
                           last_found=0, last_new=0, last_saved=0, last_error="",
                           last_result="no active story")
        for i, when in enumerate((NOW - timedelta(hours=1), NOW - timedelta(hours=30))):
            Records(store).put(ArchiveEntry(story_id=f"74400000000000001{i}", variant="video",
                                           path=isolated_home / f"m{i}.mp4", saved_at=when,
                                           creator="mika.travels"))
        run = store.watch_run_start(NOW - timedelta(hours=1), every=4 * 3600.0)
        store.watch_run_finish(run.id, NOW - timedelta(minutes=58), polled=3, failed=1,
                               saved=2, status=1,
                               outcome="polled 3 of 3 creators, 1 look-up failed, saved 2 "
                                       "stories")
        run = store.watch_run_start(NOW - timedelta(minutes=5), every=4 * 3600.0)
        store.watch_run_finish(run.id, NOW - timedelta(minutes=5), status=0,
                               outcome="skipped: the app is running and polls the watch "
                                       "list itself")
    scheduler.install(settings, Host.current(),
                      scheduler.plan_install(settings, Host.current(), 4 * 3600), now=NOW)
    out, err = io.StringIO(), io.StringIO()
    rc = watch_service.status(Namespace(json=False), settings,
                              clock=FakeClock(NOW), out=out, err=err)
    assert rc == 1
    soon = "in 3h 25m"
    assert out.getvalue() == textwrap.dedent(f"""\
        CREATOR         LAST POLL   FOUND  SAVED  LAST RESULT                                                       NEXT POLL  SAVED 24H
        @mika.travels   1h 00m ago  3      2      ok                                                                {soon}  1
        @new.one        never       -      -      never polled                                                      {soon}  0
        @quiet.creator  1h 01m ago  0      0      ok                                                                {soon}  0
        @secret.garden  1h 00m ago  -      -      paused after 3 failed polls: @secret.garden is a private account  paused     0

        timer: systemd user timer tikget-watch.timer, every 4h, active; next run {soon}
        lingering is off: polls stop when you log out (and resume at the next login); to keep polling after logout, run: loginctl enable-linger tester
        last run: 5m ago (every 4h): skipped: the app is running and polls the watch list itself; exit 0
        last run that polled: 1h 00m ago (every 4h): polled 3 of 3 creators, 1 look-up failed, saved 2 stories; exit 1
        """)  # noqa: E501
    assert err.getvalue() == ("tikget: @secret.garden is paused (`tikget watch add "
                              "@secret.garden` resumes it)\n")
