"""Everything that speaks TikTok's web protocol. No TikTok JSON leaves this package."""

from tikget_tui.tiktok.client import MediaResponse, TikTokClient
from tikget_tui.tiktok.errors import *  # noqa: F403
from tikget_tui.tiktok.errors import __all__ as _errors

__all__ = ["MediaResponse", "TikTokClient", *_errors]
