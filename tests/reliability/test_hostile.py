"""Hostile input: fuzzed wire responses through the client, hostile text end to end,
redirects and media links to foreign hosts, and no credentials ever sent."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.fuzzing import mutate
from tests.plugins.reliability import final_media_files, run_e2e
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoCreator, DemoServer, DemoServerThread, DemoStory
from tikget_tui.demo.scenario import DEMO_CREATOR, DEMO_POST, Scenario, default_scenario
from tikget_tui.downloads import JobState
from tikget_tui.links import ParseError, PostTarget, ShortLink, parse
from tikget_tui.mediatools import MediaTools
from tikget_tui.models import Story
from tikget_tui.tiktok import TikTokClient
from tikget_tui.tiktok.errors import RefusedHost, TikTokError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_RE = re.compile(r'(<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__"[^>]*>)(.*?)(</script>)',
                       re.DOTALL)


async def _nothing(seconds: float) -> None:
    await asyncio.sleep(0)


# ------------------------------------------------------------------ a recording loopback server


@dataclass
class Recorder:
    origin: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
async def evil() -> AsyncIterator[Recorder]:
    """A server on another port playing a host outside TikTok: it must receive nothing."""
    rec = Recorder("")

    async def handle(request: web.Request) -> web.StreamResponse:
        rec.hits.append(request.path_qs)
        return web.Response(body=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40000)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield rec
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------ fuzzing the wire


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(repr=False)
class Captured:
    origin: str  # the stand-in's origin in the captured URLs
    profile: str
    post: str
    home: str
    story_pages: dict[str, str]  # cursor -> JSON text


@pytest.fixture
def captured(demo_thread: DemoServerThread) -> Captured:
    """Real responses of the stand-in: the shapes the fuzzer mutates."""
    origin = demo_thread.origin
    with httpx.Client(base_url=origin, follow_redirects=False) as http:
        profile = http.get(f"/@{DEMO_CREATOR}").text
        post = http.get(f"/@{DEMO_CREATOR}/video/{DEMO_POST}").text
        home = http.get("/").text
        scope = json.loads(SCRIPT_RE.search(profile).group(2))  # type: ignore[union-attr]
        author = scope["__DEFAULT_SCOPE__"]["webapp.user-detail"]["userInfo"]["user"]["id"]
        pages: dict[str, str] = {}
        cursor = "0"
        for _ in range(4):
            text = http.get("/api/story/item_list/", params={
                "authorId": author, "count": "5", "cursor": cursor}).text
            pages[cursor] = text
            data = json.loads(text)
            if not data.get("HasMoreAfter"):
                break
            cursor = str(data["MaxCursor"])
    return Captured(origin, profile, post, home, pages)


WIRE = st.sampled_from(["ok"] * 6 + ["truncate", "garbage", "latin1", "empty", "500", "404",
                                     "302", "403", "html", "deep"])


def wire(body: str, how: str, data: st.DataObject) -> web.Response:
    if how == "truncate":
        cut = data.draw(st.integers(min_value=0, max_value=max(0, len(body) - 1)), label="cut")
        return web.Response(text=body[:cut])
    if how == "garbage":
        junk = data.draw(st.binary(min_size=1, max_size=64), label="garbage")
        at = data.draw(st.integers(min_value=0, max_value=len(body)), label="at")
        raw = body.encode()
        return web.Response(body=raw[:at] + junk + raw[at:], content_type="text/html")
    if how == "latin1":
        return web.Response(body=body.encode("utf-8") + b"\xff\xfe\xc3",
                            headers={"Content-Type": "text/html; charset=utf-8"})
    if how == "empty":
        return web.Response(text="")
    if how == "html":
        return web.Response(text="<html><body>Access Denied</body></html>",
                            content_type="text/html")
    if how == "deep":
        return web.Response(text="[" * 100_000 + "]" * 100_000)
    if how.isdigit():
        return web.Response(status=int(how), text="no")
    return web.Response(text=body, content_type="text/html")


def _mutated_page(html: str, data: st.DataObject, label: str) -> str:
    m = SCRIPT_RE.search(html)
    assert m is not None
    doc = mutate(json.loads(m.group(2)), data, label)
    return html[: m.start(2)] + _script_json(doc) + html[m.end(2):]


async def _fuzz_once(captured: Captured, data: st.DataObject, home: Path) -> list[str]:
    """Serve mutated real responses; the client may succeed or raise TikTokError only."""
    profile = _mutated_page(captured.profile, data, "profile")
    post = _mutated_page(captured.post, data, "post")
    pages = {c: json.dumps(mutate(json.loads(t), data, "page")) for c, t in
             captured.story_pages.items()}
    how = {k: data.draw(WIRE, label=f"wire {k}") for k in ("profile", "post", "api")}
    here = {"origin": ""}

    def local(text: str) -> str:  # the captured URLs point at this server, not the capture's
        return text.replace(captured.origin, here["origin"])

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/api/story/item_list"):
            body = pages.get(request.query.get("cursor", "0"), next(iter(pages.values())))
            return wire(local(body), how["api"], data)
        if path.startswith("/@") and "/video/" in path:
            return wire(local(post), how["post"], data)
        if path.startswith("/@"):
            return wire(local(profile), how["profile"], data)
        return web.Response(text=captured.home, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin = here["origin"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
    outcomes: list[str] = []
    try:
        s = load().replace(service_origin=origin, api_min_interval=0.0, max_retries=2,
                           download_dir=home / "downloads")
        async with TikTokClient(s, clock=FakeClock(), sleep=_nothing,
                                backoff_base=0.0) as client:
            for call in (lambda: client.lookup_stories(DEMO_CREATOR),
                         lambda: client.resolve(PostTarget(DEMO_POST, DEMO_CREATOR, "video"))):
                try:
                    result = await asyncio.wait_for(call(), 30)
                except TikTokError as exc:
                    assert exc.reason and "\n" not in exc.reason
                    outcomes.append(type(exc).__name__)
                else:
                    outcomes.append(type(result).__name__)
                    stories = getattr(result, "stories", (result,))
                    assert all(isinstance(story, Story) for story in stories)
    finally:
        await runner.cleanup()
    return outcomes


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_responses_through_the_client_give_only_typed_errors(
    captured: Captured, tmp_path: Path, data: st.DataObject,
) -> None:
    outcomes = asyncio.run(_fuzz_once(captured, data, tmp_path))
    assert len(outcomes) == 2
    event(f"lookup -> {outcomes[0]}")
    event(f"resolve -> {outcomes[1]}")


HOSTILE_CHARS = st.sampled_from([
    "[bold]", "[/]", "\x1b[31m", "\x1b]8;;http://evil.example\x07", "\u202e", "\u200f", "\x00",
    "\r\n", "../", "..\\", "/etc/passwd", "C:\\", "%2e%2e%2f", "@", "tiktok.com", "https://",
    "vm.tiktok.com/", "/video/", "7430000000000000001", "\ufeff", "ｔｉｋｔｏｋ", "\u0430",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(HOSTILE_CHARS | st.text(max_size=6), max_size=30).map("".join))
def test_hostile_paste_gives_targets_or_parse_error(text: str) -> None:
    try:
        targets = parse(text)
    except ParseError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for t in targets:  # whatever parsed is plain ASCII identifiers, nothing to interpret
        # (the display-only `origin` of a link on a custom service is not an identifier)
        for value in (getattr(t, f.name) for f in dataclasses.fields(t) if f.compare):
            assert value is None or re.fullmatch(r"[a-z0-9._A-Z]+", value), t


# ------------------------------------------------------------------ hostile text end to end

HOSTILE_CAPTION = ("[bold]x[/] [link=http://evil.example]click[/link] \x1b[31mred\x1b[0m "
                   "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 ../../etc/passwd "
                   "..\\..\\windows\\system32 /abs/path C:\\temp\\a CON NUL? *|<>: \u202egpj.exe "
                   "\x00\x07\x08\t\n\r $(rm -rf ~) `id` 'quote' \"dq\" " + "très long " * 400)
HOSTILE_NICK = "[red]Admin[/red] \x1b[2J\u202e<script>alert(1)</script>/../"


@pytest.fixture
def demo_scenario() -> Scenario:
    scenario = default_scenario()
    scenario.add_creator(DemoCreator(
        username="hostile.caps", nickname=HOSTILE_NICK, user_id="6800000000000000666",
        sec_uid="MS4wLjABAAAAhostile", signature="[blink]sig[/blink]\x1b[5m",
        stories=[DemoStory("7449000000000000666", "h264_b", HOSTILE_CAPTION, created=-7200.0)]))
    return scenario


def _safe_name(name: str) -> None:
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert all(unicodedata.category(ch)[0] != "C" for ch in name), repr(name)
    assert "\x1b" not in name and "\u202e" not in name
    assert len(name.encode("utf-8")) <= 255
    assert not name.startswith(".") and ".." not in name.split(".")[0]


async def test_hostile_caption_and_nickname_saved_under_a_safe_name_and_kept_literally(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    media_tools: MediaTools,
) -> None:
    result = await run_e2e(demo_settings, ["hostile.caps"], clock=demo_clock, tools=media_tools,
                           write_metadata=True)  # the hostile text goes into ffmpeg tags too
    assert result.lookup_errors == {}
    (job,) = result.jobs
    assert job.state == JobState.DONE, job.reason
    assert job.story.caption == HOSTILE_CAPTION  # nothing lost or rewritten in the queue
    directory = demo_settings.download_dir.resolve()
    (saved,) = final_media_files(directory)
    assert saved.resolve().parent == directory
    _safe_name(saved.name)
    assert saved.name.startswith("hostile.caps-")
    everything = list(directory.parent.rglob("*"))
    assert all(p.resolve().is_relative_to(directory.parent) for p in everything)
    assert not any("passwd" in p.name and p.parent != directory for p in everything)
    assert job.stem is not None
    side = json.loads((directory / f"{job.stem}.info.json").read_text(encoding="utf-8"))
    assert side["caption"] == HOSTILE_CAPTION
    assert side["nickname"] == HOSTILE_NICK


# ------------------------------------------------------------------ foreign hosts


async def test_short_link_and_canonical_to_foreign_hosts_are_refused_unvisited(
    evil: Recorder, redirector: Any, demo_settings: Settings,
) -> None:
    post = "7430000000000000001"
    redirector.routes["/t/ZMevil01/"] = (302, "http://evil.example/")
    redirector.routes["/t/ZMevil02/"] = (301, f"{evil.origin}/@x/video/{post}")
    redirector.routes["/t/ZMevil03/"] = (302, f"//127.0.0.1:{urlsplit(evil.origin).port}/x")
    redirector.routes[f"/@x/video/{post}"] = (302, f"{evil.origin}/@x/video/{post}")
    redirector.routes["/t/ZMhop0001/"] = (302, f"{redirector.origin}/t/ZMevil02/")
    s = demo_settings.replace(service_origin=redirector.origin)
    async with TikTokClient(s, sleep=_nothing, backoff_base=0.0) as client:
        for code in ("ZMevil01", "ZMevil02", "ZMevil03", "ZMhop0001"):
            try:
                await client.resolve(ShortLink(code, "t"))
            except RefusedHost as exc:
                assert "outside TikTok" in exc.reason
            except TikTokError as exc:  # a hop the client does not follow: still no visit
                assert "evil" not in exc.reason
            else:
                pytest.fail(f"{code} was followed to a foreign host")
        with pytest.raises(RefusedHost):
            await client.resolve(PostTarget(post, "x", "video"))
        client.auto_session = False
        redirector.routes["/video/tos/a/b/k/"] = (302, f"{evil.origin}/v.mp4")
        with pytest.raises(RefusedHost):
            async with client.open_media(f"{redirector.origin}/video/tos/a/b/k/"):
                pass
    assert evil.hits == []  # no request ever reached the foreign host


def _to(origin: str, url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=urlsplit(origin).netloc))


async def test_media_links_to_a_foreign_host_fail_clearly_and_are_never_fetched(
    evil: Recorder, demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    media_tools: MediaTools,
) -> None:
    def hijack(stories: list[Story]) -> list[Story]:
        story = next(s for s in stories if s.id == "7440000000000000002")
        demo_server.scenario.story(story.id).removed = True  # no fresh links either
        bad = tuple(dataclasses.replace(src, url=_to(evil.origin, src.url))
                    for src in story.sources)
        return [dataclasses.replace(story, sources=bad)]

    result = await run_e2e(demo_settings, [DEMO_CREATOR], clock=demo_clock, tools=media_tools,
                           after_lookup=hijack)
    (job,) = result.jobs
    assert job.state in (JobState.FAILED, JobState.EXPIRED)
    assert job.reason and "\n" not in job.reason
    assert final_media_files(demo_settings.download_dir) == []
    assert evil.hits == []


# ------------------------------------------------------------------ credentials


async def test_no_credentials_sent_across_a_full_run(
    demo_server: DemoServer, demo_settings: Settings, demo_clock: FakeClock,
    media_tools: MediaTools,
) -> None:
    from tikget_tui.demo import ChallengeMode

    demo_server.scenario.faults.challenge = ChallengeMode.FIRST_VISIT
    demo_server.scenario.faults.challenge_max = 2000
    result = await run_e2e(demo_settings, [DEMO_CREATOR, "studio.photos"], clock=demo_clock,
                           tools=media_tools)
    assert result.lookup_errors == {}
    assert result.jobs and all(j.state == JobState.DONE for j in result.jobs)
    records = demo_server.stats.requests
    assert {r.kind for r in records} == {"page", "api", "media"}
    issued = {name for r in records for name in r.set_cookie_names}
    # the challenge answer cookies are computed from the page, as a browser does
    from tikget_tui.demo.challenge import COOKIE_NAME, RCI_COOKIE_NAME

    allowed = issued | {COOKIE_NAME, RCI_COOKIE_NAME}
    for r in records:
        assert "authorization" not in r.header_names, r
        assert "proxy-authorization" not in r.header_names, r
        assert set(r.cookie_names) <= allowed, (r.path, r.cookie_names, allowed)
        assert r.user_agent and "python" not in r.user_agent.lower()


def test_the_code_never_asks_for_a_password() -> None:
    prompt = re.compile(r"\bgetpass\b|input\s*\([^)]*pass(word)?|prompt[^\n]*pass(word)?",
                        re.IGNORECASE)
    offenders = []
    for path in sorted((ROOT / "tikget_tui").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if prompt.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (ROOT / "tikget_tui").rglob("*.py"))
    assert "browser_cookie" not in source and "Authorization" not in source
