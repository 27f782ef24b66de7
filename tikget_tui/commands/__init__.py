"""One module per subcommand: ``run(args, settings) -> int``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from tikget_tui.config import Settings


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
    with DemoServerThread(people_scenario(), media_dir=settings.cache_dir / "demo-media") as demo:
        yield settings.replace(service_origin=demo.origin)
