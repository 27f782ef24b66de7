"""How `tikget watch list` words poll times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tikget_tui.commands.moments import ago, when

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


def test_a_run_cut_short_by_the_budget_is_not_complete() -> None:
    """`watch run --once` exits 1 unless every creator was polled: one the budget left for the
    next run counts, as do a failed look-up and a failed download."""
    from tikget_tui.commands.watch import RunSummary

    full = RunSummary(polled=2, failed=0, left=0, saved=3, download_failed=0,
                      saved_by={"a": 3, "b": 0}, failures=())
    assert full.complete and full.line == "polled 2 of 2 creators, saved 3 stories"
    cut = RunSummary(polled=20, failed=1, left=5, saved=1, download_failed=2,
                     saved_by={"a": 1}, failures=("@c: TikTok answered 503",))
    assert not cut.complete
    assert cut.line == ("polled 20 of 25 creators, 5 left for the next run (at most 20 "
                        "look-ups in one run), 1 look-up failed, saved 1 story, "
                        "2 downloads failed")


def test_timer_line_in_the_stories_pane() -> None:
    """When the timer polled last and runs next, from the recorded runs: a run that found
    the app holding the queue did not poll, but it does say when the next one comes."""
    from tikget_tui.store import RUN_SKIPPED, WatchRun
    from tikget_tui.watch import timer_line

    every = 4 * 3600.0
    by_hand = WatchRun(3, NOW - timedelta(minutes=1), 7, None, NOW, outcome="x", status=0)
    skipped = WatchRun(2, NOW - timedelta(minutes=30), 7, every, NOW - timedelta(minutes=30),
                       status=0, outcome=f"{RUN_SKIPPED} the app is running")
    polled = WatchRun(1, NOW - timedelta(hours=4, minutes=30), 7, every,
                      NOW - timedelta(hours=4, minutes=28), polled=2, status=0, outcome="ok")
    assert timer_line([], NOW) == "" and timer_line([by_hand], NOW) == ""
    assert timer_line([by_hand, skipped, polled], NOW) == (
        "timer: last poll 4h 30m ago · next in about 3h 30m")
    failed = WatchRun(1, NOW - timedelta(hours=3, minutes=59, seconds=30), 7, every, NOW,
                      polled=2, failed=2, status=1, outcome="ok")
    assert timer_line([failed], NOW) == "timer: last poll 3h 59m ago (some failed) · next " \
        "any minute"
    assert timer_line([skipped], NOW) == "timer: no poll yet · next in about 3h 30m"
