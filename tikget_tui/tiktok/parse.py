"""TikTok JSON → typed records. Pure functions, tolerant of TikTok's habits.

TikTok changes its web JSON often: keys go missing, numbers arrive as strings,
a list arrives as a single object, ``UrlList`` is absent. Every accessor here
copes; anything that still cannot be understood becomes
:class:`~tikget_tui.tiktok.errors.MalformedResponse` (never a ``KeyError``,
``TypeError`` or ``ValueError``). No dict of TikTok JSON leaves this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from tikget_tui.models import (
    STORY_LIFETIME,
    Codec,
    Creator,
    ImageSource,
    Kind,
    MediaSource,
    Music,
    Sound,
    Story,
)
from tikget_tui.service import Service
from tikget_tui.tiktok.errors import (
    Captcha,
    LoginRequired,
    MalformedResponse,
    PostUnavailable,
    PrivateAccount,
    PrivatePost,
    RegionLocked,
    TikTokError,
    UserNotFound,
)

REHYDRATION_ID = "__UNIVERSAL_DATA_FOR_REHYDRATION__"
_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bid\s*=\s*[\"']?" + REHYDRATION_ID + r"[\"']?[^>]*>(.*?)</script\s*>",
    re.DOTALL | re.IGNORECASE,
)
# The tiny non-video file TikTok serves under this path is never the video.
_BAD_MEDIA_PATH = "/aweme/v1/play"

# --------------------------------------------------------------------------- tolerant accessors


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list stays a list; a single object becomes a one-element list; junk is empty."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return []


def as_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else default
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():  # float('١٢٣') is 123.0: only ASCII digits are numbers here
            return default
        if re.fullmatch(r"[+-]?[0-9]{1,19}", text):
            return int(text)
        try:
            f = float(text)
        except ValueError:
            return default
        return int(f) if f == f and abs(f) < 1e18 else default
    return default


def as_opt_int(value: Any) -> int | None:
    sentinel = -(2**63)
    out = as_int(value, sentinel)
    return None if out == sentinel else out


def as_float(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return default
    else:
        return default
    return f if f == f and abs(f) != float("inf") else default


def as_str(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return str(value)
    return default


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return False


def get(obj: Any, *path: str) -> Any:
    """Walk nested dicts; any missing step or non-dict gives None."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def url_list(value: Any) -> list[str]:
    """URLs from ``{"UrlList": [...]}``, ``{"urlList": [...]}``, a list, or one string."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        for key in ("UrlList", "urlList", "url_list"):
            if key in value:
                return url_list(value[key])
        for key in ("Uri", "uri", "url", "Url"):
            candidate = value.get(key)
            if isinstance(candidate, str) and candidate.startswith(("http://", "https://")):
                return [candidate]
        return []
    if isinstance(value, list):
        return [u for u in value if isinstance(u, str) and u]
    return []


def _usable_url(url: str) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and _BAD_MEDIA_PATH not in parts.path
    )


# --------------------------------------------------------------------------- pages


def rehydration_scope(html: str) -> dict[str, Any] | None:
    """The ``__DEFAULT_SCOPE__`` of a page's rehydration script, or None when absent."""
    match = _SCRIPT_RE.search(html)
    if match is None:
        return None
    try:
        data = json.loads(match.group(1))
    except (ValueError, RecursionError):
        raise MalformedResponse(
            "TikTok's page data could not be read (broken JSON); try again later"
        ) from None
    scope = get(data, "__DEFAULT_SCOPE__")
    if not isinstance(scope, dict):
        raise MalformedResponse("TikTok's page data has no __DEFAULT_SCOPE__; try again later")
    return scope


def loads_json(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedResponse(f"TikTok's {what} answer is not JSON; try again later") from None
    if not isinstance(data, dict):
        raise MalformedResponse(f"TikTok's {what} answer is not a JSON object; try again later")
    return data


# --------------------------------------------------------------------------- status codes


def status_code(data: dict[str, Any]) -> int:
    for key in ("statusCode", "status_code"):
        if key in data:
            return as_int(data.get(key), 0)
    return 0


def status_error(code: int, what: str, *, msg: str = "") -> TikTokError | None:
    """Map a TikTok ``statusCode`` to an error; 0 (OK) gives None.

    ``what`` names the thing for the message, e.g. ``"@name"`` or ``"post 123"``.
    """
    if code == 0:
        return None
    if code in (10221, 10202):
        return UserNotFound(f"{what} does not exist on TikTok (misspelled, renamed or banned)")
    if code == 10222:
        return PrivateAccount(f"{what} is a private account; only public stories can be saved")
    if code == 10204:
        return PostUnavailable(f"{what} is not available any more (removed, expired or blocked)")
    if code == 10216:
        return PrivatePost(f"{what} is private; only public posts can be saved")
    if code == 10231:
        return RegionLocked(f"{what} is not available in your region")
    if code == 10102:
        return LoginRequired(f"{what} needs a TikTok login, so it is not public; skipped")
    if code == 10000:
        return Captcha("TikTok asked for a captcha; wait a while (an hour) and try again")
    detail = f" ({' '.join(msg.split())[:80]})" if msg else ""
    return MalformedResponse(
        f"TikTok answered status {code}{detail} for {what}; try again later", retryable=True
    )


# --------------------------------------------------------------------------- creators


def parse_user_detail(scope: dict[str, Any], asked: str) -> Creator:
    """``webapp.user-detail`` → Creator, or the error it signals.

    ``asked`` is how the user named the account (for messages).
    """
    detail = scope.get("webapp.user-detail")
    if not isinstance(detail, dict):
        raise MalformedResponse(
            f"TikTok's profile page for {asked} has no user details; try again later"
        )
    user = as_dict(get(detail, "userInfo", "user"))
    code = status_code(detail)
    if code == 0 and not user:
        code = 10221
    if user and as_bool(user.get("privateAccount")) and code in (0, 10222):
        code = 10222
    err = status_error(code, asked, msg=as_str(detail.get("statusMsg")))
    if err is not None:
        raise err
    creator = parse_creator(user)
    if not creator.user_id:
        raise MalformedResponse(f"TikTok's profile of {asked} has no user id; try again later")
    return creator


def _id_or_empty(text: str) -> str:
    """A TikTok id: ASCII digits only (anything else is dropped, never sent back)."""
    text = text.strip()
    return text if re.fullmatch(r"[0-9]{1,32}", text) else ""


def parse_creator(user: Any, fallback: Creator | None = None) -> Creator:
    u = as_dict(user)
    fb = fallback or Creator(unique_id="")
    return Creator(
        unique_id=as_str(u.get("uniqueId")) or fb.unique_id,
        nickname=as_str(u.get("nickname")) or fb.nickname,
        user_id=_id_or_empty(as_str(u.get("id"))) or fb.user_id,
        sec_uid=as_str(u.get("secUid")) or fb.sec_uid,
        private=as_bool(u.get("privateAccount")) or fb.private,
        verified=as_bool(u.get("verified")) or fb.verified,
    )


# --------------------------------------------------------------------------- media sources


def codec_of(codec_type: Any, *hints: Any) -> Codec:
    texts = [as_str(codec_type).lower()] + [as_str(h).lower() for h in hints]
    for text in texts:
        if not text:
            continue
        if "bytevc2" in text:
            return Codec.BYTEVC2
        if "bytevc1" in text or "h265" in text or "hevc" in text or "hvc1" in text:
            return Codec.HEVC
        if "h264" in text or "avc" in text:
            return Codec.H264
    return Codec.UNKNOWN


def _bitrate_sources(video: dict[str, Any]) -> list[MediaSource]:
    out: list[MediaSource] = []
    for entry in as_list(video.get("bitrateInfo")):
        if not isinstance(entry, dict):
            continue
        play = entry.get("PlayAddr")
        if play is None:
            play = entry.get("playAddr")
        play_d = as_dict(play)
        url_key = as_str(play_d.get("UrlKey"))
        codec = codec_of(entry.get("CodecType"), url_key, entry.get("GearName"))
        width = as_int(play_d.get("Width"))
        height = as_int(play_d.get("Height"))
        size = as_opt_int(play_d.get("DataSize"))
        label = as_str(entry.get("GearName")) or url_key
        for url in url_list(play):
            out.append(
                MediaSource(
                    url=url,
                    codec=codec,
                    width=max(width, 0),
                    height=max(height, 0),
                    bitrate=max(as_int(entry.get("Bitrate")), 0),
                    data_size=size if size is not None and size > 0 else None,
                    label=label,
                )
            )
    return out


def rank_sources(
    video: dict[str, Any], *, prefer_h264: bool = True
) -> tuple[MediaSource, ...]:
    """Every usable video URL, best first.

    Order of the ``bitrateInfo`` renditions: when ``prefer_h264`` (the user
    asked for compatibility) H.264 first, then HEVC, then unknown codecs, each
    group by resolution (pixels) then bitrate; without it, by resolution then
    bitrate whatever the codec. Then ``playAddr``; then the watermarked
    ``downloadAddr``;
    ``bytevc2`` renditions last of all. Duplicate URLs and ``/aweme/v1/play/``
    URLs are dropped.
    """
    renditions = _bitrate_sources(video)
    codec_rank = {Codec.H264: 0, Codec.HEVC: 1, Codec.UNKNOWN: 2, Codec.BYTEVC2: 3}

    def key(s: MediaSource) -> tuple[int, int, int, int]:
        return (
            codec_rank[s.codec] if prefer_h264 else 0,
            -(s.width * s.height),
            -s.bitrate,
            0,
        )

    playable = sorted((s for s in renditions if s.codec != Codec.BYTEVC2), key=key)
    last = sorted((s for s in renditions if s.codec == Codec.BYTEVC2), key=key)
    width = max(as_int(video.get("width")), 0)
    height = max(as_int(video.get("height")), 0)
    base_codec = codec_of(video.get("codecType"))
    fallbacks = [
        MediaSource(url=u, codec=base_codec, width=width, height=height, label="playAddr")
        for u in url_list(video.get("playAddr"))
    ] + [
        MediaSource(
            url=u, codec=base_codec, width=width, height=height, label="downloadAddr",
            watermarked=True,
        )
        for u in url_list(video.get("downloadAddr"))
    ]
    seen: set[str] = set()
    ranked: list[MediaSource] = []
    for s in [*playable, *fallbacks, *last]:
        if s.url in seen or not _usable_url(s.url):
            continue
        seen.add(s.url)
        ranked.append(s)
    return tuple(ranked)


def parse_images(image_post: Any) -> tuple[ImageSource, ...]:
    """Every image of a photo post, in order. An image without a usable URL is kept with
    ``urls=()`` (the story list leaves them out at times; the post page has them)."""
    out: list[ImageSource] = []
    for image in as_list(get(image_post, "images")):
        if not isinstance(image, dict):
            continue
        raw = image.get("imageURL", image.get("imageUrl", image.get("display_image")))
        urls: list[str] = []
        for u in url_list(raw):
            if _usable_url(u) and u not in urls:
                urls.append(u)
        out.append(
            ImageSource(
                urls=tuple(urls),
                width=max(as_int(image.get("imageWidth")), 0),
                height=max(as_int(image.get("imageHeight")), 0),
            )
        )
    return tuple(out)


def parse_sound(music: Any) -> Sound | None:
    m = as_dict(music)
    urls = [u for u in url_list(m.get("playUrl")) if _usable_url(u)]
    if not urls:
        return None
    return Sound(
        url=urls[0],
        title=as_str(m.get("title")),
        author=as_str(m.get("authorName")),
        duration=max(as_float(m.get("duration")), 0.0),
        id=as_str(m.get("id")),
    )


def parse_music(music: Any) -> Music | None:
    """Whose sound it is (``original``, ``title``, ``authorName``, ``album``), with or
    without a URL to save."""
    m = as_dict(music)
    if not m:
        return None
    original = m.get("original")
    return Music(
        title=as_str(m.get("title")),
        author=as_str(m.get("authorName")),
        album=as_str(m.get("album")),
        original=original if isinstance(original, bool) else None,
    )


# --------------------------------------------------------------------------- items


def _epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def item_story_hint(item: Any) -> bool:
    """Does the item itself say it is a story (``story`` block, awemeType 40, storyType 1)?"""
    it = as_dict(item)
    if isinstance(it.get("story"), dict) and it["story"]:
        return True
    for key in ("awemeType", "aweme_type", "AwemeType"):
        if as_int(it.get(key), -1) == 40:
            return True
    for key in ("storyType", "story_type", "isStory", "is_story"):
        if key in it and as_int(it.get(key), 1 if as_bool(it.get(key)) else 0) >= 1:
            return True
    return False


def parse_item(
    item: Any,
    *,
    service: Service,
    prefer_h264: bool = True,
    creator: Creator | None = None,
    is_story: bool = True,
) -> Story:
    """One itemStruct (story or post) → Story.

    ``creator`` fills in what the item's ``author`` block leaves out. For a
    story, ``expires_at`` is ``story.ExpiredAt`` (ms) when given, else 24 h
    after ``createTime``; for an ordinary post it is None.
    """
    it = as_dict(item)
    story_id = as_str(it.get("id")).strip()
    if not re.fullmatch(r"[0-9]{1,25}", story_id):
        raise MalformedResponse("TikTok sent an item without a usable id; try again later")
    author = parse_creator(it.get("author"), creator)
    expired_ms = as_opt_int(get(it, "story", "ExpiredAt"))
    if expired_ms is None:
        expired_ms = as_opt_int(get(it, "story", "expiredAt"))
    create_s = as_opt_int(it.get("createTime"))
    created = _epoch(create_s) if create_s is not None and create_s > 0 else None
    expires: datetime | None = None
    if expired_ms is not None and expired_ms > 0:
        expires = _epoch(expired_ms / 1000)
    if expires is not None and created is not None and expires <= created:
        expires = None  # an expiry before the post (junk, or seconds sent as ms): not believed
    if created is None:
        if expires is None:
            raise MalformedResponse(
                f"TikTok sent item {story_id} without a creation time; try again later"
            )
        created = expires - STORY_LIFETIME
    if is_story:
        if expires is None:
            try:
                expires = created + STORY_LIFETIME
            except OverflowError:
                raise MalformedResponse(
                    f"TikTok sent item {story_id} with an impossible time; try again later"
                ) from None
    else:
        expires = None
    video = as_dict(it.get("video"))
    images = parse_images(it.get("imagePost"))
    sound = parse_sound(it.get("music"))
    kind = Kind.PHOTO if images else Kind.VIDEO
    sources = () if kind is Kind.PHOTO else rank_sources(video, prefer_h264=prefer_h264)
    duration = max(as_float(video.get("duration")), 0.0)
    if kind is Kind.PHOTO:
        has_sound: bool | None = sound is not None
        width = images[0].width
        height = images[0].height
        if sound is None:
            duration = 0.0
    else:
        has_sound = None
        width = max(as_int(video.get("width")), 0)
        height = max(as_int(video.get("height")), 0)
    # age-gated (2026): TikTok classifies the post and sends no usable URL to the public
    usable = any(img.urls for img in images) if kind is Kind.PHOTO else bool(sources)
    age_gated = as_bool(it.get("isContentClassified")) and not usable
    caption = as_str(it.get("desc"))
    if not caption and kind is Kind.PHOTO:
        caption = as_str(get(it, "imagePost", "title"))
    user_part = author.unique_id or ""
    return Story(
        id=story_id,
        creator=author,
        created_at=created,
        expires_at=expires,
        caption=caption,
        kind=kind,
        duration=duration,
        width=width,
        height=height,
        sources=sources,
        images=images,
        sound=sound,
        canonical_url=service.url(f"/@{path_part(user_part)}/video/{story_id}"),
        is_story=is_story,
        has_sound=has_sound,
        music=parse_music(it.get("music")),
        age_gated=age_gated,
    )


@dataclass(frozen=True)
class StoryPage:
    """One page of ``api/story/item_list/``."""

    stories: tuple[Story, ...]
    item_ids: tuple[str, ...]  # every id on the page, parsed or not (repeat detection)
    has_more: bool
    max_cursor: int | None
    last_create_ms: int | None  # the last item's createTime * 1000
    skipped: int  # items that could not be understood
    present: bool  # False when itemList was absent (no active story)


def parse_story_page(
    data: Any,
    *,
    service: Service,
    prefer_h264: bool = True,
    creator: Creator | None = None,
    what: str = "the creator",
) -> StoryPage:
    d = as_dict(data)
    code = status_code(d)
    err = status_error(code, what, msg=as_str(d.get("status_msg") or d.get("statusMsg")))
    if err is not None:
        raise err
    raw_items = d.get("itemList")
    present = raw_items is not None
    stories: list[Story] = []
    ids: list[str] = []
    skipped = 0
    last_create: int | None = None
    for raw in as_list(raw_items):
        ids.append(as_str(get(raw, "id")))
        ct = as_opt_int(get(raw, "createTime"))
        if ct is not None and ct > 0:
            last_create = ct * 1000
        try:
            stories.append(
                parse_item(raw, service=service, prefer_h264=prefer_h264, creator=creator)
            )
        except MalformedResponse:
            skipped += 1
    has_more_raw = d.get("HasMoreAfter", d.get("hasMoreAfter"))
    return StoryPage(
        stories=tuple(stories),
        item_ids=tuple(ids),
        has_more=as_bool(has_more_raw),
        max_cursor=as_opt_int(d.get("MaxCursor", d.get("maxCursor"))),
        last_create_ms=last_create,
        skipped=skipped,
        present=present,
    )


def video_detail_item(scope: dict[str, Any], what: str) -> dict[str, Any] | None:
    """The itemStruct of a post page, None when ``webapp.video-detail`` is missing."""
    detail = scope.get("webapp.video-detail")
    if detail is None:
        return None
    if not isinstance(detail, dict):
        raise MalformedResponse(f"TikTok's page for {what} has unreadable details; try later")
    err = status_error(status_code(detail), what, msg=as_str(detail.get("statusMsg")))
    if err is not None:
        raise err
    item = get(detail, "itemInfo", "itemStruct")
    if not isinstance(item, dict) or not item:
        raise PostUnavailable(f"{what} is not available any more (TikTok sent no details)")
    return item


def seo_canonical(scope: dict[str, Any]) -> str | None:
    url = as_str(get(scope, "seo.abtest", "canonical"))
    return url if _usable_url(url) else None


# what may stay as is in a path segment or header built from server text; the rest is %XX
_URL_SAFE = "/:@!$&'()*+,;=-._~?#[]%"


def path_part(text: str) -> str:
    """Server text (a user name) as one URL path segment: percent-encoded, no '/' or '?'."""
    return quote(text, safe="@!$&'()*+,;=-._~")


def header_url(url: str) -> str:
    """A URL fit for a header (Referer): non-ASCII, spaces and control characters
    percent-encoded (h11 refuses them, and a NUL would read as a network error)."""
    return quote(url, safe=_URL_SAFE)


def expiry_from_url(url: str) -> int | None:
    """The epoch-seconds expiry a signed media URL carries (``expire`` / ``x-expires``)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in ("expire", "x-expires") and value.isascii() and value.isdigit() \
                and len(value) < 15:
            return int(value)
    return None


def unique(items: Iterable[Story]) -> list[Story]:
    seen: set[str] = set()
    out: list[Story] = []
    for s in items:
        if s.id not in seen:
            seen.add(s.id)
            out.append(s)
    return out
