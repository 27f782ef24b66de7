"""The one browser the client presents itself as: its name, its headers, their order.

Since July 2026 TikTok refuses (HTTP 403) profile pages, and since late August its
``/api/`` calls, when the connection does not look like the browser its User-Agent names
(../shared/tiktok-web-protocol.md, section 6). "Looks like" is the whole story at once:
the TLS ClientHello and HTTP/2 settings (curl-cffi presents those of the browser named by
:attr:`Browser.target`, see :mod:`tikget_tui.tiktok.impersonate`), the User-Agent, the
``sec-ch-ua*`` client hints agreeing with its version, ``sec-fetch-*`` saying what kind
of request it is (a navigation for pages, a same-origin ``fetch()`` for the API), and the
order in which that browser sends them.

Everything here is what any visitor's browser sends; nothing identifies a person (no
cookies from a browser, no login). Changing the browser is one edit: :data:`CHROME`.
The headers equal what curl-cffi itself sends for the target (a test compares them), so
a newer curl-cffi with a newer Chrome is updated here in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from tikget_tui.tiktok.limits import ACCEPT_ENCODING


class Kind(Enum):
    """What a request is, to the browser: it decides ``Accept`` and ``sec-fetch-*``."""

    PAGE = "page"  # a top-level navigation (profile, post, home page)
    API = "api"  # the web app's fetch() of /api/... on the same origin
    MEDIA = "media"  # a <video>/<img>/<audio> element loading from the CDN
    SHORT_LINK = "short"  # a short link resolved the way link previews are (not a browser)


# A navigation's and a fetch()'s headers, in the order Chrome sends them (HTTP/2, lower
# case). A header not listed goes after these, in the order it was added.
_PAGE_ORDER = (
    "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "upgrade-insecure-requests",
    "user-agent", "accept", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-user",
    "sec-fetch-dest", "referer", "accept-encoding", "accept-language", "cookie", "priority",
)
_FETCH_ORDER = (
    "sec-ch-ua-platform", "user-agent", "sec-ch-ua", "sec-ch-ua-mobile", "accept",
    "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer", "accept-encoding",
    "accept-language", "cookie", "range", "priority",
)


@dataclass(frozen=True)
class Browser:
    """A browser's identity as its requests show it."""

    name: str
    """The ``impersonate`` setting's value that picks it (``chrome``)."""
    target: str
    """curl-cffi's name for the TLS/HTTP2 fingerprint of this exact version."""
    user_agent: str
    sec_ch_ua: str
    platform: str = '"Windows"'
    accept_language: str = "en-US,en;q=0.9"

    def headers(self, kind: Kind) -> dict[str, str]:
        """The headers this browser sends for a request of ``kind`` (without the Referer,
        cookies and Range, which the client adds), in its order."""
        if kind is Kind.SHORT_LINK:
            # resolved the way link previews resolve them (protocol notes, section 2)
            return {"User-Agent": "facebookexternalhit/1.1", "Accept": "*/*"}
        hints = {
            "sec-ch-ua": self.sec_ch_ua,
            "sec-ch-ua-mobile": "?0",
            "sec-ch-ua-platform": self.platform,
        }
        if kind is Kind.PAGE:
            return {
                **hints,
                "upgrade-insecure-requests": "1",
                "User-Agent": self.user_agent,
                "Accept": ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                           "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;"
                           "q=0.7"),
                "sec-fetch-site": "same-origin",
                "sec-fetch-mode": "navigate",
                "sec-fetch-user": "?1",
                "sec-fetch-dest": "document",
                "Accept-Encoding": ACCEPT_ENCODING,  # decoded by us, within max_page_bytes
                "Accept-Language": self.accept_language,
                "priority": "u=0, i",
            }
        if kind is Kind.API:
            return {
                **hints,
                "User-Agent": self.user_agent,
                "Accept": "application/json, text/plain, */*",
                "sec-fetch-site": "same-origin",
                "sec-fetch-mode": "cors",
                "sec-fetch-dest": "empty",
                "Accept-Encoding": ACCEPT_ENCODING,
                "Accept-Language": self.accept_language,
                "priority": "u=1, i",
            }
        return {  # media: the bytes as they are (resumable, hashed as they arrive)
            **hints,
            "User-Agent": self.user_agent,
            "Accept": "*/*",
            "sec-fetch-site": "same-site",
            "sec-fetch-mode": "no-cors",
            "sec-fetch-dest": "video",
            "Accept-Encoding": "identity",
            "Accept-Language": self.accept_language,
        }

    @staticmethod
    def ordered(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """``headers`` in the order this browser sends them (a fetch() when
        ``sec-fetch-mode`` is not ``navigate``); names it does not know keep their order,
        after the known ones."""
        items = list(headers)
        navigate = any(k.lower() == "sec-fetch-mode" and v == "navigate" for k, v in items)
        order = _PAGE_ORDER if navigate else _FETCH_ORDER
        rank = {name: i for i, name in enumerate(order)}
        return sorted(items, key=lambda kv: rank.get(kv[0].lower(), len(order)))


CHROME = Browser(
    name="chrome",
    target="chrome152",
    user_agent=("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Chrome/152.0.0.0 Safari/537.36"),
    sec_ch_ua='"Chromium";v="152", "Not?A_Brand";v="24", "Google Chrome";v="152"',
)
"""The browser every request presents (the ``impersonate = "chrome"`` setting; with
``"off"`` the same headers go over Python's own TLS)."""

IMPERSONATE_CHOICES = ("chrome", "off")

__all__ = ["CHROME", "IMPERSONATE_CHOICES", "Browser", "Kind"]
