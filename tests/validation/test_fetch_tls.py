"""The validation room's network fetchers share one TLS context (built once, not per
validation) and still check the server as pyhanko-certvalidator's own fetchers do: a
certificate served over HTTPS by a host nobody trusts is not fetched."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pyhanko_certvalidator.errors import CertificateFetchError

from signing.dev.pki import DevPki
from tests.plugin import serving
from tests.signing.test_tsa_pool import _tls_files
from validation.context import fetcher_backend


class _CertHandler(BaseHTTPRequestHandler):
    server: _CertServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests += 1
        body = self.server.der
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-cert")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _CertServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, der: bytes) -> None:
        self.der = der
        self.requests = 0
        super().__init__(("127.0.0.1", 0), _CertHandler)


@pytest.fixture
def https_cert_server(pki: DevPki, tmp_path: Path) -> Iterator[tuple[_CertServer, str]]:
    cert_file, key_file = _tls_files(tmp_path)
    server = _CertServer(pki.issuing.asn1.dump())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield server, f"https://127.0.0.1:{server.server_address[1]}/issuing.cer"


async def test_an_untrusted_https_server_is_refused(
    https_cert_server: tuple[_CertServer, str],
) -> None:
    server, url = https_cert_server
    for _ in range(2):  # two backends, one shared context: each still checks
        async with fetcher_backend(5.0) as fetchers:
            with pytest.raises(CertificateFetchError):
                await fetchers.cert_fetcher.fetch_certs(  # type: ignore[attr-defined]
                    url, url_origin_type="certificate"
                )
    assert server.requests == 0  # refused in the handshake, before any request


async def test_backends_do_not_reload_the_trust_store(
    pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    # loading the roots cost some 25 ms a validation; the first backend may build the
    # context, none after it does
    async with fetcher_backend(5.0) as warm:
        warm.cert_fetcher.get_session()  # type: ignore[attr-defined]
    loads = 0
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        nonlocal loads
        loads += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    for _ in range(3):
        async with fetcher_backend(5.0) as fetchers:
            session = fetchers.crl_fetcher.get_session()  # type: ignore[attr-defined]
            assert not session.closed
    assert loads == 0
