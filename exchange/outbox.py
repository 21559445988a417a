"""The outbox: messages an agency of this node sends, written in the transaction of the
change that makes them, claimed and marked by the delivery worker (:mod:`exchange.delivery`).

Claims are leases: a worker sets its token and a time until which the row is its own. On
PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so several workers never
wait on (or take) each other's rows; on both databases the claim itself is a conditional
``UPDATE`` (only rows nobody holds), so two workers never hold one row at once. A worker
killed mid-delivery leaves a lease that expires: the row is sent again, and the receiver
recognises the same bytes.
"""

from __future__ import annotations

import asyncio
import functools
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BindParameter, Select, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from exchange.db.delivery_models import OutboxMessage
from exchange.db.incoming_models import IncomingDocument
from exchange.db.models import Agency
from exchange.errors import NotFound
from exchange.settings import Settings

_wakers: set[asyncio.Event] = set()


def wake() -> None:
    """Tell this process's workers that something was enqueued (they also poll)."""
    for event in list(_wakers):
        event.set()


def waker() -> asyncio.Event:
    event = asyncio.Event()
    _wakers.add(event)
    return event


def forget_waker(event: asyncio.Event) -> None:
    _wakers.discard(event)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    """How hard the worker tries (defaults for a real network; tests use shorter ones)."""

    max_attempts: int = 12
    first_delay: float = 2.0
    """Seconds before the second attempt; doubled each time, up to ``max_delay``."""
    max_delay: float = 900.0
    lease: float = 180.0
    """Seconds a claim lasts: longer than one delivery can take (``timeout`` + verification)."""
    timeout: float = 60.0
    batch: int = 8
    poll: float = 2.0
    per_peer: int = 2
    """Requests a worker has open at once to one node (or local deliveries at once): a batch
    for one peer is sent a few at a time, so that each request waits for its own handling,
    not for the whole batch's, and a slow peer is not answered with more load."""


async def route_of(session: AsyncSession, organ_id: str) -> str | None:
    """How a message reaches ``organ_id``; None when the directory gives no way."""
    agency = await session.scalar(select(Agency).where(Agency.organ_id == organ_id))
    if agency is None:
        raise NotFound(
            f"{organ_id} is not in the agency directory.",
            f"{organ_id} không có trong danh bạ cơ quan.",
        )
    if agency.hosted:
        return "local"
    if agency.node_url:
        return "http"
    if agency.mail_address:
        return "mail"
    return None


async def enqueue(
    session: AsyncSession,
    *,
    agency_id: int,
    to_organ_id: str,
    kind: str,
    payload_sha256: str,
    payload_size: int,
    document_id: int | None = None,
    incoming_public_id: str | None = None,
    status_code: str | None = None,
    now: datetime | None = None,
) -> None:
    """Add one message to the outbox in ``session``'s transaction; the same bytes for the
    same recipient are there once (enqueuing them again changes nothing)."""
    there = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.agency_id == agency_id,
            OutboxMessage.to_organ_id == to_organ_id,
            OutboxMessage.payload_sha256 == payload_sha256,
        )
    )
    if there is not None:
        return
    incoming_id = None
    if incoming_public_id is not None:
        incoming_id = await session.scalar(
            select(IncomingDocument.id).where(
                IncomingDocument.agency_id == agency_id,
                IncomingDocument.public_id == incoming_public_id,
            )
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    route = await route_of(session, to_organ_id)
    try:
        async with session.begin_nested():
            session.add(
                OutboxMessage(
                    agency_id=agency_id,
                    to_organ_id=to_organ_id,
                    kind=kind,
                    route=route or "http",
                    payload_sha256=payload_sha256,
                    payload_size=payload_size,
                    document_id=document_id,
                    incoming_id=incoming_id,
                    status_code=status_code,
                    # kept, never lost: once the directory says how, it can be sent again
                    state="pending" if route else "failed",
                    last_error=None if route else _NO_ROUTE.format(organ_id=to_organ_id),
                    attempts=0,
                    next_attempt_at=moment,
                    created_at=moment,
                )
            )
            await session.flush()
    except IntegrityError:  # enqueued meanwhile by another request
        return


_NO_ROUTE = "the directory gives no way to reach {organ_id} (no node URL, no e-mail address)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A claimed message, detached from its session."""

    id: int
    token: str
    sender: str
    """The sending agency's OrganId."""
    recipient: str
    route: str
    kind: str
    payload_sha256: str
    attempts: int
    node_url: str | None


@functools.cache
def _due() -> Select[int]:
    """The messages a worker may claim at the bound ``moment``, first due first. Built once
    (a worker asks at every poll; building the statement cost more than running it)."""
    moment: BindParameter[datetime] = bindparam("moment")  # typed by the columns it meets
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment)
    # a status about a document (a recall) waits until the document itself has reached that
    # recipient: arriving first, it would be refused as about an unknown document
    document = aliased(OutboxMessage)
    undelivered = (
        select(document.id)
        .where(
            document.kind == "edoc",
            document.state == "pending",
            document.document_id == OutboxMessage.document_id,
            document.agency_id == OutboxMessage.agency_id,
            document.to_organ_id == OutboxMessage.to_organ_id,
        )
        .exists()
    )
    return (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == "pending",
            OutboxMessage.route.in_(("local", "http")),
            OutboxMessage.next_attempt_at <= moment,
            free,
            or_(OutboxMessage.kind == "edoc", OutboxMessage.document_id.is_(None), ~undelivered),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    )


@functools.cache
def _anything_due() -> Select[int]:
    return _due().limit(1)


async def anything_due(session: AsyncSession, *, now: datetime | None = None) -> bool:
    """Whether :func:`claim` would find a message now, asked with a read only.

    A worker asks this in a read-only transaction before it claims: an idle poll then takes
    no write lock (on SQLite every claim is a write transaction that queues on the database
    lock behind an issue sealing its document, and holds back the writers behind it). The
    answer may be stale by the time the worker claims (another worker took the rows): the
    claim decides, as before."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return await session.scalar(_anything_due(), {"moment": moment}) is not None


async def claim(
    session: AsyncSession, *, policy: DeliveryPolicy, now: datetime | None = None
) -> list[Claimed]:
    """Claim up to ``policy.batch`` due messages for this worker."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment)
    due = _due().limit(policy.batch)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due, {"moment": moment}))
    if not ids:
        return []
    token = secrets.token_hex(16)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == "pending", free)
        .values(claim_token=token, claimed_until=moment + timedelta(seconds=policy.lease))
        .execution_options(synchronize_session=False)
    )
    sender = Agency.__table__.alias("sender")
    recipient = Agency.__table__.alias("recipient")
    rows = await session.execute(
        select(
            OutboxMessage.id,
            sender.c.organ_id,
            OutboxMessage.to_organ_id,
            OutboxMessage.route,
            OutboxMessage.kind,
            OutboxMessage.payload_sha256,
            OutboxMessage.attempts,
            recipient.c.node_url,
        )
        .join(sender, sender.c.id == OutboxMessage.agency_id)
        .outerjoin(recipient, recipient.c.organ_id == OutboxMessage.to_organ_id)
        .where(OutboxMessage.claim_token == token)
        .order_by(OutboxMessage.id)
    )
    return [
        Claimed(
            id=r[0],
            token=token,
            sender=r[1],
            recipient=r[2],
            route=r[3],
            kind=r[4],
            payload_sha256=r[5],
            attempts=r[6],
            node_url=r[7],
        )
        for r in rows
    ]


async def delivered(session: AsyncSession, item: Claimed, *, now: datetime | None = None) -> None:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id, OutboxMessage.claim_token == item.token)
        .values(
            state="delivered",
            attempts=item.attempts + 1,
            delivered_at=moment,
            claim_token=None,
            claimed_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


async def failed(
    session: AsyncSession,
    item: Claimed,
    error: str,
    *,
    retry: bool,
    policy: DeliveryPolicy,
    now: datetime | None = None,
) -> str:
    """Record a failed attempt: tried again later (``retry``, while attempts remain) or
    failed for good. Returns the new state."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    attempts = item.attempts + 1
    again = retry and attempts < policy.max_attempts
    delay = min(policy.first_delay * 2 ** (attempts - 1), policy.max_delay)
    delay *= 1 + random.random() / 4  # noqa: S311 (spreading retries, not a secret)
    state = "pending" if again else "failed"
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id, OutboxMessage.claim_token == item.token)
        .values(
            state=state,
            attempts=attempts,
            next_attempt_at=moment + timedelta(seconds=delay),
            claim_token=None,
            claimed_until=None,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    return state


async def release(session: AsyncSession, item: Claimed) -> None:
    """Give a claimed message back untried (its lease too short to send it safely now): due
    again at once, for this worker or another."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id, OutboxMessage.claim_token == item.token)
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def policy_of(settings: Settings) -> DeliveryPolicy:
    """The delivery policy the node's settings give."""
    return DeliveryPolicy(
        max_attempts=settings.delivery_max_attempts,
        first_delay=settings.delivery_first_delay_seconds,
        poll=settings.delivery_poll_seconds,
        lease=settings.delivery_lease_seconds,
    )
