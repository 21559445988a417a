"""Fixtures of the archive's tests: an archive on a real SQLite catalog, a two-copy store in
the test's folder and the development TSA; a signed PDF (B-T) to ingest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from archive import Archive, TwoCopyStore
from archive.catalog import metadata
from signing import HttpTimestamper, Level, PadesSigner, PadesSpec
from signing.dev import DevPki, DevServices
from validation import TrustAnchors, ValidationPolicy


@pytest.fixture
async def archive(tmp_path: Path, pki: DevPki, dev_services: DevServices) -> AsyncIterator[Archive]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    store = TwoCopyStore(tmp_path / "copy-1", tmp_path / "copy-2")
    store.initialise()
    anchors = TrustAnchors({"public": (pki.root.asn1,)})
    async with HttpTimestamper([dev_services.tsa_url]) as tsa:
        yield Archive(
            sessions=async_sessionmaker(engine, expire_on_commit=False),
            store=store,
            timestamper=tsa,
            policy=ValidationPolicy(anchors=anchors, revocation="soft"),
            trust_roots=(pki.root.asn1,),
        )
    await engine.dispose()


@pytest.fixture
async def signed_pdf(
    tmp_path: Path, pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> Path:
    spec = PadesSpec(level=Level.B_T, tsa_urls=(dev_services.tsa_url,))
    out, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    path = tmp_path / "in" / "cong-van-125.pdf"
    path.parent.mkdir()
    path.write_bytes(out)
    return path
