"""Files in a download folder that others may write to (README "Shared download folders").

Whoever else can write in the folder (another user, another tikget with its own
state folder, a stray script) may plant a symbolic link, a hard link or a FIFO
at any name tikget is about to use, before or during a download. So:

- every file tikget makes there is created new (``O_CREAT | O_EXCL |
  O_NOFOLLOW``, or ``mkstemp``), never opened through a link;
- a ``.part`` is reopened only when it is a regular file of ours (our uid, one
  link, opened without following links) and, within a run, the very file
  (device, inode) this job wrote before; anything else is :class:`ForeignFile`
  and left alone;
- a finished file gets its final name with :func:`place` (``link`` then
  ``unlink``): it never replaces anything already there (``FileExistsError``);
- ffmpeg writes only into :func:`private_dir`, a fresh 0700 folder;
- :class:`Claim` (``flock`` on ``.tikget-ID-VARIANT.claim``) lets only one
  tikget at a time save a given story into the folder; the others wait, then
  take over its finished file instead of saving a second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tikget_tui import jsonfile

# O_NONBLOCK: opening a FIFO planted at our name must not hang (it is refused after fstat)
_NEW = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_EXISTING = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
PRIVATE_PREFIX = ".tikget-tmp-"
SIDECAR_TEMP_PREFIX = ".tikget-sidecar-"
"""A sidecar being written: ``.tikget-sidecar-PID-XXXXXXXX.tmp`` (see :func:`temp_prefix`)."""
CLAIM_SUFFIX = ".claim"

Stamp = tuple[int, int]  # (st_dev, st_ino) of a file we made


class ForeignFile(OSError):
    """A name tikget uses holds something it did not make (a link, a FIFO, another user's
    file); ``reason`` is one line for the user."""

    def __init__(self, path: Path, what: str) -> None:
        self.reason = (
            f"{path.name} in {path.parent} is {what}, not a file tikget made; it was left "
            "alone (remove it, then retry)"
        )
        super().__init__(errno.EEXIST, self.reason)


class ClaimHeld(Exception):
    """Another program held a story's claim for too long; ``reason`` is one line."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.reason = (
            f"another program has been saving this story into {path.parent} for "
            f"{seconds / 60:.0f} min (it holds {path.name}); retry later"
        )
        super().__init__(self.reason)


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino)


def describe(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid != os.geteuid():
        return "another user's file"
    return "a file with other hard links"


def is_own(st: os.stat_result) -> bool:
    """A regular file of ours with no other name (a hard link could point anywhere)."""
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and st.st_nlink == 1


def create_new(path: Path, mode: int = 0o644) -> int:
    """A new file at ``path`` (``FileExistsError`` when anything, even a link, is there)."""
    return os.open(path, os.O_RDWR | _NEW, mode)


def open_own(path: Path, flags: int = os.O_RDWR, expect: Stamp | None = None) -> int:
    """Open an existing file of ours without following links; else :class:`ForeignFile`."""
    try:
        fd = os.open(path, flags | _EXISTING)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ForeignFile(path, "a symbolic link") from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise ForeignFile(path, "not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not is_own(st):
            raise ForeignFile(path, describe(st))
        if expect is not None and stamp_of(st) != expect:
            raise ForeignFile(path, "another file than the one this download wrote")
    except BaseException:
        os.close(fd)
        raise
    return fd


def lstat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def is_regular(path: Path) -> bool:
    """A regular file under ``path`` itself (a link there does not count)."""
    st = lstat_or_none(path)
    return st is not None and stat.S_ISREG(st.st_mode)


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def place(src: Path, final: Path) -> None:
    """Give our finished file ``src`` the name ``final``, never replacing anything there.

    fsyncs the file, links it under ``final`` (``FileExistsError`` if the name is taken,
    even by a dangling link), removes ``src``, fsyncs the folder. On a filesystem without
    hard links: a rename after checking that ``final`` is free.
    """
    fd = open_own(src, os.O_RDONLY)
    try:
        os.fsync(fd)
        made = stamp_of(os.fstat(fd))
    finally:
        os.close(fd)
    try:
        os.link(src, final, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if lstat_or_none(final) is not None:
            raise FileExistsError(errno.EEXIST, "file exists", str(final)) from None
        os.rename(src, final)
    else:
        st = lstat_or_none(final)
        if st is None or stamp_of(st) != made:  # src was swapped between the checks
            with contextlib.suppress(OSError):
                os.unlink(final)
            raise ForeignFile(src, "another file than the one this download wrote")
        os.unlink(src)
    fsync_dir(final.parent)


def replace_own(src: Path, final: Path, still_ours: Callable[[Path], bool]) -> None:
    """Like :func:`place`, but an existing ``final`` is replaced when it is a regular file of
    ours that ``still_ours`` recognises (e.g. our own earlier sidecar); else ForeignFile."""
    try:
        place(src, final)
        return
    except FileExistsError:
        pass
    st = lstat_or_none(final)
    if st is not None and not (is_own(st) and still_ours(final)):
        raise ForeignFile(final, describe(st) if not is_own(st) else "not tikget's file")
    os.replace(src, final)
    fsync_dir(final.parent)


def write_new(directory: Path, data: bytes, *, prefix: str = ".tikget-",
              suffix: str = ".tmp") -> Path:
    """``data`` in a new hidden file of ``directory`` (mkstemp: O_EXCL, no link followed)."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


_IN_USE: set[str] = set()  # private folders of this process not yet removed


def private_dir(directory: Path) -> Path:
    """A fresh 0700 folder inside ``directory`` (same filesystem, so placing is atomic);
    nobody else can put anything in it. The name carries our pid for :func:`cleanup`."""
    path = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=directory))
    _IN_USE.add(path.name)
    return path


def remove_private(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
    _IN_USE.discard(path.name)


def temp_prefix(kind: str) -> str:
    """``.tikget-KIND-PID-``: a temporary file's prefix naming the process writing it, so
    :func:`cleanup` can tell one a killed process left from one being written."""
    return f".tikget-{kind}-{os.getpid()}-"


def cleanup(directory: Path) -> None:
    """Remove private folders and sidecar temp files that dead tikget processes (ours)
    left behind, and claims nobody holds (a holder killed before it could remove it)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.name.startswith(".tikget-") and entry.name.endswith(CLAIM_SUFFIX):
                _drop_stale_claim(Path(entry.path))
            if entry.name.startswith(SIDECAR_TEMP_PREFIX) and entry.name.endswith(".tmp"):
                _drop_dead_temp(entry, entry.name[len(SIDECAR_TEMP_PREFIX):])
                continue
            if not entry.name.startswith(PRIVATE_PREFIX):
                continue
            pid_text = entry.name[len(PRIVATE_PREFIX):].split("-", 1)[0]
            try:
                st = entry.stat(follow_symlinks=False)
                pid = int(pid_text)
            except (OSError, ValueError):
                continue
            if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or _alive(pid)
                    or entry.name in _IN_USE):
                continue
            remove_private(Path(entry.path))


def _drop_dead_temp(entry: os.DirEntry[str], rest: str) -> None:
    """Unlink a temp file (``PID-XXXX.tmp`` after its prefix) whose writer is gone: a
    regular file of ours whose process is dead (never one being written now, never a
    link or anyone else's file)."""
    try:
        pid = int(rest.split("-", 1)[0])
        st = entry.stat(follow_symlinks=False)
    except (OSError, ValueError):
        return
    if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or pid == os.getpid()
            or _alive(pid)):
        return
    with contextlib.suppress(OSError):
        os.unlink(entry.path)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _drop_stale_claim(path: Path) -> None:
    try:
        fd = open_own(path, os.O_RDONLY)
    except OSError:
        return  # not ours, or not a plain file: left alone
    try:
        if _try_lock(fd) and stamp_of(os.lstat(path)) == stamp_of(os.fstat(fd)):
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)  # closing drops the lock


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, and not in _IN_USE: left by an earlier run with our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Claim:
    """``flock`` on ``DIR/.tikget-ID-VARIANT.claim``: one tikget at a time saves a story
    into a folder (whatever its state folder).

    The holder writes the names it saved into the claim, removes its name and unlocks;
    a tikget that waited on the same file then reads them (:meth:`acquire` returns them)
    and takes the saved file over instead of saving a second copy. A holder that died
    leaves the file behind with its lock gone: the next one simply takes it.
    """

    POLL = 0.5
    MAX_WAIT = 600.0  # a claim held longer than this (a hung or hostile holder) is an error

    def __init__(self, directory: Path, story_id: str, variant: str) -> None:
        self.path = directory / f".tikget-{story_id}-{variant}{CLAIM_SUFFIX}"
        self._fd: int | None = None

    def _open(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _EXISTING, 0o644)
        except PermissionError:  # another user's claim in a shared folder: lock it read-only
            fd = os.open(self.path, os.O_RDONLY | _EXISTING)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise ForeignFile(self.path, "not a regular file") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            os.close(fd)
            raise ForeignFile(self.path, describe(st) if not stat.S_ISREG(st.st_mode)
                              else "a file with other hard links")
        return fd

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        try:
            data = jsonfile.loads(os.pread(fd, 64 * 1024, 0), limit=64 * 1024)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    async def acquire(self, on_wait: Callable[[], None]) -> dict[str, Any]:
        """Hold the claim (returns {}), or, when another tikget held it and finished
        saving meanwhile, return what it recorded (``{"stem": ..., "files": [...]}``)
        without holding anything."""
        waited = False
        while True:
            fd = self._open()
            if not _try_lock(fd):
                if not waited:
                    waited = True
                    on_wait()
                waited_for = 0.0
                while not _try_lock(fd):  # wait on this very file, even once unlinked
                    if waited_for >= self.MAX_WAIT:
                        os.close(fd)
                        raise ClaimHeld(self.path, waited_for)
                    await asyncio.sleep(self.POLL)
                    waited_for += self.POLL
            if os.fstat(fd).st_nlink == 0:  # its holder finished and removed it
                saved = self._read(fd)
                os.close(fd)
                if saved.get("files"):
                    return saved
                continue  # it failed or was cancelled: claim afresh
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a dead holder's leftovers
            self._fd = fd
            return {}

    def release(self, stem: str | None = None, files: list[str] | None = None) -> None:
        """Record what was saved (for a tikget waiting on the claim), remove the claim's
        name (only if it is still this file) and unlock."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if stem and files:
                text = json.dumps({"stem": stem, "files": files, "pid": os.getpid()})
                with contextlib.suppress(OSError):
                    os.pwrite(fd, text.encode("utf-8"), 0)
            with contextlib.suppress(OSError):
                st = os.lstat(self.path)
                if stamp_of(st) == stamp_of(os.fstat(fd)):
                    os.unlink(self.path)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
