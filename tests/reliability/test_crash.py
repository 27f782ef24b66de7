"""Crash safety: SIGKILL mid-transfer (bench/stress_kill.py), SIGKILL mid-transaction, and
two instances started at once."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tikget_tui.demo import MediaCatalog
from tikget_tui.store import JobState, Store

ROOT = Path(__file__).resolve().parents[2]
STRESS = ROOT / "bench" / "stress_kill.py"


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKGET_")}
    env["TIKGET_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
def test_sigkill_loop_leaves_whole_files_and_an_intact_queue(
    demo_media: MediaCatalog, tmp_path: Path,
) -> None:
    """The in-suite version of `make stress`: 5 random SIGKILLs, then recovery and checks."""
    proc = subprocess.run(
        [sys.executable, str(STRESS), "--runs", "5", "--seed", "7",
         "--media-dir", str(demo_media.folder.parent), "--work", str(tmp_path),
         "--time-limit", "120", "--final-timeout", "90"],
        capture_output=True, text=True, timeout=240, env=_child_env(tmp_path / "unused"),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    m = re.search(r"(\d+) runs, (\d+) killed mid-run .*?(\d+) files checked", out)
    assert m is not None, out
    runs, killed, checked = map(int, m.groups())
    assert runs == 5 and killed >= 2 and checked >= 5, out
    print("\n" + out.strip())


_WRITER = textwrap.dedent("""
    import os, signal, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from tikget_tui.models import Creator, Story
    from tikget_tui.store import Store

    store = Store.open(Path(sys.argv[1]))
    now = datetime.now(UTC)

    def story(i):
        return Story(id=str(7_460_000_000_000_000_000 + i), creator=Creator("crash.test"),
                     created_at=now, expires_at=now + timedelta(hours=20),
                     caption="x" * 2000)

    for i in range(20):  # committed, one short transaction each
        store.add_job(story(i), variant="video")
        print("committed", i, flush=True)
    with store.transaction() as c:  # a batch in one transaction, killed half-way
        for i in range(20, 400):
            c.execute("INSERT INTO jobs (story_id, variant, state, story_json, created_at,"
                      " updated_at) VALUES (?, 'video', 'queued', ?, 0, 0)",
                      (str(i), "y" * 4000))
            c.execute("UPDATE jobs SET state = 'failed', reason = 'half-written'"
                      " WHERE id <= 20")
            if i == 200:
                print("killing mid-transaction", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
""")


def test_state_survives_sigkill_mid_transaction(tmp_path: Path) -> None:
    db = tmp_path / "data" / "state.sqlite3"
    proc = subprocess.run([sys.executable, "-c", _WRITER, str(db)], capture_output=True,
                          text=True, timeout=60, env=_child_env(tmp_path))
    assert proc.returncode == -9, proc.stderr  # it really died by SIGKILL
    assert "killing mid-transaction" in proc.stdout
    committed = proc.stdout.count("committed ")
    assert committed == 20

    conn = sqlite3.connect(str(db))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    with Store.open(db) as store:
        jobs = store.list_jobs()
        assert len(jobs) == committed  # every committed job, none of the half batch
        assert all(j.state == JobState.QUEUED and j.reason == "" for j in jobs)
        assert all(len(j.story.caption) == 2000 for j in jobs)
        store.update_job(jobs[0].id, state=JobState.DONE)  # and it is writable again
        assert store.get_job(jobs[0].id).state == JobState.DONE  # type: ignore[union-attr]


_INSTANCE = textwrap.dedent("""
    import asyncio, os, sys
    from tikget_tui.config import load
    from tikget_tui.downloads import DownloadManager
    from tikget_tui.store import AlreadyRunning

    async def main():
        settings = load().replace(service_origin="http://127.0.0.1:9")
        manager = DownloadManager(settings)
        go = sys.argv[1]
        while not os.path.exists(go):  # both processes start together
            await asyncio.sleep(0.005)
        try:
            await manager.start()
        except AlreadyRunning as exc:
            print("REFUSED", exc, flush=True)
            return 3
        print("RUNNING", os.getpid(), flush=True)
        await asyncio.to_thread(sys.stdin.read)  # hold the queue until stdin closes
        await manager.stop()
        return 0

    sys.exit(asyncio.run(main()))
""")


def test_two_instances_at_once_one_runs_the_other_is_told_clearly(tmp_path: Path) -> None:
    env = _child_env(tmp_path / "home")
    go = tmp_path / "go"

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", _INSTANCE, str(go)], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    a, b = start(), start()
    go.touch()
    procs = {a: "", b: ""}
    try:
        for p in procs:
            assert p.stdout is not None
            procs[p] = p.stdout.readline().strip()
        winners = [p for p, line in procs.items() if line.startswith("RUNNING")]
        losers = [p for p, line in procs.items() if line.startswith("REFUSED")]
        assert len(winners) == 1 and len(losers) == 1, procs
        winner, loser = winners[0], losers[0]
        assert loser.wait(timeout=30) == 3
        message = procs[loser].removeprefix("REFUSED ")
        assert message == (f"tikget is already running (pid {winner.pid}); close it first or "
                           "wait for it to finish")
        # WAL: a read-only look at the state works while the other process drives the queue
        with Store.open(tmp_path / "home" / "data" / "state.sqlite3") as reader:
            assert reader.list_jobs() == []
    finally:
        for p in procs:
            if p.poll() is None:
                assert p.stdin is not None
                p.stdin.close()
    assert winner.wait(timeout=30) == 0
    # the lock went with the winner: the next start runs
    go.touch()
    c = start()
    try:
        assert c.stdout is not None
        assert c.stdout.readline().startswith("RUNNING")
    finally:
        assert c.stdin is not None
        c.stdin.close()
        assert c.wait(timeout=30) == 0
    for p in (*procs, c):
        for stream in (p.stdout, p.stderr):
            if stream is not None:
                stream.close()
