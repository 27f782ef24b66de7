"""Which files ``tikget verify`` checks, and what their sidecars say they should be.

- :func:`collect`: named files and folders → the media files to check (a folder: its media
  files, sub-folders too with ``recursive``), skipping and counting the project's own
  ``.info.json`` sidecars, partial downloads (``.part``, ``.tmp``) and, inside folders,
  files that are not media by their extension.
- :func:`sidecar_of`: the ``NAME.info.json`` beside a saved file that lists it, and what it
  recorded (sha256, size, declared duration, kind): :func:`expected_from` turns that into
  the :class:`Expected` the checks use; :func:`compare` adds the check that says whether
  the file is still the one that was saved.

No textual import here; reading sidecars needs no ffprobe.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tikget_tui.verify.report import Expected, Report, Verdict

SIDECAR_SUFFIX = ".info.json"
PARTIAL_SUFFIXES = (".part", ".tmp")
MEDIA_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".m4a", ".aac", ".ogg", ".opus",
    ".wav", ".flac", ".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif",
})
_PHOTO_NUMBER = re.compile(r"-\d{2}$")


@dataclass
class Collected:
    files: list[Path] = field(default_factory=list)
    sidecars: int = 0  # .info.json skipped
    partial: int = 0  # .part / .tmp skipped
    other: int = 0  # files in a folder that are not media
    folders: int = 0  # sub-folders not searched (no -r)
    caches: int = 0  # sub-folders not searched: tagged caches (our preview frames), even with -r
    sidecar_paths: list[Path] = field(default_factory=list)  # the sidecars skipped, to ask
    # which of the files they list are gone (missing_listed)

    def skipped_line(self) -> str:
        """'skipped 7 sidecars (.info.json), 1 partial download (.part)' or ''."""
        parts = []
        if self.sidecars:
            parts.append(f"{self.sidecars} sidecar{'s' if self.sidecars != 1 else ''} "
                         "(.info.json)")
        if self.partial:
            parts.append(f"{self.partial} partial download{'s' if self.partial != 1 else ''} "
                         "(.part)")
        if self.other:
            parts.append(f"{self.other} file{'s' if self.other != 1 else ''} that "
                         f"{'are' if self.other != 1 else 'is'} not media")
        if self.folders:
            parts.append(f"{self.folders} sub-folder{'s' if self.folders != 1 else ''} "
                         "(-r looks inside)")
        if self.caches:
            parts.append(f"{self.caches} cache folder{'s' if self.caches != 1 else ''} "
                         "(a CACHEDIR.TAG marks it: e.g. the app's preview frames, not media)")
        return ("skipped " + ", ".join(parts)) if parts else ""


def _kind_of_name(name: str) -> str:
    low = name.lower()
    if low.endswith(SIDECAR_SUFFIX):
        return "sidecar"
    if low.endswith(PARTIAL_SUFFIXES):
        return "partial"
    return "file"


CACHEDIR_TAG = "CACHEDIR.TAG"


def collect(paths: list[Path], *, recursive: bool = False) -> Collected:
    """The files to verify, in the order named (a folder's files sorted by name)."""
    out = Collected()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = Path(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.files.append(path)

    def walk(folder: Path) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            add(folder)  # verify says what is wrong with it
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir():
                tagged = recursive and (path / CACHEDIR_TAG).is_file()
                if recursive and not tagged:
                    walk(path)
                elif not entry.name.startswith("."):
                    if tagged:
                        out.caches += 1  # a tagged cache (our preview frames) is not media
                    else:
                        out.folders += 1
                continue
            if entry.name.startswith("."):
                continue  # hidden files (.DS_Store...) are nobody's media
            kind = _kind_of_name(entry.name)
            if kind == "sidecar":
                out.sidecars += 1
                out.sidecar_paths.append(path)
            elif kind == "partial":
                out.partial += 1
            elif path.suffix.lower() not in MEDIA_SUFFIXES:
                out.other += 1
            else:
                add(path)

    for path in paths:
        if path.is_dir():
            walk(path)
            continue
        kind = _kind_of_name(path.name)
        if kind == "sidecar":
            out.sidecars += 1
            out.sidecar_paths.append(path)
        elif kind == "partial":
            out.partial += 1
        else:
            add(path)
    return out


def missing_listed(sidecars: list[Path]) -> list[tuple[Path, Path]]:
    """(sidecar, file) for each file a sidecar lists that is not beside it any more: a
    saved story whose media is gone leaves only its sidecar, which ``verify`` skips, so it
    would otherwise pass a folder that lost a file. A name that is not a plain file name
    (a path, ``..``) is nobody's file here and is ignored."""
    out: list[tuple[Path, Path]] = []
    for side in sidecars:
        data = _read_json(side)
        if not isinstance(data, dict):
            continue
        files = data.get("files")
        for f in files if isinstance(files, list) else []:
            name = f.get("name") if isinstance(f, dict) else None
            if (not isinstance(name, str) or not name or name in (".", "..")
                    or "/" in name or "\\" in name or "\0" in name):
                continue
            media = side.with_name(name)
            if not os.path.lexists(media):
                out.append((side, media))
    return out


@dataclass(frozen=True)
class SidecarRecord:
    """What a sidecar recorded about one of its files."""

    path: Path  # the sidecar
    sha256: str | None
    size: int | None
    duration: float | None
    variant: str | None  # "video" | "audio" | "photo"
    saved_at: str
    unreadable: str = ""
    """Why the sidecar could not be read ("too large", "too deep"); then the file is
    verified without it, and the report says so."""


def _read_json(path: Path) -> dict[str, Any] | str | None:
    """The sidecar's JSON; the reason it is over a bound (str); None when missing or not
    JSON (bounded reads: :mod:`tikget_tui.jsonfile`)."""
    from tikget_tui import jsonfile

    try:
        data = jsonfile.read(path)
    except jsonfile.JsonUnreadable as exc:
        return exc.reason if exc.reason in ("too large", "too deep") else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def sidecar_of(media: Path) -> SidecarRecord | None:
    """The sidecar beside ``media`` that lists it (``NAME.info.json``, for an MP3 also
    ``NAME.mp3.info.json``; for photo stories ``NAME-01.jpg`` → ``NAME.info.json``), or
    None."""
    stem = media.name[: -len(media.suffix)] if media.suffix else media.name
    candidates = [media.name, stem]  # an MP3's NAME.mp3.info.json, then NAME.info.json
    if _PHOTO_NUMBER.search(stem):
        candidates.append(_PHOTO_NUMBER.sub("", stem))
    unreadable: SidecarRecord | None = None
    for candidate in candidates:
        side_path = media.with_name(candidate + SIDECAR_SUFFIX)
        data = _read_json(side_path)
        if isinstance(data, str):
            unreadable = unreadable or SidecarRecord(side_path, None, None, None, None, "",
                                                     unreadable=data)
            continue
        if data is None:
            continue
        for f in data.get("files") or []:
            if isinstance(f, dict) and f.get("name") == media.name:
                duration = data.get("duration")
                size = f.get("size")
                return SidecarRecord(
                    path=side_path,
                    sha256=str(f["sha256"]) if f.get("sha256") else None,
                    size=int(size) if isinstance(size, int) else None,
                    duration=float(duration) if isinstance(duration, int | float) else None,
                    variant=str(data["variant"]) if data.get("variant") else None,
                    saved_at=str(data.get("saved_at") or ""),
                )
    return unreadable


def expected_from(record: SidecarRecord | None, explicit_duration: float | None) -> Expected:
    """What the checks expect: ``--expect-duration`` first, else what the sidecar declared."""
    if record is None or record.unreadable:
        return Expected(duration=explicit_duration)
    if record.variant == "photo":
        return Expected(kind="photo")
    duration = explicit_duration if explicit_duration is not None else record.duration
    if record.variant == "audio":
        return Expected(kind="audio", duration=duration or None)
    return Expected(kind="video", duration=duration or None)


def compare(report: Report, record: SidecarRecord | None) -> bool:
    """Add the ``sidecar`` check (is the file the one that was saved?); True when it changed."""
    if record is not None and record.unreadable:
        # a warning, never a failure: the file itself was verified (warn and ok both exit 0)
        report.add("sidecar", Verdict.WARN,
                   f"sidecar unreadable: {record.unreadable} ({record.path.name}); "
                   "the file was checked without it")
        return False
    if record is None or report.sha256 is None:
        return False  # nothing to compare (the other checks say why the file is unreadable)
    when = f" ({record.saved_at[:19].replace('T', ' ')} UTC)" if record.saved_at else ""
    name = record.path.name
    sizes = ""
    if record.size is not None and report.size != record.size:
        sizes = f"{report.size} bytes, {name} recorded {record.size}"
    if record.sha256 and report.sha256 and report.sha256 != record.sha256:
        both = f"{report.sha256[:12]}…, {name} recorded {record.sha256[:12]}…"
        report.add("sidecar", Verdict.FAIL,
                   f"changed: its sha256 differs from the one {name} recorded when it was "
                   f"saved{when} ({both}{'; ' + sizes if sizes else ''})")
        return True
    if sizes and report.size:
        report.add("sidecar", Verdict.FAIL, f"changed: {sizes}{when}")
        return True
    what = "sha256" if record.sha256 and report.sha256 else "size"
    report.add("sidecar", Verdict.OK, f"matches {name} ({what}){when}")
    return False
