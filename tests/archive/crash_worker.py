"""A child process for the crash tests: ingests or seals on a given catalog and store, and
is killed by the test at some point along the way.

    python -m tests.archive.crash_worker ingest|seal CATALOG ROOT1 ROOT2 [FILES...]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from archive import Archive, TwoCopyStore, ingest, seal
from signing.dev import DevPki
from validation import TrustAnchors, ValidationPolicy


class SlowTimestamper(DummyTimeStamper):
    """The development TSA's answer, after a pause: the window in which the test kills."""

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> object:
        print("timestamping", flush=True)
        await asyncio.sleep(0.5)
        return await super().async_timestamp(message_digest, md_algorithm)


async def main(mode: str, catalog: Path, roots: tuple[Path, Path], files: list[Path]) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{catalog}")
    pki = DevPki.load(catalog.parent / "pki")
    stamper = SlowTimestamper(
        tsa_cert=pki.tsa.asn1,
        tsa_key=pki.tsa.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
    )
    archive = Archive(
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        store=TwoCopyStore(*roots),
        timestamper=stamper,
        policy=ValidationPolicy(anchors=TrustAnchors(), offline=True),
    )
    print("started", flush=True)
    if mode == "ingest":
        await ingest(archive, files, dossier="CRASH", title="Hồ sơ thử tắt ngang")
    else:
        await seal(archive, batch=50)
    print("done", flush=True)
    await engine.dispose()


if __name__ == "__main__":
    mode, catalog, first, second, *rest = sys.argv[1:]
    asyncio.run(main(mode, Path(catalog), (Path(first), Path(second)), [Path(p) for p in rest]))
