"""``lienthong dossier`` as a clerk runs it (real processes): a dossier opened, shown and
listed; refusals are one line with their exit code, Vietnamese by default and English with
``--lang en``, never a traceback; nothing changes on a refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from exchange.accounts import Role
from exchange.incoming import TRUST_DIR
from exchange.settings import Settings
from tests.exchange.service.conftest import AGENCY_A, Seed, bearer
from tests.exchange.service.test_document_cli import lienthong, node, one_line
from tests.exchange.service.test_signing import settings, signed_draft, tsa_urls

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]
__all__ = ["node", "settings", "tsa_urls"]

AGENCY = ("--agency", AGENCY_A)


def test_open_show_list_and_refusals(node: dict[str, str]) -> None:
    made = lienthong(
        node, "dossier", "create", "HS07", "--title", "Hồ sơ hội nghị", "--year", "2026",
        "--maintenance", "vĩnh viễn", "--format", "json", *AGENCY,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout)
    code = f"{AGENCY_A}.2026.HS07"
    assert record["code"] == code and record["maintenance"] == "01" and record["state"] == "open"

    listed = lienthong(node, "dossier", "list", *AGENCY)
    assert listed.returncode == 0 and code in listed.stdout and "đang mở" in listed.stdout
    shown = lienthong(node, "--lang", "en", "dossier", "show", code, *AGENCY)
    assert shown.returncode == 0 and "open" in shown.stdout and "Hồ sơ hội nghị" in shown.stdout

    twice = lienthong(
        node, "dossier", "create", "HS07", "--title", "Lại", "--year", "2026", *AGENCY
    )
    assert twice.returncode == 65 and "đã có" in one_line(twice)
    unknown = lienthong(node, "dossier", "add", code, "--outgoing", "khong-co", *AGENCY)
    assert unknown.returncode == 66 and "Không có văn bản đi" in one_line(unknown)
    neither = lienthong(node, "--lang", "en", "dossier", "add", code, *AGENCY)
    assert neither.returncode == 64 and "Name one document" in one_line(neither)
    bad_code = lienthong(
        node, "dossier", "create", "HS08", "--title", "T", "--maintenance", "mãi mãi", *AGENCY
    )
    assert bad_code.returncode == 64 and "Thời hạn bảo quản" in one_line(bad_code)
    empty = lienthong(node, "--lang", "en", "dossier", "close", code, *AGENCY)
    assert empty.returncode == 65 and "holds no document" in one_line(empty)
    for result in (twice, unknown, neither, bad_code, empty):
        assert "Traceback" not in result.stderr

    after = lienthong(node, "dossier", "show", code, "--format", "json", *AGENCY)
    body = json.loads(after.stdout)
    assert body["state"] == "open" and body["items"] == []
    assert "HS08" not in lienthong(node, "dossier", "list", *AGENCY).stdout


async def test_close_then_seal_and_export(
    node: dict[str, str],
    client: httpx.AsyncClient,
    seeded: Seed,
    sample_pdf: bytes,
    settings: Settings,
    pki_files: Path,
    tmp_path: Path,
) -> None:
    """The clerk's tour to the end: an issued document filed, the dossier closed (what was
    archived is printed), closed again safely, then sealed and exported by the archivist."""
    trust = settings.data_dir / TRUST_DIR
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copy(pki_files / "root.pem", trust / "root.pem")
    doc_id = await signed_draft(client, seeded, sample_pdf, attachments=1)
    issued = await client.post(
        f"/api/v1/documents/{doc_id}/issue", headers=bearer(seeded.tokens[(AGENCY_A, Role.CLERK)])
    )
    assert issued.status_code == 200, issued.text

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _no_traceback(lienthong(node, *args))

    code = f"{AGENCY_A}.2026.HS11"
    made = cli("dossier", "create", "HS11", "--title", "Hồ sơ đóng", "--year", "2026", *AGENCY)
    assert made.returncode == 0, made.stderr
    added = cli("dossier", "add", code, "--outgoing", doc_id, *AGENCY)
    assert added.returncode == 0, added.stderr
    closed = cli("--lang", "en", "dossier", "close", code, *AGENCY)
    assert closed.returncode == 0, closed.stderr
    lines = closed.stdout.splitlines()
    assert lines[-1].startswith(f"dossier {code} closed: 3 file(s)")
    assert [line.split(":")[0].split("-")[0] for line in lines[:-1]] == ["001"] * 3
    assert all(": archived" in line for line in lines[:-1])
    again = cli("--lang", "en", "dossier", "close", code, "--format", "json", *AGENCY)
    assert again.returncode == 0, again.stderr
    assert all(d["already"] for d in json.loads(again.stdout)["archived"])
    more = cli("--lang", "en", "dossier", "add", code, "--outgoing", doc_id, *AGENCY)
    assert more.returncode == 65 and "is closed" in one_line(more)

    sealed = cli("archive", "seal")
    assert sealed.returncode == 0, sealed.stderr
    out = tmp_path / "ho-so.zip"
    exported = cli("archive", "export", code, "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(out) as z:
        assert sum(n.endswith(".edxml") for n in z.namelist()) == 1


def _no_traceback(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return result
