"""Issue 20's story paths through ``tikget save`` (in-process) against the stand-in:
lists that stop early, stories whose media come from their post pages, age-gated posts,
all-digit usernames and short links whose host does not resolve."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock, trim_stories
from tikget_tui.clock import FakeClock
from tikget_tui.demo import DemoServer, DemoServerThread, Scenario
from tikget_tui.demo.scenario import (
    DEMO_AGE_GATED_POST,
    DEMO_CREATOR,
    DEMO_DIGIT_CREATOR,
    DEMO_NO_LINKS_CREATOR,
    DEMO_POST,
    DEMO_SHORT_POST,
    Quirk,
)
from tikget_tui.downloads import DownloadManager, JobState
from tikget_tui.links import PostTarget
from tikget_tui.models import AGE_GATED
from tikget_tui.tiktok import AgeRestricted, LoginRequired, TikTokClient
from tikget_tui.watch import Watcher

STORY_B = "7440000000000000002"  # h264_b, 5 s


@pytest.fixture
def demo_clock() -> FakeClock:
    """The commands run on the system clock: keep the stand-in's "now" on it too."""
    return realtime_clock()


def test_save_says_when_the_list_stopped_early(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    creator = demo_scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    result = run_cli("save", "@" + DEMO_CREATOR)
    assert result.rc == 1, result  # saved what was listed, but maybe not everything
    [row] = [ln for ln in result.out.splitlines() if " incomplete " in ln]
    assert row.startswith("@" + DEMO_CREATOR)
    assert row.rstrip().endswith(
        "only 1 story listed: TikTok kept sending the same page of the list (3 fresh device "
        "ids tried); there may be more, look it up again later")
    [saved] = [ln for ln in result.out.splitlines() if ln.startswith("Coffee first")]
    assert " done " in saved and saved.rstrip().endswith("ok")


async def test_a_watch_poll_says_when_the_list_stopped_early(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock,
) -> None:
    trim_stories(demo_server.scenario, DEMO_CREATOR, {STORY_B})
    creator = demo_server.scenario.creator(DEMO_CREATOR)
    assert creator is not None
    creator.quirks.add(Quirk.REPEAT_PAGE)
    manager.store.watch_add("@" + DEMO_CREATOR)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=3600.0, pause=0,
                      rng=random.Random(7))
    (result,) = await watcher.poll_once()
    assert result.ok and result.found == 1 and result.incomplete.startswith("only 1 story")
    entry = manager.store.watch_get(DEMO_CREATOR)
    assert entry is not None and entry.last_result == (
        "1 active story, 1 new queued, 0 already saved or queued; only 1 story listed: TikTok "
        "kept sending the same page of the list (3 fresh device ids tried); there may be "
        "more, look it up again later")
    await manager.wait_idle()


# ----------------------------------------------------------------------------- age gate


def _files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*")) if directory.exists() else []


@pytest.mark.parametrize("audio", [False, True], ids=["video", "audio"])
def test_an_age_gated_link_exits_1_with_one_line_and_writes_nothing(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, audio: bool,
) -> None:
    link = f"{demo_thread.origin}/@{DEMO_CREATOR}/video/{DEMO_AGE_GATED_POST}"
    result = run_cli("save", link, "--json", *(["--audio"] if audio else []))
    assert result.rc == 1, result
    [line] = result.out.splitlines()
    row = json.loads(line)
    assert row["state"] == "not-public" and row["path"] is None and row["files"] == []
    assert row["reason"] == f"post {DEMO_AGE_GATED_POST} {AGE_GATED}"
    assert "no media" not in result.out + result.err
    # nothing written: no file, no part, no MP3 of its music
    assert [p for p in _files(cli_env) if p.is_file()] == []


def test_an_age_gated_story_in_a_list_is_one_line_in_save_and_stories(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    trim_stories(demo_scenario, DEMO_CREATOR, {STORY_B})
    demo_scenario.story(STORY_B).age_gated = True
    listed = run_cli("stories", "@" + DEMO_CREATOR)
    assert listed.rc == 0
    [line] = [ln for ln in listed.out.splitlines() if STORY_B in ln]
    assert "not public" in line and f"{AGE_GATED} · Coffee first" in line
    saved = run_cli("save", "@" + DEMO_CREATOR, "--audio")
    assert saved.rc == 1
    [row] = [ln for ln in saved.out.splitlines() if ln.startswith("Coffee first")]
    assert " not-public " in row and row.rstrip().endswith(AGE_GATED)
    assert [p for p in _files(cli_env) if p.is_file()] == []


async def test_the_client_refuses_an_age_gated_post_and_marks_a_listed_one(
    demo_server: DemoServer, tiktok_client: TikTokClient,
) -> None:
    with pytest.raises(AgeRestricted) as info:
        await tiktok_client.resolve(PostTarget(DEMO_AGE_GATED_POST, DEMO_CREATOR))
    assert isinstance(info.value, LoginRequired) and not info.value.retryable
    assert info.value.reason == f"post {DEMO_AGE_GATED_POST} {AGE_GATED}"
    demo_server.scenario.story(STORY_B).age_gated = True
    listing = await tiktok_client.lookup_stories(DEMO_CREATOR)
    gated = [s for s in listing.stories if s.age_gated]
    assert [s.id for s in gated] == [STORY_B] and gated[0].sources == ()
    assert all(s.sources or s.images for s in listing.stories if not s.age_gated)


async def test_the_watch_list_skips_an_age_gated_story_and_says_so(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock,
) -> None:
    trim_stories(demo_server.scenario, DEMO_CREATOR, {STORY_B, "7440000000000000003"})
    demo_server.scenario.story(STORY_B).age_gated = True
    manager.store.watch_add("@" + DEMO_CREATOR)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=3600.0, pause=0,
                      rng=random.Random(7))
    (result,) = await watcher.poll_once()
    assert result.ok and result.found == 2 and len(result.new_jobs) == 1
    assert result.not_public == 1
    entry = manager.store.watch_get(DEMO_CREATOR)
    assert entry is not None and entry.last_result == (
        f"2 active stories, 1 new queued, 0 already saved or queued, 1 {AGE_GATED} (skipped)")
    await manager.wait_idle()
    [job] = [manager.job(j) for j in result.new_jobs]
    assert job is not None and job.story.id != STORY_B and job.state == JobState.DONE


async def test_the_manager_never_saves_an_age_gated_story(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
) -> None:
    demo_server.scenario.story(STORY_B).age_gated = True
    listing = await dl_client.lookup_stories(DEMO_CREATOR)
    [story] = [s for s in listing.stories if s.id == STORY_B]
    for audio in (False, True):
        job = await manager.enqueue(story, audio=audio)
        await manager.wait_idle()
        done = manager.job(job.id)
        assert done is not None and done.state == JobState.FAILED
        assert done.reason == AGE_GATED and done.files == ()
    assert [p for p in _files(manager.settings.download_dir) if p.is_file()] == []


# ----------------------------------------------------------------------------- post pages

NO_LINK_STORIES = ("7440000000000000051", "7440000000000000052", "7440000000000000053")


def test_save_a_creator_whose_list_has_no_links_saves_every_story_from_its_post_page(
    run_cli, cli_env: Path, demo_thread: DemoServerThread,
) -> None:
    result = run_cli("save", "@" + DEMO_NO_LINKS_CREATOR, "--json")
    assert result.rc == 0, result
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert sorted(r["story_id"] for r in rows) == sorted(NO_LINK_STORIES)
    for row in rows:
        assert row["state"] == "done" and row["verdict"] == "ok", row
        assert all(Path(f).is_file() for f in row["files"])
    photo = next(r for r in rows if r["story_id"] == NO_LINK_STORIES[1])
    assert len(photo["files"]) == 2
    pages = [r.path for r in demo_thread.server.stats.of_kind("page")]
    for sid in NO_LINK_STORIES:  # /video/ serves photo posts too
        assert pages.count(f"/@{DEMO_NO_LINKS_CREATOR}/video/{sid}") == 1, pages


def test_save_audio_of_stories_the_list_gave_no_links_for_takes_their_own_sound(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    """MP3 of a video story without a listed link: its video's sound (via its post page),
    never its music track instead."""
    trim_stories(demo_scenario, DEMO_NO_LINKS_CREATOR, {NO_LINK_STORIES[0]})
    demo_scenario.story(NO_LINK_STORIES[0]).sound = "sound_b"  # a music track it does not use
    result = run_cli("save", "@" + DEMO_NO_LINKS_CREATOR, "--audio", "--json")
    assert result.rc == 0, result
    [row] = [json.loads(line) for line in result.out.splitlines()]
    assert row["state"] == "done" and row["verdict"] == "ok" and row["path"].endswith(".mp3")
    served = [r.path for r in demo_thread.server.stats.of_kind("media") if r.status in (200, 206)]
    assert served and all(p.startswith("/video/") for p in served)  # not /obj/ (the music)


async def test_links_the_cdn_refuses_even_after_a_fresh_look_up_come_from_the_post_page(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
) -> None:
    demo_server.scenario.story(STORY_B).list_urls = "refused"
    listing = await dl_client.lookup_stories(DEMO_CREATOR)
    [story] = [s for s in listing.stories if s.id == STORY_B]
    job = await manager.enqueue(story)
    await manager.wait_idle()
    done = manager.job(job.id)
    assert done is not None and done.state == JobState.DONE and done.verdict == "ok", done
    media = demo_server.stats.of_kind("media")
    refused = [r for r in media if r.status == 403]
    assert refused and all("ls=1" in r.query for r in refused)
    served = [r for r in media if r.status in (200, 206)]
    assert served and all("ls=1" not in r.query for r in served)
    order = [(r.kind, r.path) for r in demo_server.stats.requests
             if r.kind in ("api", "page") or r.status == 403]
    post_page = ("page", f"/@{DEMO_CREATOR}/video/{STORY_B}")
    # refused, looked up again (the list, still refused), then its post page
    assert order.index(post_page) > max(i for i, (k, _) in enumerate(order) if k == "api")


@pytest.mark.parametrize("links", ["none", "refused"])
async def test_the_job_fails_only_after_the_post_page_was_tried_and_says_so(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer, links: str,
) -> None:
    demo = demo_server.scenario.story(STORY_B)
    demo.list_urls = demo.page_urls = links
    listing = await dl_client.lookup_stories(DEMO_CREATOR)
    [story] = [s for s in listing.stories if s.id == STORY_B]
    job = await manager.enqueue(story)
    await manager.wait_idle()
    done = manager.job(job.id)
    assert done is not None and done.state == JobState.FAILED and done.files == ()
    if links == "none":
        assert done.reason == "no usable media link, in the story list nor on its post page"
    else:
        assert done.reason.endswith("; the links from its post page were tried too")
        assert "403" in done.reason
    pages = [r.path for r in demo_server.stats.of_kind("page")]
    assert pages.count(f"/@{DEMO_CREATOR}/video/{STORY_B}") == 1
    assert [p for p in _files(manager.settings.download_dir) if p.is_file()] == []


# ----------------------------------------------------------------------------- digit handles


async def test_the_watch_list_polls_an_all_digit_username_as_a_username(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock,
) -> None:
    manager.store.watch_add("@" + DEMO_DIGIT_CREATOR)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=3600.0, pause=0,
                      rng=random.Random(7))
    (result,) = await watcher.poll_once()
    assert result.ok and result.found == 1 and len(result.new_jobs) == 1, result
    assert result.creator is not None and result.creator.unique_id == DEMO_DIGIT_CREATOR
    await manager.wait_idle()
    [job] = [manager.job(j) for j in result.new_jobs]
    assert job is not None and job.state == JobState.DONE


def test_stories_and_save_take_an_all_digit_username(
    run_cli, cli_env: Path, demo_thread: DemoServerThread,
) -> None:
    for named in ("@" + DEMO_DIGIT_CREATOR, DEMO_DIGIT_CREATOR):
        listed = run_cli("stories", named)
        assert listed.rc == 0 and "1 active story" in listed.out, listed
        assert "Numbers are names too" in listed.out
    saved = run_cli("save", "@" + DEMO_DIGIT_CREATOR, "--json")
    assert saved.rc == 0, saved
    [row] = [json.loads(line) for line in saved.out.splitlines()]
    assert row["creator"] == DEMO_DIGIT_CREATOR and row["verdict"] == "ok"


# ----------------------------------------------------------------------------- short links


def test_save_a_vm_link_whose_host_does_not_resolve(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_retries = 1\n", encoding="utf-8")  # no backoff waits here
    monkeypatch.setenv("TIKGET_CONFIG", str(config))
    demo_scenario.faults.short_hosts_down = {"vm"}
    saved = run_cli("save", f"https://vm.tiktok.com/{DEMO_SHORT_POST}/", "--json")
    assert saved.rc == 0, saved
    [row] = [json.loads(line) for line in saved.out.splitlines()]
    assert row["story_id"] == DEMO_POST and row["verdict"] == "ok"
    demo_scenario.faults.short_hosts_down = {"vm", "vt"}
    failed = run_cli("save", f"https://vm.tiktok.com/{DEMO_SHORT_POST}/", "--json")
    assert failed.rc == 1
    [row] = [json.loads(line) for line in failed.out.splitlines()]
    assert row["state"] == "error" and "\n" not in row["reason"]
    assert row["reason"].startswith(f"the short link vm.tiktok.com/{DEMO_SHORT_POST} could not "
                                    "be resolved: neither vm.tiktok.com nor vt.tiktok.com")
