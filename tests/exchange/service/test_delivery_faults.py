"""Delivery when things go wrong, with real nodes (``lienthong serve`` / ``lienthong worker``
processes on 127.0.0.1): the sender killed while a delivery is in flight, a package the
receiver rejects, two workers sharing one outbox, two agencies on one node, a package larger
than the receiver takes. Nothing is lost, nothing is registered twice, and every outcome is
told to the sender."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from exchange import accounts, directory, incoming, nodeauth, registers
from exchange.accounts import Role
from exchange.db.delivery_models import OutboxMessage
from exchange.db.incoming_models import IncomingDocument
from exchange.db.models import Agency, AuditEntry
from exchange.edxml import build_signed, verify_package
from exchange.service import open_services
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import OPERATOR
from tests.exchange.service.nodes import (
    PASSWORD,
    RECEIVER,
    SENDER,
    Node,
    incoming_list,
    issue_document,
    recipients,
    status_of,
    wait_for,
)
from tests.exchange.service.test_incoming import broken_pdf, edoc
from tests.exchange.service.test_incoming import key as dev_key
from tests.plugin import Decree30Documents, SoftHsmToken

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]


class HoldingRelay(socketserver.ThreadingTCPServer):
    """A TCP relay to a node that, while ``holding``, passes the request on but keeps the
    answer to itself (a receiver that has done its work and is slow to say so)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.upstream = upstream
        self.holding = True
        self.answered = threading.Event()
        """Set when the upstream has answered a request that was held."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: HoldingRelay = self.server  # type: ignore[assignment]
        hold = server.holding
        with socket.create_connection(server.upstream) as upstream:
            selector = selectors.DefaultSelector()
            selector.register(self.request, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.request)
            while True:
                for key, _ in selector.select(timeout=60):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if hold and key.fileobj is upstream:
                        server.answered.set()  # and the answer goes nowhere
                        continue
                    key.data.sendall(data)


@pytest.fixture
def pair(node_pair: Any) -> Any:
    return node_pair


def configure(node: Node, *lines: str) -> None:
    """Top-level settings added to the node's ``lienthong.toml`` (before its tables)."""
    config = node.home / "lienthong.toml"
    config.write_text("\n".join(lines) + "\n" + config.read_text())


def run(node: Node, work: Any) -> Any:
    """``work(session)`` in one transaction on ``node``'s database (the test looking in)."""

    async def go() -> Any:
        async with open_services(node.settings) as svc, svc.transaction() as session:
            return await work(session)

    return asyncio.run(go())


def outbox_rows(node: Node, **where: Any) -> list[OutboxMessage]:
    async def work(session: Any) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        rows = list(await session.scalars(query))
        session.expunge_all()
        return rows

    result: list[OutboxMessage] = run(node, work)
    return result


def delivery_state(*nodes: Node) -> str:
    """Both sides' outboxes, incoming rows and log tails, for a delivery test that timed out."""
    lines = []
    for node in nodes:
        lines.append(f"== {node.name}")
        for r in outbox_rows(node):
            lines.append(
                f"outbox {r.id} {r.kind} {r.status_code} to={r.to_organ_id} state={r.state}"
                f" attempts={r.attempts} next={r.next_attempt_at} claimed={r.claimed_until}"
                f" error={r.last_error!r}"
            )
        for i in incoming_rows(node):
            lines.append(f"incoming {i.id} state={i.state} reason={i.reason_code}")
        for log in ("serve.log", "worker.log"):
            path = node.home / log
            if path.exists():
                lines.append(f"-- {log}")
                lines.extend(path.read_text(errors="replace").splitlines()[-40:])
    return "\n".join(lines)


def audit_of(node: Node, organ_id: str) -> list[tuple[str, str]]:
    """(action, details) of ``organ_id``'s audit entries on ``node``."""

    async def work(session: Any) -> list[tuple[str, str]]:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.details)
            .where(AuditEntry.agency == organ_id)
            .order_by(AuditEntry.seq)
        )
        return [(a, d) for a, d in rows]

    result: list[tuple[str, str]] = run(node, work)
    return result


def blob(node: Node, sha256: str) -> bytes:
    async def go() -> bytes:
        async with open_services(node.settings) as svc:
            return b"".join([chunk async for chunk in svc.blobs.read(sha256)])

    return asyncio.run(go())


def incoming_rows(node: Node) -> list[IncomingDocument]:
    async def work(session: Any) -> list[IncomingDocument]:
        rows = list(await session.scalars(select(IncomingDocument).order_by(IncomingDocument.id)))
        session.expunge_all()
        return rows

    result: list[IncomingDocument] = run(node, work)
    return result


def point_at(node: Node, organ_id: str, url: str) -> None:
    """``node``'s directory: ``organ_id`` is reached at ``url``."""

    async def work(session: Any) -> None:
        agency = await session.scalar(select(Agency).where(Agency.organ_id == organ_id))
        agency.node_url = url

    run(node, work)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_sender_killed_mid_delivery_delivers_once_after_a_restart(
    pair: Any, database: str, request: pytest.FixtureRequest, sample_pdf: bytes
) -> None:
    sender, receiver = pair(database, request)
    configure(sender, "delivery_lease_seconds = 6")
    relay = HoldingRelay(("127.0.0.1", receiver.port))
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    try:
        point_at(sender, RECEIVER, relay.url)
        receiver.start()
        sender.start()
        with sender.client() as a, receiver.client() as b:
            doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v gửi khi nơi gửi tắt")
            # the receiver has registered it and answered; the sender has not heard the answer
            assert relay.answered.wait(60), "the delivery never reached the receiver"
            assert sender.proc is not None
            os.kill(sender.proc.pid, signal.SIGKILL)
            sender.proc.wait(10)
            [held] = outbox_rows(sender, kind="edoc")
            assert held.state == "pending" and held.claim_token is not None  # its lease stands
            assert held.attempts == 0
            relay.holding = False
            sender.sessions.clear()
            sender.start()
            # the receiver's statuses (each retried on its own while the sender was down) may
            # come before or after the lease has expired: all of it is awaited
            [view] = wait_for(
                lambda: [
                    v
                    for v in recipients(sender, a, doc_id)
                    if v["delivery"] == "delivered" and len(v["timeline"]) == 2
                ],
                what="delivered again and both statuses at the sender",
            )
            assert view["attempts"] == 1
            assert [e["status_code"] for e in view["timeline"]] == ["01", "03"]
            [arrived] = incoming_list(receiver, b)  # the package sent again: registered once
            assert arrived["state"] == "registered" and arrived["arrival_number"] == 1
        actions = [action for action, _ in audit_of(receiver, RECEIVER)]
        assert actions.count("incoming.register") == 1 and "incoming.repeat" in actions
    finally:
        relay.shutdown()
        relay.server_close()


def test_a_package_the_receiver_rejects_is_answered_with_02(
    pair: Any, pki: DevPki, decree30: Decree30Documents
) -> None:
    """A package whose PDF signature is broken, in a package signed by the sender's key and
    sent with a properly signed request: rejected, and the signed 02 (like the 01) goes to the
    sender, whose node refuses it as about a document it never sent."""
    sender, receiver = pair("sqlite")
    sender.start()
    receiver.start()
    agency = dev_key(pki, "agency")
    forged = edoc(broken_pdf(decree30.final), sender=SENDER, to=RECEIVER)
    body = asyncio.run(build_signed(forged, agency))
    headers = asyncio.run(
        nodeauth.sign_request(agency, sender=SENDER, recipient=RECEIVER, body=body)
    )
    answer = httpx.post(
        receiver.url + nodeauth.MESSAGES_PATH,
        content=body,
        headers={**headers, "Content-Type": "application/xml"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "edoc", "state": "rejected", "status_code": None}
    [row] = incoming_rows(receiver)
    assert row.state == "rejected" and row.reason_code == "incoming.document_signature"

    def tried() -> list[OutboxMessage]:
        rows = outbox_rows(receiver, to_organ_id=SENDER)
        return rows if len(rows) == 2 and all(r.state == "failed" for r in rows) else []

    rows = wait_for(tried, what="both statuses tried and refused")
    assert sorted(r.status_code or "" for r in rows) == ["01", "02"]
    for r in rows:
        assert r.attempts == 1 and "HTTP 403 (not_a_recipient)" in (r.last_error or "")
    [rejection] = [r for r in rows if r.status_code == "02"]
    message = blob(receiver, rejection.payload_sha256)
    assert "chữ ký số".encode() in message  # the reason travels in the message
    verdict = asyncio.run(
        verify_package(
            message, incoming.trust_policy(receiver.home / "data", SENDER), name="status.edxml"
        )
    )
    assert verdict.signed_by_one_of(frozenset({pki.signers["agency-ec"].asn1.dump()}))
    refusals = [d for action, d in audit_of(sender, SENDER) if action == "node.refuse"]
    assert len(refusals) == 2 and all('"not_a_recipient"' in d for d in refusals)


def test_two_workers_share_one_outbox_on_postgresql(
    pair: Any, request: pytest.FixtureRequest, sample_pdf: bytes
) -> None:
    sender, receiver = pair("postgresql", request)
    receiver.start()
    sender.start(worker=False)
    with sender.client() as a, receiver.client() as b:
        documents = [
            issue_document(sender, a, sample_pdf, RECEIVER, f"V/v văn bản số {n}")
            for n in range(10)
        ]
        assert all(r.state == "pending" for r in outbox_rows(sender))  # nobody delivers yet
        workers = [sender.start_worker(), sender.start_worker()]

        def all_answered() -> bool:
            return all(status_of(sender, a, doc_id) == "03" for doc_id in documents)

        try:
            wait_for(all_answered, timeout=180, what="status 03 for every document")
        except AssertionError as exc:  # say where the messages stand, not only that they are late
            raise AssertionError(f"{exc}\n{delivery_state(sender, receiver)}") from None
        assert all(w.poll() is None for w in workers)
        rows = outbox_rows(sender)
        assert len(rows) == 10
        assert all(r.state == "delivered" and r.attempts == 1 for r in rows)
        arrived = incoming_list(receiver, b)
        assert len(arrived) == 10
        assert sorted(r["arrival_number"] for r in arrived) == list(range(1, 11))
    actions = [action for action, _ in audit_of(receiver, RECEIVER)]
    assert actions.count("incoming.register") == 10 and "incoming.repeat" not in actions


def test_two_agencies_on_one_node_deliver_locally(
    pair: Any, pki: DevPki, token: SoftHsmToken, pki_files: Path, sample_pdf: bytes
) -> None:
    node, other = pair("sqlite")
    config = node.home / "lienthong.toml"
    config.write_text(
        config.read_text()
        + f'[agencies."{RECEIVER}".seal]\n'
        + f'key = "{token.uri(other.key)}"\npin_env = "TOKEN_PIN"\n'
        + f'chain = "{pki_files / "chain.pem"}"\nseal_image = "{node.home / "dau.png"}"\n'
    )

    async def host_both(session: Any) -> None:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=RECEIVER,
                    name=other.name,
                    hosted=True,
                    node_url=node.url,
                    certificates=(pki.signers["agency-ec"].asn1.dump(),),
                )
            ],
            actor=OPERATOR,
        )
        admin = await accounts.operator(session, RECEIVER, OPERATOR)
        await accounts.add_user(
            session, admin, username="vanthu-ubnd", password=PASSWORD, roles=frozenset({Role.CLERK})
        )
        await registers.create_register(
            session, admin, code="DEN", name="Sổ văn bản đến", kind="incoming"
        )

    run(node, host_both)
    node.start()
    with node.client() as a:
        doc_id = issue_document(node, a, sample_pdf, RECEIVER, "V/v gửi trong cùng một nút")
        wait_for(lambda: status_of(node, a, doc_id) == "03", what="status 03 on the node")
        [view] = recipients(node, a, doc_id)
        assert view["route"] == "local" and view["delivery"] == "delivered"
        assert view["attempts"] == 1
        assert [e["status_code"] for e in view["timeline"]] == ["01", "03"]
        # the statuses travelled locally too, signed by the receiving agency
        statuses = outbox_rows(node, kind="status")
        assert len(statuses) == 2
        assert all(s.route == "local" and s.state == "delivered" for s in statuses)
        ubnd = node.login(a, "vanthu-ubnd")
        listed = a.get("/api/v1/incoming", headers=ubnd)
        assert listed.status_code == 200, listed.text
        [arrived] = listed.json()
        assert arrived["state"] == "registered" and arrived["arrival_number"] == 1
        assert arrived["sender"] == SENDER and arrived["legal_valid"] is True
    assert not other.home.joinpath("serve.log").exists()  # the other node never ran


def test_a_package_too_large_for_the_receiver_fails_for_good(pair: Any, sample_pdf: bytes) -> None:
    sender, receiver = pair("sqlite")
    configure(receiver, "max_upload_bytes = 20000")
    receiver.start()
    sender.start()
    with sender.client() as a:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v gói tin quá lớn")
        view = wait_for(
            lambda: [v for v in recipients(sender, a, doc_id) if v["delivery"] != "pending"],
            what="the delivery decided",
        )[0]
        assert view["delivery"] == "failed" and view["attempts"] == 1, view
        assert "HTTP 413" in view["last_error"] and "(20000 byte)" in view["last_error"]
        assert view["timeline"] == []
    with receiver.client() as b:
        assert incoming_list(receiver, b) == []
