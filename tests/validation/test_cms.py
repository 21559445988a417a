"""CMS signatures (.p7s): made by openssl and by pyHanko, detached and attached, with and
without a signature timestamp, and the attacks and policy cases of issue 3. ``openssl cms
-verify`` is the second opinion on the valid ones."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, crl, pem, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import (
    BasicConstraints,
    CertificateBuilder,
    Name,
    NameAttribute,
    SubjectKeyIdentifier,
    random_serial_number,
)
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.dev.pki import DevPki, Identity, KeySpec, SignerSpec
from signing.dev.services import DevServices
from signing.tsa import HttpTimestamper
from validation.cms import validate_cms
from validation.document import detect_format, validate_bytes
from validation.policy import TrustAnchors, ValidationPolicy
from validation.report import Role, SignatureReport, Unparseable, people_time

DATA = "Công văn số 123/STTTT-VP: đề nghị phối hợp.\n".encode()


def _policy(pki: DevPki, **kw: Any) -> ValidationPolicy:
    return replace(ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)})), **kw)


def _offline(pki: DevPki, **kw: Any) -> ValidationPolicy:
    """Offline, with fresh CRLs of both CAs supplied."""
    return _policy(pki, offline=True, crls=(pki.crl("issuing"), pki.crl("root")), **kw)


def openssl_sign(
    tmp_path: Path,
    pki: DevPki,
    ident: Identity,
    data: bytes = DATA,
    *,
    attached: bool = False,
    extra: tuple[str, ...] = (),
) -> bytes:
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "key.pem").write_bytes(ident.key_pem())
    (tmp_path / "cert.pem").write_bytes(ident.cert_pem())
    (tmp_path / "chain.pem").write_bytes(pki.chain_pem())
    out = tmp_path / "sig.p7s"
    subprocess.run(
        [
            "openssl",
            "cms",
            "-sign",
            "-binary",
            "-in",
            str(tmp_path / "data"),
            "-signer",
            str(tmp_path / "cert.pem"),
            "-inkey",
            str(tmp_path / "key.pem"),
            "-certfile",
            str(tmp_path / "chain.pem"),
            "-outform",
            "DER",
            "-out",
            str(out),
            *(("-nodetach",) if attached else ()),
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


async def pyhanko_sign(
    pki: DevPki,
    ident: Identity,
    data: bytes = DATA,
    *,
    detached: bool = True,
    tsa_url: str | None = None,
) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=ident.asn1,
        signing_key=ident.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
    )
    timestamper = None if tsa_url is None else HttpTimestamper([tsa_url])
    info = await signer.async_sign_general_data(
        data, "sha256", detached=detached, timestamper=timestamper
    )
    return bytes(info.dump())


def openssl_verify(tmp_path: Path, pki: DevPki, sig: bytes, data: bytes | None = DATA) -> bool:
    (tmp_path / "root.pem").write_bytes(pki.root.cert_pem())
    (tmp_path / "verify.p7s").write_bytes(sig)
    content = () if data is None else ("-content", str(tmp_path / "verify.data"))
    if data is not None:
        (tmp_path / "verify.data").write_bytes(data)
    proc = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "verify.p7s"),
            *content,
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-out",
            str(tmp_path / "verify.out"),
        ],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _one(outcome_sigs: tuple[SignatureReport, ...]) -> SignatureReport:
    [sig] = outcome_sigs
    return sig


def _codes(sig: SignatureReport) -> set[str]:
    return {f.code for f in sig.findings}


def _issue(pki: DevPki, name: str, key: KeySpec = "rsa2048") -> Identity:
    """A signer of its own for tests that revoke or need odd keys (the PKI is shared)."""
    if name in pki.signers:
        return pki.signers[name]
    return pki.issue(
        SignerSpec(name=name, kind="individual", common_name="Hoàng Văn Kiểm", key=key)
    )


def _flip_signature(sig: bytes) -> bytes:
    info = cms.ContentInfo.load(sig)
    signer_info = info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[len(value) // 2] ^= 0x01
    signer_info["signature"] = bytes(value)
    return bytes(info.dump(force=True))


# -- valid signatures --------------------------------------------------------------------------


async def test_openssl_detached_agency_online(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"])
    assert detect_format(sig) == "cms"
    outcome = await validate_cms(sig, _policy(pki), detached_data=DATA)
    s = _one(outcome.signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.PASSED, None), s.findings
    assert s.id == "cms-1" and s.kind == "signature"
    assert s.role is Role.AGENCY and s.signer is not None and s.signer.is_organisation
    assert (s.integrity, s.signature_valid, s.trusted) == (True, True, True)
    assert s.certificate_valid_at_signing_time is True
    assert s.trust_purpose == "public" and s.trust_anchor is not None
    assert "Lienthong Dev Root CA" in s.trust_anchor
    assert s.revocation.status == "good" and s.revocation.source == "online"
    assert s.claimed_signing_time is not None and s.timestamp is None
    assert s.digest_algorithm == "sha256"
    assert "time.no_timestamp" in _codes(s)
    assert pki.signers["agency"].asn1.dump() in outcome.evidence.certificates
    assert pki.root.asn1.dump() in outcome.evidence.certificates
    assert outcome.evidence.ocsp_responses or outcome.evidence.crls
    assert openssl_verify(tmp_path, pki, sig)


async def test_openssl_attached_personal(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"], attached=True)
    outcome = await validate_cms(sig, _offline(pki), detached_data=None)
    s = _one(outcome.signatures)
    assert s.passed, s.findings
    assert s.role is Role.PERSONAL
    assert s.revocation.status == "good" and s.revocation.source == "supplied"
    # the same content given alongside changes nothing
    again = await validate_cms(sig, _offline(pki), detached_data=DATA)
    assert _one(again.signatures).passed
    assert openssl_verify(tmp_path, pki, sig, data=None)


async def test_attached_with_other_data_is_hash_failure(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"], attached=True)
    outcome = await validate_cms(sig, _offline(pki), detached_data=DATA + b"!")
    s = _one(outcome.signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)
    assert s.integrity is False
    assert "cms.content_mismatch" in {f.code for f in outcome.findings}


async def test_pem_armour_and_subject_key_identifier(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal-ec"], extra=("-keyid",))
    armoured = pem.armor("CMS", sig)
    s = _one((await validate_cms(armoured, _offline(pki), detached_data=DATA)).signatures)
    assert s.passed, s.findings
    assert s.signature_algorithm is not None and "ecdsa" in s.signature_algorithm


async def test_pyhanko_detached_with_signature_timestamp(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    sig = await pyhanko_sign(pki, pki.signers["personal"], tsa_url=dev_services.tsa_url)
    outcome = await validate_cms(sig, _policy(pki), detached_data=DATA)
    s = _one(outcome.signatures)
    assert s.passed, s.findings
    assert s.timestamp is not None and s.timestamp.valid
    assert s.timestamp.kind == "signature-timestamp"
    assert "Lienthong Dev TSA" in s.timestamp.tsa
    assert s.best_signature_time == s.timestamp.time
    assert "cms.timestamp" in _codes(s) and "time.no_timestamp" not in _codes(s)
    assert len(outcome.evidence.timestamp_tokens) == 1
    assert pki.tsa.asn1.dump() in outcome.evidence.certificates
    assert openssl_verify(tmp_path, pki, sig)


async def test_pyhanko_attached(pki: DevPki) -> None:
    sig = await pyhanko_sign(pki, pki.signers["agency-ec"], detached=False)
    s = _one((await validate_cms(sig, _offline(pki), detached_data=None)).signatures)
    assert s.passed, s.findings
    assert s.role is Role.AGENCY


async def test_two_signers_make_the_document_legal(pki: DevPki, tmp_path: Path) -> None:
    (tmp_path / "agency.key").write_bytes(pki.signers["agency"].key_pem())
    (tmp_path / "agency.pem").write_bytes(pki.signers["agency"].cert_pem())
    sig = openssl_sign(
        tmp_path,
        pki,
        pki.signers["personal"],
        extra=("-signer", str(tmp_path / "agency.pem"), "-inkey", str(tmp_path / "agency.key")),
    )
    report = await validate_bytes(sig, _offline(pki), name="cv.p7s", detached_data=DATA)
    assert report.format == "cms"
    assert [s.id for s in report.signatures] == ["cms-1", "cms-2"]
    assert {s.role for s in report.signatures} == {Role.PERSONAL, Role.AGENCY}
    assert report.indication is AdESStatus.PASSED
    assert report.legal.valid, report.legal.reasons


# -- data and format problems ----------------------------------------------------------------


async def test_tampered_data_is_hash_failure(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"])
    tampered = DATA.replace(b"123", b"124")
    s = _one((await validate_cms(sig, _offline(pki), detached_data=tampered)).signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)
    assert s.integrity is False
    assert "cms.hash_failure" in _codes(s)
    assert not openssl_verify(tmp_path, pki, sig, tampered)


async def test_damaged_signature_is_sig_crypto_failure(pki: DevPki, tmp_path: Path) -> None:
    sig = _flip_signature(openssl_sign(tmp_path, pki, pki.signers["agency"]))
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.SIG_CRYPTO_FAILURE,
    )
    assert s.signature_valid is False
    assert not openssl_verify(tmp_path, pki, sig)


async def test_missing_detached_data(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    before = len(dev_services.requests)
    report = await validate_bytes(sig, _policy(pki), name="x.p7s")
    s = _one(report.signatures)
    assert (report.indication, report.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
    )
    assert s.integrity is None and s.signer is not None and s.role is Role.PERSONAL
    assert "cms.data_missing" in {f.code for f in report.findings}
    assert len(dev_services.requests) == before


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x30\x03\x02\x01\x00", b"not a signature", b"-----BEGIN CERTIFICATE-----\n-----END"],
)
async def test_unparseable(pki: DevPki, garbage: bytes) -> None:
    with pytest.raises(Unparseable) as info:
        await validate_cms(garbage, _offline(pki), detached_data=DATA)
    assert info.value.finding.vi and info.value.finding.en


async def test_truncated_signature_is_format_failure(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"])
    report = await validate_bytes(sig[:-10], _offline(pki), name="t.p7s", detached_data=DATA)
    assert (report.indication, report.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.FORMAT_FAILURE,
    )


# -- trust, time and revocation --------------------------------------------------------------


def _self_signed_root(name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = Name([NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


async def test_unknown_root(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"])
    policy = replace(
        _offline(pki), anchors=TrustAnchors({"public": (_self_signed_root("Other Root"),)})
    )
    s = _one((await validate_cms(sig, policy, detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert s.trusted is False and s.trust_anchor is None
    assert "cert.no_chain" in _codes(s)


async def test_impostor_root_with_the_same_name(pki: DevPki, tmp_path: Path) -> None:
    """A root named like ours but with another key: chains are built cryptographically."""
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"])
    impostor = _self_signed_root("Lienthong Dev Root CA")
    policy = replace(_offline(pki), anchors=TrustAnchors({"public": (impostor,)}))
    s = _one((await validate_cms(sig, policy, detached_data=DATA)).signatures)
    assert s.indication is AdESStatus.INDETERMINATE and s.trusted is False


async def test_revoked_signer_with_supplied_crl(pki: DevPki, tmp_path: Path) -> None:
    ident = _issue(pki, "cms-revoked")
    pki.revoke("cms-revoked")
    sig = openssl_sign(tmp_path, pki, ident)
    policy = _offline(pki, validation_time=datetime.now(UTC) + timedelta(minutes=1))
    s = _one((await validate_cms(sig, policy, detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.REVOKED_NO_POE,
    )
    assert s.revocation.status == "revoked" and s.revocation.source == "supplied"
    assert s.certificate_valid_at_signing_time is False


async def test_revoked_signer_online(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    ident = _issue(pki, "cms-revoked-online")
    pki.revoke("cms-revoked-online", at=datetime.now(UTC) - timedelta(minutes=1))
    sig = openssl_sign(tmp_path, pki, ident)
    s = _one((await validate_cms(sig, _policy(pki), detached_data=DATA)).signatures)
    # signed a minute after the revocation by the signer's own clock: REVOKED (§5.3.4)
    assert s.sub_indication is AdESFailure.REVOKED
    assert s.revocation.status == "revoked" and s.revocation.source == "online"


async def test_revoked_signer_with_crl_embedded(pki: DevPki, tmp_path: Path) -> None:
    ident = _issue(pki, "cms-revoked-embedded")
    pki.revoke("cms-revoked-embedded", at=datetime.now(UTC) - timedelta(minutes=1))
    info = cms.ContentInfo.load(openssl_sign(tmp_path, pki, ident))
    info["content"]["crls"] = [
        cms.RevocationInfoChoice("crl", crl.CertificateList.load(pki.crl("issuing"))),
        cms.RevocationInfoChoice("crl", crl.CertificateList.load(pki.crl("root"))),
    ]
    sig = info.dump(force=True)
    outcome = await validate_cms(sig, _policy(pki, offline=True), detached_data=DATA)
    s = _one(outcome.signatures)
    assert s.sub_indication is AdESFailure.REVOKED  # signed after the revocation
    assert s.revocation.source == "embedded"
    embedded = info["content"]["crls"][0].chosen.dump()
    assert embedded in outcome.evidence.crls


async def test_timestamp_before_revocation_keeps_the_signature_valid(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    """The signature timestamp is proof of existence: a certificate revoked after it does not
    invalidate the signature; without the timestamp the same signer is REVOKED_NO_POE."""
    ident = _issue(pki, "cms-revoked-later")
    stamped = await pyhanko_sign(pki, ident, tsa_url=dev_services.tsa_url)
    plain = openssl_sign(tmp_path, pki, ident)
    pki.revoke("cms-revoked-later", at=datetime.now(UTC) + timedelta(seconds=30))
    policy = _offline(pki, validation_time=datetime.now(UTC) + timedelta(minutes=10))
    s = _one((await validate_cms(stamped, policy, detached_data=DATA)).signatures)
    assert s.passed, s.findings
    assert s.timestamp is not None and s.best_signature_time == s.timestamp.time
    assert s.revocation.status == "good"
    late = _one((await validate_cms(plain, policy, detached_data=DATA)).signatures)
    assert late.sub_indication is AdESIndeterminate.REVOKED_NO_POE


async def test_expired_signer_without_poe(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["expired"])
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    )
    assert s.certificate_valid_at_signing_time is False
    # a claimed signing time inside the validity period proves nothing
    assert s.claimed_signing_time is not None


async def test_not_yet_valid_signer(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["not-yet-valid"])
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.NOT_YET_VALID)


async def test_encipherment_key_may_not_sign(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["encipher-only"])
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    )


async def test_offline_makes_no_request(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    sig = await pyhanko_sign(pki, pki.signers["agency"], tsa_url=dev_services.tsa_url)
    before = len(dev_services.requests)
    hard = _one(
        (await validate_cms(sig, _policy(pki, offline=True), detached_data=DATA)).signatures
    )
    assert hard.indication is AdESStatus.INDETERMINATE
    assert any("revocation" in f.en for f in hard.findings), hard.findings
    soft = _one(
        (
            await validate_cms(
                sig, _policy(pki, offline=True, revocation="soft"), detached_data=DATA
            )
        ).signatures
    )
    assert soft.passed, soft.findings
    assert soft.revocation.status == "unknown"
    assert "cert.revocation_unknown_accepted" in _codes(soft)
    supplied = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert supplied.passed and supplied.revocation.source == "supplied"
    assert len(dev_services.requests) == before


# -- algorithms --------------------------------------------------------------------------------


async def test_md5_is_not_acceptable(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"], extra=("-md", "md5"))
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert s.indication is AdESStatus.INDETERMINATE
    assert s.sub_indication in (
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )
    assert any("md5" in f.en.lower() for f in s.findings), s.findings


async def test_rsa_1024_is_not_acceptable(pki: DevPki, tmp_path: Path) -> None:
    ident = _issue(pki, "cms-rsa1024", key="rsa1024")
    sig = openssl_sign(tmp_path, pki, ident)
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert s.indication is AdESStatus.INDETERMINATE
    assert s.sub_indication in (
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )
    assert any("1024" in f.en for f in s.findings), s.findings


async def test_sha1_passes_with_a_warning(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["agency"], extra=("-md", "sha1"))
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert s.passed, s.findings
    assert s.digest_algorithm == "sha1"
    [weak] = [f for f in s.findings if f.code == "crypto.weak_digest"]
    assert weak.severity == "warning" and "SHA1" in weak.en and "yếu" in weak.vi


async def test_signature_timestamp_over_other_data_is_ignored(
    pki: DevPki, dev_services: DevServices
) -> None:
    """A timestamp lifted from another signature proves nothing about this one: it is
    reported, not used, and the certificate is judged at the validation time."""
    own = cms.ContentInfo.load(
        await pyhanko_sign(pki, pki.signers["personal"], tsa_url=dev_services.tsa_url)
    )
    other = cms.ContentInfo.load(
        await pyhanko_sign(pki, pki.signers["personal"], DATA + b"x", tsa_url=dev_services.tsa_url)
    )
    own["content"]["signer_infos"][0]["unsigned_attrs"] = other["content"]["signer_infos"][0][
        "unsigned_attrs"
    ]
    when = datetime.now(UTC) + timedelta(minutes=1)
    policy = _offline(pki, validation_time=when)
    s = _one((await validate_cms(own.dump(force=True), policy, detached_data=DATA)).signatures)
    assert s.passed, s.findings  # the signature itself is fine today
    assert s.timestamp is not None and s.timestamp.valid is False
    assert s.best_signature_time == when
    [warning] = [f for f in s.findings if f.code == "cms.timestamp_invalid"]
    assert "HASH_FAILURE" in warning.en and warning.severity == "warning"


async def test_self_signed_signer(pki: DevPki, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = Name([NameAttribute(NameOID.COMMON_NAME, "Tự ký")])
    now = datetime.now(UTC)
    cert = (
        CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "self.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "self.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [
            "openssl",
            "cms",
            "-sign",
            "-binary",
            "-in",
            str(tmp_path / "data"),
            "-signer",
            str(tmp_path / "self.pem"),
            "-inkey",
            str(tmp_path / "self.key"),
            "-outform",
            "DER",
            "-out",
            str(tmp_path / "self.p7s"),
        ],
        check=True,
        capture_output=True,
    )
    sig = (tmp_path / "self.p7s").read_bytes()
    s = _one((await validate_cms(sig, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert any("self-signed" in f.en for f in s.findings)


async def test_certificates_only_is_no_signature(pki: DevPki, tmp_path: Path) -> None:
    (tmp_path / "chain.pem").write_bytes(pki.chain_pem())
    subprocess.run(
        [
            "openssl",
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            str(tmp_path / "chain.pem"),
            "-outform",
            "DER",
            "-out",
            str(tmp_path / "chain.p7b"),
        ],
        check=True,
        capture_output=True,
    )
    report = await validate_bytes(
        (tmp_path / "chain.p7b").read_bytes(), _offline(pki), name="chain.p7b"
    )
    assert report.format == "cms" and report.signatures == ()
    assert (report.indication, report.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
    )
    assert [f.code for f in report.findings] == ["cms.no_signer"]


async def test_a_signature_timestamp_that_is_no_timestamp_is_ignored(
    pki: DevPki, tmp_path: Path
) -> None:
    """An unsigned signature-time-stamp attribute holding some other SignedData (here a copy
    of the signature itself) is reported as unreadable and proves nothing."""
    sig = cms.ContentInfo.load(openssl_sign(tmp_path, pki, pki.signers["personal"]))
    signer_info = sig["content"]["signer_infos"][0]
    signer_info["unsigned_attrs"] = [
        {"type": "signature_time_stamp_token", "values": [cms.ContentInfo.load(sig.dump())]}
    ]
    s = _one(
        (await validate_cms(sig.dump(force=True), _offline(pki), detached_data=DATA)).signatures
    )
    assert s.passed, s.findings
    assert s.timestamp is None or not s.timestamp.valid
    assert "cms.timestamp_invalid" in _codes(s) and "time.no_timestamp" in _codes(s)


# -- twins of the signer's certificate (external audit) ----------------------------------------


def make_twin(
    pki: DevPki, ident: Identity, *, self_issued: bool = False, key_id: bool = False
) -> x509.Certificate:
    """A certificate with the same issuer, serial number and subject as ``ident``'s, but
    another key: signed by the issuing CA (a CA's mistake, or a stolen CA key) or by its own
    key (self-issued, with the CA's name as issuer). ``key_id``: it also claims ``ident``'s
    subject key identifier."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    real = ident.cert
    builder = (
        CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .add_extension(BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if key_id:
        ski = real.extensions.get_extension_for_class(SubjectKeyIdentifier).value
        builder = builder.add_extension(ski, critical=False)
    cert = builder.sign(key if self_issued else pki.issuing.key, hashes.SHA256())
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def with_certificates(sig: bytes, certs: list[x509.Certificate]) -> bytes:
    """``sig`` carrying exactly ``certs``, in this order. asn1crypto sorts a SET OF when it
    encodes one, so the order is put back byte for byte (the same bytes, the same length)."""
    info = cms.ContentInfo.load(sig)
    info["content"]["certificates"] = [cms.CertificateChoices("certificate", c) for c in certs]
    der = bytes(info.dump(force=True))
    encoded = b"".join(
        c.chosen.dump() for c in cms.ContentInfo.load(der)["content"]["certificates"]
    )
    assert der.count(encoded) == 1
    der = der.replace(encoded, b"".join(c.dump() for c in certs))
    stored = [c.chosen.dump() for c in cms.ContentInfo.load(der)["content"]["certificates"]]
    assert stored == [c.dump() for c in certs]
    return der


def _sign_for_twins(
    tmp_path: Path, pki: DevPki, ident: Identity, *, ess: bool, key_id: bool = False
) -> bytes:
    extra = (*(("-cades",) if ess else ()), *(("-keyid",) if key_id else ()))
    return openssl_sign(tmp_path, pki, ident, extra=extra)


@pytest.mark.parametrize("self_issued", [False, True], ids=["ca-signed", "self-issued"])
@pytest.mark.parametrize("ess", [False, True], ids=["no-ess", "ess-v2"])
@pytest.mark.parametrize("place", ["before", "after"])
async def test_a_twin_of_the_signer_certificate_changes_nothing(
    pki: DevPki, tmp_path: Path, place: str, ess: bool, self_issued: bool
) -> None:
    """A certificate with the signer's issuer and serial number but another key, added to
    the (unsigned) certificate set before or after the real one: the certificate chosen is
    the one the identifier names, the signing-certificate attribute names (when there is
    one) and whose key verifies the signature."""
    ident = pki.signers["personal"]
    sig = _sign_for_twins(tmp_path, pki, ident, ess=ess)
    twin = make_twin(pki, ident, self_issued=self_issued)
    chain = [pki.issuing.asn1, pki.root.asn1]
    certs = [twin, ident.asn1] if place == "before" else [ident.asn1, twin]
    planted = with_certificates(sig, [*certs, *chain])
    outcome = await validate_cms(planted, _offline(pki), detached_data=DATA)
    s = _one(outcome.signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.PASSED, None), s.findings
    assert s.signer is not None and s.signer.sha256 == ident.asn1.sha256.hex()
    assert (s.integrity, s.signature_valid, s.trusted) == (True, True, True)
    [twin_finding] = [f for f in s.findings if f.code == "cms.signer_certificate_twin"]
    assert twin_finding.severity == "warning" and "serial" in twin_finding.vi
    assert twin.dump() not in outcome.evidence.certificates
    assert ident.asn1.dump() in outcome.evidence.certificates
    if place == "after":
        # openssl takes the first certificate the identifier names: the real one here
        assert openssl_verify(tmp_path, pki, planted)
    # (before: openssl takes the twin and fails, the false rejection fixed here)


async def test_a_twin_with_the_signer_key_identifier_changes_nothing(
    pki: DevPki, tmp_path: Path
) -> None:
    """The same with a subject-key-identifier signer identifier and a twin claiming it."""
    ident = pki.signers["personal-ec"]
    sig = _sign_for_twins(tmp_path, pki, ident, ess=False, key_id=True)
    twin = make_twin(pki, ident, key_id=True)
    chain = [pki.issuing.asn1, pki.root.asn1]
    for certs in ([twin, ident.asn1, *chain], [ident.asn1, twin, *chain]):
        s = _one(
            (
                await validate_cms(with_certificates(sig, certs), _offline(pki), detached_data=DATA)
            ).signatures
        )
        assert s.passed, s.findings
        assert s.signer is not None and s.signer.sha256 == ident.asn1.sha256.hex()


async def test_a_twin_alone_is_not_the_signer_certificate(pki: DevPki, tmp_path: Path) -> None:
    """The real certificate removed, only its twin left: no signing certificate (the
    signing-certificate attribute names another one), or a signature its key does not
    verify (without the attribute); never a pass. openssl agrees."""
    ident = pki.signers["personal"]
    twin = make_twin(pki, ident)
    chain = [pki.issuing.asn1, pki.root.asn1]
    with_ess = with_certificates(_sign_for_twins(tmp_path, pki, ident, ess=True), [twin, *chain])
    s = _one((await validate_cms(with_ess, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
    )
    assert s.signer is None and "cms.no_signing_certificate_found" in _codes(s)
    assert not openssl_verify(tmp_path, pki, with_ess)
    plain = with_certificates(_sign_for_twins(tmp_path, pki, ident, ess=False), [twin, *chain])
    s = _one((await validate_cms(plain, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.SIG_CRYPTO_FAILURE,
    )
    assert s.signature_valid is False
    assert not openssl_verify(tmp_path, pki, plain)
    # the real certificate supplied by the caller is found all the same
    supplied = _offline(pki, extra_certificates=(ident.asn1,))
    s = _one((await validate_cms(plain, supplied, detached_data=DATA)).signatures)
    assert s.passed, s.findings


async def test_twins_in_a_signature_timestamp_change_nothing(
    pki: DevPki, dev_services: DevServices
) -> None:
    """A twin of the TSA certificate planted in the signature timestamp's own certificate
    set: the timestamp still proves the time."""
    sig = cms.ContentInfo.load(
        await pyhanko_sign(pki, pki.signers["personal"], tsa_url=dev_services.tsa_url)
    )
    attr = sig["content"]["signer_infos"][0]["unsigned_attrs"][0]
    token = attr["values"][0]
    certs = [c.chosen for c in token["content"]["certificates"]]
    planted = with_certificates(token.dump(), [*certs, make_twin(pki, pki.tsa)])
    attr["values"] = [cms.ContentInfo.load(planted)]
    when = datetime.now(UTC) + timedelta(minutes=1)
    policy = _offline(pki, validation_time=when)
    s = _one((await validate_cms(sig.dump(force=True), policy, detached_data=DATA)).signatures)
    assert s.passed, s.findings
    assert s.timestamp is not None and s.timestamp.valid
    assert s.best_signature_time == s.timestamp.time


# -- a timestamp later than the validation time (external audit) -----------------------------


async def test_a_signature_timestamp_after_the_validation_time_is_no_proof(
    pki: DevPki, dev_services: DevServices
) -> None:
    """Judged at a pinned time before its signature timestamp, the signature is judged at
    that time and the timestamp, which did not exist yet, proves nothing."""
    sig = await pyhanko_sign(pki, pki.signers["personal"], tsa_url=dev_services.tsa_url)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    crls = (pki.crl("issuing", now=when), pki.crl("root", now=when))
    policy = _policy(pki, offline=True, crls=crls, validation_time=when)
    s = _one((await validate_cms(sig, policy, detached_data=DATA)).signatures)
    assert s.passed, s.findings  # the signature itself, judged at the validation time
    assert s.best_signature_time == when
    assert s.timestamp is not None and s.timestamp.valid is False
    assert s.timestamp.time > when
    [late] = [f for f in s.findings if f.code == "time.after_validation_time"]
    stamp = people_time(s.timestamp.time)
    assert late.en == (
        f"the timestamp ({stamp}) is later than the validation time: it is not used as proof"
    )
    assert late.vi == (
        f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm bằng chứng"
    )
    assert late.severity == "warning"
    assert "cms.timestamp" not in _codes(s) and "time.no_timestamp" in _codes(s)
    assert "cms.timestamp_invalid" not in _codes(s)
    # judged after it, the same timestamp is the proof of existence
    later = _offline(pki, validation_time=datetime.now(UTC) + timedelta(minutes=1))
    s = _one((await validate_cms(sig, later, detached_data=DATA)).signatures)
    assert s.passed and s.timestamp is not None and s.timestamp.valid
    assert s.best_signature_time == s.timestamp.time
    assert "time.after_validation_time" not in _codes(s)
