"""A real ``lienthong serve`` killed with SIGKILL while it seals a numbered document: after a
restart the document is still only signed and the register has no hole (its number is given
to the next issue)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange import accounts, directory, registers
from exchange.accounts import Role
from exchange.db import open_engine, upgrade
from exchange.service import open_services
from exchange.settings import load_settings
from signing.dev.assets import SampleDocument
from signing.dev.services import DevServices
from tests.exchange.service.conftest import OPERATOR, REMOTE, free_port
from tests.plugin import PROJECT_ROOT, SoftHsmToken

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
ORGAN = "000.00.01.H53"
PASSWORD = "mật khẩu đủ dài 123"
DOC = SampleDocument()


class GatedProxy(socketserver.ThreadingTCPServer):
    """A TCP relay to the timestamp authority that, once closed, accepts connections and
    never answers them (a timestamp authority hanging in the middle of an issue)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.upstream = upstream
        self.open = True
        self.held = threading.Event()
        self.release = threading.Event()


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: GatedProxy = self.server  # type: ignore[assignment]
        if not server.open:
            server.held.set()
            server.release.wait(60)
            return
        with socket.create_connection(server.upstream) as upstream:
            selector = selectors.DefaultSelector()
            selector.register(self.request, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.request)
            while True:
                for key, _ in selector.select(timeout=10):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)


@pytest.fixture
def proxy(dev_services: DevServices) -> Iterator[GatedProxy]:
    url = httpx.URL(dev_services.tsa_url)
    server = GatedProxy((url.host, url.port or 80))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def node(
    tmp_path: Path,
    token: SoftHsmToken,
    signature_png: bytes,
    seal_png: bytes,
    pki_files: Path,
    dev_services: DevServices,
    proxy: GatedProxy,
) -> dict[str, str]:
    (tmp_path / "ky.png").write_bytes(signature_png)
    (tmp_path / "dau.png").write_bytes(seal_png)
    tsa = httpx.URL(dev_services.tsa_url).copy_with(port=proxy.server_address[1])
    config = tmp_path / "lienthong.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'tsa_urls = ["{tsa}"]\n'
        f'[agencies."{ORGAN}".signers.giamdoc]\n'
        f'key = "{token.uri("personal")}"\npin_env = "TOKEN_PIN"\n'
        f'signature_image = "{tmp_path / "ky.png"}"\n'
        f'[agencies."{ORGAN}".seal]\n'
        f'key = "{token.uri("agency")}"\npin_env = "TOKEN_PIN"\n'
        f'chain = "{pki_files / "chain.pem"}"\nseal_image = "{tmp_path / "dau.png"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_CONFIG=str(config), TOKEN_PIN=token.pin)
    settings = load_settings(config)

    async def prepare() -> None:
        async with open_engine(settings.database) as engine:
            await upgrade(engine)
        async with open_services(settings) as svc, svc.transaction() as session:
            await directory.save(
                session,
                [
                    directory.AgencySpec.parse(
                        {"organ_id": ORGAN, "name": "Sở", "hosted": True}, "a"
                    ),
                    directory.AgencySpec.parse(
                        {"organ_id": REMOTE, "name": "VPCP", "node_url": "https://x.invalid"}, "b"
                    ),
                ],
                actor=OPERATOR,
            )
            admin = await accounts.operator(session, ORGAN, OPERATOR)
            for name, role in (("vanthu", Role.CLERK), ("giamdoc", Role.SIGNER)):
                await accounts.add_user(
                    session, admin, username=name, password=PASSWORD, roles=frozenset({role})
                )
            await registers.create_register(
                session, admin, code="DI", name="Sổ đi", kind="outgoing"
            )

    asyncio.run(prepare())
    return env


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/api/v1/openapi.json", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the server did not start") from None
            time.sleep(0.1)


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_killed_while_sealing(node: dict[str, str], proxy: GatedProxy, sample_pdf: bytes) -> None:
    proc, url = start(node)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            clerk, signer = login(client, "vanthu"), login(client, "giamdoc")
            meta: dict[str, Any] = {
                "register": "DI",
                "type_name": "Công văn",
                "code_notation": "SNV-VP",
                "subject": DOC.subject,
                "signer_position": DOC.position,
                "signer_full_name": DOC.signer_name,
                "recipients": [REMOTE],
            }
            created = client.post(
                "/api/v1/documents",
                headers=clerk,
                data={"metadata": json.dumps(meta)},
                files={"main": ("cv.pdf", sample_pdf, "application/pdf")},
            )
            doc_id = created.json()["id"]
            assert (
                client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer).status_code == 200
            )
        proxy.open = False  # the next timestamp request (the seal's) hangs
        issuing = threading.Thread(
            target=_quiet_post, args=(f"{url}/api/v1/documents/{doc_id}/issue", clerk), daemon=True
        )
        issuing.start()
        assert proxy.held.wait(30), "the issue never reached the seal"
        os.kill(proc.pid, signal.SIGKILL)  # numbered, filled, sealing: now
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    proxy.open = True
    proc, url = start(node)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            clerk = login(client, "vanthu")
            doc = client.get(f"/api/v1/documents/{doc_id}", headers=clerk).json()
            assert doc["state"] == "signed" and "code_number" not in doc["metadata"]
            assert client.get("/api/v1/registers/DI/numbers", headers=clerk).json() == []
            assert client.get("/api/v1/registers/DI", headers=clerk).json()["next_number"] == 1
            issued = client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
            assert issued.status_code == 200, issued.text
            assert issued.json()["metadata"]["code_number"] == 1  # no hole
    finally:
        proc.terminate()
        proc.wait(10)


def _quiet_post(url: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is killed under this request
        httpx.post(url, headers=headers, timeout=60)
