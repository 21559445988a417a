"""The caller's agency's audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from exchange import audit
from exchange.accounts import Role
from exchange.api.deps import Caller, Svc

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class EntryView(BaseModel):
    seq: int
    """The entry's number among the agency's own entries."""
    at: str
    actor: str
    action: str
    document: str | None
    origin: str
    details: str
    hash: str


@router.get("", response_model=list[EntryView])
async def list_entries(
    caller: Caller,
    svc: Svc,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[EntryView]:
    caller.require(Role.ADMIN, Role.ARCHIVIST)
    async with svc.transaction(read_only=True) as session:
        rows = await audit.entries_of(session, caller.organ_id, after=after, limit=limit)
    return [
        EntryView(
            seq=r.agency_seq or 0,
            at=r.at.isoformat(),
            actor=r.actor,
            action=r.action,
            document=r.document,
            origin=r.origin,
            details=r.details,
            hash=r.hash,
        )
        for r in rows
    ]
