"""A desktop notification after a watch run (``tikget watch run --once --notify``).

``notify-send`` (Linux, BSD) or ``osascript`` (macOS), only where installed; nothing
else is tried. The text is plain: usernames and reasons are made visible (control
characters escaped), markup characters are escaped for notify-send (whose servers may
read a little HTML), and osascript gets the text as an argument, never as script.
Core code (no textual).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Mapping

log = logging.getLogger(__name__)

TIMEOUT = 10.0
MAX_BODY = 400

_OSASCRIPT = ("on run argv", "display notification (item 1 of argv) with title (item 2 of argv)",
              "end run")


def notifier(env: Mapping[str, str] | None = None) -> str | None:
    """The program a notification would use here (None: neither is installed)."""
    path = (os.environ if env is None else env).get("PATH", os.defpath)
    for name in ("notify-send", "osascript"):
        if shutil.which(name, path=path):
            return name
    return None


def plain(text: str, limit: int) -> str:
    """One line without control or format characters, at most ``limit`` characters."""
    clean = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    clean = " ".join(clean.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def desktop_notify(title: str, body: str, *, env: Mapping[str, str] | None = None,
                   urgent: bool = False) -> bool:
    """Show one notification; False (and a log line) when none could be shown."""
    environ = dict(os.environ if env is None else env)
    name = notifier(environ)
    if name is None:
        log.info("no notification: neither notify-send nor osascript is installed")
        return False
    exe = shutil.which(name, path=environ.get("PATH", os.defpath))
    assert exe is not None
    title = plain(title, 80)
    body = plain(body, MAX_BODY)
    if name == "notify-send":
        argv = [exe, "--app-name=tikget", f"--urgency={'critical' if urgent else 'normal'}",
                title, _escape_markup(body)]
    else:
        argv = [exe, *(w for line in _OSASCRIPT for w in ("-e", line)), body, title]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=TIMEOUT, env=environ, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("the notification could not be shown (%s): %s", name, exc)
        return False
    if done.returncode != 0:
        log.warning("the notification could not be shown: %s exited %d", name,
                    done.returncode)
        return False
    return True
