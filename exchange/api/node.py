"""The node-to-node endpoint: messages (packages, status messages) other nodes deliver to the
agencies hosted here. No user logs in: the request is signed by the sending agency's key and
checked against the directory (:mod:`exchange.nodeauth`), fresh and never seen before."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from exchange import inbox, nodeauth
from exchange.api.deps import Svc, origin
from exchange.errors import NodeRefused, PayloadTooLarge

router = APIRouter(tags=["node"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
    },
    "parameters": [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
        for name in (
            nodeauth.FROM,
            nodeauth.TO,
            nodeauth.DATE,
            nodeauth.NONCE,
            nodeauth.CERTIFICATE,
            nodeauth.ALGORITHM,
            nodeauth.SIGNATURE,
        )
    ],
}


async def _body(request: Request, limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The message is larger than the {limit} bytes allowed.",
                f"Thông điệp lớn hơn mức cho phép ({limit} byte).",
            )
        parts.append(chunk)
    return b"".join(parts)


@router.post(nodeauth.MESSAGES_PATH, openapi_extra=_BODY)
async def receive_message(request: Request, svc: Svc) -> dict[str, str | None]:
    """Take one edXML package or status message from another node, for an agency hosted here.
    Answered 200 with what became of it (a package: ``registered`` or ``rejected``, the
    statuses follow as messages of their own); a refused request is 403 with a ``reason``."""
    body = await _body(request, svc.settings.max_upload_bytes)
    sender = request.headers.get(nodeauth.FROM)
    recipient = request.headers.get(nodeauth.TO)
    try:
        async with svc.transaction() as session:
            certificates = await inbox.certificates_of(session, sender) if sender else None
            sender, recipient, nonce = nodeauth.verify_request(request.headers, body, certificates)
            await nodeauth.remember_nonce(session, sender, nonce)
        accepted = await inbox.accept(
            svc, sender=sender, recipient=recipient, body=body, origin=origin(request)
        )
    except NodeRefused as exc:
        await inbox.record_refusal(
            svc, sender=sender, recipient=recipient, error=exc, origin=origin(request)
        )
        raise
    return accepted.to_record()
