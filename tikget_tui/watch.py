"""The watch list's engine: poll watched creators and save every new story before it expires.

Core code (no textual): the ``tikget watch run`` command and the TUI both drive
one :class:`Watcher` over a started :class:`~tikget_tui.downloads.DownloadManager`.

- Which creators are due, and when each is polled next, lives in the store's
  watch table (``next_poll_at``/``last_poll_at``/``last_result``), so restarts
  keep the schedule and a UI can show it.
- Intervals are jittered *downwards* only (uniform in
  ``[interval * (1 - jitter), interval]``) and the interval must be under 24 h,
  so a story posted right after a poll is always seen well before it expires.
- Politeness: at most ``budget`` look-ups per round (the rest stay due for the
  next round), ``pause`` seconds between look-ups (on top of the client's own
  per-host limits and API spacing), a shorter retry (``retry_after`` honoured)
  after a temporary failure.
- An account that a poll finds private, unknown or otherwise not public
  ``PAUSE_AFTER`` times in a row is paused (``WatchEntry.paused``; no more polls) and
  every failure is counted (``WatchEntry.failures``); a poll that works resets both,
  and ``tikget watch add`` of a paused account resumes it after a look-up.
- Every new story goes through ``DownloadManager.enqueue`` (expiring-first
  queue, verification, sidecars); stories already archived with their files on
  disk, or already queued, are not enqueued again — nothing is saved twice,
  across polls and across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tikget_tui.archive.records import Records
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.models import AGE_GATED, Creator, Kind, Story
from tikget_tui.store import Store, WatchEntry, WatchRun

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

MIN_INTERVAL = 60.0
MAX_INTERVAL = 24 * 3600.0  # exclusive: an interval must be under a story's lifetime
DEFAULT_BUDGET = 20  # look-ups per round
DEFAULT_PAUSE = 2.0  # seconds between two look-ups of one round
RETRY_SOON = 600.0  # after a temporary failure (network, throttling), try again within this
PAUSE_AFTER = 3  # polls in a row that found the account private or gone: then it is paused
MAX_WAIT = 300.0  # run() re-reads the watch list at least this often (a UI may add creators)


class WatchError(ValueError):
    """A watch setting that cannot be used; one line that says what to fix."""


def check_interval(seconds: float) -> float:
    if not MIN_INTERVAL <= seconds < MAX_INTERVAL:
        raise WatchError(
            f"the poll interval must be at least {MIN_INTERVAL:.0f} seconds and under 24 hours "
            f"(stories last 24 h), not {seconds:g}"
        )
    return float(seconds)


@dataclass(frozen=True)
class PollResult:
    """What one poll of one creator found."""

    username: str
    polled_at: datetime
    next_poll_at: datetime
    found: int = 0  # active stories listed
    new_jobs: tuple[int, ...] = ()  # jobs enqueued by this poll
    known: int = 0  # already saved or already queued
    error: str = ""  # the reason when the look-up failed
    retryable: bool = False
    stories: tuple[Story, ...] = ()  # what the look-up listed (a UI shows them)
    creator: Creator | None = None  # who was looked up (None when the look-up failed)
    failures: int = 0  # polls failed in a row, this one included (0 when it worked)
    paused: bool = False  # this failure paused the account (no more polls)
    not_public: int = 0  # age-gated stories listed (never queued; AGE_GATED)
    incomplete: str = ""  # the listing stopped early: how many and why (StoryList.incomplete)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def summary(self) -> str:
        """The one line stored as the watch entry's ``last_result``."""
        if self.error:
            return self.error
        if not self.found:
            return "no active story"
        n = len(self.new_jobs)
        gated = (f", {self.not_public} {AGE_GATED} (skipped)" if self.not_public else "")
        line = (f"{self.found} active stor{'y' if self.found == 1 else 'ies'}, "
                f"{n} new queued, {self.known} already saved or queued{gated}")
        return f"{line}; {self.incomplete}" if self.incomplete else line


def health_line(entry: WatchEntry, *, resume: str = "") -> str:
    """What a failing or paused account shows before its last result ('' when its polls
    work): "2 failed polls in a row", "paused after 3 failed polls (RESUME)"."""
    n = entry.failures
    polls = f"{n} failed poll{'s' if n != 1 else ''}"
    if entry.paused:
        return f"paused after {polls}" + (f" ({resume})" if resume else "")
    return f"{polls} in a row" if n else ""


def _span(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m = rem // 60
    return f"{h}h {m:02d}m" if h else f"{m}m"


def timer_line(runs: list[WatchRun], now: datetime) -> str:
    """What the app shows of the scheduled runs (``watch run --once --every``), read from the
    state database: "timer: last poll 3h 05m ago · next in about 55m"; '' when no
    scheduler has run. Runs that found the app holding the queue did not poll: the last
    poll is the last run that did; the next run is the last one's start plus its interval."""
    scheduled = [r for r in runs if r.every]
    if not scheduled:
        return ""
    polled = next((r for r in scheduled if not r.skipped and r.finished_at is not None), None)
    last = "no poll yet" if polled is None else (
        "last poll just now" if (now - polled.started_at).total_seconds() < 60
        else f"last poll {_span((now - polled.started_at).total_seconds())} ago")
    if polled is not None and polled.status:
        last += " (some failed)"
    latest = scheduled[0]
    assert latest.every is not None
    due = (latest.started_at + timedelta(seconds=latest.every) - now).total_seconds()
    nxt = f"next in about {_span(due)}" if due >= 60 else "next any minute"
    return f"timer: {last} · {nxt}"


class Watcher:
    """Polls due creators and enqueues their new stories on ``manager``.

    ``client`` is the TikTok client (defaults to the one the manager uses);
    ``clock`` and ``sleep`` are injectable so tests run the loop in fake time.
    ``on_poll`` is called (in the loop) with every :class:`PollResult`.
    """

    def __init__(
        self,
        manager: Any,
        client: Any = None,
        *,
        store: Store | None = None,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep | None = None,
        interval: float | None = None,
        jitter: float = 0.1,
        budget: int = DEFAULT_BUDGET,
        pause: float = DEFAULT_PAUSE,
        audio: bool = False,
        rng: random.Random | None = None,
        on_poll: Callable[[PollResult], None] | None = None,
    ) -> None:
        self.manager = manager
        found = client if client is not None else getattr(manager, "_client", None)
        if found is None:
            raise ValueError("Watcher needs a TikTok client (pass client=, or start the manager)")
        self.client: Any = found
        self._store = store
        self.clock = clock
        self._sleep: Sleep = sleep or asyncio.sleep
        self.interval = check_interval(
            interval if interval is not None else manager.settings.poll_interval
        )
        self.jitter = min(max(0.0, jitter), 0.5)
        self.budget = max(1, int(budget))
        self.pause = max(0.0, float(pause))
        self.audio = audio
        self.rng = rng or random.Random()
        self.on_poll = on_poll
        self._wake: asyncio.Event | None = None

    @property
    def store(self) -> Store:
        return self._store if self._store is not None else self.manager.store

    # -- schedule ----------------------------------------------------------------------------

    def next_delay(self) -> float:
        """A jittered interval in seconds, never above ``interval``."""
        return self.interval * (1.0 - self.jitter * self.rng.random())

    def due(self) -> list[WatchEntry]:
        """Creators whose poll time has come, never-polled first, then the most overdue."""
        now = self.clock.now()
        entries = self.store.watch_due(now)
        return sorted(entries, key=lambda w: (w.next_poll_at is not None,
                                              w.next_poll_at or now, w.username))

    def next_poll_at(self) -> datetime | None:
        """When the next creator is due (None when nobody is watched)."""
        times = [w.next_poll_at or self.clock.now() for w in self.store.watch_list()
                 if not w.paused]
        return min(times) if times else None

    def wake(self) -> None:
        """Make a running :meth:`run` look at the watch list now (e.g. a creator was added)."""
        if self._wake is not None:
            self._wake.set()

    # -- polling -----------------------------------------------------------------------------

    def _variant(self, story: Story) -> str:
        if self.audio:
            return "audio"
        return "photo" if story.kind == Kind.PHOTO else "video"

    def _known(self, story: Story) -> bool:
        variant = self._variant(story)
        entry = Records(self.store).get(story.id, variant)
        if entry is not None and not entry.missing_files():
            return True
        return self.store.active_job_for(story.id, variant) is not None

    async def poll(self, entry: WatchEntry | str) -> PollResult:
        """Look one creator up now, enqueue its new stories, store the next poll time."""
        from tikget_tui.tiktok.errors import BotWall, Throttled, TikTokError

        if isinstance(entry, str):
            found_entry = self.store.watch_get(entry)
            if found_entry is None:
                raise KeyError(entry)
            entry = found_entry
        now = self.clock.now()
        try:
            listing = await self.client.lookup_stories(entry.username)
        except TikTokError as exc:
            delay = self.next_delay()
            if exc.retryable:
                soon = RETRY_SOON * (1.0 - self.jitter * self.rng.random())
                if isinstance(exc, Throttled) and exc.retry_after:
                    soon = max(soon, float(exc.retry_after))
                delay = min(delay, soon)
            failures = entry.failures + 1
            # private, unknown, banned: polling forever would not bring it back; a bot-wall
            # refusal is about this client or network, not the account: never paused for it
            paused = (not exc.retryable and not isinstance(exc, BotWall)
                      and failures >= PAUSE_AFTER)
            if paused:
                log.warning("@%s: paused after %d failed polls (%s)", entry.username, failures,
                            exc.reason)
            else:
                log.info("@%s: poll failed (%d in a row): %s", entry.username, failures,
                         exc.reason)
            result = PollResult(entry.username, now, now + timedelta(seconds=delay),
                                error=exc.reason, retryable=exc.retryable, failures=failures,
                                paused=paused)
            return self._record(result)
        new: list[int] = []
        known = 0
        gated = 0
        for story in listing.stories:
            if story.is_expired(self.clock.now()):
                continue
            if story.age_gated:
                gated += 1
                continue
            if self._known(story):
                known += 1
                continue
            job = await self.manager.enqueue(story, audio=self.audio, note=entry.note)
            new.append(job.id)
        log.info("@%s: %d active stories, %d new queued, %d known", entry.username,
                 len(listing.stories), len(new), known)
        result = PollResult(entry.username, now,
                            now + timedelta(seconds=self.next_delay()),
                            found=len(listing.stories), new_jobs=tuple(new), known=known,
                            stories=tuple(listing.stories), creator=listing.creator,
                            not_public=gated, incomplete=listing.incomplete)
        return self._record(result)

    def _record(self, result: PollResult) -> PollResult:
        with contextlib.suppress(KeyError):  # removed from the list while being polled
            self.store.watch_update(result.username, last_poll_at=result.polled_at,
                                    next_poll_at=result.next_poll_at,
                                    last_result=result.summary, failures=result.failures,
                                    paused=result.paused, last_found=result.found,
                                    last_new=len(result.new_jobs), last_error=result.error)
        if self.on_poll is not None:
            try:
                self.on_poll(result)
            except Exception:  # a broken listener must not stop the watch
                log.exception("watch listener failed")
        return result

    def round_entries(self, *, everyone: bool = False) -> list[WatchEntry]:
        """Who a round would poll, in order (before the budget cuts it): the due creators,
        or with ``everyone`` all that are not paused, the longest unpolled first, so that
        rounds cut short by the budget take turns instead of polling the same ones."""
        if not everyone:
            return self.due()
        entries = [w for w in self.store.watch_list() if not w.paused]
        return sorted(entries, key=lambda w: (w.last_poll_at is not None,
                                              w.last_poll_at or self.clock.now(), w.username))

    async def poll_once(self, *, everyone: bool = False) -> list[PollResult]:
        """One round: the due creators (or, with ``everyone``, all of them) up to ``budget``;
        :meth:`round_entries` says who and in which order."""
        entries = self.round_entries(everyone=everyone)
        results: list[PollResult] = []
        for i, entry in enumerate(entries[: self.budget]):
            if i and self.pause:
                await self._sleep(self.pause)
            results.append(await self.poll(entry))
        return results

    async def run(self, stop: asyncio.Event) -> None:
        """Poll whenever a creator is due, until ``stop`` is set. Never overlaps two rounds."""
        self._wake = asyncio.Event()
        try:
            while not stop.is_set():
                # a wake() that comes while this round runs is kept: the wait after it ends at once
                self._wake.clear()
                await self.poll_once()
                if stop.is_set():
                    return
                upcoming = self.next_poll_at()
                delay = MAX_WAIT
                if upcoming is not None:
                    delay = (upcoming - self.clock.now()).total_seconds()
                delay = min(MAX_WAIT, max(1.0, delay))
                await self._wait(delay, stop)
        finally:
            self._wake = None

    async def _wait(self, delay: float, stop: asyncio.Event) -> None:
        assert self._wake is not None
        waiters = [asyncio.ensure_future(self._sleep(delay)),
                   asyncio.ensure_future(stop.wait()),
                   asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
