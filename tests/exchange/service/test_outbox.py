"""The outbox and its claims: a message is enqueued once, claimed by one worker at a time
(on PostgreSQL with SKIP LOCKED), a lease that outlives its worker expires, failures back off
and end; signed node requests are checked for date, key, algorithm and body."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from exchange import accounts, directory, nodeauth, outbox
from exchange.db import OutboxMessage
from exchange.db.models import Agency
from exchange.delivery import Worker
from exchange.errors import NodeRefused
from exchange.outbox import DeliveryPolicy
from exchange.service import Services, open_services
from exchange.settings import AgencyConfig, SealKey, Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, OPERATOR, REMOTE
from tests.exchange.service.test_incoming import key
from tests.plugin import SoftHsmToken, serving

pytestmark = pytest.mark.db
POLICY = DeliveryPolicy(batch=50, lease=60, first_delay=1, max_attempts=3)


async def _agency_id(svc: Services) -> int:
    async with svc.transaction() as session:
        return (await accounts.operator(session, AGENCY_A, OPERATOR)).agency_id


async def _fill(svc: Services, count: int, to: str = AGENCY_B) -> int:
    agency_id = await _agency_id(svc)
    async with svc.transaction() as session:
        for i in range(count):
            blob = await svc.blobs.put_bytes(f"message {i}".encode())
            for _ in range(2):  # the same message twice: one row
                await outbox.enqueue(
                    session,
                    agency_id=agency_id,
                    to_organ_id=to,
                    kind="status",
                    payload_sha256=blob.sha256,
                    payload_size=blob.size,
                )
    return agency_id


async def test_enqueued_once_and_routed(services: Services) -> None:
    await _fill(services, 3)
    async with services.transaction() as session:
        await directory.save(
            session,
            [directory.AgencySpec(organ_id="000.00.77.H77", name="Chưa có địa chỉ")],
            actor=OPERATOR,
        )
    await _fill(services, 1, to="000.00.77.H77")
    async with services.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.route, r.state) for r in rows] == [("local", "pending")] * 3 + [("http", "failed")]
    assert rows[-1].last_error is not None and "no way to reach" in rows[-1].last_error


async def test_concurrent_claimers_never_share_a_message(services: Services) -> None:
    await _fill(services, 40)
    small = DeliveryPolicy(batch=7, lease=60)

    async def claimer() -> list[int]:
        got: list[int] = []
        while True:
            async with services.transaction() as session:
                items = await outbox.claim(session, policy=small)
            if not items:
                return got
            got.extend(i.id for i in items)

    results = await asyncio.gather(*(claimer() for _ in range(4)))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 40


async def test_an_expired_lease_is_claimed_again_and_failures_back_off(
    services: Services,
) -> None:
    await _fill(services, 1)
    now = datetime.now(UTC)
    async with services.transaction() as session:
        [first] = await outbox.claim(session, policy=POLICY, now=now)
    async with services.transaction() as session:
        assert await outbox.claim(session, policy=POLICY, now=now + timedelta(seconds=30)) == []
    later = now + timedelta(seconds=61)  # the first worker died: its lease ran out
    async with services.transaction() as session:
        [again] = await outbox.claim(session, policy=POLICY, now=later)
    assert again.id == first.id and again.token != first.token
    async with services.transaction() as session:  # the dead worker's late answer is ignored
        await outbox.delivered(session, first)
        row = await session.get(OutboxMessage, first.id)
        assert row is not None and row.state == "pending"
    states = []
    item = again
    for attempt in range(3):
        async with services.transaction() as session:
            states.append(
                await outbox.failed(session, item, "HTTP 503", retry=True, policy=POLICY, now=later)
            )
            row = await session.get(OutboxMessage, item.id)
            assert row is not None
            delay = (row.next_attempt_at - later).total_seconds()
            assert 2**attempt <= delay <= 2**attempt * 1.25 + 0.01
            due = row.next_attempt_at
        if states[-1] == "failed":
            break
        async with services.transaction() as session:
            [item] = await outbox.claim(session, policy=POLICY, now=due)
    assert states == ["pending", "pending", "failed"]


async def test_signed_requests_are_checked(pki: DevPki) -> None:
    ours = key(pki, "agency")
    body = b"<edXMLEnvelope/>"
    certificate = ours.certificate.dump()
    now = datetime.now(UTC)
    headers = await nodeauth.sign_request(ours, sender=REMOTE, recipient=AGENCY_A, body=body)
    assert nodeauth.verify_request(headers, body, {certificate}) == (
        REMOTE,
        AGENCY_A,
        headers[nodeauth.NONCE],
    )

    def reason(h: dict[str, str], b: bytes = body, certs: set[bytes] | None = None) -> str:
        with pytest.raises(NodeRefused) as raised:
            nodeauth.verify_request(h, b, {certificate} if certs is None else certs, now=now)
        return raised.value.details["reason"]

    assert reason(headers, b"<other/>") == "bad_signature"
    assert reason({**headers, nodeauth.TO: AGENCY_B}) == "bad_signature"
    assert reason({**headers, nodeauth.ALGORITHM: "rsa-pss-sha256"}) == "bad_signature"
    assert reason(headers, certs={key(pki, "agency-ec").certificate.dump()}) == "wrong_agency"
    old = await nodeauth.sign_request(
        ours, sender=REMOTE, recipient=AGENCY_A, body=body, now=now - timedelta(minutes=6)
    )
    assert reason(old) == "stale"
    assert reason({k: v for k, v in headers.items() if k != nodeauth.SIGNATURE}) == "unsigned"
    with pytest.raises(NodeRefused) as raised:
        nodeauth.verify_request(headers, body, None)
    assert raised.value.details["reason"] == "sender_unknown"
    assert hashlib.sha256(certificate).hexdigest() == headers[nodeauth.CERTIFICATE]


async def test_a_nonce_is_accepted_once(services: Services) -> None:
    async with services.transaction() as session:
        await nodeauth.remember_nonce(session, REMOTE, "n1")
    with pytest.raises(NodeRefused) as raised:
        async with services.transaction() as session:
            await nodeauth.remember_nonce(session, REMOTE, "n1")
    assert raised.value.details["reason"] == "replayed"
    async with services.transaction() as session:  # another sender's same nonce is another
        await nodeauth.remember_nonce(session, AGENCY_B, "n1")


async def test_a_request_signed_with_an_expired_certificate_is_refused(pki: DevPki) -> None:
    ours = key(pki, "agency")
    body = b"<edXMLEnvelope/>"
    later = ours.certificate["tbs_certificate"]["validity"]["not_after"].native + timedelta(days=1)
    headers = await nodeauth.sign_request(
        ours, sender=REMOTE, recipient=AGENCY_A, body=body, now=later
    )
    with pytest.raises(NodeRefused) as raised:
        nodeauth.verify_request(headers, body, {ours.certificate.dump()}, now=later)
    assert raised.value.details["reason"] == "certificate_expired"


async def test_a_header_given_twice_is_refused(pki: DevPki) -> None:
    from starlette.datastructures import Headers

    ours = key(pki, "agency")
    body = b"<edXMLEnvelope/>"
    signed = await nodeauth.sign_request(ours, sender=REMOTE, recipient=AGENCY_A, body=body)
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()]
    raw.append((nodeauth.FROM.lower().encode(), AGENCY_B.encode()))
    with pytest.raises(NodeRefused) as raised:
        nodeauth.verify_request(Headers(raw=raw), body, {ours.certificate.dump()})
    assert raised.value.details["reason"] == "repeated_header"


async def test_a_status_about_a_document_waits_for_the_document(services: Services) -> None:
    """A recall (13) is not sent to a recipient before the document itself reached it."""
    from exchange.db import Document, Register, StoredFile

    agency_id = await _agency_id(services)
    now = datetime.now(UTC)
    async with services.transaction() as session:
        register = Register(
            agency_id=agency_id, code="T", name="t", kind="outgoing", year=2026,
            next_number=1, created_at=now,
        )  # fmt: skip
        stored = StoredFile(
            agency_id=agency_id, sha256="0" * 64, size=1, media_type="application/pdf",
            filename="a.pdf", created_at=now, created_by="cli:test",
        )  # fmt: skip
        session.add_all([register, stored])
        await session.flush()
        document = Document(
            agency_id=agency_id, register_id=register.id, state="issued", metadata_json="{}",
            main_file_id=stored.id, current_sha256="0" * 64, created_at=now,
            created_by="cli:test", updated_at=now,
        )  # fmt: skip
        session.add(document)
        await session.flush()
        for kind, payload in (("edoc", "1" * 64), ("status", "2" * 64)):
            await outbox.enqueue(
                session,
                agency_id=agency_id,
                to_organ_id=AGENCY_B,
                kind=kind,
                payload_sha256=payload,
                payload_size=1,
                document_id=document.id,
                now=now,
            )
    async with services.transaction() as session:
        first = await outbox.claim(session, policy=POLICY)
    assert [i.kind for i in first] == ["edoc"]
    async with services.transaction() as session:
        assert await outbox.claim(session, policy=POLICY) == []  # the 13 still waits
        await outbox.delivered(session, first[0])
    async with services.transaction() as session:
        assert [i.kind for i in await outbox.claim(session, policy=POLICY)] == ["status"]


async def test_due_agrees_with_claim(services: Services) -> None:
    """The worker's read-only look (``anything_due``) says yes exactly when a claim finds a
    message: nothing, a due one, one leased, one whose lease ran out, one backing off."""
    now = datetime.now(UTC)
    async with services.transaction(read_only=True) as session:
        assert not await outbox.anything_due(session, now=now)
    await _fill(services, 1)
    async with services.transaction(read_only=True) as session:
        assert await outbox.anything_due(session, now=now + timedelta(seconds=1))
    async with services.transaction() as session:
        [item] = await outbox.claim(session, policy=POLICY, now=now + timedelta(seconds=1))
    for seconds, due in ((30, False), (62, True)):  # leased for 60 s, then free again
        moment = now + timedelta(seconds=seconds)
        async with services.transaction(read_only=True) as session:
            assert await outbox.anything_due(session, now=moment) is due
        async with services.transaction() as session:
            claimed = await outbox.claim(session, policy=POLICY, now=moment)
        assert bool(claimed) is due
    [item] = claimed
    async with services.transaction() as session:
        await outbox.failed(session, item, "HTTP 503", retry=True, policy=POLICY, now=now)
    async with services.transaction(read_only=True) as session:  # backing off for ~1 s
        assert not await outbox.anything_due(session, now=now)
        assert await outbox.anything_due(session, now=now + timedelta(seconds=2))


async def test_an_idle_poll_does_not_wait_for_a_writer(services: Services) -> None:
    """While another transaction holds the database for writing (an issue sealing, for
    seconds), a worker with nothing to do answers at once instead of queuing for the lock."""
    held, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with services.transaction() as session:
            await session.execute(select(OutboxMessage.id).limit(1))  # the lock is taken
            held.set()
            await release.wait()

    task = asyncio.create_task(writer())
    try:
        await asyncio.wait_for(held.wait(), 10)
        async with Worker(services, POLICY) as worker:
            assert await asyncio.wait_for(worker.run_once(), 5) == 0
    finally:
        release.set()
        await task


async def test_a_woken_worker_delivers_without_waiting_for_its_poll(services: Services) -> None:
    """Enqueued in this process, a message is taken at once although the poll is long."""
    stop = asyncio.Event()
    async with Worker(services, DeliveryPolicy(poll=60, max_attempts=1)) as worker:
        running = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(0.3)  # idle, waiting on its poll
            await _fill(services, 1)
            outbox.wake()
            state: str | None = "pending"
            for _ in range(100):
                async with services.transaction(read_only=True) as session:
                    state = await session.scalar(select(OutboxMessage.state))
                if state != "pending":
                    break
                await asyncio.sleep(0.05)
            # not an edXML package: the receiving agency (on this node) refuses it for good
            assert state == "failed"
        finally:
            stop.set()
            await running


class _SlowPeer(ThreadingHTTPServer):
    """A stand-in for another node: answers every message after ``delay`` seconds and
    counts how many requests it holds at once."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.open = self.most = self.seen = 0
        super().__init__(("127.0.0.1", 0), _SlowHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SlowHandler(BaseHTTPRequestHandler):
    server: _SlowPeer

    def do_POST(self) -> None:
        peer = self.server
        with peer.lock:
            peer.open += 1
            peer.seen += 1
            peer.most = max(peer.most, peer.open)
        try:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(peer.delay)
            body = b'{"kind": "status", "state": "recorded", "status_code": "01"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with peer.lock:
                peer.open -= 1

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _slow_peer(delay: float) -> Iterator[_SlowPeer]:
    server = _SlowPeer(delay)
    with serving(server):
        yield server


@contextlib.asynccontextmanager
async def _sending_node(
    database_url: str, tmp_path: Path, token: SoftHsmToken, seal_png: bytes, peer: _SlowPeer
) -> AsyncIterator[Services]:
    """Services whose agency A signs node requests (its seal key on the token) and whose
    directory reaches REMOTE at ``peer``."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "pin").write_text(token.pin + "\n")
    (keys / "dau.png").write_bytes(seal_png)
    seal = SealKey(key=token.uri("agency"), pin_file=keys / "pin", seal_image=keys / "dau.png")
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        delivery_worker=False,
        agencies={AGENCY_A: AgencyConfig(seal=seal)},
    )
    async with open_services(settings) as svc:
        async with svc.transaction() as session:
            agency = await session.scalar(select(Agency).where(Agency.organ_id == REMOTE))
            assert agency is not None
            agency.node_url = peer.url
        yield svc


async def test_a_batch_for_one_peer_goes_a_few_requests_at_a_time(
    database_url: str, tmp_path: Path, token: SoftHsmToken, seal_png: bytes
) -> None:
    """Eight messages for one node, two requests open at once: each waits for its own
    handling, not the whole batch's (a slow peer is not given more load)."""
    with _slow_peer(0.3) as peer:
        async with _sending_node(database_url, tmp_path, token, seal_png, peer) as svc:
            await _fill(svc, 8, to=REMOTE)
            policy = DeliveryPolicy(batch=50, lease=60, per_peer=2)
            async with Worker(svc, policy) as worker:
                assert await worker.run_once() == 8
            async with svc.transaction(read_only=True) as session:
                rows = list(await session.scalars(select(OutboxMessage)))
    assert peer.seen == 8 and peer.most == 2
    assert [(r.state, r.attempts, r.route) for r in rows] == [("delivered", 1, "http")] * 8


async def test_a_message_whose_lease_runs_short_waiting_is_given_back_untried(
    database_url: str, tmp_path: Path, token: SoftHsmToken, seal_png: bytes
) -> None:
    """A message still waiting for its turn when too little of the lease is left for a whole
    request is not sent (another worker may take it once the lease has passed): it is given
    back, due at once, with no attempt counted."""
    with _slow_peer(1.0) as peer:
        async with _sending_node(database_url, tmp_path, token, seal_png, peer) as svc:
            await _fill(svc, 6, to=REMOTE)
            # a request may last 1 s (the timeout): one may start only in the first 3 s
            policy = DeliveryPolicy(batch=50, lease=4, timeout=1.5, per_peer=1)
            async with Worker(svc, policy) as worker:
                assert await worker.run_once() == 6
            async with svc.transaction(read_only=True) as session:
                rows = list(await session.scalars(select(OutboxMessage)))
                due = await outbox.anything_due(session)
    delivered = [r for r in rows if r.state == "delivered"]
    given_back = [r for r in rows if r.state == "pending"]
    assert len(delivered) + len(given_back) == 6
    assert delivered and given_back  # six requests of 1 s each cannot all start within 3 s
    assert peer.seen == len(delivered) and peer.most == 1
    assert all(r.attempts == 1 for r in delivered)
    for r in given_back:
        assert r.attempts == 0 and r.claim_token is None and r.claimed_until is None
        assert r.last_error is None
    assert due  # given back, they are due again at once
