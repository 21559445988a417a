"""``lienthong edxml build | verify | inspect`` as a clerk or a script runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signing.dev.pki import DevPki
from tests.exchange.test_edxml_package import xmlsec1_verify
from tests.plugin import SoftHsmToken, require_corpus, run_cli

SPEC = """\
subject = "Về việc triển khai liên thông văn bản điện tử"
content = "Đề nghị các cơ quan phối hợp thực hiện."
to_places = ["Như trên", "Lưu: VT"]
steering_type = 1
due_date = 2026-12-15

[from]
organ_id = "000.00.00.H53"
organ_name = "Ủy ban nhân dân tỉnh Tây Ninh"
email = "ubnd@tayninh.gov.vn"

[[to]]
organ_id = "000.00.00.G22"
organ_name = "Văn phòng Chính phủ"

[[to]]
organ_id = "000.00.11.H53"
organ_name = "Sở Tài chính"

[code]
number = "125"
notation = "UBND-VP"

[promulgation]
place = "Tây Ninh"
date = 2026-11-30

[document_type]
type = 2
type_name = "Công văn"

[signer]
full_name = "Nguyễn Thị Hương Giang"
position = "Phó Chủ tịch"
competence = "KT. CHỦ TỊCH"

[other_info]
priority = 1
page_amount = 2

[bussiness.staff_info]
department = "Văn phòng"
staff = "Trần Văn Thư"

[[attachments]]
file = "125-UBND-VP.pdf"
description = "Công văn 125/UBND-VP"

[[attachments]]
file = "phu-luc.txt"
name = "Phụ lục I.txt"
zip = true
"""


@pytest.fixture(scope="module")
def workdir(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edxml-cli")
    (folder / "spec.toml").write_text(SPEC, encoding="utf-8")
    (folder / "125-UBND-VP.pdf").write_bytes(b"%PDF-1.7\n% a test file\n%%EOF\n")
    (folder / "phu-luc.txt").write_text("Phụ lục I: danh sách cơ quan\n" * 50, encoding="utf-8")
    (folder / "agency.p12").write_bytes(pki.pkcs12("agency", b"pw"))
    (folder / "root.pem").write_bytes(pki.root.cert_pem())
    return folder


@pytest.fixture(scope="module")
def package(workdir: Path) -> Path:
    out = workdir / "out.edxml"
    result = run_cli(
        "edxml",
        "build",
        str(workdir / "spec.toml"),
        "-o",
        str(out),
        "--key",
        str(workdir / "agency.p12"),
        "--pin-env",
        "PW",
        env={"PW": "pw"},
    )
    assert result.code == 0, result.err
    assert result.out.strip().endswith("bytes)")
    return out


def test_build_verifies_with_xmlsec1(package: Path, pki_files: Path) -> None:
    checked = xmlsec1_verify(package, pki_files)
    assert checked.returncode == 0, checked.stderr


def test_verify_passes_with_the_trust_anchor(package: Path, workdir: Path) -> None:
    result = run_cli("edxml", "verify", str(package), "--trust", str(workdir / "root.pem"))
    assert result.code == 0, result.out + result.err
    assert result.out.startswith(f"{package}: TOTAL-PASSED (valid); signed by: ")


def test_verify_without_trust_is_indeterminate(package: Path) -> None:
    result = run_cli("edxml", "verify", str(package))
    assert result.code == 2
    assert "INDETERMINATE" in result.out


def test_inspect_json_has_every_field(package: Path, workdir: Path) -> None:
    result = run_cli(
        "edxml", "inspect", str(package), "--format", "json", "--trust", str(workdir / "root.pem")
    )
    assert result.code == 0, result.err
    report = json.loads(result.out)
    message = report["message"]
    assert report["kind"] == "edoc"
    assert message["from"]["organ_id"] == "000.00.00.H53"
    assert [t["organ_id"] for t in message["to"]] == ["000.00.00.G22", "000.00.11.H53"]
    assert message["document_id"] == "000.00.00.H53,2026/11/30,125/UBND-VP"
    assert message["code"] == {"number": "125", "notation": "UBND-VP"}
    assert message["promulgation"] == {"place": "Tây Ninh", "date": "2026-11-30"}
    assert message["document_type"]["type_name"] == "Công văn"
    assert message["signer"]["full_name"] == "Nguyễn Thị Hương Giang"
    assert message["other_info"]["priority"] == 1
    assert message["steering_type"] == 1
    assert message["trace"]["bussiness"]["doc_type"] == 0
    assert message["trace"]["bussiness"]["staff_info"]["staff"] == "Trần Văn Thư"
    first, second = message["attachments"]
    assert (first["name"], first["content_type"], first["size"]) == (
        "125-UBND-VP.pdf",
        "application/pdf",
        len((workdir / "125-UBND-VP.pdf").read_bytes()),
    )
    assert second["name"] == "Phụ lục I.txt" and second["zipped"]
    assert len(second["sha256"]) == 64
    assert report["signature"]["indication"] == "TOTAL-PASSED"
    assert report["signature"]["signer"]["is_organisation"]


def test_inspect_text_in_vietnamese(package: Path, workdir: Path) -> None:
    result = run_cli(
        "edxml",
        "inspect",
        str(package),
        "--trust",
        str(workdir / "root.pem"),
        env={"LIENTHONG_LANG": "vi"},
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "From.OrganId: 000.00.00.H53" in lines
    assert "Subject: Về việc triển khai liên thông văn bản điện tử" in lines
    assert "OtherInfo.Priority: 1 (Khẩn)" in lines
    assert any(line.startswith("  [2] Phụ lục I.txt  text/plain (zip)") for line in lines)
    assert any(
        line.startswith("Chữ ký gói tin: TOTAL-PASSED (hợp lệ); người ký: ") for line in lines
    )


def test_inspect_status_message(workdir: Path, package: Path) -> None:
    spec = workdir / "status.json"
    spec.write_text(
        json.dumps(
            {
                "kind": "status",
                "from": {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
                "response_for": {
                    "organ_id": "000.00.00.H53",
                    "document_id": "000.00.00.H53,2026/11/30,125/UBND-VP",
                    "code": "125/UBND-VP",
                    "promulgation_date": "2026-11-30",
                },
                "status_code": "03",
                "description": "Đã vào sổ văn bản đến",
                "received_package": package.name,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    out = workdir / "status.edxml"
    built = run_cli(
        "edxml", "build", str(spec), "-o", str(out), "--key", str(workdir / "agency.p12"),
        "--pin-env", "PW", env={"PW": "pw"},
    )  # fmt: skip
    assert built.code == 0, built.err
    result = run_cli("edxml", "inspect", str(out), "--format", "json")
    report = json.loads(result.out)
    import hashlib

    assert report["kind"] == "status"
    assert report["message"]["status_code"] == "03"
    assert report["message"]["description"] == "Đã vào sổ văn bản đến"
    assert report["message"]["response_for"]["document_id"].endswith("125/UBND-VP")
    assert (
        report["message"]["received_package_sha256"]
        == hashlib.sha256(package.read_bytes()).hexdigest()
    )
    text = run_cli("edxml", "inspect", str(out)).out
    assert "StatusCode: 03 (Đã tiếp nhận (vào sổ))" in text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_not_well_formed_is_one_line_and_65(tmp_path: Path, lang: str) -> None:
    bad = tmp_path / "bad.edxml"
    bad.write_text("<edXML><unclosed></edXML>", encoding="utf-8")
    for command in ("verify", "inspect"):
        result = run_cli("--lang", lang, "edxml", command, str(bad))
        assert result.code == 65
        assert result.out == ""
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, result.err
        expected = "lỗi: tệp không phải XML hợp lệ" if lang == "vi" else "error: the file is not"
        assert lines[0].startswith(f"lienthong: {expected}")
        assert "Traceback" not in result.err


def test_refused_package_names_the_element(tmp_path: Path, package: Path) -> None:
    broken = tmp_path / "broken.edxml"
    broken.write_bytes(package.read_bytes().replace(b"000.00.11.H53", b"000.00.00.G22"))
    result = run_cli("edxml", "inspect", str(broken))
    assert result.code == 65
    assert result.err.strip() == (
        "lienthong: error: M.MessageHeader.To[2].OrganId: the recipient 000.00.00.G22 is listed"
        " twice"
    )


def test_missing_file_is_66(tmp_path: Path) -> None:
    result = run_cli("edxml", "verify", str(tmp_path / "nothing.edxml"))
    assert result.code == 66
    assert "does not exist" in result.err


def test_build_refusals_leave_no_output(workdir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace('full_name = "Nguyễn Thị Hương Giang"\n', ""), encoding="utf-8")
    for name in ("125-UBND-VP.pdf", "phu-luc.txt"):
        (tmp_path / name).write_bytes((workdir / name).read_bytes())
    out = tmp_path / "out.edxml"
    args = ("--key", str(workdir / "agency.p12"), "--pin-env", "PW")
    result = run_cli("edxml", "build", str(spec), "-o", str(out), *args, env={"PW": "pw"})
    assert result.code == 65
    assert result.err.strip().endswith(
        "N.MessageHeader.SignerInfo.FullName: the signer's name is missing"
    )
    assert not out.exists()
    spec.write_text(SPEC.replace("[signer]", "[signer]\ntitle = 'x'"), encoding="utf-8")
    result = run_cli("edxml", "build", str(spec), "-o", str(out), *args, env={"PW": "pw"})
    assert result.code == 64
    assert "unknown key 'title' in signer" in result.err
    spec.write_text(SPEC, encoding="utf-8")
    result = run_cli("edxml", "build", str(spec), "-o", str(out), *args, env={"PW": "wrong"})
    assert result.code == 77, result.err  # the PKCS#12 password
    assert len(result.err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.hsm
def test_build_with_a_token_key(workdir: Path, token: SoftHsmToken, tmp_path: Path) -> None:
    out = tmp_path / "hsm.edxml"
    result = run_cli(
        "edxml", "build", str(workdir / "spec.toml"), "-o", str(out), "--key",
        token.uri("agency"), "--pin-env", "PIN", env={"PIN": token.pin},
    )  # fmt: skip
    assert result.code == 0, result.err
    verified = run_cli("edxml", "verify", str(out), "--trust", str(workdir / "root.pem"))
    assert verified.code == 0, verified.out


def test_corpus_samples_inspect_with_a_clear_reason() -> None:
    corpus = require_corpus() / "edxml"
    result = run_cli("edxml", "verify", str(corpus / "edoc_new.edxml"), "--offline")
    assert result.code == 2
    assert "INDETERMINATE" in result.out
    assert "non-standard signature element" in result.out
    status = run_cli("edxml", "inspect", str(corpus / "status_processing_05.edxml"))
    assert status.code == 0, status.err
    assert "StatusCode: 05 (Đang xử lý)" in status.out
    assert "no XMLDSig signature" in status.out
