"""The save summary names items by caption and creator; the ids stay in ``--json``."""

from __future__ import annotations

from pathlib import Path

from tikget_tui.batch import ItemResult
from tikget_tui.commands.save import CAPTION_WIDTH, render_table


def test_rows_lead_with_caption_and_creator_and_json_keeps_the_id() -> None:
    long = "Sunrise over Alfama\nwith the first tram of the day, and coffee 🌅 #lisboa #trip"
    results = [
        ItemResult("@mika.travels", "done", story_id="7440000000000000004", creator="mika.travels",
                   path=Path("/d/mika.travels-sunrise-2026-11-29.mp4"), verdict="ok",
                   caption=long),
        ItemResult("@mika.travels", "done", story_id="7440000000000000005", creator="mika.travels",
                   path=Path("/d/x.mp4"), verdict="ok", caption=""),
        ItemResult("@secret.garden", "private", reason="@secret.garden is a private account",
                   creator="secret.garden"),
        ItemResult("@x", "done", story_id="7440000000000000006", creator="x",
                   caption="\x1b[31mred\x1b[0m"),
    ]
    lines = render_table(results).splitlines()
    assert lines[0].split()[:3] == ["ITEM", "CREATOR", "STATE"]
    first = lines[1]
    shown = first[:CAPTION_WIDTH]
    assert shown.startswith("Sunrise over Alfama with the first")  # new line folded
    assert shown.endswith("…")  # shortened
    assert "@mika.travels" in first and "7440000000000000004" not in "\n".join(lines)
    assert lines[2].startswith("(no caption)")
    assert lines[3].startswith("@secret.garden") and "private account" in lines[3]
    assert "\x1b" not in lines[4] and "\\x1b[31mred" in lines[4]  # shown, not run
    data = results[0].to_dict()
    assert data["story_id"] == "7440000000000000004" and data["caption"] == long
