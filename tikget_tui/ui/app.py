"""The Textual application: settings, clock and the core services; the UI is in screens/."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.driver import Driver
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from tikget_tui import startup
from tikget_tui.clock import SYSTEM_CLOCK, Clock
from tikget_tui.config import Settings
from tikget_tui.ui import keymap
from tikget_tui.ui.commands import ActionCommands
from tikget_tui.ui.key_order import KeyOrder
from tikget_tui.ui.messages import CoreEvent, CoreFailed, CoreReady, WatchPolled
from tikget_tui.ui.resources import stylesheet_paths
from tikget_tui.ui.screens.main import MainScreen
from tikget_tui.ui.text import error_line

if TYPE_CHECKING:  # httpx and the client load on first use, after the first frame
    from tikget_tui.tiktok import TikTokClient
    from tikget_tui.verify.report import Report
    from tikget_tui.watch import Watcher


class ServiceUnavailable(Exception):
    """The service could not be started (``--demo``); ``reason`` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _import_client(impersonate: str) -> None:
    """Import what :class:`TikTokClient` needs (httpx; curl-cffi, whose native library
    loads in ~0.1 s, unless ``impersonate = "off"``), so making it later costs nothing."""
    from tikget_tui.tiktok import client  # noqa: F401

    if impersonate != "off":
        from tikget_tui.tiktok.impersonate import available

        available()


class TikGetApp(App[int]):
    """Save public TikTok stories before they expire.

    The app is the main screen's :class:`~tikget_tui.ui.host.AppHost` (it hands itself to
    the screen it makes); what the core tells the UI goes to that screen as messages."""

    TITLE = "TikGet"
    SUB_TITLE = "save public stories before they expire"
    CSS_PATH: ClassVar[list[Any]] = stylesheet_paths()
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[Any]] = []

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 demo_origin: str | None = None,
                 start_service: Callable[[], object] | None = None,
                 start_log: Callable[[Callable[[str], None]], object] | None = None,
                 watch_sleep: Callable[[float], Awaitable[None]] | None = None,
                 watch_pause: float | None = None) -> None:
        """``watch_sleep``/``watch_pause`` go to the :class:`~tikget_tui.watch.Watcher`
        (tests run its loop in fake time; the defaults are real seconds).

        ``start_service`` (``--demo``) starts the service already listening at the
        settings' origin; it runs in a thread after the first frame, and everything that
        talks to the service waits for it (:meth:`ready_client`).

        ``start_log`` (``tikget``) starts the app's log file, also after the first frame and
        before the queue; it is handed a function that shows a warning on the message line."""
        super().__init__()
        self.settings = settings
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.demo_origin = demo_origin
        self._client: TikTokClient | None = None
        self._start_service = start_service
        self._start_log = start_log
        self._service: Worker[None] | None = None
        self.manager: Any | None = None
        self.watcher: Watcher | None = None
        """The watch list's poller (a ``watch.Watcher``), once the queue has started."""
        self.watch_task: asyncio.Task[None] | None = None
        """The watcher's loop: an app-long task, not a worker (``workers.wait_for_complete``
        in tests and elsewhere waits for units of work, and this one runs until quit)."""
        self._watch_sleep = watch_sleep
        self._watch_pause = watch_pause
        self._watch_stop: asyncio.Event | None = None
        self.fatal_error: str | None = None
        self.user_keymap, self._keymap_problems = keymap.check_keymap(dict(settings.keymap))
        self._unsubscribe: Any | None = None
        self._core_closed = False
        self.recent_notices: deque[str] = deque(maxlen=200)
        """Every notification's text, newest last (toasts vanish; this stays)."""
        self.key_order = KeyOrder(self, self.route_input)
        """Keys and pastes one at a time, each after the last one's effects (a burst over
        SSH acts as the same keys typed slowly; see :mod:`tikget_tui.ui.key_order`)."""
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
        """Every notice goes to the main screen's message line (under the input), which
        wraps long lines and never covers a pane; a toast only before that screen exists.
        Plain text: messages quote captions, nicknames and file names (markup only when a
        caller explicitly asks, and only in a toast)."""
        kwargs.setdefault("markup", False)
        self.recent_notices.append(message)
        screen = self.main_screen
        if screen is not None and screen.is_mounted and not kwargs["markup"]:
            screen.show_notice(message, title=kwargs.get("title", "") or "",
                               severity=kwargs.get("severity", "information"))
            return
        super().notify(message, *args, **kwargs)

    # -- keys ----------------------------------------------------------------------

    def get_driver_class(self) -> type[Driver]:
        """On Linux, Textual's driver with Escape + key read as typed
        (:mod:`tikget_tui.ui.terminal_keys`)."""
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from tikget_tui.ui.terminal_keys import KeyDriver

            return KeyDriver
        return driver

    async def on_event(self, event: events.Event) -> None:
        # keys and pastes from the terminal (or a test) go through the key gate, in order
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            await self.key_order.arrived(event)
            return
        await super().on_event(event)

    async def route_input(self, event: events.Event) -> None:
        """Textual's routing of one key or paste (priority bindings, then the focus)."""
        await super().on_event(event)

    # -- start ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, less its Quit: ours (with the queue saved) is in the palette."""
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self)

    def on_mount(self) -> None:
        for problem in self._keymap_problems:
            self.notify(problem, title="Config", severity="warning", markup=False, timeout=15)
        # after the first frame: the screen shows at once, the queue follows
        self.call_after_refresh(self._launch_core)

    def on_ready(self) -> None:
        startup.resume_gc()  # the first frame is on screen (see tikget_tui.startup)

    @property
    def client(self) -> TikTokClient:
        """The TikTok client, made on first use (its imports are not needed for the first
        frame). Before a request, :meth:`ready_client` waits for the ``--demo`` service."""
        if self._client is None:
            from tikget_tui.tiktok import TikTokClient

            self._client = TikTokClient(self.settings, clock=self.clock)
        return self._client

    def _ensure_service(self) -> Worker[None] | None:
        if self._start_service is not None and self._service is None:
            self._service = self.run_worker(self._run_service(self._start_service),
                                            group="service", name="start the demo service",
                                            exit_on_error=False)
        return self._service

    async def _run_service(self, start: Callable[[], object]) -> None:
        try:
            await asyncio.to_thread(start)
        except Exception as exc:
            reason = f"the demo service could not start: {error_line(exc)}"
            self.notify(reason, title="Demo", severity="error", markup=False, timeout=30)
            raise ServiceUnavailable(reason) from None

    async def ready_client(self) -> TikTokClient:
        """:attr:`client`, once the service it talks to runs (``--demo`` starts it after
        the first frame); :class:`ServiceUnavailable` if it could not start."""
        service = self._ensure_service()
        if service is not None:
            try:
                await service.wait()
            except WorkerFailed as exc:
                raise ServiceUnavailable(error_line(exc.error)) from None
            except WorkerCancelled:
                raise ServiceUnavailable("the demo service was stopped") from None
        if self._client is None:  # its imports (curl-cffi's: ~0.1 s) off the event loop
            await asyncio.to_thread(_import_client, self.settings.impersonate)
        return self.client

    def _launch_core(self) -> None:
        if self._start_log is not None:
            start_log, self._start_log = self._start_log, None
            start_log(lambda line: self.notify(line, severity="warning", markup=False))
        self._ensure_service()
        self.run_worker(self._start_core(), group="core", name="start the download queue",
                        exit_on_error=False)

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _post(self, message: Any) -> None:
        """Post a core message to the main screen (and nowhere else: ``bubble=False``)."""
        screen = self.main_screen
        if screen is not None:
            screen.post_message(message)

    def forward_core_event(self, event: Any) -> None:
        """The manager's subscriber: one core event becomes one ``CoreEvent`` on the screen.

        (Not named ``_on_core_event``: Textual would make that the app's handler of the
        ``CoreEvent`` message, which re-posted every event forever.)"""
        self._post(CoreEvent(event))

    async def _start_core(self) -> None:
        """Start the download manager: it restores last run's queue and resumes it."""
        from tikget_tui.downloads import DownloadManager
        from tikget_tui.store import AlreadyRunning

        try:
            client = await self.ready_client()
        except ServiceUnavailable:
            return  # said once, by the worker that failed
        manager = DownloadManager(self.settings, client=client, clock=self.clock)
        self._unsubscribe = manager.subscribe(self.forward_core_event)
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
        self._make_watcher(manager)
        self._post(CoreReady())

    # -- the watch list --------------------------------------------------------------

    def _make_watcher(self, manager: Any) -> None:
        from tikget_tui.watch import DEFAULT_PAUSE, Watcher

        try:
            self.watcher = Watcher(
                manager, client=self.client, clock=self.clock, sleep=self._watch_sleep,
                pause=DEFAULT_PAUSE if self._watch_pause is None else self._watch_pause,
                audio=self.settings.audio_mp3, on_poll=self.watchlist_polled)
        except ValueError as exc:  # a bad poll interval: downloads still work
            self.notify(f"the watch list is off: {error_line(exc)}", title="Watch list",
                        severity="error", markup=False, timeout=15)
            return
        self._watch_stop = asyncio.Event()

    def watchlist_polled(self, result: Any) -> None:
        """The watcher's callback: one poll result becomes one ``WatchPolled`` on the screen."""
        self._post(WatchPolled(result))

    def start_watching(self) -> None:
        """Start polling the watched creators (once the main screen shows the watch list)."""
        watcher, stop = self.watcher, self._watch_stop
        if watcher is None or stop is None or stop.is_set() or self.watch_task is not None:
            return
        self.watch_task = asyncio.create_task(watcher.run(stop), name="tikget watch list")
        self.watch_task.add_done_callback(self._watch_ended)

    def _watch_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        screen = self.main_screen
        if error is not None and screen is not None:
            screen.task_failed("the watch list", error)

    async def _stop_watcher(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        task, self.watch_task = self.watch_task, None
        if task is None or task.done():
            return
        task.cancel()  # a look-up in flight is dropped; that creator stays due
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, timeout=5)

    # -- reports -------------------------------------------------------------------

    def load_report(self, job: Any) -> Report | None:
        """The stored verification report of a finished job's file, if any."""
        from tikget_tui.archive.records import Records
        from tikget_tui.verify.report import Report

        store = getattr(self.manager, "store", None)
        path = job.final_path or (job.files[0] if job.files else None)
        if store is None or path is None:
            return None
        data = Records(store).latest_report(path)
        if data is None and job.files:
            data = Records(store).latest_report(job.files[0])
        return Report.from_dict(data) if data else None

    # -- stop ----------------------------------------------------------------------

    async def shutdown_core(self) -> None:
        """Stop the manager (running transfers keep their .part and resume next time)."""
        if self._core_closed:
            return
        self._core_closed = True
        await self._stop_watcher()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.stop()
        if self._client is not None:
            await self._client.aclose()

    def unfinished_downloads(self) -> int:
        """Downloads running or queued (they resume next time)."""
        from tikget_tui.store import ACTIVE_STATES

        manager = self.manager
        return 0 if manager is None else sum(1 for j in manager.jobs()
                                             if j.state in ACTIVE_STATES)

    async def action_quit(self) -> None:
        """``q`` and Ctrl+Q: with downloads running or queued (and ``confirm_quit`` on),
        ask once; otherwise quit at once."""
        from tikget_tui.ui.screens.quit import QuitScreen

        if isinstance(self.screen, QuitScreen):  # Ctrl+Q again while asked: the answer no
            self.screen.dismiss(False)
            return
        count = self.unfinished_downloads()
        if count and self.settings.confirm_quit:
            def answered(yes: bool | None) -> None:
                if yes:
                    self.call_next(self.quit_now)

            self.push_screen(QuitScreen(count), answered)
            return
        await self.quit_now()

    async def quit_now(self) -> None:
        """Stop the queue (it resumes next time) and leave."""
        await self.shutdown_core()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self.shutdown_core()


__all__ = ["TikGetApp"]
