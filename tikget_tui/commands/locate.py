"""``tikget locate``: where everything lives."""

from __future__ import annotations

import argparse

from tikget_tui import locations
from tikget_tui.config import Settings
from tikget_tui.logs import answers_dir, log_file
from tikget_tui.tiktok.impersonate import describe


def run(args: argparse.Namespace, settings: Settings) -> int:
    locs = locations.resolve()
    rows = {
        "config file": str(locs.config_file),
        "data dir": str(settings.data_dir),
        "state database": str(settings.state_db),
        "cache dir": str(settings.cache_dir),
        "download dir": str(settings.download_dir),
        "log file": str(log_file(settings)),
        "saved answers": str(answers_dir(settings)),
        "service": settings.service.origin,
        "impersonate": describe(settings.impersonate),
    }
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0
