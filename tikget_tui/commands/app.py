"""``tikget`` without a subcommand: the Textual app (``--demo`` runs it on the stand-in).

Start-up is measured (``bench/bench_ui.py``): only what the first frame needs is
imported before it. The lock check does not load the store; with ``--demo`` only
the listening socket exists before the first frame (so the origin is known and
shown), and the server itself (aiohttp, the media) starts in a thread after it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from tikget_tui import startup
from tikget_tui.config import Settings

EXIT_OK, EXIT_FAIL = 0, 1


def _fail(message: str) -> int:
    print(f"tikget: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_FAIL


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tikget_tui.instance import InstanceLock, StoreError

    # One process drives the queue: say so now, before the screen is taken over.
    try:
        with InstanceLock(settings.data_dir):
            pass
    except StoreError as exc:  # AlreadyRunning is one
        return _fail(str(exc))

    demo: list[Any] = []  # the DemoServerThread, once started
    listener: socket.socket | None = None
    origin: str | None = None
    start_service: Callable[[], None] | None = None
    if getattr(args, "demo", False):
        try:
            listener = socket.create_server(("127.0.0.1", 0))
        except OSError as exc:
            return _fail(f"the demo service could not start: {exc}")
        strict = bool(getattr(args, "strict", False))
        origin = f"{'https' if strict else 'http'}://127.0.0.1:{listener.getsockname()[1]}"
        settings = settings.replace(service_origin=origin)
        sock = listener

        def start_demo() -> None:  # in a thread, after the first frame
            from tikget_tui.demo import DemoServerThread, people_scenario

            server = DemoServerThread(people_scenario(), sock=sock, strict=strict)
            demo.append(server)
            server.start()
            if server.server.ca_file is not None:  # trust its throw-away certificate
                os.environ["SSL_CERT_FILE"] = str(server.server.ca_file)

        start_service = start_demo

    # the same log as `tikget -v`, always, to the file `tikget locate` names (never to the
    # screen, so -v adds nothing here); --write-pages works here too. It starts once the
    # first frame is on screen (logging.handlers is not needed before), before the queue.
    write_pages = getattr(args, "write_pages", None)

    def start_log(warn: Callable[[str], None]) -> None:
        from tikget_tui.logs import start_app_log

        start_app_log(settings, write_pages=write_pages, warn=warn)

    startup.pause_gc()
    try:
        from tikget_tui.ui.app import TikGetApp

        app = TikGetApp(settings, demo_origin=origin, start_service=start_service,
                        start_log=start_log)
        app.run()
    finally:
        startup.resume_gc()
        for server in demo:
            server.stop()
        if listener is not None:
            listener.close()
    if app.fatal_error:
        return _fail(app.fatal_error)
    return app.return_code or EXIT_OK
