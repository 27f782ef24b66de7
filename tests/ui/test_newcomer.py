"""Small frictions a newcomer met (issue 26), each driven through the real app."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.command import CommandList, CommandPalette

from tests.plugins.ui import notifications, wait_until
from tests.ui.test_app import look_up
from tikget_tui.archive.records import ArchiveEntry, Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer, MediaCatalog
from tikget_tui.demo.scenario import (
    DEMO_CREATOR,
    DEMO_EMPTY_CREATOR,
    DEMO_PHOTO_CREATOR,
    DEMO_PRIVATE_CREATOR,
)
from tikget_tui.store import JobState, Store
from tikget_tui.tiktok import TikTokClient
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.help import HelpScreen


def option_texts(palette: CommandPalette) -> list[str]:
    options = palette.query_one(CommandList)
    return [str(getattr(option.prompt, "plain", option.prompt))
            for option in options._options]


async def test_palette_ranks_a_name_match_first_and_shows_keys(
    demo_server: DemoServer, demo_settings: Settings
) -> None:
    app = TikGetApp(demo_settings, clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"pause")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await wait_until(pilot, lambda: len(option_texts(palette)) >= 2, "the palette's hits")
        texts = option_texts(palette)
        # Pause (its name matches) above Watch (only its help says "paused account")
        assert texts[0].startswith("Pause"), texts
        assert "  p" in texts[0].splitlines()[0], texts[0]
        watch = next(t for t in texts if t.startswith("Watch"))
        assert "  w" in watch.splitlines()[0]
        # the same name in two panes says which pane each acts in (a tryout picked the
        # queue's Verify from the library)
        await pilot.press(*["backspace"] * 5, *"verify")
        await wait_until(pilot, lambda: sum(t.startswith("Verify")
                                            for t in option_texts(palette)) == 2, "two Verify")
        verifies = sorted(t.splitlines()[0] for t in option_texts(palette)
                          if t.startswith("Verify"))
        assert verifies == ["Verify  v · in the download queue", "Verify  v · in the library"]


def screen_text(app: TikGetApp) -> str:
    return "\n".join(line.text for line in app.screen._compositor.render_strips())


async def test_help_scrolls_to_its_last_line_and_says_how_to_close(
    demo_settings: Settings
) -> None:
    for size in ((80, 24), (120, 40)):
        app = TikGetApp(demo_settings, clock=FakeClock())
        async with app.run_test(size=size) as pilot:
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert "Esc closes" in screen_text(app)
            assert "e.g. download" not in screen_text(app)  # the list is longer than the screen
            await pilot.press("end")
            await pilot.pause()
            # the last line of the list is on screen, and so is how to close the screen
            assert "e.g. download" in screen_text(app), screen_text(app)
            assert "Esc closes" in screen_text(app)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


# -- 4. the queue: clear finished rows, drop earlier runs' at start, cancelled has no %, widths


async def restore_jobs_in_every_state(settings: Settings, clock: FakeClock) -> dict[str, int]:
    """A queue left by an earlier run: one job per state a person meets; state -> job id."""
    async with TikTokClient(settings, clock=clock) as client:
        stories = (await client.lookup_stories(DEMO_CREATOR)).stories
    states = [JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.PAUSED,
              JobState.EXPIRED]
    ids: dict[str, int] = {}
    with Store.open(settings.state_db) as store:
        for story, state in zip(stories, states, strict=False):
            job = store.add_job(story, variant="video")
            store.update_job(job.id, state=state, bytes_done=1_100_000, bytes_total=10_000_000)
            ids[str(state)] = job.id
    return ids


async def test_queue_clear_key_and_cancelled_rows(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    settings = demo_settings.replace(drop_finished_at_start=False)
    ids = await restore_jobs_in_every_state(settings, demo_clock)
    app = TikGetApp(settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: len(screen.queue.jobs) == 5, "the restored queue")
        queue = screen.queue
        # a cancelled row shows no progress (its partial file is gone); a paused one does
        assert queue.get_cell(str(ids["cancelled"]), "progress").plain == ""
        assert "11%" in queue.get_cell(str(ids["paused"]), "progress").plain
        # at 120x40 nothing downloads: speed and ETA give their width to the name
        assert queue._name_width >= 28, queue._name_width
        await pilot.press("tab", "tab", "c")
        await pilot.pause()
        assert set(queue.jobs) == {ids["failed"], ids["paused"]}
        assert queue.row_count == 2
        assert "cleared 3 finished row(s)" in notifications(app)[-1]
        assert app.manager is not None and app.manager.job(ids["done"]) is not None
        await pilot.press("c")
        await pilot.pause()
        assert "no done, cancelled or expired row" in notifications(app)[-1]
    # the store keeps the rows (the library reads a saved story's caption from its job)
    with Store.open(settings.state_db) as store:
        assert len(store.list_jobs()) == 5


async def test_queue_drops_earlier_runs_finished_rows_at_start(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    ids = await restore_jobs_in_every_state(demo_settings, demo_clock)
    assert demo_settings.drop_finished_at_start  # the default
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the queue to start")
        screen = app.main_screen
        assert screen is not None
        await pilot.pause()
        assert set(screen.queue.jobs) == {ids["failed"], ids["paused"]}


# -- 5. the library's cursor after Delete stays on the same position: the next row


async def test_library_cursor_after_delete_is_on_the_next_row(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    from tests.ui.test_library import open_library, save_all

    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await save_all(pilot, app, DEMO_CREATOR)
        screen = await open_library(pilot, app)
        table = screen.library.table
        table.focus()
        await pilot.press("home", "down", "down")
        assert table.cursor == 2
        # the note dialog (e) names the saved story
        item = table.current
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "NoteScreen", "the note")
        named = str(app.screen.query_one("#note-stories").visual)
        assert "@" + DEMO_CREATOR in named and item.caption[:20] in named, named
        await pilot.press("escape")
        following = table.items[3].key
        count = len(table.items)
        await pilot.press("delete", "y")
        await wait_until(pilot, lambda: len(table.items) == count - 1, "the entry gone")
        assert table.cursor == 2 and table.current.key == following
        # the last row deleted: the cursor stays on the new last row
        await pilot.press("end")
        await pilot.press("delete", "y")
        await wait_until(pilot, lambda: len(table.items) == count - 2, "the last entry gone")
        assert table.cursor == len(table.items) - 1


# -- 6. the note dialog names the story (creator, caption, posted)


async def test_note_dialog_names_the_stories(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    from tikget_tui.ui.screens.note import NoteScreen

    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        assert screen is not None
        await look_up(pilot, app, "@" + DEMO_CREATOR)
        await pilot.press("tab")
        ids = screen.stories.groups[DEMO_CREATOR].story_ids
        story = screen.stories.stories[ids[1]]
        screen.stories.move_to(ids[1])
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteScreen), "the note dialog")
        named = str(app.screen.query_one("#note-stories").visual)
        assert "@" + DEMO_CREATOR in named
        assert story.caption[:20] in named
        assert "posted " + story.created_at.strftime("%Y-%m-%d %H:%M") in named
        await pilot.press("escape")
        # several selected: each named (up to three), the rest counted
        screen.stories.move_to("@" + DEMO_CREATOR)
        await pilot.press("space", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteScreen), "the note dialog")
        named = str(app.screen.query_one("#note-stories").visual)
        assert named.count("@" + DEMO_CREATOR) == 3
        assert f"and {len(ids) - 3} more" in named


# -- 7. d on a row that cannot be downloaded says why


async def test_download_on_a_row_without_stories_says_why(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        assert screen is not None
        await pilot.press("tab", "d")  # nothing looked up yet
        assert "look up a @user first" in notifications(app)[-1]
        screen.input_pane.input.focus()
        await pilot.press(*f"@{DEMO_PRIVATE_CREATOR} @no.such.person @{DEMO_EMPTY_CREATOR}",
                          "enter")
        table = screen.stories
        await wait_until(pilot, lambda: all(
            g in table.groups and (table.groups[g].refused or table.groups[g].creator)
            for g in (DEMO_PRIVATE_CREATOR, "no.such.person", DEMO_EMPTY_CREATOR)),
            "the three look-ups")
        await app.workers.wait_for_complete()
        await pilot.press("tab")
        said = {}
        for name in (DEMO_PRIVATE_CREATOR, "no.such.person", DEMO_EMPTY_CREATOR):
            table.move_to("@" + name)
            for key in ("d", "a", "space"):
                await pilot.press(key)
                await pilot.pause()
                message = notifications(app)[-1]
                assert "look up a @user first" not in message, (name, key, message)
                assert f"@{name}" in message, (name, key, message)
                said[(name, key)] = message
        assert "private" in said[(DEMO_PRIVATE_CREATOR, "d")], said
        assert "no active story" in said[(DEMO_EMPTY_CREATOR, "d")], said
        assert said[("no.such.person", "d")].startswith(
            "nothing to download from @no.such.person: ")


# -- 8. several look-ups at once: one summary


async def test_several_lookups_end_with_one_summary(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        assert screen is not None
        await wait_until(pilot, lambda: app.manager is not None, "the queue")
        names = (DEMO_CREATOR, DEMO_PRIVATE_CREATOR, "no.such.person", DEMO_EMPTY_CREATOR,
                 DEMO_PHOTO_CREATOR)
        screen.input_pane.input.focus()
        await pilot.press(*" ".join("@" + n for n in names), "enter")
        await wait_until(pilot, lambda: screen.input_pane.status_text.startswith("5 looked up"),
                         "the summary")
        await app.workers.wait_for_complete()
        await pilot.pause()
        groups = screen.stories.groups
        stories = len(groups[DEMO_CREATOR].story_ids) + len(groups[DEMO_PHOTO_CREATOR].story_ids)
        assert screen.input_pane.status_text == (
            f"5 looked up: 2 with {stories} stories, 1 with none, 1 private, 1 unknown")
        # one look-up alone still says its own result
        screen.input_pane.input.focus()
        await pilot.press(*("@" + DEMO_CREATOR), "enter")
        await wait_until(pilot, lambda: "7 active stories" in screen.input_pane.status_text,
                         "the single result")
        # words that are neither links nor @handles are said again in the last word (the
        # summary once replaced the line that said so: a new-user tryout lost 'baz qux')
        screen.input_pane.input.focus()
        await pilot.press(*f"@{DEMO_EMPTY_CREATOR} baz qux", "enter")
        await wait_until(pilot, lambda: screen.input_pane.status_text.startswith("1 looked up"),
                         "the summary with the note")
        assert screen.input_pane.status_text.endswith(
            "ignored 2 words that are not links or @handles ('baz', 'qux'); "
            "write @name to look one up"), screen.input_pane.status_text


# -- 9. after a restart a watched creator shows its last known stories at once


async def test_watched_creator_shows_its_last_known_stories_at_start(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    utc_local_time: None,
) -> None:
    from datetime import timedelta

    from tests.ui.test_watch_pane import make_app

    async with TikTokClient(demo_settings, clock=demo_clock) as client:
        stories = (await client.lookup_stories(DEMO_PHOTO_CREATOR)).stories
    assert len(stories) > 1
    now = demo_clock.now()
    with Store.open(demo_settings.state_db) as store:
        # what the last run's polls queued and saved, queued newest first (expiring-first
        # order can do that): shown as a listing has them, oldest post first
        for story in reversed(stories):
            job = store.add_job(story, variant="video")
            store.update_job(job.id, state=JobState.DONE)
        store.watch_add("@" + DEMO_PHOTO_CREATOR)
        store.watch_update(DEMO_PHOTO_CREATOR, last_poll_at=now - timedelta(hours=3),
                           next_poll_at=now + timedelta(hours=1),
                           last_result=f"{len(stories)} active stories, 0 new queued")
    app = make_app(demo_settings, demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        assert screen is not None
        table = screen.stories
        await wait_until(pilot, lambda: DEMO_PHOTO_CREATOR in table.watching, "the watch list")
        await pilot.pause()
        group = table.groups[DEMO_PHOTO_CREATOR]
        assert group.story_ids == [s.id for s in stories]  # before any poll
        header = table.header_text(DEMO_PHOTO_CREATOR)
        n = len(stories)
        assert f"{n} {'story' if n == 1 else 'stories'} as listed 09:00, before this start" \
            in header, header
        assert table.row_text(stories[0].id)  # a real row, with its countdown
        # the next poll lists them afresh: the mark goes
        assert app.watcher is not None
        await app.watcher.poll(DEMO_PHOTO_CREATOR)
        await wait_until(pilot, lambda: "before this start" not in
                         table.header_text(DEMO_PHOTO_CREATOR), "the fresh listing")


# -- 10. the library filter matches without accents and case


async def test_library_filter_ignores_accents_and_case(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    from datetime import timedelta

    from tests.ui.test_library import open_library
    from tikget_tui.models import Creator, Story

    now = demo_clock.now()
    captions = {"7440000000000000101": "Temple walk in Kyōto",
                "7440000000000000102": "Kaffee in der Hauptstraße",
                "7440000000000000103": "Tram 28 again"}
    with Store.open(demo_settings.state_db) as store:
        for i, (sid, caption) in enumerate(captions.items()):
            story = Story(id=sid, creator=Creator("élodie.voyage", "Élodie"),
                          created_at=now - timedelta(hours=5), caption=caption,
                          expires_at=now + timedelta(hours=19))
            path = demo_settings.download_dir / f"{sid}.mp4"
            job = store.add_job(story, variant="video", state=JobState.DONE)
            Records(store).put(ArchiveEntry(story_id=sid, variant="video", path=path, size=1,
                                           verdict="ok", saved_at=now - timedelta(hours=i),
                                           creator="élodie.voyage", job_id=job.id))
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the queue")
        screen = await open_library(pilot, app)
        pane = screen.library

        async def shown(text: str) -> set[str]:
            pane.filter.value = ""
            pane.filter.focus()
            await pilot.press(*text)
            await pilot.pause()
            return {item.story_id for item in pane.table.items}

        assert await shown("kyoto") == {"7440000000000000101"}
        assert await shown("KYOTO") == {"7440000000000000101"}
        assert await shown("strasse") == {"7440000000000000102"}
        assert await shown("@elodie") == set(captions)
        assert await shown("kyōto") == {"7440000000000000101"}


# -- 11. wide characters in a creator header: no blank cell inside a word


async def test_creator_header_keeps_wide_characters_together(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    for size in ((80, 24), (120, 40)):
        app = TikGetApp(demo_settings, clock=demo_clock)
        async with app.run_test(size=size) as pilot:
            screen = app.main_screen
            assert screen is not None
            await look_up(pilot, app, "@" + DEMO_CREATOR)
            nickname = screen.stories.groups[DEMO_CREATOR].creator.nickname
            assert "旅行日記" in nickname
            shown = screen_text(app)
            header = next(line for line in shown.splitlines() if "Mika" in line)
            assert "旅行日記" in header, (size, header)


# -- 13. a demo creator with large stories served slowly


async def test_demo_has_large_slow_stories_named_in_the_hint(
    demo_media: MediaCatalog, demo_clock: FakeClock, tmp_path: Path
) -> None:
    from tikget_tui.config import load
    from tikget_tui.demo.media import LARGE_BY_NAME
    from tikget_tui.demo.scenario import DEMO_BIG_CREATOR, people_scenario
    from tikget_tui.verify import Expected, verify

    # the tests' own media never includes the large file: it is made only for a scenario
    # that lists it, here in a copy of the tests' catalog folder
    assert not set(LARGE_BY_NAME) & set(demo_media)
    scenario = people_scenario()
    creator = scenario.creator(DEMO_BIG_CREATOR)
    assert creator is not None and len(creator.stories) >= 3
    rates = {s.media_faults.bytes_per_second for s in creator.stories if s.media_faults}
    assert len(rates) == 1 and 1e6 <= rates.pop() <= 10e6  # a few MB/s per download
    folder = tmp_path / "media"
    folder.mkdir()
    for media in demo_media.values():
        (folder / media.path.name).symlink_to(media.path)
    catalog = MediaCatalog(folder, {n: dataclasses.replace(m, path=folder / m.path.name)
                                    for n, m in demo_media.items()})
    server = DemoServer(scenario, clock=demo_clock, media=catalog)
    await server.start()
    try:
        settings = load().replace(service_origin=server.origin,
                                  download_dir=tmp_path / "downloads", api_min_interval=0.0)
        async with TikTokClient(settings, clock=demo_clock) as client:
            listing = await client.lookup_stories(DEMO_BIG_CREATOR)
        sizes = [s.sources[0].data_size or 0 for s in listing.stories]
        assert len(sizes) == 3 and min(sizes) >= 64 * 2**20
        assert 200 * 2**20 <= sum(sizes) <= 600 * 2**20  # a few hundred MB in all
        # the large file is a valid, verifiable MP4 (a clip and a trailing free box)
        assert server.media is not None
        large = server.media[creator.stories[0].media]
        assert large.path.stat().st_size == sizes[0]
        report = await verify(large.path, Expected(kind="video", duration=large.duration))
        assert str(report.verdict) == "ok", report.summary

        # the app's demo hint names it
        app = TikGetApp(settings, clock=demo_clock, demo_origin=server.origin)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.main_screen is not None
            assert "@" + DEMO_BIG_CREATOR in app.main_screen.input_pane.status_text
    finally:
        await server.stop()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"`@{DEMO_BIG_CREATOR}`" in readme


# -- 3 (hints only): a hint names keys that work where it is read


async def test_library_hint_names_keys_that_work_from_the_filter(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    from datetime import timedelta

    from tests.ui.test_library import open_library
    from tikget_tui.models import Creator, Story

    now = demo_clock.now()
    with Store.open(demo_settings.state_db) as store:
        story = Story(id="7440000000000000201", creator=Creator("ana", "Ana"),
                      created_at=now - timedelta(hours=2), expires_at=now + timedelta(hours=2),
                      caption="one saved story")
        job = store.add_job(story, variant="video", state=JobState.DONE)
        Records(store).put(ArchiveEntry(story_id=story.id, variant="video",
                                       path=demo_settings.download_dir / "a.mp4", size=1,
                                       verdict="ok", saved_at=now, creator="ana",
                                       job_id=job.id))
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the queue")
        screen = await open_library(pilot, app)
        pane = screen.library
        pane.filter.focus()
        await pilot.pause()
        hint = pane.status_text
        assert "? lists" not in hint  # ? is text in the filter
        assert "F1 lists the keys" in hint and "(s in the list)" in hint
        await pilot.press("f1")  # from inside the filter
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert pane.filter.value == ""


async def test_a_cleared_story_asked_for_again_is_back_in_the_queue_as_done(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock
) -> None:
    from tests.ui.test_library import save_all

    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await save_all(pilot, app, DEMO_PHOTO_CREATOR)
        assert app.manager is not None
        saved = {j.id for j in app.manager.jobs() if str(j.state) == "done"}
        assert saved
        screen.action_pane("queue")
        await pilot.press("c")
        await pilot.pause()
        assert screen.queue.jobs == {} and app.manager.jobs() == []
        screen.action_pane("stories")
        first = screen.stories.groups[DEMO_PHOTO_CREATOR].story_ids[0]
        screen.stories.move_to(first)
        await pilot.press("d")
        await wait_until(pilot, lambda: "already saved" in notifications(app)[-1],
                         "the already-saved answer")
        [job] = app.manager.jobs()
        assert job.id in saved and str(job.state) == "done"
        assert set(screen.queue.order) == {job.id} and set(screen.queue.jobs) == {job.id}
