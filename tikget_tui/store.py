"""Persistent state in SQLite: the connection, its migrations, the download queue (jobs),
the watch list and its runs. The archive's own tables are read and written by
:mod:`tikget_tui.archive.records`.

One connection per :class:`Store`, used by one writer at a time (a lock guards
it, so worker threads may share it); WAL so readers in other processes
(``tikget audit`` while the app runs) never block; foreign keys on; a busy
timeout instead of "database is locked"; every write is one short
transaction. The schema version lives in ``PRAGMA user_version`` and
:data:`MIGRATIONS` brings an older file up to date.

:class:`InstanceLock` (in :mod:`tikget_tui.instance`, importable without SQLite) makes
sure only one process drives the queue at a time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from tikget_tui import jsonfile
from tikget_tui.instance import AlreadyRunning as AlreadyRunning  # re-exported
from tikget_tui.instance import InstanceLock as InstanceLock
from tikget_tui.instance import StoreError
from tikget_tui.models import Creator, Story

BUSY_TIMEOUT = 10.0  # seconds to wait for another program's lock on the database


class StoreLocked(StoreError):
    """Another program holds a lock on the database past :data:`BUSY_TIMEOUT`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pid = lock_holder(path)
        who = f"process {self.pid}" if self.pid else "another program"
        super().__init__(
            f"the state database {path} is locked by {who}; close that program (or let it "
            "finish), then try again"
        )


def lock_holder(path: Path) -> int | None:
    """The pid of another process holding a write lock on ``path`` (or its -wal/-shm), from
    /proc/locks (Linux); None when unknown."""
    inodes: set[tuple[int, int, int]] = set()
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            st = os.stat(p)
            inodes.add((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 12345 08:01:1234567 0 EOF" ("->" marks a waiter)
        if len(fields) < 6 or "->" in fields[1] or fields[3] != "WRITE":
            continue
        with contextlib.suppress(ValueError):
            pid = int(fields[4])
            major, minor, ino = fields[5].split(":")
            if (int(major, 16), int(minor, 16), int(ino)) in inodes and pid != os.getpid():
                return pid
    return None


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class JobState(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    CONVERTING = "converting"
    VERIFYING = "verifying"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"
    PAUSED = "paused"
    CANCELLED = "cancelled"


RUNNING_STATES = frozenset({JobState.DOWNLOADING, JobState.CONVERTING, JobState.VERIFYING})
ACTIVE_STATES = frozenset({JobState.QUEUED}) | RUNNING_STATES
FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED})


def _ts(d: datetime | None) -> float | None:
    return d.timestamp() if d is not None else None


def dt_or_none(v: float | None) -> datetime | None:
    return datetime.fromtimestamp(v, UTC) if v is not None else None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """A snapshot of one download job (what every event carries)."""

    id: int
    story: Story
    variant: str  # "video" | "audio" | "photo"
    state: JobState
    reason: str = ""
    note: str = ""
    audio: bool = False
    expires_at: datetime | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    retries: int = 0
    part_path: Path | None = None
    final_path: Path | None = None
    files: tuple[Path, ...] = ()
    verdict: str | None = None
    sha256: str | None = None
    stem: str | None = None  # the chosen file name without extension
    # identity of the media source whose bytes the current .part holds (see
    # downloads.transfer.video_identity); None: no .part, or a row from before schema 3
    part_source: str | None = None
    # the folder this job saves into (None: a row from before schema 4 → the download dir)
    directory: Path | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @property
    def story_id(self) -> str:
        return self.story.id

    @property
    def creator(self) -> Creator:
        return self.story.creator

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class WatchEntry:
    username: str
    added_at: datetime
    note: str = ""
    last_poll_at: datetime | None = None
    next_poll_at: datetime | None = None
    last_result: str = ""
    failures: int = 0  # polls failed in a row (reset by a poll that works)
    paused: bool = False  # not polled any more (the account went private or away)
    # what the last poll found (None: not polled since schema 5)
    last_found: int | None = None  # active stories listed
    last_new: int | None = None  # new stories queued
    last_saved: int | None = None  # of those, saved and verified (None: not known yet)
    last_error: str = ""  # why the last poll failed ('' when it worked)


@dataclass(frozen=True)
class WatchRun:
    """One ``tikget watch run --once`` (from a timer, launchd, cron or by hand)."""

    id: int
    started_at: datetime
    pid: int
    every: float | None = None  # started by a scheduler every this many seconds
    finished_at: datetime | None = None  # None: still running, or killed
    polled: int = 0  # creators looked up
    failed: int = 0  # of those, look-ups that failed
    left: int = 0  # creators left for the next run (the per-run budget)
    saved: int = 0  # stories saved and verified
    download_failed: int = 0  # downloads that failed or did not verify
    status: int | None = None  # the exit status
    outcome: str = ""  # one line: what the run did, or why it did nothing

    @property
    def skipped(self) -> bool:
        """The run found the app (or another tikget) holding the queue and did nothing."""
        return self.outcome.startswith(RUN_SKIPPED)


RUN_SKIPPED = "skipped:"
KEEP_RUNS = 200  # watch_runs rows kept (the oldest go first)


# Each entry upgrades the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        story_id    TEXT NOT NULL,
        variant     TEXT NOT NULL CHECK (variant IN ('video', 'audio', 'photo')),
        state       TEXT NOT NULL CHECK (state IN ('queued', 'downloading', 'converting',
                    'verifying', 'done', 'failed', 'expired', 'paused', 'cancelled')),
        reason      TEXT NOT NULL DEFAULT '',
        story_json  TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT '',
        audio       INTEGER NOT NULL DEFAULT 0,
        expires_at  REAL,
        bytes_done  INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER,
        retries     INTEGER NOT NULL DEFAULT 0,
        part_path   TEXT,
        final_path  TEXT,
        stem        TEXT,
        files_json  TEXT NOT NULL DEFAULT '[]',
        verdict     TEXT,
        sha256      TEXT,
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL
    );
    CREATE INDEX jobs_story ON jobs (story_id, variant);
    CREATE INDEX jobs_state ON jobs (state);
    CREATE TABLE archive (
        story_id   TEXT NOT NULL,
        variant    TEXT NOT NULL,
        path       TEXT NOT NULL,
        files_json TEXT NOT NULL DEFAULT '[]',
        sha256     TEXT,
        size       INTEGER NOT NULL DEFAULT 0,
        verdict    TEXT,
        saved_at   REAL NOT NULL,
        creator    TEXT NOT NULL DEFAULT '',
        job_id     INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
        PRIMARY KEY (story_id, variant)
    );
    CREATE TABLE reports (
        path       TEXT PRIMARY KEY,
        story_id   TEXT,
        verdict    TEXT,
        report     TEXT NOT NULL,
        checked_at REAL NOT NULL
    );
    CREATE TABLE watch (
        username     TEXT PRIMARY KEY,
        added_at     REAL NOT NULL,
        note         TEXT NOT NULL DEFAULT '',
        last_poll_at REAL,
        next_poll_at REAL,
        last_result  TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: `tikget audit --requeue` marks archive entries that can no longer be saved.
    """
    CREATE TABLE audit_marks (
        story_id  TEXT NOT NULL,
        variant   TEXT NOT NULL,
        status    TEXT NOT NULL,
        reason    TEXT NOT NULL DEFAULT '',
        marked_at REAL NOT NULL,
        PRIMARY KEY (story_id, variant)
    );
    """,
    # 3: which media source (rendition) the bytes of a job's .part came from, so a resume
    # never splices two different renditions into one file.
    """
    ALTER TABLE jobs ADD COLUMN part_source TEXT;
    """,
    # 4: the archive keeps every location of a story (one row per saved copy, with its
    # note); a job knows its folder; a watched account counts failed polls and pauses.
    """
    CREATE TABLE archive_v4 (
        story_id    TEXT NOT NULL,
        variant     TEXT NOT NULL,
        path        TEXT NOT NULL,
        files_json  TEXT NOT NULL DEFAULT '[]',
        sha256      TEXT,
        size        INTEGER NOT NULL DEFAULT 0,
        verdict     TEXT,
        saved_at    REAL NOT NULL,
        creator     TEXT NOT NULL DEFAULT '',
        job_id      INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
        note        TEXT NOT NULL DEFAULT '',
        copied_from TEXT,
        PRIMARY KEY (story_id, variant, path)
    );
    INSERT INTO archive_v4 (story_id, variant, path, files_json, sha256, size, verdict,
        saved_at, creator, job_id, note)
        SELECT a.story_id, a.variant, a.path, a.files_json, a.sha256, a.size, a.verdict,
               a.saved_at, a.creator, a.job_id,
               COALESCE((SELECT j.note FROM jobs j WHERE j.id = a.job_id), '')
        FROM archive a;
    DROP TABLE archive;
    ALTER TABLE archive_v4 RENAME TO archive;
    CREATE INDEX archive_story ON archive (story_id, variant);
    ALTER TABLE jobs ADD COLUMN directory TEXT;
    ALTER TABLE watch ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE watch ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: what a watched account's last poll found, and a record of every `watch run --once`
    # (a timer's runs), so `tikget watch status` and the app can say what the timer did.
    """
    ALTER TABLE watch ADD COLUMN last_found INTEGER;
    ALTER TABLE watch ADD COLUMN last_new INTEGER;
    ALTER TABLE watch ADD COLUMN last_saved INTEGER;
    ALTER TABLE watch ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
    CREATE TABLE watch_runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at      REAL NOT NULL,
        pid             INTEGER NOT NULL,
        every           REAL,
        finished_at     REAL,
        polled          INTEGER NOT NULL DEFAULT 0,
        failed          INTEGER NOT NULL DEFAULT 0,
        left_over       INTEGER NOT NULL DEFAULT 0,
        saved           INTEGER NOT NULL DEFAULT 0,
        download_failed INTEGER NOT NULL DEFAULT 0,
        status          INTEGER,
        outcome         TEXT NOT NULL DEFAULT ''
    );
    """,
    # 6: the latest check of each saved copy (v, tikget audit): what was found on disk,
    # kept apart from what was recorded when it was saved (the archive row, the sidecar)
    """
    CREATE TABLE checks (
        path       TEXT PRIMARY KEY,
        story_id   TEXT NOT NULL,
        variant    TEXT NOT NULL,
        status     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '',
        report     TEXT,
        checked_at REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_JOB_COLUMNS = {
    "state", "reason", "note", "audio", "expires_at", "bytes_done", "bytes_total", "retries",
    "part_path", "final_path", "files", "verdict", "sha256", "story", "stem", "part_source",
    "directory",
}


class Store:
    """Access to the state database. Create with :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.RLock()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Store:
        from tikget_tui.private import private_dir, private_file, tighten

        try:
            private_dir(path.parent)
            # 0600 before SQLite opens it: its -wal and -shm are made with the same mode
            private_file(path)
            for extra in ("-wal", "-shm", "-journal"):
                tighten(path.with_name(path.name + extra), 0o600)
            conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if _is_locked(exc):
                raise StoreLocked(path) from None
            raise StoreError(
                f"the state database {path} is unreadable ({exc}); move it aside to start afresh"
            ) from None
        return store

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the state database {self.path} was written by a newer tikget "
                    f"(schema {version} > {SCHEMA_VERSION}); update tikget"
                )
            for i in range(version, SCHEMA_VERSION):
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(MIGRATIONS[i]):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {i + 1}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _unlocked(self) -> Iterator[None]:
        """A database another program keeps locked becomes one line (:class:`StoreLocked`)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StoreLocked(self.path) from None
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._unlocked():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock, self._unlocked():
            cur = self._conn.execute(sql, tuple(args))
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # -- jobs --------------------------------------------------------------------------------

    def add_job(
        self, story: Story, *, variant: str, audio: bool = False, note: str = "",
        state: JobState = JobState.QUEUED, reason: str = "", directory: Path | None = None,
    ) -> Job:
        now = utc_now().timestamp()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO jobs (story_id, variant, state, reason, story_json, note, audio,"
                " expires_at, created_at, updated_at, directory)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (story.id, variant, str(state), reason, json.dumps(story.to_dict()), note,
                 int(audio), _ts(story.expires_at), now, now,
                 str(directory) if directory is not None else None),
            )
            job_id = int(cur.lastrowid or 0)
        job = self.get_job(job_id)
        assert job is not None
        return job

    def get_job(self, job_id: int) -> Job | None:
        rows = self.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        jobs = _readable_jobs(rows[:1])
        return jobs[0] if jobs else None

    def list_jobs(self, states: Iterable[JobState] | None = None) -> list[Job]:
        if states is None:
            rows = self.query("SELECT * FROM jobs ORDER BY id")
        else:
            wanted = [str(s) for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self.query(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id", wanted)
        return _readable_jobs(rows)

    def active_job_for(self, story_id: str, variant: str) -> Job | None:
        marks = ",".join("?" * len(ACTIVE_STATES | {JobState.PAUSED}))
        rows = self.query(
            f"SELECT * FROM jobs WHERE story_id = ? AND variant = ? AND state IN ({marks})"
            " ORDER BY id DESC LIMIT 1",
            [story_id, variant, *(str(s) for s in ACTIVE_STATES | {JobState.PAUSED})],
        )
        jobs = _readable_jobs(rows[:1])
        return jobs[0] if jobs else None

    def update_job(self, job_id: int, **changes: Any) -> Job:
        unknown = set(changes) - _JOB_COLUMNS
        if unknown:
            raise TypeError(f"unknown job fields: {sorted(unknown)}")
        cols: list[str] = []
        vals: list[Any] = []
        for key, value in changes.items():
            if key == "story":
                cols += ["story_json", "expires_at"]
                vals += [json.dumps(value.to_dict()), _ts(value.expires_at)]
                continue
            if key == "files":
                cols.append("files_json")
                vals.append(json.dumps([str(p) for p in value]))
                continue
            if key in ("part_path", "final_path", "directory"):
                value = str(value) if value is not None else None
            elif key == "expires_at":
                value = _ts(value)
            elif key == "state":
                value = str(JobState(value))
            elif key == "audio":
                value = int(bool(value))
            cols.append(key)
            vals.append(value)
        cols.append("updated_at")
        vals.append(utc_now().timestamp())
        with self.transaction() as c:
            c.execute(
                f"UPDATE jobs SET {', '.join(c_ + ' = ?' for c_ in cols)} WHERE id = ?",
                (*vals, job_id),
            )
        job = self.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def delete_job(self, job_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it changes when another connection (e.g.
        ``tikget audit`` in another terminal) commits; this connection's own writes leave
        it alone."""
        return int(self.query("PRAGMA data_version")[0]["data_version"])

    # -- watch list --------------------------------------------------------------------------

    @staticmethod
    def _username(name: str) -> str:
        clean = name.strip().lstrip("@").lower()
        if not clean:
            raise ValueError("an empty username cannot be watched")
        return clean

    def watch_add(self, username: str, note: str = "") -> WatchEntry:
        """Watch ``username`` (idempotent). Adding an account again resumes it: its failure
        count is reset and, when it was paused, it is due at once."""
        name = self._username(username)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO watch (username, added_at, note) VALUES (?,?,?)"
                " ON CONFLICT (username) DO UPDATE SET note = CASE WHEN excluded.note != ''"
                " THEN excluded.note ELSE watch.note END, failures = 0, paused = 0,"
                " next_poll_at = CASE WHEN watch.paused THEN NULL ELSE watch.next_poll_at END",
                (name, utc_now().timestamp(), note),
            )
        entry = self.watch_get(name)
        assert entry is not None
        return entry

    def watch_remove(self, username: str) -> bool:
        with self.transaction() as c:
            return c.execute(
                "DELETE FROM watch WHERE username = ?", (self._username(username),)
            ).rowcount > 0

    def watch_get(self, username: str) -> WatchEntry | None:
        rows = self.query("SELECT * FROM watch WHERE username = ?", (self._username(username),))
        return _watch_from_row(rows[0]) if rows else None

    def watch_list(self) -> list[WatchEntry]:
        return [_watch_from_row(r) for r in self.query("SELECT * FROM watch ORDER BY username")]

    def watch_update(
        self, username: str, *, last_poll_at: datetime | None = None,
        next_poll_at: datetime | None = None, last_result: str | None = None,
        note: str | None = None, failures: int | None = None, paused: bool | None = None,
        last_found: int | None = None, last_new: int | None = None,
        last_saved: int | None = None, last_error: str | None = None,
    ) -> WatchEntry:
        """Change the given fields. A new poll (``last_poll_at``) forgets what the previous
        poll saved (``last_saved`` becomes unknown) unless ``last_saved`` is given too."""
        name = self._username(username)
        changes: dict[str, Any] = {}
        if last_poll_at is not None:
            changes["last_saved"] = None
        for column, value in (("last_found", last_found), ("last_new", last_new),
                              ("last_saved", last_saved)):
            if value is not None:
                changes[column] = int(value)
        if last_error is not None:
            changes["last_error"] = last_error
        if failures is not None:
            changes["failures"] = int(failures)
        if paused is not None:
            changes["paused"] = int(bool(paused))
        if last_poll_at is not None:
            changes["last_poll_at"] = last_poll_at.timestamp()
        if next_poll_at is not None:
            changes["next_poll_at"] = next_poll_at.timestamp()
        if last_result is not None:
            changes["last_result"] = last_result
        if note is not None:
            changes["note"] = note
        if changes:
            with self.transaction() as c:
                c.execute(
                    f"UPDATE watch SET {', '.join(k + ' = ?' for k in changes)} WHERE username = ?",
                    (*changes.values(), name),
                )
        entry = self.watch_get(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def watch_due(self, now: datetime) -> list[WatchEntry]:
        """Watched creators (not paused) never polled or whose ``next_poll_at`` has come."""
        return [w for w in self.watch_list()
                if not w.paused and (w.next_poll_at is None or w.next_poll_at <= now)]

    # -- watch runs --------------------------------------------------------------------------

    def watch_run_start(self, started_at: datetime, *, every: float | None = None,
                        pid: int | None = None) -> WatchRun:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO watch_runs (started_at, pid, every) VALUES (?,?,?)",
                            (started_at.timestamp(), os.getpid() if pid is None else pid, every))
            run_id = int(cur.lastrowid or 0)
        run = self.watch_run(run_id)
        assert run is not None
        return run

    def watch_run_finish(self, run_id: int, finished_at: datetime, *, polled: int = 0,
                         failed: int = 0, left: int = 0, saved: int = 0,
                         download_failed: int = 0, status: int, outcome: str) -> WatchRun:
        with self.transaction() as c:
            c.execute(
                "UPDATE watch_runs SET finished_at = ?, polled = ?, failed = ?, left_over = ?,"
                " saved = ?, download_failed = ?, status = ?, outcome = ? WHERE id = ?",
                (finished_at.timestamp(), polled, failed, left, saved, download_failed, status,
                 outcome, run_id))
            c.execute("DELETE FROM watch_runs WHERE id <= ?", (run_id - KEEP_RUNS,))
        run = self.watch_run(run_id)
        if run is None:
            raise KeyError(run_id)
        return run

    def watch_run(self, run_id: int) -> WatchRun | None:
        rows = self.query("SELECT * FROM watch_runs WHERE id = ?", (run_id,))
        return _watch_run_from_row(rows[0]) if rows else None

    def watch_runs(self, limit: int = 10) -> list[WatchRun]:
        """The most recent runs, newest first."""
        rows = self.query("SELECT * FROM watch_runs ORDER BY id DESC LIMIT ?", (int(limit),))
        return [_watch_run_from_row(r) for r in rows]


def same_folder(a: Path, b: Path) -> bool:
    """Do ``a`` and ``b`` name the same folder (symlinks and ``..`` resolved)?"""
    if a == b:
        return True
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def column_limit() -> int:
    """JSON columns hold what we wrote from answers bounded by max_page_bytes, so they get
    more room than a file beside the media (four times ``max_json_bytes``)."""
    return 4 * jsonfile.max_bytes()


def _readable_jobs(rows: Iterable[Any]) -> list[Job]:
    """Jobs of these rows; a row whose JSON is over the bounds is skipped with a warning."""
    out = []
    for r in rows:
        try:
            out.append(_job_from_row(r))
        except jsonfile.JsonUnreadable as exc:
            logging.getLogger(__name__).warning("job %s skipped: its story JSON is %s",
                                                r["id"], exc)
    return out


def paths_column(files_json: str | None) -> tuple[Path, ...]:
    """A ``files_json`` column (bounded: :mod:`tikget_tui.jsonfile`); () when unreadable."""
    try:
        value = jsonfile.loads(files_json or "[]", limit=column_limit())
    except ValueError:
        return ()
    return tuple(Path(p) for p in value if isinstance(p, str)) if isinstance(value, list) else ()


def _job_from_row(r: Any) -> Job:
    return Job(
        id=int(r["id"]),
        story=Story.from_dict(jsonfile.loads(r["story_json"], limit=column_limit())),
        variant=r["variant"],
        state=JobState(r["state"]),
        reason=r["reason"],
        note=r["note"],
        audio=bool(r["audio"]),
        expires_at=dt_or_none(r["expires_at"]),
        bytes_done=int(r["bytes_done"]),
        bytes_total=r["bytes_total"],
        retries=int(r["retries"]),
        part_path=Path(r["part_path"]) if r["part_path"] else None,
        final_path=Path(r["final_path"]) if r["final_path"] else None,
        files=paths_column(r["files_json"]),
        verdict=r["verdict"],
        sha256=r["sha256"],
        stem=r["stem"],
        part_source=r.get("part_source"),
        directory=Path(r["directory"]) if r.get("directory") else None,
        created_at=dt_or_none(r["created_at"]) or utc_now(),
        updated_at=dt_or_none(r["updated_at"]) or utc_now(),
    )


def _watch_from_row(r: Any) -> WatchEntry:
    return WatchEntry(
        username=r["username"],
        added_at=dt_or_none(r["added_at"]) or utc_now(),
        note=r["note"],
        last_poll_at=dt_or_none(r["last_poll_at"]),
        next_poll_at=dt_or_none(r["next_poll_at"]),
        last_result=r["last_result"],
        failures=int(r.get("failures") or 0),
        paused=bool(r.get("paused")),
        last_found=r.get("last_found"),
        last_new=r.get("last_new"),
        last_saved=r.get("last_saved"),
        last_error=r.get("last_error") or "",
    )


def _watch_run_from_row(r: Any) -> WatchRun:
    return WatchRun(
        id=int(r["id"]),
        started_at=dt_or_none(r["started_at"]) or utc_now(),
        pid=int(r["pid"]),
        every=r["every"],
        finished_at=dt_or_none(r["finished_at"]),
        polled=int(r["polled"]),
        failed=int(r["failed"]),
        left=int(r["left_over"]),
        saved=int(r["saved"]),
        download_failed=int(r["download_failed"]),
        status=r["status"],
        outcome=r["outcome"],
    )
