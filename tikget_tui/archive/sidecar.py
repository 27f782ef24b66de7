"""``NAME.info.json`` beside each saved file: the context that made it worth saving.

Written atomically (a new temp file made with mkstemp, fsync, then placed without
replacing anything: :func:`safefile.replace_own` overwrites only an earlier sidecar
of ours for the same story); rewritten when the verification result is known. Our
own JSON, versioned with ``schema``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tikget_tui import __version__
from tikget_tui.files.safefile import replace_own, temp_prefix, write_new
from tikget_tui.models import MUSIC_REMINDER, Story, is_track, sound_line

if TYPE_CHECKING:
    from tikget_tui.archive.records import ArchiveEntry
    from tikget_tui.store import Job

SCHEMA = 1
SUFFIX = ".info.json"


def sidecar_path(directory: Path, stem: str, variant: str | None = None) -> Path:
    """``STEM.info.json``; an MP3's is ``STEM.mp3.info.json``, so a story's video and its
    audio can share a name, told apart by the extension."""
    return directory / (stem + (".mp3" if variant == "audio" else "") + SUFFIX)


def sidecar_for(entry: ArchiveEntry, job: Job | None) -> Path:
    """Where the entry's ``NAME.info.json`` lives (photos: beside ``NAME-01.ext``; an MP3's
    is ``NAME.mp3.info.json``, or ``NAME.info.json`` when saved before that)."""
    if job is not None and job.stem:
        stem = job.stem
    else:
        stem = entry.path.stem
        if entry.variant == "photo":
            stem = re.sub(r"-\d{2}$", "", stem)
    if entry.variant == "audio":
        own = entry.path.parent / (stem + ".mp3" + SUFFIX)
        older = entry.path.parent / (stem + SUFFIX)
        if not own.exists() and older.exists():
            return older
        return own
    return entry.path.parent / (stem + SUFFIX)


def owners(directory: Path, stem: str) -> set[str]:
    """The story ids the sidecars under ``stem`` describe (a name's owners; an empty set or
    one with '' when a file there is nobody's we can tell). Small regular files only."""
    import os
    import stat as stat_mod

    found: set[str] = set()
    for name in (stem + SUFFIX, stem + ".mp3" + SUFFIX):
        path = directory / name
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat_mod.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
            found.add("")
            continue
        data = read(path) or {}
        found.add(str(data.get("story_id") or ""))
    return found


def build(
    story: Story, *, files: Sequence[dict[str, Any]], note: str, saved_at: datetime,
    variant: str, verification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    main = files[0] if files else {}
    return {
        "schema": SCHEMA,
        "story_id": story.id,
        "creator": story.creator.unique_id,
        "nickname": story.creator.nickname,
        "creator_id": story.creator.user_id,
        "url": story.canonical_url,
        "is_story": story.is_story,
        "kind": str(story.kind),
        "variant": variant,
        "posted_at": story.created_at.isoformat(),
        "expires_at": story.expires_at.isoformat() if story.expires_at else None,
        "saved_at": saved_at.isoformat(),
        "caption": story.caption,
        "note": note,
        "duration": story.duration or None,
        "sound": (
            {"title": story.sound.title, "author": story.sound.author, "id": story.sound.id}
            if story.sound else None
        ),
        "music": music_rights(story),
        "file": main.get("name"),
        "sha256": main.get("sha256"),
        "size": main.get("size"),
        "files": list(files),
        "verification": verification,
        "saved_by": f"tikget {__version__}",
    }


def history_of(earlier: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``history`` a sidecar written over an earlier one of the same story and variant
    keeps: the earlier saves, oldest first (when, which files with their sha256 and size,
    the verdict), so saving a story again never erases when and what it was first."""
    if not earlier or (earlier.get("story_id"), earlier.get("variant")) != (
            new.get("story_id"), new.get("variant")):
        return []
    past = [h for h in earlier.get("history") or [] if isinstance(h, dict)]
    verification = earlier.get("verification")
    past.append({
        "saved_at": earlier.get("saved_at"),
        "files": earlier.get("files") or [],
        "verdict": verification.get("verdict") if isinstance(verification, dict) else None,
        "saved_by": earlier.get("saved_by"),
    })
    return past[-50:]  # bounded: a story saved again and again keeps its last 50 saves


def music_rights(story: Story) -> dict[str, Any] | None:
    """Whose sound it is: the creator's original sound or a track (which may be licensed
    for in-app use only: the reminder says to check before reposting)."""
    music = story.music
    if music is None:
        return None
    out: dict[str, Any] = {"original": music.original, "title": music.title,
                           "artist": music.author, "album": music.album,
                           "summary": sound_line(music)}
    if is_track(music):
        out["reminder"] = MUSIC_REMINDER
    return out


def write(path: Path, data: dict[str, Any]) -> None:
    """Write the sidecar; ``ForeignFile`` when ``path`` holds something that is not our
    sidecar of the same story (a link, another user's file, another story's sidecar)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    # the writer's pid in the name: a temp file a killed tikget left is removed at the next
    # start (safefile.cleanup), one being written by another tikget is not
    tmp = write_new(path.parent, text.encode("utf-8"), prefix=temp_prefix("sidecar"))

    def same_story(existing: Path) -> bool:
        old = read(existing) or {}
        return (old.get("story_id"), old.get("variant")) == (data.get("story_id"),
                                                             data.get("variant"))

    try:
        replace_own(tmp, path, same_story)
    finally:
        tmp.unlink(missing_ok=True)


def read(path: Path) -> dict[str, Any] | None:
    """The sidecar's JSON, or None when it is missing, not ours to read or over the bounds
    (:mod:`tikget_tui.jsonfile`: size, nesting, a regular file)."""
    from tikget_tui import jsonfile

    try:
        data = jsonfile.read(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
