"""``lienthong incoming receive`` and ``lienthong incoming list`` as a clerk's operator runs
them (real processes), on SQLite and PostgreSQL: one line per document in Vietnamese by
default and in English with ``--lang en``, JSON on request; a malformed package is one error
line and exit 65."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.edxml import build_signed
from exchange.service import Services
from exchange.settings import Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B
from tests.exchange.service.test_incoming import SENDER, add_senders, edoc, key
from tests.plugin import PROJECT_ROOT, Decree30Documents

pytestmark = pytest.mark.db


@pytest.fixture
async def node(
    services: Services, settings: Settings, pki: DevPki, pki_files: Path
) -> dict[str, str]:
    """The environment of a node whose database holds the test agencies and the senders."""
    await add_senders(services, pki)
    trust = settings.data_dir / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pki_files / "root.pem", trust / "root.pem")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(
        LIENTHONG_DATA_DIR=str(settings.data_dir),
        LIENTHONG_DATABASE_URL=str(settings.database_url),
        LIENTHONG_LANG="vi",
    )
    return env


def lienthong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        timeout=300,
    )


async def test_receive_and_list(
    node: dict[str, str], tmp_path: Path, pki: DevPki, decree30: Decree30Documents
) -> None:
    good = tmp_path / "125.edxml"
    good.write_bytes(await build_signed(edoc(decree30.final), key(pki, "agency")))
    forged = tmp_path / "126.edxml"
    forged.write_bytes(
        await build_signed(edoc(decree30.personal, number="126"), key(pki, "agency"))
    )

    first = lienthong(node, "incoming", "receive", str(good), "--agency", AGENCY_A)
    assert first.returncode == 0, first.stderr
    line = first.stdout.strip()
    assert line.startswith("số đến 1/2026 | ")
    assert f"{AGENCY_A} <- {SENDER} Ủy ban nhân dân tỉnh Tây Ninh" in line
    assert "125/UBND-VP Về việc triển khai liên thông văn bản điện tử" in line
    assert "| đã vào sổ |" in line
    assert "chữ ký: hợp lệ (TOTAL-PASSED); pháp lý: đạt (Điều 5 NĐ 30)" in line
    again = lienthong(node, "incoming", "receive", str(good), "--agency", AGENCY_A)
    assert again.returncode == 0 and again.stdout == first.stdout

    rejected = lienthong(
        node, "--lang", "en", "incoming", "receive", str(forged), "--agency", AGENCY_A
    )
    assert rejected.returncode == 0, rejected.stderr
    head, reason = rejected.stdout.strip().splitlines()
    assert head.startswith("arrival - | ") and "| rejected |" in head
    assert "legal: fails (Decree 30 Art. 5)" in head
    assert reason.startswith("  reason: 126-UBND-VP.pdf fails the Decree 30 Art. 5 check")

    listed = lienthong(node, "incoming", "list")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.strip().splitlines()
    assert len(rows) == 2
    assert rows[0] == line and "| bị từ chối |" in rows[1]
    english = lienthong(node, "--lang", "en", "incoming", "list", "--agency", AGENCY_A)
    assert english.stdout.strip().splitlines()[0].startswith("arrival 1/2026 | ")
    assert "| registered | signatures: valid (TOTAL-PASSED); legal: passes" in english.stdout
    records = json.loads(
        lienthong(node, "incoming", "list", "--agency", AGENCY_A, "--format", "json").stdout
    )
    assert [(r["state"], r["arrival_number"]) for r in records] == [
        ("registered", 1),
        ("rejected", None),
    ]
    assert records[1]["reason"]["code"] == "incoming.legal_check"
    assert records[0]["statuses"][1]["status_code"] == "03"
    other = lienthong(node, "incoming", "list", "--agency", AGENCY_B)
    assert other.returncode == 0 and other.stdout.strip() == "chưa có văn bản đến"


async def test_bad_input_is_one_line(node: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.edxml"
    broken.write_bytes(b"<edXMLEnvelope><unclosed>")
    for args, code in (
        ([str(broken)], 65),
        ([str(tmp_path / "missing.edxml")], 66),
        ([str(broken), "--trust", str(tmp_path / "no-root.pem")], 66),
    ):
        proc = lienthong(node, "incoming", "receive", *args, "--agency", AGENCY_A)
        assert proc.returncode == code, (proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lienthong: lỗi: "), proc.stderr
        assert "Traceback" not in proc.stderr
    unknown = lienthong(node, "incoming", "list", "--agency", "000.00.77.H77")
    assert unknown.returncode == 66 and "000.00.77.H77" in unknown.stderr
    records = json.loads(lienthong(node, "incoming", "list", "--format", "json").stdout)
    assert records == []
