"""The append-only audit log (Decree 30 App. VI: processing history and access logs).

Each entry says who did what, when (aware UTC), to which document, in which agency and from
where (an IP address, or ``cli``), and carries the SHA-256 of the previous entry: its own
hash covers its fields and that link. Entries are numbered 1, 2, 3, … without gaps, so
:func:`verify` finds an edited entry (its hash no longer matches), a deleted one (a gap, or a
broken link) and a re-ordered one. Deleting the newest entries leaves a shorter valid chain:
write down the head hash :func:`verify` reports to catch that too.

Appending is serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by
the database lock every transaction takes (see :mod:`exchange.db.engine`). Record an entry
in the same transaction as the change it describes, as late as possible in it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.db.models import AuditEntry

GENESIS = "0" * 64
AUDIT_LOCK = 0x6C74_6175  # "ltau": the advisory lock key of the audit chain


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who acts and from where, as the audit log names them."""

    name: str
    """``user:<username>``, ``token:<name>`` or ``cli:<system user>``."""
    origin: str
    """The client's IP address, or ``cli``."""


def entry_hash(
    *,
    seq: int,
    at: datetime,
    agency: str | None,
    actor: str,
    action: str,
    document: str | None,
    origin: str,
    details: str,
    prev_hash: str,
) -> str:
    """The SHA-256 over an entry's fields and the previous entry's hash (canonical JSON)."""
    fields = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "agency": agency,
        "actor": actor,
        "action": action,
        "document": document,
        "origin": origin,
        "details": details,
        "prev": prev_hash,
    }
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    agency: str | None,
    document: str | None = None,
    details: Mapping[str, str | int | bool | None] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one entry in ``session``'s transaction (committed with it)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    agency_seq = None
    if agency is not None:  # under the same lock as the chain, so numbers never collide
        agency_seq = 1 + (
            await session.scalar(
                select(func.coalesce(func.max(AuditEntry.agency_seq), 0)).where(
                    AuditEntry.agency == agency
                )
            )
            or 0
        )
    at = (now or datetime.now(UTC)).astimezone(UTC)
    body = json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True)
    entry = AuditEntry(
        seq=seq,
        at=at,
        agency=agency,
        agency_seq=agency_seq,
        actor=actor.name,
        action=action,
        document=document,
        origin=actor.origin,
        details=body,
        prev_hash=prev,
        hash=entry_hash(
            seq=seq,
            at=at,
            agency=agency,
            actor=actor.name,
            action=action,
            document=document,
            origin=actor.origin,
            details=body,
            prev_hash=prev,
        ),
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainProblem:
    seq: int
    """The entry where the chain breaks."""
    kind: str
    """``edited`` (the entry's hash does not match its content), ``missing`` (entries
    before it are gone) or ``relinked`` (it does not point at the entry before it)."""

    def message(self, lang: str = "en") -> str:
        texts = {
            "edited": (
                "entry {seq} was changed after it was written",
                "mục {seq} đã bị sửa sau khi ghi",
            ),
            "missing": ("entries before {seq} are missing", "thiếu các mục trước mục {seq}"),
            "relinked": (
                "entry {seq} does not follow the entry before it",
                "mục {seq} không nối tiếp mục trước nó",
            ),
        }
        en, vi = texts[self.kind]
        return (vi if lang == "vi" else en).format(seq=self.seq)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    entries: int
    head: str
    """The newest entry's hash (GENESIS when the log is empty)."""
    problems: tuple[ChainProblem, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.problems


async def verify(session: AsyncSession) -> ChainReport:
    """Walk the whole log in order and check every hash and link."""
    problems: list[ChainProblem] = []
    expected_seq, prev, count = 1, GENESIS, 0
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.seq))
    async for entry in result:
        count += 1
        if entry.seq != expected_seq:
            problems.append(ChainProblem(seq=entry.seq, kind="missing"))
        elif entry.prev_hash != prev:
            problems.append(ChainProblem(seq=entry.seq, kind="relinked"))
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            agency=entry.agency,
            actor=entry.actor,
            action=entry.action,
            document=entry.document,
            origin=entry.origin,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            problems.append(ChainProblem(seq=entry.seq, kind="edited"))
        expected_seq, prev = entry.seq + 1, entry.hash
    return ChainReport(entries=count, head=prev, problems=tuple(problems))


async def entries_of(
    session: AsyncSession, agency: str, *, after: int = 0, limit: int = 100
) -> list[AuditEntry]:
    """The agency's entries after its entry number ``after`` (``agency_seq``), oldest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.agency == agency, AuditEntry.agency_seq > after)
        .order_by(AuditEntry.agency_seq)
        .limit(limit)
    )
    return list(rows)
