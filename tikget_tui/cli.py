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
from typing import Any

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


# The global options: accepted before or after the subcommand (``tikget --dir D save @u``
# and ``tikget save @u --dir D`` mean the same). Each parser that takes them uses
# default=SUPPRESS so a subcommand never overwrites a value given before it; main()
# fills in these defaults afterwards.
GLOBAL_DEFAULTS: dict[str, object] = {
    "service": None, "demo": False, "strict": False, "dir": None, "concurrency": None,
    "verbose": False, "write_pages": None,
}


def _global_options() -> argparse.ArgumentParser:
    g = argparse.ArgumentParser(add_help=False)
    opts = g.add_argument_group("global options (before or after the command)")
    opts.add_argument("--service", metavar="URL", default=argparse.SUPPRESS,
                      help="treat this origin as TikTok (a stand-in)")
    opts.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                      help="start the built-in demo service and use it")
    opts.add_argument("--strict", action="store_true", default=argparse.SUPPRESS,
                      help="the demo service plays TikTok's 2026 bot wall: TLS with a "
                           "throw-away certificate, non-browser connections refused")
    opts.add_argument("--dir", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                      help="download directory")
    opts.add_argument("--concurrency", type=int, metavar="N", default=argparse.SUPPRESS,
                      help="parallel downloads")
    opts.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                      help="log every request (signed values redacted) and decision to stderr")
    opts.add_argument("--write-pages", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                      help="keep every page and API answer in DIR (cookies, tokens and "
                           "signatures redacted)")
    return g


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    p = _Parser(prog="tikget", description=DESCRIPTION, parents=[common])
    p.add_argument("--version", action="version", version=f"tikget {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, parents=[common])
        return parser

    s = command(sub, "stories", "list a creator's active stories")
    s.add_argument("targets", nargs="+", metavar="TARGET", help="@user, user or profile link")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = command(sub, "save", "save stories/posts without the UI")
    s.add_argument("targets", nargs="*", metavar="TARGET", help="links, @users, or - for stdin")
    s.add_argument("--from-file", type=Path, metavar="FILE", help="read targets from FILE")
    s.add_argument("--audio", action="store_true", help="save the audio as MP3")
    s.add_argument("--note", default=None, metavar="TEXT",
                   help="why you save this (kept beside; added to stories already saved)")
    s.add_argument("--again", action="store_true", help="download even if already archived")
    s.add_argument("--json", action="store_true", help="one JSON result per item")

    s = command(sub, "verify", "check saved media files (or folders of them) with ffprobe/ffmpeg")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="media files or folders (.info.json sidecars and .part files are "
                        "skipped; a sidecar beside a file is compared with it)")
    s.add_argument("-r", "--recursive", action="store_true",
                   help="look into sub-folders of the folders named")
    s.add_argument("--expect-duration", type=float, metavar="SECONDS")
    s.add_argument("--frames", type=Path, metavar="DIR",
                   help="also write the first and the last frame of each video to DIR as "
                        "NAME.first.jpg and NAME.last.jpg (from the decode checks themselves)")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = command(sub, "watch", "watch creators and save new stories before they expire")
    wsub = s.add_subparsers(dest="watch_command", metavar="ACTION", required=True,
                            parser_class=_Parser)
    w = command(wsub, "add", "watch creators (each is looked up once first)")
    w.add_argument("targets", nargs="+", metavar="@USER")
    w.add_argument("--note", default=None, metavar="TEXT")
    w.add_argument("--anyway", action="store_true",
                   help="add even when the look-up fails (private, unknown, offline)")
    w = command(wsub, "remove", "stop watching creators")
    w.add_argument("targets", nargs="+", metavar="@USER")
    w = command(wsub, "list", "show watched creators")
    w.add_argument("--json", action="store_true")
    w = command(wsub, "run", "poll watched creators and save new stories")
    w.add_argument("--once", action="store_true", help="one poll of each creator, then exit")
    w.add_argument("--interval", type=float, metavar="SECONDS", help="poll interval")
    w.add_argument("--every", metavar="SPAN",
                   help="with --once: this run is started by a scheduler every SPAN (4h, "
                        "90m); kept so `watch status` and the app can say when it runs next")
    w.add_argument("--notify", action="store_true",
                   help="with --once: a desktop notification of what was saved and what "
                        "failed (notify-send or osascript, where installed)")
    w = command(wsub, "install", "poll the watch list every few hours, also after the "
                "terminal closes (systemd user timer, launchd agent or a crontab line)")
    w.add_argument("--every", metavar="SPAN", help="how often: 4h, 90m, 1h30m "
                   "(default: the poll_interval setting)")
    w.add_argument("--cron", action="store_true",
                   help="print a crontab line to add instead of installing a timer")
    w.add_argument("--dry-run", action="store_true",
                   help="print what would be written and run; change nothing")
    w.add_argument("--notify", action="store_true",
                   help="each run shows a desktop notification of what it saved and what failed")
    command(wsub, "uninstall", "remove exactly what `watch install` set up")
    w = command(wsub, "status", "each creator's last and next poll, stories saved in the "
                "last 24 h, and the timer")
    w.add_argument("--json", action="store_true")

    s = command(sub, "audit", "compare the archive, the files and their sidecars")
    s.add_argument("--json", action="store_true")
    s.add_argument("--requeue", action="store_true", help="re-queue what can still be saved")

    s = command(sub, "export", "export the archive as CSV or JSON (one row per saved copy)")
    s.add_argument("--format", choices=("csv", "json"), default="csv")
    s.add_argument("--output", "-o", type=Path, metavar="FILE", help="default: standard output")

    command(sub, "locate", "print where config, state, cache, log and downloads live")

    s = command(sub, "demo-server", "run the stand-in TikTok service on loopback")
    s.add_argument("--port", type=int, default=0, metavar="N", help="0 picks a free port")
    s.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    return p


class _NotPlain(Exception):
    """The command line is not a plain ``tikget [global options]``."""


class _PlainParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotPlain(message)


def _plain_app_args(argv: list[str]) -> argparse.Namespace | None:
    """``tikget`` with global options only (how the app starts): parsed without building
    the twelve subcommand parsers (a few ms of the start, bench/bench_ui.py). None when
    the line names a command or a help/version flag, abbreviates an option, or fails to
    parse: the full parser then decides (and words any error)."""
    options = {"--service", "--demo", "--strict", "--dir", "--concurrency", "-v", "--verbose",
               "--write-pages"}
    for token in argv:
        if token.startswith("-") and token.split("=", 1)[0] not in options:
            return None  # -h, --version, an abbreviation, a typo, "-" (stdin)
        if token in _COMMANDS:
            return None
    parser = _PlainParser(prog="tikget", add_help=False, allow_abbrev=False,
                          parents=[_global_options()])
    try:
        args = parser.parse_args(argv)
    except _NotPlain:
        return None
    args.command = None
    return args


_COMMANDS = frozenset({"stories", "save", "verify", "watch", "audit", "export", "locate",
                       "demo-server"})


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; every global option gets its default when it was not given."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = _plain_app_args(words) or build_parser().parse_args(words)
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    from tikget_tui.config import ConfigError, load
    from tikget_tui.instance import StoreError  # the store, without loading SQLite

    try:
        settings = load()
        settings = settings.replace(service_origin=args.service, concurrency=args.concurrency)
        if args.dir:
            # absolute: the archive records where files are, whatever the working folder
            settings = settings.with_download_dir(args.dir.expanduser().absolute())
    except ConfigError as exc:
        print(f"tikget: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from tikget_tui import jsonfile

    jsonfile.configure(settings.max_json_bytes)
    command = args.command or "app"
    # the app writes its log to the file `tikget locate` names (commands/app.py)
    if command != "app":
        from tikget_tui.logs import setup_logging

        setup_logging(settings, verbose=bool(args.verbose), write_pages=args.write_pages)
        from tikget_tui.logs import secure_existing

        secure_existing(settings)
    module = importlib.import_module(f"tikget_tui.commands.{command.replace('-', '_')}")
    try:
        return int(module.run(args, settings))
    except KeyboardInterrupt:
        print("tikget: interrupted; the queue is saved and resumes next time", file=sys.stderr)
        return 130
    except StoreError as exc:  # e.g. the state database locked by another program
        print(f"tikget: {exc}", file=sys.stderr)
        return 1
