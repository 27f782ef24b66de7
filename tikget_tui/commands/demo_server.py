"""``tikget demo-server``: run the stand-in TikTok service on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tikget_tui.config import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tikget_tui.demo import DemoServer, MediaGenerationError, NotLoopback, people_scenario
    from tikget_tui.demo.scenario import DEMO_SHORT_POST
    from tikget_tui.mediatools import MediaTools, ToolNotFound

    host = getattr(args, "host", "127.0.0.1")
    port = int(getattr(args, "port", 0) or 0)
    try:
        tools = MediaTools.for_settings(settings)
        from tikget_tui.private import private_dir

        private_dir(settings.cache_dir)  # ours: 0700 before the demo's media are made in it
        server = DemoServer(people_scenario(), media_dir=settings.cache_dir / "demo-media",
                            host=host, port=port, tools=tools,
                            strict=bool(getattr(args, "strict", False)))
    except (NotLoopback, ToolNotFound) as exc:
        print(f"tikget: {exc}", file=sys.stderr)
        return 2

    async def serve() -> None:
        print("preparing demo media (first run only: a few seconds)...", flush=True)
        origin = await server.start()
        print(f"demo service running at {origin}  (Ctrl+C to stop)")
        if server.ca_file is not None:
            print("strict: TikTok's 2026 bot wall (TLS; non-browser connections get 403)")
            print(f"use it:  SSL_CERT_FILE={server.ca_file} tikget --service {origin} "
                  "stories @mika.travels")
        else:
            print(f"use it:  tikget --service {origin} stories @mika.travels")
        print("creators to try:")
        for creator in server.scenario.creators.values():
            n = len(creator.stories)
            what = "private account" if creator.private else (
                f"{n} active {'story' if n == 1 else 'stories'}" if n else "no active story")
            print(f"  @{creator.username:<16} {what}")
        print(f"  @{'anyone.else':<16} unknown user")
        print(f"short link:  {server.short_url(DEMO_SHORT_POST)}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except (MediaGenerationError, OSError) as exc:
        print(f"tikget: demo service failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo service stopped")
    return 0
