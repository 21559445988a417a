"""Files of the caller's agency, stored in the blob store."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, UploadFile
from fastapi.responses import StreamingResponse

from exchange import files
from exchange.accounts import Role
from exchange.api.deps import Caller, Svc
from exchange.blobs import CHUNK
from exchange.files import FileView

router = APIRouter(prefix="/api/v1/files", tags=["files"])
READERS = (Role.CLERK, Role.SIGNER, Role.ARCHIVIST)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.post("", response_model=FileView, status_code=201)
async def upload(file: UploadFile, caller: Caller, svc: Svc) -> FileView:
    caller.require(Role.CLERK)
    async with svc.transaction() as session:
        return await files.add_file(
            session,
            svc.blobs,
            caller,
            chunks=_chunks(file),
            filename=file.filename or "",
            media_type=file.content_type or "application/octet-stream",
            max_size=svc.settings.max_upload_bytes,
        )


@router.get("", response_model=list[FileView])
async def list_files(caller: Caller, svc: Svc) -> list[FileView]:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await files.list_files(session, caller)


@router.get("/{file_id}", response_model=FileView)
async def get_file(file_id: str, caller: Caller, svc: Svc) -> FileView:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await files.get_file(session, caller, file_id)


@router.get("/{file_id}/content")
async def download(file_id: str, caller: Caller, svc: Svc) -> StreamingResponse:
    caller.require(*READERS)
    async with svc.transaction() as session:
        view, content = await files.open_file(session, svc.blobs, caller, file_id)
    return StreamingResponse(
        content,
        media_type=view.media_type,
        headers={"Content-Length": str(view.size), "ETag": f'"{view.sha256}"'},
    )
