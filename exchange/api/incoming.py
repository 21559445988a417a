"""Incoming documents of the caller's agency: receive a package, list, show one, its report,
and answer the sender as the work on it goes (04, 05, 06)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from exchange import incoming, progress
from exchange.accounts import Role
from exchange.api.deps import Caller, Svc
from exchange.edxml import Limits
from exchange.incoming import IncomingView, Receiving

router = APIRouter(prefix="/api/v1/incoming", tags=["incoming"])
RECEIVERS = (Role.CLERK,)
READERS = (Role.CLERK, Role.SIGNER, Role.ARCHIVIST)

_PACKAGE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The edXML package (QCVN 102:2016), as the request body.",
        "content": {
            "application/xml": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post("", response_model=IncomingView, openapi_extra=_PACKAGE_BODY)
async def receive(request: Request, caller: Caller, svc: Svc) -> IncomingView:
    """Receive a package for the caller's agency: verified, then registered with an arrival
    number or rejected with a reason. The same package sent again gets the same answer
    (a rejected one is judged again, and answered anew if the answer changed)."""
    caller.require(*RECEIVERS)
    limits = Limits(
        max_package_bytes=min(svc.settings.max_upload_bytes, Limits().max_package_bytes)
    )
    policy = incoming.trust_policy(svc.settings.data_dir, caller.organ_id)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            if chunk:
                yield chunk

    async with incoming.agency_key(svc.settings.agencies, caller.organ_id) as key:
        receiving = Receiving(policy=policy, status_key=key, limits=limits)
        return await incoming.receive(svc, caller, body(), receiving)


@router.get("", response_model=list[IncomingView])
async def list_incoming(caller: Caller, svc: Svc) -> list[IncomingView]:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await incoming.list_incoming(session, caller)


@router.get("/{incoming_id}", response_model=IncomingView)
async def get_incoming(incoming_id: str, caller: Caller, svc: Svc) -> IncomingView:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await incoming.get_incoming(session, caller, incoming_id)


@router.get("/{incoming_id}/report")
async def report(incoming_id: str, caller: Caller, svc: Svc) -> StreamingResponse:
    """The validation report (JSON) of the package signature and of every file it carried."""
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        content = await incoming.open_report(session, svc.blobs, caller, incoming_id)
    return StreamingResponse(content, media_type="application/json")


class StatusReport(BaseModel):
    """A later answer to the sender: 04 (assigned), 05 (in progress) or 06 (done)."""

    model_config = ConfigDict(extra="forbid")

    status_code: str
    description: str = ""
    """What to tell the sender; empty: the status's name."""


@router.post("/{incoming_id}/status", response_model=IncomingView)
async def report_status(
    incoming_id: str, body: StatusReport, caller: Caller, svc: Svc
) -> IncomingView:
    """Tell the sender how the work on a registered incoming document goes: 04 (assigned),
    05 (in progress), 06 (done), in that order (a step may be skipped, none repeated). The
    status message is signed with the agency's key and sent back to the sender."""
    caller.require(*progress.REPORTERS)
    return await progress.report(svc, caller, incoming_id, body.status_code, body.description)
