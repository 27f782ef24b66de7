"""The Textual application: settings, clock and the core services; the UI is in screens/."""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from textual.app import App

from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.tiktok import TikTokClient
from tikget_tui.ui import keymap
from tikget_tui.ui.commands import ActionCommands
from tikget_tui.ui.messages import CoreEvent, CoreFailed, CoreReady
from tikget_tui.ui.resources import stylesheet_paths
from tikget_tui.ui.screens.main import MainScreen, error_line


class TikGetApp(App[int]):
    """Save public TikTok stories before they expire."""

    TITLE = "TikGet"
    SUB_TITLE = "save public stories before they expire"
    CSS_PATH: ClassVar[list[Any]] = stylesheet_paths()
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[Any]] = []

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 demo_origin: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.demo_origin = demo_origin
        self.client = TikTokClient(settings, clock=self.clock)
        self.manager: Any | None = None
        self.fatal_error: str | None = None
        self.user_keymap, self._keymap_problems = keymap.check_keymap(dict(settings.keymap))
        self._unsubscribe: Any | None = None
        self._core_closed = False
        self.recent_notices: deque[str] = deque(maxlen=200)
        """Every notification's text, newest last (toasts vanish; this stays)."""
        if demo_origin:
            self.sub_title = f"demo service at {demo_origin}"
        # theme and keymap before the first frame, so nothing is styled twice
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        else:
            self._keymap_problems.append(
                f"unknown theme {settings.theme!r}; pick one of "
                + ", ".join(sorted(self.available_themes)))
        self.set_keymap(self.user_keymap)

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.recent_notices.append(message)
        super().notify(message, *args, **kwargs)

    # -- start ---------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def on_mount(self) -> None:
        for problem in self._keymap_problems:
            self.notify(problem, title="Config", severity="warning", markup=False, timeout=15)
        # after the first frame: the screen shows at once, the queue follows
        self.call_after_refresh(self._launch_core)

    def _launch_core(self) -> None:
        self.run_worker(self._start_core(), group="core", name="start the download queue",
                        exit_on_error=False)

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _post(self, message: Any) -> None:
        screen = self.main_screen
        if screen is not None:
            screen.post_message(message)

    def _on_core_event(self, event: Any) -> None:
        self._post(CoreEvent(event))

    async def _start_core(self) -> None:
        """Start the download manager: it restores last run's queue and resumes it."""
        from tikget_tui.downloads import DownloadManager
        from tikget_tui.store import AlreadyRunning

        manager = DownloadManager(self.settings, client=self.client, clock=self.clock)
        self._unsubscribe = manager.subscribe(self._on_core_event)
        try:
            await manager.start()
        except AlreadyRunning as exc:
            self.fatal_error = str(exc)
            self.exit(return_code=1)
            return
        except Exception as exc:  # one line in the UI; lookups keep working
            self._post(CoreFailed(f"the download queue could not start: {error_line(exc)}"))
            return
        if self._core_closed:
            await manager.stop()
            return
        self.manager = manager
        self._post(CoreReady())

    # -- reports -------------------------------------------------------------------

    def load_report(self, job: Any) -> Any | None:
        """The stored verification report of a finished job's file, if any."""
        from tikget_tui.verify.report import Report

        store = getattr(self.manager, "store", None)
        path = job.final_path or (job.files[0] if job.files else None)
        if store is None or path is None:
            return None
        data = store.get_report(path)
        if data is None and job.files:
            data = store.get_report(job.files[0])
        return Report.from_dict(data) if data else None

    # -- stop ----------------------------------------------------------------------

    async def shutdown_core(self) -> None:
        """Stop the manager (running transfers keep their .part and resume next time)."""
        if self._core_closed:
            return
        self._core_closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.stop()
        await self.client.aclose()

    async def action_quit(self) -> None:
        await self.shutdown_core()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self.shutdown_core()


__all__ = ["TikGetApp"]
