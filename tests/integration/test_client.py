"""TikTokClient against the stand-in service over real loopback sockets."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from tests.plugins.tiktok import ClientFactory, Redirector, SleepLog
from tikget_tui.clock import FakeClock
from tikget_tui.commands import stories as stories_cmd
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, DemoServerThread, MediaCatalog, Scenario, people_scenario
from tikget_tui.demo.scenario import (
    DEMO_CANONICAL_POST,
    DEMO_CREATOR,
    DEMO_DIGIT_CREATOR,
    DEMO_EMPTY_CREATOR,
    DEMO_EXPIRING_STORY,
    DEMO_HEVC_STORY,
    DEMO_HOSTILE_CREATOR,
    DEMO_LOGIN_POST,
    DEMO_PHOTO_CREATOR,
    DEMO_PHOTO_STORY,
    DEMO_POST,
    DEMO_PRIVATE_CREATOR,
    DEMO_PRIVATE_POST,
    DEMO_REGION_POST,
    DEMO_REMOVED_POST,
    DEMO_SHORT_GONE,
    DEMO_SHORT_PHOTO,
    DEMO_SHORT_POST,
    DEMO_SHORT_STORY,
    ChallengeMode,
    MediaFaults,
    Quirk,
)
from tikget_tui.links import PostTarget, ShortLink, UserTarget
from tikget_tui.models import Codec, Kind
from tikget_tui.tiktok import (
    ChallengeFailed,
    LoginRequired,
    MalformedResponse,
    MediaExpired,
    MediaForbidden,
    MediaNotFound,
    NetworkError,
    PostUnavailable,
    PrivateAccount,
    PrivatePost,
    RangeNotSatisfiable,
    RefusedHost,
    RegionLocked,
    Throttled,
    TikTokClient,
    UserNotFound,
)
from tikget_tui.tiktok.client import DEVICE_ID_MAX, DEVICE_ID_MIN, new_device_id

MIKA_STORIES = 7


def api_params(server: DemoServer) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query, keep_blank_values=True) for r in server.stats.of_kind("api")]


async def read_all(client: TikTokClient, url: str, **kw: object) -> tuple[int, int, bytes]:
    async with client.open_media(url, **kw) as media:  # type: ignore[arg-type]
        body = b"".join([chunk async for chunk in media.aiter_bytes(8192)])
        return media.status, media.range_start, body


# ----------------------------------------------------------------------------- story lists


async def test_multi_page_listing(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    result = await tiktok_client.lookup_stories(UserTarget(DEMO_CREATOR))
    assert result.reason == ""
    assert result.creator.unique_id == DEMO_CREATOR and result.creator.user_id
    assert result.creator.nickname == "Mika ✈️ 旅行日記"
    ids = [s.id for s in result.stories]
    assert len(ids) == MIKA_STORIES == len(set(ids))
    assert [s.created_at for s in result.stories] == sorted(s.created_at for s in result.stories)
    by_id = {s.id: s for s in result.stories}
    photo = by_id[DEMO_PHOTO_STORY]
    assert photo.kind is Kind.PHOTO and len(photo.images) == 3 and photo.sound is not None
    hevc = by_id[DEMO_HEVC_STORY]
    # prefer_h264 (the default, compatibility): H.264 360p ranks above HEVC 540p
    gears = [(s.codec, s.height) for s in hevc.sources if s.label.startswith(("normal", "adapt"))]
    assert gears == [(Codec.H264, 640)] * 2 + [(Codec.HEVC, 960)] * 2  # two CDN regions each
    for story in result.stories:
        assert story.is_story and story.expires_at is not None
        assert story.canonical_url == f"{demo_server.origin}/@{DEMO_CREATOR}/video/{story.id}"
        assert all("/aweme/v1/play" not in s.url for s in story.sources)
        if story.kind is Kind.VIDEO:
            assert story.sources and story.duration > 0
    # no ExpiredAt → 24 h after creation
    last = by_id["7440000000000000007"]
    assert last.expires_at == last.created_at + timedelta(hours=24)
    # two pages, all fixed web params, Referer = profile URL, cursor = previous MaxCursor
    params = api_params(demo_server)
    assert len(params) == 2
    for p in params:
        for key, value in [("aid", "1988"), ("app_name", "tiktok_web"), ("count", "5"),
                           ("device_platform", "web_pc"), ("loadBackward", "false"),
                           ("browser_version", "5.0 (Windows)"), ("priority_region", ""),
                           ("tz_name", "UTC"), ("from_page", "user"),
                           ("authorId", result.creator.user_id)]:
            assert p[key] == [value]
        assert DEVICE_ID_MIN <= int(p["device_id"][0]) <= DEVICE_ID_MAX
        assert re.fullmatch(r"verify_[0-9a-f]{7}", p["verifyFp"][0])
    assert params[0]["cursor"] == ["0"]
    fifth = result.stories[4]
    assert params[1]["cursor"] == [str(int(fifth.created_at.timestamp()) * 1000)]
    for record in demo_server.stats.of_kind("api"):
        assert record.referer == f"{demo_server.origin}/@{DEMO_CREATOR}"
        assert {"tt_chain_token", "ttwid"} <= set(record.cookie_names)


@pytest.mark.parametrize("quirk", [Quirk.MISSING_CURSOR, Quirk.STALE_CURSOR, Quirk.STRINGS,
                                   Quirk.BITRATE_OBJECT])
async def test_listing_quirks(demo_server: DemoServer, tiktok_client: TikTokClient,
                              quirk: Quirk) -> None:
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(quirk)
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    params = api_params(demo_server)
    assert len(params) == 2
    if quirk in (Quirk.MISSING_CURSOR, Quirk.STALE_CURSOR):
        # fallback: the last item's createTime * 1000
        assert params[1]["cursor"] == [str(int(result.stories[4].created_at.timestamp()) * 1000)]
    assert all(s.sources for s in result.stories if s.kind is Kind.VIDEO)


def test_device_ids_are_drawn_from_the_range_the_app_issues() -> None:
    ids = {new_device_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 19 and DEVICE_ID_MIN <= int(i) <= DEVICE_ID_MAX for i in ids)


async def test_repeated_pages_try_more_than_one_fresh_device_id(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.repeating_devices = 3  # the first id and two fresh ones
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES and result.incomplete == ""
    devices = [p["device_id"][0] for p in api_params(demo_server)]
    assert len(devices) == 5 and len(set(devices)) == 4  # page 1, 3 repeats of page 2...
    assert devices[0] == devices[1]  # ... and page 2 with the third fresh id


async def test_repeated_pages_forever_say_how_many_were_listed_and_why(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == 5  # what the first page had
    assert result.incomplete.startswith("only 5 stories listed: TikTok kept sending the same "
                                        "page of the list (3 fresh device ids tried)")
    devices = [p["device_id"][0] for p in api_params(demo_server)]
    assert len(devices) == 5 and devices[0] == devices[1] and len(set(devices)) == 4


async def test_ids_outside_the_apps_range_get_repeated_pages(
    demo_server: DemoServer, tiktok_client: TikTokClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the stand-in plays (and why the range matters): a 2025-style id repeats."""
    tiktok_client.device_id = "1234567890123456789"
    monkeypatch.setattr(tiktok_client, "regenerate_device", lambda: None)
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == 5 and "same page" in result.incomplete


async def test_page_limit_and_endless_more_are_said(
    demo_server: DemoServer, make_client: ClientFactory
) -> None:
    capped = make_client()
    capped.max_story_pages = 1
    result = await capped.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == 5
    assert result.incomplete == ("only 5 stories listed: the listing stopped at its limit of "
                                 "1 page while TikTok still said there were more; there may "
                                 "be more, look it up again later")
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.ENDLESS_MORE)
    endless = await make_client().lookup_stories(DEMO_CREATOR)
    assert len(endless.stories) == MIKA_STORIES
    assert endless.incomplete.startswith(f"only {MIKA_STORIES} stories listed: TikTok said "
                                         "there were more stories but sent a page without any")
    creator.quirks.discard(Quirk.ENDLESS_MORE)
    whole = await make_client().lookup_stories(DEMO_CREATOR)
    assert whole.incomplete == ""


async def test_all_photo_creator(tiktok_client: TikTokClient) -> None:
    result = await tiktok_client.lookup_stories("@" + DEMO_PHOTO_CREATOR)
    assert [s.kind for s in result.stories] == [Kind.PHOTO, Kind.PHOTO]
    first, second = result.stories
    assert len(first.images) == 4 and first.has_sound and first.sound is not None
    assert len(second.images) == 2 and second.has_sound is False and second.sound is None
    assert all(img.urls and img.width > 0 for img in first.images)


async def test_no_active_story(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    result = await tiktok_client.lookup_stories(DEMO_EMPTY_CREATOR)
    assert result.stories == ()
    assert result.reason == f"@{DEMO_EMPTY_CREATOR} has no active story right now"


async def test_private_and_unknown(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    with pytest.raises(PrivateAccount) as info:
        await tiktok_client.lookup_stories(DEMO_PRIVATE_CREATOR)
    assert "private" in info.value.reason and not info.value.retryable
    with pytest.raises(UserNotFound) as unknown:
        await tiktok_client.lookup_stories("no.such.person")
    assert "@no.such.person" in unknown.value.reason
    assert demo_server.stats.of_kind("api") == []


async def test_an_author_id_skips_the_profile_page(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    creator = demo_server.scenario.creator(DEMO_PHOTO_CREATOR)
    assert creator is not None
    result = await tiktok_client.lookup_stories(UserTarget(None, creator.user_id))
    assert len(result.stories) == 2 and result.creator.unique_id == DEMO_PHOTO_CREATOR
    pages = [r.path for r in demo_server.stats.of_kind("page")]
    assert pages == ["/"]  # only the home page, for the session cookies


async def test_an_all_digit_username_is_a_username_first(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    creator = demo_server.scenario.creator(DEMO_DIGIT_CREATOR)
    assert creator is not None and creator.user_id != DEMO_DIGIT_CREATOR
    for named in ("@" + DEMO_DIGIT_CREATOR, DEMO_DIGIT_CREATOR,
                  UserTarget(DEMO_DIGIT_CREATOR)):
        result = await tiktok_client.lookup_stories(named)
        assert result.creator.unique_id == DEMO_DIGIT_CREATOR, named
        assert result.creator.user_id == creator.user_id
        assert [s.id for s in result.stories] == ["7440000000000000071"]
    ids = {p["authorId"][0] for p in api_params(demo_server)}
    assert ids == {creator.user_id}  # the profile page's id, never the name's digits


async def test_a_bare_number_no_user_is_named_is_an_author_id(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    creator = demo_server.scenario.creator(DEMO_PHOTO_CREATOR)
    assert creator is not None
    result = await tiktok_client.lookup_stories(creator.user_id)  # as the watch list keeps it
    assert len(result.stories) == 2 and result.creator.unique_id == DEMO_PHOTO_CREATOR
    pages = [r.path for r in demo_server.stats.of_kind("page")]
    assert pages[0] == f"/@{creator.user_id}"  # a username first: no such user
    with pytest.raises(UserNotFound):  # with @ it is a username only
        await tiktok_client.lookup_stories("@" + creator.user_id)


async def test_expired_stories_are_dropped_by_the_clients_clock(
    demo_server: DemoServer, make_client: ClientFactory, demo_clock: FakeClock
) -> None:
    later = FakeClock(demo_clock.time() + 120)  # the 90-second story has expired for us
    client = make_client(clock=later)
    result = await client.lookup_stories(DEMO_CREATOR)
    assert DEMO_EXPIRING_STORY not in {s.id for s in result.stories}
    assert len(result.stories) == MIKA_STORIES - 1


# ----------------------------------------------------------------------------- challenge


async def test_challenge_on_first_visit_is_solved_once(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    await tiktok_client.lookup_stories(DEMO_PHOTO_CREATOR)
    assert tiktok_client.challenges_solved == 1
    pages = demo_server.stats.of_kind("page")
    assert len(pages) == 3  # challenge, retry with the cookie, the second profile
    assert "_wafchallengeid" in pages[1].cookie_names


async def test_challenge_in_other_words_and_over_64_kib_is_solved(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    faults = demo_server.scenario.faults
    faults.challenge = ChallengeMode.FIRST_VISIT
    faults.challenge_wording = "Checking your browser before accessing TikTok"
    faults.challenge_padding = 100 * 1024
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES and tiktok_client.challenges_solved == 1


async def test_challenge_cookies_ride_on_the_retry_only(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    await tiktok_client.lookup_stories(DEMO_CREATOR)
    await tiktok_client.resolve(PostTarget(DEMO_POST, DEMO_CREATOR))
    challenge_names = {"_wafchallengeid", "waforiginalreid"}
    carried = [challenge_names & set(r.cookie_names) for r in demo_server.stats.requests]
    assert [bool(c) for c in carried] == [False, True] + [False] * (len(carried) - 2)
    assert not challenge_names & {c.name for c in tiktok_client.cookies.jar}
    assert tiktok_client.challenges_solved == 1  # the session is through: no second puzzle


async def test_challenge_cookies_live_briefly(
    demo_server: DemoServer, tiktok_client: TikTokClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_server.scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    seen: list[float | None] = []
    real = TikTokClient._fetch

    async def spy(self: TikTokClient, url: str, *a: object, **kw: object) -> object:
        seen.extend(c.expires for c in self.cookies.jar if c.name == "_wafchallengeid")
        return await real(self, url, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(TikTokClient, "_fetch", spy)
    started = time.time()
    await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(seen) == 1 and seen[0] is not None
    assert started < seen[0] <= time.time() + 120


async def test_challenge_every_time_fails_clearly(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.challenge = ChallengeMode.ALWAYS
    with pytest.raises(ChallengeFailed) as info:
        await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert "please wait" in info.value.reason and "try again" in info.value.reason
    assert len(demo_server.stats.of_kind("page")) == 2


# ----------------------------------------------------------------------------- throttling


async def test_empty_bodies_back_off_then_succeed(
    demo_server: DemoServer, tiktok_client: TikTokClient, sleep_log: SleepLog
) -> None:
    demo_server.scenario.faults.empty_bodies = 2
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    assert len(sleep_log.delays) == 2
    assert len(demo_server.stats.of_kind("api")) == 4


async def test_empty_bodies_forever_raise_throttled(
    demo_server: DemoServer, make_client: ClientFactory, sleep_log: SleepLog
) -> None:
    demo_server.scenario.faults.empty_bodies = 1000
    client = make_client(max_attempts=3)
    with pytest.raises(Throttled) as info:
        await client.lookup_stories(DEMO_CREATOR)
    assert info.value.retryable and "wait" in info.value.reason
    assert len(demo_server.stats.of_kind("api")) == 3
    assert len(sleep_log.delays) == 2
    assert sleep_log.delays[1] >= sleep_log.delays[0] / 2  # exponential with jitter


async def test_429_honours_retry_after(
    demo_server: DemoServer, tiktok_client: TikTokClient, sleep_log: SleepLog
) -> None:
    demo_server.scenario.faults.too_many = 2
    demo_server.scenario.faults.retry_after = "7"
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    assert sleep_log.delays == [7.0, 7.0]


async def test_429_without_retry_after_backs_off(
    demo_server: DemoServer, tiktok_client: TikTokClient, sleep_log: SleepLog
) -> None:
    demo_server.scenario.faults.too_many = 3
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    assert len(sleep_log.delays) == 3 and all(0 < d < 1 for d in sleep_log.delays)


async def test_429_with_a_long_retry_after_is_reported_not_slept(
    demo_server: DemoServer, tiktok_client: TikTokClient, sleep_log: SleepLog
) -> None:
    demo_server.scenario.faults.too_many = 1
    demo_server.scenario.faults.retry_after = "3600"
    with pytest.raises(Throttled) as info:
        await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert info.value.retry_after == 3600 and "3600 s" in info.value.reason
    assert sleep_log.delays == []


async def test_server_error_burst(
    demo_server: DemoServer, tiktok_client: TikTokClient, make_client: ClientFactory
) -> None:
    faults = demo_server.scenario.faults
    faults.fault_kinds = {"api", "page"}
    faults.server_errors = 3
    result = await tiktok_client.lookup_stories(DEMO_CREATOR)
    assert len(result.stories) == MIKA_STORIES
    statuses = [r.status for r in demo_server.stats.requests]
    assert statuses[:4] == [503, 503, 503, 200]
    faults.server_errors = 1000
    with pytest.raises(NetworkError) as info:
        await make_client(max_attempts=2).lookup_stories(DEMO_CREATOR)
    assert "503" in info.value.reason and info.value.retryable


async def test_unreachable_service_is_a_network_error(
    demo_settings: Settings, make_client: ClientFactory
) -> None:
    # a port nothing listens on: bind, note the port, close
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = make_client(demo_settings.replace(service_origin=f"http://127.0.0.1:{port}"),
                         max_attempts=2)
    with pytest.raises(NetworkError):
        await client.lookup_stories(DEMO_CREATOR)


# ----------------------------------------------------------------------------- posts


async def test_post_pages(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    post = await tiktok_client.resolve(PostTarget(DEMO_POST, DEMO_CREATOR))
    assert post.id == DEMO_POST and not post.is_story and post.expires_at is None
    assert post.sources and post.creator.unique_id == DEMO_CREATOR
    story = await tiktok_client.resolve(PostTarget(DEMO_PHOTO_STORY, DEMO_CREATOR, "photo"))
    assert story.is_story and story.kind is Kind.PHOTO and story.expires_at is not None
    assert all("/photo/" not in r.path for r in demo_server.stats.of_kind("page"))


@pytest.mark.parametrize(
    ("post_id", "error"),
    [(DEMO_REMOVED_POST, PostUnavailable), (DEMO_PRIVATE_POST, PrivatePost),
     (DEMO_REGION_POST, RegionLocked), (DEMO_LOGIN_POST, LoginRequired),
     ("7430000000000009999", PostUnavailable)],
)
async def test_post_errors(tiktok_client: TikTokClient, post_id: str,
                           error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        await tiktok_client.resolve(PostTarget(post_id, DEMO_CREATOR))
    if error is LoginRequired:
        assert "not public" in str(info.value)


async def test_canonical_retry(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    post = await tiktok_client.resolve(PostTarget(DEMO_CANONICAL_POST, None))
    assert post.id == DEMO_CANONICAL_POST and post.creator.unique_id == DEMO_EMPTY_CREATOR
    paths = [r.path for r in demo_server.stats.of_kind("page")]
    assert paths == [f"/@/video/{DEMO_CANONICAL_POST}",
                     f"/@{DEMO_EMPTY_CREATOR}/video/{DEMO_CANONICAL_POST}"]


async def test_short_links(demo_server: DemoServer, tiktok_client: TikTokClient) -> None:
    post = await tiktok_client.resolve(ShortLink(DEMO_SHORT_POST, "t"))
    assert post.id == DEMO_POST and not post.is_story
    story = await tiktok_client.resolve(ShortLink(DEMO_SHORT_STORY, "vm"))
    assert story.id == "7440000000000000001" and story.is_story
    photo = await tiktok_client.resolve(ShortLink(DEMO_SHORT_PHOTO, "vt"))
    assert photo.kind is Kind.PHOTO and photo.is_story
    for code in (DEMO_SHORT_GONE, "ZMnothing"):
        with pytest.raises(PostUnavailable) as info:
            await tiktok_client.resolve(ShortLink(code, "t"))
        assert "gone" in info.value.reason
    short = [r for r in demo_server.stats.requests if r.path.startswith("/t/")]
    assert short and all(r.user_agent == "facebookexternalhit/1.1" for r in short)


async def test_a_vm_code_whose_host_does_not_answer_is_tried_at_vt(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.short_hosts_down = {"vm"}
    post = await tiktok_client.resolve(ShortLink(DEMO_SHORT_POST, "vm"))
    assert post.id == DEMO_POST
    short = [(r.path, r.cut) for r in demo_server.stats.requests
             if r.path.startswith(("/vm/", "/vt/"))]
    assert short == [(f"/vm/{DEMO_SHORT_POST}/", True)] * 2 + [(f"/vt/{DEMO_SHORT_POST}/", False)]


async def test_a_short_code_neither_host_resolves_is_one_line(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    demo_server.scenario.faults.short_hosts_down = {"vm", "vt"}
    with pytest.raises(NetworkError) as info:
        await tiktok_client.resolve(ShortLink(DEMO_SHORT_POST, "vm"))
    assert info.value.reason == (
        f"the short link vm.tiktok.com/{DEMO_SHORT_POST} could not be resolved: neither "
        "vm.tiktok.com nor vt.tiktok.com could be reached; check the connection, or paste "
        "the post's full link")
    # a vt code is not sent to vm: vt is the host that still works
    with pytest.raises(NetworkError) as vt:
        await tiktok_client.resolve(ShortLink(DEMO_SHORT_POST, "vt"))
    assert "could not reach" in vt.value.reason
    assert not [r for r in demo_server.stats.requests[-5:] if r.path.startswith("/vm/")]


async def test_expired_story_post_is_unavailable(
    demo_server: DemoServer, make_client: ClientFactory, demo_clock: FakeClock
) -> None:
    # the server still has it (its clock), ours says it has expired
    client = make_client(clock=FakeClock(demo_clock.time() + 120))
    with pytest.raises(PostUnavailable, match="expired"):
        await client.resolve(PostTarget(DEMO_EXPIRING_STORY, DEMO_CREATOR))


@pytest.mark.parametrize("impersonate", ["chrome", "off"])
async def test_redirect_to_a_foreign_host_is_refused(
    demo_server: DemoServer, demo_settings: Settings, make_client: ClientFactory,
    redirector: Redirector, impersonate: str,
) -> None:
    """Every hop is checked by the client, whichever transport carries it (curl-cffi for
    pages with impersonate = chrome, httpx's own with off, aiohttp for media)."""
    foreign = f"{demo_server.origin}/@{DEMO_CREATOR}/video/{DEMO_POST}"  # another port
    redirector.routes["/t/ZMaway/"] = (301, foreign)
    redirector.routes[f"/@x/video/{DEMO_POST}"] = (302, foreign)
    redirector.routes["/video/tos/a/b/c/"] = (302, "https://example.com/v.mp4")
    client = make_client(demo_settings.replace(service_origin=redirector.origin,
                                               impersonate=impersonate))
    assert client.impersonating is (impersonate == "chrome")
    with pytest.raises(RefusedHost, match="refused redirect to a host outside TikTok"):
        await client.resolve(ShortLink("ZMaway", "t"))
    with pytest.raises(RefusedHost, match="refused redirect to a host outside TikTok"):
        await client.resolve(PostTarget(DEMO_POST, "x"))
    redirector.routes["/t/ZMbroken/"] = (301, "http://127.0.0.1:99999999/@x/video/1")
    with pytest.raises(MalformedResponse, match="unreadable address"):
        await client.resolve(ShortLink("ZMbroken", "t"))
    client.auto_session = False
    with pytest.raises(RefusedHost, match=r"example\.com"):
        async with client.open_media(redirector.origin + "/video/tos/a/b/c/"):
            pass
    with pytest.raises(RefusedHost):
        async with client.open_media("https://evil.example/v.mp4"):
            pass
    assert demo_server.stats.total == 0  # never contacted


# ----------------------------------------------------------------------------- media


async def test_cdn_needs_the_cookie_and_referer(
    demo_server: DemoServer, make_client: ClientFactory
) -> None:
    lister = make_client()
    story = (await lister.lookup_stories(DEMO_CREATOR)).stories[1]
    url = story.sources[0].url
    fresh = make_client()
    fresh.auto_session = False
    with pytest.raises(MediaForbidden) as info:
        await read_all(fresh, url)
    assert not isinstance(info.value, MediaExpired)
    demo_server.stats.reset()
    status, start, body = await read_all(lister, url)
    assert status == 200 and start == 0
    assert story.sources[0].data_size == len(body) and body[4:8] == b"ftyp"
    (record,) = demo_server.stats.of_kind("media")
    assert "tt_chain_token" in record.cookie_names
    assert record.referer == demo_server.origin + "/"
    # a fresh client that may warm its session visits the home page first, then succeeds
    warm = make_client()
    status, _, body2 = await read_all(warm, url)
    assert status == 200 and body2 == body


async def test_media_expired_range_and_not_found(
    demo_server: DemoServer, tiktok_client: TikTokClient, demo_clock: FakeClock
) -> None:
    story = (await tiktok_client.lookup_stories(DEMO_CREATOR)).stories[1]
    url = story.sources[0].url
    size = story.sources[0].data_size
    assert size is not None
    async with tiktok_client.open_media(url, start=100) as media:
        assert media.status == 206 and media.range_start == 100
        assert media.total_size == size and media.content_length == size - 100
        body = b"".join([c async for c in media.aiter_bytes()])
        assert len(body) == size - 100
    with pytest.raises(RangeNotSatisfiable):
        await read_all(tiktok_client, url, start=size + 10)
    with pytest.raises(MediaNotFound):
        await read_all(tiktok_client, re.sub(r"/[A-Za-z0-9]{20,}/\?", "/NOSUCHKEY/?", url))
    demo_server.scenario.faults.media = MediaFaults(ignore_range=True)
    status, start, body = await read_all(tiktok_client, url, start=100)
    assert (status, start, len(body)) == (200, 0, size)
    demo_clock.advance(timedelta(hours=7))  # past the signed URL's expire
    with pytest.raises(MediaExpired) as info:
        await read_all(tiktok_client, url)
    assert "expired" in info.value.reason and isinstance(info.value, MediaForbidden)


async def test_dropped_body_is_a_network_error(
    demo_server: DemoServer, tiktok_client: TikTokClient
) -> None:
    story = (await tiktok_client.lookup_stories(DEMO_CREATOR)).stories[1]
    demo_server.scenario.faults.media = MediaFaults(drop_after=5000, drop_times=1)
    with pytest.raises(NetworkError):
        await read_all(tiktok_client, story.sources[0].url)
    status, _, body = await read_all(tiktok_client, story.sources[0].url, start=0)
    assert status == 200 and len(body) == story.sources[0].data_size


async def test_images_and_sound(tiktok_client: TikTokClient) -> None:
    result = await tiktok_client.lookup_stories(DEMO_PHOTO_CREATOR)
    story = result.stories[0]
    status, _, image = await read_all(tiktok_client, story.images[0].urls[0])
    assert status == 200 and image[:3] == b"\xff\xd8\xff"
    assert story.sound is not None
    status, _, sound = await read_all(tiktok_client, story.sound.url)
    assert status == 200 and len(sound) > 1000


async def test_per_host_concurrency_is_respected(
    demo_server: DemoServer, demo_settings: Settings, make_client: ClientFactory
) -> None:
    client = make_client(demo_settings.replace(per_host_concurrency=2))
    result = await client.lookup_stories(DEMO_CREATOR)
    urls = [s.sources[0].url for s in result.stories if s.kind is Kind.VIDEO]
    demo_server.scenario.faults.media = MediaFaults(bytes_per_second=3_000_000)
    demo_server.stats.reset()
    inside = 0
    peak = 0
    two_in = asyncio.Event()

    async def fetch(url: str) -> int:
        nonlocal inside, peak
        async with client.open_media(url) as media:
            inside += 1
            peak = max(peak, inside)
            if inside == 2:
                two_in.set()
            await asyncio.wait_for(two_in.wait(), 30)
            size = sum([len(c) async for c in media.aiter_bytes()])
            inside -= 1
            return size

    sizes = await asyncio.gather(*(fetch(u) for u in urls))
    assert len(sizes) == len(urls) >= 5 and all(sizes)
    assert peak == 2
    assert 1 <= demo_server.stats.max_by_kind["media"] <= 2


async def test_api_calls_are_spaced(
    demo_server: DemoServer, demo_settings: Settings, make_client: ClientFactory,
    sleep_log: SleepLog,
) -> None:
    client = make_client(demo_settings.replace(api_min_interval=5.0))
    await client.lookup_stories(DEMO_CREATOR)
    calls = len(demo_server.stats.of_kind("page")) + len(demo_server.stats.of_kind("api"))
    assert calls == 3
    # calls are scheduled at t0, t0+5, t0+10; the recording sleep does not really wait,
    # so the second call is asked to wait ~5 s and the third ~10 s
    assert len(sleep_log.delays) == calls - 1
    assert 4.0 < sleep_log.delays[0] <= 5.0 and 9.0 < sleep_log.delays[1] <= 10.0


# ----------------------------------------------------------------------------- the command


def _run(thread: DemoServerThread, clock: FakeClock, *targets: str,
         json_out: bool = False) -> tuple[int, str, str]:
    settings = load().replace(service_origin=thread.origin, api_min_interval=0.0)
    out, err = io.StringIO(), io.StringIO()
    code = stories_cmd.run(argparse.Namespace(targets=list(targets), json=json_out), settings,
                           clock=clock, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_stories_command_text(demo_thread: DemoServerThread, demo_clock: FakeClock) -> None:
    code, out, err = _run(demo_thread, demo_clock, "@" + DEMO_CREATOR, DEMO_EMPTY_CREATOR,
                          DEMO_HOSTILE_CREATOR)
    assert code == 0 and err == ""
    assert f"@{DEMO_CREATOR} (Mika ✈️ 旅行日記): {MIKA_STORIES} active stories" in out
    assert "1m left" in out  # the 90-second story
    assert "4h 00m left" in out  # story 1 was posted 20 h ago
    assert f"@{DEMO_EMPTY_CREATOR}" in out and "has no active story right now" in out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\u202e" in out  # shown, not interpreted


def test_stories_command_json_and_failures(
    demo_thread: DemoServerThread, demo_clock: FakeClock
) -> None:
    code, out, err = _run(demo_thread, demo_clock, DEMO_PHOTO_CREATOR, json_out=True)
    assert code == 0
    data = json.loads(out)
    assert data[0]["creator"]["username"] == DEMO_PHOTO_CREATOR
    assert [s["kind"] for s in data[0]["stories"]] == ["photo", "photo"]
    assert data[0]["stories"][0]["seconds_left"] == 18 * 3600
    code, out, err = _run(demo_thread, demo_clock, DEMO_PRIVATE_CREATOR, DEMO_CREATOR)
    assert code == 1
    assert err.count("\n") == 1 and "private" in err and DEMO_PRIVATE_CREATOR in err
    assert f"{MIKA_STORIES} active stories" in out
    code, out, err = _run(demo_thread, demo_clock, "https://example.com/@x")
    assert code == 2 and err.startswith("tikget: ") and out == ""


def test_stories_command_says_when_the_list_stopped_early(
    demo_scenario: Scenario, demo_thread: DemoServerThread, demo_clock: FakeClock
) -> None:
    creator = demo_scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    code, out, err = _run(demo_thread, demo_clock, "@" + DEMO_CREATOR)
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == (
        "  note: only 5 stories listed: TikTok kept sending the same page of the list "
        "(3 fresh device ids tried); there may be more, look it up again later")
    code, out, err = _run(demo_thread, demo_clock, "@" + DEMO_CREATOR, json_out=True)
    assert json.loads(out)[0]["incomplete"].startswith("only 5 stories listed")


async def test_the_demo_people_see_walks_the_challenge_like_the_real_site(
    demo_media: MediaCatalog,
) -> None:
    """`tikget --demo` / `demo-server` serve the proof-of-work page on a first visit."""
    async with DemoServer(people_scenario(), media_dir=demo_media.folder.parent) as server:
        settings = load().replace(service_origin=server.origin, api_min_interval=0.0)
        async with TikTokClient(settings) as client:
            listing = await client.lookup_stories(UserTarget(DEMO_CREATOR))
            assert client.challenges_solved == 1
            assert len(listing.stories) == MIKA_STORIES
