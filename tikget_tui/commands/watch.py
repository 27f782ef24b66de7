"""``tikget watch add|remove|list|run``: a watch list that saves new stories before they expire.

- ``add @user... [--note TEXT] [--anyway]``: each creator is looked up once first; a
  private or unknown account (or one that cannot be looked up now) is refused with the
  reason (exit 1) unless ``--anyway``. Adding a paused account again resumes it.
- ``remove @user...``: exit 1 when removing someone not watched; 2 when a name cannot be
  understood.
- ``list [--json]``: each creator with the next poll time and the last result; an account
  whose polls fail says how many failed in a row, and ``paused`` once it is no longer polled.
- ``run [--once] [--interval S]``: poll due creators (``--once``: every creator
  once, wait for the downloads, exit) through :class:`tikget_tui.watch.Watcher`.
  Holds the instance lock; exit 1 when tikget already runs, when a look-up
  failed or a download failed (``--once``), 2 on a bad interval.
- ``run --once [--every SPAN] [--notify]`` is what a timer runs (``watch install``): it logs
  to the log file ``tikget locate`` names, records the run in the state database, and exits
  0 only when every creator was polled and everything saved; when the app (or another
  tikget) holds the queue it prints one line and exits 0 at once: the app polls itself.
- ``install``, ``uninstall``, ``status``: :mod:`tikget_tui.commands.watch_service`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.commands import already_running, demo_service
from tikget_tui.commands.moments import ago, when
from tikget_tui.commands.stories import visible
from tikget_tui.config import Settings
from tikget_tui.links import ParseError, UserTarget, parse
from tikget_tui.store import Store, StoreError, WatchEntry

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("tikget_tui.watch.run")
Sleep = Callable[[float], Awaitable[None]] | None


def _fail(err: TextIO, message: str) -> None:
    print(f"tikget: {' '.join(str(message).split())}", file=err)


def _usernames(texts: list[str], settings: Settings) -> list[str]:
    out: list[str] = []
    for text in texts:
        for target in parse(text, settings.service):
            if not isinstance(target, UserTarget):
                raise ParseError(f"{visible(text, 60)} is a post link; watch a creator (@user)")
            name = target.username or target.user_id or ""
            if name not in out:
                out.append(name)
    return out


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def entry_dict(w: WatchEntry) -> dict[str, Any]:
    return {"username": w.username, "note": w.note, "added_at": _iso(w.added_at),
            "last_poll_at": _iso(w.last_poll_at), "next_poll_at": _iso(w.next_poll_at),
            "last_result": w.last_result, "failures": w.failures, "paused": w.paused}


def health(w: WatchEntry) -> str:
    """What a failing or paused account's row says before its last result ('' when fine)."""
    from tikget_tui.watch import health_line

    return health_line(w, resume=f"`tikget watch add @{w.username}` looks it up and resumes it")


def run(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    action = args.watch_command
    try:
        if action in ("add", "remove"):
            try:
                names = _usernames(list(args.targets), settings)
            except ParseError as exc:
                _fail(err, str(exc))
                return EXIT_USAGE
            refused: dict[str, str] = {}
            if action == "add" and not args.anyway:
                with demo_service(args, settings) as looked_up_on:
                    refused = asyncio.run(_check_creators(names, looked_up_on, clock))
            with Store.open(settings.state_db) as store:
                status = _edit(store, action, [n for n in names if n not in refused],
                               getattr(args, "note", None) or "", out, err)
            for reason in refused.values():
                _fail(err, f"{reason}; not watched (--anyway adds it all the same)")
            return EXIT_FAIL if refused else status
        if action == "list":
            with Store.open(settings.state_db) as store:
                return _list(store, bool(args.json), clock, out)
        if action in ("install", "uninstall", "status"):
            from tikget_tui.commands import watch_service

            return int(getattr(watch_service, action)(args, settings, clock=clock, out=out,
                                                      err=err))
        return _run_command(args, settings, clock, sleep, out, err)
    except StoreError as exc:
        _fail(err, str(exc))
        return EXIT_FAIL


def _run_command(args: argparse.Namespace, settings: Settings, clock: Clock, sleep: Sleep,
                 out: TextIO, err: TextIO) -> int:
    from tikget_tui.scheduler import ScheduleError, parse_every
    from tikget_tui.watch import WatchError, check_interval

    once = bool(args.once)
    every: float | None = None
    scheduled = getattr(args, "every", None) is not None or getattr(args, "notify", False)
    if scheduled and not once:
        _fail(err, "--every and --notify go with --once (a run a scheduler starts)")
        return EXIT_USAGE
    if getattr(args, "every", None) is not None:
        try:
            every = parse_every(args.every)
        except ScheduleError as exc:
            _fail(err, str(exc))
            return EXIT_USAGE
    interval = args.interval if args.interval is not None else (every or settings.poll_interval)
    try:
        check_interval(interval)
    except WatchError as exc:
        _fail(err, str(exc))
        return EXIT_USAGE
    if once:
        # a scheduled run has no terminal: its log goes to the file `tikget locate` names
        from tikget_tui.logs import log_file, setup_logging

        setup_logging(settings, verbose=bool(args.verbose), file=log_file(settings),
                      write_pages=args.write_pages)
        log.info("watch run --once started (pid %d%s)", os.getpid(),
                 f", every {args.every}" if every else "")
    running = already_running(settings)  # before the demo service starts
    if running is not None:
        if once:
            return _skip_run(settings, every, running, clock, out)
        _fail(err, running)
        return EXIT_FAIL
    with demo_service(args, settings) as settings:
        return asyncio.run(_run(settings, interval, once, clock, sleep, out, err,
                                every=every, notify=bool(getattr(args, "notify", False))))


APP_POLLS = "the app is running and polls the watch list itself"


def _skip_run(settings: Settings, every: float | None, running: str, clock: Clock,
              out: TextIO) -> int:
    """``--once`` while the app (or another tikget) holds the queue: one line, exit 0; the
    run is recorded so `watch status` shows the scheduler did start."""
    from tikget_tui.store import RUN_SKIPPED

    print(APP_POLLS, file=out, flush=True)
    log.info("watch run --once: nothing to do, %s (%s)", APP_POLLS, running)
    try:
        with Store.open(settings.state_db) as store:
            run = store.watch_run_start(clock.now(), every=every)
            store.watch_run_finish(run.id, clock.now(), status=EXIT_OK,
                                   outcome=f"{RUN_SKIPPED} {APP_POLLS}")
    except StoreError as exc:  # the app may be writing: the run stays unrecorded
        log.warning("watch run --once: could not record the skipped run: %s", exc)
    return EXIT_OK


async def _check_creators(names: list[str], settings: Settings, clock: Clock
                         ) -> dict[str, str]:
    """Look each creator up once; name → the reason it cannot be watched (refused ones)."""
    from tikget_tui.tiktok import TikTokClient, TikTokError

    refused: dict[str, str] = {}
    async with TikTokClient(settings, clock=clock) as client:
        for name in names:
            shown = name if name.isdigit() else "@" + name
            try:
                await client.lookup_stories(name)
            except TikTokError as exc:
                reason = exc.reason if shown in exc.reason else f"{shown}: {exc.reason}"
                if exc.retryable:
                    reason = f"could not look {shown} up now ({exc.reason})"
                refused[name] = visible(reason)
    return refused


def _edit(store: Store, action: str, names: list[str], note: str, out: TextIO,
          err: TextIO) -> int:
    status = EXIT_OK
    for name in names:
        shown = visible(name if name.isdigit() else "@" + name)
        if action == "add":
            before = store.watch_get(name)
            store.watch_add(name, note=note)
            if before is not None and (before.paused or before.failures):
                print(f"watching {shown} again (its polls had failed {before.failures} "
                      "time(s) in a row)", file=out)
                continue
            print(f"watching {shown}", file=out)
        elif store.watch_remove(name):
            print(f"stopped watching {shown}", file=out)
        else:
            _fail(err, f"{shown} was not on the watch list")
            status = EXIT_FAIL
    return status


def _list(store: Store, as_json: bool, clock: Clock, out: TextIO) -> int:
    entries = store.watch_list()
    if as_json:
        json.dump([entry_dict(w) for w in entries], out, indent=2)
        out.write("\n")
        return EXIT_OK
    if not entries:
        print("nobody is watched; add a creator with: tikget watch add @user", file=out)
        return EXIT_OK
    now = clock.now()
    rows = [("CREATOR", "NEXT POLL", "LAST POLL", "LAST RESULT", "NOTE")]
    for w in entries:
        result = visible(w.last_result or "-", 80)
        if health(w):
            result = f"{health(w)}: {result}"
        rows.append((visible("@" + w.username, 30),
                     "paused" if w.paused else when(w.next_poll_at, now),
                     ago(w.last_poll_at, now) if w.last_poll_at else "never",
                     result, visible(w.note or "", 40)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(wd) for c, wd in zip(r, widths, strict=True)).rstrip(), file=out)
    return EXIT_OK


async def _run(settings: Settings, interval: float, once: bool, clock: Clock, sleep: Sleep,
               out: TextIO, err: TextIO, *, every: float | None = None,
               notify: bool = False) -> int:
    from tikget_tui.downloads import DownloadManager, JobChanged, JobState
    from tikget_tui.progress import CliProgress
    from tikget_tui.store import AlreadyRunning
    from tikget_tui.tiktok import TikTokClient
    from tikget_tui.watch import PollResult, Watcher

    status = EXIT_OK
    results: list[PollResult] = []

    def on_poll(result: PollResult) -> None:
        nonlocal status
        results.append(result)
        if not result.ok:
            status = EXIT_FAIL
        if result.paused:
            print(f"{visible('@' + result.username)}: {visible(result.summary)}; paused after "
                  f"{result.failures} failed polls (`tikget watch add` resumes it)",
                  file=out, flush=True)
            return
        failed = f" ({result.failures} failed in a row)" if result.failures > 1 else ""
        print(f"{visible('@' + result.username)}: {visible(result.summary)}{failed}; next poll "
              f"{when(result.next_poll_at, clock.now())}", file=out, flush=True)

    def on_event(event: object) -> None:
        nonlocal status
        if isinstance(event, JobChanged) and event.job.is_final:
            job = event.job
            name = job.final_path.name if job.final_path else "-"
            detail = job.verdict or ""
            if job.reason:
                detail = f"{detail}: {job.reason}" if detail else job.reason
            if job.state != JobState.DONE or job.verdict == "fail":
                status = EXIT_FAIL
            print(f"  {job.story_id} {visible(job.creator.unique_id)} {job.state} "
                  f"{visible(name)} {visible(detail)}".rstrip(), file=out, flush=True)

    async with TikTokClient(settings, clock=clock) as client:
        manager = DownloadManager(settings, client=client, clock=clock)
        try:
            await manager.start()
        except AlreadyRunning as exc:  # taken between the check and now
            if once:
                return _skip_run(settings, every, str(exc), clock, out)
            _fail(err, str(exc))
            return EXIT_FAIL
        except StoreError as exc:
            _fail(err, str(exc))
            return EXIT_FAIL
        try:
            run = manager.store.watch_run_start(clock.now(), every=every) if once else None
            if not manager.store.watch_list():
                print("nobody is watched; add a creator with: tikget watch add @user", file=out)
                if run is not None:
                    manager.store.watch_run_finish(run.id, clock.now(), status=EXIT_OK,
                                                   outcome="nobody is watched")
                return EXIT_OK
            manager.subscribe(on_event)
            watcher = Watcher(manager, client, clock=clock, sleep=sleep, interval=interval,
                              audio=settings.audio_mp3, on_poll=on_poll)
            with CliProgress(err) as progress:
                progress.attach(manager)
                if once:
                    assert run is not None
                    eligible = len(watcher.round_entries(everyone=True))
                    await watcher.poll_once(everyone=True)
                    await manager.wait_idle()
                    summary = RunSummary.of(results, manager, eligible)
                    for username, saved in summary.saved_by.items():
                        with contextlib.suppress(KeyError):
                            manager.store.watch_update(username, last_saved=saved)
                    final = EXIT_OK if summary.complete and status == EXIT_OK else EXIT_FAIL
                    manager.store.watch_run_finish(
                        run.id, clock.now(), polled=len(results), failed=summary.failed,
                        left=summary.left, saved=summary.saved,
                        download_failed=summary.download_failed, status=final,
                        outcome=summary.line)
                    print(f"run: {summary.line}", file=out, flush=True)
                    (log.info if final == EXIT_OK else log.warning)(
                        "watch run --once: %s; exit %d", summary.line, final)
                    if notify:
                        _notify(summary)
                    return final
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                        loop.add_signal_handler(sig, stop.set)
                print(f"watching {len(manager.store.watch_list())} creator(s); "
                      "Ctrl-C stops (the queue resumes next time)", file=err)
                try:
                    await watcher.run(stop)
                finally:
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                            loop.remove_signal_handler(sig)
                return EXIT_OK
        finally:
            await manager.stop()


@dataclass(frozen=True)
class RunSummary:
    """What one ``--once`` run did, for its last line, the log, the record and a notification."""

    polled: int
    failed: int
    left: int  # creators the budget left for the next run
    saved: int
    download_failed: int
    saved_by: dict[str, int]  # username → stories its poll saved
    failures: tuple[str, ...]  # "@user: why", one per failed look-up
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # username → names saved

    @property
    def complete(self) -> bool:
        """Every creator was polled, every look-up and download worked."""
        return not (self.failed or self.left or self.download_failed)

    @classmethod
    def of(cls, results: list[Any], manager: Any, eligible: int) -> RunSummary:
        from tikget_tui.downloads import JobState

        saved_by: dict[str, int] = {}
        files: dict[str, list[str]] = {}
        download_failed = 0
        for result in results:
            if not result.ok:
                continue
            saved_by[result.username] = 0
            for job_id in result.new_jobs:
                job = manager.job(job_id)
                if job is not None and job.state == JobState.DONE and job.verdict != "fail":
                    saved_by[result.username] += 1
                    if job.final_path is not None:
                        files.setdefault(result.username, []).append(job.final_path.name)
                else:
                    download_failed += 1
        failures = tuple(f"@{r.username}: {r.summary}" for r in results if not r.ok)
        return cls(polled=len(results), failed=len(failures),
                   left=max(0, eligible - len(results)), saved=sum(saved_by.values()),
                   download_failed=download_failed, saved_by=saved_by, failures=failures,
                   files={u: tuple(sorted(names)) for u, names in files.items()})

    @property
    def line(self) -> str:
        total = self.polled + self.left
        parts = [f"polled {self.polled} of {total} creator{'s' if total != 1 else ''}"]
        if self.left:
            parts.append(f"{self.left} left for the next run (at most {self.polled} "
                         "look-ups in one run)")
        if self.failed:
            parts.append(f"{self.failed} look-up{'s' if self.failed != 1 else ''} failed")
        parts.append(f"saved {self.saved} stor{'y' if self.saved == 1 else 'ies'}")
        if self.download_failed:
            plural = "s" if self.download_failed != 1 else ""
            parts.append(f"{self.download_failed} download{plural} failed")
        return ", ".join(parts)


def _notify(summary: RunSummary) -> None:
    from tikget_tui.notify import desktop_notify

    if summary.complete and not summary.saved:
        return  # nothing new and nothing wrong: no notification
    saved = [f"@{u}: {', '.join(summary.files.get(u, ())) or n}"
             for u, n in summary.saved_by.items() if n]
    body = f"saved {summary.saved} new stor{'y' if summary.saved == 1 else 'ies'}"
    if saved:
        body += f" ({'; '.join(saved)})"
    if summary.failures:
        body += "; failed: " + "; ".join(summary.failures)
    if summary.download_failed:
        body += f"; {summary.download_failed} download(s) failed"
    if summary.left:
        body += f"; {summary.left} creator(s) left for the next run"
    desktop_notify("tikget watch", body, urgent=not summary.complete)
