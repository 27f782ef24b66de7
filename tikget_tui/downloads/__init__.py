"""The download engine: persistent queue, resumable transfers, names, context, verification.

Core code: no textual import. The TUI and the batch CLI both drive
:class:`DownloadManager`; see docs/contracts.md ("Downloads and store").
"""

from tikget_tui.downloads.engine import DownloadError
from tikget_tui.downloads.events import Event, JobChanged, Progress
from tikget_tui.downloads.manager import DownloadManager
from tikget_tui.downloads.transfer import RetryPolicy
from tikget_tui.store import Job, JobState, Store

__all__ = [
    "DownloadError",
    "DownloadManager",
    "Event",
    "Job",
    "JobChanged",
    "JobState",
    "Progress",
    "RetryPolicy",
    "Store",
]
