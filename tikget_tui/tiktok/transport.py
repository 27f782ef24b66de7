"""The client's HTTP transport: pages and API answers through httpx's own (httpcore),
media bodies through aiohttp.

A media file is hundreds of MB read in one stream, and the bytes pass through Python
on the way: httpcore parses HTTP/1.1 with h11 in pure Python (the body is copied into and
out of its receive buffer; every read is a trip through httpcore, anyio and the event
loop), so on loopback it streamed at about half of what curl does with one core
(``bench/bench_download.py``). aiohttp (already a dependency: the demo service runs on it)
parses HTTP in C and hands over what arrived in one step: about 2.2x the throughput for
the same bytes, with the same bounded buffer (it stops reading from the socket while its
buffer is full).

Only the transport changes: the request is still built by httpx (headers, cookies from the
session's jar, the Referer and Range of ``TikTokClient.open_media``), redirects are still
followed one checked hop at a time by the client, and the answer is an ``httpx.Response``
whose stream is aiohttp's body. aiohttp keeps no cookies of its own (httpx's jar gets the
Set-Cookie headers), decodes nothing (``Accept-Encoding: identity`` is asked for; any
encoding is the client's business) and reads nothing from the environment (proxies are
httpx's mounts; no ``.netrc``). Its errors are mapped onto httpx's, so the client
reports them as it always did: a dropped body is a ``httpx.ReadError``, a stalled one a
``httpx.ReadTimeout``, an unparsable answer a ``httpx.RemoteProtocolError``.

A request goes to aiohttp when it carries the ``MEDIA`` extension; aiohttp itself is
imported on the first such request (not for the app's first frame).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

MEDIA = "tikget.media"
"""Request extension (``True``): stream this body through aiohttp."""

MEDIA_READ_BYTES = 256 * 1024
"""aiohttp's read buffer for a media body (its flow-control limit: it stops reading from
the socket past about twice this); its default, 64 KiB, takes 4x the steps."""


class RoutingTransport(httpx.AsyncBaseTransport):
    """``MEDIA`` requests to ``media``, the rest (pages, API) to ``pages``; ``spare``: a
    transport httpx made that is closed with these (it may be one of them)."""

    def __init__(self, pages: httpx.AsyncBaseTransport, media: httpx.AsyncBaseTransport,
                 spare: httpx.AsyncBaseTransport | None = None) -> None:
        self.pages = pages
        self.media = media
        self._all = list(dict.fromkeys(t for t in (pages, media, spare) if t is not None))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.extensions.get(MEDIA):
            return await self.media.handle_async_request(request)
        return await self.pages.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._all:
            with contextlib.suppress(Exception):
                await transport.aclose()


@contextlib.contextmanager
def _mapped_errors(url: str) -> Iterator[None]:
    """aiohttp's exceptions as the httpx ones the client handles."""
    import aiohttp

    try:
        yield
    except (httpx.HTTPError, httpx.StreamError):
        raise
    except TimeoutError as exc:  # aiohttp's sock_read/sock_connect (ServerTimeoutError is
        # one); our own deadlines are asyncio.timeout()s around the call: they cancel here
        raise httpx.ReadTimeout(f"no data from {url[:60]} in time") from exc
    except aiohttp.ClientPayloadError as exc:
        if isinstance(exc.__cause__, TimeoutError) or "timeout" in str(exc).lower():
            raise httpx.ReadTimeout(f"the body from {url[:60]} stalled") from exc
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(f"could not connect: {exc.os_error}") from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
    except aiohttp.ClientResponseError as exc:  # an answer that is not HTTP (bad headers...)
        raise httpx.RemoteProtocolError(f"the server's answer is not valid HTTP ({exc.status})"
                                        ) from exc
    except (aiohttp.InvalidURL, ValueError) as exc:  # e.g. a header value aiohttp refuses
        raise httpx.LocalProtocolError(f"cannot send this request: {exc}") from exc
    except aiohttp.ClientError as exc:  # ClientOSError and the rest: the connection failed
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


class _Body(httpx.AsyncByteStream):
    """An aiohttp response's body, chunk by chunk as it arrives."""

    def __init__(self, response: Any, url: str) -> None:
        self._response = response
        self._url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._url):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()  # the connection can serve the next request
        else:
            response.close()  # never read a body nobody wants to the end


class AiohttpMediaTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (made on first use, in the running loop) for media bodies."""

    def __init__(self, *, max_connections: int, read_timeout: float | None,
                 connect_timeout: float | None) -> None:
        self._max_connections = max_connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: Any | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> Any:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        connector = aiohttp.TCPConnector(limit=self._max_connections,
                                         ssl=httpx.create_ssl_context())
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            # no environment: a proxy from it is httpx's business (its proxy mounts take
            # such requests before this transport), and aiohttp would also send ~/.netrc
            # credentials, which httpx (0.28) does not
            trust_env=False, read_bufsize=MEDIA_READ_BYTES,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"))
        self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from yarl import URL  # aiohttp's own URL type (encoded=True: sent as httpx made it)

        url = str(request.url)
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None, sock_read=timeouts.get("read", self._read_timeout),
            sock_connect=timeouts.get("connect", self._connect_timeout))
        with _mapped_errors(url):
            session = self._open()
            headers = [(k.decode("latin-1"), v.decode("latin-1"))
                       for k, v in request.headers.raw]
            response = await session.request(
                request.method, URL(url, encoded=True), headers=headers,
                data=request.content or None, allow_redirects=False, timeout=timeout)
        return httpx.Response(
            response.status, headers=list(response.raw_headers),
            stream=_Body(response, url), request=request,
            extensions={"http_version": b"HTTP/1.1"})

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
