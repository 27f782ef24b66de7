"""One module per subcommand: ``run(args, settings) -> int``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator

from tikget_tui.config import Settings


def already_running(settings: Settings) -> str | None:
    """The one-line refusal when another tikget (the app, a save, a watch run) drives the
    queue, else None. Checked before anything slow starts (the demo service, look-ups).

    ``save`` refuses rather than handing its targets to the running app: the app's queue
    belongs to the person at its screen, a batch needs its own exit status and summary,
    and a channel into a running app would be one more thing that listens for commands.
    """
    from tikget_tui.store import InstanceLock, StoreError

    try:
        with InstanceLock(settings.data_dir):
            return None
    except StoreError as exc:  # AlreadyRunning is one
        return str(exc)


@contextlib.contextmanager
def demo_service(args: argparse.Namespace, settings: Settings) -> Iterator[Settings]:
    """With the global ``--demo``: run the built-in stand-in (as people meet it: with the
    proof-of-work page on a first visit) and point the settings at it. Commands wrap only
    the part that talks to TikTok, so e.g. ``watch list`` starts no server."""
    if not getattr(args, "demo", False):
        yield settings
        return
    from tikget_tui.demo import DemoServerThread, people_scenario

    print("tikget: starting the demo service…", file=sys.stderr)
    from tikget_tui.private import private_dir

    private_dir(settings.cache_dir)  # ours: 0700 before the demo's media are made in it
    strict = bool(getattr(args, "strict", False))
    with DemoServerThread(people_scenario(), media_dir=settings.cache_dir / "demo-media",
                          strict=strict) as demo:
        if demo.server.ca_file is not None:  # trust its throw-away certificate, here only
            os.environ["SSL_CERT_FILE"] = str(demo.server.ca_file)
        yield settings.replace(service_origin=demo.origin)
