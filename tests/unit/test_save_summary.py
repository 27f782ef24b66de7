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


def test_summary_counts_saved_copied_already_saved_failed_and_not_saved_apart() -> None:
    from tikget_tui.commands.save import summary_line

    def done(how: str, verdict: str = "ok") -> ItemResult:
        return ItemResult("@u", "done", story_id="1", creator="u", verdict=verdict, how=how)

    mixed = [
        done("queued"), done("queued", "warn"), done("copied"), done("already saved"),
        done("already saved"), done("already saved"),
        ItemResult("@u", "failed", story_id="2", creator="u", verdict="fail", how="queued"),
        ItemResult("@u", "expired", story_id="3", creator="u", how="queued"),
        ItemResult("@p", "private", reason="@p is a private account"),
        ItemResult("@q", "none", creator="q", reason="no active story right now"),
    ]
    assert [r.outcome for r in mixed] == [
        "saved", "saved", "copied", "already saved", "already saved", "already saved",
        "failed", "not saved", "not saved", "none"]
    assert summary_line(mixed) == (
        "2 saved and verified, 1 copied from another folder, 3 already saved, 1 failed, "
        "2 not saved (see the reasons above)")
    # the second `tikget save` of the same creator: nothing was saved this time
    assert summary_line([done("already saved")] * 7) == "7 already saved"
    assert summary_line([done("copied")] * 2) == "2 copied from another folder"
    assert summary_line([]) == "0 saved and verified, 0 not saved"
    assert mixed[2].to_dict()["outcome"] == "copied"


def test_the_apps_batch_summary_counts_each_outcome_apart() -> None:
    from tikget_tui.ui.download_batch import batch_summary, enqueue_summary

    outcomes = ["done:ok", "done:ok", "done:warn", "failed:fail", "failed:", "expired:",
                "cancelled:"]
    line, bad = batch_summary(outcomes)
    assert line == ("2 saved and verified, 1 saved with verification warnings, 2 failed, "
                    "1 expired before they were saved, 1 cancelled: see the queue (3)")
    assert bad
    assert batch_summary(["failed:fail"]) == ("1 failed: see the queue (3)", True)
    assert batch_summary(["done:ok"] * 3) == ("3 saved and verified", False)
    assert batch_summary(["cancelled:"]) == ("1 cancelled", False)
    line = enqueue_summary(1, 0, ["a.mp4"], [], False,
                           ["copied from ~/Downloads/TikGet (hard link, sha256 verified)"])
    assert line == ("queued 1 download; 1 copied from ~/Downloads/TikGet (hard link, sha256 "
                    "verified); 1 already saved (a.mp4)")
    two = enqueue_summary(0, 0, [], [], False, ["copied from /a (copy, sha256 verified)",
                                                "copied from /b (hard link, sha256 verified)"])
    assert two == "2 copied from other folders"
