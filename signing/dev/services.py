"""Development timestamp authority, OCSP responder and CRL server, over real HTTP.

Development only: one threaded HTTP server on 127.0.0.1 answering for a :class:`DevPki`:

- ``POST /tsa``: RFC 3161 timestamps (application/timestamp-query → timestamp-reply),
  signed by the PKI's TSA certificate (pyHanko's ``DummyTimeStamper`` does the ASN.1);
- ``POST /ocsp``: RFC 6960 responses for the issuing CA's certificates, signed by a
  delegated responder (cryptography's OCSP builder);
- ``GET /crl/root.crl``, ``GET /crl/issuing.crl``: fresh CRLs;
- ``GET /certs/root.cer``, ``GET /certs/issuing.cer``: CA certificates (AIA caIssuers).

The demo and the tests use it; production uses licensed TSAs and the CAs' own responders.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.dev.pki import REVOCATION_VALIDITY, DevPki
from signing.mode import development_part
from validation import DevelopmentModeWarning

MAX_REQUEST = 64 * 1024


class DevServicesWarning(DevelopmentModeWarning):
    """The development timestamp authority and OCSP/CRL server run: their answers prove
    nothing outside development."""


class DevServices:
    """The server; start it with :func:`serve_dev_services`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.pki: DevPki | None = None
        self.tsa_enabled = True
        self.requests: list[str] = []
        self._timestamper: DummyTimeStamper | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/tsa"

    def attach(self, pki: DevPki) -> None:
        self.pki = pki
        self._timestamper = DummyTimeStamper(
            tsa_cert=pki.tsa.asn1,
            tsa_key=pki.tsa.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
        )

    # -- answers ----------------------------------------------------------------------------

    def timestamp(self, body: bytes) -> bytes:
        if self._timestamper is None:
            raise LookupError("no PKI attached")
        req = tsp.TimeStampReq.load(body)
        resp: tsp.TimeStampResp = self._timestamper.request_tsa_response(req)
        return bytes(resp.dump())

    def ocsp(self, body: bytes) -> bytes:
        pki = self.pki
        if pki is None:
            raise LookupError("no PKI attached")
        req = ocsp.load_der_ocsp_request(body)
        now = datetime.now(UTC).replace(microsecond=0)
        cert = next(
            (i.cert for i in pki.signers.values() if i.cert.serial_number == req.serial_number),
            None,
        )
        if cert is None:
            for ident in (pki.tsa, pki.ocsp):
                if ident.cert.serial_number == req.serial_number:
                    cert = ident.cert
        if cert is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        revoked_at = pki.revoked.get(req.serial_number)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=pki.issuing.cert,
                algorithm=req.hash_algorithm,
                cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
                this_update=now - timedelta(minutes=1),
                next_update=now + REVOCATION_VALIDITY,
                revocation_time=revoked_at,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ocsp.cert)
            .certificates([pki.ocsp.cert])
        )
        for ext in req.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        return builder.sign(pki.ocsp.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def get(self, path: str) -> tuple[str, bytes] | None:
        pki = self.pki
        if pki is None:
            return None
        if path == "/crl/issuing.crl":
            return "application/pkix-crl", pki.crl("issuing")
        if path == "/crl/root.crl":
            return "application/pkix-crl", pki.crl("root")
        if path == "/certs/issuing.cer":
            return "application/pkix-cert", pki.issuing.cert.public_bytes(
                serialization.Encoding.DER
            )
        if path == "/certs/root.cer":
            return "application/pkix-cert", pki.root.cert.public_bytes(serialization.Encoding.DER)
        return None


def _handler(services: DevServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            services.requests.append(f"{self.command} {self.path}")

        def _reply(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/ocsp/"):
                # RFC 6960 A.1: GET with the base64 (then URL-encoded) request in the path
                try:
                    body = base64.b64decode(unquote(self.path[len("/ocsp/") :]))
                    self._reply(200, "application/ocsp-response", services.ocsp(body))
                except (ValueError, LookupError) as exc:
                    self._reply(400, "text/plain", f"bad request: {exc}\n".encode())
                return
            answer = services.get(self.path)
            if answer is None:
                self._reply(404, "text/plain", b"not found\n")
            else:
                self._reply(200, *answer)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_REQUEST:
                self._reply(400, "text/plain", b"bad length\n")
                return
            body = self.rfile.read(length)
            try:
                if self.path == "/tsa" and services.tsa_enabled:
                    self._reply(200, "application/timestamp-reply", services.timestamp(body))
                elif self.path == "/ocsp":
                    self._reply(200, "application/ocsp-response", services.ocsp(body))
                else:
                    self._reply(404, "text/plain", b"not found\n")
            except (ValueError, LookupError) as exc:
                self._reply(400, "text/plain", f"bad request: {exc}\n".encode())

    return Handler


@contextmanager
def serve_dev_services(
    pki: DevPki | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[DevServices]:
    """Run the development services until the block ends. With ``pki=None`` the server
    starts empty (its URL is known), so a PKI can be generated for it and attached."""
    development_part(
        DevServicesWarning,
        "starting the development timestamp authority and OCSP/CRL server: "
        "its timestamps and answers prove nothing outside development",
        "đang chạy máy chủ dấu thời gian và OCSP/CRL thử nghiệm: dấu thời gian và trả lời của "
        "nó không có giá trị ngoài môi trường thử nghiệm",
        stacklevel=4,
    )
    holder: list[DevServices] = []

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = Server((host, port), lambda *a: _handler(holder[0])(*a))
    services = DevServices(server)
    holder.append(services)
    if pki is not None:
        services.attach(pki)
    thread = threading.Thread(
        target=server.serve_forever, name="lienthong-dev-services", daemon=True
    )
    thread.start()
    try:
        yield services
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
