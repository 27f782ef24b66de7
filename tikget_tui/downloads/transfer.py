"""Stream one media file to ``NAME.part``: resume, retries, fallbacks, byte checks.

Memory stays flat: the body is written chunk by chunk as it arrives. The
``.part`` file is the only state: its size is where a resume starts (after a
drop in this run or after a restart), validated against ``Content-Range``;
a server that ignores ``Range`` (200 instead of 206) restarts from zero.
403/404 (and a body that is not media at all) move on to the next source;
network errors and 429 are retried with backoff and jitter up to
``RetryPolicy.attempts`` times. :func:`finalize` fsyncs and renames the
``.part`` to its final name, then fsyncs the directory: a file under a final
name is always complete.

Every source has a stable identity (:func:`video_identity`, :func:`image_identity`,
:data:`SOUND_IDENTITY`) that survives URL re-signing and restarts; the mirrors in
one rendition's ``UrlList`` share it (same bytes). The identity of the source the
``.part`` holds is kept with the job: a ``.part`` is only continued from a source
with the same identity, otherwise it is thrown away and the file starts again
from zero, so two renditions are never spliced into one file (even when their
sizes are equal).

Writes go through an opener (``Opener``), the seam tests use to inject disk
errors such as ENOSPC. The folder may be shared (see :mod:`safefile`): a ``.part``
is created new or reopened only when it is a regular file of ours, and within a run
only when it is the same file (device, inode) the job wrote before; a body is never
longer than :class:`MediaLimits` allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from tikget_tui.downloads.sniff import WANTED, describe_bytes, sniff
from tikget_tui.downloads.streamhash import StreamHash
from tikget_tui.files.safefile import (
    ForeignFile,
    Stamp,
    create_new,
    describe,
    fsync_dir,
    is_own,
    lstat_or_none,
    open_own,
    place,
    stamp_of,
    write_new,
)
from tikget_tui.models import MediaSource
from tikget_tui.tiktok.errors import (
    MediaError,
    MediaExpired,
    MediaForbidden,
    MediaNotFound,
    NetworkError,
    RangeNotSatisfiable,
    Throttled,
    TikTokError,
)

log = logging.getLogger(__name__)

CHUNK_SIZE = 128 * 1024
HASH_NOTIFY = 1 << 20  # and is woken after this many bytes written
MIN_VIDEO_BYTES = 8 * 1024  # the aweme/v1/play placeholder is ~1 KiB; no real video is this small


SOUND_IDENTITY = "sound"


def video_identity(source: MediaSource) -> str:
    """A video source's rendition, the same for every mirror URL and every re-signed link.

    Built from what the listing says about the rendition (label, codec, size in pixels,
    DataSize, bitrate, watermark), never from the URL, so a restart or a fresh look-up
    maps a ``.part`` to the same identity while another rendition (even one of the same
    byte size) gets a different one.
    """
    size = "-" if source.data_size is None else str(source.data_size)
    mark = ":wm" if source.watermarked else ""
    return (f"video:{source.label}:{source.codec}:{source.width}x{source.height}:"
            f"{size}:{source.bitrate}{mark}")


def image_identity(image_index: int, position: int) -> str:
    """Photo ``image_index`` (1-based) served by its ``position``-th alternative URL."""
    return f"image:{image_index}:{position}"


class Opener(Protocol):
    def __call__(self, path: Path, start: int) -> BinaryIO: ...


def open_part(path: Path, start: int) -> BinaryIO:
    """Open ``path`` for writing at ``start`` (created when missing, cut to ``start``).

    Created new (never through a link), or reopened only when it is a regular file of
    ours (:func:`safefile.open_own`); anything else raises :class:`ForeignFile`.
    """
    try:
        fd = create_new(path)
    except FileExistsError:
        fd = open_own(path, os.O_RDWR)
    f = os.fdopen(fd, "r+b")
    try:
        f.truncate(start)
        f.seek(start)
    except BaseException:
        f.close()
        raise
    return f


@dataclass(frozen=True)
class MediaLimits:
    """How many bytes a media body may have (settings ``max_media_bytes``,
    ``media_size_margin``; README "Limits")."""

    max_bytes: int = 1024 * 1024 * 1024  # when the listing gives no DataSize
    margin: float = 0.5  # over the listed DataSize
    slack: int = 64 * 1024  # on top of the margin (a tiny listed size is no cap at all)

    @classmethod
    def from_settings(cls, settings: Any) -> MediaLimits:
        return cls(max_bytes=int(settings.max_media_bytes),
                   margin=float(settings.media_size_margin))

    def cap(self, listed: int | None) -> int:
        if listed:
            return int(listed * (1 + self.margin)) + self.slack
        return self.max_bytes


@dataclass
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter (``sleep`` injectable for tests)."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 30.0
    jitter: float = 0.5  # up to this fraction added at random
    max_retry_after: float = 120.0  # a longer Retry-After fails the job with the reason
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before retry ``attempt`` (logged: the transfer sleeps it next)."""
        if retry_after is not None:
            log.info("media: retry %d of %d in %.1f s (Retry-After)", attempt, self.attempts,
                     max(0.0, retry_after))
            return max(0.0, retry_after)
        d = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        d *= 1.0 + random.random() * self.jitter
        log.info("media: retry %d of %d in %.1f s", attempt, self.attempts, d)
        return d


class TransferError(Exception):
    """The transfer gave up; ``reason`` is one line for the user; ``kind`` says which way."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind  # "expired" | "forbidden" | "gone" | "disk" | "bad_media" | "network"
        self.reason = reason


class _Restart(Exception):
    """Throw the .part away and fetch the same source again from zero."""


class _BadBody(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- where the bytes go -------------------------------------------------------------------------


def _flush_and_sync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


# -- the transfer -------------------------------------------------------------------------------


@dataclass
class TransferResult:
    size: int
    media_type: str  # from :func:`sniff`
    source_index: int
    url: str
    identity: str | None = None  # identities[source_index]: the rendition the file came from
    sha256: str | None = None  # of the whole file, computed as the bytes were written


@dataclass
class Transfer:
    """Fetch one file from ranked ``urls`` into ``part``.

    ``want`` is "video", "image" or "audio" (which byte signatures are
    acceptable). ``expected_size`` is the source's DataSize when known.
    ``on_progress(done, total)`` is called for every chunk (the caller
    rate-limits). ``on_restart(reason)`` is called when a ``.part`` holding
    bytes had to be thrown away (the server ignored Range, or the source that
    answered is another rendition than the one the ``.part`` came from).

    ``identities[i]`` is the identity of ``urls[i]`` (see :func:`video_identity`);
    ``part_source`` the identity recorded for the existing ``.part``.
    ``on_source(identity)`` is called before the first byte from a source is
    written into a ``.part`` that did not hold that source's bytes (persist it),
    and with ``None`` once the ``.part`` was emptied. A ``.part`` resumes only
    from a source with the recorded identity; with no recorded identity (older
    records, or no ``identities``) only from ``urls[start_index]``.

    With ``digest`` the sha256 of the file is computed while the bytes are written
    (``TransferResult.sha256``): a resumed ``.part`` is read once for the bytes it already
    holds, and a retry within this transfer continues the same running hash.
    """

    client: Any  # TikTokClient (duck-typed: open_media)
    urls: Sequence[str]
    part: Path
    want: str
    expected_sizes: Sequence[int | None] = ()
    referer: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    opener: Opener = open_part
    on_progress: Callable[[int, int | None], None] = lambda done, total: None
    start_index: int = 0
    known_total: int | None = None  # total size recorded for the .part we resume (if any)
    chunk_size: Any = None  # None: as received (at most the socket read size, 64 KiB)
    identities: Sequence[str | None] = ()
    part_source: str | None = None  # identity of the source the existing .part came from
    on_source: Callable[[str | None], None] = lambda identity: None
    on_restart: Callable[[str], None] = lambda reason: None
    digest: bool = True
    _sha: Any = field(default=None, init=False, repr=False)  # sha256 of the .part's first
    _sha_len: int = field(default=-1, init=False, repr=False)  # _sha_len bytes
    limits: MediaLimits = field(default_factory=MediaLimits)
    # (device, inode) of the .part each path names, as this job wrote it (shared by the
    # manager across attempts): a file swapped in under that name is never written to
    stamps: dict[str, Stamp] = field(default_factory=dict)

    async def run(self) -> TransferResult:
        index = self.start_index
        failures = 0
        last_reason = ""
        forbidden = 0
        while True:
            if index >= len(self.urls):
                if forbidden and forbidden == len(self.urls):
                    raise TransferError("forbidden", last_reason or MediaForbidden.default_reason)
                raise TransferError("gone", last_reason or "no usable media source is left")
            url = self.urls[index]
            if "/aweme/v1/play" in url and self.want == "video":
                index += 1
                last_reason = "only the tiny aweme/v1/play placeholder was offered"
                continue
            try:
                return await self._once(index, url)
            except MediaExpired as exc:
                raise TransferError("expired", exc.reason) from None
            except (MediaForbidden, MediaNotFound) as exc:
                # nothing was written: the .part stays for a source with the same identity
                forbidden += isinstance(exc, MediaForbidden)
                last_reason = exc.reason
                index += 1
            except _BadBody as exc:
                last_reason = exc.reason
                self._discard()
                index += 1
            except _Restart as exc:
                failures += 1
                last_reason = str(exc)
                self._discard()
                if failures > self.retry.attempts:
                    raise TransferError("network", last_reason) from None
            except RangeNotSatisfiable as exc:
                done = self._complete_part(index)
                if done is not None:
                    return done
                failures += 1
                last_reason = exc.reason
                self._discard()
                if failures > self.retry.attempts:
                    raise TransferError("network", exc.reason) from None
            except Throttled as exc:
                failures += 1
                last_reason = exc.reason
                if exc.retry_after is not None and exc.retry_after > self.retry.max_retry_after:
                    raise TransferError(
                        "network", f"{exc.reason} (asked to wait {exc.retry_after:.0f} s)"
                    ) from None
                if failures > self.retry.attempts:
                    raise TransferError("network", exc.reason) from None
                await self.retry.sleep(self.retry.delay(failures, exc.retry_after))
            except (NetworkError, MediaError, TikTokError) as exc:
                if not exc.retryable and not isinstance(exc, NetworkError):
                    last_reason = exc.reason
                    index += 1
                    continue
                failures += 1
                last_reason = exc.reason
                if failures > self.retry.attempts:
                    raise TransferError(
                        "network", f"{exc.reason} (gave up after {failures} tries)"
                    ) from None
                await self.retry.sleep(self.retry.delay(failures))
            except ForeignFile as exc:
                raise TransferError("disk", exc.reason) from None
            except OSError as exc:
                raise TransferError("disk", disk_reason(exc, self.part)) from None

    def _complete_part(self, index: int) -> TransferResult | None:
        """After a 416 ("nothing past here"): is the .part the whole file?

        Yes when its size is the total the server announced before, or the
        source's DataSize; the byte signature must fit too.
        """
        st = lstat_or_none(self.part)
        if st is None or not is_own(st):
            return None
        have = st.st_size
        expected = self.expected_sizes[index] if index < len(self.expected_sizes) else None
        if have == 0 or have not in (self.known_total, expected):
            return None
        fd = open_own(self.part, os.O_RDONLY, self.stamps.get(str(self.part)))
        try:
            head = os.pread(fd, 16, 0)
        finally:
            os.close(fd)
        kind = sniff(head)
        if kind is None or kind not in WANTED[self.want]:
            return None
        sha = self._sha.hexdigest() if self._sha is not None and self._sha_len == have else None
        return TransferResult(size=have, media_type=kind, source_index=index,
                              url=self.urls[index], identity=self._identity(index), sha256=sha)

    def _discard(self) -> None:
        # unlink, never truncate by name: a link planted here would cut its target
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.part)
        self.stamps.pop(str(self.part), None)
        self.known_total = None
        self._sha = None
        self._set_source(None)

    def _hasher(self, f: BinaryIO, have: int) -> StreamHash | None:
        """The running sha256 for a .part opened at ``have``: the one this transfer kept
        when it covers exactly those bytes, else a new one that reads them first (once)."""
        carried, self._sha = self._sha, None  # until the bytes below are written and hashed
        if not self.digest:
            return None
        try:
            fd = f.fileno()
        except (OSError, ValueError):  # an opener without a file descriptor: no hash
            return None
        if carried is not None and self._sha_len == have:
            return StreamHash(carried, fd, have, have)
        return StreamHash(hashlib.sha256(), fd, 0, have)

    def _identity(self, index: int) -> str | None:
        return self.identities[index] if index < len(self.identities) else None

    def _set_source(self, identity: str | None) -> None:
        if identity != self.part_source:
            self.part_source = identity
            self.on_source(identity)

    def _resumable(self, index: int) -> tuple[bool, str]:
        """May the existing .part be continued from ``urls[index]``? (and why not)"""
        if self.part_source is None:  # nothing recorded: only the source we started with
            if index == self.start_index:
                return True, ""
            return False, "another source took over"
        identity = self._identity(index)
        if identity is not None and identity == self.part_source:
            return True, ""
        # the identities carry listing text (GearName): logged, never put in the user's reason
        log.debug("%s holds bytes of %r; %r answers: not resuming", self.part.name,
                  self.part_source, identity)
        return False, "the partial file came from another rendition than the one that answered"

    def _part_size(self) -> int:
        """Bytes in our .part (0 when there is none); ForeignFile if the name holds
        anything else than the regular file this job wrote."""
        st = lstat_or_none(self.part)
        if st is None:
            self.stamps.pop(str(self.part), None)  # gone: a new one is made
            return 0
        known = self.stamps.get(str(self.part))
        if not is_own(st):
            raise ForeignFile(self.part, describe(st))
        if known is not None and stamp_of(st) != known:
            raise ForeignFile(self.part, "another file than the one this download wrote")
        return st.st_size

    def _opened(self, have: int) -> BinaryIO:
        """The .part opened at ``have``, checked to be the file this job wrote."""
        f = self.opener(self.part, have)
        try:
            made = stamp_of(os.fstat(f.fileno()))
            known = self.stamps.setdefault(str(self.part), made)
            if known != made:
                raise ForeignFile(self.part, "another file than the one this download wrote")
        except BaseException:
            f.close()
            raise
        return f

    def _byte_cap(self, index: int, announced: int | None) -> int:
        """The most bytes this body may have; _BadBody when the server announces more."""
        listed = self.expected_sizes[index] if index < len(self.expected_sizes) else None
        cap = self.limits.cap(listed)
        if announced is not None and announced > cap:
            why = (f"the listing said {listed}" if listed
                   else f"the limit is {cap} (max_media_bytes)")
            raise _BadBody(f"the server announced a {announced}-byte file but {why}; "
                           "trying the next source")
        return cap

    def _over(self, total: int | None, cap: int, announced: int | None) -> _BadBody:
        if total is not None and total <= cap:
            said = "announced" if announced is not None else "the listing said"
            return _BadBody(f"the server sent more bytes than {said} ({total}); "
                            "trying the next source")
        return _BadBody(f"the server sent more than {cap} bytes, more than the listing allows "
                        "(max_media_bytes, media_size_margin); trying the next source")

    async def _once(self, index: int, url: str) -> TransferResult:
        have = self._part_size()
        resume, why = self._resumable(index) if have else (False, "")
        # a different source may be different bytes (even at the same size): never splice two
        # files; ask from zero and throw the .part away only once this source answers
        async with self.client.open_media(url, start=have if resume else 0,
                                          referer=self.referer) as resp:
            start = int(getattr(resp, "range_start", getattr(resp, "content_range_start", 0)) or 0)
            total: int | None = resp.total_size
            if have and not resume:
                self.on_restart(f"{why}; starting again from zero")
                have = 0
                self.known_total = None
            elif have and (resp.status != 206 or start != have):
                # the server ignored Range (or answered another range): start over
                self.on_restart("the server did not resume where the partial file ends; "
                                "starting again from zero")
                have = 0
                self.known_total = None
            elif have and self.known_total is not None and total != self.known_total:
                raise _Restart("the file changed on the server since the download started")
            expected = self.expected_sizes[index] if index < len(self.expected_sizes) else None
            if total is None and expected:
                total = expected
            self.known_total = total
            cap = self._byte_cap(index, resp.total_size)
            ceiling = cap if total is None else min(total, cap)
            head = b""
            done = have
            f = self._opened(have)
            hasher = self._hasher(f, have)
            told = have  # bytes the hasher was told are written
            try:
                identity = self._identity(index)
                if identity != self.part_source or index != self.start_index:
                    if not have:
                        os.fsync(f.fileno())  # the old bytes are gone before the record says so
                    self.start_index = index
                    self._set_source(identity)
                if have:
                    head = _read_head(f, self.part)
                # chunk_size None: chunks as they arrive, up to the client's socket read size
                # (httpx would otherwise re-buffer to chunk_size, and slow links would report
                # progress rarely); the sha256 follows in its own thread
                async for chunk in resp.aiter_bytes(self.chunk_size):
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                        if len(head) >= 16 or done + len(chunk) >= 16:
                            self._check_head(head, url)
                    if done + len(chunk) > ceiling:
                        raise self._over(total, cap, resp.total_size)
                    f.write(chunk)
                    done += len(chunk)
                    if hasher is not None and done - told >= HASH_NOTIFY:
                        f.flush()
                        hasher.advance(told := done)
                    self.on_progress(done, total)
                await asyncio.to_thread(_flush_and_sync, f)
            finally:
                if hasher is not None:  # what was written is hashed: a retry continues it
                    with contextlib.suppress(OSError, ValueError):
                        f.flush()
                    self._sha, self._sha_len = await hasher.close(done), done
                f.close()
        if total is not None and done < total:
            raise NetworkError(
                f"the server sent {done} of {total} bytes; resuming from where it stopped"
            )
        if expected and done < expected:
            # shorter than the listing's DataSize: ask for the rest; a 416 confirms the end
            raise NetworkError(
                f"the server sent {done} bytes but the listing said {expected}; asking for the rest"
            )
        self._check_head(head, url)
        if self.want == "video" and done < MIN_VIDEO_BYTES:
            raise _BadBody(f"the server sent a {done}-byte file, too small to be the video")
        return TransferResult(size=done, media_type=sniff(head) or "", source_index=index, url=url,
                              identity=self._identity(index),
                              sha256=self._sha.hexdigest() if self._sha is not None else None)

    def _check_head(self, head: bytes, url: str) -> None:
        kind = sniff(head)
        if kind is None or kind not in WANTED[self.want]:
            what = describe_bytes(head) if kind is None else f"a {kind} file"
            raise _BadBody(f"the media link returned {what}, not the {self.want}")


def disk_reason(exc: OSError, path: Path) -> str:
    where = path.parent
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"the disk is full ({where}); free some space, then retry"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write in {where}; fix its permissions or choose another folder"
    if exc.errno == errno.ENOENT:
        return f"the download folder {where} does not exist; create it or choose another"
    return f"cannot write {path.name} in {where}: {exc.strerror or exc}"


def _read_head(f: BinaryIO, path: Path) -> bytes:
    """The first 16 bytes of the open .part (through the descriptor, not the name)."""
    try:
        return os.pread(f.fileno(), 16, 0)
    except (OSError, ValueError, AttributeError):  # a test opener without a readable fd
        fd = open_own(path, os.O_RDONLY)
        try:
            return os.pread(fd, 16, 0)
        finally:
            os.close(fd)


def finalize(part: Path, final: Path) -> None:
    """fsync ``part`` and give it the name ``final`` (:func:`safefile.place`): atomic, and
    ``FileExistsError`` rather than replacing anything already under that name."""
    place(part, final)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` (a file the user named, e.g. an export) via a new temp file + rename."""
    tmp = write_new(path.parent, data, prefix=f".{path.name[:100]}.")
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
