"""The core of ``tikget save``: targets → look-ups → enqueue → wait → one result per item.

No textual, no printing: the command (``tikget_tui/commands/save.py``) reads the
targets, shows progress and prints :class:`ItemResult` rows. Downloads go
through the same :class:`~tikget_tui.downloads.DownloadManager` the TUI uses, so
names, sidecars, verification and the archive are exactly the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tikget_tui.archive.records import Records
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.downloads.events import Enqueued
from tikget_tui.links import (
    ParseError,
    PostTarget,
    ShortLink,
    Target,
    UserTarget,
    parse_detailed,
)
from tikget_tui.models import AGE_GATED, Kind, Story
from tikget_tui.service import Service
from tikget_tui.store import Job, JobState

# What a look-up failure is called in the results (the reason says the rest).
LOOKUP_STATES: tuple[tuple[str, str], ...] = (
    ("PrivateAccount", "private"),
    ("PrivatePost", "private"),
    ("UserNotFound", "unknown"),
    ("PostUnavailable", "gone"),
    ("LoginRequired", "not-public"),
    ("RegionLocked", "region-locked"),
)
# States of an item that is not a failure: saved, or a creator with nothing to save.
STATE_NONE = "none"
# A creator whose story list stopped early (the reason says how many and why): the
# stories listed are saved, but more may exist, so it counts as not everything saved.
STATE_INCOMPLETE = "incomplete"
VERIFIED = ("ok", "warn")


@dataclass(frozen=True)
class SourceText:
    """One piece of text naming targets, and where it came from (for error messages)."""

    text: str
    origin: str = ""  # "", "stdin:3", "FILE:12"


@dataclass(frozen=True)
class NamedTarget:
    target: Target
    text: str  # how the user named it (the display form)


@dataclass(frozen=True)
class ItemResult:
    """One line of the summary (and one JSON line with ``--json``)."""

    target: str
    state: str  # a JobState value, or private / unknown / gone / not-public / ... / none / error
    reason: str = ""
    story_id: str | None = None
    creator: str | None = None
    path: Path | None = None
    files: tuple[Path, ...] = ()
    verdict: str | None = None
    job_id: int | None = None
    caption: str = ""  # the story's caption (the summary leads with it)
    how: str = ""  # what enqueueing did (downloads.events.Enqueued), '' for look-up failures

    @property
    def outcome(self) -> str:
        """What happened, as the summary counts it: ``saved`` (downloaded and verified),
        ``copied`` (from another folder), ``already saved``, ``failed`` (a download or its
        verification), ``not saved`` (private, gone, expired, cancelled...), or ``none``
        (a creator with no active story)."""
        if self.state == STATE_NONE:
            return "none"
        if self.state == JobState.DONE and self.verdict in VERIFIED:
            return {"copied": "copied", "already saved": "already saved"}.get(self.how, "saved")
        if self.state == JobState.FAILED:
            return "failed"
        return "not saved"

    @property
    def ok(self) -> bool:
        """Saved and verified (ok or warn), or nothing to save (a creator without stories)."""
        if self.state == STATE_NONE:
            return True
        return self.state == JobState.DONE and self.verdict in VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "story_id": self.story_id,
            "creator": self.creator,
            "state": self.state,
            "path": str(self.path) if self.path is not None else None,
            "files": [str(p) for p in self.files],
            "verdict": self.verdict,
            "reason": self.reason,
            "caption": self.caption,
            "outcome": self.outcome,
        }


def read_sources(
    args: Sequence[str], *, from_file: Path | None = None, stdin: Any = None
) -> list[SourceText]:
    """Argument texts, ``-`` replaced by the lines of ``stdin``, plus the lines of ``from_file``.

    Blank lines and lines starting with ``#`` are skipped. Raises ``OSError``
    (the caller turns it into a usage error) when the file cannot be read.
    """
    out: list[SourceText] = []

    def lines(text: str, name: str) -> None:
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(SourceText(line, f"{name}:{n}"))

    for arg in args:
        if arg == "-":
            if stdin is None:
                import sys

                stdin = sys.stdin
            lines(stdin.read(), "stdin")
        else:
            out.append(SourceText(arg))
    if from_file is not None:
        lines(from_file.read_text(encoding="utf-8-sig"), str(from_file))
    return out


def parse_sources(sources: Iterable[SourceText], service: Service | None = None,
                  warn: Callable[[str], None] | None = None) -> list[NamedTarget]:
    """Every target, in order, without duplicates; ``ParseError`` names the bad line.

    ``warn`` gets one line per source whose prose words were skipped.
    """
    seen: set[tuple[str, ...]] = set()
    out: list[NamedTarget] = []
    for src in sources:
        try:
            parsed = parse_detailed(src.text, service)
        except ParseError as exc:
            raise ParseError(f"{src.origin}: {exc}" if src.origin else str(exc)) from None
        if parsed.rejected:  # a batch names every bad entry before anything is fetched
            bad = parsed.rejected[0]
            raise ParseError(f"{src.origin}: {bad}" if src.origin else bad)
        if parsed.ignored and warn is not None:
            note = parsed.ignored_note()
            warn(f"{src.origin}: {note}" if src.origin else note)
        for target in parsed.targets:
            key = _key(target)
            if key in seen:
                continue
            seen.add(key)
            out.append(NamedTarget(target, target.display))
    return out


def _key(target: Target) -> tuple[str, ...]:
    if isinstance(target, UserTarget):
        return ("user", target.username or "", target.user_id or "")
    if isinstance(target, PostTarget):
        return ("post", target.post_id)
    return ("short", target.host_kind, target.code)


def lookup_state(exc: BaseException) -> str:
    """The result state for a client error (by class, including subclasses)."""
    for klass in type(exc).__mro__:
        for name, state in LOOKUP_STATES:
            if klass.__name__ == name:
                return state
    return "error"


def result_for_job(target: str, job: Job) -> ItemResult:
    # a job reserves its final name before the file exists: report only files that do
    path = job.final_path if job.final_path is not None and job.final_path.exists() else None
    if path is None and job.files:
        path = job.files[0]
    return ItemResult(
        target=target,
        state=str(job.state),
        reason=job.reason,
        story_id=job.story_id,
        creator=job.creator.unique_id or job.creator.user_id,
        path=path,
        files=job.files,
        verdict=job.verdict,
        job_id=job.id,
        caption=job.story.caption,
    )


def expired_result(target: str, story: Story, clock: Clock) -> ItemResult | None:
    if story.expires_at is None or not story.is_expired(clock.now()):
        return None
    when = story.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return ItemResult(target=target, state=str(JobState.EXPIRED), story_id=story.id,
                      creator=story.creator.unique_id, caption=story.caption,
                      reason=f"the story expired at {when}; nothing left to save")


@dataclass
class BatchOptions:
    audio: bool = False
    note: str = ""
    again: bool = False


@dataclass
class Batch:
    """Look up targets and enqueue what they name on a started ``DownloadManager``.

    ``client`` is the manager's :class:`~tikget_tui.tiktok.TikTokClient` (or any
    object with ``lookup_stories``/``resolve``). ``on_lookup`` is called with each
    target's display text before it is looked up (for a progress line).
    """

    manager: Any
    client: Any
    options: BatchOptions = field(default_factory=BatchOptions)
    clock: Clock = SYSTEM_CLOCK
    on_lookup: Callable[[str], None] | None = None
    # (target text, job id) for every enqueued story; failures of look-ups, in order.
    _items: list[tuple[str, int | ItemResult]] = field(default_factory=list)
    _already: dict[int, Path] = field(default_factory=dict)  # job id → file saved before
    _why: dict[int, str] = field(default_factory=dict)  # job id → why it was queued
    _how: dict[int, str] = field(default_factory=dict)  # job id → what enqueue did

    async def add(self, named: NamedTarget) -> None:
        """Look one target up and enqueue what it names (or record why not)."""
        from tikget_tui.tiktok.errors import TikTokError

        if self.on_lookup is not None:
            self.on_lookup(named.text)
        target = named.target
        try:
            if isinstance(target, UserTarget):
                listing = await self.client.lookup_stories(target)
                stories = list(listing.stories)
                if listing.incomplete:
                    self._items.append((named.text, ItemResult(
                        target=named.text, state=STATE_INCOMPLETE,
                        creator=listing.creator.unique_id or target.display.lstrip("@"),
                        reason=listing.incomplete)))
                if not stories:
                    self._items.append((named.text, ItemResult(
                        target=named.text, state=STATE_NONE,
                        creator=listing.creator.unique_id or target.display.lstrip("@"),
                        reason=listing.reason or "no active story right now")))
                    return
            else:
                assert isinstance(target, PostTarget | ShortLink)
                stories = [await self.client.resolve(target)]
        except TikTokError as exc:
            self._items.append((named.text, ItemResult(
                target=named.text, state=lookup_state(exc), reason=exc.reason,
                creator=(target.username or target.user_id) if isinstance(target, UserTarget)
                else None)))
            return
        for story in stories:
            gone = expired_result(named.text, story, self.clock)
            if gone is not None:
                self._items.append((named.text, gone))
                continue
            if story.age_gated:
                self._items.append((named.text, ItemResult(
                    target=named.text, state="not-public", reason=AGE_GATED,
                    story_id=story.id, creator=story.creator.unique_id or None,
                    caption=story.caption)))
                continue
            saved = None if self.options.again else self._archived(story)
            job = await self.manager.enqueue(story, audio=self.options.audio,
                                             note=self.options.note, again=self.options.again)
            how = self.manager.enqueued_as(job.id)
            if job.id not in self._how or how != Enqueued.ACTIVE:  # (named twice: the first)
                self._how[job.id] = str(how) if how is not None else ""
            if saved is not None and job.state == JobState.DONE:
                self._already[job.id] = saved
            elif job.state == JobState.QUEUED and job.reason:
                self._why[job.id] = job.reason  # e.g. why it is downloaded, not copied
            self._items.append((named.text, job.id))

    def _archived(self, story: Story) -> Path | None:
        """The saved file when this story (this variant) is saved in the download folder
        and still on disk."""
        if self.options.audio:
            variant = "audio"
        else:
            variant = "photo" if story.kind == Kind.PHOTO else "video"
        entry = Records(self.manager.store).get(story.id, variant,
                                               directory=self.manager.settings.download_dir)
        if entry is None or entry.missing_files():
            return None
        path: Path = entry.path
        return path

    async def run(self, targets: Iterable[NamedTarget]) -> list[ItemResult]:
        """Add every target (downloads start while later look-ups run), wait, and report."""
        for named in targets:
            await self.add(named)
        await self.manager.wait_idle()
        return self.results()

    def results(self) -> list[ItemResult]:
        out: list[ItemResult] = []
        seen_jobs: set[int] = set()
        for text, item in self._items:
            if isinstance(item, ItemResult):
                out.append(item)
                continue
            if item in seen_jobs:  # the same story named twice (a user and a link)
                continue
            seen_jobs.add(item)
            job = self.manager.job(item)
            if job is None:
                continue
            result = replace(result_for_job(text, job), how=self._how.get(item, ""))
            if item in self._already and not job.reason:
                result = replace(result, reason=f"already saved: {self._already[item].name}")
            elif item in self._why and not job.reason:
                result = replace(result, reason=self._why[item])
            out.append(result)
        return out


def exit_status(results: Sequence[ItemResult]) -> int:
    """0 when everything was saved and verified, 1 otherwise."""
    return 0 if all(r.ok for r in results) else 1
