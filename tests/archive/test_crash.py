"""The process killed during ingest or sealing leaves nothing half-stored: the dossier is
either wholly ingested or not at all, and sealing resumes where it stopped, each document
sealed once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from archive import TwoCopyStore
from archive.catalog import ArchivedDocument, StampLink, metadata
from signing.dev import DevPki

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def place(tmp_path: Path) -> AsyncIterator[tuple[Path, AsyncEngine]]:
    catalog = tmp_path / "catalog.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{catalog}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    TwoCopyStore(tmp_path / "c1", tmp_path / "c2").initialise()
    DevPki.generate("http://127.0.0.1:9", signers=()).save(tmp_path / "pki")
    yield tmp_path, engine
    await engine.dispose()


def _start(place: Path, mode: str, files: list[Path]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.archive.crash_worker", mode, str(place / "catalog.db")]
        + [str(place / "c1"), str(place / "c2")]
        + [str(f) for f in files],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _end(proc: subprocess.Popen[str], *, kill: bool = False, timeout: float = 120) -> int:
    if kill:
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return code


async def _wait_for(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdout is not None
    while True:
        got = await asyncio.to_thread(proc.stdout.readline)
        assert got, f"the worker ended before printing {line!r}"
        if got.strip() == line:
            return


async def _count(engine: AsyncEngine, query: object) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())  # type: ignore[call-overload]


def _files(place: Path, n: int) -> list[Path]:
    folder = place / "in"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(n):
        path = folder / f"van-ban-{i:03d}.txt"
        path.write_bytes(f"Văn bản {i}\n".encode() * 2000)
        files.append(path)
    return files


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
async def test_killed_ingest_is_all_or_nothing(
    place: tuple[Path, AsyncEngine], delay: float
) -> None:
    where, engine = place
    files = _files(where, 40)
    count = select(func.count()).where(ArchivedDocument.role == "document")
    proc = _start(where, "ingest", files)
    await _wait_for(proc, "started")
    await asyncio.sleep(delay)
    _end(proc, kill=True)
    assert await _count(engine, count) in (0, len(files))
    # after the restart: everything, once
    again = _start(where, "ingest", files)
    assert _end(again) == 0
    assert await _count(engine, count) == len(files)
    compositions = select(func.count()).where(ArchivedDocument.role == "composition")
    assert await _count(engine, compositions) == 1  # written with them, in the same transaction


async def test_killed_seal_resumes_and_seals_each_document_once(
    place: tuple[Path, AsyncEngine],
) -> None:
    where, engine = place
    files = _files(where, 120)
    first = _start(where, "ingest", files)
    assert _end(first) == 0
    proc = _start(where, "seal", [])
    await _wait_for(proc, "timestamping")  # the first batch of 50 went to the TSA
    await _wait_for(proc, "timestamping")  # the second: the first batch is catalogued
    _end(proc, kill=True)
    sealed = select(func.count()).where(ArchivedDocument.sealed)
    assert await _count(engine, sealed) == 50
    again = _start(where, "seal", [])
    assert _end(again) == 0
    # every document and the dossier's composition record
    assert await _count(engine, sealed) == len(files) + 1
    links = select(func.count()).select_from(StampLink)
    assert await _count(engine, links) == len(files) + 1  # one seal each, none twice
