"""Files an agency keeps (uploads, packages, reports): bytes in the blob store, a row here.

The blob is written completely first, the row second, so no row points at a partial blob.
A blob left without a row (the transaction failed after the write) is harmless: its name is
its content, and nothing refers to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import audit
from exchange.accounts import Principal
from exchange.blobs import BlobStore
from exchange.db.models import StoredFile
from exchange.errors import BadRequest, NotFound


@dataclass(frozen=True, slots=True, kw_only=True)
class FileView:
    id: str
    """The public identifier (:mod:`exchange.ids`)."""
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


def _view(row: StoredFile) -> FileView:
    return FileView(
        id=row.public_id,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


def _check_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name) or name in (".", ".."):
        raise BadRequest("The file name is missing or invalid.", "Tên tệp thiếu hoặc không hợp lệ.")
    return name


async def add_file(
    session: AsyncSession,
    blobs: BlobStore,
    principal: Principal,
    *,
    chunks: AsyncIterable[bytes],
    filename: str,
    media_type: str,
    max_size: int,
) -> FileView:
    return _view(
        await store_file(
            session,
            blobs,
            principal,
            chunks=chunks,
            filename=filename,
            media_type=media_type,
            max_size=max_size,
        )
    )


async def store_file(
    session: AsyncSession,
    blobs: BlobStore,
    principal: Principal,
    *,
    chunks: AsyncIterable[bytes],
    filename: str,
    media_type: str,
    max_size: int,
) -> StoredFile:
    """Store the bytes, then the row naming them (for the other services of this room)."""
    name = _check_name(filename)
    kind = (media_type or "application/octet-stream")[:100]
    blob = await blobs.put(chunks, max_size=max_size)  # durable before the row exists
    row = StoredFile(
        agency_id=principal.agency_id,
        sha256=blob.sha256,
        size=blob.size,
        media_type=kind,
        filename=name,
        created_at=datetime.now(UTC),
        created_by=principal.actor.name,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="file.add",
        agency=principal.organ_id,
        document=f"file:{row.public_id}",
        details={"sha256": blob.sha256, "size": blob.size, "name": name},
    )
    return row


async def _row(session: AsyncSession, principal: Principal, file_id: str) -> StoredFile:
    row = await session.scalar(
        select(StoredFile).where(
            StoredFile.public_id == file_id, StoredFile.agency_id == principal.agency_id
        )
    )
    if row is None:
        raise NotFound("No such file.", "Không có tệp này.")
    return row


async def get_file(session: AsyncSession, principal: Principal, file_id: str) -> FileView:
    return _view(await _row(session, principal, file_id))


async def file_row(session: AsyncSession, principal: Principal, key: int) -> StoredFile:
    """A file of the agency by its internal key (for the other services of this room)."""
    row = await session.get(StoredFile, key)
    if row is None or row.agency_id != principal.agency_id:
        raise NotFound("No such file.", "Không có tệp này.")
    return row


async def list_files(session: AsyncSession, principal: Principal) -> list[FileView]:
    rows = await session.scalars(
        select(StoredFile)
        .where(StoredFile.agency_id == principal.agency_id)
        .order_by(StoredFile.id)
    )
    return [_view(r) for r in rows]


async def open_file(
    session: AsyncSession, blobs: BlobStore, principal: Principal, file_id: str
) -> tuple[FileView, AsyncIterator[bytes]]:
    row = await _row(session, principal, file_id)
    await audit.record(
        session,
        actor=principal.actor,
        action="file.read",
        agency=principal.organ_id,
        document=f"file:{row.public_id}",
    )
    return _view(row), blobs.read(row.sha256)
