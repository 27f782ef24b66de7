"""What a save recorded about each file of a saved copy (its sidecar's entries, else the
archive row): the evidence ``v`` and ``tikget audit`` compare a file on disk against, and
the one line that says what differs, with both values."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tikget_tui.archive import sidecar
from tikget_tui.archive.records import ArchiveEntry
from tikget_tui.archive.sidecar import sidecar_for
from tikget_tui.store import Job


@dataclass(frozen=True)
class Recorded:
    """What was recorded about one file of a saved copy when it was saved (its sidecar's
    entry, else the archive's): the evidence a later check compares against."""

    name: str
    sha256: str | None = None
    size: int | None = None
    duration: float | None = None  # measured by the verification at save time
    saved_at: str = ""  # ISO time, from the sidecar


def recorded_of(entry: ArchiveEntry, job: Job | None = None,
                side: dict[str, Any] | None = None) -> dict[str, Recorded]:
    """``file name -> Recorded`` for every file of ``entry`` (the sidecar's records first;
    the archive's sha256 and size for the main file when the sidecar has none)."""
    if side is None:
        side = sidecar.read(sidecar_for(entry, job))
    out: dict[str, Recorded] = {}
    saved_at = str((side or {}).get("saved_at") or "")
    verification = (side or {}).get("verification")
    durations: dict[str, float] = {}
    if isinstance(verification, dict):
        reports = verification.get("reports") if "reports" in verification else [verification]
        for r in reports if isinstance(reports, list) else []:
            if isinstance(r, dict) and isinstance(r.get("duration"), int | float) \
                    and isinstance(r.get("file"), str):
                durations[Path(r["file"]).name] = float(r["duration"])
    for f in (side or {}).get("files") or []:
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            size = f.get("size")
            out[f["name"]] = Recorded(
                name=f["name"], sha256=str(f["sha256"]) if f.get("sha256") else None,
                size=size if isinstance(size, int) else None,
                duration=durations.get(f["name"]), saved_at=saved_at)
    main = entry.path.name
    if main not in out and (entry.sha256 or entry.size):
        single = len(entry.all_files) == 1
        out[main] = Recorded(name=main, sha256=entry.sha256,
                             size=entry.size if single and entry.size else None,
                             saved_at=entry.saved_at.isoformat() if entry.saved_at else "")
    elif main in out and entry.sha256 and out[main].sha256 is None:
        out[main] = replace(out[main], sha256=entry.sha256)
    return out


def _short(sha: str) -> str:
    return sha[:12] + "…"


def change_of(name: str, rec: Recorded | None, *, size: int, sha256: str | None,
              duration: float | None = None) -> str:
    """'' when the file is what was recorded, else what differs, with both values:
    'NAME is 459371 bytes, 459363 were saved (sha256 3f2a…, 9b1c… was recorded)'."""
    if rec is None:
        return ""
    parts: list[str] = []
    if rec.size is not None and rec.size != size:
        parts.append(f"{name} is {size} bytes, {rec.size} were saved")
    if rec.sha256 and sha256 and sha256 != rec.sha256:
        what = f"sha256 {_short(sha256)}, {_short(rec.sha256)} was recorded"
        parts.append(f"({what})" if parts else f"{name} no longer matches its saved "
                                                f"sha256 ({what})")
    if parts and rec.duration is not None and duration is not None \
            and abs(rec.duration - duration) >= 0.01:
        parts.append(f"{duration:.2f} s long, {rec.duration:.2f} s when saved")
    return " ".join(parts) if len(parts) < 3 else f"{parts[0]} {parts[1]}; {parts[2]}"
