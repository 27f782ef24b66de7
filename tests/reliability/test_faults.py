"""Fault matrix, end to end: TikTokClient + DownloadManager + verifier against the stand-in.

Every case runs the whole path over real loopback sockets (look the creator up, enqueue,
download, verify) with one fault switched on in the stand-in, and must end in either a
complete verified file byte-identical to the stand-in's source, or a clear one-line failure
with its reason. Never a hang (an ``asyncio.wait_for`` guard, not a timing assertion), never
a corrupt file under a final name (the download folder is scanned after each case).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.plugins.reliability import (
    partials,
    run_e2e,
    scan_download_dir,
    sha256_file,
)
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings
from tikget_tui.demo import (
    ChallengeMode,
    DemoCreator,
    DemoServer,
    DemoStory,
    MediaCatalog,
    MediaFaults,
    Scenario,
)
from tikget_tui.downloads import JobState, Progress, RetryPolicy
from tikget_tui.mediatools import MediaTools
from tikget_tui.models import Story
from tikget_tui.tiktok.errors import ChallengeFailed, Throttled

CREATOR = "fault.lab"
STORY = "7449000000000000001"
MEDIA = "h264_c"  # 150 KB, 12 s: several chunks, quick to verify
DROP_AT = 40_000


@pytest.fixture
def demo_scenario() -> Scenario:
    """One creator, one video story: each case's fault is the only thing going on."""
    scenario = Scenario()
    scenario.add_creator(DemoCreator(
        username=CREATOR, nickname="Fault Lab", user_id="6800000000000009001",
        sec_uid="MS4wLjABAAAAfaultlab", stories=[
            DemoStory(STORY, MEDIA, "a story under fire", created=-3600.0),
        ]))
    return scenario


@dataclass
class Ctx:
    server: DemoServer
    clock: FakeClock
    waits: list[float] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def story(self) -> DemoStory:
        return self.server.scenario.story(STORY)

    def media_faults(self, **kw: Any) -> None:
        self.story.media_faults = MediaFaults(**kw)


Hook = Callable[[Ctx], None]


def _noop(ctx: Ctx) -> None:
    return None


@dataclass
class Case:
    name: str
    expect: str  # "done" | "failed" | "expired" | "lookup:<ErrorClass>"
    prepare: Hook = _noop
    reason: str = ""  # a substring of the job's (or the lookup error's) reason
    after_lookup: Callable[[Ctx, list[Story]], list[Story]] | None = None
    on_progress: Hook | None = None  # called once, at the first progress with bytes
    on_backoff: Hook | None = None  # called at every backoff wait of the engine
    settings: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Ctx], None] | None = None


def _faults(**kw: Any) -> Hook:
    return lambda ctx: ctx.media_faults(**kw)


def _server(**kw: Any) -> Hook:
    def apply(ctx: Ctx) -> None:
        for k, v in kw.items():
            setattr(ctx.server.scenario.faults, k, v)

    return apply


def _spoil_signature(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, "0" * len(v) if k == "signature" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _spoil_sources(first_only: bool) -> Callable[[Ctx, list[Story]], list[Story]]:
    def spoil(ctx: Ctx, stories: list[Story]) -> list[Story]:
        out = []
        for s in stories:
            sources = tuple(
                dataclasses.replace(src, url=_spoil_signature(src.url))
                if (i == 0 or not first_only) else src
                for i, src in enumerate(s.sources)
            )
            out.append(dataclasses.replace(s, sources=sources))
        return out

    return spoil


def _remove_story(ctx: Ctx, stories: list[Story]) -> list[Story]:
    ctx.story.removed = True  # gone after it was listed: its media now answers 403
    return stories


def _media_requests(ctx: Ctx) -> list[Any]:
    return [r for r in ctx.server.stats.of_kind("media") if "/video/" in r.path]


def _retried_after_the_cut(ctx: Ctx) -> None:
    media = _media_requests(ctx)
    assert media[0].cut and len(media) >= 2


def _resumed_with_range(ctx: Ctx) -> None:
    # every request is cut after DROP_AT bytes: only resuming can finish the file
    ranged = [r for r in _media_requests(ctx) if r.range]
    assert any(r.range == f"bytes={DROP_AT}-" and r.status == 206 for r in ranged), ranged


def _range_ignored(ctx: Ctx) -> None:
    ranged = [r for r in _media_requests(ctx) if r.range]
    assert ranged and all(r.status == 200 for r in ranged)  # asked to resume, got it all


def _looked_up_again(ctx: Ctx) -> None:
    pages = [r for r in ctx.server.stats.requests if r.kind == "api"]
    assert len(pages) >= 2, "the story was not looked up again for fresh links"


def _waited(seconds: float) -> Callable[[Ctx], None]:
    def check(ctx: Ctx) -> None:
        assert seconds in ctx.waits, ctx.waits

    return check


def _bounded_challenge(ctx: Ctx) -> None:
    pages = ctx.server.stats.of_kind("page")
    assert 1 <= len(pages) <= 6, f"{len(pages)} page requests for an unsolvable challenge"


def _stop_stalling(ctx: Ctx) -> None:
    ctx.story.media_faults = None  # the CDN recovers while we back off


def _expire_links(ctx: Ctx) -> None:
    ctx.clock.advance(120)  # past url_lifetime: the signed links die mid-download


def _expire_story(ctx: Ctx) -> None:
    ctx.clock.advance(700)  # past the story's end: the CDN cuts the body, then answers 403


def _expiring_story(ctx: Ctx) -> None:
    ctx.story.expires = 600.0
    ctx.media_faults(dies_with_story=True, bytes_per_second=60_000)


ALL_KINDS = {"page", "api", "media"}

CASES = [
    Case("reset mid-body once", "done", _faults(drop_after=DROP_AT, drop_times=1),
         check=_retried_after_the_cut),
    Case("reset on every request", "done", _faults(drop_after=DROP_AT, drop_times=1000),
         check=_resumed_with_range),
    Case("stalled body, then the CDN recovers", "done", _faults(bytes_per_second=100),
         on_backoff=_stop_stalling, settings={"request_timeout": 0.5}),
    Case("stalled body for good", "failed", _faults(bytes_per_second=100),
         reason="stalled", settings={"request_timeout": 0.5}),
    Case("5xx burst on pages, API and media", "done",
         _server(server_errors=3, fault_kinds=ALL_KINDS)),
    Case("5xx forever on media", "failed",
         _server(server_errors=10**6, fault_kinds={"media"}), reason="503"),
    Case("429 with Retry-After", "done",
         _server(too_many=3, retry_after="2", fault_kinds=ALL_KINDS), check=_waited(2.0)),
    Case("429 without Retry-After", "done", _server(too_many=3, fault_kinds=ALL_KINDS)),
    Case("429 on media asking for an hour", "failed",
         _server(too_many=10**6, retry_after="3600", fault_kinds={"media"}),
         reason="asked to wait"),
    Case("empty JSON bodies, a burst", "done", _server(empty_bodies=2)),
    Case("empty JSON bodies forever", "lookup:Throttled", _server(empty_bodies=10**6),
         reason="empty"),
    Case("empty media body once", "done", _server(empty_bodies=1, fault_kinds={"media"})),
    Case("challenge page on the first visit", "done",
         _server(challenge=ChallengeMode.FIRST_VISIT, challenge_max=2000)),
    Case("challenge page every time", "lookup:ChallengeFailed",
         _server(challenge=ChallengeMode.ALWAYS, challenge_max=2000),
         reason="check page", check=_bounded_challenge),
    Case("CDN 403 on the first mirror", "done", after_lookup=_spoil_sources(first_only=True)),
    Case("CDN 403 on every mirror, fresh links", "done",
         after_lookup=_spoil_sources(first_only=False), check=_looked_up_again),
    Case("story removed after listing", "expired", after_lookup=_remove_story,
         reason="no longer listed"),
    Case("signed links expire mid-download", "done",
         _faults(url_lifetime=60.0, drop_after=DROP_AT, drop_times=1),
         on_progress=_expire_links, check=_looked_up_again),
    Case("story expires mid-download", "expired", _expiring_story,
         on_progress=_expire_story, reason="expired"),
    Case("server ignores Range", "done",
         _faults(ignore_range=True, drop_after=DROP_AT, drop_times=1), check=_range_ignored),
    Case("Content-Length too large", "done", _faults(content_length_delta=5000)),
    Case("Content-Length too small", "failed", _faults(content_length_delta=-5000),
         reason="bytes"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault_ends_in_a_verified_file_or_a_clear_reason(
    case: Case, demo_server: DemoServer, demo_clock: FakeClock, demo_settings: Settings,
    demo_media: MediaCatalog, media_tools: MediaTools,
) -> None:
    ctx = Ctx(demo_server, demo_clock)
    settings = demo_settings.replace(max_retries=4, **case.settings)
    case.prepare(ctx)

    async def backoff(seconds: float) -> None:
        ctx.waits.append(seconds)
        if case.on_backoff is not None:
            case.on_backoff(ctx)

    def on_event(event: object) -> None:
        if (case.on_progress is not None and isinstance(event, Progress) and event.done > 0
                and not ctx.flags.get("progressed")):
            ctx.flags["progressed"] = True
            case.on_progress(ctx)

    result = await run_e2e(
        settings, [CREATOR], clock=demo_clock, tools=media_tools,
        retry=RetryPolicy(attempts=4, base=0.001, cap=0.01, sleep=backoff),
        client_sleep=backoff, on_event=on_event,
        after_lookup=(lambda s: case.after_lookup(ctx, s)) if case.after_lookup else None,
    )
    directory = settings.download_dir

    if case.expect.startswith("lookup:"):
        error = result.lookup_errors.get(CREATOR)
        assert error is not None, "the lookup should have failed"
        assert type(error).__name__ == case.expect.split(":", 1)[1]
        assert isinstance(error, ChallengeFailed | Throttled)
        assert case.reason in error.reason and "\n" not in error.reason
        assert result.jobs == []
    else:
        assert not result.lookup_errors, result.lookup_errors
        assert len(result.jobs) == 1
        job = result.jobs[0]
        assert job.state == JobState(case.expect), (job.state, job.reason)
        if job.state == JobState.DONE:
            assert job.verdict in ("ok", "warn"), job.reason
            assert len(job.files) == 1 and job.files[0].parent == directory
            assert sha256_file(job.files[0]) == sha256_file(demo_media[MEDIA].path)
            assert job.sha256 == sha256_file(job.files[0])
            assert partials(directory) == []
        else:
            assert job.reason and "\n" not in job.reason
            assert case.reason in job.reason, job.reason
            assert not job.files
            if job.state == JobState.EXPIRED:
                assert partials(directory) == []  # an expired job keeps no partial file
    assert await scan_download_dir(directory, demo_media, media_tools) == []
    if case.check is not None:
        case.check(ctx)
