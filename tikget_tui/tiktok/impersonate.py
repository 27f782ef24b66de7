"""Pages and API calls over a browser's own connection: curl-cffi under httpx.

TikTok's bot wall (../shared/tiktok-web-protocol.md, section 6) looks at the connection
before it reads a header: Python's TLS ClientHello (no GREASE values, no certificate
compression, ALPN ``http/1.1`` only) says "a script" whatever the User-Agent says.
curl-cffi drives curl-impersonate, which sends the ClientHello and the HTTP/2 settings of
the browser named by :attr:`~tikget_tui.tiktok.browser.Browser.target`.

Only the transport changes, as with the media transport (:mod:`.transport`): httpx still
builds every request (headers from :mod:`.browser`, cookies from the session's jar, the
Referer), the client still follows redirects one checked hop at a time, reads bodies
within ``max_page_bytes`` and keeps its deadlines. curl here keeps no cookies (each
request carries httpx's ``Cookie`` header and nothing else; Set-Cookie goes back to
httpx's jar), decodes nothing (``Accept-Encoding`` is ours, the bounded decoding is
ours), follows no redirect, reads no proxy from the environment (httpx's proxy settings
are passed in: :class:`~tikget_tui.tiktok.client.HttpClient`) and trusts the
certificates httpx would (``SSL_CERT_FILE``/``SSL_CERT_DIR``, else certifi's bundle).
Every transfer also has curl's own hard bounds: its total time and its body size.

curl-cffi is imported when the first client is made (never before the app's first
frame). Where it cannot be imported, :func:`available` says why and the client falls
back to httpx's own transport, saying so once (``-v``, ``tikget locate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from tikget_tui.tiktok.browser import CHROME, Browser
from tikget_tui.tiktok.errors import TooLarge

log = logging.getLogger(__name__)

_DROPPED_REQUEST_HEADERS = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "keep-alive"})


@functools.cache
def available() -> str | None:
    """``None`` when curl-cffi can be used, else why not (one line)."""
    try:
        import curl_cffi  # noqa: F401
        from curl_cffi.requests import AsyncSession  # noqa: F401
    except Exception as exc:  # ImportError, or a broken native library (OSError)
        return f"curl-cffi cannot be imported ({type(exc).__name__}: {str(exc)[:120]})"
    return None


_warned: set[str] = set()


def connection_mode(impersonate: str) -> str:
    """What the ``impersonate`` setting gives here: ``"chrome"``, or ``"off"`` when set so
    or when curl-cffi cannot be imported (said once, in ``-v`` and the app's log)."""
    if impersonate == "off":
        return "off"
    why = available()
    if why is None:
        return impersonate
    if why not in _warned:
        _warned.add(why)
        log.warning("impersonate = %r, but %s: pages and API calls go over plain httpx, "
                    "which TikTok's bot wall may refuse (pip install curl-cffi)",
                    impersonate, why)
    return "off"


def describe(impersonate: str) -> str:
    """One line for ``tikget locate``: which connection pages and API calls use."""
    if impersonate == "off":
        return "off: plain httpx (Python's TLS, HTTP/1.1), as set"
    why = available()
    if why is not None:
        return f"{impersonate} asked for, but {why}: plain httpx instead"
    import curl_cffi

    target = CHROME.target if impersonate == CHROME.name else impersonate
    return (f"{impersonate}: {target}'s TLS and HTTP/2 through curl-cffi "
            f"{getattr(curl_cffi, '__version__', '?')}")


def trusted_certificates() -> str | bool:
    """The CA bundle to trust, as httpx and OpenSSL read it from the environment
    (``SSL_CERT_FILE``, else ``SSL_CERT_DIR``'s files are curl's CAPATH: see
    :meth:`CurlTransport._curl_options`); ``True``: curl-cffi's default (certifi)."""
    path = os.environ.get("SSL_CERT_FILE", "")
    if path and os.path.isfile(path):
        return path
    return True


_CURLE_FILESIZE_EXCEEDED = 63


@contextlib.contextmanager
def _size_errors() -> Iterator[None]:
    """curl stopping a body at ``max_body_bytes`` is the client's "too large", not a
    network failure (the client's own bounded decoding usually stops it first)."""
    from curl_cffi.curl import CurlError

    try:
        yield
    except CurlError as exc:
        if getattr(exc, "code", None) != _CURLE_FILESIZE_EXCEEDED:
            raise
        raise TooLarge("TikTok sent an answer larger than the limit (max_page_bytes); "
                       "refusing it") from exc


@contextlib.contextmanager
def _mapped_errors(url: str) -> Iterator[None]:
    """curl-cffi's exceptions as the httpx ones the client handles (a body over curl's
    size bound: the client's TooLarge)."""
    from curl_cffi.curl import CurlError
    from curl_cffi.requests import exceptions as cx

    try:
        with _size_errors():
            yield
    except (httpx.HTTPError, httpx.StreamError, TooLarge):
        raise
    except cx.ConnectTimeout as exc:
        raise httpx.ConnectTimeout(f"could not connect to {url[:60]} in time") from exc
    except cx.Timeout as exc:
        raise httpx.ReadTimeout(f"no data from {url[:60]} in time") from exc
    except cx.ProxyError as exc:
        raise httpx.ProxyError(f"the proxy refused or failed: {str(exc)[:160]}") from exc
    except cx.ConnectionError as exc:  # DNS, refused, TLS (certificate) failures
        raise httpx.ConnectError(str(exc)[:200] or type(exc).__name__) from exc
    except (cx.InvalidURL, cx.InvalidHeader, ValueError) as exc:
        raise httpx.LocalProtocolError(f"cannot send this request: {str(exc)[:160]}") from exc
    except (cx.RequestException, CurlError) as exc:  # the rest: the transfer failed
        raise httpx.ReadError(str(exc)[:200] or type(exc).__name__) from exc


class _Body(httpx.AsyncByteStream):
    """A curl-cffi streamed response's body, chunk by chunk as it arrives."""

    def __init__(self, response: Any, transport: CurlTransport, url: str) -> None:
        self._response = response
        self._transport = transport
        self._url = url
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._url):
            async for chunk in self._response.aiter_content():
                yield chunk
        self._done = True

    async def aclose(self) -> None:
        await self._transport.finish(self._response, read_to_end=self._done)


class CurlTransport(httpx.AsyncBaseTransport):
    """One curl-cffi session (made on first use, in the running loop) presenting
    ``browser``'s connection; ``proxy``: where httpx would send these requests."""

    def __init__(self, browser: Browser, *, proxy: str | None = None,
                 proxy_auth: tuple[str, str] | None = None, max_connections: int = 16,
                 max_body_bytes: int | None = None, total_timeout: float | None = None) -> None:
        self.browser = browser
        self._proxy = proxy
        self._proxy_auth = proxy_auth
        self._max_connections = max_connections
        self._max_body_bytes = max_body_bytes
        self._total_timeout = total_timeout
        self._session: Any | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _curl_options(self) -> dict[Any, Any]:
        from curl_cffi.const import CurlOpt

        options: dict[Any, Any] = {}
        if self._total_timeout:  # a hard bound on every transfer, headers to last byte
            options[CurlOpt.TIMEOUT_MS] = int(self._total_timeout * 1000)
        if self._max_body_bytes:  # bytes on the wire; decoding is bounded by the client,
            # which stops first when it keeps up (the margin)
            options[CurlOpt.MAXFILESIZE_LARGE] = int(self._max_body_bytes) + 256 * 1024
        cert_dir = os.environ.get("SSL_CERT_DIR", "")
        if cert_dir and os.path.isdir(cert_dir) and not os.environ.get("SSL_CERT_FILE"):
            options[CurlOpt.CAPATH] = cert_dir
        return options

    def _open(self) -> Any:
        from curl_cffi.requests import AsyncSession

        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop:
            return self._session
        self._session = AsyncSession(
            impersonate=self.browser.target,
            default_headers=False,  # ours, from browser.py, in the browser's order
            max_clients=self._max_connections,
            trust_env=False,  # proxies: httpx's decision, passed in as self._proxy
            proxy=self._proxy,
            proxy_auth=self._proxy_auth,
            allow_redirects=False,
            discard_cookies=True,  # httpx's jar is the only one
            curl_options=self._curl_options(),
        )
        self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        timeouts = request.extensions.get("timeout", {})
        connect = timeouts.get("connect") or 15.0
        read = timeouts.get("read") or 30.0
        headers = self.browser.ordered(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
            if k.decode("latin-1").lower() not in _DROPPED_REQUEST_HEADERS)
        with _mapped_errors(url):
            session = self._open()
            response = await session.request(
                request.method, url, headers=headers, data=request.content or None,
                stream=True, timeout=(connect, read), accept_encoding=None, quote=False,
                verify=trusted_certificates(),
                # a browser never asks a plain-http server to upgrade to h2c
                http_version="v1" if url[:5].lower() == "http:" else None)
        version = {1: b"HTTP/1.0", 3: b"HTTP/2", 30: b"HTTP/3"}.get(
            int(getattr(response, "http_version", 0) or 0), b"HTTP/1.1")
        return httpx.Response(
            response.status_code, headers=list(response.headers.multi_items()),
            stream=_Body(response, self, url), request=request,
            extensions={"http_version": version})

    async def finish(self, response: Any, *, read_to_end: bool) -> None:
        """Let go of a streamed response: a body nobody read to its end is stopped now
        (curl would otherwise go on receiving it until its own limits)."""
        task = getattr(response, "astream_task", None)
        if not read_to_end:
            quit_now = getattr(response, "quit_now", None)
            if quit_now is not None:
                quit_now.set()
            session, curl = self._session, getattr(response, "curl", None)
            if session is not None and curl is not None and task is not None \
                    and not task.done():
                with contextlib.suppress(Exception):
                    session.acurl.remove_handle(curl)
        if task is not None:
            await asyncio.wait([task])  # never raises: a cancelled transfer is fine here

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()


__all__ = ["CurlTransport", "available", "connection_mode", "describe", "trusted_certificates"]
