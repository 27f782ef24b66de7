"""File names: human, unique, safe on every filesystem, never outside the download dir."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tikget_tui.files.naming import (
    NAME_MAX_BYTES,
    build_stem,
    choose_stem,
    inside,
    sanitize,
    slugify_topic,
)
from tikget_tui.models import Creator, Story

WHEN = datetime(2026, 11, 25, 21, 4, 5, tzinfo=UTC)
FORBIDDEN = set('/\\\0<>:"|?*') | {chr(c) for c in range(32)} | {"\u202e", "\u200f", "\u2066"}
RESERVED = {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


def story(caption: str = "", username: str = "alice", nickname: str = "",
          sid: str = "7300000000000000001") -> Story:
    return Story(id=sid, creator=Creator(unique_id=username, nickname=nickname),
                 created_at=WHEN, expires_at=None, caption=caption)


def assert_safe_name(name: str) -> None:
    assert name
    assert not set(name) & FORBIDDEN, name
    assert not name.startswith((".", " ", "-"))
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= NAME_MAX_BYTES
    assert name.split(".")[0].upper() not in RESERVED


def test_default_template_is_creator_topic_date() -> None:
    stem = build_stem(story("Sunset at the beach! #summer"))
    assert stem == "alice-sunset-at-the-beach-summer-2026-11-25"


def test_topic_falls_back_to_story_id() -> None:
    assert slugify_topic("", "7300000000000000001") == "7300000000000000001"
    assert slugify_topic("🔥🔥🔥 !!!", "42") == "42"


def test_unicode_kept() -> None:
    stem = build_stem(story("東京の夜 café"))
    assert stem == "alice-東京の夜-café-2026-11-25"


def test_other_template_fields() -> None:
    s = story("hi", nickname="Alice ✨")
    stem = build_stem(s, "{nickname} {time} {id} {kind}")
    assert stem == "Alice ✨ 21-04-05 7300000000000000001 video"


def test_template_slash_cannot_make_directories() -> None:
    assert "/" not in build_stem(story("x"), "{creator}/{date}/../{topic}")


@pytest.mark.parametrize(
    ("caption", "username"),
    [
        ("../../etc/passwd", "alice"),
        ("x", "../../etc/passwd"),
        ("[bold]x[/]", "[red]evil[/red]"),
        ("a" * 500, "b" * 300),
        ("\u202eexe.mp4 \u200fright-to-left\u2066", "\u202eadmin"),
        ("emoji 😀👩‍👩‍👧 party", "emoji😀"),
        ("nul\0byte\x01\x7f", "nu\0l"),
        ("...", "..."),
        ("CON", "con"),
        ("  \t\n ", "COM1"),
        ("é" * 400, "ø" * 200),
    ],
)
def test_hostile_text_gives_safe_names(tmp_path: Path, caption: str, username: str) -> None:
    stem = build_stem(story(caption, username))
    for ext in (".mp4", ".mp3", ".info.json", "-01.jpeg"):
        name = stem + ext
        assert_safe_name(name)
        assert inside(tmp_path, name).parent == tmp_path.resolve()


def test_reserved_windows_names_are_escaped() -> None:
    assert sanitize("con") == "_con"
    assert sanitize("LPT1.txt") == "_LPT1.txt"
    assert sanitize("console") == "console"


def test_truncation_is_by_bytes_and_keeps_characters_whole() -> None:
    out = sanitize("😀" * 100, 10)
    assert out == "😀😀"


def test_uniqueness_appends_the_id(tmp_path: Path) -> None:
    (tmp_path / "alice-hi-2026-11-25.mp4").write_bytes(b"x")
    assert choose_stem(tmp_path, "alice-hi-2026-11-25", "99") == "alice-hi-2026-11-25-99"
    (tmp_path / "alice-hi-2026-11-25-99-01.jpeg").write_bytes(b"x")
    assert choose_stem(tmp_path, "alice-hi-2026-11-25", "99") == "alice-hi-2026-11-25-99-2"
    assert choose_stem(tmp_path, "fresh", "99", taken={"fresh"}) == "fresh-99"
    assert choose_stem(tmp_path, "fresh", "99") == "fresh"


def test_inside_refuses_escapes(tmp_path: Path) -> None:
    from tikget_tui.files.naming import UnsafePath

    for bad in ("..", "../x", "a/b", "", "x\0y"):
        with pytest.raises(UnsafePath):
            inside(tmp_path, bad)
    # a link at the name is not resolved here: the writers never follow it (safefile.py;
    # tests/reliability/test_shared_folder.py), and a planted link must not stop a download
    (tmp_path / "link").symlink_to("/etc")
    assert inside(tmp_path, "link") == tmp_path.resolve() / "link"


@settings(max_examples=300, deadline=None)
@given(caption=st.text(max_size=600), username=st.text(max_size=120),
       nickname=st.text(max_size=80),
       template=st.sampled_from(["{creator}-{topic}-{date}", "{nickname}-{id}", "{topic}",
                                 "{creator}/{time}"]))
def test_property_any_text_gives_a_safe_name(caption: str, username: str, nickname: str,
                                             template: str) -> None:
    stem = build_stem(story(caption, username, nickname), template)
    for ext in (".mp4", ".info.json", "-01.webp"):
        assert_safe_name(stem + ext)
    assert len((stem + "-7300000000000000001-99.mp4.part").encode()) < 255


def test_a_storys_audio_and_video_share_a_name_another_story_gets_the_id(
    tmp_path: Path,
) -> None:
    from tikget_tui.archive import sidecar

    def owners(stem: str) -> set[str]:
        return sidecar.owners(tmp_path, stem)

    stem = "alice-hi-2026-11-25"
    (tmp_path / f"{stem}.mp3").write_bytes(b"x")
    (tmp_path / f"{stem}.mp3.info.json").write_text('{"story_id": "7", "variant": "audio"}')
    # the same story's video: the same name, told apart by the extension
    assert choose_stem(tmp_path, stem, "7", variant="video", owners=owners) == stem
    # its audio again, or another story's video: the documented fresh name
    assert choose_stem(tmp_path, stem, "7", variant="audio", owners=owners) == f"{stem}-7"
    assert choose_stem(tmp_path, stem, "8", variant="video", owners=owners) == f"{stem}-8"
    # a media file nobody's sidecar describes: never shared
    (tmp_path / "bob-x.mp4").write_bytes(b"x")
    assert choose_stem(tmp_path, "bob-x", "7", variant="audio", owners=owners) == "bob-x-7"
    # without the variant (as before): any file under the stem takes it
    assert choose_stem(tmp_path, stem, "7") == f"{stem}-7"
