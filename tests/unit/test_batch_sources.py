"""Targets for `tikget save`: lines from args/files, duplicates, and skipped prose words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tikget_tui.batch import parse_sources, read_sources
from tikget_tui.links import ParseError, PostTarget, UserTarget


def test_file_lines_are_parsed_with_skipped_words_reported(tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(
        "# stories to keep\n"
        "@mika.travels\n"
        "see https://www.tiktok.com/@quiet.creator/video/7430000000000000002 later\n"
        "@mika.travels\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    targets = parse_sources(read_sources([], from_file=listing), warn=warnings.append)
    assert [t.target for t in targets] == [
        UserTarget("mika.travels"),
        PostTarget("7430000000000000002", "quiet.creator"),
    ]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{listing}:3: ignored 2 words")
    assert "'see'" in warnings[0] and "'later'" in warnings[0]


def test_a_bad_line_names_its_place(tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text("@ok.user\nhttps://nottiktok.com/@x\n", encoding="utf-8")
    with pytest.raises(ParseError, match=r"targets\.txt:2: "):
        parse_sources(read_sources([], from_file=listing))
