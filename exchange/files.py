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
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


def _view(row: StoredFile) -> FileView:
    return FileView(
        id=row.id,
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
        document=f"file:{row.id}",
        details={"sha256": blob.sha256, "size": blob.size, "name": name},
    )
    return _view(row)


async def _row(session: AsyncSession, principal: Principal, file_id: int) -> StoredFile:
    row = await session.scalar(
        select(StoredFile).where(
            StoredFile.id == file_id, StoredFile.agency_id == principal.agency_id
        )
    )
    if row is None:
        raise NotFound("No such file.", "Không có tệp này.")
    return row


async def get_file(session: AsyncSession, principal: Principal, file_id: int) -> FileView:
    return _view(await _row(session, principal, file_id))


async def list_files(session: AsyncSession, principal: Principal) -> list[FileView]:
    rows = await session.scalars(
        select(StoredFile)
        .where(StoredFile.agency_id == principal.agency_id)
        .order_by(StoredFile.id)
    )
    return [_view(r) for r in rows]


async def open_file(
    session: AsyncSession, blobs: BlobStore, principal: Principal, file_id: int
) -> tuple[FileView, AsyncIterator[bytes]]:
    row = await _row(session, principal, file_id)
    await audit.record(
        session,
        actor=principal.actor,
        action="file.read",
        agency=principal.organ_id,
        document=f"file:{row.id}",
    )
    return _view(row), blobs.read(row.sha256)
