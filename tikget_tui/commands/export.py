"""``tikget export [--format csv|json] [-o FILE]``: the archive as a table (stdout by default).

Read-only (no lock; fine while the app runs). Exit status: 0, or 1 when the
state database or the output file cannot be used.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import TextIO

from tikget_tui.archive.export import rows, write_csv, write_json
from tikget_tui.config import Settings
from tikget_tui.store import Store, StoreError

EXIT_OK, EXIT_FAIL = 0, 1


def run(args: argparse.Namespace, settings: Settings, *, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        with Store.open(settings.state_db) as store:
            items = rows(store)
    except StoreError as exc:
        print(f"tikget: {exc}", file=err)
        return EXIT_FAIL
    buf = io.StringIO(newline="")
    (write_json if args.format == "json" else write_csv)(items, buf)
    text = buf.getvalue()
    if args.output is None:
        out.write(text)
        out.flush()
        return EXIT_OK
    from tikget_tui.downloads.transfer import atomic_write_bytes

    try:
        atomic_write_bytes(args.output.expanduser(), text.encode("utf-8"))
    except OSError as exc:
        print(f"tikget: cannot write {args.output}: {exc.strerror or exc}; "
              "choose another file with -o", file=err)
        return EXIT_FAIL
    print(f"exported {len(items)} entr{'y' if len(items) == 1 else 'ies'} to {args.output}",
          file=err)
    return EXIT_OK
