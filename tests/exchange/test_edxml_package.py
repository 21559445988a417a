"""The package signature: what we build and sign verifies with xmlsec1 and with the validation
room, which names the signer's certificate; tampering and the corpus's dummy signatures are
reported with a reason."""

from __future__ import annotations

import subprocess
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from pyhanko.sign.ades.report import AdESStatus

from exchange.edxml import (
    EDXML_NS,
    Edoc,
    build_edoc,
    build_signed,
    parse_package,
    sign_package,
    verify_package,
)
from signing import DevelopmentModeWarning
from signing.dev.pki import DevPki
from tests.exchange.test_edxml_parse import sample_edoc, sample_status
from tests.plugin import require_corpus
from validation import TrustAnchors, ValidationPolicy


def policy(pki_files: Path) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors.from_files({"public": [pki_files / "root.pem"]}),
        revocation="soft",
    )


def agency_key(pki: DevPki):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        return pki.in_memory_key("agency")


def xmlsec1_verify(path: Path, pki_files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--trusted-pem",
            str(pki_files / "root.pem"),
            "--untrusted-pem",
            str(pki_files / "issuing.pem"),
            "--enabled-key-data",
            "x509",
            "--enabled-reference-uris",
            "empty",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
async def signed_package(pki: DevPki) -> bytes:
    return await build_signed(sample_edoc(), agency_key(pki), now=None)


async def test_built_package_verifies_with_xmlsec1_and_the_validator(
    signed_package: bytes, pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    path = tmp_path / "package.edxml"
    path.write_bytes(signed_package)
    checked = xmlsec1_verify(path, pki_files)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stderr

    parsed = parse_package(signed_package)
    assert parsed.signature is not None and parsed.signature.is_xmldsig
    assert isinstance(parsed.message, Edoc)
    assert replace(parsed.message, trace=sample_edoc().trace) == sample_edoc()
    verdict = await verify_package(signed_package, policy(pki_files))
    assert verdict.indication == AdESStatus.PASSED, verdict.reasons
    assert verdict.passed
    assert verdict.signer_certificate == pki.signers["agency"].asn1.dump()
    assert verdict.signature is not None and verdict.signature.signer is not None
    assert verdict.signature.signer.is_organisation


async def test_signature_is_the_last_child_of_the_header(signed_package: bytes) -> None:
    from lxml import etree

    root = etree.fromstring(signed_package)
    header = root.find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader")
    assert header is not None
    assert header[-1].tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
    method = header[-1].find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod")
    assert method is not None
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


async def test_a_changed_attachment_fails(
    signed_package: bytes, pki_files: Path, tmp_path: Path
) -> None:
    # one base64 character of the first payload (outside the envelope, still signed)
    marker = b"<edXML:ContentTransferEncoded"
    at = signed_package.index(b">", signed_package.index(marker)) + 10
    swapped = b"A" if signed_package[at : at + 1] != b"A" else b"B"
    tampered = signed_package[:at] + swapped + signed_package[at + 1 :]
    verdict = await verify_package(tampered, policy(pki_files))
    assert verdict.indication == AdESStatus.FAILED
    assert verdict.reasons
    path = tmp_path / "tampered.edxml"
    path.write_bytes(tampered)
    assert xmlsec1_verify(path, pki_files).returncode != 0


async def test_untrusted_signer_is_not_passed(signed_package: bytes) -> None:
    verdict = await verify_package(signed_package, ValidationPolicy(revocation="soft"))
    assert verdict.indication == AdESStatus.INDETERMINATE
    assert verdict.signer_certificate is not None  # still named, for the directory check


async def test_signed_status_message_verifies(pki: DevPki, pki_files: Path, tmp_path: Path) -> None:
    signed = await build_signed(sample_status(), agency_key(pki))
    assert parse_package(signed).message == sample_status()
    path = tmp_path / "status.edxml"
    path.write_bytes(signed)
    assert xmlsec1_verify(path, pki_files).returncode == 0
    assert (await verify_package(signed, policy(pki_files))).passed


async def test_unsigned_package_is_reported_without_signature(pki_files: Path) -> None:
    verdict = await verify_package(build_edoc(sample_edoc()), policy(pki_files))
    assert not verdict.passed
    assert verdict.signature is None
    assert verdict.signer_certificate is None
    assert verdict.reasons


@pytest.mark.parametrize(
    "name", ["edoc_new.edxml", "edoc_update.edxml", "status_processing_05.edxml"]
)
async def test_corpus_dummy_signatures_are_reported_invalid_with_a_reason(
    name: str, pki_files: Path
) -> None:
    data = (require_corpus() / "edxml" / name).read_bytes()
    parse_package(data)
    verdict = await verify_package(data, policy(pki_files))
    assert not verdict.passed
    assert verdict.reasons, verdict.report
    assert all(f.en and f.vi for f in verdict.reasons)
    if name != "status_processing_05.edxml":  # the status sample has no signature at all
        assert verdict.signature is not None
        assert any("namespace" in f.en or "XMLDSig" in f.en for f in verdict.reasons), [
            f.en for f in verdict.reasons
        ]


async def test_sign_package_keeps_the_message(pki: DevPki) -> None:
    unsigned = build_edoc(sample_edoc())
    signed = await sign_package(unsigned, agency_key(pki))
    assert parse_package(signed).message == parse_package(unsigned).message


async def test_read_package_parses_and_judges_a_file(
    signed_package: bytes, pki_files: Path, tmp_path: Path
) -> None:
    import hashlib

    from exchange.edxml import EdxmlUnreadable, read_package

    path = tmp_path / "in.edxml"
    path.write_bytes(signed_package)
    parsed, verdict = await read_package(path, policy(pki_files))
    assert parsed.sha256 == hashlib.sha256(signed_package).hexdigest()
    assert verdict.passed
    path.write_bytes(b"<edXML")
    with pytest.raises(EdxmlUnreadable):
        await read_package(path, policy(pki_files))


async def test_the_receiver_answers_with_a_status_naming_the_package(
    signed_package: bytes, pki: DevPki, pki_files: Path
) -> None:
    import hashlib

    from exchange.edxml import EdxmlBadValue, Organ, StatusCode, status_for

    received = parse_package(signed_package)
    receiver = Organ(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ")
    status = status_for(received, sender=receiver, code=StatusCode.DELIVERED)
    assert status.response_for.document_id == "000.00.00.H53,2026/11/30,125/UBND-VP"
    assert status.response_for.code == "125/UBND-VP"
    assert status.received_package_sha256 == hashlib.sha256(signed_package).hexdigest()
    answer = await build_signed(status, agency_key(pki))
    assert parse_package(answer).message == status
    with pytest.raises(EdxmlBadValue):
        status_for(received, sender=Organ(organ_id="000.00.00.G01"), code=StatusCode.DELIVERED)
    with pytest.raises(EdxmlBadValue):
        status_for(parse_package(answer), sender=receiver, code=StatusCode.DELIVERED)


async def test_signed_by_one_of_the_directory_certificates(
    signed_package: bytes, pki: DevPki, pki_files: Path
) -> None:
    verdict = await verify_package(signed_package, policy(pki_files))
    agency = pki.signers["agency"].asn1.dump()
    other = pki.signers["personal"].asn1.dump()
    assert verdict.signed_by_one_of([other, agency])
    assert not verdict.signed_by_one_of([other])
    untrusted = await verify_package(signed_package, ValidationPolicy(revocation="soft"))
    assert not untrusted.signed_by_one_of([agency])  # named, but not a valid signature
