"""Moments for people, as the watch commands say them: 'in 3h 05m', '12m ago', 'due now'."""

from __future__ import annotations

from datetime import datetime


def when(moment: datetime | None, now: datetime) -> str:
    """'due now', 'in 3h 05m', 'in 12m', '5m ago'."""
    if moment is None:
        return "due now"
    seconds = int((moment - now).total_seconds())
    if seconds <= 0:
        return "due now" if seconds > -60 else f"{_span(-seconds)} ago (due)"
    return f"in {_span(seconds)}"


def ago(moment: datetime, now: datetime) -> str:
    """'just now', '12m ago', '3h 05m ago' (a past moment, e.g. the last poll)."""
    seconds = int((now - moment).total_seconds())
    return "just now" if seconds < 60 else f"{_span(seconds)} ago"


def _span(seconds: int) -> str:
    h, rem = divmod(seconds, 3600)
    m = rem // 60
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m" if m else f"{seconds}s"
