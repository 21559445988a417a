"""The archive's development TSA: its PKI is kept, so it comes back on the port its
certificates name; that port taken by something else is one clear refusal naming it (the
demo starts its services the same way)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from exchange.devtsa import development_tsa
from signing import DevelopmentModeWarning, ServiceUnavailable


def test_the_development_tsa_comes_back_where_its_certificates_say(tmp_path: Path) -> None:
    with pytest.warns(DevelopmentModeWarning), development_tsa(tmp_path) as first:
        assert first.root_pem.is_file()
        where = urlsplit(first.url)
        assert where.port is not None
        socket.create_connection(("127.0.0.1", where.port), timeout=10).close()  # it listens
    with pytest.warns(DevelopmentModeWarning), development_tsa(tmp_path) as again:
        assert again.url == first.url
        assert again.root_pem.read_bytes() == first.root_pem.read_bytes()


def test_a_taken_port_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.warns(DevelopmentModeWarning), development_tsa(tmp_path) as first:
        port = urlsplit(first.url).port
    assert port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with (
            pytest.warns(DevelopmentModeWarning),
            pytest.raises(ServiceUnavailable) as refused,
            development_tsa(tmp_path),
        ):
            pytest.fail("started on a taken port")
    assert f"127.0.0.1:{port}" in refused.value.en and f"127.0.0.1:{port}" in refused.value.vi
    assert refused.value.exit_code == 69
