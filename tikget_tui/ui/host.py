"""What the main screen and its panes need from the app: a small typed interface.

The app (:class:`tikget_tui.ui.app.TikGetApp`) implements :class:`AppHost` and hands
itself to the screen it makes; the screen and the widgets never import the app module.
The arrows go one way: ``app -> screens -> widgets``, and each of them may use this
module, the messages (:mod:`tikget_tui.ui.messages`) and the core.

What goes the other way (the core started, a download changed, a watched creator was
polled) arrives as a message posted to the screen (``CoreReady``, ``CoreEvent``,
``WatchPolled``...), never as a call into the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tikget_tui.clock import Clock
    from tikget_tui.config import Settings
    from tikget_tui.downloads import DownloadManager
    from tikget_tui.tiktok import TikTokClient
    from tikget_tui.verify.report import Report
    from tikget_tui.watch import Watcher


class AppHost(Protocol):
    """The app as the main screen and the library pane see it."""

    settings: Settings
    """The settings in force (the folder dialog replaces them with a new download folder)."""

    @property
    def clock(self) -> Clock:
        """The clock every countdown and 'last polled' reads (injected in tests)."""

    @property
    def demo_origin(self) -> str | None:
        """The stand-in service's address with ``--demo``, else None."""

    @property
    def user_keymap(self) -> dict[str, str]:
        """The user's usable key remappings (the help screen lists the keys after them)."""

    @property
    def manager(self) -> DownloadManager | None:
        """The download manager, once the queue has started (None before, and after quit)."""

    @property
    def watcher(self) -> Watcher | None:
        """The watch list's poller, once the queue has started (None if it is off)."""

    def start_watching(self) -> None:
        """Start polling the watched creators (the screen calls it once it shows them)."""

    async def ready_client(self) -> TikTokClient:
        """The TikTok client, once the service it talks to runs."""

    def load_report(self, job: Any) -> Report | None:
        """The stored verification report of a finished job's file, if any."""

    async def action_quit(self) -> None:
        """Quit (asking first while downloads are unfinished)."""
