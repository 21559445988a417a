"""The blob store, and files: a row never points at a blob that is not completely written."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from exchange import files
from exchange.accounts import Principal, Role
from exchange.audit import Actor
from exchange.blobs import FileBlobStore
from exchange.db import StoredFile
from exchange.errors import NotFound, PayloadTooLarge, StorageError
from exchange.service import Services
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for i, part in enumerate(parts):
        if fail_after is not None and i == fail_after:
            raise ConnectionResetError("the client went away")
        yield part


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_content_addressed_and_durable(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    data = os.urandom(3 * 1024 * 1024 + 5)
    ref = await store.put(chunks(data[:1000], data[1000:]))
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    path = store.path(ref.sha256)
    assert path == tmp_path / "blobs" / "sha256" / ref.sha256[:2] / ref.sha256[2:4] / ref.sha256
    assert path.read_bytes() == data
    assert await store.read_bytes(ref.sha256) == data
    assert (await store.put_bytes(data)) == ref  # the same content is stored once
    assert leftovers(tmp_path / "blobs") == [path]
    with pytest.raises(NotFound):
        await store.read_bytes("0" * 64)
    with pytest.raises(NotFound):
        await store.read_bytes("../../etc/passwd")


@pytest.mark.parametrize("how", ["too-large", "client-gone"])
async def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, how: str) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    if how == "too-large":
        with pytest.raises(PayloadTooLarge):
            await store.put(chunks(b"a" * 600, b"b" * 600), max_size=1000)
    else:
        with pytest.raises(ConnectionResetError):
            await store.put(chunks(b"a" * 600, b"b" * 600, fail_after=1))
    assert leftovers(tmp_path / "blobs") == []


async def test_a_full_disk_is_a_storage_error_and_leaves_nothing(tmp_path: Path) -> None:
    """/dev/full answers every write with ENOSPC: a real full disk, for one file."""
    store = FileBlobStore(tmp_path / "blobs")

    def open_full() -> tuple[Path, object]:
        temp = tmp_path / "blobs" / "tmp" / "full.part"
        temp.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(b"")
        return temp, open("/dev/full", "wb", buffering=0)  # noqa: PTH123

    store._open_temp = open_full  # type: ignore[method-assign]
    with pytest.raises(StorageError) as raised:
        await store.put(chunks(b"x" * 4096))
    assert "No space left" in raised.value.en
    assert leftovers(tmp_path / "blobs") == []


@pytest.mark.db
async def test_a_failed_upload_leaves_no_row_and_no_file(
    services: Services, client: httpx.AsyncClient, seeded: Seed
) -> None:
    async with services.transaction() as session:
        count_before = await session.scalar(select(func.count()).select_from(StoredFile))
        agency_id = (await session.scalars(select(StoredFile.agency_id))).first()
    principal = await _clerk(services)
    with pytest.raises(ConnectionResetError):
        async with services.transaction() as session:
            await files.add_file(
                session,
                services.blobs,
                principal,
                chunks=chunks(b"%PDF-1.7\n", b"more", fail_after=1),
                filename="cong-van.pdf",
                media_type="application/pdf",
                max_size=1 << 20,
            )
    with pytest.raises(PayloadTooLarge):
        async with services.transaction() as session:
            await files.add_file(
                session,
                services.blobs,
                principal,
                chunks=chunks(b"x" * 2048),
                filename="big.pdf",
                media_type="application/pdf",
                max_size=1024,
            )
    async with services.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == count_before
    assert agency_id is None
    root = services.settings.blobs
    assert not root.exists() or leftovers(root) == []
    # over HTTP: the limit answers 413 problem+json, and nothing is kept
    big = await client.post(
        "/api/v1/files",
        headers=bearer(seeded.tokens[(AGENCY_A, Role.CLERK)]),
        files={
            "file": ("big.pdf", b"x" * (services.settings.max_upload_bytes + 1), "application/pdf")
        },
    )
    assert big.status_code == 413 and big.json()["code"] == "exchange.payload_too_large"
    assert not root.exists() or leftovers(root) == []


async def _clerk(services: Services) -> Principal:
    from exchange import accounts

    actor = Actor(name="user:a-clerk", origin="cli")
    async with services.transaction() as session:
        admin = await accounts.operator(session, AGENCY_A, actor)
    return Principal(
        agency_id=admin.agency_id,
        organ_id=admin.organ_id,
        roles=frozenset({Role.CLERK}),
        actor=actor,
    )
