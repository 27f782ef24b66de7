"""Run the stand-in service on its own event loop in a daemon thread.

For sync callers (tests without asyncio, the CLI) and for ``tikget --demo``,
so the app's event loop never shares time with the server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from types import TracebackType

from tikget_tui.clock import Clock
from tikget_tui.demo.media import MediaCatalog
from tikget_tui.demo.scenario import Scenario
from tikget_tui.demo.server import DemoServer, check_loopback
from tikget_tui.mediatools import MediaTools


class DemoServerThread:
    """``with DemoServerThread() as demo: demo.origin``."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        clock: Clock | None = None,
        media_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tools: MediaTools | None = None,
        media: MediaCatalog | None = None,
        sock: socket.socket | None = None,
        strict: bool = False,
    ) -> None:
        check_loopback(sock.getsockname()[0] if sock is not None else host)  # in this thread
        self.server = DemoServer(scenario, clock=clock, media_dir=media_dir, host=host, port=port,
                                 tools=tools, media=media, sock=sock,
                                 strict=strict)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return self.server.origin

    def start(self, timeout: float = 120.0) -> str:
        """Start the server (generating media first if needed) and return its origin."""
        if self._thread is not None:
            return self.origin
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run, args=(loop,), name="tikget-demo-server",
                                  daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            return asyncio.run_coroutine_threadsafe(self.server.start(), loop).result(timeout)
        except BaseException:
            self._shutdown()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), loop).result(timeout)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        if loop is not None and not loop.is_running():
            loop.close()

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def __enter__(self) -> DemoServerThread:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
