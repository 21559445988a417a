"""Archive throughput: sealing, evidence records and the fixity audit beside raw SHA-256.

Run from the repository root::

    .venv/bin/python benchmarks/archive.py              # 100,000 small documents, 1 GiB of large
    .venv/bin/python benchmarks/archive.py --small      # smoke run: a few seconds
    .venv/bin/python benchmarks/archive.py --profile 25 # and where sealing small documents goes

It prints, in one run:

1. the machine's raw SHA-256 speed (``hashlib`` over a 64 MiB buffer in memory, MB/s);
2. sealing throughput (``archive.seal``: every unsealed document read back from the store with
   its digest checked, one hash tree, ONE archive timestamp per batch, the catalog updated) for
   100,000 small documents (1–4 KB) and for 1 GiB of large ones (16 x 64 MiB), in documents/s
   and MB/s, hashing as a percentage of the raw speed and documents per timestamp call;
3. evidence records made per second by ``archive.evidence_records`` (over a sample of the
   sealed 100,000, the trees shared as the package export shares them) beside
   ``archive.ers.Seal.record`` over the same leaves;
4. the fixity audit (``archive.audit``: both copies of the 1 GiB set re-hashed) in MB/s;
5. the peak RSS of sealing 10,000 and 100,000 small documents, each in its own child process.

The documents are put in the store and catalogued first, not ingested: ``ingest`` validates
each file with the validation room, which is not what is measured here. The large documents
go through ``TwoCopyStore.put_bytes``; the small ones are written straight into the store's
layout (``TwoCopyStore.path``, without fsync: at about 8 ms a durable put, 100,000 of them
would take a quarter of an hour to set up); catalog rows go in by SQLAlchemy bulk inserts.
Archive timestamps come from the development TSA (``signing.dev.serve_dev_services``) over
loopback HTTP through ``signing.HttpTimestamper``, as the archive's development default does.

Contenders run round by round in turn (raw SHA-256, then the seal or audit it is compared
with), and ratios are given as the minimum and the median of the per-round ratios. Targets
are printed beside the figures; a missed target prints ``MISSED`` but the exit code stays 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

# Run as a script, ``benchmarks/`` heads sys.path and this very file would shadow the
# ``archive`` package: put the repository root in front of it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from archive import Archive, TwoCopyStore, audit, evidence_record, evidence_records, seal
from archive.catalog import ArchivedDocument, Dossier, StoredItem, metadata
from archive.ers import seal as ers_seal
from archive.service import TreeCache
from signing import DevelopmentModeWarning, HttpTimestamper
from signing.dev.pki import DevPki
from signing.dev.services import serve_dev_services
from validation import ValidationPolicy

VAR_TMP = "/var/tmp"  # noqa: S108 (only ever a parent of mkdtemp's private directory)
MB = 1_000_000
MIB = 1 << 20

HASHING_TARGET = 0.50
"""Sealing hashes at least half as fast as raw SHA-256."""
PER_CALL_TARGET = 50_000
"""At least 50,000 documents under one timestamp call."""
FLAT_TARGET = 1.25
"""Memory flat in the number of documents: sealing 100,000 peaks at most 1.25 x what sealing
10,000 peaks at (the process's baseline, imports and catalog engine, included in both)."""


_STARTED = time.perf_counter()


def _progress(message: str) -> None:
    print(f"  .. {time.perf_counter() - _STARTED:6.1f} s  {message}", file=sys.stderr, flush=True)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _mm(values: Sequence[float], fmt: str = ".1f") -> str:
    return f"min {min(values):{fmt}} median {statistics.median(values):{fmt}}"


# -- raw SHA-256 ----------------------------------------------------------------------------


def raw_sha256(buffer: bytes, total: int) -> float:
    """MB/s of hashlib over ``buffer`` until ``total`` bytes have been hashed."""
    times = max(1, total // len(buffer))
    started = time.perf_counter()
    for _ in range(times):
        hashlib.sha256(buffer).digest()
    return times * len(buffer) / MB / (time.perf_counter() - started)


# -- setup ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Doc:
    sha256: str
    size: int


def write_small(store: TwoCopyStore, count: int, seed: int) -> list[Doc]:
    """``count`` distinct random documents of 1–4 KB, written straight into both roots'
    layout (setup only: no fsync, see the module's docstring)."""
    rng = random.Random(seed)  # noqa: S311 (document sizes, not secrets)
    made: set[Path] = set()
    docs = []
    for _ in range(count):
        data = os.urandom(rng.randint(1024, 4096))
        sha = hashlib.sha256(data).hexdigest()
        for root in (0, 1):
            path = store.path(sha, root)
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(data)
        docs.append(Doc(sha, len(data)))
    return docs


def plain_loop(store: TwoCopyStore, docs: list[Doc]) -> float:
    """Seconds for the plainest check of the same small files: open, read, SHA-256, compare,
    close, one after the other, first copy only (the fair contender of 2a: what any
    one-file-per-document store pays per file, whatever the hashing speed)."""
    paths = [str(store.path(d.sha256, 0)) for d in docs]
    started = time.perf_counter()
    for path, doc in zip(paths, docs, strict=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, doc.size + 1)
        finally:
            os.close(fd)
        if hashlib.sha256(data).hexdigest() != doc.sha256:
            raise RuntimeError(f"{path} changed")
    return time.perf_counter() - started


def write_large(store: TwoCopyStore, count: int, size: int) -> list[Doc]:
    docs = []
    for _ in range(count):
        obj = store.put_bytes(os.urandom(size))
        docs.append(Doc(obj.sha256, obj.size))
    return docs


def catalogue(path: Path, docs: Sequence[Doc], report: Doc, per_dossier: int = 100) -> None:
    """A SQLite catalog holding ``docs`` as unsealed documents, ``per_dossier`` a dossier,
    every one pointing at the same stand-in report; rows by bulk insert."""
    engine = create_engine(f"sqlite:///{path}")
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            metadata.create_all(connection)
            dossiers = (len(docs) + per_dossier - 1) // per_dossier
            connection.execute(
                insert(Dossier),
                [
                    {
                        "id": n + 1,
                        "code": f"BENCH-{n + 1:05d}",
                        "objid": str(uuid4()),
                        "title": f"Hồ sơ đo hiệu năng {n + 1}",
                        "fields": {"maintenance": "01"},
                        "maintenance": "01",
                        "created_at": now,
                    }
                    for n in range(dossiers)
                ],
            )
            for start in range(0, len(docs), 10_000):
                chunk = docs[start : start + 10_000]
                connection.execute(
                    insert(ArchivedDocument),
                    [
                        {
                            "dossier_id": (start + i) // per_dossier + 1,
                            "ordinal": (start + i) % per_dossier + 1,
                            "name": f"van-ban-{start + i:06d}.bin",
                            "sha256": d.sha256,
                            "size": d.size,
                            "original_sha256": d.sha256,
                            "media_type": "application/octet-stream",
                            "indication": "INDETERMINATE",
                            "legal": None,
                            "report_sha256": report.sha256,
                            "report_html_sha256": report.sha256,
                            "evidence_sha256": None,
                            "fields": {},
                            "state": "kept",
                            "ingested_at": now,
                            "sealed": False,
                        }
                        for i, d in enumerate(chunk)
                    ],
                )
            objects = {d.sha256: d for d in (*docs, report)}
            items = list(objects.values())
            for start in range(0, len(items), 10_000):
                connection.execute(
                    insert(StoredItem),
                    [
                        {"sha256": d.sha256, "size": d.size, "kind": "document", "stored_at": now}
                        for d in items[start : start + 10_000]
                    ],
                )
    finally:
        engine.dispose()


def page_in(store: TwoCopyStore, docs: Sequence[Doc]) -> None:
    """Read the first copies once, as they would be in the page cache right after ingest."""
    for d in docs:
        with store.path(d.sha256, 0).open("rb") as handle:
            while handle.read(MIB):
                pass


def drop_cache(store: TwoCopyStore, docs: Sequence[Doc]) -> None:
    """Ask the kernel to forget both copies (no root needed), so that the audit reads the disk
    as it does in a real sweep."""
    for d in docs:
        for root in (0, 1):
            fd = os.open(store.path(d.sha256, root), os.O_RDONLY)
            try:
                with contextlib.suppress(AttributeError, OSError):
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# -- the archive ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_archive(catalog: Path, store: TwoCopyStore, tsa_url: str) -> AsyncIterator[Archive]:
    engine: AsyncEngine = create_async_engine(f"sqlite+aiosqlite:///{catalog}")
    try:
        async with HttpTimestamper([tsa_url]) as tsa:
            yield Archive(
                sessions=async_sessionmaker(engine, expire_on_commit=False),
                store=store,
                timestamper=tsa,
                policy=ValidationPolicy(),
            )
    finally:
        await engine.dispose()


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _child_seal(args: argparse.Namespace) -> dict[str, Any]:
    store = TwoCopyStore(args.roots[0], args.roots[1])
    async with open_archive(Path(args.child_seal), store, args.tsa) as archive:
        before = _rss_kib("VmRSS")
        profile = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        result = await seal(archive)
        if profile is not None:
            profile.disable()
        seconds = time.perf_counter() - started
    store.close()
    if profile is not None:
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
    return {
        "seconds": seconds,
        "documents": result.documents,
        "stamps": result.stamps,
        "damaged": len(result.damaged),
        "rss_before_kib": before,
        # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a
        # child would report its parent's size when that was larger
        "peak_kib": _rss_kib("VmHWM"),
    }


@dataclass(frozen=True, slots=True)
class ChildSeal:
    seconds: float
    documents: int
    stamps: int
    damaged: int
    rss_before_kib: int
    peak_kib: int


def seal_in_child(catalog: Path, store: TwoCopyStore, tsa_url: str, profile: int = 0) -> ChildSeal:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-seal",
        str(catalog),
        "--roots",
        str(store.roots[0]),
        str(store.roots[1]),
        "--tsa",
        tsa_url,
        "--profile",
        str(profile),
    ]
    proc = subprocess.run(  # noqa: S603 (this very script, by its own path)
        command, capture_output=True, text=True, check=False
    )
    if profile:
        print(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"the sealing child failed:\n{proc.stderr}")
    return ChildSeal(**json.loads(proc.stdout.strip().splitlines()[-1]))


# -- the measurements -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizes:
    documents: int
    memory_small: int
    large_count: int
    large_size: int
    rounds: int
    sample: int
    buffer: int


def sizes(args: argparse.Namespace) -> Sizes:
    if args.small:
        return Sizes(
            documents=args.documents or 2_000,
            memory_small=max(1, (args.documents or 2_000) // 10),
            large_count=4,
            large_size=4 * MIB,
            rounds=args.rounds or 2,
            sample=200,
            buffer=8 * MIB,
        )
    return Sizes(
        documents=args.documents or 100_000,
        memory_small=max(1, (args.documents or 100_000) // 10),
        large_count=16,
        large_size=64 * MIB,
        rounds=args.rounds or 3,
        sample=10_000,
        buffer=64 * MIB,
    )


async def large_rounds(
    z: Sizes,
    work: Path,
    store: TwoCopyStore,
    docs: Sequence[Doc],
    pristine: Path,
    buffer: bytes,
    tsa_url: str,
) -> tuple[list[float], list[float], list[float], list[float], list[float], int, int]:
    """Per round: raw SHA-256, the seal of the large set (on a fresh copy of its unsealed
    catalog, its files in the page cache), then the audit of that sealed catalog (cold)."""
    total = sum(d.size for d in docs)
    raw, sealing, per_seal, auditing, per_audit = [], [], [], [], []
    stamps = covered = 0
    for r in range(1, z.rounds + 1):
        raw.append(raw_sha256(buffer, total))
        catalog = work / f"large-{r}.db"
        shutil.copyfile(pristine, catalog)
        page_in(store, docs)
        async with open_archive(catalog, store, tsa_url) as archive:
            started = time.perf_counter()
            result = await seal(archive)
            seconds = time.perf_counter() - started
            stamps, covered = result.stamps, result.documents
            sealing.append(total / MB / seconds)
            per_seal.append(sealing[-1] / raw[-1])
            drop_cache(store, docs)
            started = time.perf_counter()
            report = await audit(archive)
            seconds = time.perf_counter() - started
            if not report.ok:
                raise RuntimeError(f"the audit found damage in a fresh store: {report.findings}")
            auditing.append(report.bytes_hashed / MB / seconds)
            per_audit.append(auditing[-1] / raw[-1])
        _progress(
            f"round {r}/{z.rounds}: raw {raw[-1]:.0f} MB/s, seal {sealing[-1]:.0f} MB/s, "
            f"audit {auditing[-1]:.0f} MB/s"
        )
    return raw, sealing, per_seal, auditing, per_audit, stamps, covered


async def record_rounds(
    z: Sizes, catalog: Path, store: TwoCopyStore, tsa_url: str
) -> tuple[float, list[float], list[float], list[float], int]:
    """Evidence records of a sample of the sealed documents: the service's (catalog query,
    tree shared across calls) and ers.Seal.record's over the same leaves, round by round."""
    async with open_archive(catalog, store, tsa_url) as archive:
        async with archive.sessions() as session:
            ids = list(
                await session.scalars(
                    select(ArchivedDocument.id)
                    .where(ArchivedDocument.sealed.is_(True))
                    .order_by(ArchivedDocument.id)
                )
            )
            shas = list(
                await session.scalars(
                    select(ArchivedDocument.sha256)
                    .where(ArchivedDocument.sealed.is_(True))
                    .order_by(ArchivedDocument.id)
                )
            )
        assert archive.timestamper is not None
        step = max(1, len(ids) // z.sample)
        picks = list(range(0, len(ids), step))[: z.sample]
        started = time.perf_counter()
        first = await evidence_record(archive, ids[picks[0]])
        cold = time.perf_counter() - started
        assert first
        trees = TreeCache(archive)
        await evidence_record(archive, ids[picks[0]], trees)  # the tree, rebuilt once
        sealed = await ers_seal(
            (bytes.fromhex(s) for s in shas), "sha256", archive.timestamper.async_timestamp
        )
        service, library, ratios = [], [], []
        size = 0
        per_round = max(1, len(picks) // z.rounds)
        for r in range(z.rounds):
            chunk = picks[r * per_round : (r + 1) * per_round]
            started = time.perf_counter()
            made = await evidence_records(archive, [ids[i] for i in chunk], trees)
            a = time.perf_counter() - started
            assert len(made) == len(chunk)
            size = len(next(iter(made.values())))
            started = time.perf_counter()
            for i in chunk:
                sealed.record(i)
            b = time.perf_counter() - started
            service.append(len(chunk) / a)
            library.append(len(chunk) / b)
            ratios.append(a / b)
    return cold, service, library, ratios, size


def run(args: argparse.Namespace) -> int:
    z = sizes(args)
    base = args.tmpdir or tempfile.gettempdir()
    # /tmp may be a small tmpfs; a private directory is made inside whichever has more room
    if args.tmpdir is None and shutil.disk_usage(VAR_TMP).free > shutil.disk_usage(base).free:
        base = VAR_TMP
    need = 2 * (z.large_count * z.large_size + z.documents * 8192) + 64 * MIB
    print(
        f"lienthong archive benchmark: {os.cpu_count()} CPUs, load average at start "
        f"{os.getloadavg()[0]:.2f} (the machine is shared with other work: every figure "
        f"wanders); {z.rounds} round(s); data in {base} (about {need / MB:,.0f} MB)"
        + (
            "; smoke run (--small): targets are shown but mean nothing at these sizes"
            if args.small
            else ""
        )
    )
    print(
        "  setup: documents stored and catalogued directly (rows by SQLAlchemy bulk insert), "
        "not ingested: ingest validates each file with the validation room, which is not "
        "measured here; small documents written straight into the store's layout without "
        "fsync, large ones by TwoCopyStore.put_bytes; archive timestamps from the development "
        "TSA (signing.dev) over loopback HTTP via signing.HttpTimestamper"
    )
    with (
        tempfile.TemporaryDirectory(prefix="lienthong-bench-archive-", dir=base) as tmp,
        serve_dev_services() as services,
    ):
        pki = DevPki.generate(services.url)
        services.attach(pki)
        work = Path(tmp)
        store = TwoCopyStore(work / "copy-1", work / "copy-2")
        store.initialise()
        obj = store.put_bytes(b'{"note": "stand-in report of the archive benchmark"}\n')
        report = Doc(obj.sha256, obj.size)

        _progress(f"writing {z.documents:,} small documents")
        small = write_small(store, z.documents, seed=4998)
        catalogue(work / "small-all.db", small, report)
        catalogue(work / "small-few.db", small[: z.memory_small], report)
        _progress(f"writing {z.large_count} x {z.large_size // MIB} MiB documents")
        large = write_large(store, z.large_count, z.large_size)
        catalogue(work / "large.db", large, report, per_dossier=4)
        buffer = os.urandom(z.buffer)

        raw_l, seal_l, per_l, audit_l, per_a, stamps_l, covered_l = asyncio.run(
            large_rounds(z, work, store, large, work / "large.db", buffer, services.tsa_url)
        )

        small_bytes = sum(d.size for d in small)
        _progress(f"sealing {z.memory_small:,} small documents in a child process")
        raw_before = raw_sha256(buffer, z.large_count * z.large_size)
        few = seal_in_child(work / "small-few.db", store, services.tsa_url, args.profile)
        _progress(f"sealing {z.documents:,} small documents in a child process")
        raw_mid = raw_sha256(buffer, z.large_count * z.large_size)
        plain_before = plain_loop(store, small)
        many = seal_in_child(work / "small-all.db", store, services.tsa_url)
        plain_after = plain_loop(store, small)
        raw_after = raw_sha256(buffer, z.large_count * z.large_size)
        if many.documents != z.documents or few.documents != z.memory_small:
            raise RuntimeError("a seal left documents unsealed")

        _progress("evidence records")
        cold, service, library, ratios, record_size = asyncio.run(
            record_rounds(z, work / "small-all.db", store, services.tsa_url)
        )
        store.close()

    raw_all = [*raw_l, raw_before, raw_mid, raw_after]
    print(
        f"1 raw SHA-256 (hashlib, {z.buffer // MIB} MiB buffer in memory): "
        f"{_mm(raw_all, '.0f')} max {max(raw_all):.0f} MB/s"
    )
    mb = small_bytes / MB
    rate = many.documents / many.seconds
    share = (mb / many.seconds) / statistics.median((raw_mid, raw_after))
    per_call = many.documents / many.stamps
    plain = statistics.median((plain_before, plain_after))
    print(
        f"2a sealing {many.documents:,} small documents (1-4 KB, {mb:,.0f} MB): "
        f"{many.seconds:.1f} s, {rate:,.0f} documents/s, {mb / many.seconds:.1f} MB/s; "
        f"hashing at {100 * share:.1f} % of raw SHA-256: target >= {100 * HASHING_TARGET:.0f} %: "
        f"{_verdict(share >= HASHING_TARGET)}; {many.documents:,} documents in "
        f"{many.stamps} timestamp call(s), {per_call:,.0f} a call: target >= "
        f"{PER_CALL_TARGET:,}: {_verdict(per_call >= PER_CALL_TARGET)}"
    )
    print(
        f"2a' the same files by a plain loop (open, read, SHA-256, close; first copy only; "
        f"before and after the seal): {plain_before:.1f} / {plain_after:.1f} s, "
        f"{many.documents / plain:,.0f} documents/s, {mb / plain:.1f} MB/s = "
        f"{100 * (mb / plain) / statistics.median((raw_mid, raw_after)):.1f} % of raw SHA-256; "
        f"the seal (both copies checked when the first fails, catalogued, timestamped) runs at "
        f"{100 * plain / many.seconds:.0f} % of the plain loop's speed"
    )
    large_mb = z.large_count * z.large_size / MB
    docs_s = [z.large_count * s / large_mb for s in seal_l]
    print(
        f"2b sealing {z.large_count} x {z.large_size // MIB} MiB ({large_mb:,.0f} MB, read from "
        f"the page cache): {_mm(seal_l, '.0f')} MB/s, {_mm(docs_s, '.1f')} documents/s; "
        f"hashing {_mm([100 * p for p in per_l])} % of raw SHA-256 in the same round: target >= "
        f"{100 * HASHING_TARGET:.0f} %: {_verdict(statistics.median(per_l) >= HASHING_TARGET)}; "
        f"{covered_l} documents in {stamps_l} timestamp call(s)"
    )
    print(
        f"3 evidence records ({len(service)} round(s) over {z.sample:,} of the "
        f"{many.documents:,} sealed, {record_size:,} bytes each): archive.evidence_records "
        f"{_mm(service, ',.0f')} per s (trees shared, as the export does; the first call "
        f"rebuilds the {many.documents:,}-leaf tree from the stored leaves: {cold:.2f} s); "
        f"archive.ers Seal.record {_mm(library, ',.0f')} per s; service time / ers time "
        f"{_mm(ratios, '.1f')}"
    )
    print(
        f"4 audit of the large set (archive.audit, both copies re-hashed, {2 * large_mb:,.0f} MB "
        f"read from disk): {_mm(audit_l, '.0f')} MB/s, {_mm([100 * p for p in per_a])} % of "
        f"raw SHA-256 on one core (the two copies are hashed side by side)"
    )
    growth = (many.peak_kib - few.peak_kib) * 1024 / max(1, many.documents - few.documents)
    ratio = many.peak_kib / few.peak_kib
    print(
        f"5 memory (peak RSS of a child process that only seals): {few.documents:,} documents "
        f"{few.peak_kib / 1024:.1f} MiB ({few.rss_before_kib / 1024:.1f} before sealing); "
        f"{many.documents:,} documents {many.peak_kib / 1024:.1f} MiB "
        f"({many.rss_before_kib / 1024:.1f} before); {ratio:.2f}x, {growth:,.0f} bytes per "
        f"extra document: target flat (<= {FLAT_TARGET:.2f}x): {_verdict(ratio <= FLAT_TARGET)}"
    )
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/archive.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--small", action="store_true", help="smoke run: seconds, tiny sizes")
    parser.add_argument("--rounds", type=int, help="timed rounds, taken in turn (3; small 2)")
    parser.add_argument(
        "--documents", type=int, help="small documents to seal (100,000; small 2,000)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile the seal of the fewer small documents: top N functions",
    )
    parser.add_argument(
        "--tmpdir",
        help="where the temporary data goes (removed at the end; default /tmp or /var/tmp, "
        "whichever has more room)",
    )
    parser.add_argument("--child-seal", help=argparse.SUPPRESS)
    parser.add_argument("--roots", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--tsa", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (args.rounds is not None and args.rounds < 1) or (
        args.documents is not None and args.documents < 2
    ):
        parser.error("--rounds must be positive and --documents at least 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_seal:
        print(json.dumps(asyncio.run(_child_seal(args))))
        return 0
    with warnings.catch_warnings():
        # the development TSA and PKI warn that they are such: the first lines say so once
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
