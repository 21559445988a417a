"""``lienthong verify`` as scripts call it: formats, languages and the exit-code contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signing import (
    Anchor,
    AppearanceSpec,
    Level,
    PadesSigner,
    PadesSpec,
    Profile,
    add_text_fields,
    fill_text_fields,
)
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import run_cli


@pytest.fixture(scope="module")
async def signed_docs(
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    signature_png: bytes,
    seal_png: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("verify")
    personal_spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=signature_png,
            placement=Anchor(text="Nguyễn Thị Hương Giang", above="PHÓ GIÁM ĐỐC"),
        )
    )
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), personal_spec).sign_bytes(
        add_text_fields(sample_pdf)
    )
    numbered = fill_text_fields(personal, {"so": "9", "ngay": "28", "thang": "11"})
    agency_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=(dev_services.tsa_url,),
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png),
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), agency_spec).sign_bytes(numbered)
    attachment_spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.ATTACHMENT, text_lines=("9/STTTT-VP",))
    )
    attachment, _ = await PadesSigner(pki.in_memory_key("agency"), attachment_spec).sign_bytes(
        sample_pdf
    )
    tampered = bytearray(final)
    at = final.index(b"/Contents", len(final) // 3)
    tampered[at - 40] ^= 0x01  # a byte inside the signed range of the last revision
    docs = {
        "final": final,
        "attachment": attachment,
        "personal": numbered,
        "tampered": bytes(tampered),
        "unsigned": sample_pdf,
        "garbage": b"%PDF-1.7\n\x00\x01 not really\n",
    }
    paths = {}
    for name, data in docs.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


def test_valid_document_exit_0_in_three_formats(
    signed_docs: dict[str, Path], pki_files: Path, tmp_path: Path
) -> None:
    trust = ["--trust", str(pki_files / "root.pem")]
    text = run_cli("--lang", "vi", "verify", str(signed_docs["final"]), *trust)
    assert text.code == 0, text.out + text.err
    assert "HỢP LỆ (TOTAL-PASSED)" in text.out
    assert "Giá trị pháp lý (Điều 5 NĐ 30/2020): ĐỦ" in text.out
    result = run_cli("verify", str(signed_docs["final"]), *trust, "--format", "json")
    assert result.code == 0
    [report] = json.loads(result.out)["reports"]
    assert report["indication"] == "TOTAL-PASSED" and report["sub_indication"] is None
    assert report["legal"] == {
        **report["legal"],
        "valid": True,
        "personal": "personal-1",
        "agency": "agency-1",
    }
    roles = {s["id"]: s["role"] for s in report["signatures"] if s["kind"] == "signature"}
    assert roles == {"personal-1": "personal", "agency-1": "agency"}
    page = tmp_path / "report.html"
    html = run_cli(
        "verify",
        str(signed_docs["final"]),
        *trust,
        "--format",
        "html",
        "--lang",
        "en",
        "-o",
        str(page),
    )
    assert html.code == 0 and "VALID (TOTAL-PASSED)" in page.read_text()


def test_personal_only_fails_the_legal_check_with_reason(
    signed_docs: dict[str, Path], pki_files: Path
) -> None:
    args = ["verify", str(signed_docs["personal"]), "--trust", str(pki_files / "root.pem")]
    plain = run_cli(*args)
    assert plain.code == 0, plain.out
    assert "no signature of the agency" in plain.out
    strict = run_cli(*args, "--require-legal", "--format", "json")
    assert strict.code == 3
    legal = json.loads(strict.out)["reports"][0]["legal"]
    assert legal["valid"] is False and legal["reasons"][0]["code"] == "legal.no_agency_signature"


@pytest.mark.parametrize(
    ("name", "trust", "code", "indication", "sub"),
    [
        ("tampered", True, 1, "TOTAL-FAILED", None),
        ("final", False, 2, "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
        ("unsigned", True, 2, "INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        ("garbage", True, 1, "TOTAL-FAILED", "FORMAT_FAILURE"),
    ],
)
def test_exit_codes(
    signed_docs: dict[str, Path],
    pki_files: Path,
    name: str,
    trust: bool,
    code: int,
    indication: str,
    sub: str | None,
) -> None:
    args = ["verify", str(signed_docs[name]), "--format", "json", "--offline"]
    if trust:
        args += ["--trust", str(pki_files / "root.pem")]
    result = run_cli(*args)
    assert result.code == code, result.out + result.err
    assert "Traceback" not in result.err
    [report] = json.loads(result.out)["reports"]
    assert report["indication"] == indication
    if sub is not None:
        assert report["sub_indication"] == sub


def test_missing_file_and_usage_errors(signed_docs: dict[str, Path], tmp_path: Path) -> None:
    missing = run_cli("verify", str(tmp_path / "nope.pdf"), "--format", "json")
    assert missing.code == 66  # the README's exit code for a missing input
    assert missing.out == "" and "nope.pdf" in missing.err
    assert run_cli("verify").code == 64
    assert run_cli("verify", str(signed_docs["final"]), "--at", "yesterday").code == 64
    assert run_cli("verify", str(signed_docs["final"]), "--revocation", "maybe").code == 64
    bad_trust = run_cli("verify", str(signed_docs["final"]), "--trust", str(tmp_path / "x.pem"))
    assert bad_trust.code == 66 and "x.pem" in bad_trust.err  # a missing input


def test_evidence_export(signed_docs: dict[str, Path], pki_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    result = run_cli(
        "verify",
        str(signed_docs["final"]),
        "--trust",
        str(pki_files / "root.pem"),
        "--evidence",
        str(out),
    )
    assert result.code == 0
    [folder] = out.iterdir()
    assert (folder / "report.json").exists()
    assert list((folder / "certificates").iterdir())
    assert list((folder / "timestamps").iterdir())
    assert (folder / "SHA256SUMS").read_text().count("\n") >= 3


def test_separate_attachment_needs_only_the_agency_signature(
    signed_docs: dict[str, Path], pki_files: Path
) -> None:
    args = [
        "verify",
        str(signed_docs["attachment"]),
        "--trust",
        str(pki_files / "root.pem"),
        "--require-legal",
        "--format",
        "json",
    ]
    as_main = run_cli(*args)
    assert as_main.code == 3
    as_attachment = run_cli(*args, "--kind", "attachment")
    assert as_attachment.code == 0, as_attachment.out
    legal = json.loads(as_attachment.out)["reports"][0]["legal"]
    assert legal["valid"] is True and legal["rule"] == "decree30-app1-attachment"


def test_bad_inputs_to_verify_are_clear(
    signed_docs: dict[str, Path], pki_files: Path, tmp_path: Path
) -> None:
    trust = ["--trust", str(pki_files / "root.pem")]
    doc = str(signed_docs["final"])
    bad_crl = run_cli("verify", doc, *trust, "--crl", str(pki_files / "root.pem"))
    assert bad_crl.code == 64 and "is not a CRL" in bad_crl.err, bad_crl.err
    assert "Traceback" not in bad_crl.err
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    assert run_cli("verify", doc, "--trust", str(empty)).code == 64
    blocked = signed_docs["unsigned"] / "under-a-file"
    out = run_cli("verify", doc, *trust, "-o", str(blocked))
    assert out.code == 73, out.err
    ev = run_cli("verify", doc, *trust, "--evidence", str(blocked))
    assert ev.code == 73 and "evidence" in ev.err
