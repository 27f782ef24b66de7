"""Turning untrusted and numeric values into safe, fixed-width display text."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from tikget_tui.units import format_size

__all__ = ["error_line", "format_duration", "format_posted", "format_size", "format_speed",
           "progress_bar", "safe_line"]

_KEEP_FORMAT = {"\u200d"}  # zero-width joiner: emoji sequences need it
# Variation selectors make terminals disagree on a character's width (✈ vs ✈️),
# which shifts the rest of the line; the base character alone is unambiguous.
_DROP = {"\ufe0e", "\ufe0f"}


def safe_line(text: str, limit: int | None = None) -> str:
    """One line of untrusted text: no control or bidi-override characters, no newlines.

    The result is still *text*: render it with ``Text``/``Content``, never as markup.
    """
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\r\t\v\f":
            out.append(" ")
        elif cat == "Cc" or (cat == "Cf" and ch not in _KEEP_FORMAT) or ch in _DROP:
            continue
        else:
            out.append(ch)
    line = " ".join("".join(out).split())
    if limit is not None and len(line) > limit:
        line = line[: max(0, limit - 1)] + "…"
    return line


def error_line(exc: BaseException) -> str:
    """One line for the user from any failure (its ``reason`` when it has one)."""
    reason = getattr(exc, "reason", None)
    text = reason if isinstance(reason, str) and reason else str(exc) or type(exc).__name__
    return safe_line(text, 300)


def format_duration(seconds: float | None) -> str:
    """'0:15', '1:02:03', or '—' when unknown."""
    if seconds is None or seconds <= 0:
        return "—"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_posted(when: datetime, now: datetime) -> str:
    """Local time: 'HH:MM' today, 'Tue HH:MM' within a week, else 'MM-DD'."""
    local, local_now = when.astimezone(), now.astimezone()
    if local.date() == local_now.date():
        return local.strftime("%H:%M")
    if abs((local_now - local).total_seconds()) < 6 * 86400:
        return local.strftime("%a %H:%M")
    return local.strftime("%m-%d")


def format_speed(bps: float | None) -> str:
    if not bps or bps <= 0:
        return ""
    return format_size(int(bps)) + "/s"


def progress_bar(done: int, total: int | None, width: int = 10, *,
                 complete: bool = True) -> str:
    """A fixed-width text bar with a percentage: '█████░░░░░  50%'.

    ``complete=False``: the file is not finished yet, so the bar stops at 99 %."""
    if not total or total <= 0:
        return "░" * width + "    "
    frac = max(0.0, min(1.0, done / total))
    if not complete:
        frac = min(frac, 0.99)
    filled = int(frac * width)
    return "█" * filled + "░" * (width - filled) + f" {int(frac * 100):3d}%"


def format_time_left(seconds: float | None) -> str:
    """Fixed-width human countdown: ' 23:59:59', '  0:04:07', 'expired'."""
    if seconds is None:
        return "—"
    if seconds <= 0:
        return "expired"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:2d}:{m:02d}:{sec:02d}"
