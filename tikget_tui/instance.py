"""One process drives the queue: :class:`InstanceLock`, and the store's error type.

Kept apart from :mod:`tikget_tui.store` (which re-exports all three) so that the app
can check the lock before its first frame without loading SQLite and the store.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path


class StoreError(RuntimeError):
    """The state database cannot be used; the message is one line that says what to do."""


class AlreadyRunning(StoreError):
    def __init__(self, pid: int | None, lock_file: Path) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"tikget is already running ({who}); close it first or wait for it to finish"
        )
        self.lock_file = lock_file


class InstanceLock:
    """Exclusive ``fcntl.flock`` on ``DATA_DIR/tikget.lock``; the file holds the owner's pid.

    The kernel drops the lock when the process dies (even on SIGKILL), so a
    stale lock file never blocks a restart.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "tikget.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            from tikget_tui.private import private_dir, tighten

            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            tighten(self.path, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            # The winner writes its pid just after taking the lock: give it a moment.
            pid: int | None = None
            for _ in range(50):
                with contextlib.suppress(OSError, ValueError):
                    pid = int(os.pread(fd, 32, 0).decode().strip() or "0") or None
                if pid is not None:
                    break
                time.sleep(0.01)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AlreadyRunning(pid, self.path) from None
            raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
