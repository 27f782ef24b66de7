"""Verification of saved files with ffprobe/ffmpeg: ``verify(path, expected) -> Report``.

See docs/contracts.md, section "Verification". No textual import here.
"""

from tikget_tui.verify.report import (
    Check,
    Expected,
    MediaKind,
    Report,
    StreamInfo,
    Verdict,
)
from tikget_tui.verify.verifier import verify, verify_sync

__all__ = ["Check", "Expected", "MediaKind", "Report", "StreamInfo", "Verdict", "verify",
           "verify_sync"]
