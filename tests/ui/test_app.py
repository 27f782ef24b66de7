"""The app driven by the Pilot against the real stand-in service over loopback."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
from textual.widgets import Tabs

from tests.plugins.ui import notifications, wait_until
from tikget_tui.clock import FakeClock
from tikget_tui.commands import app as app_command
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer, MediaCatalog
from tikget_tui.demo.scenario import (
    DEMO_CREATOR,
    DEMO_EXPIRING_STORY,
    DEMO_HOSTILE_CREATOR,
    DEMO_PRIVATE_CREATOR,
    default_scenario,
)
from tikget_tui.store import InstanceLock, JobState, Store
from tikget_tui.tiktok import TikTokClient
from tikget_tui.ui import keymap
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.help import HelpScreen
from tikget_tui.ui.screens.main import MainScreen
from tikget_tui.ui.widgets.queue_table import QueueTable
from tikget_tui.ui.widgets.stories_table import StoriesTable


def main_screen(app: TikGetApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


async def look_up(pilot, app: TikGetApp, text: str, *,  # type: ignore[no-untyped-def]
                  expect_lookup: bool = True) -> None:
    screen = main_screen(app)
    screen.input_pane.input.focus()
    before = screen.lookups_started
    await pilot.press(*text, "enter")
    await pilot.pause()
    if expect_lookup:
        await wait_until(pilot, lambda: screen.lookups_started > before, "the lookup to start")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def core_ready(pilot, app: TikGetApp) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: app.manager is not None, "the download manager to start")


async def test_lookup_queue_download_verify_report(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await core_ready(pilot, app)
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        screen = main_screen(app)
        table = screen.stories
        assert len(table.groups[DEMO_CREATOR].story_ids) == 7
        assert "7 active stories" in str(screen.input_pane.query_one("#input-status").render())

        # Tab from the input to pane 2; select the second story with space, download with d
        await pilot.press("tab")
        assert screen.active_pane == "stories" and app.focused is table
        story_id = table.groups[DEMO_CREATOR].story_ids[1]
        table.move_to(story_id)
        await pilot.press("space")
        assert table.selected == {story_id}
        await pilot.press("d")
        await wait_until(pilot, lambda: bool(app.manager and app.manager.jobs()), "a job")
        job_id = app.manager.jobs()[0].id  # type: ignore[union-attr]
        await wait_until(
            pilot, lambda: str(app.manager.job(job_id).state) == "done",  # type: ignore[union-attr]
            "the download to finish")
        await pilot.pause()
        queue = screen.queue
        assert queue.jobs[job_id].story.id == story_id
        assert str(queue.get_cell(str(job_id), "state")) == "done"

        # pane 3: the finished job under the cursor; pane 4 shows its report
        await pilot.press("3")
        await pilot.press("home")
        await wait_until(pilot, lambda: screen.report.report is not None, "the report")
        text = screen.report.text
        assert "verdict ✓ ok" in text
        for check in ("size", "probe", "codecs", "duration", "first_second", "last_second"):
            assert f" {check} " in text
        job = app.manager.job(job_id)  # type: ignore[union-attr]
        assert job is not None and job.final_path is not None and job.final_path.is_file()
        assert f"sha256    {job.sha256}" in text
        assert str(job.final_path) in text
        assert "saved context" in text and "@mika.travels" in text
        assert "1 saved and verified" in notifications(app)

        # verify again (v in the queue) runs the verifier on the same file
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "verdict ✓ ok" in screen.report.text
        await pilot.press("4")
        assert screen.active_pane == "report"


async def test_expired_story_cannot_be_queued_and_flips_while_listed(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await core_ready(pilot, app)
        await look_up(pilot, app, DEMO_CREATOR)
        table = main_screen(app).stories
        assert DEMO_EXPIRING_STORY in table.stories
        before = table.countdown_text(DEMO_EXPIRING_STORY)
        assert before == "! 0:01:30"  # urgent: marked with '!' (it shows without colour too)

        # the story expires while the list is on screen: the next tick says so
        demo_clock.advance(91)
        changed = table.tick()
        assert changed >= 1
        assert table.countdown_text(DEMO_EXPIRING_STORY) == "expired"
        assert str(table.get_cell(DEMO_EXPIRING_STORY, "left")).strip() == "expired"
        await pilot.pause()
        assert any(m.startswith("expired: @mika.travels") for m in notifications(app))

        # ... and it cannot be selected or queued
        await pilot.press("tab")
        table.move_to(DEMO_EXPIRING_STORY)
        await pilot.press("space")
        assert table.selected == set()
        await pilot.press("d")
        await pilot.pause()
        assert app.manager is not None and app.manager.jobs() == []
        assert "that story has expired and can no longer be saved" in notifications(app)

        # a tick with nothing new changes no cell
        assert table.tick() == 0


async def test_interval_ticks_the_countdown(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await look_up(pilot, app, DEMO_CREATOR)
        table = main_screen(app).stories
        demo_clock.advance(91)
        ticks = table.ticks
        await wait_until(pilot, lambda: table.ticks > ticks, "the 1 s interval to tick")
        assert table.countdown_text(DEMO_EXPIRING_STORY) == "expired"


async def test_private_unknown_and_empty_creators_explain_themselves(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, app, f"@{DEMO_PRIVATE_CREATOR} @no.such.person @quiet.creator")
        table = main_screen(app).stories
        private = table.groups[DEMO_PRIVATE_CREATOR]
        unknown = table.groups["no.such.person"]
        assert "quiet.creator" in table.groups, (list(table.groups), notifications(app))
        empty = table.groups["quiet.creator"]
        assert "private" in private.reason
        assert "does not exist" in unknown.reason
        assert "no active story" in empty.reason
        for key in (DEMO_PRIVATE_CREATOR, "no.such.person", "quiet.creator"):
            # the whole reason, read across the row (it starts in the first column)
            assert table.row_text(f"!{key}").replace("\n", " ") == table.groups[key].reason


async def test_hostile_text_is_shown_as_text(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await look_up(pilot, app, "@" + DEMO_HOSTILE_CREATOR)
        table = main_screen(app).stories
        group = table.groups[DEMO_HOSTILE_CREATOR]
        assert group.story_ids
        for sid in group.story_ids:
            caption = table.get_cell(sid, "caption")
            raw = table.stories[sid].caption
            assert "\x1b" not in caption.plain and "\u202e" not in caption.plain
            # markup-looking text stays literal
            if "[" in raw:
                assert "[" in caption.plain
        header = table.get_cell(f"@{DEMO_HOSTILE_CREATOR}", "caption").plain
        assert "\x1b" not in header


async def test_parse_error_is_one_line_in_the_input_pane(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await look_up(pilot, app, "https://example.com/not-tiktok", expect_lookup=False)
        status = main_screen(app).input_pane.query_one("#input-status")
        assert status.has_class("-error")
        text = str(status.render())
        assert text and "\n" not in text
        # the text stays to be fixed; the history recalls what was looked up
        assert main_screen(app).input_pane.input.value == "https://example.com/not-tiktok"
        main_screen(app).input_pane.input.value = ""
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await pilot.press("up")
        assert main_screen(app).input_pane.input.value == "@" + DEMO_CREATOR


async def test_help_lists_every_binding_and_every_binding_is_real(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    settings = dataclasses.replace(demo_settings, keymap={"download": "ctrl+d"})
    app = TikGetApp(settings, clock=FakeClock())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("tab")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        listed = {spec.id: keys for spec, keys in help_screen.rows}
        assert listed["download"] == ["ctrl+d"]
        owners = {"screen": screen, "stories": screen.stories, "queue": screen.queue,
                  "library": screen.library.table}
        for spec, keys in help_screen.rows:
            owner = owners[spec.scope]
            found = [b for b in owner._bindings.key_to_bindings.values() for b in b
                     if b.id == spec.id]
            assert found, f"help lists {spec.id} but no widget binds it"
            assert found[0].action == spec.action
            assert keys == keymap.keys_for(spec, settings.keymap)
        # every binding the footer can show (and every remappable one) has a help entry
        for owner in owners.values():
            for bindings in owner._bindings.key_to_bindings.values():
                for binding in bindings:
                    if binding.show or binding.id:
                        assert binding.id in listed, f"{binding.key} is not in the help"
        await pilot.press("escape")
        assert app.screen is screen

        # the remapped key works (and the old one no longer downloads)
        await core_ready(pilot, app)
        await look_up(pilot, app, DEMO_CREATOR)
        await pilot.press("tab")
        screen.stories.move_to(screen.stories.groups[DEMO_CREATOR].story_ids[-1])
        await pilot.press("d")
        await pilot.pause()
        assert app.manager is not None and app.manager.jobs() == []
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: len(app.manager.jobs()) == 1,  # type: ignore[union-attr]
                         "the remapped key to queue a download")


async def test_command_palette_runs_the_same_actions(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Folder")
        await pilot.pause(0.3)
        await pilot.press("enter")
        # the palette runs the same action as 'o': the folder modal; Esc keeps the folder
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FolderScreen",
                         "the folder screen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: any("download folder:" in m for m in notifications(app)),
                         "the folder notification")
        assert any(str(demo_settings.download_dir) in m for m in notifications(app))


async def test_panes_switch_and_layout_adapts(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        assert screen.query_one("#pane-bar", Tabs).display
        await pilot.press("tab")
        assert screen.active_pane == "stories" and isinstance(app.focused, StoriesTable)
        await pilot.press("3")
        assert screen.active_pane == "queue" and isinstance(app.focused, QueueTable)
        assert screen.query_one("#pane-queue").display
        assert not screen.query_one("#pane-stories").display
        assert screen.query_one("#pane-bar", Tabs).active == "tab-queue"
        await pilot.press("shift+tab")
        assert screen.active_pane == "stories"
        await pilot.press("1")
        assert screen.active_pane == "input"
        # in the input, digits are text (usernames have them); tab leaves it
        await pilot.press("2")
        assert screen.active_pane == "input" and screen.input_pane.input.value == "2"
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert screen.has_class("-wide") and screen.has_class("-tall")
        assert not screen.query_one("#pane-bar", Tabs).display
        for pane in ("input", "stories", "queue", "report"):
            assert screen.query_one(f"#pane-{pane}").display
            assert screen.query_one(f"#pane-{pane}").region.width > 0


async def test_a_wide_start_gets_its_tab_bar_when_the_terminal_narrows(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    """The tab bar is made when the layout first needs it (issue 15: not for a wide
    first frame); then it shows the pane in use, and a click on a tab switches."""
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        assert not screen.query("#pane-bar")
        await pilot.press("tab", "3")
        assert screen.active_pane == "queue"
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: bool(screen.query("#pane-bar")), "the tab bar")
        await pilot.pause()
        tabs = screen.query_one("#pane-bar", Tabs)
        assert tabs.display and tabs.active == "tab-queue"
        assert screen.query_one("#pane-queue").display
        await pilot.click("#tab-stories")
        assert screen.active_pane == "stories" and isinstance(app.focused, StoriesTable)
        assert tabs.active == "tab-stories"
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not tabs.display  # kept (hidden) for the next time it narrows
        await pilot.press("1")
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert len(screen.query("#pane-bar")) == 1 and tabs.display
        assert tabs.active == "tab-input"


async def test_restored_queue_resumes_on_start(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    async with TikTokClient(demo_settings, clock=demo_clock) as client:
        listing = await client.lookup_stories(DEMO_CREATOR)
    story = listing.stories[0]
    with Store.open(demo_settings.state_db) as store:
        store.add_job(story, variant="video", audio=False, note="from last time")
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await core_ready(pilot, app)
        queue = main_screen(app).queue
        await wait_until(pilot, lambda: len(queue.jobs) == 1, "the restored job in the queue")
        job_id = next(iter(queue.jobs))
        await wait_until(pilot, lambda: str(queue.jobs[job_id].state) == "done",
                         "the restored job to finish")
        assert queue.jobs[job_id].note == "from last time"


async def test_restored_jobs_from_an_old_origin_resume_and_are_never_queued_twice(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    demo_media: MediaCatalog,
) -> None:
    """The demo's port changes between runs: jobs restored from the last run name links on an
    origin the client now refuses. They look the story up again and finish; a cancelled job in
    the saved queue renders (it once crashed every start); looking the creator up again and
    pressing a adds no second row."""
    old = DemoServer(default_scenario(), clock=demo_clock, media=demo_media,
                     media_dir=demo_media.folder.parent)
    await old.start()
    try:
        old_settings = demo_settings.replace(service_origin=old.origin)
        async with TikTokClient(old_settings, clock=demo_clock) as client:
            listing = await client.lookup_stories(DEMO_CREATOR)
    finally:
        await old.stop()
    assert old.origin != demo_server.origin
    first, second = listing.stories[1], listing.stories[2]
    assert first.sources[0].url.startswith(old.origin)
    with Store.open(demo_settings.state_db) as store:
        store.add_job(first, variant="video", audio=False, note="from last time")
        cancelled = store.add_job(second, variant="video", audio=False)
        store.update_job(cancelled.id, state=JobState.CANCELLED, reason="cancelled")
    # the restored cancelled row stays in the queue (by default a start leaves it out)
    app = TikGetApp(demo_settings.replace(drop_finished_at_start=False), clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await core_ready(pilot, app)
        screen = main_screen(app)
        queue = screen.queue
        await wait_until(pilot, lambda: len(queue.jobs) == 2, "the restored jobs in the queue")
        assert str(queue.get_cell(str(cancelled.id), "state")) == "cancelled"
        restored = next(j for j in queue.jobs if j != cancelled.id)
        await wait_until(pilot, lambda: str(queue.jobs[restored].state) == "done",
                         "the restored job to finish")
        assert queue.jobs[restored].note == "from last time"
        assert queue.jobs[restored].story.sources[0].url.startswith(demo_server.origin)

        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await pilot.press("tab")
        screen.stories.move_to(first.id)
        await pilot.press("a")
        await wait_until(pilot, lambda: any("queued" in m for m in notifications(app)),
                         "the enqueue summary")
        await app.workers.wait_for_complete()
        assert app.manager is not None
        per_story = [j.story_id for j in app.manager.jobs()]
        assert len(per_story) == len(set(per_story)) == 7, per_story  # the cancelled one reused
        assert len(queue.order) == len(set(queue.order))
        # 7 stories: one was saved (restored), one cancelled (queued again), five new
        assert any(m.startswith("queued 6 downloads; 1 already saved") for m in
                   notifications(app)), notifications(app)


async def test_no_color_countdowns_mark_urgency_without_colour(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await look_up(pilot, app, DEMO_CREATOR)
        cell = main_screen(app).stories.get_cell(DEMO_EXPIRING_STORY, "left")
        # under 10 min: no colour, but a mark and reverse video that show without one
        assert cell.plain.strip().startswith("! ")
        assert cell.style.color is None and cell.style.reverse and cell.style.bold
        assert not any(span.style.color for span in cell.spans if hasattr(span.style, "color"))


async def test_colour_marks_urgent_countdowns(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await look_up(pilot, app, DEMO_CREATOR)
        table = main_screen(app).stories
        urgent = table.get_cell(DEMO_EXPIRING_STORY, "left")
        assert urgent.style and urgent.style.bold
        calm_id = table.groups[DEMO_CREATOR].story_ids[-1]
        assert not table.get_cell(calm_id, "left").style


def test_second_instance_gets_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tikget_tui.config import load

    settings = load()
    with InstanceLock(settings.data_dir):
        code = app_command.run(argparse.Namespace(demo=False, command=None), settings)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("tikget: tikget is already running")


async def test_theme_comes_from_the_config(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(dataclasses.replace(demo_settings, theme="nord"), clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
    odd = TikGetApp(dataclasses.replace(demo_settings, theme="no-such-theme",
                                        keymap={"frobnicate": "x"}), clock=FakeClock())
    async with odd.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        notices = notifications(odd)
        assert any(n.startswith("unknown theme 'no-such-theme'") for n in notices)
        assert any(n.startswith("unknown key binding 'frobnicate'") for n in notices)
