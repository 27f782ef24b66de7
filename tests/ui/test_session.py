"""A session as a person lives it: the walls the green suite once missed, each pinned.

Each test drives the real app with the Pilot against the stand-in over loopback. See
../shared/test-audit.md: the runaway message loop, the cancel crash, the missing
~/Downloads, the queue keys that did nothing, merging of progress, the 1-second tick.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.message import Message
from textual.widgets import Static, Tab

from tests.plugins.base import database_held_by_another_process
from tests.plugins.ui import notifications, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, MediaFaults
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_EMPTY_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.downloads.events import JobChanged, Progress
from tikget_tui.store import JobState, Store
from tikget_tui.tiktok import TikTokClient
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.commands import ActionCommands
from tikget_tui.ui.messages import CoreEvent
from tikget_tui.ui.screens.main import MainScreen

SILENT_PHOTO_STORY = "7440000000000000022"  # @studio.photos: photos without a sound


def main_screen(app: TikGetApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


async def ready(pilot: Any, app: TikGetApp) -> MainScreen:
    await wait_until(pilot, lambda: app.manager is not None, "the download manager to start")
    await pilot.pause()
    return main_screen(app)


async def look_up(pilot: Any, app: TikGetApp, text: str) -> None:
    screen = main_screen(app)
    screen.input_pane.input.focus()
    before = screen.lookups_started
    screen.input_pane.input.value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.lookups_started > before, "the lookup to start")
    await wait_until(pilot, lambda: not [w for w in app.workers if w.group == "lookup"
                                         and not w.is_finished], "the lookups to end")
    await pilot.pause()


async def save_first_story(pilot: Any, app: TikGetApp, *, until: tuple[str, ...] = ("done",)
                           ) -> None:
    """Look up the demo creator, d on the first story, wait until its job ends."""
    await look_up(pilot, app, "@" + DEMO_CREATOR)
    await pilot.press("tab", "d")
    await wait_until(pilot, lambda: bool(jobs_in(app, *until)), "the download")


def jobs_in(app: TikGetApp, *states: str) -> list[Any]:
    assert app.manager is not None
    return [j for j in app.manager.jobs() if str(j.state) in states]


def slow(server: DemoServer, bytes_per_second: float = 150_000) -> None:
    server.scenario.faults.media = MediaFaults(bytes_per_second=bytes_per_second)


# -- 1. the runaway loop ---------------------------------------------------------------


async def test_one_core_event_is_one_dispatch_and_the_app_idles_after_a_download(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    dispatched: list[Message] = []
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(100, 30), message_hook=dispatched.append) as pilot:
        screen = await ready(pilot, app)
        assert app.manager is not None
        emitted: list[JobChanged] = []
        app.manager.subscribe(lambda e: emitted.append(e) if isinstance(e, JobChanged) else None)
        await save_first_story(pilot, app)
        await pilot.pause(0.3)
        core = [m for m in dispatched if isinstance(m, CoreEvent)
                and isinstance(m.event, JobChanged)]
        assert len(core) == len(emitted) >= 3  # queued, downloading, ..., done: once each
        # every one was handled by the screen alone: nothing bubbled to the app
        assert all(m._sender is app for m in core)
        # idle: no message keeps circulating
        settled = len(dispatched)
        await pilot.pause(0.5)
        core_later = [m for m in dispatched[settled:] if isinstance(m, CoreEvent)]
        assert core_later == []
        assert screen.queue.jobs


# -- 2. every state colour, every theme, NO_COLOR; a restored row never stops a start ------


def _store_jobs_in_every_state(settings: Settings, stories: list[Any]) -> None:
    states = [JobState.CANCELLED, JobState.FAILED, JobState.EXPIRED, JobState.DONE,
              JobState.PAUSED, JobState.QUEUED, JobState.DOWNLOADING]
    with Store.open(settings.state_db) as store:
        for story, state in zip(stories, states, strict=False):
            job = store.add_job(story, variant="video", audio=False)
            store.update_job(job.id, state=state, reason=f"was {state}", bytes_done=10_000,
                             bytes_total=40_000)


@pytest.mark.parametrize("no_color", [False, True])
async def test_every_job_state_renders_under_every_theme(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, no_color: bool,
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with TikTokClient(demo_settings, clock=demo_clock) as client:
        listing = await client.lookup_stories(DEMO_CREATOR)
    _store_jobs_in_every_state(demo_settings, list(listing.stories))
    # finished rows of the earlier run stay in the queue (a start leaves them out by default)
    app = TikGetApp(demo_settings.replace(concurrency=1, drop_finished_at_start=False),
                    clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot, app)
        queue = screen.queue
        await wait_until(pilot, lambda: len(queue.jobs) == len(listing.stories), "the rows")
        shown = {str(j.state) for j in queue.jobs.values()}
        assert {"cancelled", "failed", "expired", "done", "paused"} <= shown
        for theme in sorted(app.available_themes):
            app.theme = theme
            queue.set_jobs(list(queue.jobs.values()))
            # each state is rendered (a real frame), with its name and without colour
            # when NO_COLOR is set
            await pilot.pause()
            for job_id, job in queue.jobs.items():
                cell = queue.get_cell(str(job_id), "state")
                assert cell.plain == str(job.state)
                if no_color:
                    assert cell.style.color is None
        assert app.is_running


# -- 3. a new machine has no ~/Downloads -----------------------------------------------


async def test_default_download_folder_is_created_on_a_new_machine(
    demo_server: DemoServer, tmp_path: Path, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for var in ("TIKGET_HOME", "TIKGET_DOWNLOAD_DIR", "XDG_DOWNLOAD_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TIKGET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIKGET_CONFIG", str(tmp_path / "config.toml"))
    settings = load().replace(service_origin=demo_server.origin, api_min_interval=0.0)
    assert not settings.download_dir_chosen
    assert settings.download_dir.is_relative_to(home) and not (home / "Downloads").exists()
    app = TikGetApp(settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await save_first_story(pilot, app, until=("done", "failed"))
        [job] = jobs_in(app, "done")
        assert job.final_path is not None and job.final_path.parent == settings.download_dir
        assert job.final_path.is_file()


async def test_a_chosen_folder_without_parent_is_refused_and_o_sets_another(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock, tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-dark"\n\n[keys]\nquit = "q,ctrl+q"\n')
    settings = dataclasses.replace(demo_settings.with_download_dir(missing), config_file=config)
    app = TikGetApp(settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await pilot.press("tab", "a")
        await wait_until(pilot, lambda: len(jobs_in(app, "failed")) == 7, "7 failures")
        await wait_until(pilot, lambda: "7 failed" in screen.input_pane.status_text,
                         "the one summary")
        status = screen.input_pane.status_text
        assert "press o to choose one" in status
        assert sum("does not exist" in m for m in notifications(app)) == 0  # no toast per file
        # o: the folder screen; a bad path is refused in place, a good one taken and saved
        await pilot.press("o")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FolderScreen", "o")
        field = app.screen.query_one("#folder-input")
        field.value = str(tmp_path / "nope" / "x")  # type: ignore[attr-defined]
        await pilot.press("enter")
        problem = app.screen.query_one("#folder-problem", Static)
        assert "does not exist" in str(problem.visual)
        chosen = tmp_path / "archive"
        field.value = str(chosen)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, "the main screen again")
        assert chosen.is_dir() and app.settings.download_dir == chosen
        saved = config.read_text()
        assert f'download_dir = "{chosen}"' in saved and "[keys]" in saved
        assert load({"TIKGET_CONFIG": str(config), "TIKGET_HOME": str(tmp_path)}
                    ).download_dir == chosen
        # t on the failed rows: they are saved into the new folder
        await pilot.press("3", "home", "t")
        await wait_until(pilot, lambda: bool(jobs_in(app, "done")), "the retried download")
        [job] = jobs_in(app, "done")
        assert job.final_path is not None and job.final_path.parent == chosen


# -- 5. pasting several lines ------------------------------------------------------------


async def test_a_paste_of_several_lines_looks_up_every_line(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        field = screen.input_pane.input
        field.focus()
        field.post_message(events.Paste(
            f"@{DEMO_CREATOR}\n@{DEMO_PHOTO_CREATOR}\r\n@{DEMO_EMPTY_CREATOR}\n"))
        await pilot.pause()
        assert field.value == f"@{DEMO_CREATOR} @{DEMO_PHOTO_CREATOR} @{DEMO_EMPTY_CREATOR}"
        await pilot.press("enter")
        await wait_until(pilot, lambda: all(
            k in screen.stories.groups and screen.stories.groups[k].creator is not None
            for k in (DEMO_CREATOR, DEMO_PHOTO_CREATOR, DEMO_EMPTY_CREATOR)), "three lookups")


async def test_one_bad_entry_among_good_ones_is_named_and_a_long_error_wraps(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, f"@{DEMO_CREATOR}\nhttps://www.evil-tiktok.example/@x/video/1"
                                  f"\n@{DEMO_PHOTO_CREATOR}")
        await wait_until(pilot, lambda: screen.stories.groups.get(DEMO_PHOTO_CREATOR) is not None
                         and screen.stories.groups[DEMO_PHOTO_CREATOR].creator is not None,
                         "the good ones")
        assert any("skipped 1" in m and "evil-tiktok.example" in m for m in notifications(app))
        # a long message is shown whole: it wraps under the input instead of being cut
        long = "the download folder " + "/very/long/path" * 8 + " is missing; press o"
        app.notify(long, severity="error")
        await pilot.pause()
        status = screen.input_pane.query_one("#input-status", Static)
        assert status.size.height >= 2
        assert screen.input_pane.status_text == long


# -- 6 and 7. one summary a batch, truthful feedback ---------------------------------------


async def test_a_batch_gets_one_summary_no_toast_and_counts_what_is_new(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        story_ids = screen.stories.groups[DEMO_CREATOR].story_ids
        await pilot.press("tab")
        screen.stories.move_to(story_ids[0])
        await pilot.press("d")  # one first ...
        await wait_until(pilot, lambda: len(jobs_in(app, "done")) == 1, "the first one")
        await pilot.press("a")  # ... then all: six new, one already saved
        await wait_until(pilot, lambda: len(jobs_in(app, "done")) == 7, "all seven")
        await wait_until(pilot, lambda: "6 saved and verified" in notifications(app),
                         "the batch summary")
        notes = notifications(app)
        assert "queued 1 download" in notes
        assert any(m.startswith("queued 6 downloads; 1 already saved (") for m in notes), notes
        assert not any(m.startswith("saved ") for m in notes)  # no notice per file
        assert sum("saved and verified" in m for m in notes) == 2  # one per batch
        assert not list(app.screen.query("Toast"))  # nothing covers a pane
        # a already saved: said so, nothing queued
        await pilot.press("a")
        await wait_until(pilot, lambda: notifications(app)[-1].startswith("7 already saved"),
                         "already saved")
        # every listed story is marked as saved in the stories pane
        for sid in story_ids:
            assert screen.stories.get_cell(sid, "mark").plain[2] == "✓"


async def test_mp3_mode_says_a_photo_story_has_no_sound_before_queueing(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_PHOTO_CREATOR)
        await pilot.press("tab", "m")
        assert screen.audio_only
        screen.stories.move_to(SILENT_PHOTO_STORY)
        await pilot.press("d")
        await wait_until(pilot, lambda: "no sound to save as MP3" in notifications(app)[-1],
                         "the refusal")
        assert app.manager is not None and app.manager.jobs() == []  # nothing was queued


async def test_queue_keys_act_on_the_row_and_say_what_they_did(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    slow(demo_server)
    app = TikGetApp(demo_settings.replace(concurrency=1), clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot, app)
        queue = screen.queue
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await pilot.press("tab", "a", "3")
        await wait_until(pilot, lambda: len(jobs_in(app, "downloading")) == 1
                         and len(jobs_in(app, "queued")) >= 5, "one running, the rest queued")
        [running] = jobs_in(app, "downloading")
        # the progress, speed and ETA cells of the running row move, below 100 %
        await wait_until(pilot, lambda: "%" in queue.get_cell(str(running.id), "progress").plain
                         and queue.get_cell(str(running.id), "speed").plain != "",
                         "progress and speed")
        assert "100%" not in queue.get_cell(str(running.id), "progress").plain
        queued = jobs_in(app, "queued")[-1]
        assert queue.get_cell(str(queued.id), "progress").plain == "waiting"

        # x on a queued row cancels it
        queue.move_cursor(row=queue.get_row_index(str(queued.id)))
        await pilot.press("x")
        await wait_until(pilot, lambda: str(app.manager.job(queued.id).state) == "cancelled",
                         "the cancel")
        assert "cancelled" in notifications(app)[-1]
        # t tries it again
        await pilot.press("t")
        await wait_until(pilot, lambda: str(app.manager.job(queued.id).state) == "queued",
                         "the retry")
        # p on the running row pauses it; u resumes it
        queue.move_cursor(row=queue.get_row_index(str(running.id)))
        await pilot.press("p")
        await wait_until(pilot, lambda: str(app.manager.job(running.id).state) == "paused",
                         "the pause")
        assert notifications(app)[-1].startswith("paused ")
        await pilot.press("u")
        await wait_until(pilot, lambda: str(app.manager.job(running.id).state) in (
            "queued", "downloading"), "the resume")
        # u on a row that is not paused says why nothing happened
        queue.move_cursor(row=queue.get_row_index(str(queued.id)))
        await pilot.press("u")
        await wait_until(pilot, lambda: "only a paused download" in notifications(app)[-1],
                         "the refusal")
        for job in app.manager.jobs():  # type: ignore[union-attr]
            if str(job.state) in ("queued", "downloading"):
                await app.manager.cancel(job.id)  # type: ignore[union-attr]


async def test_v_verifies_the_file_again_and_reports_the_new_verdict(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot, app)
        await save_first_story(pilot, app)
        [job] = jobs_in(app, "done")
        # p and x on a finished row: nothing to do, and the app says so
        await pilot.press("3", "home", "p")
        await wait_until(pilot, lambda: "this download is done" in notifications(app)[-1],
                         "the pause refusal")
        # the file is damaged on disk: v runs the checks again and says what they found
        assert job.final_path is not None
        data = job.final_path.read_bytes()
        job.final_path.write_bytes(data[: len(data) // 3])
        await pilot.press("v")
        await wait_until(pilot, lambda: "again: changed since it was saved" in
                         notifications(app)[-1], "the new verdict")
        assert f"{len(data) // 3} bytes, {len(data)} were saved" in notifications(app)[-1]
        assert not any("saved and verified" in m for m in notifications(app)[-2:])
        assert "verdict ✗ fail: changed:" in screen.report.text
        assert "size" in screen.report.text and "MiB" not in screen.report.text


# -- 8. space at 80x24 ------------------------------------------------------------------


async def test_headers_use_the_whole_width_new_results_come_into_view_and_delete_removes(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        table = screen.stories
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await look_up(pilot, app, "@no.such.person")
        await look_up(pilot, app, "@" + DEMO_PHOTO_CREATOR)
        # the header starts in the first column and takes one line
        assert table.get_cell(f"@{DEMO_CREATOR}", "mark").plain.startswith("@mik")
        assert table.rows[next(k for k in table.rows if k.value == f"@{DEMO_CREATOR}")
                          ].height == 1
        # the creator just looked up is in view, its first story under the cursor
        first = table.groups[DEMO_PHOTO_CREATOR].story_ids[0]
        assert table.cursor_row == table.get_row_index(first)
        region = table.scrollable_content_region
        y = table._get_offsets_for_row(first) if hasattr(table, "_get_offsets_for_row") else None
        assert y is None or table.scroll_y <= table.cursor_row < table.scroll_y + region.height
        # Delete on the failed look-up takes it off the pane
        table.focus()
        table.move_to("@no.such.person")
        await pilot.press("delete")
        assert "no.such.person" not in table.groups
        assert "removed @no.such.person" in notifications(app)[-1]
        # the cursor stays where it was: on the creator that followed, never back at the top
        # (a second Delete once took the first creator off the pane)
        assert table.cursor_row == table.get_row_index(f"@{DEMO_PHOTO_CREATOR}")
        # the status of an empty creator does not repeat the name
        await look_up(pilot, app, "@" + DEMO_EMPTY_CREATOR)
        await wait_until(pilot, lambda: "no active story" in screen.input_pane.status_text,
                         "the empty listing")
        assert screen.input_pane.status_text.count(DEMO_EMPTY_CREATOR) == 1


# -- 10 and 11. palette, countdown, markup, merging ----------------------------------------


async def test_palette_lists_quit_once(demo_settings: Settings) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)):
        system = [c.title for c in app.get_system_commands(app.screen)]
        ours = [spec.description for _, spec in ActionCommands(app.screen)._commands()]
        assert (system + ours).count("Quit") == 1


async def test_the_countdown_ticks_every_second(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        table = (await ready(pilot, app)).stories
        assert table.countdown_timer._interval == 1.0
        ticks = table.ticks
        await wait_until(pilot, lambda: table.ticks >= ticks + 2, "two ticks", limit=8)


async def test_notices_are_plain_text(demo_settings: Settings) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        app.notify("caption [bold]x[/bold] [link=https://e.example]y[/link]")
        await pilot.pause()
        assert screen.input_pane.status_text == (
            "caption [bold]x[/bold] [link=https://e.example]y[/link]")


async def test_progress_events_for_one_job_merge(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = CoreEvent(Progress(1, 10, 100, 5.0, 18.0))
    assert CoreEvent(Progress(1, 20, 100, 5.0, 16.0)).can_replace(first)
    assert not CoreEvent(Progress(2, 20, 100, 5.0, 16.0)).can_replace(first)
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        calls: list[int] = []
        monkeypatch.setattr(screen.queue, "progress", lambda job_id, *a: calls.append(job_id))
        for done in range(0, 100):
            screen.post_message(CoreEvent(Progress(7, done, 100, 1.0, 1.0)))
        screen.post_message(CoreEvent(Progress(8, 5, 100, 1.0, 1.0)))
        await pilot.pause()
        assert calls.count(7) < 5 and calls.count(8) == 1


async def test_quick_pane_changes_settle_and_a_tab_click_still_switches(
    demo_settings: Settings,
) -> None:
    """Two pane changes in a row once queued two TabActivated messages that switched the
    pane back and forth for ever (a core at 100 %, found by the random-key test)."""
    from textual.widgets import Tabs

    dispatched: list[Message] = []
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24), message_hook=dispatched.append) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        start = len(dispatched)  # after the tabs' own first activation
        screen.action_pane("stories")
        screen.action_pane("queue")
        screen.input_pane.input.focus()
        await pilot.pause()
        await pilot.pause()
        assert screen.active_pane == "input"
        assert not [m for m in dispatched[start:] if isinstance(m, Tabs.TabActivated)]
        # a click on a tab is still a way to switch
        await pilot.click("#tab-queue")
        await wait_until(pilot, lambda: screen.active_pane == "queue", "the clicked tab")
        assert app.focused is screen.queue


async def test_the_tab_bars_own_activation_never_moves_the_pane(
    demo_settings: Settings,
) -> None:
    """Tabs activates its first tab on mount with the same TabActivated a click sends; in
    the first moments it arrived after a Tab key and put the focus back in the input (the
    keys typed next went there). Only a click on a tab (PaneTabs.PaneClicked) moves it."""
    from textual.widgets import Tabs

    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = main_screen(app)
        await pilot.press("tab")
        assert screen.active_pane == "stories"
        bar = screen.query_one("#pane-bar", Tabs)
        bar.post_message(Tabs.TabActivated(bar, bar.query_one("#tab-input", Tab)))
        await pilot.pause()
        await pilot.pause()
        assert screen.active_pane == "stories" and app.focused is screen.stories
        await pilot.press("5", *"mika")
        assert screen.active_pane == "library"
        await wait_until(pilot, lambda: screen.library.filter.value == "mika", "the filter")
        assert screen.input_pane.input.value == ""
        assert bar.active == "tab-library"


async def test_the_input_pane_is_highlighted_from_the_start(demo_settings: Settings) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        assert screen.query_one("#pane-input").has_class("active")
        assert not screen.query_one("#pane-stories").has_class("active")


async def test_pausing_the_last_unfinished_job_gives_the_batch_summary(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings.replace(concurrency=1), clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        first, second = screen.stories.groups[DEMO_CREATOR].story_ids[1:3]
        demo_server.scenario.story(second).media_faults = MediaFaults(bytes_per_second=60_000)
        await pilot.press("tab")
        for sid in (first, second):
            screen.stories.move_to(sid)
            await pilot.press("space")
        await pilot.press("d")
        await wait_until(pilot, lambda: len(jobs_in(app, "done")) == 1
                         and len(jobs_in(app, "downloading")) == 1, "one saved, one running")
        assert not any("saved and verified" in m for m in notifications(app))
        [running] = jobs_in(app, "downloading")
        await pilot.press("3")
        screen.queue.move_cursor(row=screen.queue.get_row_index(str(running.id)))
        await pilot.press("p")
        await wait_until(pilot, lambda: any(m.startswith("1 saved and verified")
                                            for m in notifications(app)),
                         "the summary once the last unfinished job is paused")
        # and it says what is parked (a new-user tryout missed the paused one in it)
        assert "1 saved and verified; 1 paused (u resumes)" in notifications(app)


async def test_a_locked_state_database_is_one_line_in_the_app(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another program holds the state database: the app still starts and reads (WAL); the
    first write (queueing a download) says which file is locked, by which process and what
    to do, in one line, and the app goes on."""
    import tikget_tui.store as store_mod

    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT", 0.2)
    with database_held_by_another_process(demo_settings.state_db) as holder:
        app = TikGetApp(demo_settings, clock=demo_clock)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await ready(pilot, app)
            await look_up(pilot, app, "@" + DEMO_CREATOR)
            await pilot.press("tab", "d")
            await wait_until(pilot, lambda: any("is locked by process" in m
                                                for m in notifications(app)), "the line")
            line = next(m for m in notifications(app) if "is locked by process" in m)
            assert "\n" not in line and str(demo_settings.state_db) in line
            assert f"process {holder.pid}" in line
            assert "is locked" in screen.input_pane.status_text
            assert app.is_running


async def test_home_and_end_go_to_the_first_and_last_row(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 18)) as pilot:  # short: the table scrolls
        screen = await ready(pilot, app)
        await look_up(pilot, app, f"@{DEMO_CREATOR} @{DEMO_PHOTO_CREATOR} @no.such.person")
        table = screen.stories
        await pilot.press("tab", "end")
        assert table.cursor_row == table.row_count - 1
        assert table.scroll_y == table.max_scroll_y > 0
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0


async def test_a_mixed_batch_counts_each_outcome_apart(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock, tmp_path: Path,
) -> None:
    """d on four stories: one saved in another folder (copied, said so with the folder and
    how), one already saved here, one whose only rendition has no sound (its verification
    fails) and one that saves fine. The enqueue line and the batch summary count each
    outcome apart; nothing failed is counted as saved."""
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        ids = screen.stories.groups[DEMO_CREATOR].story_ids
        elsewhere, here, silent, fine = ids[0], ids[1], ids[2], ids[3]
        manager = app.manager
        assert manager is not None
        first_folder = app.settings.download_dir
        # one story saved in the first folder, then the folder changes; one saved there
        for sid, folder in ((elsewhere, first_folder), (here, tmp_path / "second")):
            if folder != first_folder:
                folder.mkdir()
                app.settings = app.settings.with_download_dir(folder)
                manager.set_download_dir(folder)
            job = await manager.enqueue(screen.stories.stories[sid])
            await manager.wait_idle()
            assert str(manager.job(job.id).state) == "done"  # type: ignore[union-attr]
        await pilot.pause()
        broken = demo_server.scenario.story(silent)
        broken.media, broken.gears = "hevc_silent", []
        await look_up(pilot, app, "@" + DEMO_CREATOR)  # fresh links for the changed story
        await pilot.press("tab")
        for sid in (elsewhere, here, silent, fine):
            screen.stories.move_to(sid)
            await pilot.press("space")
        seen = len(notifications(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: any(m.startswith("queued 2 downloads")
                                            for m in notifications(app)[seen:]),
                         "the enqueue line")
        [line] = [m for m in notifications(app)[seen:] if m.startswith("queued 2 downloads")]
        assert f"; 1 copied from {first_folder} (hard link, sha256 verified);" in line, line
        assert line.endswith(")") and "; 1 already saved (" in line, line
        await wait_until(pilot, lambda: any("failed" in m and "saved and verified" in m
                                            for m in notifications(app)[seen:]),
                         "the batch summary")
        [summary] = [m for m in notifications(app)[seen:] if "saved and verified" in m]
        assert summary == "1 saved and verified, 1 failed: see the queue (3)", summary
        copied = [j for j in manager.jobs() if j.story.id == elsewhere
                  and j.reason.startswith("copied from")]
        assert len(copied) == 1 and copied[0].files[0].parent == tmp_path / "second"
        # the row of the copy: its report pane says what happened
        screen.queue.move_cursor(row=screen.queue.get_row_index(str(copied[0].id)))
        await pilot.press("3")
        await pilot.pause()
        assert f"result    copied from {first_folder} (hard link" in screen.report.text
