"""``tikget`` without a subcommand: the Textual app (``--demo`` runs it on the stand-in)."""

from __future__ import annotations

import argparse
import sys

from tikget_tui.config import Settings

EXIT_OK, EXIT_FAIL = 0, 1


def _fail(message: str) -> int:
    print(f"tikget: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_FAIL


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tikget_tui.store import InstanceLock, StoreError

    # One process drives the queue: say so now, before the screen is taken over.
    try:
        with InstanceLock(settings.data_dir):
            pass
    except StoreError as exc:  # AlreadyRunning is one
        return _fail(str(exc))

    demo = None
    origin: str | None = None
    if getattr(args, "demo", False):
        from tikget_tui import locations
        from tikget_tui.demo import DemoServerThread, MediaGenerationError, people_scenario
        from tikget_tui.demo.media import media_ready
        from tikget_tui.mediatools import ToolNotFound

        if not media_ready(locations.resolve().demo_media_dir):
            print("tikget: making the demo's media (first run only, a few seconds)…",
                  file=sys.stderr)
        demo = DemoServerThread(people_scenario())
        try:
            origin = demo.start()
        except (MediaGenerationError, ToolNotFound, OSError, TimeoutError) as exc:
            demo.stop()
            return _fail(f"the demo service could not start: {exc}")
        settings = settings.replace(service_origin=origin)

    # the same log as `tikget -v`, always, to the file `tikget locate` names (never to the
    # screen, so -v adds nothing here); --write-pages works here too
    from tikget_tui.logs import start_app_log

    start_app_log(settings, write_pages=getattr(args, "write_pages", None))

    from tikget_tui.ui.app import TikGetApp

    app = TikGetApp(settings, demo_origin=origin)
    try:
        app.run()
    finally:
        if demo is not None:
            demo.stop()
    if app.fatal_error:
        return _fail(app.fatal_error)
    return app.return_code or EXIT_OK
