"""Logging for both front ends: ``-v`` to stderr, the app's log file, ``--write-pages``.

One call, :func:`setup_logging`, configures the ``tikget_tui`` logger tree:

- ``verbose``: every request (method, URL with signed values redacted, status, bytes,
  time; from :mod:`tikget_tui.tiktok.diagnostics`) and every decision (rendition chosen,
  retries, waits, skipped or copied stories, watch polls) go to stderr;
- ``file``: the same log (always at that detail) to a rotating file; the app writes
  :func:`log_file`, which ``tikget locate`` prints;
- ``write_pages``: every page and API answer is kept in that folder (redacted).

Without any of them, only warnings reach stderr (Python's default). Calling it again
replaces what an earlier call set up. No textual import here.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tikget_tui.config import Settings
from tikget_tui.private import FILE_MODE, private_dir, secure_state, tighten

ROOT = "tikget_tui"
LOG_FILE_NAME = "tikget.log"
LOG_FILE_BYTES = 2 * 1024 * 1024
LOG_FILE_BACKUPS = 2
_MARK = "_tikget_handler"


def log_file(settings: Settings) -> Path:
    """Where the app writes its log (``tikget locate`` prints it)."""
    return settings.cache_dir / LOG_FILE_NAME


def answers_dir(settings: Settings) -> Path:
    """Where answers TikTok sent that did not parse are saved (redacted)."""
    from tikget_tui.tiktok.diagnostics import ANSWERS_FOLDER

    return settings.cache_dir / ANSWERS_FOLDER


def _warn_on_stderr(message: str) -> None:
    print(f"tikget: warning: {message}", file=sys.stderr)


def setup_logging(settings: Settings, *, verbose: bool = False, file: Path | None = None,
                  write_pages: Path | None = None, stream: TextIO | None = None,
                  warn: Callable[[str], None] = _warn_on_stderr) -> Path | None:
    """Configure logging as described in the module doc; returns the log file in use
    (None when none could be opened: the app runs on without one, and ``warn`` says why)."""
    from tikget_tui.tiktok import diagnostics

    root = logging.getLogger(ROOT)
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    diagnostics.configure(write_pages=write_pages)
    opened: Path | None = None
    if verbose:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s.%(msecs)03d %(levelname).1s %(name)s: %(message)s", "%H:%M:%S"))
        handler.setLevel(logging.DEBUG)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if file is not None:
        try:
            private_dir(file.parent)
            fh = _PrivateLogFile(
                file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
        except OSError as exc:
            warn(f"cannot write the log file {file}: {exc.strerror or exc}")
        else:
            fh.setFormatter(logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s"))
            fh.setLevel(logging.DEBUG)
            setattr(fh, _MARK, True)
            root.addHandler(fh)
            opened = file
    if verbose or opened is not None:
        root.setLevel(logging.DEBUG)
        # with a handler of our own, warnings are not printed a second time by Python's
        # last-resort handler, and the app's screen is never written over
        root.propagate = False
    else:
        root.setLevel(logging.NOTSET)
        root.propagate = True
    return opened


class _PrivateLogFile(logging.handlers.RotatingFileHandler):
    """The log file and its rotations are 0600 whatever the umask (it names every
    creator looked up)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                     FILE_MODE)
        tighten(Path(self.baseFilename), FILE_MODE)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def secure_existing(settings: Settings) -> None:
    """Make the folders and files an older tikget left readable by others private (each
    change is a line in the log: ``-v``); the download folder keeps its mode, and so does
    a folder that holds it (``TIKGET_HOME``). See :mod:`tikget_tui.private`."""
    from tikget_tui.locations import Locations

    locs = Locations(settings.config_file, settings.data_dir, settings.cache_dir,
                     settings.download_dir)
    log_path = log_file(settings)
    files = [settings.state_db, *(settings.state_db.with_name(settings.state_db.name + x)
                                  for x in ("-wal", "-shm", "-journal")),
             locs.lock_file, settings.data_dir / "input-history.txt", log_path,
             *(log_path.with_name(f"{log_path.name}.{n}")
               for n in range(1, LOG_FILE_BACKUPS + 1))]
    answers = answers_dir(settings)
    with contextlib.suppress(OSError):
        files += sorted(answers.glob("*.txt"))
    secure_state([settings.config_file.parent, settings.data_dir, settings.cache_dir,
                  answers], files, keep_open=[settings.download_dir])


def start_app_log(settings: Settings, *, write_pages: Path | None = None,
                  warn: Callable[[str], None] = _warn_on_stderr) -> Path | None:
    """The app's logging: everything to :func:`log_file`, nothing to the screen; the first
    line says which tikget, service and folders this run used. (The app calls it once its
    first frame is on screen, with ``warn`` showing the line on its message line.)"""
    from tikget_tui import __version__

    opened = setup_logging(settings, file=log_file(settings), write_pages=write_pages,
                           warn=warn)
    secure_existing(settings)
    logging.getLogger(ROOT).info(
        "tikget %s app started (pid %d); service %s; download dir %s", __version__,
        os.getpid(), settings.service.origin, settings.download_dir)
    return opened
