"""links.parse: every accepted shape, every refusal, splitting, prose, dedup, service links."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tikget_tui.links import (
    EMPTY_MESSAGE,
    MAX_INPUT_CHARS,
    MAX_TARGETS,
    ParseError,
    PostTarget,
    ShortLink,
    Target,
    UserTarget,
    is_valid_username,
    parse,
)
from tikget_tui.service import Service

POST_ID = "7301234567890123456"


def one(text: str, service: Service | None = None) -> Target:
    targets = parse(text, service)
    assert len(targets) == 1, targets
    return targets[0]


def refused(text: str, service: Service | None = None) -> str:
    with pytest.raises(ParseError) as info:
        parse(text, service)
    message = str(info.value)
    assert message and "\n" not in message and "\r" not in message
    return message


# --- accepted shapes -------------------------------------------------------------------------

POST_SHAPES = [
    (f"https://www.tiktok.com/@some.user/video/{POST_ID}", PostTarget(POST_ID, "some.user")),
    (f"https://www.tiktok.com/@some.user/photo/{POST_ID}",
     PostTarget(POST_ID, "some.user", "photo")),
    (f"https://www.tiktok.com/@some.user/story/{POST_ID}", PostTarget(POST_ID, "some.user")),
    (f"https://www.tiktok.com/@/video/{POST_ID}", PostTarget(POST_ID)),
    (f"https://www.tiktok.com/@/photo/{POST_ID}", PostTarget(POST_ID, None, "photo")),
    (f"https://www.tiktok.com/share/video/{POST_ID}", PostTarget(POST_ID)),
    (f"https://www.tiktokv.com/share/video/{POST_ID}", PostTarget(POST_ID)),
    (f"https://tiktokv.com/share/video/{POST_ID}", PostTarget(POST_ID)),
    (f"https://m.tiktok.com/v/{POST_ID}.html", PostTarget(POST_ID)),
    (f"https://m.tiktok.com/v/{POST_ID}", PostTarget(POST_ID)),
    (f"https://m.tiktok.com/@some.user/video/{POST_ID}", PostTarget(POST_ID, "some.user")),
    (f"https://www.tiktok.com/embed/{POST_ID}", PostTarget(POST_ID)),
    (f"https://www.tiktok.com/embed/v2/{POST_ID}", PostTarget(POST_ID)),
    (f"https://tiktok.com/@some.user/video/{POST_ID}", PostTarget(POST_ID, "some.user")),
]

SHORT_SHAPES = [
    ("https://vm.tiktok.com/ZMabc123/", ShortLink("ZMabc123", "vm")),
    ("https://vt.tiktok.com/ZSxyz987/", ShortLink("ZSxyz987", "vt")),
    ("https://www.tiktok.com/t/ZTRabc12/", ShortLink("ZTRabc12", "t")),
    ("https://tiktok.com/t/ZTRabc12", ShortLink("ZTRabc12", "t")),
]

PROFILE_SHAPES = [
    ("@some.user", UserTarget("some.user")),
    ("some.user", UserTarget("some.user")),
    ("https://www.tiktok.com/@some.user", UserTarget("some.user")),
    ("https://www.tiktok.com/@some.user/", UserTarget("some.user")),
    ("https://www.tiktok.com/@some.user/stories", UserTarget("some.user")),
    ("https://m.tiktok.com/@some.user", UserTarget("some.user")),
    ("https://www.tiktok.com/share/user/6712345678901234567",
     UserTarget(None, "6712345678901234567")),
    ("6712345678901234567", UserTarget("6712345678901234567", "6712345678901234567")),
]

ALL_SHAPES = POST_SHAPES + SHORT_SHAPES + PROFILE_SHAPES


@pytest.mark.parametrize(("text", "expected"), ALL_SHAPES, ids=[t for t, _ in ALL_SHAPES])
def test_every_accepted_shape(text: str, expected: Target) -> None:
    assert one(text) == expected


LINK_SHAPES = [(t, e) for t, e in POST_SHAPES + SHORT_SHAPES + PROFILE_SHAPES[2:7]]


def _variants(link: str) -> list[str]:
    """The same link the way people paste it: scheme-less, http, upper-case host, decorated."""
    assert link.startswith("https://")
    rest = link[len("https://"):]
    host, _, path = rest.partition("/")
    path = "/" + path
    base = path.rstrip("/")
    query = "?_r=1&_t=ZM-8abc&is_from_webapp=1&sender_device=pc&lang=en"
    return [
        rest,
        "http://" + rest,
        "HTTPS://" + host.upper() + path,
        host.upper() + path,
        f"https://{host}{base}/",
        f"https://{host}{base}{query}",
        f"https://{host}{base}/{query}#comments",
        f"https://{host}{base}#top",
        f"//{host}{path}",
        f"https://{host}.{path}",  # fully-qualified host with its trailing dot
        f"https://{host}:443{path}",
        f"<https://{host}{path}>",
        f"({link}).",
        f'"{link}",',
    ]


@pytest.mark.parametrize(("link", "expected"), LINK_SHAPES, ids=[t for t, _ in LINK_SHAPES])
def test_link_shapes_survive_how_people_paste_them(link: str, expected: Target) -> None:
    for variant in _variants(link):
        assert parse(variant) == [expected], variant


def test_usernames_are_case_insensitive_and_lower_cased() -> None:
    assert one("@Some.User") == UserTarget("some.user")
    assert one("https://www.tiktok.com/@Some_User/VIDEO/123") == PostTarget("123", "some_user")


def test_username_in_a_percent_encoded_path() -> None:
    assert one("https://www.tiktok.com/%40some.user/video/42") == PostTarget("42", "some.user")


def test_short_codes_keep_their_case() -> None:
    assert one("vm.tiktok.com/ZMabcDEF") == ShortLink("ZMabcDEF", "vm")


def test_all_digit_rule() -> None:
    # 8 or more bare digits is a username first, else an author id; fewer is a username;
    # @ always means username, /share/user/ always an id
    assert one("12345678") == UserTarget("12345678", "12345678")
    assert one("12345678").either and one("12345678").display == "12345678"
    assert not one("@12345678").either and one("@12345678").display == "@12345678"
    assert one("1234567") == UserTarget("1234567")
    assert one("12") == UserTarget("12")
    assert one("@12345678") == UserTarget("12345678")
    assert one("https://www.tiktok.com/@12345678") == UserTarget("12345678")
    assert "author id" in refused("1" * 25)


def test_username_rules() -> None:
    for good in ("ab", "a" * 24, "_x", "x_", "a.b", ".ab", "a..b", "a1_2.3", "AB"):
        assert is_valid_username(good), good
        assert one("@" + good) == UserTarget(good.lower())
    for bad in ("a", "a" * 25, "ab.", "a-b", "a b", "é1", "ab!", "", "\u212aate", "ａｂ"):
        assert not is_valid_username(bad), bad


@pytest.mark.parametrize("text", ["@a", "@" + "a" * 25, "@bad-name", "@émile", "@a.b-c"])
def test_invalid_handle_is_named(text: str) -> None:
    message = refused(text)
    assert "not a valid TikTok username" in message
    assert repr(text) in message


def test_username_ending_in_a_dot_inside_a_link_is_refused() -> None:
    assert "'@name.'" in refused("https://www.tiktok.com/@name./video/1")


def test_trailing_sentence_dot_is_punctuation_not_part_of_the_handle() -> None:
    assert parse("thanks @some.user.") == [UserTarget("some.user")]


# --- displays and hashing ------------------------------------------------------------------


def test_displays() -> None:
    assert UserTarget("u_1").display == "@u_1"
    assert UserTarget(None, "6712345678901234567").display == "6712345678901234567"
    assert PostTarget("123", "u").display == "https://www.tiktok.com/@u/video/123"
    assert PostTarget("123", None, "photo").display == "https://www.tiktok.com/@/photo/123"
    assert ShortLink("ZMabc", "vm").display == "vm.tiktok.com/ZMabc"
    assert ShortLink("ZSabc", "vt").display == "vt.tiktok.com/ZSabc"
    assert ShortLink("ZTabc", "t").display == "www.tiktok.com/t/ZTabc"
    assert UserTarget("u_1").path == "/@u_1"
    assert PostTarget("9", None).path == "/@/video/9"


def test_display_parses_back_to_the_same_target() -> None:
    for _, target in ALL_SHAPES:
        if isinstance(target, UserTarget) and target.username is None:
            # an author id shows as its number, which reads back as a username first
            # and else that id (issue 20)
            assert parse(target.display) == [UserTarget(target.user_id, target.user_id)]
            continue
        assert parse(target.display) == [target]


def test_targets_are_frozen_and_hashable() -> None:
    targets = {UserTarget("ab"), UserTarget("ab"), PostTarget("1"), ShortLink("ZM", "vm")}
    assert len(targets) == 3
    with pytest.raises(AttributeError):
        UserTarget("ab").username = "cd"  # type: ignore[misc]


# --- several targets, prose, dedup ---------------------------------------------------------


def test_several_targets_with_every_separator() -> None:
    text = (
        "@alpha, @beta;@gamma\nhttps://vm.tiktok.com/ZMabc1/\r\n"
        f"www.tiktok.com/@delta/video/{POST_ID}\t vt.tiktok.com/ZSdef2 ; ;,"
    )
    assert parse(text) == [
        UserTarget("alpha"),
        UserTarget("beta"),
        UserTarget("gamma"),
        ShortLink("ZMabc1", "vm"),
        PostTarget(POST_ID, "delta"),
        ShortLink("ZSdef2", "vt"),
    ]


def test_bare_words_are_usernames() -> None:
    assert parse("alpha beta,gamma") == [UserTarget("alpha"), UserTarget("beta"),
                                         UserTarget("gamma")]


def test_bare_word_that_is_not_a_username_is_named() -> None:
    message = refused("alpha b!d gamma")
    assert "'b!d'" in message


def test_links_in_prose() -> None:
    text = "look at this https://vm.tiktok.com/ZMabc123/ so funny!! 😂 (via @bob.b) rated 3.5/5"
    assert parse(text) == [ShortLink("ZMabc123", "vm"), UserTarget("bob.b")]


def test_link_glued_to_markdown() -> None:
    text = f"see [this](https://www.tiktok.com/@ann/video/{POST_ID}) and *@bob*"
    assert parse(text) == [PostTarget(POST_ID, "ann"), UserTarget("bob")]


def test_trailing_ellipsis_and_full_width_separators() -> None:
    assert parse("https://vm.tiktok.com/ZMabc…") == [ShortLink("ZMabc", "vm")]
    assert parse("@alpha，@beta；@gamma") == [UserTarget("alpha"), UserTarget("beta"),
                                              UserTarget("gamma")]


def test_invisible_spaces_are_separators() -> None:
    assert parse("\ufeff@alpha\u200b@beta\u00a0@gamma") == [
        UserTarget("alpha"), UserTarget("beta"), UserTarget("gamma")]


def test_prose_with_a_lone_at_sign() -> None:
    assert parse("meet @ noon, @alpha") == [UserTarget("alpha")]


def test_duplicates_removed_keeping_order() -> None:
    text = ("@bb @aa @BB https://www.tiktok.com/@aa vm.tiktok.com/ZMx vm.tiktok.com/ZMx/"
            " vt.tiktok.com/ZMx")
    assert parse(text) == [UserTarget("bb"), UserTarget("aa"), ShortLink("ZMx", "vm"),
                           ShortLink("ZMx", "vt")]


def test_same_post_through_different_links_is_one_target_with_the_username() -> None:
    text = (
        f"https://www.tiktok.com/share/video/{POST_ID} @zed "
        f"https://www.tiktok.com/@ann/video/{POST_ID} m.tiktok.com/v/{POST_ID}.html"
    )
    assert parse(text) == [PostTarget(POST_ID, "ann"), UserTarget("zed")]


def test_max_targets() -> None:
    ok = " ".join(f"@user{i}" for i in range(MAX_TARGETS))
    assert len(parse(ok)) == MAX_TARGETS
    # duplicates do not count against the limit
    assert len(parse(ok + " " + ok)) == MAX_TARGETS
    too_many = ok + " @one_more"
    assert str(MAX_TARGETS) in refused(too_many)


def test_max_input_length() -> None:
    filler = "@alpha " * (MAX_INPUT_CHARS // 7)
    assert len(filler) <= MAX_INPUT_CHARS
    assert parse(filler) == [UserTarget("alpha")]
    message = refused("@alpha " + "x" * MAX_INPUT_CHARS)
    assert "too long" in message


# --- custom service origin -----------------------------------------------------------------

DEMO = Service.from_origin("http://127.0.0.1:8123")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://127.0.0.1:8123/@demo_user/video/17", PostTarget("17", "demo_user")),
        ("http://127.0.0.1:8123/@demo_user/photo/18", PostTarget("18", "demo_user", "photo")),
        ("http://127.0.0.1:8123/@demo_user", UserTarget("demo_user")),
        ("http://127.0.0.1:8123/@demo_user/stories?lang=en", UserTarget("demo_user")),
        ("127.0.0.1:8123/t/ZTcode1/", ShortLink("ZTcode1", "t")),
        ("https://127.0.0.1:8123/share/video/19", PostTarget("19")),
        ("http://127.0.0.1:8123/embed/v2/20", PostTarget("20")),
        # real TikTok links still name the same abstract targets
        ("https://vm.tiktok.com/ZMabc/", ShortLink("ZMabc", "vm")),
    ],
)
def test_links_on_the_service_origin(text: str, expected: Target) -> None:
    assert one(text, DEMO) == expected


def test_service_origin_needs_the_same_host_and_port() -> None:
    for text in ("http://127.0.0.1:8124/@demo_user", "http://localhost:8123/@demo_user",
                 "http://127.0.0.1/@demo_user", "http://127.0.0.2:8123/@demo_user"):
        assert "127.0.0.1:8123" in refused(text, DEMO)
    # without the service, loopback links are just other hosts
    assert "not a TikTok address" in refused("http://127.0.0.1:8123/@demo_user")


def test_service_origin_with_default_port_and_ipv6() -> None:
    svc = Service.from_origin("http://localhost")
    assert one("http://localhost/@ab", svc) == UserTarget("ab")
    assert one("http://localhost:80/@ab", svc) == UserTarget("ab")
    v6 = Service.from_origin("http://[::1]:8123")
    assert one("http://[::1]:8123/@ab/video/5", v6) == PostTarget("5", "ab")


def test_service_origin_rejects_other_paths() -> None:
    assert "not a profile, post or short link" in refused("http://127.0.0.1:8123/music/x", DEMO)


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://tiktok.com.evil.example/@user/video/1",
        "tiktok.com.evil.example/@user",
        "https://nottiktok.com/@user",
        "nottiktok.com",
        "https://tiktok.co/@user",
        "https://www.tiktok.co/@user/video/1",
        "https://vm.tiktok.com.evil.example/ZMabc",
        "https://evil.example/https://www.tiktok.com/@user",
        "https://www.tiktokv.com.evil.example/share/video/1",
        "https://xn--tktok-jua.com/@user",
        "https://www.xn--tiktk-rta.com/@user",
        "http://127.0.0.1:8123/@user",
        "https://www.google.com/url?q=https://www.tiktok.com/@user",
    ],
)
def test_other_hosts_refused(text: str) -> None:
    assert "not a TikTok address" in refused(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://www.tiktok.com@evil.example/@user/video/1",
        "https://user:pass@www.tiktok.com/@user",
        "https://evil.example@www.tiktok.com/@user",
    ],
)
def test_userinfo_tricks_refused(text: str) -> None:
    assert "user info" in refused(text)


@pytest.mark.parametrize(
    "text",
    ["https://www.tіktok.com/@user", "tіktok.com/@user", "https://ｗｗｗ.tiktok.com/@user",
     "https://www.ti\u212atok.com/@user"],
)
def test_non_ascii_look_alike_hosts_refused(text: str) -> None:
    assert "look-alike" in refused(text)


def test_backslash_trick_refused() -> None:
    assert "backslash" in refused("https://evil.example\\@www.tiktok.com/@user")


@pytest.mark.parametrize(
    "text",
    [
        "https://www.tiktok.com/music/original-sound-123",
        "https://www.tiktok.com/tag/funny",
        "https://www.tiktok.com/",
        "tiktok.com",
        "https://www.tiktok.com/@user/live",
        "https://www.tiktok.com/@user/video",
        "https://www.tiktok.com/@/",
        "https://www.tiktok.com/share/music/1",
        "https://www.tiktokv.com/@user",
        "https://ads.tiktok.com/@user/video/1",
        "https://m.tiktok.com/v/1/2",
    ],
)
def test_tiktok_links_that_are_not_pages_say_what_is_accepted(text: str) -> None:
    message = refused(text)
    assert "not a profile, post or short link" in message
    assert "@user/video/ID" in message and "vm.tiktok.com/CODE" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("https://www.tiktok.com/@user/video/12ab", "post id"),
        ("https://www.tiktok.com/@user/video/" + "1" * 33, "post id"),
        ("https://www.tiktok.com/share/user/abc", "author id"),
        ("https://vm.tiktok.com/", "short link"),
        ("https://vm.tiktok.com/ZM/extra", "short link"),
        ("https://vm.tiktok.com/Z", "short link"),
        ("https://vm.tiktok.com/ZM%21bad", "short link"),
        ("https://www.tiktok.com:8443/@user", "port"),
        ("https://www.tiktok.com:99999/@user", "well-formed"),
        ("http://[::1/@user", "well-formed"),
        ("ftp://www.tiktok.com/@user", "not a web link"),
        ("https://", "no host"),
        ("https://www.tiktok.com/@bad!name/video/1", "username"),
    ],
)
def test_malformed_links(text: str, words: str) -> None:
    assert words in refused(text)


@pytest.mark.parametrize(
    "ch", ["\x00", "\x1b", "\x07", "\x7f", "\x85", "\u202e", "\u202a", "\u2066", "\u200e",
           "\u061c", "\ud800"],
)
def test_control_characters_refused(ch: str) -> None:
    message = refused(f"@alpha {ch}@beta")
    assert f"U+{ord(ch):04X}" in message


def test_ansi_escape_sequence_refused() -> None:
    assert "control character" in refused("\x1b[31m@alpha\x1b[0m")


@pytest.mark.parametrize("text", ["", " ", "\n\t\r\n", ",;,", "...", "()", "\u200b", "@"[:0]])
def test_empty_input(text: str) -> None:
    assert refused(text) == EMPTY_MESSAGE


def test_lone_at_sign_alone_is_an_invalid_username() -> None:
    assert "not a valid TikTok username" in refused("@")


def test_percent_encoded_control_characters_refused() -> None:
    assert "username" in refused("https://www.tiktok.com/@ab%00cd")
    assert "post id" in refused("https://www.tiktok.com/@ab/video/1%1b")


def test_non_str_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse(b"@alpha")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------

FRAGMENTS = [
    "https://", "http://", "//", "www.", "vm.", "vt.", "m.", "tiktok.com", "tiktokv.com",
    "tiktok.co", ".evil.example", "/@", "@", "/video/", "/photo/", "/story/", "/stories", "/t/",
    "/v/", ".html", "/embed/", "v2/", "/share/video/", "/share/user/", "?_r=1&_t=x", "#frag",
    ":8123", ":", "user", "User.Name", "_", ".", "123", "7301234567890123456", "ZMabc", " ",
    ",", ";", "\n", "\\", "%40", "%00", "[", "]", "(", ")", "<", ">", "\u202e", "\x00", "\x1b",
    "…", "é", "і", "xn--", "127.0.0.1", "[::1]", "localhost",
]


def _outcome(text: str, service: Service | None = None) -> list[Target] | ParseError:
    try:
        result = parse(text, service)
    except ParseError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message
        assert len(message) < 400
        return exc
    assert isinstance(result, list) and result
    assert all(isinstance(t, UserTarget | PostTarget | ShortLink) for t in result)
    assert len(result) == len(set(result)) <= MAX_TARGETS
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_gives_targets_or_parse_error(text: str) -> None:
    _outcome(text)
    _outcome(text, DEMO)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=25).map("".join))
def test_link_fragment_soup_gives_targets_or_parse_error(text: str) -> None:
    _outcome(text)
    _outcome(text, DEMO)


USERNAMES = st.from_regex(r"[A-Za-z0-9_.]{1,23}[A-Za-z0-9_]", fullmatch=True)
POST_IDS = st.from_regex(r"[1-9][0-9]{0,19}", fullmatch=True)
USER_IDS = st.from_regex(r"[1-9][0-9]{7,19}", fullmatch=True)
CODES = st.from_regex(r"[A-Za-z0-9]{2,12}", fullmatch=True)
HOSTS = ["www.tiktok.com", "tiktok.com", "m.tiktok.com", "WWW.TikTok.com"]
DECORATIONS = ["", "/", "?_r=1&_t=ZM-8&is_from_webapp=1&sender_device=pc", "/?lang=en#x"]
PREFIXES = ["https://", "http://", "", "HTTPS://"]


@settings(max_examples=300, deadline=None)
@given(USERNAMES, POST_IDS, st.sampled_from(HOSTS), st.sampled_from(DECORATIONS),
       st.sampled_from(PREFIXES))
def test_round_trip_usernames_and_posts(
    name: str, post_id: str, host: str, decoration: str, prefix: str
) -> None:
    lower = name.lower()
    user = UserTarget(lower)
    for text in (
        "@" + name,
        f"{prefix}{host}/@{name}{decoration}",
        f"{prefix}{host}/@{name}/stories{decoration}",
    ):
        assert parse(text) == [user], text
    if not name.isdigit() or len(name) < 8:
        assert parse(name) == [user]
    assert parse(user.display) == [user]
    for kind in ("video", "photo"):
        post = PostTarget(post_id, lower, kind)
        assert parse(f"{prefix}{host}/@{name}/{kind}/{post_id}{decoration}") == [post]
        assert parse(post.display) == [post]
    anonymous = PostTarget(post_id)
    for text in (
        f"{prefix}{host}/@/video/{post_id}{decoration}",
        f"{prefix}{host}/share/video/{post_id}{decoration}",
        f"{prefix}www.tiktokv.com/share/video/{post_id}{decoration}",
        f"{prefix}m.tiktok.com/v/{post_id}.html{decoration}",
        f"{prefix}{host}/embed/{post_id}{decoration}",
        f"{prefix}{host}/embed/v2/{post_id}{decoration}",
    ):
        assert parse(text) == [anonymous], text


@settings(max_examples=300, deadline=None)
@given(USER_IDS, CODES, st.sampled_from(DECORATIONS), st.sampled_from(PREFIXES))
def test_round_trip_ids_and_short_links(
    user_id: str, code: str, decoration: str, prefix: str
) -> None:
    assert parse(user_id) == [UserTarget(user_id, user_id)]
    assert parse(f"{prefix}www.tiktok.com/share/user/{user_id}{decoration}") == [
        UserTarget(None, user_id)
    ]
    for kind, link in (
        ("vm", f"{prefix}vm.tiktok.com/{code}{decoration}"),
        ("vt", f"{prefix}VT.tiktok.com/{code}{decoration}"),
        ("t", f"{prefix}www.tiktok.com/t/{code}{decoration}"),
    ):
        short = ShortLink(code, kind)
        assert parse(link) == [short], link
        assert parse(short.display) == [short]
        assert parse(f"watch this {link} lol") == [short]


@settings(max_examples=200, deadline=None)
@given(st.lists(USERNAMES, min_size=1, max_size=10), st.sampled_from([" ", ",", ";", "\n", ", "]))
def test_round_trip_many_handles(names: list[str], sep: str) -> None:
    expected: list[Target] = []
    for name in names:
        target = UserTarget(name.lower())
        if target not in expected:
            expected.append(target)
    assert parse(sep.join("@" + n for n in names)) == expected


# -- prose words skipped next to links/@handles are reported, not silently dropped ----------


def test_parse_detailed_reports_ignored_words() -> None:
    from tikget_tui.links import parse_detailed

    result = parse_detailed("look at @mika.travels and quiet.creator")
    assert result.targets == (UserTarget("mika.travels"),)
    assert result.ignored == ("look", "at", "and", "quiet.creator")
    note = result.ignored_note()
    assert "\n" not in note and "ignored 4 words" in note and "'look'" in note
    assert "and 1 more" in note and "write @name" in note
    assert parse_detailed("@mika.travels").ignored_note() == ""
    # bare words alone are usernames, nothing ignored
    assert parse_detailed("mika.travels quiet.creator").ignored == ()


def test_links_on_a_custom_service_are_shown_on_that_origin() -> None:
    service = Service.from_origin("http://127.0.0.1:8765")
    short, post = parse(
        "http://127.0.0.1:8765/t/ZMgone000/ http://127.0.0.1:8765/@quiet.creator/video/7430000000000000003",
        service,
    )
    assert short.display == "http://127.0.0.1:8765/t/ZMgone000"
    assert post.display == "http://127.0.0.1:8765/@quiet.creator/video/7430000000000000003"
    # the origin is for display only: the same post from TikTok is the same target
    assert post == PostTarget("7430000000000000003", "quiet.creator")
    assert parse("https://vm.tiktok.com/ZMabc/", service)[0].display == "vm.tiktok.com/ZMabc"


# -- shapes other downloaders' URL tests accept (issue 12, point 6) ---------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a sponsored video: the author slot holds TikTok's internal account id (secUid)
        ("https://www.tiktok.com/@MS4wLjABAAAAdzhMt8BUnDvsb8MhWPLLv9cdN2YKi5AVDl9vjwxG8Rm"
         "/video/7042692929109986561", PostTarget("7042692929109986561")),
        ("https://www.tiktok.com/@MS4wLjABAAAAdzhMt8BUnDvsb8MhWPLLv9cdN2YKi5AVDl9vjwxG8Rm"
         "/photo/7042692929109986561", PostTarget("7042692929109986561", None, "photo")),
        ("https://www.tiktok.com/@user/posts", UserTarget("user")),
        ("https://www.tiktok.com/@user/posts/", UserTarget("user")),
    ],
)
def test_peer_link_shapes(text: str, expected: Target) -> None:
    assert parse(text) == [expected]


def test_internal_id_author_slot_without_a_post_is_still_refused() -> None:
    # no post id to take: the long token is not a username, and the error says so
    assert "not a valid TikTok username" in refused(
        "https://www.tiktok.com/@MS4wLjABAAAAdzhMt8BUnDvsb8MhWPLLv9cdN2YKi5AVDl9vjwxG8Rm")


@pytest.mark.parametrize(
    "text",
    ["https:/www.tiktok.com/@u/video/1", "https:www.tiktok.com/@user", "http:/tiktok.com/@user",
     "https:///www.tiktok.com/@user", "https//www.tiktok.com/@user",
     "look at HTTPS:/www.tiktok.com/@user please"],
)
def test_mistyped_scheme_is_a_malformed_link_not_a_username(text: str) -> None:
    message = refused(text)
    assert "malformed link" in message and "https://" in message
    assert "not a valid TikTok username" not in message


def test_parse_detailed_keeps_the_good_entries_and_names_the_bad_one() -> None:
    """The app looks up what it can of a paste; parse() (the CLI) stays strict."""
    from tikget_tui.links import parse_detailed

    parsed = parse_detailed(
        "@mika.travels\nhttps://www.evil-tiktok.example/@x/video/1\n@studio.photos")
    assert [t.display for t in parsed.targets] == ["@mika.travels", "@studio.photos"]
    assert len(parsed.rejected) == 1 and "evil-tiktok.example" in parsed.rejected[0]
    assert parsed.rejected_note().startswith("skipped 1: ")
    with pytest.raises(ParseError, match=r"evil-tiktok\.example"):
        parse("@mika.travels https://www.evil-tiktok.example/@x/video/1")
