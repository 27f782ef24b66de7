"""TikTok JSON → models: real-shaped samples, every tolerance case, and fuzzed mutations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import mutate
from tikget_tui.models import Codec, Creator, Kind, Story
from tikget_tui.service import Service
from tikget_tui.tiktok import parse
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

SERVICE = Service.tiktok()
CREATED = 1_795_000_000  # epoch seconds
CDN = "https://v16-webapp-prime.tiktok.com/video/tos/useast2a/tos-useast2a-ve-0068c001"


def gear(codec: str, height: int, bitrate: int, n: int = 1, *, key_codec: str | None = None,
         size: Any = 1_234_567) -> dict[str, Any]:
    width = height * 9 // 16
    kc = key_codec or codec
    return {
        "Bitrate": bitrate,
        "CodecType": codec,
        "GearName": f"normal_{height}_0",
        "QualityType": 10,
        "PlayAddr": {
            "DataSize": size,
            "FileCs": "c:0-1-2",
            "FileHash": "abc",
            "Height": height,
            "Width": width,
            "Uri": "v09044g40000ctabc",
            "UrlKey": f"v09044g40000ctabc_{kc}_{height}p_{bitrate}",
            "UrlList": [
                f"{CDN}/{codec}{height}-{i}/?expire=1795021600&signature=s&tk=tt_chain_token"
                for i in range(n)
            ],
        },
    }


def video_item(item_id: str = "7440000000000000001", **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "createTime": CREATED,
        "desc": "Morning in Lisbon #travel",
        "author": {"id": "6900000000000000001", "uniqueId": "mika.travels",
                   "nickname": "Mika ✈", "secUid": "MS4wLjABAAAAxyz", "privateAccount": False},
        "video": {
            "id": item_id,
            "duration": 8,
            "width": 576,
            "height": 1024,
            "format": "mp4",
            "codecType": "h264",
            "cover": "https://p16-sign.tiktokcdn.com/obj/cover.webp",
            "playAddr": f"{CDN}/play/?expire=1795021600&signature=s",
            "downloadAddr": f"{CDN}/download/?expire=1795021600&signature=s",
            "bitrateInfo": [
                gear("h264", 540, 900_000),
                gear("h265_hvc1", 1080, 1_500_000, key_codec="bytevc1"),
                gear("bytevc2", 1080, 1_200_000),
                gear("h264", 1080, 2_000_000, n=2),
                gear("h265_hvc1", 540, 600_000, key_codec="bytevc1"),
            ],
        },
        "music": {"id": "7000000000000000001", "title": "original sound",
                  "authorName": "Mika", "duration": 8,
                  "playUrl": "https://sf16-ies-music.tiktokcdn.com/obj/ies-music-va/x.mp3"},
        "story": {"ExpiredAt": (CREATED + 20 * 3600) * 1000},
    }
    item.update(over)
    return item


def photo_item(item_id: str = "7440000000000000009") -> dict[str, Any]:
    return {
        "id": item_id,
        "createTime": str(CREATED),
        "desc": "",
        "author": {"uniqueId": "studio.photos", "nickname": "Studio"},
        "imagePost": {
            "title": "Three frames",
            "images": [
                {"imageURL": {"urlList": [
                    "https://p16-sign-va.tiktokcdn.com/tos-maliva-i-photomode-us/a~tplv-photomode-image.jpeg?x-expires=1&x-signature=s",
                    "https://p19-sign-va.tiktokcdn.com/tos-maliva-i-photomode-us/a~tplv-photomode-image.jpeg?x-expires=1&x-signature=s",
                ]}, "imageWidth": 720, "imageHeight": 960},
                {"imageURL": {"urlList": [
                    "https://p16-sign-va.tiktokcdn.com/tos-maliva-i-photomode-us/b~tplv-photomode-image.jpeg"
                ]}, "imageWidth": "720", "imageHeight": "960"},
            ],
        },
        "video": {"duration": 0},
        "music": {"playUrl": "https://sf16-ies-music.tiktokcdn.com/obj/ies-music-va/y.mp3",
                  "title": "tune", "authorName": "Band", "duration": "31", "id": 5},
    }


def user_scope(**user_over: Any) -> dict[str, Any]:
    user = {"id": "6900000000000000001", "secUid": "MS4wLjABAAAAxyz", "uniqueId": "mika.travels",
            "nickname": "Mika ✈", "privateAccount": False, "verified": True,
            "avatarThumb": "https://p16.tiktokcdn.com/a.webp", "signature": "bio"}
    user.update(user_over)
    return {
        "webapp.app-context": {"language": "en"},
        "webapp.user-detail": {
            "statusCode": 0, "statusMsg": "",
            "userInfo": {"user": user, "stats": {"followerCount": 10, "videoCount": 3},
                         "statsV2": {"followerCount": "10", "videoCount": "3"}},
        },
    }


def story(item: Any, **kw: Any) -> Story:
    return parse.parse_item(item, service=SERVICE, **kw)


# ----------------------------------------------------------------------------- pages


def test_rehydration_scope_from_a_page() -> None:
    scope = user_scope()
    html = ('<!DOCTYPE html><html><head><script>var x = 1;</script>'
            '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
            + json.dumps({"__DEFAULT_SCOPE__": scope}) + "</script></head><body></body></html>")
    assert parse.rehydration_scope(html) == scope
    assert parse.rehydration_scope("<html>nothing</html>") is None
    broken = html.replace('"statusCode"', "statusCode")
    with pytest.raises(MalformedResponse):
        parse.rehydration_scope(broken)
    with pytest.raises(MalformedResponse):
        parse.rehydration_scope(
            '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">{"other": 1}</script>')


def test_user_detail() -> None:
    creator = parse.parse_user_detail(user_scope(), "@mika.travels")
    assert creator == Creator(unique_id="mika.travels", nickname="Mika ✈",
                              user_id="6900000000000000001", sec_uid="MS4wLjABAAAAxyz",
                              private=False, verified=True)


def test_user_detail_errors() -> None:
    private = user_scope(privateAccount=True)
    private["webapp.user-detail"]["statusCode"] = 10222
    with pytest.raises(PrivateAccount, match="@x is a private account"):
        parse.parse_user_detail(private, "@x")
    # privateAccount true with statusCode 0 is private too
    with pytest.raises(PrivateAccount):
        parse.parse_user_detail(user_scope(privateAccount="true"), "@x")
    unknown = {"webapp.user-detail": {"statusCode": 10221, "statusMsg": "user not exist"}}
    with pytest.raises(UserNotFound, match="@nobody"):
        parse.parse_user_detail(unknown, "@nobody")
    with pytest.raises(UserNotFound):
        parse.parse_user_detail({"webapp.user-detail": {"statusCode": "10202"}}, "@b")
    with pytest.raises(UserNotFound):  # 200, code 0, but no userInfo
        parse.parse_user_detail({"webapp.user-detail": {"statusCode": 0}}, "@b")
    with pytest.raises(MalformedResponse):
        parse.parse_user_detail({}, "@b")
    with pytest.raises(MalformedResponse):  # user without an id
        parse.parse_user_detail(user_scope(id=None), "@b")
    with pytest.raises(Captcha):
        parse.parse_user_detail({"webapp.user-detail": {"statusCode": 10000}}, "@b")


@pytest.mark.parametrize(
    ("code", "error"),
    [(10204, PostUnavailable), (10216, PrivatePost), (10231, RegionLocked),
     (10102, LoginRequired), (10000, Captcha), (12345, MalformedResponse)],
)
def test_video_detail_status_codes(code: int, error: type[TikTokError]) -> None:
    scope = {"webapp.video-detail": {"statusCode": code, "statusMsg": "nope"}}
    with pytest.raises(error) as info:
        parse.video_detail_item(scope, "post 1")
    assert "\n" not in info.value.reason and info.value.reason


def test_video_detail_ok_missing_and_canonical() -> None:
    item = video_item()
    scope = {"webapp.video-detail": {"statusCode": 0, "itemInfo": {"itemStruct": item}}}
    assert parse.video_detail_item(scope, "post") == item
    assert parse.video_detail_item({}, "post") is None
    with pytest.raises(PostUnavailable):
        parse.video_detail_item({"webapp.video-detail": {"statusCode": 0}}, "post")
    seo = {"seo.abtest": {"canonical": "https://www.tiktok.com/@a/video/1"}}
    assert parse.seo_canonical(seo) == "https://www.tiktok.com/@a/video/1"
    assert parse.seo_canonical({"seo.abtest": {"canonical": "javascript:alert(1)"}}) is None
    assert parse.seo_canonical({"seo.abtest": []}) is None


# ----------------------------------------------------------------------------- items


def test_video_story_full() -> None:
    s = story(video_item())
    assert s.id == "7440000000000000001"
    assert s.creator.unique_id == "mika.travels" and s.creator.nickname == "Mika ✈"
    assert s.created_at == datetime.fromtimestamp(CREATED, UTC)
    assert s.expires_at == datetime.fromtimestamp(CREATED + 20 * 3600, UTC)  # story.ExpiredAt
    assert s.kind is Kind.VIDEO and s.duration == 8 and (s.width, s.height) == (576, 1024)
    assert s.caption == "Morning in Lisbon #travel"
    assert s.canonical_url == "https://www.tiktok.com/@mika.travels/video/7440000000000000001"
    assert s.sound is not None and s.sound.title == "original sound" and s.sound.duration == 8
    assert s.is_story and s.has_sound is None
    labels = [(x.codec, x.height, x.label) for x in s.sources]
    # prefer_h264 (compatibility): every H.264 rendition first, by resolution, then HEVC,
    # then playAddr, then the watermarked downloadAddr, bytevc2 last of all
    assert labels == [
        (Codec.H264, 1080, "normal_1080_0"),
        (Codec.H264, 1080, "normal_1080_0"),
        (Codec.H264, 540, "normal_540_0"),
        (Codec.HEVC, 1080, "normal_1080_0"),
        (Codec.HEVC, 540, "normal_540_0"),
        (Codec.H264, 1024, "playAddr"),
        (Codec.H264, 1024, "downloadAddr"),
        (Codec.BYTEVC2, 1080, "normal_1080_0"),
    ]
    assert s.sources[-2].watermarked and not s.sources[0].watermarked
    assert s.sources[0].data_size == 1_234_567 and s.sources[0].bitrate == 2_000_000
    assert len({x.url for x in s.sources}) == len(s.sources)


def test_without_h264_preference_rank_by_resolution_then_bitrate() -> None:
    s = story(video_item(), prefer_h264=False)
    assert [(x.codec, x.bitrate) for x in s.sources[:3]] == [
        (Codec.H264, 2_000_000), (Codec.H264, 2_000_000), (Codec.HEVC, 1_500_000)]


def test_expiry_defaults_to_24h_and_posts_have_none() -> None:
    item = video_item()
    del item["story"]
    s = story(item)
    assert s.expires_at == s.created_at + timedelta(hours=24)
    post = story(item, is_story=False)
    assert post.expires_at is None and not post.is_story


def test_an_expiry_before_the_post_is_not_believed() -> None:
    """ExpiredAt of 1 (junk) or in seconds instead of ms would put the expiry in 1970."""
    for junk in (1, 1_795_086_400):
        item = video_item()
        item["story"]["ExpiredAt"] = junk
        s = story(item)
        assert s.expires_at == s.created_at + timedelta(hours=24)


def test_photo_story() -> None:
    s = story(photo_item())
    assert s.kind is Kind.PHOTO and s.sources == ()
    assert [len(i.urls) for i in s.images] == [2, 1]
    assert (s.images[1].width, s.images[1].height) == (720, 960)
    assert s.caption == "Three frames"  # imagePost.title when desc is empty
    assert s.has_sound is True and s.sound is not None and s.sound.duration == 31.0
    assert s.sound.id == "5"
    silent = photo_item()
    del silent["music"]
    s2 = story(silent)
    assert s2.has_sound is False and s2.duration == 0


def test_tolerance_numbers_as_strings_and_single_bitrate_object() -> None:
    item = video_item(createTime=str(CREATED))
    item["video"]["duration"] = "8.5"
    item["video"]["width"] = "576"
    single = gear("h264", 720, 800_000, size="42")
    single["Bitrate"] = "800000"
    single["PlayAddr"]["Height"] = "720"
    item["video"]["bitrateInfo"] = single  # one object, not a list
    item["story"] = {"ExpiredAt": str((CREATED + 3600) * 1000)}
    s = story(item)
    assert s.duration == 8.5 and s.width == 576
    assert s.expires_at == datetime.fromtimestamp(CREATED + 3600, UTC)
    assert s.sources[0].height == 720 and s.sources[0].bitrate == 800_000
    assert s.sources[0].data_size == 42


def test_tolerance_missing_pieces() -> None:
    item = video_item()
    item["video"]["bitrateInfo"][0]["PlayAddr"].pop("UrlList")
    item["video"]["bitrateInfo"][1].pop("PlayAddr")
    item["video"]["bitrateInfo"].append("junk")
    item["video"]["bitrateInfo"].append({"PlayAddr": {"UrlList": "https://v16-webapp.tiktok.com/one"}})
    item.pop("music")
    item["author"] = None
    s = story(item, creator=Creator(unique_id="fallback", nickname="F"))
    assert s.creator.unique_id == "fallback"
    assert s.sound is None
    urls = [x.url for x in s.sources]
    assert "https://v16-webapp-prime.tiktok.com/one" not in urls
    assert "https://v16-webapp.tiktok.com/one" in urls
    assert not any("h264540" in u for u in urls)
    bare = {"id": 7440000000000000005, "createTime": CREATED}
    s2 = story(bare)
    assert s2.sources == () and s2.kind is Kind.VIDEO and s2.caption == ""
    assert s2.id == "7440000000000000005"


def test_bad_urls_are_dropped() -> None:
    item = video_item()
    item["video"]["bitrateInfo"] = []
    item["video"]["playAddr"] = "https://www.tiktok.com/aweme/v1/play/?video_id=1"
    item["video"]["downloadAddr"] = "javascript:alert(1)"
    assert story(item).sources == ()


def test_item_without_id_or_time_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        story({"createTime": CREATED})
    with pytest.raises(MalformedResponse):
        story({"id": "../../etc", "createTime": CREATED})
    with pytest.raises(MalformedResponse):
        story({"id": "1", "createTime": "soon"})
    # no createTime but ExpiredAt: created = expiry - 24 h
    s = story({"id": "1", "story": {"ExpiredAt": (CREATED + 86400) * 1000}})
    assert s.created_at == datetime.fromtimestamp(CREATED, UTC)


def test_story_hints() -> None:
    assert parse.item_story_hint(video_item())
    plain = video_item()
    del plain["story"]
    assert not parse.item_story_hint(plain)
    assert parse.item_story_hint({**plain, "awemeType": "40"})
    assert not parse.item_story_hint({**plain, "awemeType": 0})
    assert parse.item_story_hint({**plain, "isStory": True})
    assert not parse.item_story_hint("junk")


# ----------------------------------------------------------------------------- story pages


def test_story_page_shapes() -> None:
    data = {"itemList": [video_item("7440000000000000001"), photo_item("7440000000000000002"),
                         {"id": "broken"}],
            "HasMoreAfter": True, "MaxCursor": "1795000000000", "statusCode": 0,
            "status_code": 0, "TotalCount": "7"}
    page = parse.parse_story_page(data, service=SERVICE)
    assert [s.id for s in page.stories] == ["7440000000000000001", "7440000000000000002"]
    assert page.item_ids == ("7440000000000000001", "7440000000000000002", "broken")
    assert page.skipped == 1 and page.has_more and page.max_cursor == 1_795_000_000_000
    assert page.last_create_ms == CREATED * 1000 and page.present
    empty = parse.parse_story_page({"statusCode": 0, "HasMoreAfter": False}, service=SERVICE)
    assert not empty.present and empty.stories == () and not empty.has_more
    assert empty.max_cursor is None
    single = parse.parse_story_page({"itemList": video_item(), "HasMoreAfter": "false",
                                     "MaxCursor": 5}, service=SERVICE)
    assert len(single.stories) == 1 and not single.has_more and single.max_cursor == 5


def test_story_page_status() -> None:
    with pytest.raises(Captcha):
        parse.parse_story_page({"status_code": 10000}, service=SERVICE)
    with pytest.raises(PrivateAccount):
        parse.parse_story_page({"statusCode": "10222"}, service=SERVICE, what="@p")


def test_expiry_from_url() -> None:
    url = "https://v16.tiktok.com/x/?a=1&expire=1795021600&s=2"
    assert parse.expiry_from_url(url) == 1795021600
    url = "https://p16.tiktokcdn.com/x.jpeg?x-expires=17&x-signature=s"
    assert parse.expiry_from_url(url) == 17
    assert parse.expiry_from_url("https://v16.tiktok.com/x/?expire=soon") is None
    assert parse.expiry_from_url("https://[broken/") is None


# ----------------------------------------------------------------------------- fuzz

def _mutate(base: Any, data: st.DataObject) -> Any:
    return mutate(base, data, least=1, most=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_items_give_a_story_or_a_tiktok_error(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from([video_item(), photo_item()]))
    item = _mutate(base, data)
    try:
        s = story(item, prefer_h264=data.draw(st.booleans()))
    except TikTokError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    assert isinstance(s, Story) and s.id.isdigit()
    assert s.created_at.tzinfo is not None
    assert s.expires_at is None or s.expires_at > s.created_at - timedelta(days=3650)
    assert all(x.url.startswith(("http://", "https://")) for x in s.sources)
    assert all("/aweme/v1/play" not in x.url for x in s.sources)
    assert len({x.url for x in s.sources}) == len(s.sources)
    # an image without a usable URL is kept with urls=() (its post page has them, issue 20)
    assert all(u.startswith(("http://", "https://")) for img in s.images for u in img.urls)
    assert isinstance(s.caption, str)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_fuzzed_user_detail_gives_a_creator_or_a_tiktok_error(data: st.DataObject) -> None:
    scope = _mutate(user_scope(), data)
    try:
        creator = parse.parse_user_detail(scope, "@x")
    except TikTokError as exc:
        assert exc.reason
        return
    assert isinstance(creator, Creator) and creator.user_id
    assert not creator.private


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzzed_story_pages_give_a_page_or_a_tiktok_error(data: st.DataObject) -> None:
    base = {"itemList": [video_item(), photo_item()], "HasMoreAfter": True,
            "MaxCursor": "1795000000000", "statusCode": 0}
    try:
        page = parse.parse_story_page(_mutate(base, data), service=SERVICE)
    except TikTokError:
        return
    assert page.skipped + len(page.stories) == len(page.item_ids)


def test_images_without_links_are_kept_for_the_post_page() -> None:
    item = photo_item()
    for image in item["imagePost"]["images"]:
        image["imageURL"] = {"urlList": []}
    s = story(item)
    assert s.kind is Kind.PHOTO and len(s.images) == len(photo_item()["imagePost"]["images"])
    assert all(img.urls == () for img in s.images) and not s.age_gated
    item["isContentClassified"] = True
    assert story(item).age_gated
