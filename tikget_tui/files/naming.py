"""File names for humans, safe on every filesystem, never outside the download dir.

The template (setting ``filename_template``, default ``{creator}-{topic}-{date}``)
knows the fields ``creator`` (the @username), ``nickname``, ``topic`` (a short
slug of the caption, or the story id when the caption has no words), ``date``
(post date, YYYY-MM-DD, UTC), ``time`` (HH-MM-SS, UTC), ``id`` and ``kind``.

Captions and usernames are untrusted: each field is sanitised, then the whole
rendered name is sanitised again (so even a ``/`` in the template cannot make
a sub-directory). Unicode letters and emoji are kept; path separators, NUL,
control and bidi-control characters, characters Windows refuses, leading dots,
trailing dots/spaces and reserved Windows device names are not. A stem is at
most :data:`STEM_MAX_BYTES` bytes of UTF-8, so that ``stem-01.jpeg``,
``stem.info.json`` and ``stem.mp4.part`` all stay under 200 bytes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from tikget_tui.config import DEFAULT_TEMPLATE, TEMPLATE_FIELDS
from tikget_tui.models import Story

NAME_MAX_BYTES = 200  # a whole file name, extension included
STEM_MAX_BYTES = 160  # leaves room for "-<id>", "-NN", ".info.json", ".part"
TOPIC_MAX_CHARS = 40
TOPIC_MAX_WORDS = 6

_WINDOWS_BAD = set('<>:"/\\|?*')
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEEP_FORMAT = {"\u200d"}  # zero-width joiner: part of emoji sequences
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in "123456789¹²³"
}
_DASHES = re.compile(r"[-\s]*-[-\s]*")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class UnsafePath(ValueError):
    """A resolved path that would leave the download dir (never expected: a guard)."""


def _clean_chars(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _BIDI or ch in _WINDOWS_BAD:
            out.append("-" if ch in _WINDOWS_BAD else "")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(" " if ch in "\t\n\r\x0b\x0c\u2028\u2029" else "")
        elif cat == "Cf" and ch not in _KEEP_FORMAT:
            continue
        else:
            out.append(ch)
    return "".join(out)


def truncate_bytes(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` of UTF-8 without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    cut = raw[:max_bytes].decode("utf-8", errors="ignore")
    # do not leave a dangling joiner or combining mark
    while cut and (cut[-1] in _KEEP_FORMAT or unicodedata.combining(cut[-1])):
        cut = cut[:-1]
    return cut


def _trim_edges(text: str) -> str:
    text = text.strip(" .-\u200d")
    return text


def sanitize(text: str, max_bytes: int = STEM_MAX_BYTES) -> str:
    """One safe path component (may be empty when nothing usable is left)."""
    text = _clean_chars(text)
    text = _SPACES.sub(" ", text)
    text = _DASHES.sub("-", text)
    text = _trim_edges(text)
    text = truncate_bytes(text, max_bytes)
    text = _trim_edges(text)
    base = text.split(".", 1)[0].strip().upper()
    if base in _RESERVED:
        text = "_" + text
    return text


def slugify_topic(caption: str, story_id: str) -> str:
    """A short slug of the caption's words (unicode kept); the story id when there are none."""
    words = _WORD.findall(unicodedata.normalize("NFC", _clean_chars(caption)))
    words = [w for w in words if not w.isdigit() or len(w) < 12][:TOPIC_MAX_WORDS]
    slug = ""
    for w in words:
        candidate = f"{slug}-{w}" if slug else w
        if len(candidate) > TOPIC_MAX_CHARS:
            if not slug:
                slug = w[:TOPIC_MAX_CHARS]
            break
        slug = candidate
    slug = sanitize(slug.lower(), 80)
    return slug or sanitize(story_id, 40) or "story"


def fields_for(story: Story, *, kind: str | None = None) -> dict[str, str]:
    creator = sanitize(story.creator.unique_id or story.creator.user_id, 60) or "unknown"
    nickname = sanitize(story.creator.nickname, 60) or creator
    created = story.created_at
    return {
        "creator": creator,
        "nickname": nickname,
        "topic": slugify_topic(story.caption, story.id),
        "date": created.strftime("%Y-%m-%d"),
        "time": created.strftime("%H-%M-%S"),
        "id": sanitize(story.id, 40) or "0",
        "kind": kind or str(story.kind),
    }


def build_stem(story: Story, template: str = DEFAULT_TEMPLATE, *, kind: str | None = None) -> str:
    """The human name (without extension) for a story, from the template."""
    values = fields_for(story, kind=kind)
    try:
        rendered = template.format(**values)
    except (KeyError, IndexError, ValueError):
        rendered = DEFAULT_TEMPLATE.format(**values)
    stem = sanitize(rendered, STEM_MAX_BYTES)
    return stem or values["id"]


def variant_names(stem: str, variant: str) -> re.Pattern[str]:
    """The names a variant of a story writes under ``stem``: a video ``stem.mp4`` (and its
    ``.part``, ``stem.info.json``), photos ``stem-NN.*`` and ``stem.info.json``, the MP3
    ``stem.mp3``, ``stem.mp3.src.part``, ``stem.mp3.info.json``."""
    s = re.escape(stem)
    if variant == "audio":
        return re.compile(s + r"\.mp3(?:\..*)?")
    if variant == "photo":
        return re.compile(s + r"(?:-[0-9]{2}\..*|\.info\.json)")
    return re.compile(s + r"\.(?:mp4(?:\..*)?|info\.json)")


def _is_taken(stem: str, names: set[str], taken: set[str], variant: str | None = None,
              owners: Callable[[str], set[str]] | None = None, story_id: str = "") -> bool:
    if stem in taken:
        return True
    numbered = re.compile(re.escape(stem) + r"(?:-[0-9]{2})?\.")
    used = [n for n in names if numbered.match(n)]
    if not used:
        return False
    if variant is None or owners is None:
        return True
    # the story's other variant may share the stem (told apart by the extension): only
    # when none of this variant's names is there and every sidecar under it is this story's
    mine = variant_names(stem, variant)
    if any(mine.fullmatch(n) for n in used):
        return True
    return owners(stem) != {story_id}


def choose_stem(
    directory: Path, stem: str, story_id: str, *, taken: Iterable[str] = (),
    variant: str | None = None, owners: Callable[[str], set[str]] | None = None,
) -> str:
    """A stem no file in ``directory`` uses yet (``stem.*``, ``stem-NN.*``), nor ``taken``.

    With ``variant`` and ``owners`` (``owners(stem)``: the story ids the sidecars under
    ``stem`` describe, with a ``None``-free set only when every file there has one), the
    same story's audio and video share a stem, told apart by their extensions.
    Uniqueness appends the story id, then a counter.
    """
    try:
        names = {e.name for e in os.scandir(directory)}
    except FileNotFoundError:
        names = set()
    reserved = set(taken)
    if not _is_taken(stem, names, reserved, variant, owners, story_id):
        return stem
    sid = sanitize(story_id, 40) or "0"
    base = truncate_bytes(stem, STEM_MAX_BYTES - len(sid.encode()) - 5).rstrip(" .-")
    candidate = f"{base}-{sid}" if not stem.endswith(sid) else stem
    n = 2
    while _is_taken(candidate, names, reserved, variant, owners, story_id):
        candidate = f"{base}-{sid}-{n}"
        n += 1
    return candidate


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, checked to be a direct child of ``directory``.

    The name itself is not resolved: whatever sits there (a link someone planted) is
    never followed by the writers (files/safefile.py), so it need not be looked at.
    """
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise UnsafePath(f"refusing unsafe file name {name!r}")
    root = directory.resolve()
    path = root / name
    if path.parent != root or os.sep in name or (os.altsep and os.altsep in name):
        raise UnsafePath(f"refusing a path outside the download dir: {name!r}")
    if len(name.encode("utf-8")) > NAME_MAX_BYTES + 10:  # ".part" on top of a 200-byte name
        raise UnsafePath(f"file name too long ({len(name.encode())} bytes)")
    return path


__all__ = [
    "NAME_MAX_BYTES",
    "STEM_MAX_BYTES",
    "TEMPLATE_FIELDS",
    "UnsafePath",
    "build_stem",
    "choose_stem",
    "fields_for",
    "inside",
    "sanitize",
    "slugify_topic",
    "truncate_bytes",
]
