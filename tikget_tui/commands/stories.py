"""``tikget stories TARGET... [--json]``: a creator's active stories, without the UI.

Exit status: 0 when every creator was looked up (an empty list is fine), 1 when
a creator could not be (private, unknown, network...), 2 when a target could
not be understood.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import unicodedata
from typing import Any, TextIO

from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.commands import demo_service
from tikget_tui.config import Settings
from tikget_tui.links import ParseError, UserTarget, parse
from tikget_tui.models import AGE_GATED, Kind, Story, StoryList

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def visible(text: str, limit: int | None = None) -> str:
    """Untrusted text made safe for a terminal: control and format characters shown escaped.

    ``\\n`` becomes the two characters ``\\n``, ESC becomes ``\\x1b``, a bidi
    mark becomes ``\\u200f``; nothing is interpreted by the terminal.
    """
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif unicodedata.category(ch)[0] == "C":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    shown = "".join(out)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


def human_left(seconds: float | None) -> str:
    """'3h 12m left', '12m left', '40s left', 'expired', or '' for posts without expiry."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s <= 0:
        return "expired"
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m left"
    if m:
        return f"{m}m left"
    return f"{sec}s left"


def human_duration(seconds: float) -> str:
    s = round(seconds)
    m, sec = divmod(s, 60)
    return f"{m}:{sec:02d}"


def _story_line(story: Story, now_clock: Clock) -> str:
    now = now_clock.now()
    if story.age_gated:
        what = "not public"
    elif story.kind is Kind.PHOTO:
        count = len(story.images)
        what = f"photo  {count} image{'s' if count != 1 else ''}"
        if story.sound is not None:
            what += " + sound"
    else:
        what = f"video  {human_duration(story.duration)}"
    posted = story.created_at.strftime("%Y-%m-%d %H:%M UTC")
    caption = visible(story.caption, 60) if story.caption else "(no caption)"
    if story.age_gated:
        caption = f"{AGE_GATED} · {caption}"
    return (f"  {story.id}  {what:<24} posted {posted}  "
            f"{human_left(story.seconds_left(now)):>12}  {caption}")


def print_text(result: StoryList, clock: Clock, out: TextIO) -> None:
    creator = result.creator
    name = visible(creator.handle or "?")
    nick = f" ({visible(creator.nickname, 40)})" if creator.nickname else ""
    if not result.stories:
        print(f"{name}{nick}: {visible(result.reason or 'no active story right now')}", file=out)
        return
    n = len(result.stories)
    print(f"{name}{nick}: {n} active stor{'y' if n == 1 else 'ies'}", file=out)
    for story in result.stories:
        print(_story_line(story, clock), file=out)
    if result.incomplete:
        print(f"  note: {visible(result.incomplete)}", file=out)


def as_json(result: StoryList, target: str, clock: Clock) -> dict[str, Any]:
    now = clock.now()
    return {
        "target": target,
        "creator": {
            "username": result.creator.unique_id,
            "nickname": result.creator.nickname,
            "user_id": result.creator.user_id,
        },
        "stories": [
            {**s.to_dict(), "seconds_left": s.seconds_left(now)} for s in result.stories
        ],
        "reason": result.reason,
        "incomplete": result.incomplete,
    }


def _targets(texts: list[str], settings: Settings) -> list[UserTarget]:
    out: list[UserTarget] = []
    for text in texts:
        for target in parse(text, settings.service):
            if not isinstance(target, UserTarget):
                raise ParseError(
                    f"{visible(text, 60)} is a link to a post, not a creator; "
                    "use `tikget save` for single posts"
                )
            out.append(target)
    return out


async def _lookup(
    targets: list[UserTarget], settings: Settings, clock: Clock, as_json_output: bool,
    out: TextIO, err: TextIO,
) -> int:
    from tikget_tui.tiktok import TikTokClient, TikTokError

    status = EXIT_OK
    results: list[dict[str, Any]] = []
    async with TikTokClient(settings, clock=clock) as client:
        for target in targets:
            try:
                found = await client.lookup_stories(target)
            except TikTokError as exc:
                shown = exc.reason if target.display in exc.reason else (
                    f"{target.display}: {exc.reason}")
                print(f"tikget: {visible(shown)}", file=err)
                results.append({"target": target.display, "creator": None, "stories": [],
                                "reason": exc.reason, "error": type(exc).__name__})
                status = EXIT_FAIL
                continue
            if as_json_output:
                results.append(as_json(found, target.display, clock))
            else:
                print_text(found, clock, out)
    if as_json_output:
        json.dump(results, out, ensure_ascii=False, indent=2)
        out.write("\n")
    return status


def run(args: argparse.Namespace, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
        out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        targets = _targets(list(args.targets), settings)
    except ParseError as exc:
        print(f"tikget: {exc}", file=err)
        return EXIT_USAGE
    if not targets:
        print("tikget: no creator given; name one like @username", file=err)
        return EXIT_USAGE
    with demo_service(args, settings) as settings:
        return asyncio.run(_lookup(targets, settings, clock, bool(args.json), out, err))
