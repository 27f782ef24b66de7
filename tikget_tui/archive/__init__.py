"""The archive: what we saved, where, with which note. The single owner of it.

- :mod:`.records`: its tables (every saved copy, the save-time reports, the latest check of a
  copy, the audit marks, the library's one query), over :mod:`tikget_tui.store`'s connection;
- :mod:`.decision`: one decision for a story and a folder (already here / copy from there /
  download); :mod:`.saving`: recording a save, a copy or a note (sidecar and row together);
  :mod:`.recheck`: ``v``, a copy checked against what its save recorded (:mod:`.evidence`);
- :mod:`.sidecar` (``NAME.info.json``), :mod:`.copies` (placing a saved copy elsewhere);
- :mod:`.audit`, :mod:`.library` (the library pane's core), :mod:`.export`.

The download engine uses only what is exported here (a test checks); nothing in the
archive imports the download engine.
"""

from tikget_tui.archive.copies import CopyError, combine_notes
from tikget_tui.archive.decision import Decision
from tikget_tui.archive.recheck import Recheck
from tikget_tui.archive.records import ArchiveEntry, CopyCheck, Records
from tikget_tui.archive.saving import PendingCopy
from tikget_tui.archive.sidecar import owners as sidecar_owners
from tikget_tui.archive.sidecar import read as read_sidecar
from tikget_tui.archive.sidecar import sidecar_path
from tikget_tui.archive.surface import Archive

__all__ = [
    "Archive",
    "ArchiveEntry",
    "CopyCheck",
    "CopyError",
    "Decision",
    "PendingCopy",
    "Recheck",
    "Records",
    "combine_notes",
    "read_sidecar",
    "sidecar_owners",
    "sidecar_path",
]
