"""The first frame without garbage-collector pauses.

Starting the app allocates a few hundred thousand objects that live as long as
the process (modules, classes, widgets, styles). The cyclic garbage collector
walks all of them again on every full collection it triggers on the way, which
costs about a tenth of the time to the first frame. ``tikget`` (the app) pauses
it before the imports and resumes it once the first frame is on screen, after
moving what exists by then into the permanent generation (``gc.freeze``), so
later collections skip it too. No textual here: the CLI calls it first.
"""

from __future__ import annotations

import gc

_paused = False


def pause_gc() -> None:
    """No automatic collections until :func:`resume_gc` (a no-op if already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Undo :func:`pause_gc` (only what it did); safe to call more than once."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
