"""The library pane (5): every saved item, filtered as you type, sorted, and each row
action (Enter, v, c, o, e, r, Delete) driven through the Pilot against the stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.ui import notifications, wait_until
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import DemoServer
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_PHOTO_CREATOR
from tikget_tui.ui.app import TikGetApp
from tikget_tui.ui.screens.main import MainScreen

pytestmark = pytest.mark.usefixtures("utc_local_time", "halfcell_pictures")


@pytest.fixture
def halfcell_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKGET_IMAGES", "halfcell")
    monkeypatch.delenv("NO_COLOR", raising=False)


def main_screen(app: TikGetApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None
    return screen


def done_jobs(app: TikGetApp) -> list[Any]:
    assert app.manager is not None
    return [j for j in app.manager.jobs() if str(j.state) in ("done", "failed")]


async def save_all(pilot: Any, app: TikGetApp, *creators: str) -> MainScreen:
    """Look up each creator and save all their stories (a), as a person would."""
    await wait_until(pilot, lambda: app.manager is not None, "the download manager")
    screen = main_screen(app)
    for creator in creators:
        screen.input_pane.input.focus()
        screen.input_pane.input.value = "@" + creator
        await pilot.press("enter")
        await wait_until(pilot, lambda c=creator: c in screen.stories.groups,  # type: ignore[misc]
                         "the stories")
        screen.action_pane("stories")
        screen.stories.move_to(screen.stories.groups[creator].story_ids[0])
        await pilot.press("a")
        want = len(screen.stories.groups[creator].story_ids)

        def saved(c: str = creator, want: int = want) -> bool:
            return len([j for j in done_jobs(app) if j.story.creator.unique_id == c]) >= want

        await wait_until(pilot, saved, f"{creator}'s stories saved")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def open_library(pilot: Any, app: TikGetApp) -> MainScreen:
    screen = main_screen(app)
    screen.action_pane("stories")
    loads = screen.library.loads
    await pilot.press("5")
    await wait_until(pilot, lambda: screen.library.loads > loads, "the library to load")
    await pilot.pause()
    return screen


async def test_library_lists_everything_filters_as_you_type_and_enter_shows_the_report(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await save_all(pilot, app, DEMO_CREATOR, DEMO_PHOTO_CREATOR)
        screen = await open_library(pilot, app)
        assert app.focused is screen.library.filter
        table = screen.library.table
        saved = len(done_jobs(app))
        assert len(table.items) == saved >= 8
        assert {i.creator for i in table.items} == {DEMO_CREATOR, DEMO_PHOTO_CREATOR}
        await pilot.press(*"tram")
        [item] = table.items
        assert "Tram 28" in item.caption
        assert screen.library.status_text.startswith(f"1 of {saved} saved")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.active_pane == "report", "the report pane")
        assert app.focused is screen.report
        assert "Tram 28" in screen.report.text
        assert "verdict ✓" in screen.report.text
        assert "sound     original sound" in screen.report.text, screen.report.text
        # the report shows the first and the last frame, labelled with their timestamps
        await wait_until(pilot, lambda: len(screen.report.pictures) == 2, "the two frames")
        first, last = screen.report.pictures
        assert first == "first 0.00 s" and last.startswith("last ")


async def test_sort_keys_and_every_row_action(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await save_all(pilot, app, DEMO_CREATOR)
        screen = await open_library(pilot, app)
        pane, table = screen.library, screen.library.table
        await pilot.press("down")  # from the filter line to the list
        assert app.focused is table
        # s: saved → posted → creator → size
        sizes = [i.size for i in table.items]
        for want in ("posted", "creator", "size"):
            await pilot.press("s")
            assert pane.sort_key == want and f"sorted by {want}" in pane.status_text
        assert [i.size for i in table.items] == sorted(sizes, reverse=True)
        await pilot.press("s", "home")
        assert pane.sort_key == "saved"
        await pilot.press(*("down" for _ in range(2)))
        item = table.current
        assert item is not None and table.cursor == 2

        # c: the path to the clipboard
        await pilot.press("c")
        assert app.clipboard == str(item.path)
        assert notifications(app)[-1] == f"path copied to the clipboard: {item.path}"

        # o: over SSH with no display the path is shown and why; with one, xdg-open
        for name in ("DISPLAY", "WAYLAND_DISPLAY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")
        monkeypatch.setattr("sys.platform", "linux")
        await pilot.press("o")
        line = notifications(app)[-1]
        assert line.startswith(f"{item.path}: not opened") and "SSH" in line
        opened: list[Path] = []

        async def fake_open(path: Path, platform: str) -> None:
            opened.append(path)

        monkeypatch.setattr("tikget_tui.archive.library.open_in_viewer", fake_open)
        monkeypatch.setenv("DISPLAY", ":0")
        await pilot.press("o")
        await app.workers.wait_for_complete()
        assert opened == [item.path]
        assert notifications(app)[-1] == f"opened {item.path.name} with the system viewer"
        assert app.settings.download_dir.is_dir()  # o here never opened the folder screen
        assert app.screen is screen

        # e: the note, in the sidecar and the archive
        await pilot.press("e")
        await pilot.press(*"for the book", "enter")
        await wait_until(pilot, lambda: "note saved in" in notifications(app)[-1], "the note")
        side = next(item.path.parent.glob(item.path.stem + ".info.json"))
        assert json.loads(side.read_text())["note"] == "for the book"
        await wait_until(pilot, lambda: any(i.note == "for the book" for i in table.items),
                         "the list with the note")
        assert app.manager is not None
        assert Records(app.manager.store).get(item.story_id, item.variant).note == "for the book"

        # r on a good file: nothing to do
        await pilot.press("r")
        assert "nothing to download again" in notifications(app)[-1]

        # v: verify again; the damaged file is `changed` (both sizes) and the list says so
        data = item.path.read_bytes()
        item.path.write_bytes(data[: len(data) // 3])
        await pilot.press("v")
        await wait_until(pilot, lambda: "again: changed since it was saved" in
                         notifications(app)[-1], "re-verify")
        assert f"{len(data) // 3} bytes, {len(data)} were saved" in notifications(app)[-1]
        await wait_until(pilot, lambda: any(i.audit == "changed" for i in table.items),
                         "the changed row")
        pane.filter.value = "changed"
        await pilot.pause()
        [failing] = table.items
        assert failing.key == item.key

        # r on a failing file while the story is active: saved again, verified
        table.focus()
        await pilot.press("r")
        await wait_until(pilot, lambda: any("again (see the queue" in m
                                            for m in notifications(app)),
                         "the download again")
        await wait_until(pilot, lambda: any(
            str(j.state) == "done" and j.story.id == item.story_id and j.id != item.job_id
            for j in app.manager.jobs()), "the new copy")  # type: ignore[union-attr]
        await app.workers.wait_for_complete()
        pane.filter.value = ""
        await wait_until(pilot, lambda: any(i.story_id == item.story_id and i.verdict == "ok"
                                            for i in pane.all_items), "the good copy listed")
        # under its own name, in place of the changed file (the same row, now fine)
        assert [(i.path, i.audit) for i in pane.all_items if i.story_id == item.story_id] \
            == [(item.path, "")]
        assert item.path.stat().st_size > len(data) // 3  # (retagged with the new note)

        # Delete: asks, naming the files; n keeps them, y deletes files and entry
        await pilot.press("home")
        target = table.current
        assert target is not None
        files = [p for p in (*target.all_files,
                             target.path.with_name(target.path.stem + ".info.json"))
                 if p.exists()]
        await pilot.press("delete")
        assert type(app.screen).__name__ == "ConfirmScreen"
        body = str(app.screen.query_one("#confirm-body").visual)
        assert all(str(p) in body for p in files)
        await pilot.press("n")
        assert "nothing deleted" in notifications(app)[-3:]
        assert all(p.exists() for p in files)
        before = len(pane.all_items)
        await pilot.press("delete", "y")
        await wait_until(pilot, lambda: len(pane.all_items) == before - 1, "the entry gone")
        assert not any(p.exists() for p in files)
        assert any(m.startswith("deleted ") for m in notifications(app)[-3:])

        # r after the story expired: said so
        demo_clock.advance(3 * 86400)
        table.focus()
        await pilot.press("home")
        broken = table.current
        assert broken is not None
        broken.path.unlink()
        seen = len(notifications(app))  # (the countdowns' expiry notices may follow it)
        await pilot.press("r")
        await wait_until(pilot, lambda: any("the story expired on" in m
                                            for m in notifications(app)[seen:]), "expired")

async def test_nothing_saved_yet_and_keys_on_an_empty_list_say_so(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the download manager")
        screen = await open_library(pilot, app)
        assert screen.library.status_text.startswith("nothing saved yet")
        await pilot.press("down", "enter", "v", "delete")
        assert "nothing saved here yet" in notifications(app)[-1]
        assert app.screen is screen


def run_audit(settings: Settings) -> tuple[int, str]:
    """``tikget audit`` as from another terminal while the app runs."""
    import argparse
    import io

    from tikget_tui.commands import audit as audit_command

    out = io.StringIO()
    rc = audit_command.run(argparse.Namespace(json=False, requeue=False), settings, out=out,
                           err=io.StringIO())
    return rc, out.getvalue()


async def back_to_library(pilot: Any, screen: MainScreen) -> None:
    """Leave the library for the queue and come back (it re-checks what it shows)."""
    screen.action_pane("queue")
    await pilot.pause()
    loads = screen.library.loads
    screen.action_pane("library")
    await wait_until(pilot, lambda: screen.library.loads > loads, "the library re-checked")
    await pilot.pause()


async def test_v_keeps_the_evidence_the_audit_and_the_library_agree(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
) -> None:
    """Issue 25's scenario: save @mika.travels, append 8 bytes to an .mp4, tikget audit,
    v in the library. After v the row, the message, the report pane and the queue say
    `changed` with both sizes; the sidecar is byte for byte what the save wrote and the
    audit still says `changed`. Then the file is deleted while the pane is open: coming
    back shows it missing, and v says missing everywhere (never the stored ✓ ok)."""
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await save_all(pilot, app, DEMO_CREATOR)
        screen = await open_library(pilot, app)
        pane, table = screen.library, screen.library.table
        item = next(i for i in table.items if i.path.suffix == ".mp4")
        side = item.path.with_name(item.path.stem + ".info.json")
        side_bytes = side.read_bytes()
        size = item.path.stat().st_size
        rc, out = run_audit(app.settings)
        assert rc == 0 and out.strip().endswith("ok"), out
        with item.path.open("ab") as f:
            f.write(b"\0" * 8)

        rc, out = run_audit(app.settings)
        assert rc == 1 and f"{size + 8} bytes, {size} were saved" in out, out
        await back_to_library(pilot, screen)
        row = next(i for i in table.items if i.key == item.key)
        assert row.audit == "changed"
        pane.filter.value = "changed"
        await pilot.pause()
        assert [i.key for i in table.items] == [item.key]

        table.focus()
        await pilot.press("v")
        await wait_until(pilot, lambda: "again: changed since it was saved" in
                         notifications(app)[-1], "verify again")
        assert f"{size + 8} bytes, {size} were saved" in notifications(app)[-1]
        await app.workers.wait_for_complete()
        await pilot.pause()
        report = screen.report.text
        assert "verdict ✗ fail: changed:" in report, report
        assert f"{size + 8} bytes, {size} were saved" in report
        assert app.manager is not None
        assert item.job_id is not None
        job = app.manager.job(item.job_id)
        assert job is not None and str(job.state) == "failed"
        assert str(screen.queue.get_cell(str(job.id), "progress")) == "changed"
        assert side.read_bytes() == side_bytes  # byte for byte what the save wrote
        rc, out = run_audit(app.settings)
        assert rc == 1 and f"{size + 8} bytes, {size} were saved" in out, out
        assert "1 changed" in out

        # deleted while the pane is open: missing once the pane is shown again
        item.path.unlink()
        pane.filter.value = ""
        await back_to_library(pilot, screen)
        pane.filter.value = "missing"
        await pilot.pause()
        assert [i.key for i in table.items] == [item.key]
        table.focus()
        await pilot.press("v")
        await wait_until(pilot, lambda: "again: missing: " in notifications(app)[-1],
                         "verify again (missing)")
        assert f"{item.path.name} is gone from {item.path.parent}" in notifications(app)[-1]
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "verdict ✗ fail: missing:" in screen.report.text, screen.report.text
        assert "✓ ok" not in screen.report.text.splitlines()[1]
        assert str(screen.queue.get_cell(str(job.id), "progress")) == "missing"
        assert side.read_bytes() == side_bytes

        # edited in place (same size: no stat can tell): what the audit found is shown
        other = next(i for i in pane.all_items if i.path.suffix == ".mp4" and i is not item
                     and i.key != item.key)
        data = bytearray(other.path.read_bytes())
        data[-100:-90] = bytes(b ^ 0xFF for b in data[-100:-90])
        other.path.write_bytes(bytes(data))
        await back_to_library(pilot, screen)
        assert next(i for i in pane.all_items if i.key == other.key).audit == ""
        rc, out = run_audit(app.settings)
        assert rc == 1 and "no longer matches its saved sha256" in out, out
        await back_to_library(pilot, screen)
        pane.filter.value = "changed"
        await pilot.pause()
        assert [i.key for i in table.items] == [other.key]
        assert "changed" in table.render_line(1).text


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_copies_in_two_folders_are_told_apart(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock, tmp_path: Path,
    size: tuple[int, int],
) -> None:
    """One story saved into two folders: two rows that say which folder (a column in the
    wide layout; at 80x24 a ⧉ before the caption), and the report lists both folders."""
    app = TikGetApp(demo_settings, clock=demo_clock)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.manager is not None, "the download manager")
        manager = app.manager
        assert manager is not None
        listing = await (await app.ready_client()).lookup_stories(DEMO_CREATOR)
        story = listing.stories[0]
        other = tmp_path / "zine"
        other.mkdir()
        for folder in (None, other):
            await manager.enqueue(story, directory=folder)
            await manager.wait_idle()
        single = listing.stories[1]
        await manager.enqueue(single)
        await manager.wait_idle()
        screen = await open_library(pilot, app)
        table = screen.library.table
        copies = [i for i in table.items if i.story_id == story.id]
        assert len(copies) == 2 and len(table.items) == 3
        assert {i.folder for i in copies} == {str(app.settings.download_dir), str(other)}
        assert next(i for i in table.items if i.story_id == single.id).folder == ""
        header = table.render_line(0).text
        lines = {table.items[y - 1].key: table.render_line(y).text for y in (1, 2, 3)}
        if size == (120, 40):
            assert "folder" in header
            assert "zine" in lines[next(i.key for i in copies if i.path.parent == other)]
            assert app.settings.download_dir.name[:11] in \
                lines[next(i.key for i in copies if i.path.parent != other)]
            assert "⧉" not in "".join(lines.values())
        else:
            assert "folder" not in header
            assert all("⧉" in lines[i.key] for i in copies)
            assert "⧉" not in lines[next(i.key for i in table.items if i.story_id == single.id)]
        # Enter on the copy in the second folder: the report names both folders
        table.cursor = table.items.index(next(i for i in copies if i.path.parent == other))
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "copies" in screen.report.text, "the report")
        report = screen.report.text
        assert "copies    2 folders:" in report
        assert f"{other} (this copy)" in report
        assert f"{app.settings.download_dir}\n" in report or \
            report.rstrip().endswith(str(app.settings.download_dir))
