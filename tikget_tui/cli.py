"""Command line: ``tikget`` (the app) and its batch subcommands.

Argument parsing lives here; each subcommand's work lives in
``tikget_tui/commands/<name>.py`` as ``run(args, settings) -> int`` and is
imported only when that subcommand runs, so ``--help`` stays fast.

Exit status: 0 success, 1 something failed (each failure says why), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from tikget_tui import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

DESCRIPTION = (
    "Save public TikTok stories before they expire: verified files, names for humans, "
    "context kept. Public content only: no passwords, no browser cookies."
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"tikget: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tikget", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"tikget {__version__}")
    p.add_argument("--service", metavar="URL", help="treat this origin as TikTok (a stand-in)")
    p.add_argument("--demo", action="store_true", help="start the built-in demo service and use it")
    p.add_argument("--dir", type=Path, metavar="DIR", help="download directory")
    p.add_argument("--concurrency", type=int, metavar="N", help="parallel downloads")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("stories", help="list a creator's active stories")
    s.add_argument("targets", nargs="+", metavar="TARGET", help="@user, user or profile link")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("save", help="save stories/posts without the UI")
    s.add_argument("targets", nargs="*", metavar="TARGET", help="links, @users, or - for stdin")
    s.add_argument("--from-file", type=Path, metavar="FILE", help="read targets from FILE")
    s.add_argument("--audio", action="store_true", help="save the audio as MP3")
    s.add_argument("--note", default=None, metavar="TEXT", help="why you save this (kept beside)")
    s.add_argument("--again", action="store_true", help="download even if already archived")
    s.add_argument("--json", action="store_true", help="one JSON result per item")

    s = sub.add_parser("verify", help="check saved media files with ffprobe/ffmpeg")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE")
    s.add_argument("--expect-duration", type=float, metavar="SECONDS")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("watch", help="watch creators and save new stories before they expire")
    wsub = s.add_subparsers(dest="watch_command", metavar="ACTION", required=True,
                            parser_class=_Parser)
    w = wsub.add_parser("add", help="watch creators")
    w.add_argument("targets", nargs="+", metavar="@USER")
    w.add_argument("--note", default=None, metavar="TEXT")
    w = wsub.add_parser("remove", help="stop watching creators")
    w.add_argument("targets", nargs="+", metavar="@USER")
    w = wsub.add_parser("list", help="show watched creators")
    w.add_argument("--json", action="store_true")
    w = wsub.add_parser("run", help="poll watched creators and save new stories")
    w.add_argument("--once", action="store_true", help="one poll of each creator, then exit")
    w.add_argument("--interval", type=float, metavar="SECONDS", help="poll interval")

    s = sub.add_parser("audit", help="compare the archive, the files and their sidecars")
    s.add_argument("--json", action="store_true")
    s.add_argument("--requeue", action="store_true", help="re-queue what can still be saved")

    s = sub.add_parser("export", help="export the archive as CSV or JSON")
    s.add_argument("--format", choices=("csv", "json"), default="csv")
    s.add_argument("--output", "-o", type=Path, metavar="FILE", help="default: standard output")

    sub.add_parser("locate", help="print where config, state, cache and downloads live")

    s = sub.add_parser("demo-server", help="run the stand-in TikTok service on loopback")
    s.add_argument("--port", type=int, default=0, metavar="N", help="0 picks a free port")
    s.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    from tikget_tui.config import ConfigError, load
    from tikget_tui.store import StoreError

    try:
        settings = load()
        settings = settings.replace(service_origin=args.service, concurrency=args.concurrency)
        if args.dir:
            settings = settings.with_download_dir(args.dir)
    except ConfigError as exc:
        print(f"tikget: {exc}", file=sys.stderr)
        return EXIT_USAGE

    command = args.command or "app"
    module = importlib.import_module(f"tikget_tui.commands.{command.replace('-', '_')}")
    try:
        return int(module.run(args, settings))
    except KeyboardInterrupt:
        print("tikget: interrupted; the queue is saved and resumes next time", file=sys.stderr)
        return 130
    except StoreError as exc:  # e.g. the state database locked by another program
        print(f"tikget: {exc}", file=sys.stderr)
        return 1
