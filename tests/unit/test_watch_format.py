"""How `tikget watch list` words poll times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tikget_tui.commands.watch import ago, when

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_next_poll_is_worded_as_the_future() -> None:
    assert when(None, NOW) == "due now"
    assert when(NOW + timedelta(hours=3, minutes=5), NOW) == "in 3h 05m"
    assert when(NOW + timedelta(minutes=12), NOW) == "in 12m"
    assert when(NOW - timedelta(minutes=5), NOW) == "5m ago (due)"


def test_last_poll_is_worded_as_the_past() -> None:
    assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=12), NOW) == "12m ago"
    assert ago(NOW - timedelta(hours=3, minutes=5), NOW) == "3h 05m ago"


def test_health_line_of_a_failing_or_paused_account() -> None:
    from datetime import UTC, datetime

    from tikget_tui.store import WatchEntry
    from tikget_tui.watch import health_line

    added = datetime(2026, 11, 29, tzinfo=UTC)
    assert health_line(WatchEntry("a", added)) == ""
    assert health_line(WatchEntry("a", added, failures=1)) == "1 failed poll in a row"
    assert health_line(WatchEntry("a", added, failures=2)) == "2 failed polls in a row"
    paused = WatchEntry("a", added, failures=3, paused=True)
    assert health_line(paused) == "paused after 3 failed polls"
    assert health_line(paused, resume="w resumes it") == (
        "paused after 3 failed polls (w resumes it)")
