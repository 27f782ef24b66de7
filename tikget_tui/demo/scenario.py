"""What the stand-in service plays: creators, their stories, posts, short links, faults.

Plain mutable dataclasses, so a test (or the demo) can change a knob while the
server runs: ``server.scenario.faults.too_many = 2``,
``server.scenario.story(DEMO_EXPIRING_STORY).removed = True``.

Story times are offsets in seconds from ``Scenario.epoch`` (the moment the
server started, read from its clock), so the same scenario works with the
real clock in the demo and a fake one in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tikget_tui.models import Kind

HOUR = 3600.0
STORY_LIFETIME = 24 * HOUR

# Identifiers of the default scenario, for tests and docs.
DEMO_CREATOR = "mika.travels"
DEMO_PHOTO_CREATOR = "studio.photos"
DEMO_EMPTY_CREATOR = "quiet.creator"
DEMO_PRIVATE_CREATOR = "secret.garden"
DEMO_HOSTILE_CREATOR = "weird.names"
DEMO_NO_LINKS_CREATOR = "links.elsewhere"  # its list items carry no media links (post pages do)
DEMO_DIGIT_CREATOR = "20261203"  # an all-digit username; its numeric id is another number
DEMO_EXPIRING_STORY = "7440000000000000004"  # expires 90 s after the server starts
DEMO_HEVC_STORY = "7440000000000000005"
DEMO_PHOTO_STORY = "7440000000000000006"
DEMO_SILENT_HEVC_STORY = "7440000000000000031"  # video-only HEVC 360p + H.264 270p with sound
DEMO_VIDEO_ONLY_MEDIA = "hevc_silent"  # its best gear: HEVC, no audio stream
DEMO_VIDEO_ONLY_FALLBACK = "h264_270"  # its second gear: H.264, lower resolution, AAC sound
DEMO_POST = "7430000000000000001"
DEMO_QUIET_POST = "7430000000000000002"
DEMO_REMOVED_POST = "7430000000000000003"
DEMO_PRIVATE_POST = "7430000000000000004"
DEMO_REGION_POST = "7430000000000000005"
DEMO_LOGIN_POST = "7430000000000000006"
DEMO_CANONICAL_POST = "7430000000000000007"
DEMO_AGE_GATED_POST = "7430000000000000008"  # isContentClassified, no URL (its music has one)
DEMO_SHORT_POST = "ZMdemo001"
DEMO_SHORT_STORY = "ZMstory01"
DEMO_SHORT_PHOTO = "ZMphoto01"
DEMO_SHORT_GONE = "ZMgone000"


class Quirk(StrEnum):
    """Ways the story list pages misbehave (per creator)."""

    MISSING_CURSOR = "missing_cursor"  # no MaxCursor in the response
    STALE_CURSOR = "stale_cursor"  # MaxCursor never increases (always "0")
    REPEAT_PAGE = "repeat_page"  # cursor ignored: the same page forever, HasMoreAfter true
    ENDLESS_MORE = "endless_more"  # HasMoreAfter stays true after the last story (empty pages)
    BITRATE_OBJECT = "bitrate_object"  # video.bitrateInfo is one object, not a list
    STRINGS = "strings"  # numbers sent as strings


class ChallengeMode(StrEnum):
    OFF = "off"
    FIRST_VISIT = "first_visit"  # until the client presents a solved cookie
    ALWAYS = "always"  # never accepts a solution (for give-up tests)


class PostStatus(StrEnum):
    OK = "ok"
    REMOVED = "removed"  # video-detail statusCode 10204
    PRIVATE = "private"  # 10216
    REGION_LOCKED = "region_locked"  # 10231
    LOGIN_REQUIRED = "login_required"  # 302 to /login


@dataclass
class MediaFaults:
    """How the media endpoints misbehave for one story (or all, as the server default)."""

    drop_after: int | None = None  # cut the connection after this many body bytes ...
    drop_times: int = 1  # ... for this many requests per file, then serve normally
    bytes_per_second: float | None = None  # slow body
    ignore_range: bool = False  # answer 200 with the full body even to a Range request
    content_length_delta: int = 0  # announce a Content-Length off by this many bytes
    url_lifetime: float = 6 * HOUR  # the signed URLs' expire = now + this
    dies_with_story: bool = False  # after the story expires: 403, and bodies in flight are cut

    @property
    def plain(self) -> bool:
        """True when FileResponse can serve the file as is."""
        return (self.drop_after is None and self.bytes_per_second is None
                and not self.ignore_range and self.content_length_delta == 0
                and not self.dies_with_story)


@dataclass
class Faults:
    """Server-wide knobs. Counters go down by one for each request they hit."""

    challenge: ChallengeMode = ChallengeMode.OFF  # page requests only
    challenge_max: int = 20_000  # the secret i is below this (TikTok: up to 1,000,000)
    challenge_wording: str = "Please wait..."  # the page's visible text (TikTok's varies)
    challenge_padding: int = 0  # bytes of inline script on the page (variants over 64 KiB)
    # the story list repeats its first page (cursor ignored) for device ids outside what
    # the app issues, and for the next ``repeating_devices`` new device ids it sees
    foreign_devices_repeat: bool = True
    repeating_devices: int = 0
    # short-link hosts ("vm", "vt") that cannot be reached: the connection closes unanswered
    # (how a host that does not resolve looks to the client, played on loopback)
    short_hosts_down: set[str] = field(default_factory=set)
    empty_bodies: int = 0  # next N matching requests: 200 with an empty body
    too_many: int = 0  # next N matching requests: 429
    retry_after: str | None = None  # Retry-After header sent with the 429s
    server_errors: int = 0  # next N matching requests: 503
    fault_kinds: set[str] = field(default_factory=lambda: {"api"})  # "page", "api", "media"
    media: MediaFaults = field(default_factory=MediaFaults)
    # hostile mode (demo/hostile.py): an Attack value, the request kinds it hits, how often
    attack: str | None = None
    attack_kinds: set[str] = field(default_factory=lambda: {"page", "api", "media"})
    attack_times: int | None = None  # None: every matching request
    bomb_size: int = 1 << 30  # GZIP_BOMB: decoded size
    slow_interval: float = 10.0  # SLOW: seconds between bytes
    oversize_bytes: int = 329 * 1000 * 1000  # OVERSIZE: announced and sent
    redirect_to: str = "http://127.0.0.1:9"  # REDIRECT_AWAY: origin outside TikTok
    author_name: str | None = None  # every item's author.uniqueId (server text)


@dataclass
class DemoStory:
    id: str
    media: str = ""  # MediaCatalog name of the best gear ("" for photo stories)
    caption: str = ""
    created: float = -HOUR  # offset from the scenario epoch, seconds
    expires: float | None = None  # offset from the epoch; None: created + 24 h
    kind: Kind = Kind.VIDEO
    images: list[str] = field(default_factory=list)  # MediaCatalog names, photo stories
    sound: str | None = None  # MediaCatalog name of the MP3 (music.playUrl)
    sound_title: str = "original sound"
    gears: list[str] = field(default_factory=list)  # further video gears (other media names)
    expired_at_field: bool = True  # send story.ExpiredAt (else the client assumes 24 h)
    removed: bool = False  # gone: not listed, 10204, media 403
    media_faults: MediaFaults | None = None  # None: the server default (Faults.media)
    cover: str = "cover_a"
    age_gated: bool = False  # isContentClassified: no video/image URL for the public
    # the media links of its story-list item: "ok"; "none" (left out, its post page has
    # them); "refused" (the CDN answers 403 to them, not to its post page's links)
    list_urls: str = "ok"
    page_urls: str = "ok"  # the same for its post page's item

    def expires_offset(self) -> float:
        return self.expires if self.expires is not None else self.created + STORY_LIFETIME


@dataclass
class DemoCreator:
    username: str
    nickname: str
    user_id: str
    sec_uid: str
    signature: str = ""
    private: bool = False
    verified: bool = False
    stories: list[DemoStory] = field(default_factory=list)
    quirks: set[Quirk] = field(default_factory=set)
    followers: int = 1200
    following: int = 180
    likes: int = 35000
    videos: int = 42


@dataclass
class DemoPost:
    """An ordinary post (never expires)."""

    id: str
    username: str
    media: str = ""
    caption: str = ""
    created: float = -3 * 24 * HOUR
    status: PostStatus = PostStatus.OK
    kind: Kind = Kind.VIDEO
    images: list[str] = field(default_factory=list)
    sound: str | None = None
    sound_title: str = "original sound"
    canonical_only: bool = False  # non-canonical URL shapes: no video-detail, seo canonical
    cover: str = "cover_b"
    age_gated: bool = False  # isContentClassified: no video/image URL for the public


@dataclass
class Scenario:
    creators: dict[str, DemoCreator] = field(default_factory=dict)
    posts: dict[str, DemoPost] = field(default_factory=dict)
    short_links: dict[str, str] = field(default_factory=dict)  # code -> post or story id
    faults: Faults = field(default_factory=Faults)
    epoch: float | None = None  # set from the server's clock at start when None

    def creator(self, username: str) -> DemoCreator | None:
        return self.creators.get(username.lower())

    def creator_by_id(self, user_id: str) -> DemoCreator | None:
        return next((c for c in self.creators.values() if c.user_id == user_id), None)

    def story(self, story_id: str) -> DemoStory:
        found = self.find_story(story_id)
        if found is None:
            raise KeyError(story_id)
        return found[1]

    def find_story(self, story_id: str) -> tuple[DemoCreator, DemoStory] | None:
        for c in self.creators.values():
            for s in c.stories:
                if s.id == story_id:
                    return c, s
        return None

    def add_creator(self, creator: DemoCreator) -> DemoCreator:
        self.creators[creator.username.lower()] = creator
        return creator

    def media_faults_for(self, story: DemoStory | None) -> MediaFaults:
        if story is not None and story.media_faults is not None:
            return story.media_faults
        return self.faults.media


def _uid(n: int) -> str:
    return f"68{n:017d}"


def _sec_uid(n: int) -> str:
    return f"MS4wLjABAAAAdemo{n:04d}Zk9vYmFyX2RlbW9fc2VjX3VpZF9mb3JfdGlrZ2V0"


def people_scenario() -> Scenario:
    """What a person meets in ``tikget --demo`` and ``tikget demo-server``: the default
    scenario, plus TikTok's proof-of-work page on a client's first visit (as the real
    site does), so the demo walks the same path as the real thing; and @big.files, whose
    large stories arrive slowly enough to try the queue's keys."""
    scenario = default_scenario()
    scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    scenario.faults.challenge_max = 200_000
    add_big_files_creator(scenario)
    return scenario


def default_scenario() -> Scenario:
    """The built-in demo: what a new user sees with ``tikget --demo``."""
    m = DemoCreator(
        username=DEMO_CREATOR, nickname="Mika ✈️ 旅行日記", user_id=_uid(1), sec_uid=_sec_uid(1),
        signature="Slow travel, fast trains 🚄 · Lisboa → Kyōto", verified=True,
        followers=48210, videos=312,
        stories=[
            DemoStory("7440000000000000001", "h264_a", "Sunrise over Alfama 🌅 #lisboa",
                      created=-20 * HOUR, sound="sound_a", sound_title="Fado da manhã"),
            DemoStory("7440000000000000002", "h264_b", "Coffee first ☕️", created=-15 * HOUR,
                      cover="cover_b"),
            DemoStory("7440000000000000003", "h264_c", "Tram 28, every single seat taken 😅",
                      created=-9 * HOUR),
            DemoStory(DEMO_EXPIRING_STORY, "h264_b", "Last call: this one disappears soon ⏳",
                      created=-(24 * HOUR - 90), expires=90.0, cover="cover_b"),
            DemoStory(DEMO_HEVC_STORY, "hevc_540", "Night market in HEVC 🌃 夜市",
                      created=-5 * HOUR, gears=["hevc_h264_360"]),
            DemoStory(DEMO_PHOTO_STORY, kind=Kind.PHOTO, caption="Azulejos, a tiny gallery 🧱💙",
                      images=["photo_1", "photo_2", "photo_3"], sound="sound_b",
                      sound_title="Guitarra portuguesa", created=-3 * HOUR),
            DemoStory("7440000000000000007", "h264_d", "Packing for Kyōto — what fits? 🎒",
                      created=-1 * HOUR, expired_at_field=False),
        ],
    )
    photos = DemoCreator(
        username=DEMO_PHOTO_CREATOR, nickname="Studio Photos · Ana Ribeiro 📷",
        user_id=_uid(2), sec_uid=_sec_uid(2), signature="Film & digital. Prints in bio.",
        stories=[
            DemoStory("7440000000000000021", kind=Kind.PHOTO, caption="Contact sheet #12",
                      images=["photo_4", "photo_1", "photo_3", "photo_2"], sound="sound_a",
                      created=-6 * HOUR),
            DemoStory("7440000000000000022", kind=Kind.PHOTO, caption="Behind the scenes ✨",
                      images=["photo_2", "photo_3"], created=-2 * HOUR),
        ],
    )
    quiet = DemoCreator(
        username=DEMO_EMPTY_CREATOR, nickname="Quiet Creator", user_id=_uid(3),
        sec_uid=_sec_uid(3), signature="Posting rarely.", videos=3,
    )
    private = DemoCreator(
        username=DEMO_PRIVATE_CREATOR, nickname="🌿 secret garden", user_id=_uid(4),
        sec_uid=_sec_uid(4), private=True,
        stories=[DemoStory("7440000000000000041", "h264_b", "friends only", created=-HOUR)],
    )
    hostile = DemoCreator(
        username=DEMO_HOSTILE_CREATOR,
        nickname="[bold]x[/] \x1b[31mred\x1b[0m \u202eevil\u202c <b>hi</b>",
        user_id=_uid(5), sec_uid=_sec_uid(5),
        signature="[link=https://example.invalid]click[/link] $(rm -rf ~)",
        stories=[
            # TikTok at times lists a video-only HEVC rendition above one with sound
            DemoStory(DEMO_SILENT_HEVC_STORY, DEMO_VIDEO_ONLY_MEDIA,
                      "../../etc/passwd [red]not markup[/red] \x1b[2J\u202egpj.exe CON:nul? *|<>",
                      created=-4 * HOUR, gears=[DEMO_VIDEO_ONLY_FALLBACK]),
        ],
    )
    # 2026: the story list sends items without media links; each post page has them
    no_links = DemoCreator(
        username=DEMO_NO_LINKS_CREATOR, nickname="Links Elsewhere", user_id=_uid(6),
        sec_uid=_sec_uid(6), signature="Everything on the post pages.",
        stories=[
            DemoStory("7440000000000000051", "h264_b", "Morning run 🏃", created=-7 * HOUR,
                      list_urls="none"),
            DemoStory("7440000000000000052", kind=Kind.PHOTO, caption="Two postcards",
                      images=["photo_1", "photo_2"], created=-5 * HOUR, list_urls="none"),
            DemoStory("7440000000000000053", "h264_d", "Evening swim 🌊", created=-2 * HOUR,
                      list_urls="none"),
        ],
    )
    digits = DemoCreator(
        username=DEMO_DIGIT_CREATOR, nickname="Dec 3rd 2026", user_id=_uid(7),
        sec_uid=_sec_uid(7), signature="A handle of digits only.",
        stories=[DemoStory("7440000000000000071", "h264_c", "Numbers are names too 🔢",
                           created=-4 * HOUR)],
    )
    scenario = Scenario()
    for c in (m, photos, quiet, private, hostile, no_links, digits):
        scenario.add_creator(c)
    posts = [
        DemoPost(DEMO_POST, DEMO_CREATOR, "h264_c", "Best pastel de nata in town? 🥧 #lisboa",
                 sound="sound_a"),
        DemoPost(DEMO_QUIET_POST, DEMO_EMPTY_CREATOR, "h264_b", "hello world 👋"),
        DemoPost(DEMO_REMOVED_POST, DEMO_CREATOR, "h264_b", "gone", status=PostStatus.REMOVED),
        DemoPost(DEMO_PRIVATE_POST, DEMO_CREATOR, "h264_b", "private", status=PostStatus.PRIVATE),
        DemoPost(DEMO_REGION_POST, DEMO_CREATOR, "h264_b", "not here",
                 status=PostStatus.REGION_LOCKED),
        DemoPost(DEMO_LOGIN_POST, DEMO_CREATOR, "h264_b", "login",
                 status=PostStatus.LOGIN_REQUIRED),
        DemoPost(DEMO_CANONICAL_POST, DEMO_EMPTY_CREATOR, "h264_d", "canonical only",
                 canonical_only=True),
        DemoPost(DEMO_AGE_GATED_POST, DEMO_CREATOR, "h264_c", "Late night in Bairro Alto 🍷",
                 sound="sound_a", sound_title="Fado da noite", age_gated=True),
    ]
    scenario.posts = {p.id: p for p in posts}
    scenario.short_links = {
        DEMO_SHORT_POST: DEMO_POST,
        DEMO_SHORT_STORY: "7440000000000000001",
        DEMO_SHORT_PHOTO: DEMO_PHOTO_STORY,
    }
    return scenario


# -- @big.files: large stories served slowly (issue 26) ----------------------------------
# Only in people_scenario (tikget --demo, tikget demo-server), not in the tests' default
# scenario: three stories of 96 MiB each (288 MiB in all) at 3 MB/s per download, so a
# newcomer sees progress, speed and ETA and can try pause (p), resume (u) and cancel (x).
# The media is one padded clip (media.LARGE_SPECS), made when a server first needs it.

DEMO_BIG_CREATOR = "big.files"
DEMO_BIG_RATE = 3_000_000.0  # bytes per second, per download
DEMO_BIG_STORIES = ("7440000000000000061", "7440000000000000062", "7440000000000000063")


def add_big_files_creator(scenario: Scenario) -> DemoCreator:
    slow = MediaFaults(bytes_per_second=DEMO_BIG_RATE)
    captions = ("Harbour timelapse, full quality 🐢", "Night train, uncut 🚆",
                "Rooftop rain, one long take 🌧️")
    return scenario.add_creator(DemoCreator(
        username=DEMO_BIG_CREATOR, nickname="Big Files · served slowly", user_id=_uid(61),
        sec_uid=_sec_uid(61), signature="Large stories on a slow line: try p, u and x.",
        stories=[DemoStory(sid, "large_a", caption, created=-(8 - 2 * i) * HOUR,
                           media_faults=slow)
                 for i, (sid, caption) in enumerate(zip(DEMO_BIG_STORIES, captions,
                                                        strict=True))],
    ))
