"""A whole session, as a new user on a new machine lives it, then a restart.

Fresh HOME without ~/Downloads; the real stand-in over loopback with slow media so the
queue really queues: look up, download all, cancel a queued job, pause, resume and retry,
an MP3, watch the creator, quit mid-download (it asks first: y); start again: the queue is
restored and resumes; every saved file verified; nothing queued twice; quit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.ui import notifications, wait_until
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, MediaFaults
from tikget_tui.demo.scenario import DEMO_CREATOR
from tikget_tui.store import Store
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.quit import QuitScreen, quit_question
from tikget_tui.verify import Expected, verify


def new_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    for var in ("TIKGET_HOME", "TIKGET_DOWNLOAD_DIR", "TIKGET_CONFIG", "TIKGET_DATA_DIR",
                "TIKGET_CACHE_DIR", "XDG_DOWNLOAD_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    settings = load().replace(service_origin=origin, api_min_interval=0.0, concurrency=1)
    assert settings.download_dir.is_relative_to(home)
    assert not (home / "Downloads").exists()
    return settings


async def test_a_whole_session_then_a_restart(
    demo_server: DemoServer, demo_clock: FakeClock, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = new_machine(tmp_path, monkeypatch, demo_server.origin)
    demo_server.scenario.faults.media = MediaFaults(bytes_per_second=300_000)
    app = TikGetApp(settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the queue")
        screen = app.main_screen
        assert screen is not None and app.manager is not None
        manager = app.manager
        queue = screen.queue
        screen.input_pane.input.value = "@" + DEMO_CREATOR
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(screen.stories.groups.get(DEMO_CREATOR)
                                             and screen.stories.groups[DEMO_CREATOR].story_ids),
                         "the stories")
        stories = screen.stories.groups[DEMO_CREATOR].story_ids
        await pilot.press("tab", "a")
        await wait_until(pilot, lambda: len(queue.jobs) == 7, "seven rows")
        await wait_until(pilot, lambda: any(str(j.state) == "downloading"
                                            for j in manager.jobs()), "a running download")
        # cancel a queued job, then try it again
        await pilot.press("3")
        queued = [j for j in manager.jobs() if str(j.state) == "queued"][-1]
        queue.move_cursor(row=queue.get_row_index(str(queued.id)))
        await pilot.press("x")
        await wait_until(pilot, lambda: str(manager.job(queued.id).state) == "cancelled",  # type: ignore[union-attr]
                         "the cancel")
        await pilot.press("t")
        await wait_until(pilot, lambda: str(manager.job(queued.id).state) == "queued",  # type: ignore[union-attr]
                         "the retry")
        # pause the running one and resume it
        running = next(j for j in manager.jobs() if str(j.state) == "downloading")
        queue.move_cursor(row=queue.get_row_index(str(running.id)))
        await pilot.press("p")
        await wait_until(pilot, lambda: str(manager.job(running.id).state) == "paused",  # type: ignore[union-attr]
                         "the pause")
        await pilot.press("u")
        await wait_until(pilot, lambda: str(manager.job(running.id).state) != "paused",  # type: ignore[union-attr]
                         "the resume")
        # one story as MP3, and watch the creator
        await pilot.press("2", "m")
        screen.stories.move_to(stories[1])
        await pilot.press("d")
        await wait_until(pilot, lambda: any(j.audio for j in manager.jobs()), "the MP3 job")
        screen.stories.move_to(f"@{DEMO_CREATOR}")
        await pilot.press("w")
        await wait_until(pilot, lambda: DEMO_CREATOR in screen.stories.watching, "watching")
        unfinished = [j for j in manager.jobs() if str(j.state) != "done"]
        assert unfinished, "the session should quit mid-download"
        running = app.unfinished_downloads()
        assert running, "the session should quit mid-download"
        await pilot.press("q")  # asks first: downloads are running
        assert isinstance(app.screen, QuitScreen)
        assert str(app.screen.query_one("#quit-title").render()) == quit_question(
            app.screen.count)
        await pilot.press("y")
    assert app.return_code == 0

    # start again: the queue comes back (without the rows done last time:
    # drop_finished_at_start) and finishes
    with Store.open(settings.state_db) as store:
        left = {j.id for j in store.list_jobs() if str(j.state) != "done"}
    assert left
    demo_server.scenario.faults.media = MediaFaults()
    again = TikGetApp(settings, clock=demo_clock)
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: again.manager is not None, "the queue again")
        manager = again.manager
        assert manager is not None
        screen = again.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: any(m.startswith("resuming ")
                                            for m in notifications(again)), "the resume notice")
        assert DEMO_CREATOR in screen.stories.watching
        await wait_until(pilot, lambda: all(str(j.state) == "done" for j in manager.jobs()),
                         "every job to finish", limit=60)
        assert {j.id for j in manager.jobs()} == left
        assert set(screen.queue.order) == left
        await pilot.press("ctrl+q")  # the input has the focus: q would be typed
    assert again.return_code == 0

    # every saved file is there and verifies
    with Store.open(settings.state_db) as store:
        entries = Records(store).entries()
        finished = store.list_jobs()
    keys = [(j.story_id, j.variant) for j in finished]
    assert len(keys) == len(set(keys)) == 8  # seven videos/photos and one MP3, once each
    for job in finished:
        assert job.verdict == "ok", (job.story_id, job.reason)
        for path in job.files:
            assert path.is_file() and path.parent == settings.download_dir
            kind = "audio" if job.audio else "photo" if job.variant == "photo" else "video"
            report = await verify(path, Expected(kind=kind))
            assert str(report.verdict) != "fail", report.summary
    assert len(entries) >= 8
