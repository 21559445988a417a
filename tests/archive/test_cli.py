"""The archivist's commands through the real ``lienthong`` program, on the embedded default
(SQLite, two copies in the data directory, the development TSA started by the command): the
contract of options, output and exit codes the README gives."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.plugin import CliResult, run_cli


@pytest.fixture
def node(tmp_path: Path) -> dict[str, str]:
    env = {"LIENTHONG_DATA_DIR": str(tmp_path / "node"), "LIENTHONG_LANG": "en"}
    assert run_cli("db", "upgrade", env=env).code == 0
    return env


def archive(env: dict[str, str], *args: str) -> CliResult:
    return run_cli("archive", *args, env=env)


def test_the_archivists_tour(
    node: dict[str, str], signed_pdf: Path, pki_files: Path, tmp_path: Path
) -> None:
    trust = str(pki_files / "root.pem")
    missing = archive(node, "ingest", str(tmp_path / "none.pdf"), "--dossier", "D1", "--title", "T")
    assert missing.code == 66 and "does not exist" in missing.err
    no_title = archive(node, "ingest", str(signed_pdf), "--dossier", "D1")
    assert no_title.code == 64 and "--title" in no_title.err

    ingested = archive(
        node,
        "ingest",
        str(signed_pdf),
        "--dossier",
        "D1",
        "--title",
        "Hồ sơ",
        "--trust",
        trust,
        "--format",
        "json",
    )
    assert ingested.code == 0, ingested.err
    assert "development TSA" in ingested.err  # it says so
    body = json.loads(ingested.out)
    assert body["documents"][0]["indication"] == "TOTAL-PASSED"
    assert body["documents"][0]["augmented"]

    export = tmp_path / "d1.zip"
    unsealed = archive(node, "export", "D1", "-o", str(export))
    assert unsealed.code == 65 and "seal" in unsealed.err
    sealed = archive(node, "seal")
    assert sealed.code == 0 and "sealed 1 document(s) under 1" in sealed.out, sealed.err
    assert archive(node, "audit").code == 0
    plan = archive(node, "renew", "--dry-run")
    assert plan.code == 0 and "nothing needs renewal" in plan.out
    later = archive(node, "renew", "--dry-run", "--at", "2031-06-01")
    assert later.code == 0 and "timestamp renewal" in later.out

    exported = archive(node, "export", "D1", "-o", str(export))
    assert exported.code == 0, exported.err
    dev_root = Path(node["LIENTHONG_DATA_DIR"]) / "archive" / "dev-pki" / "root.pem"
    verified = run_cli("archive", "verify", str(export), "--trust", trust, "--trust", str(dev_root))
    assert verified.code == 0, verified.out + verified.err
    assert "everything holds" in verified.out
    # it says what it proves: the documents and the dossier's composition, not EAD or PREMIS
    assert "holds exactly the documents of the composition record" in verified.out
    assert "not signed by the archive" in verified.out
    assert "(EAD, PREMIS) is not covered" in verified.out

    # elsewhere: only the package and the roots, no database
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    moved = alone / "d1.zip"
    moved.write_bytes(export.read_bytes())
    verified = run_cli(
        "archive",
        "verify",
        str(moved),
        "--trust",
        trust,
        "--trust",
        str(dev_root),
        env={"LIENTHONG_DATA_DIR": str(alone / "none")},
    )
    assert verified.code == 0, verified.out
    assert not (alone / "none").exists()

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(export) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(f"data/{signed_pdf.name}"):
                data = data.replace(b"/Type", b"/Typf", 1)
            zout.writestr(info, data)
    bad = run_cli("archive", "verify", str(tampered), "--trust", trust, "--trust", str(dev_root))
    assert bad.code == 1 and signed_pdf.name in bad.out and "NOT proven" in bad.out
    stubbed = tmp_path / "stubbed.zip"  # a second reading hidden in front of the package
    stubbed.write_bytes(b"PK\x03\x04" + b"\x00" * 60 + export.read_bytes())
    refused = run_cli("archive", "verify", str(stubbed), "--trust", trust, "--lang", "en")
    assert refused.code == 65 and "offsets do not add up" in refused.err, refused.err
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err

    late = run_cli(
        "archive",
        "verify",
        str(export),
        "--at",
        "2045-01-01",
        "--trust",
        trust,
        "--trust",
        str(dev_root),
    )
    assert late.code == 1  # no renewal: the development TSA's certificate has expired

    shown = archive(node, "show", "D1", "--format", "json")
    events = [e["type"] for e in json.loads(shown.out)["events"]]
    assert {"ingestion", "validation", "migration", "seal", "fixity check"} <= set(events)
    unknown = archive(node, "show", "D9")
    assert unknown.code == 64 and "D9" in unknown.err
    refused = archive(node, "dispose", "D1", "--approved-by", "Nguyễn Văn A")
    assert refused.code == 64 and "permanently" in refused.err


def test_vietnamese_by_default(node: dict[str, str]) -> None:
    shown = run_cli("archive", "show", "D9", env={**node, "LIENTHONG_LANG": "vi"})
    assert shown.code == 64 and "không có hồ sơ D9" in shown.err
