"""Private by default: what we keep about the user's research is theirs alone.

Whatever the umask, our config, data, cache and log folders are made 0700 and the files
that say what the user looked up (the state database with its ``-wal``/``-shm``, the log
file and its rotations, saved answers, written pages, the input history, the lock) 0600.
Folders and files made by an older tikget (0755/0644 under the usual umask) are
tightened once, each with a line in the ``-v`` log. The download folder is not ours to
decide: it keeps the user's umask (sharing the saved stories is the user's call), and a
folder that holds it (``TIKGET_HOME``) is left as it is.

No textual import here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def tighten(path: Path, mode: int) -> bool:
    """Take group and other permissions away from ``path`` (never following a link); True
    when it changed (said in the ``-v`` log)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
        return False  # a link, or someone else's: not ours to change
    old = stat.S_IMODE(st.st_mode)
    if not old & 0o077:
        return False
    try:
        os.chmod(path, old & mode if mode == FILE_MODE else (old | 0o700) & mode)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc.strerror or exc)
        return False
    log.info("made %s private: mode %04o, was %04o (only you can read it now)", path,
             stat.S_IMODE(os.lstat(path).st_mode), old)
    return True


def private_dir(path: Path) -> Path:
    """``path`` as a folder of ours: made 0700 when missing (its missing parents too, as
    ``mkdir -p`` would make them, under the umask), tightened when it exists."""
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, DIR_MODE)
    tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a 0600 file (created empty, never through a link), or
    tighten it when an older tikget made it readable by others."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, FILE_MODE)
        os.close(fd)
    tighten(path, FILE_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new file of ours (0600 from the start, never through a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tighten(path, FILE_MODE)


def secure_state(folders: Iterable[Path], files: Iterable[Path],
                 keep_open: Iterable[Path] = ()) -> None:
    """Tighten existing ``folders`` and ``files`` (missing ones are left to be made
    private when first written); a folder holding one of ``keep_open`` (the download
    folder) is left as the user made it."""
    shared = [Path(os.path.abspath(p)) for p in keep_open]
    for folder in folders:
        here = Path(os.path.abspath(folder))
        if any(here == p or here in p.parents for p in shared):
            continue
        if here.is_dir():
            tighten(here, DIR_MODE)
    for file in files:
        if os.path.lexists(file):
            tighten(file, FILE_MODE)
