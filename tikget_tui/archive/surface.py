"""The archive as the download engine sees it: :class:`Archive`, one decision for a story
and a folder, and the records a save, a copy, a note or a check leave."""

from __future__ import annotations

from pathlib import Path

from tikget_tui.archive.copies import old_stem
from tikget_tui.archive.decision import Decision, decide
from tikget_tui.archive.recheck import Recheck, check_again
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.archive.saving import Saver
from tikget_tui.clock import Clock
from tikget_tui.mediatools import MediaTools
from tikget_tui.store import Job, Store
from tikget_tui.verify import Expected


class Archive(Saver):
    """What we saved, where, with which note (over the state database's connection)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, Records(store))

    def decide(self, story_id: str, variant: str, target: Path) -> Decision:
        """Already here / copy from there / download (:func:`~.decision.decide`)."""
        return decide(self.records, story_id, variant, target)

    def saved_in(self, story_id: str, variant: str, folder: Path) -> ArchiveEntry | None:
        """The newest saved copy of the story's variant in ``folder``."""
        return self.records.get(story_id, variant, directory=folder)

    def stem_of(self, entry: ArchiveEntry) -> str:
        """The name (without extension) ``entry``'s files were saved under."""
        job = self.store.get_job(entry.job_id) if entry.job_id is not None else None
        return old_stem(entry, job.stem if job else None)

    def saved_anywhere(self, story_id: str, variant: str) -> ArchiveEntry | None:
        """The newest saved copy of the story's variant, in any folder."""
        return self.records.get(story_id, variant)

    async def check_again(self, job: Job, expected: Expected, *, tools: MediaTools,
                          cache_dir: Path, clock: Clock) -> Recheck:
        """``v`` (:func:`~.recheck.check_again`): recorded as the copy's latest check."""
        return await check_again(self.records, job, expected, tools=tools,
                                 cache_dir=cache_dir, clock=clock)
