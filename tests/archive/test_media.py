"""TT 05/2025: at least two copies on independent media. Production mode refuses an archive
whose two storage roots are on one device (file system), naming both and what to set;
development mode says so once and goes on; roots on two devices (a tmpfs and the disk under
the test's directory) are accepted."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import TwoCopyStore
from exchange import archiving
from exchange.archiving import open_archive
from exchange.db import open_engine
from exchange.db.migrate import upgrade
from exchange.errors import ConfigurationError
from exchange.settings import Settings
from tests.plugin import run_cli

SHM = Path("/dev/shm")


async def _migrated(settings: Settings) -> None:
    async with open_engine(settings.database) as engine:
        await upgrade(engine)


@pytest.fixture
def other_device(tmp_path: Path) -> Iterator[Path]:
    """A directory on another device than ``tmp_path``."""
    if not SHM.is_dir() or SHM.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another device than the test's directory")
    folder = Path(tempfile.mkdtemp(prefix="lienthong-media-", dir=SHM))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_one_device_is_refused_in_production(tmp_path: Path) -> None:
    roots = (tmp_path / "copy-a", tmp_path / "copy-b")
    node = Settings(data_dir=tmp_path / "node", production=True, archive_roots=roots)
    with pytest.raises(ConfigurationError) as refused:
        async with open_archive(node, timestamps=False):
            pytest.fail("opened")
    error = refused.value
    assert error.exit_code == 78
    for text in (error.en, error.vi):
        assert str(roots[0]) in text and str(roots[1]) in text
        assert "archive_roots" in text and "LIENTHONG_ARCHIVE_ROOTS" in text
    assert "same device" in error.en and "cùng một thiết bị" in error.vi
    assert not any(root.exists() for root in roots)  # refused before anything was made


async def test_the_default_copies_are_refused_in_production(tmp_path: Path) -> None:
    node = Settings(data_dir=tmp_path, production=True, archive_tsa_urls=("http://127.0.0.1:9",))
    with pytest.raises(ConfigurationError, match="the default, in the data directory"):
        async with open_archive(node):
            pytest.fail("opened")


async def test_one_device_is_noticed_once_in_development(tmp_path: Path) -> None:
    roots = (tmp_path / "copy-a", tmp_path / "copy-b")
    node = Settings(data_dir=tmp_path / "node", archive_roots=roots)
    await _migrated(node)
    notices: list[tuple[str, str]] = []
    async with open_archive(
        node, timestamps=False, notice=lambda en, vi: notices.append((en, vi))
    ) as archive:
        assert archive.store.roots == tuple(r.resolve() for r in roots)
    [(en, vi)] = notices
    assert "same device" in en and str(roots[0]) in en and str(roots[1]) in en
    assert "cùng một thiết bị" in vi and str(roots[0]) in vi


async def test_two_devices_are_accepted_in_production(tmp_path: Path, other_device: Path) -> None:
    # not made yet: judged by the folders they will be made in
    roots = (other_device / "copy-a", tmp_path / "copy-b")
    assert TwoCopyStore(*roots).independent_devices
    node = Settings(data_dir=tmp_path / "node", production=True, archive_roots=roots)
    await _migrated(node)
    notices: list[tuple[str, str]] = []
    async with open_archive(
        node, timestamps=False, notice=lambda en, vi: notices.append((en, vi))
    ) as archive:
        assert archive.store.independent_devices
        assert all(root.is_dir() for root in roots)
    assert notices == []


def test_the_command_refuses_in_one_line(tmp_path: Path) -> None:
    env = {
        "LIENTHONG_DATA_DIR": str(tmp_path / "node"),
        "LIENTHONG_PRODUCTION": "true",
        "LIENTHONG_ARCHIVE_ROOTS": f'["{tmp_path / "copy-a"}", "{tmp_path / "copy-b"}"]',
    }
    assert run_cli("db", "upgrade", env=env).code == 0
    for lang, words in (("en", "same device"), ("vi", "cùng một thiết bị")):
        refused = run_cli("archive", "audit", env={**env, "LIENTHONG_LANG": lang})
        assert refused.code == 78, refused.err
        [line] = refused.err.splitlines()
        assert words in line and str(tmp_path / "copy-b") in line
        assert "LIENTHONG_ARCHIVE_ROOTS" in line
        assert "Traceback" not in refused.err
    # the worker refuses at start, not at its first archive round a day later
    worker = run_cli("worker", "--once", env=env)
    assert worker.code == 78, worker.err
    assert "LIENTHONG_ARCHIVE_ROOTS" in worker.err and "Traceback" not in worker.err
    assert not (tmp_path / "copy-a").exists() and not (tmp_path / "copy-b").exists()


async def test_the_workers_schedule_logs_the_refusal_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    roots = (tmp_path / "copy-a", tmp_path / "copy-b")
    node = Settings(data_dir=tmp_path / "node", production=True, archive_roots=roots)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, stop.set)
    with caplog.at_level(logging.ERROR, logger=archiving.__name__):
        await archiving.schedule(node, stop)
    [record] = [r for r in caplog.records if r.name == archiving.__name__]
    assert record.exc_info is None  # a person's message, not a traceback
    message = record.getMessage()
    assert "same device" in message and "cùng một thiết bị" in message
    assert os.fspath(roots[0]) in message
