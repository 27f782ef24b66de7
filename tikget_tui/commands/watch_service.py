"""``tikget watch install|uninstall|status``: polling that outlives the terminal.

- ``install [--every 4h] [--cron] [--dry-run] [--notify]``: a systemd user timer (Linux),
  a launchd agent (macOS) or, elsewhere or with ``--cron``, a crontab line printed for
  the user to add; each runs ``tikget watch run --once`` (:mod:`tikget_tui.scheduler`).
  Says whether lingering is on and the command that turns it on; never runs it.
- ``uninstall``: removes exactly what install made (its record in the data folder).
- ``status [--json]``: per creator the last poll (when, found, saved, failed and why,
  paused), the next poll, stories saved in the last 24 h; then the timer (installed,
  active, next run), lingering, and the last runs. Exit 1 when a creator is paused or the
  last poll failed for every creator.

Exit status: 0 done, 1 it could not be done (one line says why), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from tikget_tui import __version__
from tikget_tui.archive.records import Records
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.commands.stories import visible
from tikget_tui.config import Settings
from tikget_tui.scheduler import (
    SERVICE,
    TIMER,
    Host,
    ScheduleError,
    ServiceState,
    every_text,
    linger_command,
    lingering,
    parse_every,
    plan_install,
)
from tikget_tui.store import Store, WatchEntry, WatchRun

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DAY = timedelta(hours=24)

KIND_NAMES = {"systemd": f"systemd user timer {TIMER}", "launchd": "launchd agent",
              "cron": "crontab line"}


def _fail(err: TextIO, message: str) -> None:
    print(f"tikget: {' '.join(str(message).split())}", file=err)


def _host() -> Host:
    return Host.current()


def _linger_line(host: Host, on: bool | None) -> str:
    if on is True:
        return "lingering is on: polls go on after you log out"
    what = "off" if on is False else "not known here (loginctl cannot tell)"
    return (f"lingering is {what}: polls stop when you log out (and resume at the next "
            f"login); to keep polling after logout, run: {linger_command(host)}")


def install(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
            out: TextIO | None = None, err: TextIO | None = None) -> int:
    from tikget_tui import scheduler

    out = out or sys.stdout
    err = err or sys.stderr
    host = _host()
    try:
        every = parse_every(args.every) if args.every else settings.poll_interval
        plan = plan_install(settings, host, every, cron=bool(args.cron),
                            notify=bool(args.notify), demo=bool(args.demo),
                            download_dir_given=args.dir is not None,
                            concurrency_given=args.concurrency is not None,
                            version=__version__)
    except ScheduleError as exc:
        _fail(err, str(exc))
        return EXIT_USAGE
    if args.dry_run:
        for path, data in plan.files.items():
            print(f"would write {path}:", file=out)
            print(data.decode(), file=out)
        for argv in plan.commands:
            print(f"would run: {' '.join(argv)}", file=out)
        if plan.cron_line:
            print("add this line to your crontab (crontab -e):", file=out)
            print(plan.cron_line, file=out)
        for note in plan.notes:
            print(f"note: {note}", file=out)
        if plan.kind == "systemd":
            print(_linger_line(host, lingering(host)), file=out)
        print(f"would keep the record in {scheduler.record_path(settings)}", file=out)
        return EXIT_OK
    try:
        with Store.open(settings.state_db) as store:
            watched = len(store.watch_list())
        scheduler.install(settings, host, plan, now=clock.now())
    except ScheduleError as exc:
        _fail(err, str(exc))
        return EXIT_FAIL
    span = every_text(plan.every)
    if plan.kind == "cron":
        print("add this line to your crontab (crontab -e), then check with `crontab -l` "
              "and `tikget watch status`:", file=out)
        print(plan.cron_line, file=out)
    else:
        print(f"installed a {KIND_NAMES[plan.kind]}: `tikget watch run --once` every {span}, "
              "the first within a few minutes", file=out)
        for path in plan.files:
            print(f"  wrote {path}", file=out)
    for note in plan.notes:
        print(f"note: {note}", file=out)
    if plan.kind == "systemd":
        print(_linger_line(host, lingering(host)), file=out)
        print(f"check it with: tikget watch status (or systemctl --user list-timers {TIMER}; "
              f"its output: journalctl --user -u {SERVICE})", file=out)
    elif plan.kind == "launchd":
        print("check it with: tikget watch status (or launchctl print "
              f"gui/{host.uid}/{scheduler.LAUNCHD_LABEL})", file=out)
    if not watched:
        print("nobody is watched yet; add creators with: tikget watch add @user", file=out)
    return EXIT_OK


def uninstall(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    from tikget_tui import scheduler

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        lines = scheduler.uninstall(settings, _host())
    except ScheduleError as exc:
        _fail(err, str(exc))
        return EXIT_FAIL
    for line in lines:
        print(line, file=out)
    return EXIT_OK


# -- status ----------------------------------------------------------------------------------


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def timer_next(state: ServiceState, runs: list[WatchRun], now: datetime) -> datetime | None:
    """When the scheduler runs next: as it says (systemd), else about the last scheduled
    run's start plus the interval (None: no timer active)."""
    if state.kind is None or state.active is False:
        return None
    if state.next_run_at is not None:
        return state.next_run_at
    return last_scheduled_next(runs, now)


def last_scheduled_next(runs: list[WatchRun], now: datetime) -> datetime | None:
    """From the runs a scheduler started (``--every``): the last one's start + interval."""
    scheduled = next((r for r in runs if r.every), None)
    if scheduled is None or scheduled.every is None:
        return None
    return scheduled.started_at + timedelta(seconds=scheduled.every)


def _result(w: WatchEntry) -> str:
    from tikget_tui.watch import health_line

    if w.last_poll_at is None:
        return "never polled"
    why = w.last_error or (w.last_result if w.failures else "")
    if w.paused or w.failures:  # (how to resume a paused one: the line under the table)
        return f"{health_line(w)}: {why}" if why else health_line(w)
    return "ok"


def _saved(w: WatchEntry) -> str:
    if w.last_saved is not None:
        return str(w.last_saved)
    if w.last_new:
        return f"{w.last_new} queued"
    return "-" if w.last_found is None else "0"


def creator_dict(w: WatchEntry, next_poll: datetime | None, saved_24h: int) -> dict[str, Any]:
    failed = bool(w.failures)  # a failed look-up found nothing: no counts
    return {"username": w.username, "note": w.note, "last_poll_at": _iso(w.last_poll_at),
            "found": None if failed else w.last_found, "new": None if failed else w.last_new,
            "saved": None if failed else w.last_saved,
            "failed": bool(w.failures), "error": w.last_error or None,
            "failures": w.failures, "paused": w.paused, "next_poll_at": _iso(next_poll),
            "saved_24h": saved_24h, "last_result": w.last_result}


def run_dict(r: WatchRun) -> dict[str, Any]:
    return {"id": r.id, "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at),
            "pid": r.pid, "every": r.every, "polled": r.polled, "failed": r.failed,
            "left": r.left, "saved": r.saved, "download_failed": r.download_failed,
            "status": r.status, "skipped": r.skipped, "outcome": r.outcome}


def attention(entries: list[WatchEntry]) -> list[str]:
    """Why ``watch status`` exits 1: paused creators; the last poll failed for everyone."""
    reasons = [f"@{w.username} is paused (`tikget watch add @{w.username}` resumes it)"
               for w in entries if w.paused]
    active = [w for w in entries if not w.paused]
    if active and all(w.failures for w in active):
        reasons.append("the last poll failed for every creator")
    return reasons


def status(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
           out: TextIO | None = None, err: TextIO | None = None) -> int:
    from tikget_tui.commands.moments import ago, when
    from tikget_tui.scheduler import service_state

    out = out or sys.stdout
    err = err or sys.stderr
    now = clock.now()
    with Store.open(settings.state_db) as store:
        entries = store.watch_list()
        runs = store.watch_runs(10)
        saved_24h = Records(store).saved_since(now - DAY)
    host = _host()
    state = service_state(settings, host)
    timer_at = timer_next(state, runs, now)
    reasons = attention(entries)

    def next_poll(w: WatchEntry) -> datetime | None:
        if w.paused:
            return None
        return timer_at if timer_at is not None else w.next_poll_at

    if args.json:
        service = state.as_dict()
        service["next_run_at"] = _iso(timer_at)
        service["linger_command"] = linger_command(host) if state.lingering is not True \
            else None
        json.dump({"creators": [creator_dict(w, next_poll(w), saved_24h.get(w.username, 0))
                                for w in entries],
                   "service": service, "runs": [run_dict(r) for r in runs],
                   "attention": reasons}, out, indent=2)
        out.write("\n")
        return EXIT_FAIL if reasons else EXIT_OK

    if not entries:
        print("nobody is watched; add a creator with: tikget watch add @user", file=out)
    else:
        rows = [("CREATOR", "LAST POLL", "FOUND", "SAVED", "LAST RESULT", "NEXT POLL",
                 "SAVED 24H")]
        for w in entries:
            nxt = next_poll(w)
            rows.append((visible("@" + w.username, 30),
                         ago(w.last_poll_at, now) if w.last_poll_at else "never",
                         "-" if w.last_found is None or w.failures else str(w.last_found),
                         "-" if w.failures else _saved(w),
                         visible(_result(w), 70),
                         "paused" if w.paused else when(nxt, now),
                         str(saved_24h.get(w.username, 0))))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(wd) for c, wd in zip(r, widths, strict=True)).rstrip(),
                  file=out)
        print(file=out)
    print(_service_line(state, timer_at, now), file=out)
    if state.kind == "systemd" or (state.kind is None and state.lingering is not None):
        print(_linger_line(host, state.lingering), file=out)
    if runs:
        print(f"last run: {_run_line(runs[0], now)}", file=out)
        polled = next((r for r in runs if not r.skipped), None)
        if runs[0].skipped and polled is not None:
            print(f"last run that polled: {_run_line(polled, now)}", file=out)
    for reason in reasons:
        _fail(err, reason)
    return EXIT_FAIL if reasons else EXIT_OK


def _service_line(state: ServiceState, timer_at: datetime | None, now: datetime) -> str:
    from tikget_tui.commands.moments import when

    if state.kind is None:
        extra = f" ({state.detail})" if state.detail else ""
        return ("timer: not installed; creators are polled only while the app or "
                f"`tikget watch run` is open (`tikget watch install` sets one up){extra}")
    every = every_text(state.every) if state.every else "?"
    active = {True: "active", False: "NOT active", None: "active or not: cannot tell"}[
        state.active]
    line = f"timer: {KIND_NAMES[state.kind]}, every {every}, {active}"
    if timer_at is not None:
        about = "" if state.next_run_at is not None else "about "
        line += f"; next run {about}{when(timer_at, now)}"
    if state.missing:
        line += f"; missing: {', '.join(state.missing)} (run `tikget watch install` again)"
    if state.detail:
        line += f" ({state.detail})"
    return line


def _run_line(run: WatchRun, now: datetime) -> str:
    from tikget_tui.commands.moments import ago

    by = f"every {every_text(run.every)}" if run.every else "by hand"
    if run.finished_at is None:
        return f"{ago(run.started_at, now)} ({by}), did not finish (still running, or stopped)"
    return f"{ago(run.started_at, now)} ({by}): {run.outcome}; exit {run.status}"
