"""Two real lienthong nodes on 127.0.0.1 for the delivery tests: each its own data
directory, database (SQLite, or a PostgreSQL database of its own), agency key and directory,
started as ``lienthong serve`` processes (each with its delivery worker)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from exchange import accounts, directory, registers
from exchange.accounts import Role
from exchange.db import open_engine, upgrade
from exchange.service import open_services
from exchange.settings import Settings, load_settings
from signing.dev.assets import SampleDocument
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import OPERATOR, _pg_execute, _with_database, free_port
from tests.plugin import PROJECT_ROOT, SoftHsmToken

PASSWORD = "mật khẩu đủ dài 123"
DOC = SampleDocument()
SENDER = "000.00.01.H53"  # Sở Tài chính
RECEIVER = "000.00.00.H53"  # UBND tỉnh


@dataclass
class Node:
    organ_id: str
    name: str
    key: str
    """The agency key's label on the token."""
    home: Path
    port: int
    env: dict[str, str]
    database_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    extra_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return load_settings(self.home / "lienthong.toml")

    def start(self, *, worker: bool = True) -> None:
        env = {**self.env, "LIENTHONG_DELIVERY_WORKER": "true" if worker else "false"}
        with (self.home / "serve.log").open("ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "exchange.cli", "serve", "--port", str(self.port)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/api/v1/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"{self.name} did not start: {(self.home / 'serve.log').read_text()}"
                    ) from None
                time.sleep(0.1)

    def start_worker(self) -> subprocess.Popen[bytes]:
        with (self.home / "worker.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "exchange.cli", "worker"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.extra_processes.append(proc)
        return proc

    def stop(self) -> None:
        for proc in [self.proc, *self.extra_processes]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        self.proc = None
        self.extra_processes.clear()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def login(self, client: httpx.Client, username: str) -> dict[str, str]:
        """A session of ``username`` (one per user and node)."""
        if username not in self.sessions:
            response = client.post(
                "/api/v1/login", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.sessions[username] = {"Authorization": f"Bearer {response.json()['token']}"}
        return self.sessions[username]


def make_nodes(
    tmp_path: Path,
    *,
    token: SoftHsmToken,
    pki: DevPki,
    pki_files: Path,
    tsa_url: str,
    signature_png: bytes,
    seal_png: bytes,
    pg_admin_url: str | None = None,
) -> tuple[Node, Node]:
    """The sender (Sở Tài chính, agency key ``agency``) and the receiver (UBND tỉnh, key
    ``agency-ec``), each knowing the other by its node URL and certificate."""
    sender = Node(SENDER, "Sở Tài chính", "agency", tmp_path / "a", free_port(), {})
    receiver = Node(RECEIVER, "UBND tỉnh", "agency-ec", tmp_path / "b", free_port(), {})
    certificates = {
        SENDER: pki.signers["agency"].asn1.dump(),
        RECEIVER: pki.signers["agency-ec"].asn1.dump(),
    }
    for node in (sender, receiver):
        node.home.mkdir(parents=True)
        (node.home / "ky.png").write_bytes(signature_png)
        (node.home / "dau.png").write_bytes(seal_png)
        trust = node.home / "data" / "trust"
        trust.mkdir(parents=True)
        shutil.copyfile(pki_files / "root.pem", trust / "root.pem")
        lines = [
            f'data_dir = "{node.home / "data"}"',
            f'tsa_urls = ["{tsa_url}"]',
            "delivery_first_delay_seconds = 0.3",
            "delivery_poll_seconds = 0.3",
        ]
        if pg_admin_url is not None:
            name = f"lt_node_{secrets.token_hex(4)}"
            asyncio.run(_pg_execute(pg_admin_url, f"CREATE DATABASE {name}"))
            node.database_url = _with_database(pg_admin_url, name)
            lines.append(f'database_url = "{node.database_url}"')
        lines += [
            f'[agencies."{node.organ_id}".signers.giamdoc]',
            f'key = "{token.uri("personal")}"',
            'pin_env = "TOKEN_PIN"',
            f'signature_image = "{node.home / "ky.png"}"',
            f'[agencies."{node.organ_id}".seal]',
            f'key = "{token.uri(node.key)}"',
            'pin_env = "TOKEN_PIN"',
            f'chain = "{pki_files / "chain.pem"}"',
            f'seal_image = "{node.home / "dau.png"}"',
        ]
        (node.home / "lienthong.toml").write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
        env.update(LIENTHONG_CONFIG=str(node.home / "lienthong.toml"), TOKEN_PIN=token.pin)
        node.env = env

    for node, other in ((sender, receiver), (receiver, sender)):
        asyncio.run(_prepare(node, other, certificates))
    return sender, receiver


async def _prepare(node: Node, other: Node, certificates: dict[str, bytes]) -> None:
    settings = node.settings
    async with open_engine(settings.database) as engine:
        await upgrade(engine)
    async with open_services(settings) as svc, svc.transaction() as session:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=node.organ_id,
                    name=node.name,
                    hosted=True,
                    node_url=node.url,
                    certificates=(certificates[node.organ_id],),
                ),
                directory.AgencySpec(
                    organ_id=other.organ_id,
                    name=other.name,
                    node_url=other.url,
                    certificates=(certificates[other.organ_id],),
                ),
            ],
            actor=OPERATOR,
        )
        admin = await accounts.operator(session, node.organ_id, OPERATOR)
        for name, role in (("vanthu", Role.CLERK), ("giamdoc", Role.SIGNER)):
            await accounts.add_user(
                session, admin, username=name, password=PASSWORD, roles=frozenset({role})
            )
        await registers.create_register(
            session, admin, code="DI", name="Sổ văn bản đi", kind="outgoing"
        )
        await registers.create_register(
            session, admin, code="DEN", name="Sổ văn bản đến", kind="incoming"
        )


def issue_document(node: Node, client: httpx.Client, pdf: bytes, to: str, subject: str) -> str:
    """Draft, sign (server key) and issue one document from ``node`` to ``to``: its id."""
    clerk, signer = node.login(client, "vanthu"), node.login(client, "giamdoc")
    meta: dict[str, Any] = {
        "register": "DI",
        "type_name": "Công văn",
        "code_notation": "STC-VP",
        "subject": subject,
        "signer_position": DOC.position,
        "signer_full_name": DOC.signer_name,
        "recipients": [to],
    }
    created = client.post(
        "/api/v1/documents",
        headers=clerk,
        data={"metadata": json.dumps(meta)},
        files={"main": ("cong-van.pdf", pdf, "application/pdf")},
    )
    assert created.status_code == 201, created.text
    doc_id = str(created.json()["id"])
    signed = client.post(f"/api/v1/documents/{doc_id}/sign", headers=signer)
    assert signed.status_code == 200, signed.text
    issued = client.post(f"/api/v1/documents/{doc_id}/issue", headers=clerk)
    assert issued.status_code == 200, issued.text
    return doc_id


def wait_for(check: Callable[[], Any], *, timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def recipients(node: Node, client: httpx.Client, doc_id: str) -> list[dict[str, Any]]:
    clerk = node.login(client, "vanthu")
    response = client.get(f"/api/v1/documents/{doc_id}/recipients", headers=clerk)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def status_of(node: Node, client: httpx.Client, doc_id: str) -> str | None:
    views = recipients(node, client, doc_id)
    return views[0]["status_code"] if views else None


def incoming_list(node: Node, client: httpx.Client) -> list[dict[str, Any]]:
    clerk = node.login(client, "vanthu")
    response = client.get("/api/v1/incoming", headers=clerk)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result
