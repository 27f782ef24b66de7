"""Which origin the client treats as TikTok, and which hosts it accepts media from.

By default that is the real TikTok: ``https://www.tiktok.com`` for pages and
the JSON API, and the TikTok CDN host families for media. With a service
origin set (``--service URL`` / ``TIKGET_SERVICE`` / ``service`` in the config)
that one origin plays every role: pages, API, short links and media. The
built-in demo and the tests point this at the local stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

TIKTOK_WEB = "https://www.tiktok.com"

# Registrable domains whose hosts (and sub-hosts) belong to TikTok.
TIKTOK_DOMAINS: tuple[str, ...] = (
    "tiktok.com",
    "tiktokv.com",
    "tiktokcdn.com",
    "tiktokcdn-us.com",
    "tiktokcdn-eu.com",
    "tiktokv.us",
    "tiktokv.eu",
    "ttwstatic.com",
    "byteoversea.com",
    "ibytedtos.com",
    "muscdn.com",
)

SHORT_HOSTS = {"vm.tiktok.com": "vm", "vt.tiktok.com": "vt"}


class ServiceError(ValueError):
    """A service origin that cannot be used."""


def host_matches_domain(host: str, domain: str) -> bool:
    host = host.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def is_tiktok_host(host: str) -> bool:
    return any(host_matches_domain(host, d) for d in TIKTOK_DOMAINS)


def _split_fetchable(url: str) -> SplitResult | None:
    """``urlsplit`` for URLs we might fetch; ``None`` for malformed or disguised ones.

    Refused: user info before the host (``https://www.tiktok.com@evil/``,
    ``https://evil\\@www.tiktok.com/``: parsers disagree on these), backslashes,
    whitespace/control characters, non-ASCII hosts, and bad ports.
    """
    if not url.isascii() or "\\" in url or any(ch.isspace() or not ch.isprintable() for ch in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if "@" in parts.netloc:
        return None
    return parts


@dataclass(frozen=True)
class Service:
    """The web origin and the media hosts the client may talk to."""

    origin: str = TIKTOK_WEB
    custom: bool = False
    extra_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def tiktok(cls) -> Service:
        return cls()

    @classmethod
    def from_origin(cls, url: str | None) -> Service:
        """Build from a user setting; ``None``/empty means the real TikTok."""
        if not url or not url.strip():
            return cls()
        raw = url.strip()
        example = "use e.g. http://127.0.0.1:8700"
        if any(ch.isspace() or not ch.isprintable() for ch in raw) or "\\" in raw:
            raise ServiceError(
                f"service origin {raw!r} has spaces or control characters; {example}"
            )
        try:
            parts = urlsplit(raw)
            hostname = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise ServiceError(f"service origin {raw!r} is not a valid URL; {example}") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise ServiceError(f"service origin {raw!r} is not an http(s) URL; {example}")
        if "@" in parts.netloc:
            raise ServiceError(f"service origin {raw!r} must not carry a user name; {example}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ServiceError(
                f"service origin {raw!r} must be an origin only (scheme://host:port), no path"
            )
        origin = f"{parts.scheme}://{parts.netloc.lower().rstrip(':')}"
        if origin.rstrip("/") == TIKTOK_WEB:
            return cls()
        return cls(origin=origin, custom=True)

    @property
    def netloc(self) -> str:
        return urlsplit(self.origin).netloc

    @property
    def host(self) -> str:
        return urlsplit(self.origin).hostname or ""

    def url(self, path: str) -> str:
        """An absolute URL on the web origin for ``path`` (which starts with '/')."""
        if not path.startswith("/"):
            path = "/" + path
        return self.origin + path

    def short_link_url(self, host_kind: str, code: str) -> str:
        """Where a short link lives: vm/vt hosts on TikTok (``/vm/CODE/``, ``/vt/CODE/`` on a
        custom service, which plays those hosts there), ``/t/CODE/`` on the web origin."""
        if host_kind in ("vm", "vt"):
            if self.custom:
                return self.url(f"/{host_kind}/{code}/")
            return f"https://{host_kind}.tiktok.com/{code}/"
        return self.url(f"/t/{code}/")

    def is_web_url(self, url: str) -> bool:
        parts = _split_fetchable(url)
        if parts is None:
            return False
        if self.custom:
            return parts.scheme in ("http", "https") and parts.netloc.lower() == self.netloc
        return parts.scheme == "https" and (parts.hostname or "").lower() in (
            "www.tiktok.com",
            "tiktok.com",
            "m.tiktok.com",
        )

    def accepts_url(self, url: str) -> bool:
        """May the client fetch this URL (pages, API, redirects, media)?"""
        parts = _split_fetchable(url)
        if parts is None:
            return False
        host = (parts.hostname or "").lower()
        if not host:
            return False
        if self.custom:
            return parts.scheme in ("http", "https") and (
                parts.netloc.lower() == self.netloc or host in self.extra_hosts
            )
        # the real service: https only, so no redirect can downgrade to plain http
        return parts.scheme == "https" and (is_tiktok_host(host) or host in self.extra_hosts)

    def accepts_link_host(self, host: str, port: int | None = None) -> bool:
        """May a pasted link use this host? TikTok hosts always; the service origin too."""
        host = host.lower().rstrip(".")
        if is_tiktok_host(host):
            return True
        if self.custom:
            netloc = host if port is None else f"{host}:{port}"
            return netloc == self.netloc or (port is None and host == self.host)
        return False
