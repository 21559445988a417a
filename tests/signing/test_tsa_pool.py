"""The timestamper keeps one connection to the TSA for its lifetime (a keep-alive HTTP/1.1
front to the development TSA counts the connections it accepts) and closes it when closed; its
clients share one TLS context that still verifies the TSA as httpx would."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signing import HttpTimestamper, Level, PadesSigner, PadesSpec, ServiceUnavailable
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from signing.pades import sign_pdf_files
from tests.plugin import pyhanko_timestamps, pyhanko_verdicts, serving

WAIT = 10.0  # seconds: a bound on waiting for the server to see a close, not a delay


class KeepAliveTsa(ThreadingHTTPServer):
    """``POST /tsa`` over HTTP/1.1 keep-alive, answered by the development TSA; counts the
    connections accepted and those the client closed."""

    daemon_threads = True

    def __init__(self, services: DevServices) -> None:
        self.services = services
        self.accepted = 0
        self.closed = 0
        self.requests = 0
        self.changed = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def note(self, what: str) -> None:
        with self.changed:
            setattr(self, what, getattr(self, what) + 1)
            self.changed.notify_all()

    def wait_closed(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.closed >= count, timeout=WAIT)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the headers and the body go in two writes
    server: KeepAliveTsa

    def setup(self) -> None:
        super().setup()
        self.server.note("accepted")

    def finish(self) -> None:
        super().finish()
        self.server.note("closed")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = self.server.services.timestamp(body)
        self.server.note("requests")
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture
def tsa(pki: DevPki, dev_services: DevServices) -> Iterator[KeepAliveTsa]:
    with serving(KeepAliveTsa(dev_services)) as server:
        yield server


def _dead_url() -> str:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


async def test_several_timestamps_share_one_connection(tsa: KeepAliveTsa) -> None:
    async with HttpTimestamper([tsa.url]) as stamper:
        for i in range(5):
            token = await stamper.async_timestamp(hashlib.sha256(b"%d" % i).digest(), "sha256")
            assert token["content_type"].native == "signed_data"
        assert (tsa.requests, tsa.accepted, tsa.closed) == (5, 1, 0)
    assert tsa.wait_closed(1), "closing the timestamper did not close its connection"
    # still usable after closing: a new connection
    await stamper.async_timestamp(hashlib.sha256(b"again").digest(), "sha256")
    await stamper.aclose()
    assert tsa.wait_closed(2)
    assert (tsa.requests, tsa.accepted) == (6, 2)


async def test_failover_keeps_its_error_and_pools_the_live_tsa(tsa: KeepAliveTsa) -> None:
    dead = _dead_url()
    async with HttpTimestamper([dead, tsa.url], timeout=5) as stamper:
        for i in range(3):
            await stamper.async_timestamp(hashlib.sha256(b"%d" % i).digest(), "sha256")
    assert (tsa.requests, tsa.accepted) == (3, 1)
    async with HttpTimestamper([dead]) as lone:
        with pytest.raises(ServiceUnavailable) as info:
            await lone.async_timestamp(hashlib.sha256(b"x").digest(), "sha256")
    assert info.value.en == f"no timestamp authority answered ({dead}: ConnectError)"
    assert info.value.vi == (f"không máy chủ cấp dấu thời gian nào trả lời ({dead}: ConnectError)")


async def test_b_lta_signature_uses_one_connection_and_closes_it(
    tsa: KeepAliveTsa, pki: DevPki, sample_pdf: bytes
) -> None:
    spec = PadesSpec(level=Level.B_LTA, tsa_urls=(tsa.url,))
    out, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    # the signature timestamp, the document timestamp (pyHanko asks for three in all)
    assert tsa.requests >= 2
    assert tsa.accepted == 1
    assert tsa.wait_closed(1)
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.intact and verdict.valid and verdict.trusted and verdict.timestamped
    assert await pyhanko_timestamps(out, pki) == [True]


async def test_a_batch_shares_the_connection(
    tsa: KeepAliveTsa, pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    spec = PadesSpec(level=Level.B_T, tsa_urls=(tsa.url,))
    signer = PadesSigner(pki.in_memory_key("personal"), spec)
    jobs = []
    for i in range(3):
        source = tmp_path / f"in-{i}.pdf"
        source.write_bytes(sample_pdf)
        jobs.append((source, tmp_path / f"out-{i}.pdf"))
    results = await sign_pdf_files(signer, jobs)
    assert all(r.level is Level.B_T for r in results if not isinstance(r, Exception))
    assert len(results) == 3
    assert (tsa.requests, tsa.accepted) == (3, 1)
    assert tsa.wait_closed(1)
    # without ``async with``, each signature opens and closes its own
    await signer.sign_bytes(sample_pdf)
    await signer.sign_bytes(sample_pdf)
    assert (tsa.requests, tsa.accepted) == (5, 3)
    assert tsa.wait_closed(3)


def _tls_files(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (self-issued, its own trust anchor) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tsa.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "tsa.pem", directory / "tsa.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def https_tsa(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> Iterator[tuple[KeepAliveTsa, Path]]:
    """The keep-alive TSA behind TLS, with a certificate no default trust store knows."""
    cert_file, key_file = _tls_files(tmp_path)
    server = KeepAliveTsa(dev_services)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield server, cert_file


async def test_shared_tls_settings_still_verify_the_tsa_and_follow_the_environment(
    https_tsa: tuple[KeepAliveTsa, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the TLS settings are built once and shared by every timestamper's client: they must
    # still refuse a TSA certificate nobody trusts, and still take httpx's SSL_CERT_FILE
    server, cert_file = https_tsa
    url = server.url.replace("http://", "https://")
    digest = hashlib.sha256(b"tls").digest()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with HttpTimestamper([url], timeout=5) as stamper:
        with pytest.raises(ServiceUnavailable) as info:
            await stamper.async_timestamp(digest, "sha256")
    assert info.value.en == f"no timestamp authority answered ({url}: ConnectError)"
    assert server.requests == 0
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    for _ in range(2):  # two timestampers, two clients, one shared context
        async with HttpTimestamper([url], timeout=5) as stamper:
            token = await stamper.async_timestamp(digest, "sha256")
        assert token["content_type"].native == "signed_data"
    assert server.requests == 2
    monkeypatch.delenv("SSL_CERT_FILE")
    async with HttpTimestamper([url], timeout=5) as stamper:
        with pytest.raises(ServiceUnavailable):
            await stamper.async_timestamp(digest, "sha256")
    assert server.requests == 2


async def test_timestamper_clients_do_not_reload_the_trust_store(
    tsa: KeepAliveTsa, monkeypatch: pytest.MonkeyPatch
) -> None:
    # loading the roots is what made a client cost ~25 ms; count the loads a signing
    # process's many short-lived timestampers cause
    HttpTimestamper([tsa.url])  # the context may be built here or already exist
    async with HttpTimestamper([tsa.url]) as warm:
        await warm.async_timestamp(hashlib.sha256(b"warm").digest(), "sha256")
    loads = 0
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        nonlocal loads
        loads += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    for i in range(5):
        async with HttpTimestamper([tsa.url]) as stamper:
            await stamper.async_timestamp(hashlib.sha256(b"%d" % i).digest(), "sha256")
    assert loads == 0
    assert tsa.requests == 6
