"""Export the archive as CSV or JSON: file, creator, URL, post time, save time, note, verdict.

Core code (no textual). Rows come from the store's archive, with the story and
note from the job that saved it and the ``.info.json`` sidecar as a fallback.

Untrusted text (notes, captions-derived file names) is written as data: JSON
via ``json``, CSV via the ``csv`` module (quoting handled there). In CSV only,
a cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) gets a leading ``'`` so it stays text (as
does a cell that starts with ``'`` itself); :func:`read_csv` removes it again.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from tikget_tui.archive.records import Records
from tikget_tui.store import Store

FIELDS = ("file", "creator", "url", "posted_at", "saved_at", "note", "verdict",
          "story_id", "variant", "sha256", "size", "status")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRow:
    file: str
    creator: str
    url: str
    posted_at: str  # ISO 8601, UTC ("" when unknown)
    saved_at: str
    note: str
    verdict: str
    story_id: str
    variant: str
    sha256: str
    size: int
    status: str  # "ok", or an audit mark such as "unrecoverable"
    files: tuple[str, ...] = ()
    copied_from: str = ""  # the saved file this copy was made from ("" for a download)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {name: getattr(self, name) for name in FIELDS}
        d["files"] = list(self.files)
        d["copied_from"] = self.copied_from or None
        return d


def rows(store: Store) -> list[ExportRow]:
    """One row per saved copy of a story (and variant), oldest save first: a story saved
    in two folders is two rows."""
    from tikget_tui.archive.sidecar import read as read_sidecar
    from tikget_tui.archive.sidecar import sidecar_for

    marks = Records(store).audit_marks()
    out: list[ExportRow] = []
    for entry in Records(store).entries():
        job = store.get_job(entry.job_id) if entry.job_id is not None else None
        side = read_sidecar(sidecar_for(entry, job)) or {}
        if job is not None:
            story = job.story
            url, posted, note = story.canonical_url, story.created_at.isoformat(), job.note
        else:
            url = str(side.get("url") or "")
            posted = str(side.get("posted_at") or "")
            note = str(side.get("note") or "")
        note = entry.note or note  # the note kept with this copy (notes added later too)
        mark = marks.get((entry.story_id, entry.variant))
        out.append(ExportRow(
            file=str(entry.path), creator=entry.creator or str(side.get("creator") or ""),
            url=url, posted_at=posted, saved_at=entry.saved_at.isoformat(), note=note,
            verdict=entry.verdict or "", story_id=entry.story_id, variant=entry.variant,
            sha256=entry.sha256 or "", size=entry.size, status=mark[0] if mark else "ok",
            files=tuple(str(p) for p in entry.all_files),
            copied_from=str(entry.copied_from) if entry.copied_from is not None else "",
        ))
    return out


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith((*_FORMULA_START, "'")) else text


def write_csv(items: Sequence[ExportRow], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in items:
        writer.writerow([_cell(getattr(row, name)) for name in FIELDS])


def write_json(items: Sequence[ExportRow], out: TextIO) -> None:
    json.dump([r.to_dict() for r in items], out, ensure_ascii=False, indent=2)
    out.write("\n")


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of an exported CSV as dicts (the formula guard removed)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [{k: (v[1:] if v.startswith("'") else v) for k, v in r.items()} for r in reader]
