"""Service: the origin treated as TikTok and the hosts the client may fetch from."""

from __future__ import annotations

import pytest

from tikget_tui.service import TIKTOK_WEB, Service, ServiceError, is_tiktok_host


def test_default_is_real_tiktok() -> None:
    for svc in (Service(), Service.tiktok(), Service.from_origin(None), Service.from_origin(""),
                Service.from_origin("   "), Service.from_origin("https://www.tiktok.com/"),
                Service.from_origin("https://WWW.TikTok.com")):
        assert svc == Service()
        assert svc.origin == TIKTOK_WEB
        assert not svc.custom


@pytest.mark.parametrize(
    ("origin", "normalised", "netloc"),
    [
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123", "127.0.0.1:8123"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123", "127.0.0.1:8123"),
        ("  HTTP://LocalHost:8700  ", "http://localhost:8700", "localhost:8700"),
        ("https://demo.example", "https://demo.example", "demo.example"),
        ("http://[::1]:9000", "http://[::1]:9000", "[::1]:9000"),
        ("http://127.0.0.1:", "http://127.0.0.1", "127.0.0.1"),
    ],
)
def test_from_origin_good(origin: str, normalised: str, netloc: str) -> None:
    svc = Service.from_origin(origin)
    assert svc.custom
    assert svc.origin == normalised
    assert svc.netloc == netloc


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("127.0.0.1:8123", "not an http(s) URL"),
        ("ftp://127.0.0.1", "not an http(s) URL"),
        ("http://", "not an http(s) URL"),
        ("http:///path", "not an http(s) URL"),
        ("http://127.0.0.1:8123/api", "origin only"),
        ("http://127.0.0.1:8123?x=1", "origin only"),
        ("http://127.0.0.1:8123#x", "origin only"),
        ("http://[::1", "not a valid URL"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("http://127.0.0.1:port", "not a valid URL"),
        ("http://user:pw@127.0.0.1:8123", "user name"),
        ("http://127.0.0.1 :8123", "spaces or control"),
        ("http://127.0.0.1:8123\x00", "spaces or control"),
        ("http://evil\\@127.0.0.1", "spaces or control"),
    ],
)
def test_from_origin_bad(origin: str, words: str) -> None:
    with pytest.raises(ServiceError) as exc:
        Service.from_origin(origin)
    message = str(exc.value)
    assert words in message
    assert "\n" not in message
    assert isinstance(exc.value, ValueError)


def test_urls_on_the_origin() -> None:
    svc = Service.from_origin("http://127.0.0.1:8123")
    assert svc.url("/@u") == "http://127.0.0.1:8123/@u"
    assert svc.url("api/x") == "http://127.0.0.1:8123/api/x"
    assert svc.host == "127.0.0.1"
    # a custom service plays the vm/vt hosts under /vm/ and /vt/ (so one can be down)
    assert svc.short_link_url("vm", "ZMa") == "http://127.0.0.1:8123/vm/ZMa/"
    assert svc.short_link_url("vt", "ZSa") == "http://127.0.0.1:8123/vt/ZSa/"
    assert svc.short_link_url("t", "ZTa") == "http://127.0.0.1:8123/t/ZTa/"
    real = Service()
    assert real.short_link_url("vm", "ZMa") == "https://vm.tiktok.com/ZMa/"
    assert real.short_link_url("vt", "ZSa") == "https://vt.tiktok.com/ZSa/"
    assert real.short_link_url("t", "ZTa") == "https://www.tiktok.com/t/ZTa/"
    assert real.url("/@u") == "https://www.tiktok.com/@u"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.tiktok.com/@u",
        "https://v16-webapp-prime.tiktok.com/video/tos/x.mp4?expire=1&signature=s",
        "https://v19-webapp-prime.us.tiktok.com/video/x",
        "https://p16-sign-va.tiktokcdn.com/obj/photo~tplv-photomode-image.jpeg",
        "https://p16-sign.tiktokcdn-us.com/x.webp",
        "https://sf16-ies-music-va.tiktokcdn.com/obj/music.mp3",
        "https://api16-normal-c-useast1a.tiktokv.com/x",
        "https://www.tiktok.com./@u",
        "https://WWW.TIKTOK.COM/@u",
    ],
)
def test_real_tiktok_hosts_accepted(url: str) -> None:
    assert Service().accepts_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://tiktok.com.evil.example/x.mp4",
        "https://nottiktok.com/x",
        "https://tiktok.co/x",
        "https://eviltiktokcdn.com/x",
        "https://tiktokcdn.com.evil.example/x",
        "https://www.tiktok.com@evil.example/x.mp4",
        "https://evil.example@www.tiktok.com/x.mp4",
        "https://evil.example\\@www.tiktok.com/x.mp4",
        "https://www.tiktok.com\\.evil.example/x",
        "https://xn--tktok-jua.com/x",
        "https://www.tіktok.com/x",
        "https://www.tiktok.com:99999/x",
        "https://[::1/x",
        "https://www.tiktok.com/x y",
        "https://www.tiktok.com/\x00",
        "ftp://www.tiktok.com/x",
        "file:///etc/passwd",
        "/relative/path",
        "",
        "http://127.0.0.1:8123/x",
        # plain http to the real service: a redirect must not downgrade (issue 13)
        "http://www.tiktok.com/@u",
        "http://v16-webapp-prime.tiktok.com/video/tos/x.mp4?expire=1&signature=s",
        "http://p16-sign-va.tiktokcdn.com/obj/photo~tplv-photomode-image.jpeg",
    ],
)
def test_look_alikes_and_tricks_refused(url: str) -> None:
    assert not Service().accepts_url(url)
    assert not Service().is_web_url(url)


def test_custom_origin_accepts_only_its_netloc() -> None:
    svc = Service.from_origin("http://127.0.0.1:8123")
    assert svc.accepts_url("http://127.0.0.1:8123/api/story/item_list/?authorId=1")
    assert svc.accepts_url("http://127.0.0.1:8123/media/a.mp4")
    assert svc.is_web_url("http://127.0.0.1:8123/@u")
    for url in (
        "http://127.0.0.1:8124/x",
        "http://127.0.0.1/x",
        "http://localhost:8123/x",
        "https://www.tiktok.com/@u",
        "https://v16-webapp-prime.tiktok.com/video/x",
        "http://user@127.0.0.1:8123/x",
        "ftp://127.0.0.1:8123/x",
    ):
        assert not svc.accepts_url(url), url
        assert not svc.is_web_url(url), url


def test_extra_hosts() -> None:
    svc = Service(origin="http://127.0.0.1:8123", custom=True,
                  extra_hosts=frozenset({"media.local"}))
    assert svc.accepts_url("http://media.local/x.mp4")
    assert not svc.accepts_url("http://other.local/x.mp4")


def test_is_web_url_on_real_tiktok() -> None:
    svc = Service()
    assert svc.is_web_url("https://www.tiktok.com/@u")
    assert svc.is_web_url("https://m.tiktok.com/v/1.html")
    assert not svc.is_web_url("http://www.tiktok.com/@u")  # pages only over https
    assert not svc.is_web_url("https://v16-webapp-prime.tiktok.com/x")


def test_tiktok_host_families() -> None:
    assert is_tiktok_host("tiktok.com")
    assert is_tiktok_host("a.b.tiktokcdn.com")
    assert is_tiktok_host("TIKTOK.COM.")
    assert not is_tiktok_host("tiktok.com.evil.example")
    assert not is_tiktok_host("xtiktok.com")
    assert not is_tiktok_host("")


def test_accepts_link_host() -> None:
    real = Service()
    assert real.accepts_link_host("vm.tiktok.com")
    assert not real.accepts_link_host("127.0.0.1", 8123)
    svc = Service.from_origin("http://127.0.0.1:8123")
    assert svc.accepts_link_host("127.0.0.1", 8123)
    assert svc.accepts_link_host("www.tiktok.com")
    assert not svc.accepts_link_host("127.0.0.1", 8124)


def test_the_stand_in_keeps_its_http_origin() -> None:
    demo = Service.from_origin("http://127.0.0.1:8700")
    assert demo.accepts_url("http://127.0.0.1:8700/video/x.mp4")
    assert not demo.accepts_url("http://127.0.0.1:8701/video/x.mp4")
