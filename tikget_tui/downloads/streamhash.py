"""The sha256 of a ``.part`` computed while it is written, in a thread of its own."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

HASH_READ = 256 * 1024  # the sha256 thread reads the .part back this much at a time


def _read_into(fd: int, view: memoryview, pos: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], pos)
    block = os.pread(fd, len(view), pos)  # no preadv (older macOS): one copy more
    view[: len(block)] = block
    return len(block)


class StreamHash:
    """The sha256 of the ``.part`` as it is written, computed in a thread of its own.

    The thread reads what is already written back through the same file descriptor
    (``os.preadv`` into one reused buffer, from the page cache): the bytes a resumed
    ``.part`` holds first (once), then each MiB the transfer flushes. Nothing is copied
    or queued on the way, so memory stays flat however far it lags; it wakes once per
    MiB, and ``preadv`` and ``sha256.update`` release the GIL, so on a second core the
    hash keeps up with the socket without taking the event loop's time. A read error
    only loses the hash (the verifier then computes it).
    """

    def __init__(self, digest: Any, fd: int, hashed: int, written: int) -> None:
        self.digest = digest
        self._fd = fd
        self._pos = hashed  # hashed up to here
        self._written = written  # written (and flushed) up to here
        self._closing = False
        self._failed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="tikget-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        update, fd = self.digest.update, self._fd
        view = memoryview(bytearray(HASH_READ))
        try:
            while True:
                with self._cond:
                    while self._pos >= self._written and not self._closing:
                        self._cond.wait()
                    target, closing = self._written, self._closing
                while self._pos < target:
                    got = _read_into(fd, view[: min(HASH_READ, target - self._pos)], self._pos)
                    if not got:
                        raise OSError(errno.EIO, "the partial file is shorter than written")
                    update(view[:got])
                    self._pos += got
                if closing:
                    return
        except Exception as exc:  # the hash is lost, never the download
            log.debug("sha256 of the partial file lost: %s", exc)
            self._failed = True

    def advance(self, written: int) -> None:
        """``written`` bytes of the file are now with the OS (flushed)."""
        with self._cond:
            self._written = written
            self._cond.notify()

    async def close(self, written: int) -> Any | None:
        """The digest of the first ``written`` bytes (still open for more), or None."""
        with self._cond:
            self._written, self._closing = written, True
            self._cond.notify()
        await asyncio.to_thread(self._thread.join)
        return None if self._failed else self.digest
