"""Typed records that cross layers. No TikTok JSON exists past ``tikget_tui.tiktok``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

STORY_LIFETIME = timedelta(hours=24)
# The one line for an age-gated story (TikTok's isContentClassified without a usable URL).
AGE_GATED = "needs a logged-in adult account: not public"


class Kind(StrEnum):
    VIDEO = "video"
    PHOTO = "photo"


class Codec(StrEnum):
    H264 = "h264"
    HEVC = "hevc"  # TikTok's "bytevc1"
    BYTEVC2 = "bytevc2"  # most players cannot play it: ranked last
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Creator:
    unique_id: str  # the @username
    nickname: str = ""  # untrusted display text
    user_id: str = ""  # numeric authorId
    sec_uid: str = ""
    private: bool = False
    verified: bool = False

    @property
    def handle(self) -> str:
        return "@" + self.unique_id if self.unique_id else self.user_id


@dataclass(frozen=True)
class MediaSource:
    """One URL that serves the video, with what the listing said about it."""

    url: str
    codec: Codec = Codec.UNKNOWN
    width: int = 0
    height: int = 0
    bitrate: int = 0
    data_size: int | None = None  # bytes, from PlayAddr.DataSize when given
    label: str = ""  # GearName / UrlKey / "playAddr" / "downloadAddr"
    watermarked: bool = False


@dataclass(frozen=True)
class ImageSource:
    """One photo of a photo story; ``urls`` are alternatives for the same image."""

    urls: tuple[str, ...]
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Sound:
    url: str
    title: str = ""
    author: str = ""
    duration: float = 0.0
    id: str = ""


@dataclass(frozen=True)
class Music:
    """Whose sound a story uses (TikTok's ``music``), kept even when it has no URL to
    save: the creator's ``original`` sound, or a track (which may be licensed for in-app
    use only)."""

    title: str = ""
    author: str = ""
    album: str = ""
    original: bool | None = None  # None: the item did not say


MUSIC_REMINDER = "a track, not the creator's own sound: check the music rights before reposting"
"""Said beside a track (the sidecar, the report pane): it may be licensed for in-app use only."""


def sound_line(music: Music | None) -> str:
    """'original sound', 'track: Title — Artist (Album)', or '' when unknown."""
    if music is None:
        return ""
    if music.original is True or (music.original is None and not music.album
                                   and music.title.lower().startswith("original sound")):
        return "original sound"
    if music.original is None and not music.title:
        return ""
    who = f" — {music.author}" if music.author else ""
    album = f" ({music.album})" if music.album else ""
    return f"track: {music.title or 'untitled'}{who}{album}"


def is_track(music: Music | None) -> bool:
    return sound_line(music).startswith("track:")


@dataclass(frozen=True)
class Story:
    """A story (expires) or an ordinary post (``expires_at`` None): the same shape."""

    id: str
    creator: Creator
    created_at: datetime  # UTC, aware
    expires_at: datetime | None  # UTC, aware; None for ordinary posts
    caption: str = ""  # untrusted
    kind: Kind = Kind.VIDEO
    duration: float = 0.0  # seconds (0 for photo stories without sound)
    width: int = 0
    height: int = 0
    sources: tuple[MediaSource, ...] = ()  # ranked, best first
    images: tuple[ImageSource, ...] = ()  # photo stories, in order
    sound: Sound | None = None
    canonical_url: str = ""
    is_story: bool = True
    has_sound: bool | None = None  # None: unknown
    music: Music | None = None  # who owns the sound (title, artist, album, original)
    age_gated: bool = False  # TikTok shows it to logged-in adults only: not public (AGE_GATED)

    def seconds_left(self, now: datetime | None = None) -> float | None:
        if self.expires_at is None:
            return None
        now = now or datetime.now(UTC)
        return (self.expires_at - now).total_seconds()

    def is_expired(self, now: datetime | None = None) -> bool:
        left = self.seconds_left(now)
        return left is not None and left <= 0

    def to_dict(self) -> dict[str, Any]:
        """Our own JSON-safe form (not TikTok's), for the download queue and sidecars."""

        def when(d: datetime | None) -> str | None:
            return d.isoformat() if d is not None else None

        return {
            "id": self.id,
            "creator": asdict(self.creator),
            "created_at": when(self.created_at),
            "expires_at": when(self.expires_at),
            "caption": self.caption,
            "kind": str(self.kind),
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "sources": [{**asdict(s), "codec": str(s.codec)} for s in self.sources],
            "images": [{**asdict(i), "urls": list(i.urls)} for i in self.images],
            "sound": asdict(self.sound) if self.sound is not None else None,
            "canonical_url": self.canonical_url,
            "is_story": self.is_story,
            "has_sound": self.has_sound,
            "music": asdict(self.music) if self.music is not None else None,
            "age_gated": self.age_gated,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Story:
        """Inverse of :meth:`to_dict`."""

        def when(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        created = when(d.get("created_at")) or datetime.fromtimestamp(0, UTC)
        sound = d.get("sound")
        return cls(
            id=str(d["id"]),
            creator=Creator(**d.get("creator", {})),
            created_at=created,
            expires_at=when(d.get("expires_at")),
            caption=d.get("caption", ""),
            kind=Kind(d.get("kind", "video")),
            duration=float(d.get("duration", 0.0)),
            width=int(d.get("width", 0)),
            height=int(d.get("height", 0)),
            sources=tuple(
                MediaSource(**{**s, "codec": Codec(s.get("codec", "unknown"))})
                for s in d.get("sources", [])
            ),
            images=tuple(
                ImageSource(**{**i, "urls": tuple(i.get("urls", ()))}) for i in d.get("images", [])
            ),
            sound=Sound(**sound) if sound else None,
            canonical_url=d.get("canonical_url", ""),
            is_story=bool(d.get("is_story", True)),
            has_sound=d.get("has_sound"),
            music=Music(**d["music"]) if d.get("music") else None,
            age_gated=bool(d.get("age_gated", False)),
        )


@dataclass(frozen=True)
class StoryList:
    """The result of looking up a creator's stories.

    An empty list is not an error: ``reason`` says why it is empty. ``incomplete`` is
    one line when the paging stopped early (a repeated page, the page limit, "more" that
    never came): how many stories were listed and why it stopped ("" when the list is
    whole).
    """

    creator: Creator
    stories: tuple[Story, ...] = ()
    reason: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    incomplete: str = ""
