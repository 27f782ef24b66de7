"""The archive's records in the state database: every saved copy (table ``archive``), the
report each file got when it was saved (``reports``), the latest check of a copy (``checks``,
``v`` and ``tikget audit``) and the audit marks (``tikget audit --requeue``).

The connection, its migrations and the jobs stay in :mod:`tikget_tui.store`; these queries
are the archive's own. No other module writes these tables.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tikget_tui import jsonfile
from tikget_tui.store import Store, column_limit, dt_or_none, paths_column, same_folder, utc_now


@dataclass(frozen=True)
class ArchiveEntry:
    """One saved copy (location) of a story's variant: where, what it hashed to, how it
    verified, the note kept with it. A story saved in several folders has one entry per
    folder (``copied_from``: the file it was copied or hard-linked from, when it was)."""

    story_id: str
    variant: str
    path: Path
    sha256: str | None = None
    size: int = 0
    verdict: str | None = None
    saved_at: datetime = field(default_factory=utc_now)
    creator: str = ""
    job_id: int | None = None
    files: tuple[Path, ...] = ()
    note: str = ""
    copied_from: Path | None = None

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def all_files(self) -> tuple[Path, ...]:
        return self.files or (self.path,)

    def missing_files(self) -> list[Path]:
        return [p for p in self.all_files if not p.is_file()]


@dataclass(frozen=True)
class CopyCheck:
    """The latest check of a saved copy (``v`` in the app, ``tikget audit``): ``status`` is
    ``ok``, ``warn``, ``fail``, ``missing``, ``changed``, ``unverified`` or ``failing``;
    ``detail`` says what was found (both values when it changed). It never replaces what
    was recorded when the copy was saved."""

    path: Path
    story_id: str
    variant: str
    status: str
    detail: str = ""
    checked_at: datetime = field(default_factory=utc_now)
    report: dict[str, Any] | None = None  # the fresh verification report (v), if one ran


class Records:
    """The archive's tables, over a :class:`~tikget_tui.store.Store`'s connection."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- archive -----------------------------------------------------------------------------

    def put(self, entry: ArchiveEntry, reports: dict[Path, dict[str, Any]] | None = None) -> None:
        """Record one saved copy, with the verification report of each of its files
        (``reports``), in one transaction; a copy at the same path replaces the old record,
        copies elsewhere stay. A save starts afresh: an earlier check of that path is
        dropped."""
        with self._store.transaction() as c:
            c.execute("DELETE FROM checks WHERE path = ?", (str(entry.path),))
            c.execute(
                "INSERT OR REPLACE INTO archive (story_id, variant, path, files_json, sha256, size,"
                " verdict, saved_at, creator, job_id, note, copied_from)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (entry.story_id, entry.variant, str(entry.path),
                 json.dumps([str(p) for p in entry.files]), entry.sha256, entry.size,
                 entry.verdict, entry.saved_at.timestamp(), entry.creator, entry.job_id,
                 entry.note,
                 str(entry.copied_from) if entry.copied_from is not None else None),
            )
            for path, report in (reports or {}).items():
                _put_report(c, path, report, entry.story_id)

    def locations(self, story_id: str, variant: str) -> list[ArchiveEntry]:
        """Every saved copy of a story's variant, oldest first."""
        rows = self._store.query(
            "SELECT * FROM archive WHERE story_id = ? AND variant = ? ORDER BY saved_at, path",
            (story_id, variant),
        )
        return [_archive_from_row(r) for r in rows]

    def get(self, story_id: str, variant: str,
                    directory: Path | None = None) -> ArchiveEntry | None:
        """The newest saved copy (in ``directory`` when given, else anywhere), or None."""
        entries = self.locations(story_id, variant)
        if directory is not None:
            entries = [e for e in entries if same_folder(e.directory, directory)]
        return entries[-1] if entries else None

    def entries(self) -> list[ArchiveEntry]:
        """Every saved copy of every story, oldest first."""
        rows = self._store.query("SELECT * FROM archive ORDER BY saved_at, path")
        return [_archive_from_row(r) for r in rows]

    def library_rows(self) -> list[dict[str, Any]]:
        """Every saved copy, newest first, with the story it saved (the JSON of its job, or
        of the newest job of the same story; caption, kind, posted date and nickname read
        out of it by SQLite), its audit mark and its latest check: one query for the library
        pane, however large the archive (no sidecar is read)."""
        return self._store.query(
            "SELECT x.*, json_extract(x.story_json, '$.caption') AS caption,"
            " json_extract(x.story_json, '$.kind') AS kind,"
            " json_extract(x.story_json, '$.created_at') AS posted_at,"
            " json_extract(x.story_json, '$.creator.nickname') AS nickname"
            " FROM (SELECT a.story_id, a.variant, a.path, a.files_json, a.size, a.verdict,"
            "  a.saved_at, a.creator, a.job_id, a.note, a.sha256,"
            "  COALESCE(j.story_json, (SELECT j2.story_json FROM jobs j2"
            "   WHERE j2.story_id = a.story_id ORDER BY j2.id DESC LIMIT 1)) AS story_json,"
            "  m.status AS audit, k.status AS checked, k.detail AS checked_detail,"
            "  a.copied_from"
            "  FROM archive a LEFT JOIN jobs j ON j.id = a.job_id"
            "  LEFT JOIN audit_marks m ON m.story_id = a.story_id AND m.variant = a.variant"
            "  LEFT JOIN checks k ON k.path = a.path) x"
            " ORDER BY x.saved_at DESC, x.path"
        )

    def delete(self, story_id: str, variant: str, path: Path | None = None) -> bool:
        """Forget the copy at ``path`` (or, without it, every copy of the story's variant)."""
        with self._store.transaction() as c:
            if path is None:
                c.execute("DELETE FROM checks WHERE story_id = ? AND variant = ?",
                          (story_id, variant))
                cur = c.execute(
                    "DELETE FROM archive WHERE story_id = ? AND variant = ?", (story_id, variant)
                )
            else:
                c.execute("DELETE FROM checks WHERE path = ?", (str(path),))
                cur = c.execute(
                    "DELETE FROM archive WHERE story_id = ? AND variant = ? AND path = ?",
                    (story_id, variant, str(path)),
                )
            return cur.rowcount > 0

    def set_note(self, story_id: str, variant: str, path: Path, note: str) -> None:
        with self._store.transaction() as c:
            c.execute("UPDATE archive SET note = ? WHERE story_id = ? AND variant = ? AND path = ?",
                      (note, story_id, variant, str(path)))

    # -- verification reports ----------------------------------------------------------------

    def save_report(self, path: Path, report: dict[str, Any], story_id: str | None = None) -> None:
        with self._store.transaction() as c:
            _put_report(c, path, report, story_id)

    def get_report(self, path: Path) -> dict[str, Any] | None:
        rows = self._store.query("SELECT report FROM reports WHERE path = ?", (str(path),))
        if not rows:
            return None
        try:
            data = jsonfile.loads(rows[0]["report"], limit=column_limit())
        except ValueError:
            return None  # a row over the bounds (or not JSON) is no report: verify again
        return data if isinstance(data, dict) else None

    # -- checks of saved copies (v, tikget audit) ---------------------------------------------

    def check_put(self, check: CopyCheck) -> None:
        """Record the latest check of a saved copy (replaces the one before)."""
        with self._store.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO checks (path, story_id, variant, status, detail,"
                " report, checked_at) VALUES (?,?,?,?,?,?,?)",
                (str(check.path), check.story_id, check.variant, check.status, check.detail,
                 json.dumps(check.report) if check.report is not None else None,
                 check.checked_at.timestamp()),
            )

    def check_get(self, path: Path) -> CopyCheck | None:
        rows = self._store.query("SELECT * FROM checks WHERE path = ?", (str(path),))
        if not rows:
            return None
        r = rows[0]
        return CopyCheck(path=Path(r["path"]), story_id=r["story_id"], variant=r["variant"],
                         status=r["status"], detail=r["detail"],
                         checked_at=datetime.fromtimestamp(r["checked_at"], UTC),
                         report=_bounded_report(r["report"]))

    def latest_report(self, path: Path) -> dict[str, Any] | None:
        """The newest verification report of a file: the one of its latest check (``v``)
        when there is one, else the one recorded when it was saved."""
        check = self.check_get(path)
        if check is not None and check.report is not None:
            return check.report
        return self.get_report(path)

    # -- audit marks (tikget audit --requeue) ------------------------------------------------

    def audit_mark(self, story_id: str, variant: str, status: str, reason: str = "") -> None:
        """Record that an archived story is e.g. ``unrecoverable``, and why (replaces)."""
        with self._store.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO audit_marks (story_id, variant, status, reason, marked_at)"
                " VALUES (?,?,?,?,?)",
                (story_id, variant, status, reason, utc_now().timestamp()),
            )

    def audit_marks(self) -> dict[tuple[str, str], tuple[str, str]]:
        """``(story_id, variant) -> (status, reason)`` for every marked entry."""
        rows = self._store.query("SELECT story_id, variant, status, reason FROM audit_marks")
        return {(r["story_id"], r["variant"]): (r["status"], r["reason"]) for r in rows}

    def audit_unmark(self, story_id: str, variant: str) -> bool:
        with self._store.transaction() as c:
            return c.execute(
                "DELETE FROM audit_marks WHERE story_id = ? AND variant = ?", (story_id, variant)
            ).rowcount > 0

    def saved_since(self, since: datetime) -> dict[str, int]:
        """Creator (``unique_id``, lower case) → stories saved since ``since`` (each story
        once, however many copies or variants)."""
        rows = self._store.query(
            "SELECT lower(creator) AS creator, COUNT(DISTINCT story_id) AS n FROM archive"
            " WHERE saved_at >= ? GROUP BY lower(creator)", (since.timestamp(),))
        return {r["creator"]: int(r["n"]) for r in rows}


def _archive_from_row(r: Any) -> ArchiveEntry:
    return ArchiveEntry(
        story_id=r["story_id"],
        variant=r["variant"],
        path=Path(r["path"]),
        files=paths_column(r["files_json"]),
        sha256=r["sha256"],
        size=int(r["size"]),
        verdict=r["verdict"],
        saved_at=dt_or_none(r["saved_at"]) or utc_now(),
        creator=r["creator"],
        job_id=r["job_id"],
        note=r.get("note") or "",
        copied_from=Path(r["copied_from"]) if r.get("copied_from") else None,
    )


def _bounded_report(text: str | None) -> dict[str, Any] | None:
    """A ``report`` column (bounded: :mod:`tikget_tui.jsonfile`); None when absent or
    unreadable (the copy is then verified again)."""
    if not text:
        return None
    try:
        data = jsonfile.loads(text, limit=column_limit())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _put_report(c: sqlite3.Connection, path: Path, report: dict[str, Any],
                story_id: str | None) -> None:
    c.execute(
        "INSERT OR REPLACE INTO reports (path, story_id, verdict, report, checked_at)"
        " VALUES (?,?,?,?,?)",
        (str(path), story_id, report.get("verdict"), json.dumps(report), utc_now().timestamp()),
    )
