"""Everything that speaks TikTok's web protocol. No TikTok JSON leaves this package.

``TikTokClient`` and ``MediaResponse`` (httpx) load on first use, so the light modules
(``errors``, ``diagnostics``) can be imported before the app's first frame without them.
"""

from typing import TYPE_CHECKING, Any

from tikget_tui.tiktok.errors import *  # noqa: F403
from tikget_tui.tiktok.errors import __all__ as _errors

if TYPE_CHECKING:
    from tikget_tui.tiktok.client import MediaResponse, TikTokClient

__all__ = ["MediaResponse", "TikTokClient", *_errors]


def __getattr__(name: str) -> Any:
    if name in ("MediaResponse", "TikTokClient"):
        from tikget_tui.tiktok import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
