"""A story already saved in one folder, asked for in another: a verified copy, no network.

:func:`place_copy` puts every file of a saved copy into another folder under the human
name that folder gives it (``creator-topic-date.mp4``, unique there): a hard link when
both folders are on the same file system, else a byte copy (``.part``, fsync, rename).
Each new file is checked against the sha256 recorded when the story was saved (the
sidecar's per-file records, else the archive's); a mismatch removes what was placed and
raises :class:`CopyError` (the caller then downloads the story afresh).

:func:`add_note` adds a note to a saved copy's sidecar (atomic rewrite).
No textual import here.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tikget_tui.archive import sidecar
from tikget_tui.archive.records import ArchiveEntry
from tikget_tui.files import naming
from tikget_tui.files.safefile import place
from tikget_tui.verify.verifier import sha256_file

log = logging.getLogger(__name__)

# errors of os.link that mean "no hard link here", not "something is wrong"
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP,
            errno.EACCES, errno.ENOSYS}


class CopyError(Exception):
    """The saved copy cannot be copied (changed since saved, unreadable, disk full...)."""


@dataclass(frozen=True)
class Placed:
    files: tuple[Path, ...]
    how: str  # "hard link" | "copy" | "hard link and copy"
    sidecar: dict[str, Any]


def combine_notes(old: str, new: str) -> str:
    """``old`` with ``new`` added (nothing added when ``old`` already says it)."""
    old, new = old.strip(), new.strip()
    if not new or new in old:
        return old
    return f"{old}; {new}" if old else new


def old_stem(entry: ArchiveEntry, job_stem: str | None) -> str:
    if job_stem:
        return job_stem
    stem = entry.path.name.split(".", 1)[0]
    if entry.variant == "photo" and len(stem) > 3 and stem[-3] == "-" and stem[-2:].isdigit():
        stem = stem[:-3]
    return stem


def recorded_hashes(entry: ArchiveEntry, side: dict[str, Any] | None) -> dict[str, str]:
    """file name → sha256 as recorded at save time."""
    out: dict[str, str] = {}
    for f in (side or {}).get("files") or []:
        if isinstance(f, dict) and isinstance(f.get("name"), str) and f.get("sha256"):
            out[f["name"]] = str(f["sha256"])
    if entry.sha256 and entry.path.name not in out:
        out[entry.path.name] = entry.sha256
    return out


def _place_one(src: Path, dest: Path, want: str | None) -> str:
    """Hard-link or copy ``src`` to ``dest`` and check the sha256; returns how."""
    how = "hard link"
    try:
        os.link(src, dest)
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        how = "copy"
        part = dest.with_name(dest.name + ".part")
        try:
            with src.open("rb") as fin, part.open("wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
            place(part, dest)  # fsync, then the name: never replacing anything
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    got = sha256_file(dest)
    expected = want or sha256_file(src)
    if got != expected:
        dest.unlink(missing_ok=True)
        raise CopyError(f"{src.name} in {src.parent} no longer matches the sha256 recorded "
                        "when it was saved")
    return how


def place_copy(entry: ArchiveEntry, job_stem: str | None, directory: Path, stem: str,
               side: dict[str, Any] | None) -> Placed:
    """Put the files of ``entry`` into ``directory`` as ``stem…`` (see the module doc).

    ``side`` is the entry's sidecar (or None when it is gone). Blocking: run it in a thread.
    """
    before = old_stem(entry, job_stem)
    hashes = recorded_hashes(entry, side)
    placed: list[Path] = []
    hows: set[str] = set()
    try:
        for src in entry.all_files:
            name = src.name
            tail = name[len(before):] if name.startswith(before) else "".join(src.suffixes)
            dest = naming.inside(directory, stem + tail)
            if dest.exists():
                raise CopyError(f"{dest.name} already exists in {directory}")
            hows.add(_place_one(src, dest, hashes.get(name)))
            placed.append(dest)
    except (OSError, naming.UnsafePath) as exc:
        for p in placed:
            p.unlink(missing_ok=True)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CopyError(f"cannot copy {entry.path.name} into {directory}: {why}") from None
    except CopyError:
        for p in placed:
            p.unlink(missing_ok=True)
        raise
    how = " and ".join(sorted(hows)) if hows else "copy"
    log.info("copied %s from %s into %s (%s, sha256 verified)", entry.path.name,
             entry.directory, directory, how)
    renamed = {src.name: dest.name for src, dest in zip(entry.all_files, placed, strict=True)}
    data = dict(side or {})
    if data:
        files = []
        for f in data.get("files") or []:
            if isinstance(f, dict) and f.get("name") in renamed:
                f = {**f, "name": renamed[f["name"]]}
            files.append(f)
        data["files"] = files
        if data.get("file") in renamed:
            data["file"] = renamed[data["file"]]
    return Placed(tuple(placed), how, data)


def add_note(side_path: Path, note: str) -> dict[str, Any] | None:
    """Add ``note`` to the sidecar at ``side_path`` (atomic rewrite); the new sidecar, or
    None when there is none to update."""
    data = sidecar.read(side_path)
    if data is None:
        return None
    combined = combine_notes(str(data.get("note") or ""), note)
    if combined != data.get("note"):
        data["note"] = combined
        sidecar.write(side_path, data)
    return data


def restore_sidecar(side_path: Path, data: dict[str, Any] | None) -> None:
    """Put a sidecar back as it was (after a failed archive update)."""
    if data is not None:
        with contextlib.suppress(OSError):
            sidecar.write(side_path, data)
