"""The library's core: one query lists every saved copy; filter words; sort orders;
the note of a saved copy changed in its sidecar and the archive together; delete."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tikget_tui.archive import library, sidecar
from tikget_tui.archive.records import ArchiveEntry, CopyCheck, Records
from tikget_tui.models import MUSIC_REMINDER, Creator, Kind, Music, Story, is_track, sound_line
from tikget_tui.store import JobState, Store

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "state.db")
    yield s  # type: ignore[misc]
    s.close()


def save(store: Store, folder: Path, sid: str, creator: str, caption: str, *,
         saved: datetime, posted: datetime, size: int = 100, verdict: str = "ok",
         kind: Kind = Kind.VIDEO, music: Music | None = None, write: bool = True) -> Path:
    story = Story(id=sid, creator=Creator(unique_id=creator, nickname=creator.title()),
                  created_at=posted, expires_at=posted + timedelta(hours=24),
                  caption=caption, kind=kind, music=music)
    variant = "photo" if kind == Kind.PHOTO else "video"
    job = store.add_job(story, variant=variant, audio=False, note="", state=JobState.DONE,
                        directory=folder)
    path = folder / f"{creator}-{sid}.mp4"
    store.update_job(job.id, final_path=path, files=(path,), stem=path.stem)
    if write:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        sidecar.write(sidecar.sidecar_path(folder, path.stem), sidecar.build(
            story, files=[{"name": path.name}], note="", saved_at=saved, variant=variant))
    Records(store).put(ArchiveEntry(story_id=sid, variant=variant, path=path, size=size,
                                   verdict=verdict, saved_at=saved, creator=creator,
                                   job_id=job.id))
    return path


@pytest.fixture
def archive(store: Store, tmp_path: Path) -> Store:
    d = tmp_path / "dl"
    save(store, d, "1", "mika.travels", "Tram 28, every seat taken #lisboa",
         saved=NOW - timedelta(hours=1), posted=NOW - timedelta(hours=5), size=300)
    save(store, d, "2", "studio.photos", "Contact sheet #12", kind=Kind.PHOTO,
         saved=NOW - timedelta(days=1), posted=datetime(2026, 11, 28, 9, tzinfo=UTC),
         size=900, verdict="fail",
         music=Music(title="Guitarra", author="Ana", album="Fados", original=False))
    save(store, d, "3", "amy", "Sunset", saved=NOW - timedelta(days=3),
         posted=NOW - timedelta(days=3), size=50, write=False)
    return store


def test_one_query_lists_every_copy_newest_first_with_missing_files_marked(
        archive: Store) -> None:
    items = library.load(archive)
    assert [i.story_id for i in items] == ["1", "2", "3"]
    assert [i.audit for i in items] == ["", "", "missing"]
    first = items[0]
    assert (first.creator, first.kind, first.size) == ("mika.travels", "video", 300)
    assert first.posted_at == NOW - timedelta(hours=5)
    assert items[1].sound == "track: Guitarra — Ana (Fados)"
    assert is_track(items[1].story.music if items[1].story else None)


@pytest.mark.parametrize(("text", "ids"), [
    ("", ["1", "2", "3"]),
    ("tram", ["1"]),
    ("TRAM 28", ["1"]),
    ("#lisboa", ["1"]),
    ("@studio", ["2"]),
    ("fail", ["2"]),
    ("ok", ["1", "3"]),
    ("missing", ["3"]),
    ("today", ["1"]),
    ("yesterday", ["2"]),
    ("nov 28", ["2"]),
    ("28 nov", ["2"]),
    ("november 28 contact", ["2"]),
    ("tram fail", []),
    ("nothing-like-this", []),
])
def test_filter_words(archive: Store, text: str, ids: list[str]) -> None:
    items = library.load(archive)
    assert [i.story_id for i in library.view(items, text, "saved", NOW)] == ids


def test_sort_orders(archive: Store) -> None:
    items = library.load(archive)
    order = {key: [i.story_id for i in library.view(items, "", key, NOW)]
             for key in library.SORT_KEYS}
    assert order == {"saved": ["1", "2", "3"], "posted": ["1", "2", "3"],
                     "creator": ["3", "1", "2"], "size": ["2", "1", "3"]}
    assert library.next_sort("size") == "saved"


def test_a_note_changes_in_the_sidecar_and_the_archive_or_in_neither(
        archive: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    item = library.load(archive)[0]
    side = item.path.parent / (item.path.stem + ".info.json")
    assert library.set_note(archive, item, "for the book") is True
    assert json.loads(side.read_text())["note"] == "for the book"
    assert library.load(archive)[0].note == "for the book"
    assert library.view(library.load(archive), "book", "saved", NOW)[0].story_id == "1"

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Records, "set_note", broken)
    with pytest.raises(OSError):
        library.set_note(archive, library.load(archive)[0], "other")
    assert json.loads(side.read_text())["note"] == "for the book"  # put back


def test_delete_removes_the_files_the_sidecar_and_the_entry(archive: Store) -> None:
    item = library.load(archive)[0]
    files = library.files_of(archive, item)
    assert [p.name for p in files] == [item.path.name, item.path.stem + ".info.json"]
    assert library.delete(archive, item) == files
    assert not any(p.exists() for p in files)
    assert [i.story_id for i in library.load(archive)] == ["2", "3"]


def test_where_a_file_can_be_opened() -> None:
    assert library.can_open_here({}, "darwin") == ""
    assert library.can_open_here({"DISPLAY": ":0"}, "linux") == ""
    assert library.can_open_here({"WAYLAND_DISPLAY": "w"}, "linux") == ""
    assert "SSH" in library.can_open_here({"SSH_CONNECTION": "a b c d"}, "linux")
    assert "no display" in library.can_open_here({}, "linux")


def test_sound_lines() -> None:
    assert sound_line(None) == ""
    assert sound_line(Music(title="original sound - mika", original=True)) == \
        "original sound"
    assert sound_line(Music(title="original sound - x")) == "original sound"
    assert sound_line(Music(title="Song", author="Band")) == "track: Song — Band"
    data = sidecar.music_rights(Story(id="1", creator=Creator("a"), created_at=NOW,
                                      expires_at=None, music=Music("Song", "Band", "", False)))
    assert data is not None and data["reminder"] == MUSIC_REMINDER


def test_rows_show_the_disk_and_the_latest_check(archive: Store, tmp_path: Path) -> None:
    """A stat each: a file gone is `missing`, another size `changed`; a same-size edit is
    `changed` once a check (v, tikget audit) found it; a missing file that came back is
    no longer missing; a new save at that path forgets the old check."""

    items = {i.story_id: i for i in library.load(archive)}
    assert items["1"].audit == "" and items["3"].audit == "missing"
    tram = items["1"].path
    tram.write_bytes(b"y" * 301)
    assert library.restat(list(items.values()))[0].audit == "changed"
    tram.write_bytes(b"y" * 300)  # the same size again, other bytes
    assert {i.story_id: i.audit for i in library.load(archive)}["1"] == ""
    Records(archive).check_put(CopyCheck(path=tram, story_id="1", variant="video", status="changed",
                                detail="tram.mp4 no longer matches its saved sha256"))
    items = {i.story_id: i for i in library.load(archive)}
    assert items["1"].audit == "changed" and items["1"].checked == "changed"
    assert [i.story_id for i in library.view(list(items.values()), "changed", "saved", NOW)
            ] == ["1"]
    Records(archive).check_put(CopyCheck(path=items["3"].path, story_id="3", variant="video",
                                status="missing"))
    items["3"].path.parent.mkdir(parents=True, exist_ok=True)
    items["3"].path.write_bytes(b"z" * 50)  # put back
    assert {i.story_id: i.audit for i in library.load(archive)}["3"] == ""
    entry = Records(archive).get("1", "video")
    assert entry is not None
    Records(archive).put(entry)  # saved again at that path: the old check is gone
    assert Records(archive).check_get(tram) is None
    assert {i.story_id: i.audit for i in library.load(archive)}["1"] == ""
