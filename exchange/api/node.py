"""The node-to-node endpoint: messages (packages, status messages) other nodes deliver to the
agencies hosted here. No user logs in: the request is signed by the sending agency's key and
checked against the directory (:mod:`exchange.nodeauth`), fresh and never seen before."""

from __future__ import annotations

import logging
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


_log = logging.getLogger("lienthong.node")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The message is larger than the {limit} bytes allowed.",
        f"Thông điệp lớn hơn mức cho phép ({limit} byte).",
    )


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)  # refused before a byte of it is read
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


@router.post(nodeauth.MESSAGES_PATH, openapi_extra=_BODY)
async def receive_message(request: Request, svc: Svc) -> dict[str, str | None]:
    """Take one edXML package or status message from another node, for an agency hosted here.
    Answered 200 with what became of it (a package: ``registered`` or ``rejected``, the
    statuses follow as messages of their own); a refused request is 403 with a ``reason``.

    Everything that can be checked without the body is checked before it is read (headers,
    date, the sender's certificate in the directory). Until the signature holds, a refusal is
    only logged: an unauthenticated request writes nothing, not even an audit line."""
    try:
        signed = nodeauth.parse_headers(request.headers)
        async with svc.transaction(read_only=True) as session:
            certificates = await inbox.certificates_of(session, signed.sender)
        der = nodeauth.signing_certificate(signed, certificates)
        body = await _body(request, svc.settings.max_upload_bytes)
        nodeauth.check_signature(signed, der, body)
        async with svc.transaction() as session:
            await nodeauth.remember_nonce(session, signed.sender, signed.nonce)
    except NodeRefused as exc:
        _log.info("node request from %s refused: %s", origin(request), exc.details.get("reason"))
        raise
    try:
        accepted = await inbox.accept(
            svc,
            sender=signed.sender,
            recipient=signed.recipient,
            body=body,
            origin=origin(request),
        )
    except NodeRefused as exc:  # an authenticated agency's refused message: on record
        await inbox.record_refusal(
            svc,
            sender=signed.sender,
            recipient=signed.recipient,
            error=exc,
            origin=origin(request),
        )
        raise
    return accepted.to_record()
