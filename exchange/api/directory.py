"""The agency directory, read-only over the API (the node's operator edits it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from exchange import directory
from exchange.api.deps import Caller, Svc

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


@router.get("/agencies")
async def list_agencies(caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    async with svc.transaction(read_only=True) as session:
        return [spec.to_record() for spec in await directory.entries(session)]


@router.get("/agencies/{organ_id}")
async def get_agency(organ_id: str, caller: Caller, svc: Svc) -> dict[str, Any]:
    async with svc.transaction(read_only=True) as session:
        return (await directory.entry(session, organ_id)).to_record()
