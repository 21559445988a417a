"""The development timestamp authority for the archive (development mode only): a test PKI
kept in the data directory, and its TSA/OCSP/CRL server started for the length of one
command.

The PKI is made once and kept (``archive/dev-pki``), so that archive timestamps made on
different days chain to the same root, which the archive then trusts. Its certificates name
the server's port for their revocation data: the same port each time (the demo's PKI too:
both start their server with :func:`serve_where_named`).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from signing import ServiceUnavailable
from signing.dev import DevPki, DevServices, serve_dev_services

PKI_DIR = Path("archive") / "dev-pki"


@dataclass(frozen=True, slots=True)
class DevTsa:
    url: str
    root_pem: Path
    """The development root: what trusts the development TSA's timestamps."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def development_tsa(data_dir: Path) -> Iterator[DevTsa]:
    """Start the development TSA (making its PKI on first use) until the block ends."""
    directory = data_dir / PKI_DIR
    if (directory / "pki.json").is_file():
        pki = DevPki.load(directory)
    else:
        pki = DevPki.generate(f"http://127.0.0.1:{_free_port()}", signers=())
        pki.save(directory)
    (directory / "root.pem").write_bytes(pki.root.cert_pem())
    with serve_where_named(pki) as services:
        yield DevTsa(url=services.tsa_url, root_pem=directory / "root.pem")


@contextlib.contextmanager
def serve_where_named(pki: DevPki, default_port: int = 0) -> Iterator[DevServices]:
    """Start the development TSA/OCSP/CRL server for ``pki`` until the block ends, on the port
    its certificates name for their revocation data (``default_port`` if they name none): no
    other port will do, so a port in use is refused, naming it. The archive's development TSA
    and the demo both start their services here."""
    port = urlsplit(pki.base_url).port or default_port
    with contextlib.ExitStack() as stack:
        try:
            services = stack.enter_context(serve_dev_services(pki, port=port))
        except OSError as exc:
            raise ServiceUnavailable(
                f"the development TSA and OCSP/CRL server cannot listen on 127.0.0.1:{port}, "
                f"where the development PKI's certificates say it is ({exc.strerror}): stop "
                "what uses the port, or use another data directory",
                f"máy chủ dấu thời gian và OCSP/CRL thử nghiệm không mở được cổng "
                f"127.0.0.1:{port} mà chứng thư của hệ thống chứng thư số thử nghiệm ghi: hãy "
                "dừng chương trình đang dùng cổng đó, hoặc dùng thư mục dữ liệu khác",
            ) from exc
        yield services
