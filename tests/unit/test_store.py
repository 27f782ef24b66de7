"""The SQLite state store: schema, jobs, archive, reports, watch list, instance lock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.plugins.base import database_held_by_another_process
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.models import Codec, Creator, ImageSource, Kind, MediaSource, Sound, Story
from tikget_tui.store import (
    SCHEMA_VERSION,
    AlreadyRunning,
    InstanceLock,
    JobState,
    Store,
    StoreError,
    StoreLocked,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def story(sid: str = "7440000000000000001", kind: Kind = Kind.VIDEO) -> Story:
    return Story(
        id=sid, creator=Creator("mika.travels", "Mika ✈️", "68001"), created_at=NOW,
        expires_at=NOW + timedelta(hours=3), caption="hi [bold]x[/]", kind=kind, duration=8.0,
        sources=(MediaSource("http://x/v?a=1", Codec.H264, 540, 960, 900, 1234, "h264_540p"),),
        images=(ImageSource(("http://x/i1", "http://y/i1"), 720, 960),),
        sound=Sound("http://x/s.mp3", "song", "me", 8.0, "9"), canonical_url="http://x/@m/video/1",
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "data" / "state.sqlite3") as s:
        yield s


def test_story_json_round_trip() -> None:
    s = story()
    assert Story.from_dict(s.to_dict()) == s


def test_schema_pragmas_and_version(store: Store, tmp_path: Path) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    store.close()
    with pytest.raises(StoreError, match="newer tikget"):
        Store.open(store.path)


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "state.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="move it aside"):
        Store.open(bad)


def test_jobs_round_trip_and_update(store: Store) -> None:
    job = store.add_job(story(), variant="video", note="offline reference")
    assert job.state == JobState.QUEUED and job.note == "offline reference"
    assert job.expires_at == NOW + timedelta(hours=3)
    assert store.active_job_for(job.story_id, "video") == job
    job = store.update_job(job.id, state=JobState.DOWNLOADING, bytes_done=10, bytes_total=100,
                           part_path=Path("/d/x.mp4.part"), stem="x")
    assert (job.state, job.bytes_done, job.bytes_total, job.stem) == (
        JobState.DOWNLOADING, 10, 100, "x")
    job = store.update_job(job.id, state=JobState.DONE, files=(Path("/d/x.mp4"),), verdict="ok")
    assert job.files == (Path("/d/x.mp4"),) and job.is_final
    assert store.active_job_for(job.story_id, "video") is None
    assert [j.id for j in store.list_jobs([JobState.DONE])] == [job.id]
    with pytest.raises(TypeError):
        store.update_job(job.id, bogus=1)
    with pytest.raises(sqlite3.IntegrityError):
        store.update_job(job.id, state="downloading", retries=None)


def test_archive(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "x.mp4"
    f.write_bytes(b"x")
    job = store.add_job(story(), variant="video")
    entry = ArchiveEntry(story_id=job.story_id, variant="video", path=f, sha256="ab", size=1,
                         verdict="ok", saved_at=NOW, creator="mika.travels", job_id=job.id)
    Records(store).put(entry)
    assert Records(store).get(job.story_id, "video") == entry
    assert Records(store).get(job.story_id, "audio") is None
    assert Records(store).entries() == [entry]
    assert entry.missing_files() == []
    f.unlink()
    assert entry.missing_files() == [f]
    assert Records(store).delete(job.story_id, "video")
    assert Records(store).entries() == []


def test_reports(store: Store) -> None:
    Records(store).save_report(Path("/d/x.mp4"), {"verdict": "warn", "checks": []}, story_id="1")
    assert Records(store).get_report(Path("/d/x.mp4")) == {"verdict": "warn", "checks": []}
    assert Records(store).get_report(Path("/d/y.mp4")) is None


def test_watch_list_crud(store: Store) -> None:
    a = store.watch_add("@Mika.Travels", note="trip")
    assert a.username == "mika.travels" and a.note == "trip"
    assert store.watch_add("mika.travels").note == "trip"  # idempotent, note kept
    store.watch_add("studio.photos")
    assert [w.username for w in store.watch_list()] == ["mika.travels", "studio.photos"]
    store.watch_update("mika.travels", last_poll_at=NOW, next_poll_at=NOW + timedelta(hours=4),
                       last_result="2 new stories")
    w = store.watch_get("mika.travels")
    assert w.last_result == "2 new stories" and w.next_poll_at == NOW + timedelta(hours=4)
    assert [x.username for x in store.watch_due(NOW)] == ["studio.photos"]
    assert store.watch_remove("@mika.travels")
    assert not store.watch_remove("mika.travels")
    with pytest.raises(ValueError):
        store.watch_add("@ ")


def test_instance_lock_in_another_process(tmp_path: Path) -> None:
    lock = InstanceLock(tmp_path)
    lock.acquire()
    code = (
        "import sys; from pathlib import Path; from tikget_tui.store import InstanceLock, "
        "AlreadyRunning\ntry:\n    InstanceLock(Path(sys.argv[1])).acquire()\n"
        "except AlreadyRunning as e:\n    print(e); sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=60)
    import os

    assert out.returncode == 3
    assert f"already running (pid {os.getpid()})" in out.stdout
    with pytest.raises(AlreadyRunning):
        InstanceLock(tmp_path).acquire()  # a second lock in the same process too
    lock.release()
    with InstanceLock(tmp_path) as again:
        assert again.held


def test_part_source_round_trip(store: Store) -> None:
    job = store.add_job(story(), variant="video")
    assert job.part_source is None
    ident = "video:h264_540p:h264:540x960:1234:900"
    job = store.update_job(job.id, part_source=ident, bytes_done=10)
    assert job.part_source == ident and store.get_job(job.id) == job
    assert store.update_job(job.id, part_source=None).part_source is None


def test_migration_from_schema_2_keeps_rows(tmp_path: Path) -> None:
    """A state file written by the schema-2 tikget (before part_source) opens, upgrades in place
    and keeps every row; its jobs have no recorded source (the resume falls back to the total)."""
    from tikget_tui.store import MIGRATIONS

    path = tmp_path / "state.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    t = NOW.timestamp()
    conn.execute(
        "INSERT INTO jobs (story_id, variant, state, reason, story_json, note, expires_at,"
        " bytes_done, bytes_total, part_path, stem, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ("7440000000000000001", "video", "queued", "interrupted", json.dumps(story().to_dict()),
         "trip", t + 3 * 3600, 4096, 8192, "/d/x.mp4.part", "x", t, t))
    conn.execute("INSERT INTO archive (story_id, variant, path, size, saved_at, job_id)"
                 " VALUES ('7440000000000000002', 'video', '/d/y.mp4', 5, ?, 1)", (t,))
    conn.execute("INSERT INTO watch (username, added_at, note) VALUES ('mika.travels', ?, 'n')",
                 (t,))
    conn.execute("INSERT INTO audit_marks (story_id, variant, status, marked_at)"
                 " VALUES ('7440000000000000002', 'video', 'unrecoverable', ?)", (t,))
    conn.commit()
    conn.close()

    with Store.open(path) as s:
        [job] = s.list_jobs()
        assert (job.story, job.state, job.reason, job.note) == (
            story(), JobState.QUEUED, "interrupted", "trip")
        assert (job.bytes_done, job.bytes_total, job.part_path, job.stem) == (
            4096, 8192, Path("/d/x.mp4.part"), "x")
        assert job.part_source is None
        entry = Records(s).get("7440000000000000002", "video")
        assert entry.job_id == job.id
        assert entry.note == "trip"  # schema 4: the note of the job that saved it
        assert job.directory is None  # saved into the download dir, as before schema 4
        watched = s.watch_get("mika.travels")
        assert (watched.note, watched.failures, watched.paused) == ("n", 0, False)
        # schema 5: nothing known of its last poll yet; no watch runs
        assert (watched.last_found, watched.last_new, watched.last_saved,
                watched.last_error) == (None, None, None, "")
        assert s.watch_runs() == []
        # schema 6: no check of a saved copy yet (v, tikget audit)
        assert Records(s).check_get(Path("/d/x.mp4")) is None
        assert Records(s).audit_marks() == {("7440000000000000002", "video"): ("unrecoverable", "")}
        assert s.update_job(job.id, part_source="sound").part_source == "sound"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    conn.close()
    with Store.open(path) as s:  # opening again migrates nothing and loses nothing
        assert s.get_job(job.id).part_source == "sound"


def test_a_database_locked_by_another_program_is_one_line_with_its_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13 §4: another process holds BEGIN EXCLUSIVE; no sqlite3 traceback."""
    import tikget_tui.store as store_mod
    from tikget_tui import cli

    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT", 0.2)
    path = tmp_path / "data" / "state.sqlite3"
    with database_held_by_another_process(path) as holder:
        with Store.open(path) as s, pytest.raises(StoreLocked) as info:
            s.add_job(story(), variant="video")
        message = str(info.value)
        assert "\n" not in message and str(path) in message
        assert f"locked by process {holder.pid}" in message
        assert "close that program" in message
        # the same through the command line: one line on stderr, exit status 1
        monkeypatch.setenv("TIKGET_DATA_DIR", str(path.parent))
        assert cli.main(["watch", "remove", "@someone"]) == 1  # the store only, no look-up
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err and "is locked by process" in err


def test_archive_keeps_every_location_of_a_story(store: Store, tmp_path: Path) -> None:
    """One story saved in two folders is two archive entries; neither replaces the other."""

    a, b = tmp_path / "a", tmp_path / "b"
    b.mkdir()
    first = ArchiveEntry("7440000000000000001", "video", a / "x.mp4", sha256="f" * 64, size=5,
                         verdict="ok", saved_at=NOW, note="trip")
    second = ArchiveEntry("7440000000000000001", "video", b / "x.mp4", sha256="f" * 64, size=5,
                          verdict="ok", saved_at=NOW + timedelta(minutes=1),
                          copied_from=a / "x.mp4")
    Records(store).put(first)
    Records(store).put(second)
    assert Records(store).locations("7440000000000000001", "video") == [first, second]
    assert Records(store).entries() == [first, second]
    assert Records(store).get("7440000000000000001", "video") == second  # the newest
    assert Records(store).get("7440000000000000001", "video", directory=a) == first
    # a symlink to the folder is the same folder
    (tmp_path / "link").symlink_to(b)
    assert Records(store).get("7440000000000000001", "video", directory=tmp_path / "link") == second
    assert Records(store).get("7440000000000000001", "video", directory=tmp_path / "c") is None
    # saving again at the same path replaces that record only
    Records(store).put(ArchiveEntry("7440000000000000001", "video", a / "x.mp4", verdict="warn",
                                   saved_at=NOW))
    assert [e.verdict for e in Records(store).locations("7440000000000000001", "video")] == [
        "warn", "ok"]
    Records(store).set_note("7440000000000000001", "video", b / "x.mp4", "second look")
    assert Records(store).get("7440000000000000001", "video", directory=b).note == "second look"
    assert Records(store).delete("7440000000000000001", "video", a / "x.mp4")
    assert [e.path for e in Records(store).entries()] == [b / "x.mp4"]


def test_watch_failures_and_pause(store: Store) -> None:
    store.watch_add("@gone.away")
    store.watch_add("@still.here")
    entry = store.watch_update("gone.away", failures=3, paused=True)
    assert (entry.failures, entry.paused) == (3, True)
    # a paused account is never due; the others are
    assert [w.username for w in store.watch_due(NOW)] == ["still.here"]
    assert store.watch_update("gone.away", failures=0, paused=False).paused is False
    assert len(store.watch_due(NOW)) == 2
    # adding a paused account again resumes it: due now, failures forgotten
    store.watch_update("gone.away", failures=3, paused=True, next_poll_at=NOW + timedelta(days=1))
    store.watch_update("still.here", failures=1, next_poll_at=NOW + timedelta(hours=1))
    resumed = store.watch_add("gone.away", note="")
    assert (resumed.failures, resumed.paused, resumed.next_poll_at) == (0, False, None)
    kept = store.watch_add("still.here")
    assert (kept.failures, kept.next_poll_at) == (0, NOW + timedelta(hours=1))


def test_job_remembers_its_folder(store: Store, tmp_path: Path) -> None:
    job = store.add_job(story(), variant="video", directory=tmp_path / "elsewhere")
    assert store.get_job(job.id).directory == tmp_path / "elsewhere"
    assert store.add_job(story(), variant="video").directory is None


def test_watch_runs_are_recorded_newest_first_and_bounded(store: Store) -> None:
    from tikget_tui.store import KEEP_RUNS, RUN_SKIPPED

    first = store.watch_run_start(NOW, every=4 * 3600.0, pid=4242)
    assert (first.pid, first.every, first.finished_at, first.status) == (4242, 14400.0, None,
                                                                        None)
    done = store.watch_run_finish(first.id, NOW + timedelta(minutes=2), polled=3, failed=1,
                                  left=2, saved=4, download_failed=1, status=1,
                                  outcome="polled 3 of 5 creators")
    assert (done.polled, done.failed, done.left, done.saved, done.download_failed,
            done.status, done.outcome) == (3, 1, 2, 4, 1, 1, "polled 3 of 5 creators")
    assert done.finished_at == NOW + timedelta(minutes=2) and not done.skipped
    skipped = store.watch_run_start(NOW + timedelta(hours=4))
    skipped = store.watch_run_finish(skipped.id, NOW + timedelta(hours=4), status=0,
                                     outcome=f"{RUN_SKIPPED} the app is running")
    assert skipped.skipped and skipped.every is None
    assert [r.id for r in store.watch_runs()] == [skipped.id, first.id]
    for _ in range(KEEP_RUNS + 5):
        run = store.watch_run_start(NOW)
        store.watch_run_finish(run.id, NOW, status=0, outcome="x")
    assert len(store.watch_runs(limit=10_000)) == KEEP_RUNS


def test_a_new_poll_forgets_what_the_last_one_saved(store: Store) -> None:
    store.watch_add("mika.travels")
    entry = store.watch_update("mika.travels", last_poll_at=NOW, last_found=3, last_new=2,
                               last_error="")
    assert (entry.last_found, entry.last_new, entry.last_saved) == (3, 2, None)
    assert store.watch_update("mika.travels", last_saved=2).last_saved == 2
    again = store.watch_update("mika.travels", last_poll_at=NOW + timedelta(hours=4),
                               last_found=0, last_new=0, last_error="TikTok answered 503")
    assert (again.last_found, again.last_saved, again.last_error) == (0, None,
                                                                      "TikTok answered 503")
