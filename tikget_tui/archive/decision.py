"""The one decision for a story and a folder: already saved here, copy it from another
folder, or download it (docs/architecture.md: one story, every location)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.store import same_folder


@dataclass(frozen=True)
class Decision:
    """What to do for a story's variant asked for in a folder.

    ``saved_here``: an intact copy is in that folder (nothing to fetch; a note goes to it).
    Else ``copy_from``: intact copies in other folders, newest first, to copy from (each
    may still fail its sha256 check: then the next, then a download). ``reason``: what the
    queued download says when it comes to that (the copy here whose files were deleted)."""

    saved_here: ArchiveEntry | None = None
    copy_from: tuple[ArchiveEntry, ...] = ()
    reason: str = ""


def decide(records: Records, story_id: str, variant: str, target: Path) -> Decision:
    """Decide for ``story_id``/``variant`` in ``target``. A copy here whose every file is
    gone from disk is forgotten (its record goes; what follows saves it again)."""
    locations = records.locations(story_id, variant)
    here = [e for e in locations if same_folder(e.directory, target)]
    intact_here = [e for e in here if not e.missing_files()]
    if intact_here:
        return Decision(saved_here=intact_here[-1])
    reason = ""
    for entry in here:  # every file of these is gone: what follows replaces them
        records.delete(story_id, variant, entry.path)
        reason = f"{entry.missing_files()[0].name} was deleted from disk; saving it again"
    elsewhere = [e for e in locations if e not in here and not e.missing_files()]
    return Decision(copy_from=tuple(reversed(elsewhere)), reason=reason)
