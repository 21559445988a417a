"""CMS counter-signatures (RFC 5652 §11.4, the unsigned countersignature attribute
1.2.840.113549.1.9.6), built here with asn1crypto and cryptography from the test PKI's keys:
each is a signature of its own over the signature value it counter-signs, listed as its own
report. ``openssl cms -verify`` does not look at counter-signatures: it is the second opinion
on the main signature; ``openssl dgst`` and ``openssl verify`` on the counter-signature's own
bytes are the second opinion on it."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms, core, pem, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import (
    BasicConstraints,
    CertificateBuilder,
    KeyUsage,
    Name,
    NameAttribute,
    random_serial_number,
)
from cryptography.x509.oid import NameOID
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing.dev.pki import DevPki, Identity
from signing.dev.services import DevServices
from signing.tsa import HttpTimestamper
from tests.validation.test_cms import (
    DATA,
    _codes,
    _issue,
    _offline,
    _policy,
    openssl_sign,
    openssl_verify,
    pyhanko_sign,
)
from validation.cms import MAX_COUNTER_SIGNATURE_DEPTH, MAX_COUNTER_SIGNATURES, validate_cms
from validation.document import validate_bytes
from validation.report import Role

# -- building counter-signatures -----------------------------------------------------------


def counter_signature(
    countersigned: bytes, ident: Identity, *, ess: bool = True, content_type: bool = False
) -> cms.SignerInfo:
    """A counter-signature by ``ident`` over the signature value ``countersigned``: signed
    attributes signingTime, messageDigest (SHA-256 of ``countersigned``) and, with ``ess``,
    signingCertificateV2; ``content_type`` adds the content-type attribute RFC 5652 §11.4
    forbids."""
    cert = ident.asn1
    attrs: list[dict[str, object]] = []
    if content_type:
        attrs.append({"type": "content_type", "values": ["data"]})
    attrs += [
        {"type": "signing_time", "values": [cms.Time({"utc_time": datetime.now(UTC)})]},
        {"type": "message_digest", "values": [hashlib.sha256(countersigned).digest()]},
    ]
    if ess:
        cert_hash = hashlib.sha256(cert.dump()).digest()
        attrs.append(
            {"type": "signing_certificate_v2", "values": [{"certs": [{"cert_hash": cert_hash}]}]}
        )
    signed_attrs = cms.CMSAttributes(attrs)
    to_sign = signed_attrs.dump()
    if isinstance(ident.key, rsa.RSAPrivateKey):
        value = ident.key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "sha256_rsa"
    else:
        value = ident.key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        algorithm = "sha256_ecdsa"
    return cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": algorithm},
            "signature": value,
        }
    )


def with_unsigned(signer_info: cms.SignerInfo, attrs: Sequence[bytes]) -> cms.SignerInfo:
    """``signer_info`` (which has no unsigned attributes; its signature untouched) with the
    unsigned attributes ``attrs`` (DER). Put together byte for byte: asn1crypto would parse
    and sort what it encodes, and the hostile cases are deeper and wider than that goes."""
    assert isinstance(signer_info["unsigned_attrs"], core.Void)
    contents = cms.SignerInfo.load(signer_info.dump()).contents
    return cms.SignerInfo.load(_der(0x30, contents + _der(0xA1, b"".join(attrs))))


def counter_attr(*signer_infos: cms.SignerInfo) -> bytes:
    """A countersignature attribute (DER) holding ``signer_infos``."""
    return _der(0x30, _COUNTER_OID + _der(0x31, b"".join(s.dump() for s in signer_infos)))


_COUNTER_OID = bytes.fromhex("06092a864886f70d010906")  # 1.2.840.113549.1.9.6


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def replace_signer(
    sig: bytes,
    signer_info: cms.SignerInfo | Sequence[cms.SignerInfo],
    certs: Sequence[x509.Certificate] = (),
) -> bytes:
    """``sig`` with ``signer_info`` (or these SignerInfos) in place of its own and ``certs``
    added to its certificates, put together byte for byte (see :func:`with_unsigned`)."""
    signed_data = cms.ContentInfo.load(sig)["content"]
    present = [c.chosen for c in signed_data["certificates"]]
    known = {c.dump() for c in present}
    added = [c for c in certs if c.dump() not in known]
    signer_infos = [signer_info] if isinstance(signer_info, cms.SignerInfo) else signer_info
    content = b"".join(
        signed_data[name].dump() for name in ("version", "digest_algorithms", "encap_content_info")
    )
    content += _der(0xA0, b"".join(c.dump() for c in (*present, *added)))
    if not isinstance(signed_data["crls"], core.Void):
        content += signed_data["crls"].dump()
    content += _der(0x31, b"".join(s.dump() for s in signer_infos))
    return _der(0x30, _SIGNED_DATA_OID + _der(0xA0, _der(0x30, content)))


_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2


def counter_signed(
    sig: bytes, ident: Identity, *, certs: Sequence[x509.Certificate] = (), **kw: bool
) -> bytes:
    """``sig`` with a counter-signature by ``ident`` on its (only) signature."""
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    counter = counter_signature(parent["signature"].native, ident, **kw)
    return replace_signer(sig, with_unsigned(parent, [counter_attr(counter)]), [ident.asn1, *certs])


def _counter(sig: bytes, *path: int) -> cms.SignerInfo:
    """The counter-signature at ``path`` (indices, depth first) of the first signature."""
    node = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    for index in path:
        values = [
            v
            for a in node["unsigned_attrs"]
            if a["type"].native == "counter_signature"
            for v in a["values"]
        ]
        node = values[index]
    return node


def openssl_counter_verify(
    tmp_path: Path, pki: DevPki, sig: bytes, cert: x509.Certificate, *path: int
) -> bool:
    """openssl's opinion on the counter-signature at ``path``: its signature value over its
    signed attributes (``openssl dgst -verify``), its message digest against the SHA-256 of
    the signature value it counter-signs (``openssl dgst``), its certificate's path to the
    test root (``openssl verify``)."""
    counter = _counter(sig, *path)
    parent = _counter(sig, *path[:-1])
    (tmp_path / "cs.attrs").write_bytes(counter["signed_attrs"].untag().dump())
    (tmp_path / "cs.sig").write_bytes(counter["signature"].native)
    (tmp_path / "cs.parent").write_bytes(parent["signature"].native)
    (tmp_path / "cs.pem").write_bytes(_pem(cert))
    (tmp_path / "root.pem").write_bytes(pki.root.cert_pem())
    (tmp_path / "issuing.pem").write_bytes(pki.issuing.cert_pem())
    pub = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "cs.pem"), "-pubkey", "-noout"],
        capture_output=True,
        check=True,
    ).stdout
    (tmp_path / "cs.pub").write_bytes(pub)
    verified = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "cs.pub"),
            "-signature",
            str(tmp_path / "cs.sig"),
            str(tmp_path / "cs.attrs"),
        ],
        capture_output=True,
        check=False,
    )
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary", str(tmp_path / "cs.parent")],
        capture_output=True,
        check=True,
    ).stdout
    [claimed] = [
        a["values"][0].native
        for a in counter["signed_attrs"]
        if a["type"].native == "message_digest"
    ]
    chained = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "issuing.pem"),
            str(tmp_path / "cs.pem"),
        ],
        capture_output=True,
        check=False,
    )
    return verified.returncode == 0 and digest == claimed and chained.returncode == 0


def _pem(cert: x509.Certificate) -> bytes:
    return bytes(pem.armor("CERTIFICATE", cert.dump()))


def _self_signed_signer(name: str) -> Identity:
    """A signer outside the test PKI: self-signed, signing key usage."""
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
        .not_valid_after(now + timedelta(days=30))
        .add_extension(BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


# -- valid counter-signatures ----------------------------------------------------------------


async def test_valid_counter_signature(pki: DevPki, tmp_path: Path) -> None:
    """The agency counter-signs the personal signature: two reports, both valid, the
    counter-signature pointing at the signature it signs."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    agency = pki.signers["agency"]
    signed = counter_signed(sig, agency)
    report = await validate_bytes(signed, _offline(pki), name="cv.p7s", detached_data=DATA)
    assert [s.id for s in report.signatures] == ["cms-1", "cms-1-counter-1"]
    main, counter = report.signatures
    assert main.passed and main.kind == "signature" and main.counter_signs is None
    assert (counter.indication, counter.sub_indication) == (AdESStatus.PASSED, None), (
        counter.findings
    )
    assert counter.kind == "counter-signature" and counter.counter_signs == "cms-1"
    assert counter.role is Role.AGENCY
    assert counter.signer is not None and counter.signer.sha256 == agency.asn1.sha256.hex()
    assert (counter.integrity, counter.signature_valid, counter.trusted) == (True, True, True)
    assert counter.revocation.status == "good" and counter.revocation.source == "supplied"
    assert counter.trust_purpose == "public" and counter.claimed_signing_time is not None
    assert counter.digest_algorithm == "sha256"
    assert report.indication is AdESStatus.PASSED
    assert agency.asn1.dump() in report.evidence.certificates
    # the legal check counts signatures, not counter-signatures
    assert report.legal.personal == "cms-1" and report.legal.agency is None
    # the second opinions: openssl on the signature, openssl's primitives on the counter
    assert openssl_verify(tmp_path, pki, signed)
    assert openssl_counter_verify(tmp_path, pki, signed, agency.asn1, 0)


async def test_counter_signature_online_and_ec(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    """An EC counter-signer, its revocation status asked of the test responder, on a
    signature made by pyHanko (attached)."""
    sig = await pyhanko_sign(pki, pki.signers["agency"], detached=False)
    ec_signer = pki.signers["personal-ec"]
    signed = counter_signed(sig, ec_signer)
    outcome = await validate_cms(signed, _policy(pki), detached_data=None)
    main, counter = outcome.signatures
    assert main.passed, main.findings
    assert counter.passed, counter.findings
    assert counter.signature_algorithm is not None and "ecdsa" in counter.signature_algorithm
    assert counter.revocation.status == "good" and counter.revocation.source == "online"
    assert openssl_verify(tmp_path, pki, signed, data=None)
    assert openssl_counter_verify(tmp_path, pki, signed, ec_signer.asn1, 0)


async def test_counter_signature_without_signing_certificate_attribute(
    pki: DevPki, tmp_path: Path
) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    signed = counter_signed(sig, pki.signers["agency"], ess=False)
    _, counter = (await validate_cms(signed, _offline(pki), detached_data=DATA)).signatures
    assert counter.passed, counter.findings


async def test_counter_signature_with_its_own_timestamp(
    pki: DevPki, dev_services: DevServices
) -> None:
    """A counter-signature's signature timestamp (over its own signature value) is its proof
    of existence, as for a signature: a counter-signer revoked after it stays valid."""
    ident = _issue(pki, "counter-revoked-later")
    sig = await pyhanko_sign(pki, pki.signers["personal"])
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    counter = counter_signature(parent["signature"].native, ident)
    token = await HttpTimestamper([dev_services.tsa_url]).async_timestamp(
        hashlib.sha256(counter["signature"].native).digest(), "sha256"
    )
    stamped = with_unsigned(
        counter,
        [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}).dump()],
    )
    signed = replace_signer(sig, with_unsigned(parent, [counter_attr(stamped)]), [ident.asn1])
    pki.revoke("counter-revoked-later", at=datetime.now(UTC) + timedelta(seconds=30))
    policy = _offline(pki, validation_time=datetime.now(UTC) + timedelta(minutes=10))
    main, judged = (await validate_cms(signed, policy, detached_data=DATA)).signatures
    assert main.passed, main.findings
    assert judged.passed, judged.findings
    assert judged.timestamp is not None and judged.timestamp.valid
    assert judged.best_signature_time == judged.timestamp.time
    assert "cms.timestamp" in _codes(judged)
    # without the timestamp, the same counter-signer is revoked with nothing to prove when
    bare = replace_signer(sig, with_unsigned(parent, [counter_attr(counter)]), [ident.asn1])
    _, late = (await validate_cms(bare, policy, detached_data=DATA)).signatures
    assert (late.indication, late.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.REVOKED_NO_POE,
    )


# -- counter-signatures that fail ------------------------------------------------------------


async def test_tampered_counter_signature_fails_the_document(pki: DevPki, tmp_path: Path) -> None:
    """A bit flipped in the counter-signature's value: it is FAILED, and so is the document,
    though the signature it counter-signs is still valid (openssl, which does not look at
    counter-signatures, passes the file)."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    agency = pki.signers["agency"]
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    counter = counter_signature(parent["signature"].native, agency)
    value = bytearray(counter["signature"].native)
    value[len(value) // 2] ^= 0x01
    counter["signature"] = bytes(value)
    tampered = replace_signer(sig, with_unsigned(parent, [counter_attr(counter)]), [agency.asn1])
    report = await validate_bytes(tampered, _offline(pki), name="t.p7s", detached_data=DATA)
    main, judged = report.signatures
    assert main.passed, main.findings
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.SIG_CRYPTO_FAILURE,
    )
    assert judged.signature_valid is False and "cms.sig_crypto_failure" in _codes(judged)
    assert (report.indication, report.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.SIG_CRYPTO_FAILURE,
    )
    assert openssl_verify(tmp_path, pki, tampered)  # the signature itself
    assert not openssl_counter_verify(tmp_path, pki, tampered, agency.asn1, 0)


async def test_counter_signature_of_another_signature_is_hash_failure(
    pki: DevPki, tmp_path: Path
) -> None:
    """A valid counter-signature lifted from another signature: its message digest is not
    that of this signature's value."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    other = openssl_sign(tmp_path, pki, pki.signers["personal"], DATA + b"x")
    agency = pki.signers["agency"]
    lifted = _counter(counter_signed(other, agency), 0)
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    moved = replace_signer(sig, with_unsigned(parent, [counter_attr(lifted)]), [agency.asn1])
    main, judged = (await validate_cms(moved, _offline(pki), detached_data=DATA)).signatures
    assert main.passed
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.HASH_FAILURE,
    )
    assert judged.integrity is False and judged.signature_valid is True
    assert not openssl_counter_verify(tmp_path, pki, moved, agency.asn1, 0)


async def test_counter_signature_with_content_type_is_malformed(
    pki: DevPki, tmp_path: Path
) -> None:
    """RFC 5652 §11.4: a counter-signature has no content type."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    signed = counter_signed(sig, pki.signers["agency"], content_type=True)
    _, judged = (await validate_cms(signed, _offline(pki), detached_data=DATA)).signatures
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.FORMAT_FAILURE,
    )
    assert any("content-type" in f.en for f in judged.findings), judged.findings


async def test_counter_signature_by_an_untrusted_certificate(pki: DevPki, tmp_path: Path) -> None:
    """A counter-signer outside the trusted hierarchy: INDETERMINATE, as a signer would be;
    the document with it."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    stranger = _self_signed_signer("Người lạ")
    signed = counter_signed(sig, stranger)
    report = await validate_bytes(signed, _offline(pki), name="u.p7s", detached_data=DATA)
    main, judged = report.signatures
    assert main.passed
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert judged.signature_valid is True and judged.trusted is False
    assert judged.trust_anchor is None
    assert (report.indication, report.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert openssl_verify(tmp_path, pki, signed)
    assert not openssl_counter_verify(tmp_path, pki, signed, stranger.asn1, 0)


async def test_counter_signature_by_a_revoked_certificate(pki: DevPki, tmp_path: Path) -> None:
    ident = _issue(pki, "counter-revoked")
    pki.revoke("counter-revoked", at=datetime.now(UTC) - timedelta(minutes=1))
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    signed = counter_signed(sig, ident)
    _, judged = (await validate_cms(signed, _offline(pki), detached_data=DATA)).signatures
    # counter-signed a minute after the revocation, by the counter-signer's own clock
    # (signingTime): TOTAL-FAILED / REVOKED, as for every format (EN 319 102-1 §5.3.4)
    assert (judged.indication, judged.sub_indication) == (AdESStatus.FAILED, AdESFailure.REVOKED)
    assert "cert.revoked" in _codes(judged)
    assert judged.revocation.status == "revoked" and judged.revocation.source == "supplied"


async def test_counter_signer_certificate_missing(pki: DevPki, tmp_path: Path) -> None:
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    outsider = _issue(pki, "counter-absent")
    counter = counter_signature(parent["signature"].native, outsider)
    signed = replace_signer(sig, with_unsigned(parent, [counter_attr(counter)]))
    _, judged = (await validate_cms(signed, _offline(pki), detached_data=DATA)).signatures
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
    )
    supplied = _offline(pki, extra_certificates=(outsider.asn1,))
    _, found = (await validate_cms(signed, supplied, detached_data=DATA)).signatures
    assert found.passed, found.findings


async def test_unreadable_counter_signature(pki: DevPki, tmp_path: Path) -> None:
    """Garbage where a counter-signature should be: FAILED/FORMAT_FAILURE, never an
    exception."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    garbage = _der(0x30, _COUNTER_OID + _der(0x31, _der(0x30, b"\x02\x01\x01\x04\x00")))
    signed = replace_signer(sig, with_unsigned(parent, [garbage]))
    report = await validate_bytes(signed, _offline(pki), name="g.p7s", detached_data=DATA)
    main, judged = report.signatures
    assert main.passed
    assert (judged.indication, judged.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.FORMAT_FAILURE,
    )
    assert judged.kind == "counter-signature" and judged.counter_signs == "cms-1"
    assert report.indication is AdESStatus.FAILED


async def test_counter_signatures_of_each_signer(pki: DevPki, tmp_path: Path) -> None:
    """Two signers, the second counter-signed: the counter-signature points at cms-2."""
    (tmp_path / "agency.key").write_bytes(pki.signers["agency"].key_pem())
    (tmp_path / "agency.pem").write_bytes(pki.signers["agency"].cert_pem())
    sig = openssl_sign(
        tmp_path,
        pki,
        pki.signers["personal"],
        extra=("-signer", str(tmp_path / "agency.pem"), "-inkey", str(tmp_path / "agency.key")),
    )
    first, second = cms.ContentInfo.load(sig)["content"]["signer_infos"]
    ec_signer = pki.signers["agency-ec"]
    counter = counter_signature(second["signature"].native, ec_signer)
    signed = replace_signer(
        sig, [first, with_unsigned(second, [counter_attr(counter)])], [ec_signer.asn1]
    )
    report = await validate_bytes(signed, _offline(pki), name="two.p7s", detached_data=DATA)
    assert [(s.id, s.counter_signs) for s in report.signatures] == [
        ("cms-1", None),
        ("cms-2", None),
        ("cms-2-counter-1", "cms-2"),
    ]
    assert report.indication is AdESStatus.PASSED, [s.findings for s in report.signatures]
    assert report.legal.valid


# -- nesting and bounds ----------------------------------------------------------------------


async def test_nested_counter_signatures_up_to_the_limit(pki: DevPki, tmp_path: Path) -> None:
    """A chain of real counter-signatures, each on the one before, one deeper than judged:
    the first ones pass, each pointing at its parent; the one beyond the limit is reported,
    not judged, and the document cannot pass."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    signers = [pki.signers[n] for n in ("agency", "personal-ec", "agency-ec", "personal-pss")]
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    chain = []
    above = parent["signature"].native
    for n in range(MAX_COUNTER_SIGNATURE_DEPTH + 1):
        counter = counter_signature(above, signers[n % len(signers)])
        chain.append(counter)
        above = counter["signature"].native
    node = chain[-1]
    for counter in reversed(chain[:-1]):
        node = with_unsigned(counter, [counter_attr(node)])
    signed = replace_signer(
        sig, with_unsigned(parent, [counter_attr(node)]), [s.asn1 for s in signers]
    )
    report = await validate_bytes(signed, _offline(pki), name="n.p7s", detached_data=DATA)
    ids = ["cms-1"]
    for _ in range(MAX_COUNTER_SIGNATURE_DEPTH + 1):
        ids.append(f"{ids[-1]}-counter-1")
    assert [s.id for s in report.signatures] == ids
    judged = report.signatures[1:-1]
    for s, parent_id in zip(judged, ids, strict=False):
        assert s.passed, (s.id, s.findings)
        assert s.counter_signs == parent_id
    beyond = report.signatures[-1]
    assert (beyond.indication, beyond.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.GENERIC,
    )
    assert beyond.kind == "counter-signature" and beyond.counter_signs == ids[-2]
    [limit] = beyond.findings
    assert limit.code == "cms.counter_signature_limit" and "lồng nhau" in limit.vi
    assert report.indication is AdESStatus.INDETERMINATE
    assert openssl_verify(tmp_path, pki, signed)
    for depth in range(1, MAX_COUNTER_SIGNATURE_DEPTH + 1):
        cert = signers[(depth - 1) % len(signers)].asn1
        assert openssl_counter_verify(tmp_path, pki, signed, cert, *([0] * depth))


async def test_thousands_of_nested_counter_signatures(pki: DevPki, tmp_path: Path) -> None:
    """A hostile file: a real counter-signature holding 3000 nested counter-signatures
    (deeper than any recursive parser goes). It is judged quickly, to the limits, and does
    not pass."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    agency = pki.signers["agency"]
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    real = counter_signature(parent["signature"].native, agency)
    # the nested ones are small: agency's key identifier, a bogus signature value
    fields = _der(0x02, b"\x03") + _der(0x80, agency.asn1.key_identifier)
    fields += _der(0x30, _der(0x06, bytes.fromhex("608648016503040201")))  # sha256
    fields += _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d01010b")))  # sha256_rsa
    fields += _der(0x04, b"\x00" * 16)
    node = _der(0x30, fields)
    for _ in range(3000):
        node = _der(0x30, fields + _der(0xA1, _der(0x30, _COUNTER_OID + _der(0x31, node))))
    hostile = with_unsigned(real, [_der(0x30, _COUNTER_OID + _der(0x31, node))])
    signed = replace_signer(sig, with_unsigned(parent, [counter_attr(hostile)]), [agency.asn1])
    started = time.monotonic()
    report = await validate_bytes(signed, _offline(pki), name="h.p7s", detached_data=DATA)
    assert time.monotonic() - started < 60
    main, first, *rest = report.signatures
    assert main.passed and first.passed, first.findings
    assert len(rest) == MAX_COUNTER_SIGNATURE_DEPTH  # the bogus ones judged, then the limit
    assert all(not s.passed for s in rest)
    assert rest[-1].findings[0].code == "cms.counter_signature_limit"
    assert report.indication is not AdESStatus.PASSED
    assert openssl_verify(tmp_path, pki, signed)


async def test_thousands_of_counter_signatures_side_by_side(pki: DevPki, tmp_path: Path) -> None:
    """3000 counter-signatures of one signature: at most MAX_COUNTER_SIGNATURES are judged,
    then one report says the rest were not."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    agency = pki.signers["agency"]
    parent = cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    real = counter_signature(parent["signature"].native, agency).dump()
    attr = _der(0x30, _COUNTER_OID + _der(0x31, real * 3000))
    signed = replace_signer(sig, with_unsigned(parent, [attr]), [agency.asn1])
    started = time.monotonic()
    report = await validate_bytes(signed, _offline(pki), name="w.p7s", detached_data=DATA)
    assert time.monotonic() - started < 60
    main, *counters = report.signatures
    assert main.passed
    assert len(counters) == MAX_COUNTER_SIGNATURES + 1
    assert all(s.passed for s in counters[:-1])
    assert counters[-1].findings[0].code == "cms.counter_signature_limit"
    assert counters[-1].id == f"cms-1-counter-{MAX_COUNTER_SIGNATURES + 1}"
    assert report.indication is AdESStatus.INDETERMINATE


async def test_counter_signature_by_a_timestamping_certificate(pki: DevPki, tmp_path: Path) -> None:
    """A TSA's certificate (extended key usage timeStamping only) counter-signs no document:
    TT 15/2025 App. II 1.4 holds for counter-signers as for signers."""
    sig = openssl_sign(tmp_path, pki, pki.signers["personal"])
    signed = counter_signed(sig, pki.tsa)
    report = await validate_bytes(signed, _offline(pki), detached_data=DATA)
    counter = next(s for s in report.signatures if s.kind == "counter-signature")
    assert not counter.passed
    assert "certificate.wrong_purpose" in _codes(counter)
    assert report.indication is not AdESStatus.PASSED
