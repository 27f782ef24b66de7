"""A downloader process for the SIGKILL tests (run by tests/integration/test_downloads_kill.py).

``python -m tests.integration.kill_driver ORIGIN CLOCK_EPOCH STORY_ID...`` saves the
stories with the real DownloadManager (state in $TIKGET_HOME, which the test shares)
and prints one JSON line per event, flushed, so the test can kill it at chosen points.
Stories already queued from an earlier (killed) run are resumed by ``start()``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tikget_tui.clock import FakeClock
from tikget_tui.config import load
from tikget_tui.downloads import DownloadManager, JobChanged, Progress
from tikget_tui.tiktok import TikTokClient


def say(**data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


async def main(origin: str, epoch: float, story_ids: list[str]) -> int:
    clock = FakeClock(epoch)
    settings = load().replace(service_origin=origin, api_min_interval=0.0)
    async with TikTokClient(settings, clock=clock) as client:
        manager = DownloadManager(settings, client=client, clock=clock, write_metadata=False)

        def on_event(e: object) -> None:
            if isinstance(e, Progress):
                say(kind="progress", job=e.job_id, done=e.done, total=e.total)
            elif isinstance(e, JobChanged):
                say(kind="state", job=e.job.id, story=e.job.story_id, state=str(e.job.state),
                    reason=e.job.reason)

        manager.subscribe(on_event)
        async with manager:
            known = {j.story_id for j in manager.jobs()}
            wanted = [s for s in story_ids if s not in known]
            if wanted:
                listing = await client.lookup_stories("mika.travels")
                for story in listing.stories:
                    if story.id in wanted:
                        await manager.enqueue(story)
            say(kind="started", jobs=len(manager.jobs()))
            await manager.wait_idle()
            states = {j.story_id: str(j.state) for j in manager.jobs()}
            say(kind="idle", states=states)
    return 0 if all(s == "done" for s in states.values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3:])))
