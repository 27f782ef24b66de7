"""Typed records that cross layers. No TikTok JSON exists past ``tikget_tui.tiktok``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

STORY_LIFETIME = timedelta(hours=24)


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

    def seconds_left(self, now: datetime | None = None) -> float | None:
        if self.expires_at is None:
            return None
        now = now or datetime.now(UTC)
        return (self.expires_at - now).total_seconds()

    def is_expired(self, now: datetime | None = None) -> bool:
        left = self.seconds_left(now)
        return left is not None and left <= 0


@dataclass(frozen=True)
class StoryList:
    """The result of looking up a creator's stories.

    An empty list is not an error: ``reason`` says why it is empty.
    """

    creator: Creator
    stories: tuple[Story, ...] = ()
    reason: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


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
