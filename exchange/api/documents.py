"""Outgoing documents of the caller's agency: drafts, the personal signature (server-side
or two-phase), issuing and the edXML package."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from exchange import changes, documents, recall, tracking
from exchange.accounts import Role
from exchange.api.deps import Caller, Svc
from exchange.blobs import CHUNK
from exchange.documents import DocumentView, OutgoingMetadata, SigningRequestView, Upload
from exchange.errors import BadRequest, PayloadTooLarge
from exchange.tracking import RecipientView

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
READERS = (Role.CLERK, Role.SIGNER, Role.ARCHIVIST)


async def _read(upload: UploadFile, limit: int) -> Upload:
    parts, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"{upload.filename} is larger than the {limit} bytes allowed.",
                f"{upload.filename} lớn hơn mức cho phép ({limit} byte).",
            )
        parts.append(chunk)
    return Upload(
        filename=upload.filename or "",
        media_type=upload.content_type or "application/octet-stream",
        data=b"".join(parts),
    )


def _metadata(text: str) -> OutgoingMetadata:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            "The metadata is not valid JSON.", "Siêu dữ liệu không phải JSON hợp lệ."
        ) from exc
    if not isinstance(record, dict):
        raise BadRequest(
            "The metadata must be a JSON object.", "Siêu dữ liệu phải là một đối tượng JSON."
        )
    return OutgoingMetadata.parse(record)


@router.post("", response_model=DocumentView, status_code=201)
async def create_draft(
    caller: Caller,
    svc: Svc,
    metadata: Annotated[str, Form(description="App. VI metadata, a JSON object")],
    main: Annotated[UploadFile, File(description="The main document (PDF)")],
    attachments: Annotated[
        list[UploadFile] | None, File(description="Separate attachments")
    ] = None,
) -> DocumentView:
    """A clerk's draft: the system adds the empty number and date fields to the PDF."""
    caller.require(Role.CLERK)
    parsed = _metadata(metadata)
    limit = svc.settings.max_upload_bytes
    main_file = await _read(main, limit)
    extra = [await _read(a, limit) for a in attachments or []]
    async with svc.transaction() as session:
        return await documents.create_draft(
            session,
            svc.blobs,
            caller,
            metadata=parsed,
            main=main_file,
            attachments=extra,
            max_size=limit,
        )


@router.get("", response_model=list[DocumentView])
async def list_documents(caller: Caller, svc: Svc) -> list[DocumentView]:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await documents.list_documents(session, caller)


@router.get("/{document_id}", response_model=DocumentView)
async def get_document(document_id: str, caller: Caller, svc: Svc) -> DocumentView:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await documents.get_document(session, caller, document_id)


@router.get("/{document_id}/pdf")
async def current_pdf(document_id: str, caller: Caller, svc: Svc) -> StreamingResponse:
    """The document's PDF as it stands now (for a draft: with its empty fields)."""
    caller.require(*READERS)
    async with svc.transaction() as session:
        content = await documents.open_current(session, svc.blobs, caller, document_id)
    return StreamingResponse(content, media_type="application/pdf")


@router.post("/{document_id}/sign", response_model=DocumentView)
async def sign(document_id: str, caller: Caller, svc: Svc) -> DocumentView:
    """The personal signature, with the signer's key on the server (HSM or token)."""
    caller.require(Role.SIGNER)
    key = documents.server_key(svc.settings.agencies, caller)
    return await documents.sign_personal(
        svc, caller, document_id, key=key, tsa_urls=svc.settings.tsa_urls
    )


@router.post("/{document_id}/sign/prepare", response_model=SigningRequestView)
async def sign_prepare(
    document_id: str,
    caller: Caller,
    svc: Svc,
    certificate: Annotated[
        UploadFile,
        File(description="The signer's certificate, then its chain (PEM)"),
    ],
    signature_image: Annotated[
        UploadFile | None,
        File(description="The signer's signature image (PNG); else the configured one"),
    ] = None,
) -> SigningRequestView:
    """Two-phase personal signature, phase one: what the signer's own key must sign (the
    signed attributes and their digest, base64) and the id of the stored state."""
    caller.require(Role.SIGNER)
    limit = svc.settings.max_upload_bytes
    certs = await _read(certificate, limit)
    image = await _read(signature_image, limit) if signature_image is not None else None
    return await documents.prepare_personal(
        svc,
        caller,
        document_id,
        certificates=certs.data,
        signature_png=image.data if image is not None else None,
        agencies=svc.settings.agencies,
        tsa_urls=svc.settings.tsa_urls,
    )


class SignatureValue(BaseModel):
    """Phase two's input: the state id of phase one and the signature value (base64)."""

    model_config = ConfigDict(extra="forbid")

    state_id: str
    signature: str


@router.post("/{document_id}/sign/finish", response_model=DocumentView)
async def sign_finish(
    document_id: str, body: SignatureValue, caller: Caller, svc: Svc
) -> DocumentView:
    """Two-phase personal signature, phase two: embed the signature value; the draft becomes
    signed only if it is unchanged since phase one."""
    caller.require(Role.SIGNER)
    try:
        value = base64.b64decode(body.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(
            "The signature value is not valid base64.",
            "Giá trị chữ ký không phải base64 hợp lệ.",
            field="signature",
        ) from exc
    return await documents.finish_personal(
        svc, caller, document_id, state_id=body.state_id, signature_value=value
    )


@router.post("/{document_id}/issue", response_model=DocumentView)
async def issue(document_id: str, caller: Caller, svc: Svc) -> DocumentView:
    """Number and date from the register, then the agency signature (B-LT) on the main
    document and every separate attachment."""
    caller.require(Role.CLERK)
    seal = documents.seal_of(svc.settings.agencies, caller)
    return await documents.issue(
        svc, caller, document_id, seal=seal, tsa_urls=svc.settings.tsa_urls
    )


@router.get("/{document_id}/package")
async def package(document_id: str, caller: Caller, svc: Svc) -> StreamingResponse:
    """The signed edXML package (QCVN 102:2016) of an issued document."""
    caller.require(*READERS)
    async with svc.transaction() as session:
        content = await documents.open_package(session, svc.blobs, caller, document_id)
    return StreamingResponse(content, media_type="application/xml")


@router.get("/{document_id}/recipients", response_model=list[RecipientView])
async def recipients(document_id: str, caller: Caller, svc: Svc) -> list[RecipientView]:
    """Per recipient: the delivery's state and every status it sent back, oldest first."""
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await tracking.recipients_of(session, caller, document_id)


class RecallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = ""


@router.post("/{document_id}/recall")
async def recall_document(
    document_id: str, body: RecallRequest, caller: Caller, svc: Svc
) -> dict[str, list[str]]:
    """Ask every recipient to give the issued document back (status 13); their answers (15
    accepted: the copy destroyed; 16 refused: work has started) join the timeline."""
    asked = await recall.request_recall(svc, caller, document_id, body.reason)
    return {"asked": asked}


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


@router.post("/{document_id}/revoke", response_model=DocumentView)
async def revoke_document(
    document_id: str, body: RevokeRequest, caller: Caller, svc: Svc
) -> DocumentView:
    """Revoke an issued document (BussinessDocType 1): it is frozen here and a signed
    revocation goes to every recipient, who answers 03 (its copy destroyed, the metadata
    kept) or 02 (refused, with the reason) on the timeline."""
    return await changes.revoke(svc, caller, document_id, body.reason)


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str
    """The new document: drafted and personally signed, not yet issued."""
    reason: str = ""


@router.post("/{document_id}/update", response_model=DocumentView)
async def update_document(
    document_id: str, body: ChangeRequest, caller: Caller, svc: Svc
) -> DocumentView:
    """Issue the signed draft ``by`` as the corrected document (BussinessDocType 2): the same
    number, date and DocumentId, to the same recipients, who answer 15 or 16. Returns the
    issued update."""
    return await changes.update(svc, caller, document_id, by=body.by, reason=body.reason)


@router.post("/{document_id}/replace", response_model=DocumentView)
async def replace_document(
    document_id: str, body: ChangeRequest, caller: Caller, svc: Svc
) -> DocumentView:
    """Issue the signed draft ``by`` with its own number, replacing the document
    (BussinessDocType 3) for the same recipients, who answer 15 or 16. Returns the issued
    replacement."""
    return await changes.replace(svc, caller, document_id, by=body.by, reason=body.reason)
