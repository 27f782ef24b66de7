"""What the parts of the download engine share: :class:`Engine` (made and owned by the
:class:`~tikget_tui.downloads.manager.DownloadManager`), the folders jobs save into, and
:class:`DownloadError`, the one-line reason a job cannot go on."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tikget_tui.archive import Archive
from tikget_tui.clock import Clock
from tikget_tui.config import Settings
from tikget_tui.downloads.queue import JobQueue
from tikget_tui.downloads.transfer import Opener, RetryPolicy
from tikget_tui.files import safefile
from tikget_tui.mediatools import MediaTools
from tikget_tui.store import Job, JobState, Store


class DownloadError(Exception):
    """A job cannot go on; ``reason`` is the one line shown to the user."""

    def __init__(self, reason: str, state: JobState = JobState.FAILED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state


@dataclass
class Renditions:
    """Video renditions of one job found to be video-only (kept for the manager's lifetime)."""

    tried: set[str] = field(default_factory=set)  # identities whose file had no audio stream
    note: str = ""  # "the 360p HEVC rendition has no sound; using the 270p H.264 one"
    # (also any other line the done job keeps as its reason: a name taken meanwhile...)
    all_video_only: bool = False  # no listed rendition had sound: the last one was kept


@dataclass
class Engine:
    """The settings, the queue, the archive, the client and what jobs remember between
    their steps. ``settings`` changes when the user picks another download folder."""

    settings: Settings
    clock: Clock
    queue: JobQueue
    retry_policy: RetryPolicy
    opener: Opener
    write_metadata: bool = True
    progress_rate: float = 10.0
    client: Any = None
    tools: MediaTools | None = None
    archive_: Archive | None = None
    streamed: dict[Path, str] = field(default_factory=dict)
    """sha256 of saved files that are the transferred bytes as they were written
    (computed during the transfer): verification takes it instead of reading them."""
    stamps: dict[str, safefile.Stamp] = field(default_factory=dict)  # .part -> what we wrote
    renditions: dict[int, Renditions] = field(default_factory=dict)
    adopted: set[int] = field(default_factory=set)  # jobs that took over another's saved file
    replacing: dict[int, dict[Path, safefile.Stamp]] = field(default_factory=dict)
    """job id -> {final path: (device, inode)} of failing files it may replace."""

    @property
    def store(self) -> Store:
        return self.queue.store

    @property
    def archive(self) -> Archive:
        if self.archive_ is None:
            raise RuntimeError("DownloadManager.start() has not run")
        return self.archive_

    def tools_or_find(self) -> MediaTools:
        if self.tools is None:
            self.tools = MediaTools.for_settings(self.settings)
        return self.tools

    def seen(self, job_id: int) -> Renditions:
        return self.renditions.setdefault(job_id, Renditions())

    # -- folders -----------------------------------------------------------------------------

    def folder(self, directory: Path | None) -> Path:
        """``directory``, or the download folder, as an absolute path."""
        return Path(os.path.abspath(directory or self.settings.download_dir))

    def download_dir(self, folder: Path | Job | None = None) -> Path:
        """The folder to save into (a job's own, or the download folder), created when
        missing: the default one always (as yt-dlp and gallery-dl do; a new machine or an
        SSH server has no ~/Downloads), a folder the user named only when its parent exists
        (a typo must not grow a tree of folders)."""
        if isinstance(folder, Job):
            folder = self.queue.dir_of(folder)
        d = folder if folder is not None else self.settings.download_dir
        if d.is_dir():
            return d
        how = ("choose another (--dir DIR, download_dir in the config file, "
               "or o in the app)")
        if d.exists():
            raise DownloadError(f"the download folder {d} is not a folder; {how}")
        if self.settings.download_dir_chosen and not d.parent.is_dir():
            raise DownloadError(
                f"the download folder {d} does not exist, nor its parent {d.parent}; "
                f"create it, or {how}"
            )
        try:
            d.mkdir(parents=not self.settings.download_dir_chosen, exist_ok=True)
        except OSError as exc:
            raise DownloadError(
                f"cannot create the download folder {d}: {exc.strerror}; {how}") from None
        return d

    def remove_parts(self, job: Job) -> None:
        """Remove this job's partial files: STEM.mp4.part, STEM.mp3.src.part, STEM-NN.part."""
        paths = [job.part_path] if job.part_path else []
        if job.stem:
            own = re.compile(re.escape(job.stem) + r"(?:\.mp4|\.mp3\.src|-[0-9]{2})\.part")
            with contextlib.suppress(OSError):
                for entry in os.scandir(self.queue.dir_of(job)):
                    if own.fullmatch(entry.name):
                        paths.append(Path(entry.path))
        for p in paths:
            with contextlib.suppress(OSError):
                p.unlink()
        if job.part_source is not None and self.queue.loaded:
            self.queue.record(job.id, part_source=None)

    def stamps_of(self, paths: tuple[Path, ...]) -> dict[Path, safefile.Stamp]:
        """(device, inode) of each of ``paths`` that is a regular file now."""
        out = {}
        for path in paths:
            st = safefile.lstat_or_none(path)
            if st is not None and stat.S_ISREG(st.st_mode):
                out[path] = safefile.stamp_of(st)
        return out
