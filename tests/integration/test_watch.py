"""The watch list: the core Watcher in fake time, and ``tikget watch`` end to end."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from tests.plugins.batch import realtime_clock
from tests.plugins.downloads import RecordingRetry
from tikget_tui.archive.records import Records
from tikget_tui.clock import FakeClock
from tikget_tui.config import Settings, load
from tikget_tui.demo import DemoServer, DemoServerThread, Scenario
from tikget_tui.demo.scenario import (
    DEMO_EMPTY_CREATOR,
    DEMO_PHOTO_CREATOR,
    DEMO_PRIVATE_CREATOR,
    DemoStory,
)
from tikget_tui.downloads import DownloadManager, JobState
from tikget_tui.store import Store
from tikget_tui.tiktok import TikTokClient
from tikget_tui.watch import MAX_WAIT, PollResult, Watcher

NEW_STORY = "7440000000000000099"
HOUR = 3600.0


@pytest.fixture
def demo_clock() -> FakeClock:
    """Real "now" to start with (the CLI tests run on the system clock); moved by hand after."""
    return realtime_clock()


def _post_story(server: DemoServer | DemoServerThread, clock: FakeClock, *, lifetime: float
                ) -> DemoStory:
    """A new story on the photo creator, posted a minute ago (stand-in time)."""
    scenario = server.scenario
    assert scenario.epoch is not None
    posted = clock.time() - scenario.epoch - 60
    story = DemoStory(NEW_STORY, "h264_b", "posted between two polls", created=posted,
                      expires=posted + lifetime)
    creator = scenario.creator(DEMO_PHOTO_CREATOR)
    assert creator is not None
    creator.stories.append(story)
    return story


def _media(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".info.json"))


async def test_story_posted_between_polls_is_saved_before_expiry_and_nothing_twice(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock, demo_settings: Settings, fast_retry: RecordingRetry,
) -> None:
    store = manager.store
    store.watch_add("@" + DEMO_PHOTO_CREATOR)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=HOUR, pause=0,
                      rng=random.Random(7))

    (first,) = await watcher.poll_once()
    assert first.ok and first.found == 2 and len(first.new_jobs) == 2 and first.known == 0
    await manager.wait_idle()
    assert all(manager.job(j).state == JobState.DONE for j in first.new_jobs)  # type: ignore[union-attr]
    entry = store.watch_get(DEMO_PHOTO_CREATOR)
    assert entry is not None and entry.next_poll_at is not None
    now = demo_clock.now()
    # jittered downwards only: never later than the interval
    assert now + timedelta(seconds=0.9 * HOUR) <= entry.next_poll_at <= now + timedelta(hours=1)
    assert entry.last_result == "2 active stories, 2 new queued, 0 already saved or queued"
    assert await watcher.poll_once() == []  # not due yet: no request
    saved_first = _media(demo_settings.download_dir)

    # a story appears between the polls, with two hours to live
    demo_clock.advance(30 * 60)
    story = _post_story(demo_server, demo_clock, lifetime=2 * HOUR)
    demo_clock.set(entry.next_poll_at)
    (second,) = await watcher.poll_once()
    assert second.found == 3 and second.known == 2 and len(second.new_jobs) == 1
    await manager.wait_idle()
    job = manager.job(second.new_jobs[0])
    assert job is not None and job.state == JobState.DONE and job.verdict == "ok", job
    assert job.story_id == NEW_STORY
    expires = demo_server.scenario.epoch + story.expires_offset()  # type: ignore[operator]
    assert demo_clock.time() < expires  # saved while it was still up
    assert job.files[0].is_file()
    assert len(_media(demo_settings.download_dir)) == len(saved_first) + 1

    # a restart (new manager, new watcher, same store): nothing is saved again
    await manager.stop()
    with Store.open(demo_settings.state_db) as reader:
        jobs_before = len(reader.list_jobs())
    async with DownloadManager(demo_settings, client=dl_client, clock=demo_clock,
                               retry=fast_retry) as again:
        later = Watcher(again, dl_client, clock=demo_clock, interval=HOUR, pause=0)
        demo_clock.advance(HOUR)
        (third,) = await later.poll_once()
        await again.wait_idle()
        assert third.found == 3 and third.known == 3 and third.new_jobs == ()
        assert len(again.store.list_jobs()) == jobs_before
        assert len(Records(again.store).entries()) == 3
    assert len(_media(demo_settings.download_dir)) == len(saved_first) + 1


async def test_run_loop_in_fake_time_with_budget_pause_and_failures(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock, demo_settings: Settings,
) -> None:
    store = manager.store
    for name in (DEMO_PHOTO_CREATOR, DEMO_PRIVATE_CREATOR, DEMO_EMPTY_CREATOR):
        store.watch_add(name)
    sleeps: list[float] = []
    stop = asyncio.Event()
    polls: list[PollResult] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        demo_clock.advance(seconds)
        await asyncio.sleep(0)

    def on_poll(result: PollResult) -> None:
        polls.append(result)
        photo_polls = [p for p in polls if p.username == DEMO_PHOTO_CREATOR]
        if len(photo_polls) == 1 and result.username == DEMO_PHOTO_CREATOR:
            _post_story(demo_server, demo_clock, lifetime=24 * HOUR)
        if len(photo_polls) == 2:
            stop.set()

    watcher = Watcher(manager, dl_client, clock=demo_clock, sleep=fake_sleep, interval=HOUR,
                      budget=2, pause=1.5, on_poll=on_poll)
    await asyncio.wait_for(watcher.run(stop), timeout=60)
    await manager.wait_idle()

    # budget 2: the first round polls two creators (never-polled, by name), the next the third
    assert [p.username for p in polls[:3]] == [DEMO_EMPTY_CREATOR, DEMO_PRIVATE_CREATOR,
                                               DEMO_PHOTO_CREATOR]
    assert sleeps[0] == 1.5  # the polite pause between two look-ups of a round
    assert all(1.0 <= s <= MAX_WAIT for s in sleeps if s != 1.5)
    private = next(p for p in polls if p.username == DEMO_PRIVATE_CREATOR)
    assert not private.ok and "private" in private.error and not private.retryable
    entry = store.watch_get(DEMO_PRIVATE_CREATOR)
    assert entry is not None and "private" in entry.last_result
    quiet = store.watch_get(DEMO_EMPTY_CREATOR)
    assert quiet is not None and quiet.last_result == "no active story"

    photo_polls = [p for p in polls if p.username == DEMO_PHOTO_CREATOR]
    assert len(photo_polls[0].new_jobs) == 2
    assert photo_polls[1].known == 2 and len(photo_polls[1].new_jobs) == 1
    assert photo_polls[1].polled_at - photo_polls[0].polled_at <= timedelta(hours=1)
    new_job = manager.job(photo_polls[1].new_jobs[0])
    assert new_job is not None and new_job.story_id == NEW_STORY
    assert new_job.state == JobState.DONE, new_job.reason
    saved = {e.story_id for e in Records(store).entries()}
    assert len(saved) == 3 and NEW_STORY in saved
    ids = [j.story_id for j in store.list_jobs()]
    assert len(ids) == len(set(ids))  # nothing queued twice


def test_watch_cli_add_list_run_remove(
    run_cli, cli_env: Path, demo_thread: DemoServerThread, demo_scenario: Scenario,
) -> None:
    refused = run_cli("watch", "add", "@" + DEMO_PHOTO_CREATOR, "Secret.Garden",
                      "@no.such.creator")
    assert refused.rc == 1, refused  # each creator is looked up once first
    assert refused.out.splitlines() == [f"watching @{DEMO_PHOTO_CREATOR}"]
    err = refused.err.splitlines()
    assert len(err) == 2
    assert "private account" in err[0] and "not watched (--anyway" in err[0]
    assert "@no.such.creator" in err[1] and "does not exist" in err[1]
    assert run_cli("watch", "remove", "@" + DEMO_PHOTO_CREATOR).rc == 0
    added = run_cli("watch", "add", "@" + DEMO_PHOTO_CREATOR, "Secret.Garden", "--note", "art",
                    "--anyway")
    assert added.rc == 0, added
    assert added.out.splitlines() == [f"watching @{DEMO_PHOTO_CREATOR}",
                                      f"watching @{DEMO_PRIVATE_CREATOR}"]
    listed = run_cli("watch", "list", "--json")
    assert listed.rc == 0
    entries = json.loads(listed.out)
    assert [e["username"] for e in entries] == [DEMO_PRIVATE_CREATOR, DEMO_PHOTO_CREATOR]
    assert all(e["next_poll_at"] is None and e["note"] == "art" for e in entries)

    once = run_cli("watch", "run", "--once", "--interval", "7200")
    assert once.rc == 1, once  # the private account could not be looked up
    assert f"@{DEMO_PRIVATE_CREATOR}: @{DEMO_PRIVATE_CREATOR} is a private account" in once.out
    assert f"@{DEMO_PHOTO_CREATOR}: 2 active stories, 2 new queued" in once.out
    assert once.out.count(" done ") == 2
    files = _media(cli_env)
    assert len(files) == 6  # 4 + 2 images

    table = run_cli("watch", "list")
    assert table.rc == 0
    head, *rows = table.out.splitlines()
    assert head.split()[:3] == ["CREATOR", "NEXT", "POLL"]
    photo_row = next(r for r in rows if r.startswith("@" + DEMO_PHOTO_CREATOR))
    assert " in 1h" in photo_row or " in 2h" in photo_row
    assert "2 new queued" in photo_row

    assert run_cli("watch", "remove", "@nobody.here").rc == 1
    removed = run_cli("watch", "remove", "@" + DEMO_PRIVATE_CREATOR)
    assert removed.rc == 0 and removed.out.strip() == f"stopped watching @{DEMO_PRIVATE_CREATOR}"
    rerun = run_cli("watch", "run", "--once")
    assert rerun.rc == 0, rerun
    assert "0 new queued, 2 already saved or queued" in rerun.out
    assert _media(cli_env) == files  # nothing twice
    with Store.open(load().state_db) as store:
        assert [w.username for w in store.watch_list()] == [DEMO_PHOTO_CREATOR]

    bad = run_cli("watch", "run", "--interval", "30")
    assert bad.rc == 2 and "under 24 hours" in bad.err
    post = run_cli("watch", "add", f"{demo_thread.origin}/@{DEMO_PHOTO_CREATOR}/video/1234567")
    assert post.rc == 2 and "post link" in post.err


async def test_an_account_that_turns_private_or_disappears_is_counted_then_paused(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock,
) -> None:
    """Failures are counted poll by poll, reset by a poll that works; after PAUSE_AFTER
    polls that find the account private or gone it is paused and never polled again."""
    from tikget_tui.watch import PAUSE_AFTER

    store = manager.store
    store.watch_add(DEMO_PHOTO_CREATOR)
    store.watch_add(DEMO_EMPTY_CREATOR)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=HOUR, pause=0)
    photo = demo_server.scenario.creator(DEMO_PHOTO_CREATOR)
    assert photo is not None

    (first, _) = sorted(await watcher.poll_once(), key=lambda p: p.username != photo.username)
    assert first.ok and first.failures == 0
    photo.private = True  # the account turns private
    for n in range(1, PAUSE_AFTER):
        demo_clock.advance(HOUR)
        result = await watcher.poll(DEMO_PHOTO_CREATOR)
        assert (result.failures, result.paused) == (n, False)
        assert "private" in result.error
    entry = store.watch_get(DEMO_PHOTO_CREATOR)
    assert entry is not None and (entry.failures, entry.paused) == (PAUSE_AFTER - 1, False)
    photo.private = False  # public again: the count starts over
    demo_clock.advance(HOUR)
    assert (await watcher.poll(DEMO_PHOTO_CREATOR)).failures == 0
    assert store.watch_get(DEMO_PHOTO_CREATOR).failures == 0  # type: ignore[union-attr]

    del demo_server.scenario.creators[DEMO_PHOTO_CREATOR]  # now it is gone altogether
    for _ in range(PAUSE_AFTER):
        demo_clock.advance(HOUR)
        last = await watcher.poll(DEMO_PHOTO_CREATOR)
    assert last.paused and last.failures == PAUSE_AFTER and "does not exist" in last.error
    entry = store.watch_get(DEMO_PHOTO_CREATOR)
    assert entry is not None and entry.paused and entry.failures == PAUSE_AFTER
    # paused: no longer due, not polled by a round (even --once), not in the next poll time
    demo_clock.advance(24 * HOUR)
    assert [w.username for w in watcher.due()] == [DEMO_EMPTY_CREATOR]
    assert [p.username for p in await watcher.poll_once(everyone=True)] == [DEMO_EMPTY_CREATOR]


def test_watch_list_shows_failures_and_paused_and_add_resumes(
    run_cli, cli_env: Path, demo_scenario: Scenario,
) -> None:
    with Store.open(load().state_db) as store:
        store.watch_add(DEMO_PHOTO_CREATOR)
        store.watch_add(DEMO_EMPTY_CREATOR)
        store.watch_update(DEMO_PHOTO_CREATOR, failures=3, paused=True,
                           last_result=f"@{DEMO_PHOTO_CREATOR} is a private account")
        store.watch_update(DEMO_EMPTY_CREATOR, failures=1, last_result="TikTok answered 503")
    table = run_cli("watch", "list")
    photo_row = next(r for r in table.out.splitlines() if r.startswith("@" + DEMO_PHOTO_CREATOR))
    assert "paused" in photo_row and "paused after 3 failed polls" in photo_row
    quiet_row = next(r for r in table.out.splitlines() if r.startswith("@" + DEMO_EMPTY_CREATOR))
    assert "1 failed poll in a row: TikTok answered 503" in quiet_row
    as_json = {e["username"]: e for e in json.loads(run_cli("watch", "list", "--json").out)}
    assert (as_json[DEMO_PHOTO_CREATOR]["failures"], as_json[DEMO_PHOTO_CREATOR]["paused"]) == (
        3, True)
    # the account is public again: adding it looks it up and resumes it
    resumed = run_cli("watch", "add", "@" + DEMO_PHOTO_CREATOR)
    assert resumed.rc == 0, resumed
    assert "watching @studio.photos again" in resumed.out
    with Store.open(load().state_db) as store:
        entry = store.watch_get(DEMO_PHOTO_CREATOR)
        assert entry is not None and (entry.failures, entry.paused) == (0, False)


async def test_once_rounds_cut_by_the_budget_take_turns(
    manager: DownloadManager, dl_client: TikTokClient, demo_server: DemoServer,
    demo_clock: FakeClock,
) -> None:
    """A scheduled `--once` polls everyone up to the budget: the longest unpolled go first,
    so with more creators than the budget no one is left out run after run."""
    store = manager.store
    for name in (DEMO_PHOTO_CREATOR, DEMO_EMPTY_CREATOR, DEMO_PRIVATE_CREATOR):
        store.watch_add(name)
    watcher = Watcher(manager, dl_client, clock=demo_clock, interval=HOUR, pause=0, budget=2)
    first = [p.username for p in await watcher.poll_once(everyone=True)]
    assert first == [DEMO_EMPTY_CREATOR, DEMO_PRIVATE_CREATOR]  # never polled: by name
    demo_clock.advance(HOUR)
    second = [p.username for p in await watcher.poll_once(everyone=True)]
    assert second == [DEMO_PHOTO_CREATOR, DEMO_EMPTY_CREATOR]
    await manager.wait_idle()
    entry = store.watch_get(DEMO_PRIVATE_CREATOR)
    assert entry is not None and entry.last_error and entry.last_found == 0
    photo = store.watch_get(DEMO_PHOTO_CREATOR)
    assert photo is not None and (photo.last_found, photo.last_new, photo.last_error) == (
        2, 2, "")
