"""The development timestamp authority for the archive (development mode only): a test PKI
kept in the data directory, and its TSA/OCSP/CRL server started for the length of one
command.

The PKI is made once and kept (``archive/dev-pki``), so that archive timestamps made on
different days chain to the same root, which the archive then trusts. Its certificates name
the server's port for their revocation data: the same port each time.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from exchange.errors import ConfigurationError
from signing.dev import DevPki, serve_dev_services

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
    port = urlsplit(pki.base_url).port
    try:
        cm = serve_dev_services(pki, port=port or 0)
        services = cm.__enter__()
    except OSError as exc:
        raise ConfigurationError(
            f"the development TSA cannot listen on 127.0.0.1:{port}, where its certificates "
            f"say it is ({exc.strerror}): stop what uses the port",
            f"máy chủ dấu thời gian thử nghiệm không mở được cổng 127.0.0.1:{port} mà chứng "
            "thư của nó ghi: hãy dừng chương trình đang dùng cổng đó",
        ) from exc
    try:
        yield DevTsa(url=services.tsa_url, root_pem=directory / "root.pem")
    finally:
        cm.__exit__(None, None, None)
