"""Recording what was saved: a downloaded copy, a copy placed from another folder, a note
added to a saved copy. Each writes the sidecar and the archive row (with the files'
reports) together: both, or neither (the sidecar is put back as it was when the row
cannot be written)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tikget_tui.archive import copies, sidecar
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.files.safefile import is_regular
from tikget_tui.models import Story
from tikget_tui.store import Job, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingCopy:
    """A saved copy's files placed in another folder (hard link or copy, sha256-checked),
    not yet recorded: :meth:`Saver.record_copy` writes its sidecar and row."""

    entry: ArchiveEntry  # the row it will get (job_id filled in when recorded)
    how: str  # "hard link" | "copy" | "hard link and copy"
    side_path: Path
    sidecar: dict[str, Any]
    replaces: dict[str, Any] | None  # the sidecar under that name before (put back on failure)
    reports: dict[Path, dict[str, Any]]  # each placed file's report (the original's)

    @property
    def files(self) -> tuple[Path, ...]:
        return self.entry.all_files


class Saver:
    """Writes what a save, a copy or a note leaves: the sidecar and the archive's rows."""

    def __init__(self, store: Store, records: Records) -> None:
        self.store = store
        self.records = records

    def _job_of(self, entry: ArchiveEntry) -> Job | None:
        return self.store.get_job(entry.job_id) if entry.job_id is not None else None

    # -- a download --------------------------------------------------------------------------

    async def record_save(self, job: Job, directory: Path, entries: list[dict[str, Any]],
                          reports: list[dict[str, Any]], worst: str, *,
                          keep_sidecar: bool = False) -> ArchiveEntry:
        """Record ``job``'s verified files (``entries``: name, sha256, size, verdict of each;
        ``reports``: their verification reports): the sidecar ``STEM.info.json`` (keeping the
        earlier saves of the same story in its ``history``) and the archive row. A copy
        saved again keeps its note and where it was copied from. ``keep_sidecar``: another
        tikget wrote the sidecar beside these files; it stays as it is."""
        assert job.stem is not None
        saved_at = datetime.now(UTC)
        data = sidecar.build(
            job.story, files=entries, note=job.note, saved_at=saved_at, variant=job.variant,
            verification=(reports[0] if len(reports) == 1
                          else {"verdict": worst, "reports": reports}),
        )
        side = sidecar.sidecar_path(directory, job.stem, job.variant)
        write: dict[str, Any] | None = None
        earlier = None
        if not (keep_sidecar and is_regular(side)):
            earlier = await asyncio.to_thread(sidecar.read, side)
            data["history"] = sidecar.history_of(earlier, data)
            write = data
        main = entries[0]
        prior = next((e for e in self.records.locations(job.story.id, job.variant)
                      if e.path == job.files[0]), None)  # verified again: keep what it was
        entry = ArchiveEntry(
            story_id=job.story.id, variant=job.variant, path=job.files[0], files=job.files,
            sha256=main["sha256"], size=sum(e["size"] for e in entries), verdict=worst,
            saved_at=saved_at, creator=job.story.creator.unique_id, job_id=job.id,
            note=prior.note if prior is not None and prior.note else job.note,
            copied_from=prior.copied_from if prior is not None else None,
        )
        await self._together(side, write, earlier, entry,
                             dict(zip(job.files, reports, strict=True)))
        return entry

    # -- a copy from another folder ----------------------------------------------------------

    async def place_copy(self, entry: ArchiveEntry, story: Story, variant: str,
                         directory: Path, stem: str, note: str) -> PendingCopy:
        """Put ``entry``'s files into ``directory`` as ``stem…`` and prepare their sidecar
        (the original's, renamed, with the combined note and where it came from; described
        afresh when the original's is gone). Raises ``CopyError`` (nothing left behind)."""
        old_job = self._job_of(entry)
        side = await asyncio.to_thread(sidecar.read, sidecar.sidecar_for(entry, old_job))
        placed = await asyncio.to_thread(
            copies.place_copy, entry, old_job.stem if old_job else None, directory, stem, side)
        combined = copies.combine_notes(entry.note, note)
        now = datetime.now(UTC)
        data = dict(placed.sidecar)
        if not data:  # the original sidecar is gone: describe the story afresh
            report = self.records.get_report(entry.path)
            data = sidecar.build(
                story, files=[{"name": p.name, "sha256": entry.sha256 if i == 0 else None,
                               "size": p.stat().st_size, "verdict": entry.verdict}
                              for i, p in enumerate(placed.files)],
                note=combined, saved_at=entry.saved_at, variant=variant, verification=report)
        data.update(note=combined, copied_from=str(entry.path), copied_at=now.isoformat())
        side_path = sidecar.sidecar_path(directory, stem, variant)
        there = await asyncio.to_thread(sidecar.read, side_path)
        replaced = sidecar.history_of(there, data)
        if replaced:  # a copy put back where an earlier one was deleted: keep that one's save
            data["history"] = replaced
        reports = {}
        for src, dest in zip(entry.all_files, placed.files, strict=True):
            report = self.records.get_report(src)
            if report is not None:
                reports[dest] = {**report, "file": str(dest)}
        row = ArchiveEntry(
            story_id=story.id, variant=variant, path=placed.files[0], files=placed.files,
            sha256=entry.sha256, size=entry.size, verdict=entry.verdict, saved_at=now,
            creator=entry.creator or story.creator.unique_id, note=combined,
            copied_from=entry.path,
        )
        return PendingCopy(row, placed.how, side_path, data, there, reports)

    async def record_copy(self, copy: PendingCopy, job_id: int) -> ArchiveEntry:
        """Record a placed copy as saved by job ``job_id``; when that fails, the placed files
        go too (nothing half-recorded is left) and the error is raised."""
        entry = replace(copy.entry, job_id=job_id)
        try:
            await self._together(copy.side_path, copy.sidecar, copy.replaces, entry,
                                 copy.reports)
        except BaseException:
            self.discard_copy(copy)
            raise
        return entry

    def discard_copy(self, copy: PendingCopy) -> None:
        """Remove a placed copy's files (it will not be recorded)."""
        for path in copy.files:
            with contextlib.suppress(OSError):
                path.unlink()

    # -- a note ------------------------------------------------------------------------------

    async def add_note(self, entry: ArchiveEntry, note: str) -> bool:
        """The note into the copy's sidecar and archive entry: both, or neither (True: the
        sidecar was there to update; the archive entry is updated either way)."""
        side_path = sidecar.sidecar_for(entry, self._job_of(entry))
        before = await asyncio.to_thread(sidecar.read, side_path)
        combined = copies.combine_notes(entry.note, note)
        try:
            updated = await asyncio.to_thread(copies.add_note, side_path, note)
            self.records.set_note(entry.story_id, entry.variant, entry.path, combined)
        except BaseException:
            await asyncio.to_thread(copies.restore_sidecar, side_path, before)
            raise
        return updated is not None

    # -- both or neither ---------------------------------------------------------------------

    async def _together(self, side_path: Path, data: dict[str, Any] | None,
                        before: dict[str, Any] | None, entry: ArchiveEntry,
                        reports: dict[Path, dict[str, Any]]) -> None:
        """Write the sidecar ``data`` (unless None) over ``before`` (the sidecar there now, as
        the caller read it; None: there is none), then the row with its reports in one
        transaction; when the row fails, the sidecar is put back as it was (or removed).
        A sidecar there that could not be read is never replaced (``sidecar.write`` refuses
        it), so ``before`` is all there is to put back."""
        if data is not None:
            await asyncio.to_thread(sidecar.write, side_path, data)
        try:
            self.records.put(entry, reports)
        except BaseException:
            if data is not None:
                if before is not None:
                    await asyncio.to_thread(copies.restore_sidecar, side_path, before)
                else:
                    with contextlib.suppress(OSError):
                        side_path.unlink()
            log.warning("%s not recorded; its sidecar was put back as it was", entry.path.name)
            raise
