"""RFC 3161 timestamp client over HTTP, with several TSA URLs tried in order."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from collections.abc import Sequence
from types import TracebackType

import httpx
from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper

from signing.errors import ServiceUnavailable


def _tls_context() -> ssl.SSLContext:
    """The TLS settings httpx would build for a new client (its ``verify=True``: certifi's
    roots, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once per such setting and shared.

    httpx builds a fresh context for every client, and loading the roots costs some 25 ms of
    CPU: with one client per signing operation, that was most of a timestamp's cost. A
    context is safe to share between clients, threads and event loops; the one setting
    httpcore changes on it at each connection (ALPN) is the same for every client here
    (HTTP/1.1)."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context_for(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # the arguments only key the cache: httpx reads the same variables itself
    return httpx.create_ssl_context()


class HttpTimestamper(TimeStamper):
    """pyHanko ``TimeStamper`` over httpx: the first TSA that answers a valid reply wins.

    pyHanko's own HTTP clients need ``requests`` or an aiohttp session; this one keeps the
    project on one HTTP library and gives one clear error when every TSA fails.

    One HTTP client (its connection pool) serves every request until :meth:`aclose`, so the
    timestamps of one signing operation (signature and document timestamps, several
    attachments) share their TCP/TLS connections. Use it as ``async with`` or call
    :meth:`aclose` at the end; a request after :meth:`aclose` opens a new client. A client
    belongs to the event loop that made it: used from another loop, the timestamper makes a
    new one (the old loop's connections cannot be reused there).
    """

    def __init__(self, urls: Sequence[str], *, timeout: float = 10.0) -> None:
        if not urls:
            raise ValueError("at least one TSA URL is needed")
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.urls = tuple(urls)
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> HttpTimestamper:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections (if any); the timestamper stays usable."""
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()

    def _pooled_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, verify=_tls_context()
            )
            self._loop = loop
        return self._client

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        failures: list[str] = []
        client = self._pooled_client()
        for url in self.urls:
            try:
                resp = await client.post(
                    url,
                    content=req.dump(),
                    headers={"Content-Type": "application/timestamp-query"},
                )
            except httpx.HTTPError as exc:
                failures.append(f"{url}: {type(exc).__name__}")
                continue
            if resp.status_code != 200:
                failures.append(f"{url}: HTTP {resp.status_code}")
                continue
            try:
                parsed = tsp.TimeStampResp.load(resp.content)
                status = parsed["status"]["status"].native
            except ValueError:
                failures.append(f"{url}: not a timestamp reply")
                continue
            if status not in ("granted", "granted_with_mods"):
                failures.append(f"{url}: refused ({status})")
                continue
            return parsed
        detail = "; ".join(failures)
        raise ServiceUnavailable(
            f"no timestamp authority answered ({detail})",
            f"không máy chủ cấp dấu thời gian nào trả lời ({detail})",
        )
