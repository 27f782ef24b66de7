"""Typed failures of the TikTok client.

Every error carries ``reason``: one line for the user that says what happened
and what to do. ``retryable`` says whether trying the same thing again later
can succeed (the download engine and the watch loop use it).
"""

from __future__ import annotations


class TikTokError(Exception):
    """Base of every failure the client raises; nothing else escapes it."""

    retryable: bool = False
    default_reason: str = "TikTok answered something unexpected; try again later"

    def __init__(self, reason: str | None = None, *, retryable: bool | None = None) -> None:
        self.reason = " ".join((reason or self.default_reason).split())
        if retryable is not None:
            self.retryable = retryable
        super().__init__(self.reason)


class PrivateAccount(TikTokError):
    default_reason = "this account is private; only public stories can be saved"


class UserNotFound(TikTokError):
    default_reason = "no such TikTok user (the name may be misspelled or the account banned)"


class PostUnavailable(TikTokError):
    """Removed, expired or blocked (statusCode 10204), or a short link that leads nowhere."""

    default_reason = "the post is gone (removed, expired or blocked); nothing left to save"


class PrivatePost(TikTokError):
    default_reason = "this post is private; only public posts can be saved"


class RegionLocked(TikTokError):
    default_reason = "this post is not available in your region"


class LoginRequired(TikTokError):
    default_reason = "TikTok shows this only to logged-in users, so it is not public; skipped"


class AgeRestricted(LoginRequired):
    """An age-gated post (``isContentClassified`` and no usable URL): not public."""

    default_reason = "this post needs a logged-in adult account: not public"


class Captcha(TikTokError):
    retryable = True
    default_reason = "TikTok asked for a captcha; wait a while and try again"


class Throttled(TikTokError):
    retryable = True
    default_reason = "TikTok is rate-limiting us; wait a few minutes and try again"

    def __init__(
        self,
        reason: str | None = None,
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(reason, retryable=retryable)
        self.retry_after = retry_after


class ChallengeFailed(TikTokError):
    retryable = True
    default_reason = (
        "TikTok's 'please wait' check page did not let us through after solving it; "
        "try again in a few minutes"
    )


class NetworkError(TikTokError):
    retryable = True
    default_reason = "could not reach TikTok; check the connection and try again"


class MalformedResponse(TikTokError):
    retryable = True
    default_reason = (
        "TikTok answered in a shape this version does not understand; "
        "try again later or update tikget"
    )


class SlowServer(NetworkError):
    """A page or API request that did not end within ``settings.request_deadline``."""


class TooLarge(MalformedResponse):
    """A page or API answer over ``settings.max_page_bytes`` (not retried: it would be as
    large again)."""

    retryable = False


class BotWall(TikTokError):
    """TikTok refused the connection itself (HTTP 403 to a page or an ``/api/`` call, the
    2026 bot wall): not a malformed answer, and the same request later fails the same way.
    Not retryable; the watch list counts it as a failed poll but does not pause the
    account for it (the account is not the problem)."""

    default_reason = (
        "TikTok refused this client or network (HTTP 403); try another network, "
        "the impersonate setting, or later"
    )


class RefusedHost(TikTokError):
    default_reason = "refused to fetch a URL outside TikTok"


class MediaError(TikTokError):
    """A failure fetching a media file (video, image, sound)."""


class MediaForbidden(MediaError):
    default_reason = (
        "the media server refused the file (403); look the story up again for fresh links"
    )
    expired = False


class MediaExpired(MediaForbidden):
    default_reason = "the signed media link has expired; look the story up again for fresh links"
    expired = True


class MediaNotFound(MediaError):
    default_reason = "the media file is gone from TikTok's servers (404/410)"


class RangeNotSatisfiable(MediaError):
    default_reason = "asked to resume past the end of the file (416); restart the download"


__all__ = [
    "AgeRestricted",
    "BotWall",
    "Captcha",
    "ChallengeFailed",
    "LoginRequired",
    "MalformedResponse",
    "MediaError",
    "MediaExpired",
    "MediaForbidden",
    "MediaNotFound",
    "NetworkError",
    "PostUnavailable",
    "PrivateAccount",
    "PrivatePost",
    "RangeNotSatisfiable",
    "RefusedHost",
    "RegionLocked",
    "SlowServer",
    "Throttled",
    "TikTokError",
    "TooLarge",
    "UserNotFound",
]
