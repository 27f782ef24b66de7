"""The stand-in TikTok service over real sockets, with plain httpx (no client code of ours)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import (
    ChallengeMode,
    DemoServer,
    DemoServerThread,
    MediaCatalog,
    MediaFaults,
    NotLoopback,
    Quirk,
    ensure_media,
)
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
    DEMO_SILENT_HEVC_STORY,
)
from tikget_tui.mediatools import MediaTools

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "Chrome/131.0 Safari/537.36")
FB_UA = "facebookexternalhit/1.1"
SCRIPT = re.compile(
    r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">(.*?)</script>', re.S)


def scope_of(html: str) -> dict[str, Any]:
    m = SCRIPT.search(html)
    assert m is not None, html[:300]
    data: dict[str, Any] = json.loads(m.group(1))["__DEFAULT_SCOPE__"]
    return data


@pytest.fixture
async def client(demo_server: DemoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=demo_server.origin,
                                 headers={"User-Agent": BROWSER_UA}) as c:
        yield c


async def user_detail(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await client.get(f"/@{name}", headers={"Referer": str(client.base_url) + "/"})
    assert r.status_code == 200
    detail: dict[str, Any] = scope_of(r.text)["webapp.user-detail"]
    return detail


async def story_page(client: httpx.AsyncClient, author_id: str, cursor: Any = 0,
                     count: int = 5) -> dict[str, Any]:
    params = {"authorId": author_id, "count": count, "cursor": cursor, "loadBackward": "false",
              "aid": "1988", "app_name": "tiktok_web", "device_platform": "web_pc",
              "device_id": "7300000000000000001", "verifyFp": "verify_abc1234"}
    r = await client.get("/api/story/item_list/", params=params)
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


async def all_stories(client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    uid = (await user_detail(client, name))["userInfo"]["user"]["id"]
    items: list[dict[str, Any]] = []
    cursor: Any = 0
    while True:
        page = await story_page(client, uid, cursor)
        items += page.get("itemList", [])
        if not page["HasMoreAfter"]:
            return items
        cursor = page["MaxCursor"]


async def media_client(client: httpx.AsyncClient) -> dict[str, str]:
    """Visit a page (for the cookies) and return headers a browser would send to the CDN."""
    await client.get(f"/@{DEMO_CREATOR}")
    assert "tt_chain_token" in client.cookies
    return {"Referer": f"{client.base_url}/@{DEMO_CREATOR}"}


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition (not a timed assertion: the timeout only avoids a hang)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def solve_challenge(html: str) -> dict[str, str]:
    """A tiny reference solver for the challenge page: returns the cookies to set."""
    def attr(el: str) -> str:
        m = re.search(rf'id="{el}" class="([^"]*)"', html)
        assert m is not None
        return m.group(1)

    cs = attr("cs")
    c = json.loads(base64.b64decode(cs + "=" * (-len(cs) % 4)))
    want = base64.b64decode(c["v"]["c"])
    base = hashlib.sha256(base64.b64decode(c["v"]["a"]))
    for i in range(1_000_001):
        h = base.copy()
        h.update(str(i).encode())
        if h.digest() == want:
            break
    else:
        raise AssertionError("challenge not solvable")
    c["d"] = base64.b64encode(str(i).encode()).decode()
    value = base64.b64encode(json.dumps(c, separators=(",", ":")).encode()).decode()
    return {attr("wci"): value, attr("rci"): attr("rs")}


# ------------------------------------------------------------------------------------- profile


async def test_profile_page_shapes_and_cookies(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/@{DEMO_CREATOR}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    scope = scope_of(r.text)
    assert "webapp.app-context" in scope
    detail = scope["webapp.user-detail"]
    assert detail["statusCode"] == 0
    user = detail["userInfo"]["user"]
    assert user["uniqueId"] == DEMO_CREATOR and user["id"].isdigit()
    assert user["secUid"].startswith("MS4wLjABAAAA") and user["privateAccount"] is False
    assert {"avatarThumb", "avatarMedium", "avatarLarger", "signature", "verified",
            "nickname"} <= user.keys()
    stats, stats_v2 = detail["userInfo"]["stats"], detail["userInfo"]["statsV2"]
    assert isinstance(stats["followerCount"], int)
    assert stats_v2["followerCount"] == str(stats["followerCount"])
    for name in ("ttwid", "tt_csrf_token", "tt_chain_token"):
        assert name in r.cookies
    # /@DIGITS is a username (all-digit handles exist), not an authorId (issue 20)
    by_id = await user_detail(client, user["id"])
    assert by_id["statusCode"] == 10221 and "userInfo" not in by_id
    digits = await user_detail(client, DEMO_DIGIT_CREATOR)
    assert digits["userInfo"]["user"]["uniqueId"] == DEMO_DIGIT_CREATOR
    assert digits["userInfo"]["user"]["id"] != DEMO_DIGIT_CREATOR


async def test_private_and_unknown_users(client: httpx.AsyncClient) -> None:
    private = await user_detail(client, DEMO_PRIVATE_CREATOR)
    assert private["statusCode"] == 10222
    assert private["userInfo"]["user"]["privateAccount"] is True
    unknown = await user_detail(client, "nobody.here.123")
    assert unknown["statusCode"] == 10221 and "userInfo" not in unknown


async def test_hostile_text_cannot_break_out_of_the_script(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/@{DEMO_HOSTILE_CREATOR}")
    assert "<b>" not in r.text.split("<body>", 1)[1]
    user = scope_of(r.text)["webapp.user-detail"]["userInfo"]["user"]
    assert "[bold]" in user["nickname"] and "\x1b" in user["nickname"]
    assert "\u202e" in user["nickname"] and "<b>hi</b>" in user["nickname"]
    items = await all_stories(client, DEMO_HOSTILE_CREATOR)
    assert "../../etc/passwd" in items[0]["desc"]


# ------------------------------------------------------------------------------------- stories


async def test_story_list_pages_and_item_shapes(client: httpx.AsyncClient,
                                                demo_media: MediaCatalog) -> None:
    uid = (await user_detail(client, DEMO_CREATOR))["userInfo"]["user"]["id"]
    first = await story_page(client, uid)
    assert first["statusCode"] == 0 and first["status_code"] == 0 and first["TotalCount"] == "7"
    assert first["HasMoreAfter"] is True and len(first["itemList"]) == 5
    assert isinstance(first["MaxCursor"], int)
    assert first["MaxCursor"] == first["itemList"][-1]["createTime"] * 1000
    second = await story_page(client, uid, first["MaxCursor"])
    assert second["HasMoreAfter"] is False and len(second["itemList"]) == 2
    assert isinstance(second["MaxCursor"], str)  # TikTok sends it as a string at times
    items = first["itemList"] + second["itemList"]
    assert len({i["id"] for i in items}) == 7
    assert [i["createTime"] for i in items] == sorted(i["createTime"] for i in items)
    sizes = {f.size for f in demo_media.values()}
    kinds = set()
    for item in items:
        assert item["author"]["uniqueId"] == DEMO_CREATOR and item["author"]["secUid"]
        music_keys = {"id", "title", "authorName", "playUrl", "duration", "original"}
        assert music_keys <= item["music"].keys()
        if "imagePost" in item:
            kinds.add("photo")
            images = item["imagePost"]["images"]
            assert len(images) == 3 and all(img["imageURL"]["urlList"] for img in images)
            assert images[0]["imageWidth"] == 720 and images[0]["imageHeight"] == 960
            continue
        video = item["video"]
        assert video["format"] == "mp4" and video["playAddr"] and video["downloadAddr"]
        for gear in video["bitrateInfo"]:
            kinds.add(gear["CodecType"])
            play = gear["PlayAddr"]
            assert int(play["DataSize"]) in sizes and play["UrlKey"] and play["FileHash"]
            assert len(play["UrlList"]) == 2 and "expire=" in play["UrlList"][0]
            assert "tk=tt_chain_token" in play["UrlList"][0]
    assert kinds == {"photo", "h264", "h265_hvc1"}
    with_expiry = [i for i in items if "story" in i]
    assert with_expiry and all(i["story"]["ExpiredAt"] > i["createTime"] * 1000
                               for i in with_expiry)
    assert any("story" not in i for i in items)  # one without: the client assumes 24 h


async def test_hevc_story_offers_an_h264_gear(client: httpx.AsyncClient) -> None:
    items = await all_stories(client, DEMO_CREATOR)
    hevc = next(i for i in items if i["id"] == DEMO_HEVC_STORY)
    gears = hevc["video"]["bitrateInfo"]
    assert [g["CodecType"] for g in gears] == ["h265_hvc1", "h264"]
    assert "bytevc1" in gears[0]["PlayAddr"]["UrlKey"]
    assert isinstance(gears[1]["PlayAddr"]["DataSize"], str)  # string or int, both happen


async def test_no_active_story_photo_creator_and_bad_requests(client: httpx.AsyncClient) -> None:
    quiet = (await user_detail(client, DEMO_EMPTY_CREATOR))["userInfo"]["user"]["id"]
    page = await story_page(client, quiet)
    assert "itemList" not in page and page["HasMoreAfter"] is False
    photos = await all_stories(client, DEMO_PHOTO_CREATOR)
    assert len(photos) == 2 and all("imagePost" in i for i in photos)
    r = await client.get("/api/story/item_list/", params={"count": 5})
    assert r.json()["statusCode"] != 0
    private = (await user_detail(client, DEMO_PRIVATE_CREATOR))["userInfo"]["user"]["id"]
    assert "itemList" not in await story_page(client, private)


async def test_story_expires_while_listed(client: httpx.AsyncClient, demo_server: DemoServer,
                                          demo_clock: FakeClock) -> None:
    ids = [i["id"] for i in await all_stories(client, DEMO_CREATOR)]
    assert DEMO_EXPIRING_STORY in ids
    r = await client.get(f"/@{DEMO_CREATOR}/video/{DEMO_EXPIRING_STORY}")
    assert scope_of(r.text)["webapp.video-detail"]["statusCode"] == 0
    demo_clock.advance(91)
    ids = [i["id"] for i in await all_stories(client, DEMO_CREATOR)]
    assert DEMO_EXPIRING_STORY not in ids and len(ids) == 6
    r = await client.get(f"/@{DEMO_CREATOR}/video/{DEMO_EXPIRING_STORY}")
    assert scope_of(r.text)["webapp.video-detail"]["statusCode"] == 10204


@pytest.mark.parametrize("quirk", list(Quirk))
async def test_paging_quirks(client: httpx.AsyncClient, demo_server: DemoServer,
                             quirk: Quirk) -> None:
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks = {quirk}
    uid = creator.user_id
    first = await story_page(client, uid)
    items = first["itemList"]
    if quirk == Quirk.MISSING_CURSOR:
        assert "MaxCursor" not in first and first["HasMoreAfter"] is True
        nxt = await story_page(client, uid, int(items[-1]["createTime"]) * 1000)
        assert len(nxt["itemList"]) == 2
    elif quirk == Quirk.STALE_CURSOR:
        assert int(first["MaxCursor"]) == 0
        nxt = await story_page(client, uid, first["MaxCursor"])
        assert [i["id"] for i in nxt["itemList"]] == [i["id"] for i in items]
    elif quirk == Quirk.REPEAT_PAGE:
        nxt = await story_page(client, uid, first["MaxCursor"])
        assert nxt["HasMoreAfter"] is True
        assert [i["id"] for i in nxt["itemList"]] == [i["id"] for i in items]
    elif quirk == Quirk.BITRATE_OBJECT:
        videos = [i["video"] for i in items if "imagePost" not in i]
        assert videos and all(isinstance(v["bitrateInfo"], dict) for v in videos)
    elif quirk == Quirk.ENDLESS_MORE:
        last = await story_page(client, uid, first["MaxCursor"])
        assert len(last["itemList"]) == 2 and last["HasMoreAfter"] is True
        after = await story_page(client, uid, last["MaxCursor"])
        assert after["itemList"] == [] and after["HasMoreAfter"] is True
    else:
        assert isinstance(first["MaxCursor"], str)
        assert all(isinstance(i["createTime"], str) for i in items)
        video = next(i["video"] for i in items if "imagePost" not in i)
        assert isinstance(video["duration"], str) and isinstance(video["width"], str)
        assert isinstance(video["bitrateInfo"][0]["PlayAddr"]["DataSize"], str)


# ------------------------------------------------------------------------------------- posts


async def test_post_page_url_shapes(client: httpx.AsyncClient) -> None:
    for path in (f"/@{DEMO_CREATOR}/video/{DEMO_POST}", f"/@{DEMO_CREATOR}/photo/{DEMO_POST}",
                 f"/@/video/{DEMO_POST}", f"/share/video/{DEMO_POST}", f"/v/{DEMO_POST}.html",
                 f"/embed/v2/{DEMO_POST}"):
        r = await client.get(path)
        assert r.status_code == 200, path
        detail = scope_of(r.text)["webapp.video-detail"]
        assert detail["statusCode"] == 0, path
        item = detail["itemInfo"]["itemStruct"]
        assert item["id"] == DEMO_POST and item["author"]["uniqueId"] == DEMO_CREATOR
        assert "story" not in item
    r = await client.get(f"/@{DEMO_PHOTO_CREATOR}/photo/{DEMO_PHOTO_STORY}")
    item = scope_of(r.text)["webapp.video-detail"]["itemInfo"]["itemStruct"]
    assert "imagePost" in item and "story" in item


@pytest.mark.parametrize(("post", "code"), [(DEMO_REMOVED_POST, 10204),
                                            (DEMO_PRIVATE_POST, 10216),
                                            (DEMO_REGION_POST, 10231),
                                            ("7999999999999999999", 10204)])
async def test_post_errors(client: httpx.AsyncClient, post: str, code: int) -> None:
    r = await client.get(f"/@{DEMO_CREATOR}/video/{post}")
    detail = scope_of(r.text)["webapp.video-detail"]
    assert detail["statusCode"] == code and "itemInfo" not in detail


async def test_login_required_and_canonical_retry(client: httpx.AsyncClient,
                                                  demo_server: DemoServer) -> None:
    r = await client.get(f"/@{DEMO_CREATOR}/video/{DEMO_LOGIN_POST}")
    assert r.status_code == 302 and httpx.URL(r.headers["location"]).path == "/login"
    r = await client.get(f"/@/video/{DEMO_CANONICAL_POST}")
    scope = scope_of(r.text)
    assert "webapp.video-detail" not in scope
    canonical = scope["seo.abtest"]["canonical"]
    assert canonical == demo_server.post_url(DEMO_CANONICAL_POST)
    r = await client.get(canonical)
    assert scope_of(r.text)["webapp.video-detail"]["statusCode"] == 0


async def test_short_links(client: httpx.AsyncClient, demo_server: DemoServer) -> None:
    r = await client.head(f"/t/{DEMO_SHORT_POST}/", headers={"User-Agent": FB_UA})
    assert r.status_code in (301, 302)
    loc = httpx.URL(r.headers["location"])
    assert loc.path == f"/@{DEMO_CREATOR}/video/{DEMO_POST}" and "story_type" not in loc.params
    r = await client.get(f"/t/{DEMO_SHORT_STORY}/", headers={"User-Agent": FB_UA})
    loc = httpx.URL(r.headers["location"])
    assert loc.params["story_type"] == "1" and loc.params["aweme_type"] == "40"
    r = await client.get(f"/t/{DEMO_SHORT_PHOTO}/", headers={"User-Agent": FB_UA})
    loc = httpx.URL(r.headers["location"])
    assert loc.path.startswith(f"/@{DEMO_CREATOR}/photo/") and loc.params["aweme_type"] == "150"
    r = await client.get(f"/t/{DEMO_SHORT_GONE}/", headers={"User-Agent": FB_UA})
    assert r.status_code in (301, 302)
    assert r.headers["location"] == f"{demo_server.origin}/?_r=1"
    r = await client.get(f"/t/{DEMO_SHORT_POST}/")  # a browser: a page, not a redirect
    assert r.status_code == 200 and DEMO_POST in r.text


# ------------------------------------------------------------------------------------- challenge


async def test_challenge_first_visit_is_solvable(client: httpx.AsyncClient,
                                                 demo_server: DemoServer) -> None:
    demo_server.scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    demo_server.scenario.faults.challenge_max = 3000
    r = await client.get(f"/@{DEMO_CREATOR}")
    assert r.status_code == 200 and "Please wait..." in r.text and SCRIPT.search(r.text) is None
    assert len(r.content) < 4096
    assert re.search(r'<div id="cs" class="[^"]+">', r.text)
    for name, value in solve_challenge(r.text).items():
        client.cookies.set(name, value)
    r = await client.get(f"/@{DEMO_CREATOR}")
    assert scope_of(r.text)["webapp.user-detail"]["statusCode"] == 0
    r = await client.get(f"/@{DEMO_CREATOR}/video/{DEMO_POST}")
    assert scope_of(r.text)["webapp.video-detail"]["statusCode"] == 0


async def test_challenge_always_and_wrong_answers(client: httpx.AsyncClient,
                                                  demo_server: DemoServer) -> None:
    faults = demo_server.scenario.faults
    faults.challenge, faults.challenge_max = ChallengeMode.FIRST_VISIT, 3000
    r = await client.get(f"/@{DEMO_CREATOR}")
    cookies = solve_challenge(r.text)
    wrong = {k: (v[:-4] + "AAAA" if k.startswith("_waf") else v) for k, v in cookies.items()}
    for name, value in wrong.items():
        client.cookies.set(name, value)
    assert SCRIPT.search((await client.get(f"/@{DEMO_CREATOR}")).text) is None
    faults.challenge = ChallengeMode.ALWAYS
    r = await client.get(f"/@{DEMO_CREATOR}")
    for name, value in solve_challenge(r.text).items():
        client.cookies.set(name, value)
    assert "Please wait..." in (await client.get(f"/@{DEMO_CREATOR}")).text


# ------------------------------------------------------------------------------------- throttling


async def test_throttling_knobs(client: httpx.AsyncClient, demo_server: DemoServer) -> None:
    faults = demo_server.scenario.faults
    uid = (await user_detail(client, DEMO_CREATOR))["userInfo"]["user"]["id"]
    url, params = "/api/story/item_list/", {"authorId": uid}
    faults.empty_bodies = 2
    for _ in range(2):
        r = await client.get(url, params=params)
        assert r.status_code == 200 and r.content == b""
    assert (await client.get(url, params=params)).json()["statusCode"] == 0
    faults.too_many, faults.retry_after = 1, "7"
    r = await client.get(url, params=params)
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    faults.too_many, faults.retry_after = 1, None
    r = await client.get(url, params=params)
    assert r.status_code == 429 and "retry-after" not in r.headers
    faults.server_errors = 3
    assert [(await client.get(url, params=params)).status_code for _ in range(4)] == [
        503, 503, 503, 200]
    faults.too_many = 1  # pages are not hit unless asked for
    assert (await client.get(f"/@{DEMO_CREATOR}")).status_code == 200
    faults.fault_kinds = {"page"}
    assert (await client.get(f"/@{DEMO_CREATOR}")).status_code == 429


# ------------------------------------------------------------------------------------- media


async def test_video_needs_cookie_referer_signature_and_time(
        client: httpx.AsyncClient, demo_server: DemoServer, demo_clock: FakeClock,
        demo_media: MediaCatalog) -> None:
    url = demo_server.media_url(DEMO_POST)
    r = await client.get(url)  # no cookie yet, no Referer
    assert r.status_code == 403 and "Access Denied" in r.text
    headers = await media_client(client)
    assert (await client.get(url)).status_code == 403  # cookie but no Referer
    r = await client.get(url, headers={"Referer": "https://example.com/"})
    assert r.status_code == 403
    async with httpx.AsyncClient() as stranger:  # Referer but no cookie
        assert (await stranger.get(url, headers=headers)).status_code == 403
    r = await client.get(url, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert r.content == demo_media["h264_c"].path.read_bytes()
    tampered = url.replace("signature=", "signature=0")
    assert (await client.get(tampered, headers=headers)).status_code == 403
    later = httpx.URL(url).copy_set_param("expire", str(int(demo_clock.time()) + 99999))
    assert (await client.get(later, headers=headers)).status_code == 403
    demo_clock.advance(6 * 3600 + 1)
    assert (await client.get(url, headers=headers)).status_code == 403


async def test_short_url_lifetime(client: httpx.AsyncClient, demo_server: DemoServer,
                                  demo_clock: FakeClock) -> None:
    demo_server.scenario.faults.media = MediaFaults(url_lifetime=30)
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_POST)
    assert int(httpx.URL(url).params["expire"]) == int(demo_clock.time()) + 30
    assert (await client.get(url, headers=headers)).status_code == 200
    demo_clock.advance(31)
    assert (await client.get(url, headers=headers)).status_code == 403


async def test_range_206_and_416(client: httpx.AsyncClient, demo_server: DemoServer,
                                 demo_media: MediaCatalog) -> None:
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_POST)
    data = demo_media["h264_c"].path.read_bytes()
    r = await client.get(url, headers={**headers, "Range": "bytes=1000-"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert r.content == data[1000:]
    r = await client.get(url, headers={**headers, "Range": f"bytes={len(data)}-"})
    assert r.status_code == 416
    record = demo_server.stats.requests[-1]
    assert record.range == f"bytes={len(data)}-" and record.referer == headers["Referer"]


async def test_images_sounds_and_the_play_trap(client: httpx.AsyncClient,
                                               demo_server: DemoServer) -> None:
    items = await all_stories(client, DEMO_CREATOR)
    photo = next(i for i in items if i["id"] == DEMO_PHOTO_STORY)
    async with httpx.AsyncClient() as plain:  # no cookie, no Referer: images still work
        heads = []
        for img in photo["imagePost"]["images"]:
            url = img["imageURL"]["urlList"][0]
            assert "x-expires=" in url and "x-signature=" in url and url.split("?")[0].endswith(
                ".jpeg")
            r = await plain.get(url)
            assert r.status_code == 200
            heads.append(r.content[:12])
        assert heads[0][:3] == b"\xff\xd8\xff" and heads[2][8:12] == b"WEBP"  # by bytes
        bad = photo["imagePost"]["images"][0]["imageURL"]["urlList"][0].replace(
            "x-signature=", "x-signature=x")
        assert (await plain.get(bad)).status_code == 403
        sound = await plain.get(photo["music"]["playUrl"])
        assert sound.status_code == 200 and sound.headers["content-type"] == "audio/mpeg"
        assert sound.content[:3] == b"ID3" or sound.content[0] == 0xFF
        video = next(i for i in items if "imagePost" not in i)["video"]
        trap = await plain.get(video["downloadAddr"])
        assert trap.status_code == 200 and len(trap.content) < 4096
        assert b"ftypisom" not in trap.content and b"moov" not in trap.content


async def test_media_files_match_the_json(client: httpx.AsyncClient,
                                          demo_server: DemoServer) -> None:
    """Sizes, durations, dimensions and codecs in the listing are those of the real files."""
    tools = MediaTools.find()
    headers = await media_client(client)
    items = await all_stories(client, DEMO_CREATOR) + await all_stories(client,
                                                                          DEMO_HOSTILE_CREATOR)
    checked = 0
    for item in items:
        if "imagePost" in item:
            continue
        for gear in item["video"]["bitrateInfo"]:
            play = gear["PlayAddr"]
            r = await client.get(play["UrlList"][1], headers=headers)  # the backup URL works too
            assert r.status_code == 200 and len(r.content) == int(play["DataSize"])
            assert int(r.headers["content-length"]) == int(play["DataSize"])
            probe = json.loads(subprocess.run(
                [tools.ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json",
                 "-i", "pipe:0"], input=r.content, capture_output=True, check=True).stdout)
            streams = {s["codec_type"]: s for s in probe["streams"]}
            v = streams["video"]
            assert (v["width"], v["height"]) == (play["Width"], play["Height"])
            assert v["codec_name"] == ("hevc" if gear["CodecType"] == "h265_hvc1" else "h264")
            assert abs(float(probe["format"]["duration"]) - item["video"]["duration"]) < 0.5
            # the video-only HEVC gear of the hostile creator's story; its H.264 gear has sound
            video_only = item["id"] == DEMO_SILENT_HEVC_STORY and gear["CodecType"] != "h264"
            assert ("audio" in streams) == (not video_only)
            checked += 1
    assert checked == 9


# ------------------------------------------------------------------------------------- faults


async def test_drop_mid_body_then_resume(client: httpx.AsyncClient, demo_server: DemoServer,
                                         demo_media: MediaCatalog) -> None:
    demo_server.scenario.faults.media = MediaFaults(drop_after=20_000, drop_times=2)
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_POST)
    data = demo_media["h264_c"].path.read_bytes()
    got = b""
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("GET", url, headers={**headers,
                                                          "Range": f"bytes={len(got)}-"}) as r:
                async for chunk in r.aiter_raw():
                    got += chunk
    assert len(got) == 40_000
    r = await client.get(url, headers={**headers, "Range": f"bytes={len(got)}-"})
    assert r.status_code == 206
    assert got + r.content == data
    cut = [rec for rec in demo_server.stats.of_kind("media") if rec.cut]
    assert len(cut) == 2


async def test_ignore_range_and_wrong_length(client: httpx.AsyncClient, demo_server: DemoServer,
                                             demo_media: MediaCatalog) -> None:
    story = demo_server.scenario.story(DEMO_HEVC_STORY)
    story.media_faults = MediaFaults(ignore_range=True)
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_HEVC_STORY)
    r = await client.get(url, headers={**headers, "Range": "bytes=500-"})
    assert r.status_code == 200 and r.content == demo_media["hevc_540"].path.read_bytes()
    story.media_faults = MediaFaults(content_length_delta=100)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(url, headers=headers)
    # Other stories keep the server default (well-behaved).
    assert (await client.get(demo_server.media_url(DEMO_POST), headers=headers)).status_code == 200


async def test_slow_body_arrives_in_pieces(client: httpx.AsyncClient, demo_server: DemoServer,
                                           demo_media: MediaCatalog) -> None:
    demo_server.scenario.faults.media = MediaFaults(bytes_per_second=100_000)
    headers = await media_client(client)
    url = demo_server.media_url("7440000000000000002")  # h264_b, about 60 kB
    pieces = 0
    body = b""
    async with client.stream("GET", url, headers=headers) as r:
        async for chunk in r.aiter_raw():
            pieces += 1
            body += chunk
    assert body == demo_media["h264_b"].path.read_bytes() and pieces > 1


async def test_story_dies_mid_download(client: httpx.AsyncClient, demo_server: DemoServer,
                                       demo_clock: FakeClock) -> None:
    story = demo_server.scenario.story(DEMO_EXPIRING_STORY)
    story.media_faults = MediaFaults(dies_with_story=True, bytes_per_second=50_000)
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_EXPIRING_STORY)
    received = 0
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("GET", url, headers=headers) as r:
            assert r.status_code == 200
            async for chunk in r.aiter_raw():
                received += len(chunk)
                demo_clock.advance(120)  # the story expires while its body is in flight
    assert 0 < received < int(r.headers["content-length"])
    assert (await client.get(url, headers=headers)).status_code == 403


async def test_removed_story(client: httpx.AsyncClient, demo_server: DemoServer) -> None:
    headers = await media_client(client)
    url = demo_server.media_url(DEMO_HEVC_STORY)
    demo_server.scenario.story(DEMO_HEVC_STORY).removed = True
    assert DEMO_HEVC_STORY not in [i["id"] for i in await all_stories(client, DEMO_CREATOR)]
    assert (await client.get(url, headers=headers)).status_code == 403
    r = await client.get(f"/@{DEMO_CREATOR}/video/{DEMO_HEVC_STORY}")
    assert scope_of(r.text)["webapp.video-detail"]["statusCode"] == 10204


# ------------------------------------------------------------------------------------- stats


async def test_stats_count_kinds_concurrency_and_headers(client: httpx.AsyncClient,
                                                         demo_server: DemoServer) -> None:
    demo_server.scenario.faults.media = MediaFaults(bytes_per_second=150_000)
    headers = await media_client(client)
    urls = [demo_server.media_url(i) for i in ("7440000000000000002", DEMO_HEVC_STORY, DEMO_POST)]
    demo_server.stats.reset()
    rs = await asyncio.gather(*(client.get(u, headers=headers) for u in urls))
    assert [r.status_code for r in rs] == [200, 200, 200]
    stats = demo_server.stats
    await until(lambda: stats.current == 0)  # the server finishes its bookkeeping
    assert stats.total == 3 and stats.by_kind["media"] == 3 and stats.current == 0
    assert stats.max_by_kind["media"] == 3 == stats.max_concurrent
    rec = stats.requests[0]
    assert rec.has_cookie and "tt_chain_token" in rec.cookie_names and rec.referer
    assert rec.user_agent == BROWSER_UA and rec.method == "GET" and rec.kind == "media"
    await client.get(f"/@{DEMO_CREATOR}")
    assert stats.by_kind["page"] == 1 and stats.max_by_kind["page"] == 1


# ------------------------------------------------------------------------------------- runners


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback(host: str) -> None:
    with pytest.raises(NotLoopback, match="loopback only"):
        DemoServer(host=host)
    with pytest.raises(NotLoopback):
        DemoServerThread(host=host)


def test_thread_runner_serves_sync_callers(demo_thread: DemoServerThread) -> None:
    with httpx.Client(base_url=demo_thread.origin) as c:
        r = c.get(f"/@{DEMO_CREATOR}")
        assert scope_of(r.text)["webapp.user-detail"]["statusCode"] == 0
    assert demo_thread.server.stats.by_kind["page"] == 1
    assert demo_thread.origin.startswith("http://127.0.0.1:")


async def test_context_manager_and_default_clock(demo_media: MediaCatalog) -> None:
    async with (DemoServer(media=demo_media, media_dir=demo_media.folder.parent) as server,
                httpx.AsyncClient() as c):
        r = await c.get(server.page_url(DEMO_CREATOR))
        assert r.status_code == 200
    assert server.scenario.epoch is not None


async def test_demo_settings_point_at_the_server(demo_settings: Settings,
                                                demo_server: DemoServer, tmp_path: Path) -> None:
    service = demo_settings.service
    assert service.custom and service.origin == demo_server.origin
    assert service.is_web_url(demo_server.page_url(DEMO_CREATOR))
    assert service.accepts_url(demo_server.media_url(DEMO_POST))
    assert service.short_link_url("t", DEMO_SHORT_POST) == demo_server.short_url(DEMO_SHORT_POST)
    assert service.short_link_url("vm", DEMO_SHORT_POST) == (
        f"{demo_server.origin}/vm/{DEMO_SHORT_POST}/")
    assert demo_settings.download_dir == tmp_path / "downloads"


def test_demo_server_command(demo_media: MediaCatalog, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "demo-media").symlink_to(demo_media.folder.parent, target_is_directory=True)
    env = {**os.environ, "TIKGET_CACHE_DIR": str(cache)}
    proc = subprocess.Popen([sys.executable, "-m", "tikget_tui", "demo-server", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env, text=True)
    try:
        assert proc.stdout is not None
        origin, seen = "", []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("short link:"):
                break
            if "running at" in line:
                origin = line.split("running at", 1)[1].split()[0]
        assert origin.startswith("http://127.0.0.1:")
        # what people run meets a first visit with the proof-of-work page, like the real site
        r = httpx.get(f"{origin}/@{DEMO_CREATOR}")
        assert r.status_code == 200 and "Please wait..." in r.text
        assert 'id="cs"' in r.text and "__UNIVERSAL_DATA_FOR_REHYDRATION__" not in r.text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert f"@{DEMO_PHOTO_CREATOR}" in "".join(seen) and "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_server_command_refuses_public_bind(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tikget_tui", "demo-server", "--host", "0.0.0.0"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "loopback only" in proc.stderr


@pytest.mark.slow
def test_two_processes_generate_media_at_once(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from tikget_tui.demo import ensure_media;"
            "c = ensure_media(Path(sys.argv[1])); print(sum(f.size for f in c.values()))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, stdin=subprocess.DEVNULL) for _ in range(2)]
    outs = [p.communicate(timeout=180)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs[0] == outs[1]
    catalog = ensure_media(tmp_path)
    assert int(outs[0]) == sum(f.size for f in catalog.values())
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []
