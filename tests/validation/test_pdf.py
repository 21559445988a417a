"""PAdES validation: what ``signing/`` makes passes, attacks built here do not.

Every document is produced in the test (``signing/`` or pyHanko's writer, then edited byte by
byte where the attack needs it); the corpus rows at the end are read in place.
"""

from __future__ import annotations

import asyncio
import binascii
import csv
import io
import random
import re
import time
import uuid
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, x509
from asn1crypto import crl as asn1_crl
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing import (
    Anchor,
    AppearanceSpec,
    Level,
    PadesSigner,
    PadesSpec,
    Profile,
    add_text_fields,
    fill_text_fields,
    open_pkcs11_key,
    parse_pkcs11_uri,
)
from signing.dev.pki import DevPki, SignerSpec
from signing.dev.services import DevServices
from signing.keys import DevelopmentModeWarning
from tests.plugin import SoftHsmToken
from tests.validation.pdfforge import incremental
from validation.document import validate_bytes
from validation.hexstrings import read_hex_string
from validation.pdf import validate_pdf
from validation.policy import TrustAnchors, ValidationPolicy, load_certificates
from validation.report import INDICATION_NAMES, Outcome, Role, SignatureReport, Unparseable

PASSED = AdESStatus.PASSED
FAILED = AdESStatus.FAILED
INDETERMINATE = AdESStatus.INDETERMINATE


# -- helpers ----------------------------------------------------------------------------------


def trusting(pki: DevPki, **kw: object) -> ValidationPolicy:
    return ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)}), **kw)  # type: ignore[arg-type]


def crls_at(pki: DevPki, when: datetime | None = None) -> tuple[bytes, bytes]:
    """Both CAs' CRLs, as published at ``when`` (default now)."""
    return pki.crl("issuing", now=when), pki.crl("root", now=when)


async def sign(
    pki: DevPki,
    services: DevServices,
    data: bytes,
    *,
    key: str = "personal",
    level: Level = Level.B_B,
    clock: datetime | None = None,
    timestamper: object | None = None,
) -> bytes:
    """An invisible signature (the plain profile)."""
    spec = PadesSpec(level=level, tsa_urls=(services.tsa_url,))
    kwargs: dict[str, object] = {}
    if clock is not None:
        kwargs["clock"] = lambda: clock
    if timestamper is not None:
        kwargs["timestamper"] = timestamper
    signer = PadesSigner(pki.in_memory_key(key), spec, **kwargs)  # type: ignore[arg-type]
    out, _ = await signer.sign_bytes(data)
    return out


async def pyhanko_sign(
    pki: DevPki, name: str, data: bytes, *, md: str = "sha256", field: str = "Sig1"
) -> bytes:
    """pyHanko's own signer, for keys and algorithms ``signing/`` refuses to use."""
    ident = pki.signers[name]
    signer = signers.SimpleSigner(
        signing_cert=ident.asn1,
        signing_key=ident.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm=md, subfilter=fields.SigSeedSubFilter.PADES
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    out = await signers.async_sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


def fresh_signer(pki: DevPki, prefix: str, **kw: object) -> str:
    """A signer of our own (revoking a shared one would disturb other tests)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    pki.issue(SignerSpec(name=name, kind="individual", common_name="Hoàng Văn Thử", **kw))  # type: ignore[arg-type]
    return name


def only(outcome: Outcome) -> SignatureReport:
    [report] = [s for s in outcome.signatures if s.kind == "signature"]
    return report


def codes(report: SignatureReport) -> set[str]:
    return {f.code for f in report.findings}


def contents_span(data: bytes) -> tuple[int, int]:
    """Start and end (exclusive) of the last signature's ``<hex>`` /Contents, from /ByteRange."""
    ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    _, len1, start2, _ = (int(v) for v in ranges[-1])
    return len1, start2


def signed_cms(data: bytes) -> tuple[cms.ContentInfo, int, int]:
    start, end = contents_span(data)
    raw = binascii.unhexlify(data[start + 1 : end - 1])
    info = cms.ContentInfo.load(raw)
    return info, start, end


def with_cms(data: bytes, info: cms.ContentInfo) -> bytes:
    """``data`` with its last signature's CMS replaced, padded to the same room."""
    start, end = contents_span(data)
    hexed = binascii.hexlify(info.dump())
    room = end - start - 2
    assert len(hexed) <= room
    return data[: start + 1] + hexed + b"0" * (room - len(hexed)) + data[end - 1 :]


def self_signed_root() -> x509.Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Unknown Root CA")])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# -- what signing/ produces -------------------------------------------------------------------


@pytest.mark.parametrize("level", list(Level), ids=[lv.value for lv in Level])
async def test_every_level_passes_online(
    level: Level, pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf, level=level)
    outcome = await validate_pdf(signed, trusting(pki))
    report = only(outcome)
    assert report.indication is PASSED, report.findings
    assert report.sub_indication is None
    assert report.role is Role.PERSONAL
    assert report.integrity and report.signature_valid and report.trusted
    assert report.certificate_valid_at_signing_time
    assert report.trust_anchor == pki.root.asn1.subject.human_friendly
    assert report.trust_purpose == "public"
    assert report.revocation.status == "good"
    assert report.signer is not None and report.signer.common_name == "Nguyễn Thị Hương Giang"
    assert report.claimed_signing_time is not None
    assert report.digest_algorithm == "sha256"
    if level.needs_timestamp:
        assert report.timestamp is not None and report.timestamp.valid
        assert report.timestamp.tsa == "Lienthong Dev TSA"
        assert report.best_signature_time == report.timestamp.time
        assert "time.no_timestamp" not in codes(report)
    else:
        assert report.timestamp is None
        assert "time.no_timestamp" in codes(report)
        no_ts = next(f for f in report.findings if f.code == "time.no_timestamp")
        assert "không có dấu thời gian" in no_ts.vi
    if level.needs_validation_data:
        assert report.modification == "LTA_UPDATES"
        assert report.coverage == "ENTIRE_REVISION"
    else:
        assert report.modification == "NONE"
        assert report.coverage == "ENTIRE_FILE"
    timestamps = [s for s in outcome.signatures if s.kind == "document-timestamp"]
    assert len(timestamps) == (1 if level is Level.B_LTA else 0)
    for ts in timestamps:
        assert ts.indication is PASSED, ts.findings
        assert ts.role is Role.TIMESTAMP
        assert ts.timestamp is not None and ts.timestamp.kind == "document-timestamp"


@pytest.mark.parametrize("level", [Level.B_LT, Level.B_LTA], ids=["B-LT", "B-LTA"])
async def test_long_term_levels_pass_offline_from_embedded_data(
    level: Level, pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf, level=level)
    before = len(dev_services.requests)
    outcome = await validate_pdf(signed, trusting(pki, offline=True))
    assert len(dev_services.requests) == before
    assert [s.indication for s in outcome.signatures] == [PASSED] * len(outcome.signatures)
    report = only(outcome)
    assert report.revocation.status == "good"
    assert report.revocation.source == "embedded"
    evidence = outcome.evidence
    ders = set(evidence.certificates)
    for cert in (pki.signers["personal"].asn1, pki.issuing.asn1, pki.root.asn1, pki.tsa.asn1):
        assert cert.dump() in ders
    assert evidence.ocsp_responses or evidence.crls
    assert evidence.timestamp_tokens
    for token in evidence.timestamp_tokens:
        assert cms.ContentInfo.load(token)["content_type"].native == "signed_data"


@pytest.mark.parametrize("key", ["personal-pss", "personal-ec", "agency-ec"])
async def test_other_key_types_pass(
    key: str, pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf, key=key, level=Level.B_LT)
    report = only(await validate_pdf(signed, trusting(pki, offline=True)))
    assert report.indication is PASSED, report.findings
    assert report.role is (Role.AGENCY if key == "agency-ec" else Role.PERSONAL)


async def test_personal_number_agency_sequence(
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    signature_png: bytes,
    seal_png: bytes,
) -> None:
    """Decree 30: personal signature, then the number and date filled in, then the agency's:
    both pass, the personal one having seen form filling only; the legal check passes."""
    draft = add_text_fields(sample_pdf)
    personal_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=(dev_services.tsa_url,),
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=signature_png,
            placement=Anchor(text="Nguyễn Thị Hương Giang", above="PHÓ GIÁM ĐỐC"),
        ),
    )
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), personal_spec).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "125", "ngay": "05", "thang": "02"})
    agency_spec = replace(
        personal_spec,
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png),
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), agency_spec).sign_bytes(numbered)

    outcome = await validate_pdf(final, trusting(pki, offline=True))
    regular = [s for s in outcome.signatures if s.kind == "signature"]
    assert [s.id for s in regular] == ["personal-1", "agency-1"]
    assert [s.indication for s in regular] == [PASSED, PASSED], [s.findings for s in regular]
    assert [s.role for s in regular] == [Role.PERSONAL, Role.AGENCY]
    assert regular[0].modification == "FORM_FILLING"
    assert regular[1].signer is not None and regular[1].signer.is_organisation

    report = await validate_bytes(final, trusting(pki, offline=True), name="cong-van.pdf")
    assert report.indication is PASSED
    assert report.legal.valid
    assert (report.legal.personal, report.legal.agency) == ("personal-1", "agency-1")

    only_personal = await validate_bytes(personal, trusting(pki, offline=True))
    assert only_personal.indication is PASSED
    assert not only_personal.legal.valid
    assert [r.code for r in only_personal.legal.reasons] == ["legal.no_agency_signature"]


@pytest.mark.hsm
async def test_pkcs11_signatures_pass(
    token: SoftHsmToken, pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    spec = PadesSpec(level=Level.B_LT, tsa_urls=(dev_services.tsa_url,))
    async with open_pkcs11_key(parse_pkcs11_uri(token.uri("personal")), lambda: token.pin) as key:
        first, _ = await PadesSigner(key, spec).sign_bytes(sample_pdf)
    async with open_pkcs11_key(parse_pkcs11_uri(token.uri("agency")), lambda: token.pin) as key:
        both, _ = await PadesSigner(key, spec).sign_bytes(first)
    outcome = await validate_pdf(both, trusting(pki, offline=True))
    regular = [s for s in outcome.signatures if s.kind == "signature"]
    assert [(s.indication, s.role) for s in regular] == [
        (PASSED, Role.PERSONAL),
        (PASSED, Role.AGENCY),
    ]


# -- attacks on the document ------------------------------------------------------------------


async def test_content_added_in_a_later_revision_fails(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf, level=Level.B_LT)

    def add_text(writer: IncrementalPdfFileWriter) -> None:
        stream = generic.StreamObject(stream_data=b"BT /F1 36 Tf 100 400 Td (DA DUYET) Tj ET")
        writer.add_stream_to_page(0, writer.add_object(stream))

    report = only(await validate_pdf(incremental(signed, add_text), trusting(pki, offline=True)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)
    assert report.modification == "OTHER"
    assert report.integrity and report.signature_valid  # the signed bytes are intact
    assert "pdf.modified_after_signing" in codes(report)
    finding = next(f for f in report.findings if f.code == "pdf.modified_after_signing")
    assert "sửa đổi sau khi ký" in finding.vi


async def test_object_of_the_signed_revision_overridden_fails(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf)

    def rotate(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        page["/Rotate"] = generic.NumberObject(180)
        writer.update_container(page)

    def replace_contents(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        contents = page.raw_get("/Contents")
        ref = contents[0] if isinstance(contents, generic.ArrayObject) else contents
        forged = generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td (forged) Tj ET")
        writer.mark_update(ref)
        writer.objects[(ref.generation, ref.idnum)] = forged

    for edit in (rotate, replace_contents):
        edited = incremental(signed, edit)
        report = only(await validate_pdf(edited, trusting(pki)))
        assert (report.indication, report.sub_indication) == (
            FAILED,
            AdESFailure.FORMAT_FAILURE,
        ), edit
        assert report.modification == "OTHER"


async def test_byte_flipped_in_the_signed_range_is_a_hash_failure(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = bytearray(await sign(pki, dev_services, sample_pdf))
    assert signed[9:10] == b"%"  # the binary comment line: harmless to the parser
    signed[11] ^= 0x01
    report = only(await validate_pdf(bytes(signed), trusting(pki)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.HASH_FAILURE)
    assert report.integrity is False
    assert "cms.hash_mismatch" in codes(report)


async def test_damaged_cms_blob(pki: DevPki, dev_services: DevServices, sample_pdf: bytes) -> None:
    signed = await sign(pki, dev_services, sample_pdf)
    info, start, _ = signed_cms(signed)
    value = info["content"]["signer_infos"][0]["signature"].native
    # a flipped bit in the signature value: the CMS still parses, the signature does not verify
    position = signed.lower().index(binascii.hexlify(value)[:64], start)
    broken = bytearray(signed)
    broken[position + 10] = ord("0") if broken[position + 10] != ord("0") else ord("1")
    report = only(await validate_pdf(bytes(broken), trusting(pki)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.SIG_CRYPTO_FAILURE)
    assert report.integrity is True and report.signature_valid is False
    # the DER itself damaged: the signature cannot be read at all
    garbled = signed[: start + 1] + b"ff" * 8 + signed[start + 17 :]
    outcome = await validate_pdf(garbled, trusting(pki))
    [report] = outcome.signatures
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)


async def test_garbage_appended_after_eof_is_not_covered(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """Bytes after the last %%EOF that form no revision are outside every signature: pyHanko's
    coverage check sees the byte range stop short of the file, and we refuse rather than
    guess what a reader makes of them (corpus row tail-uncovered.pdf agrees)."""
    signed = await sign(pki, dev_services, sample_pdf)
    report = only(await validate_pdf(signed + b"\n% hidden instructions\n", trusting(pki)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)
    assert report.integrity is True
    assert "pdf.trailing_bytes" in codes(report)
    # an incremental update without its %%EOF (some readers would still apply it)
    update = b"\n9999 0 obj\n(shadow)\nendobj\nstartxref\n" + str(len(signed)).encode() + b"\n"
    report = only(await validate_pdf(signed + update, trusting(pki)))
    assert report.sub_indication is AdESFailure.FORMAT_FAILURE
    # line ends and NUL padding after %%EOF (mail gateways add them) are harmless
    report = only(await validate_pdf(signed + b"\r\n\x00\x00\n", trusting(pki)))
    assert report.indication is PASSED, report.findings


async def test_byte_range_gap_wider_than_the_signature_fails(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """Signature wrapping: the /Contents string is shortened and the rest of the hole in the
    byte range filled with other bytes. The signed bytes are untouched (integrity holds) but
    the range no longer covers everything but the signature."""
    signed = await sign(pki, dev_services, sample_pdf)
    info, start, end = signed_cms(signed)
    hexed = binascii.hexlify(info.dump())
    filler = b" " * (end - start - len(hexed) - 2)
    wrapped = signed[:start] + b"<" + hexed + b">" + filler + signed[end:]
    assert len(wrapped) == len(signed)
    report = only(await validate_pdf(wrapped, trusting(pki)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)
    assert report.coverage == "UNCLEAR"
    assert report.integrity is True


async def test_forged_empty_signature_field_fails(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """Universal signature forgery: a signature dictionary whose /Contents and /ByteRange
    prove nothing, added in a later revision."""
    signed = await sign(pki, dev_services, sample_pdf)

    def forge(writer: IncrementalPdfFileWriter) -> None:
        sig = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Sig"),
                    generic.NameObject("/Filter"): generic.NameObject("/Adobe.PPKLite"),
                    generic.NameObject("/SubFilter"): generic.NameObject("/ETSI.CAdES.detached"),
                    generic.NameObject("/Contents"): generic.ByteStringObject(b""),
                    generic.NameObject("/ByteRange"): generic.ArrayObject(
                        [generic.NumberObject(0)] * 4
                    ),
                }
            )
        )
        field = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/FT"): generic.NameObject("/Sig"),
                    generic.NameObject("/T"): generic.TextStringObject("forged"),
                    generic.NameObject("/V"): sig,
                }
            )
        )
        form = writer.root["/AcroForm"]
        form["/Fields"].append(field)
        writer.update_container(form["/Fields"])
        writer.update_container(form)

    outcome = await validate_pdf(incremental(signed, forge), trusting(pki))
    by_id = {s.id: s for s in outcome.signatures}
    assert by_id["forged"].indication is FAILED
    assert by_id["forged"].sub_indication is AdESFailure.FORMAT_FAILURE


async def test_byte_range_with_thousands_of_pairs_is_refused_quickly(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """A /ByteRange listing the whole file 20 000 times: hashing it would take seconds (and a
    bigger file, minutes); it is refused before any digest."""
    signed = await sign(pki, dev_services, sample_pdf)
    info, _, _ = signed_cms(signed)

    def forge(writer: IncrementalPdfFileWriter) -> None:
        pairs = [generic.NumberObject(v) for _ in range(20_000) for v in (0, len(signed))]
        sig = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Sig"),
                    generic.NameObject("/SubFilter"): generic.NameObject("/ETSI.CAdES.detached"),
                    generic.NameObject("/Contents"): generic.ByteStringObject(info.dump()),
                    generic.NameObject("/ByteRange"): generic.ArrayObject(pairs),
                }
            )
        )
        field = writer.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/FT"): generic.NameObject("/Sig"),
                    generic.NameObject("/T"): generic.TextStringObject("many"),
                    generic.NameObject("/V"): sig,
                }
            )
        )
        form = writer.root["/AcroForm"]
        form["/Fields"].append(field)
        writer.update_container(form["/Fields"])

    started = time.perf_counter()
    outcome = await validate_pdf(incremental(signed, forge), trusting(pki))
    assert time.perf_counter() - started < 5
    many = next(s for s in outcome.signatures if s.id == "many")
    assert (many.indication, many.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)
    assert "pdf.byte_range" in codes(many)


async def test_timestamp_over_other_data_fails(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """A B-T signature whose timestamp token was issued for other data (the token sits in an
    unsigned attribute, so the signature itself still verifies)."""
    signed = await sign(pki, dev_services, sample_pdf, level=Level.B_T)
    info, _, _ = signed_cms(signed)
    stamper = DummyTimeStamper(tsa_cert=pki.tsa.asn1, tsa_key=pki.tsa.asn1_key)
    other = await stamper.async_timestamp(hashes_of(b"some other data"), "sha256")
    signer_info = info["content"]["signer_infos"][0]
    signer_info["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [other]})]
    )
    forged = with_cms(signed, cms.ContentInfo.load(info.dump(force=True)))
    report = only(await validate_pdf(forged, trusting(pki)))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.HASH_FAILURE)
    assert report.signature_valid is True
    assert report.timestamp is not None and not report.timestamp.valid
    assert "time.imprint_mismatch" in codes(report)


def hashes_of(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


# -- trust, revocation, time ------------------------------------------------------------------


async def test_chain_to_an_unknown_root(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf, level=Level.B_LT)
    policy = ValidationPolicy(anchors=TrustAnchors({"public": (self_signed_root(),)}))
    report = only(await validate_pdf(signed, policy))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert report.trusted is False and report.trust_anchor is None
    assert "cert.no_chain" in codes(report)
    # the timestamp's TSA is not trusted either: it is set aside, not used as proof
    assert report.timestamp is not None and not report.timestamp.valid
    assert "time.timestamp_unusable" in codes(report)


async def test_revoked_signer_with_the_crl_embedded(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    name = fresh_signer(pki, "revoked")
    signed = await sign(pki, dev_services, sample_pdf, key=name)
    pki.revoke(name)
    crls = [asn1_crl.CertificateList.load(der) for der in crls_at(pki)]

    def embed(writer: IncrementalPdfFileWriter) -> None:
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=[pki.issuing.asn1, pki.root.asn1], crls=crls
        )

    with_crl = incremental(signed, embed)
    before = len(dev_services.requests)
    report = only(await validate_pdf(with_crl, trusting(pki, offline=True)))
    assert len(dev_services.requests) == before
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.REVOKED_NO_POE,
    )
    assert report.modification == "LTA_UPDATES"
    assert report.revocation.status == "revoked"
    assert report.revocation.source == "embedded"
    assert report.certificate_valid_at_signing_time is False
    finding = next(f for f in report.findings if f.code == "cert.revoked")
    assert "thu hồi" in finding.vi
    # the same status, fetched online from the responder
    online = only(await validate_pdf(signed, trusting(pki)))
    assert online.sub_indication is AdESIndeterminate.REVOKED_NO_POE
    assert online.revocation.source == "online"


async def test_revoked_after_the_timestamp_still_passes(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """The timestamp proves the signature existed before the revocation: judged at that time,
    the certificate was good. Without a timestamp nothing proves it."""
    name = fresh_signer(pki, "revoked-later")
    stamped = await sign(pki, dev_services, sample_pdf, key=name, level=Level.B_T)
    plain = await sign(pki, dev_services, sample_pdf, key=name)
    now = datetime.now(UTC).replace(microsecond=0)
    pki.revoke(name, at=now + timedelta(minutes=10))
    policy = trusting(
        pki, offline=True, crls=crls_at(pki), validation_time=now + timedelta(hours=1)
    )
    report = only(await validate_pdf(stamped, policy))
    assert report.indication is PASSED, report.findings
    assert report.revocation.status == "good"
    assert report.revocation.source == "supplied"
    assert report.timestamp is not None
    assert report.best_signature_time == report.timestamp.time
    assert report.best_signature_time is not None and report.best_signature_time < now + timedelta(
        minutes=10
    )
    report = only(await validate_pdf(plain, policy))
    assert report.sub_indication is AdESIndeterminate.REVOKED_NO_POE


async def test_expired_signer(pki: DevPki, dev_services: DevServices, sample_pdf: bytes) -> None:
    """Signed while the certificate was valid (the signer's clock says so), judged now: the
    claimed time proves nothing, so the certificate is judged at the validation time."""
    cert = pki.signers["expired"].asn1
    inside = cert.not_valid_before + timedelta(days=5)
    signed = await sign(pki, dev_services, sample_pdf, key="expired", clock=inside)
    report = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    )
    assert report.claimed_signing_time == inside
    assert report.certificate_valid_at_signing_time is False
    assert "cert.expired" in codes(report)


async def test_pinned_future_time_uses_the_timestamp(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """An archivist in four years: the signer's certificate has expired by then, the TSA's
    has not. The timestamp proves the signature existed while the certificate was valid."""
    later = pki.created + timedelta(days=4 * 365)
    policy = trusting(pki, offline=True, crls=crls_at(pki, later), validation_time=later)
    stamped = only(
        await validate_pdf(await sign(pki, dev_services, sample_pdf, level=Level.B_T), policy)
    )
    assert stamped.indication is PASSED, stamped.findings
    assert stamped.best_signature_time is not None and stamped.best_signature_time < later
    plain = only(await validate_pdf(await sign(pki, dev_services, sample_pdf), policy))
    assert plain.sub_indication is AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
    assert plain.best_signature_time == later


async def test_pinned_time_before_the_certificate(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """Validation pinned before the signer's certificate existed: the signature existed then
    (by assumption), so it predates its certificate."""
    before = pki.created - timedelta(days=60)
    policy = trusting(pki, offline=True, crls=crls_at(pki, before), validation_time=before)
    report = only(await validate_pdf(await sign(pki, dev_services, sample_pdf), policy))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.NOT_YET_VALID)


async def test_offline_makes_no_network_access(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf)
    before = len(dev_services.requests)
    report = only(await validate_pdf(signed, trusting(pki, offline=True)))
    assert len(dev_services.requests) == before
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.TRY_LATER,
    )
    assert report.revocation.status == "unknown"
    soft = only(await validate_pdf(signed, trusting(pki, offline=True, revocation="soft")))
    assert soft.indication is PASSED
    assert soft.revocation.status == "unknown"
    assert len(dev_services.requests) == before
    # the caller's CRLs are enough
    supplied = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert supplied.indication is PASSED
    assert (supplied.revocation.status, supplied.revocation.source) == ("good", "supplied")
    # … and so is an OCSP response they fetched (plus the root's CRL for the issuing CA)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(pki.signers["personal"].cert, pki.issuing.cert, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    policy = trusting(
        pki,
        offline=True,
        ocsp_responses=(dev_services.ocsp(request),),
        crls=(pki.crl("root"),),
    )
    answered = only(await validate_pdf(signed, policy))
    assert answered.indication is PASSED, answered.findings
    assert (answered.revocation.status, answered.revocation.source) == ("good", "supplied")
    assert len(dev_services.requests) == before


async def test_unreachable_responder_soft_and_hard(sample_pdf: bytes) -> None:
    """A PKI whose CRL and OCSP URLs point at a closed port."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        lonely = DevPki.generate(
            "http://127.0.0.1:9",
            signers=(SignerSpec(name="lonely", kind="individual", common_name="Ngô Văn Xa"),),
        )
    signed, _ = await PadesSigner(lonely.in_memory_key("lonely"), PadesSpec()).sign_bytes(
        sample_pdf
    )
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (lonely.root.asn1,)}), fetch_timeout=2.0
    )
    hard = only(await validate_pdf(signed, policy))
    assert (hard.indication, hard.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.TRY_LATER,
    )
    assert "cert.revocation_unknown" in codes(hard)
    soft = only(await validate_pdf(signed, replace(policy, revocation="soft")))
    assert soft.indication is PASSED
    assert soft.revocation.status == "unknown"
    assert soft.revocation.detail and "soft" in soft.revocation.detail
    warning = next(f for f in soft.findings if f.code == "cert.revocation_unknown_accepted")
    assert warning.severity == "warning" and "chế độ kiểm tra thu hồi là mềm" in warning.vi


# -- algorithms and key usage -----------------------------------------------------------------


async def test_sha1_passes_with_a_warning(pki: DevPki, sample_pdf: bytes) -> None:
    signed = await pyhanko_sign(pki, "personal", sample_pdf, md="sha1")
    report = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert report.indication is PASSED, report.findings
    assert report.digest_algorithm == "sha1"
    weak = next(f for f in report.findings if f.code == "crypto.weak_digest")
    assert weak.severity == "warning" and "thuật toán yếu" in weak.vi


async def test_short_rsa_key_is_not_accepted(pki: DevPki, sample_pdf: bytes) -> None:
    name = fresh_signer(pki, "rsa1024", key="rsa1024")
    signed = await pyhanko_sign(pki, name, sample_pdf)
    report = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
    )
    assert "crypto.not_accepted" in codes(report)


async def test_md5_is_not_accepted(pki: DevPki, sample_pdf: bytes) -> None:
    try:
        signed = await pyhanko_sign(pki, "personal", sample_pdf, md="md5")
    except (PdfError, ValueError) as exc:  # pragma: no cover - depends on pyHanko's signer
        pytest.skip(f"pyHanko refuses to make an MD5 signature: {exc}")
    report = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
    )


async def test_key_usage_must_allow_signing(pki: DevPki, sample_pdf: bytes) -> None:
    signed = await pyhanko_sign(pki, "encipher-only", sample_pdf)
    report = only(await validate_pdf(signed, trusting(pki, offline=True, crls=crls_at(pki))))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    )
    assert "cert.key_usage" in codes(report)


# -- files that are not PDFs we can read ------------------------------------------------------


def _encrypted(user_password: str) -> bytes:
    writer = PdfFileWriter()
    writer.encrypt("owner-secret", user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7\n",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.4\n" + random.Random(3).randbytes(4096),  # noqa: S311
    ],
    ids=["empty", "header-only", "no-xref", "noise"],
)
async def test_unreadable_pdfs_are_refused(data: bytes) -> None:
    with pytest.raises(Unparseable) as info:
        await validate_pdf(data, ValidationPolicy())
    assert info.value.finding.code == "pdf.unreadable"
    assert info.value.finding.vi.startswith("không đọc được tệp PDF")


async def test_truncated_signed_pdf_is_refused(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    signed = await sign(pki, dev_services, sample_pdf)
    with pytest.raises(Unparseable):
        await validate_pdf(signed[: len(signed) // 2], trusting(pki))
    report = await validate_bytes(signed[: len(signed) // 2], trusting(pki))
    assert (report.indication, report.sub_indication) == (FAILED, AdESFailure.FORMAT_FAILURE)


async def test_encrypted_pdf_needs_its_password() -> None:
    with pytest.raises(Unparseable) as info:
        await validate_pdf(_encrypted("user-secret"), ValidationPolicy())
    assert "mật khẩu" in info.value.finding.vi
    # no user password: readable, and unsigned
    outcome = await validate_pdf(_encrypted(""), ValidationPolicy())
    assert outcome.signatures == ()
    assert [f.code for f in outcome.findings] == ["pdf.unsigned"]


async def test_unsigned_pdf(sample_pdf: bytes) -> None:
    report = await validate_bytes(sample_pdf, ValidationPolicy(offline=True))
    assert (report.indication, report.sub_indication) == (
        INDETERMINATE,
        AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
    )


# -- the fast hex-string reader ---------------------------------------------------------------


def _read_with(reader: object, raw: bytes) -> tuple[str, object, int]:
    from pyhanko.pdf_utils import generic as g

    stream = io.BytesIO(raw)
    try:
        value = reader(stream)  # type: ignore[operator]
    except Exception as exc:  # comparing failures too
        return ("error", type(exc).__name__, -1)
    assert isinstance(value, g.ByteStringObject | g.TextStringObject)
    return ("ok", bytes(value.original_bytes), stream.tell())


def test_fast_hex_strings_read_exactly_like_pyhanko() -> None:
    from pyhanko.pdf_utils.generic import read_hex_string_from_stream

    rng = random.Random(30)  # noqa: S311
    alphabet = b"0123456789abcdefABCDEF  \n\r\t\x00\x0c%>g<"
    cases = [
        b"<>",
        b"<41>",
        b"<4>",
        b"<4 1\n4 2>",
        b"<41 % comment > still\n42>tail",
        b"<41zz>",
        b"<4142",
        b"<" + b"0" * 70000 + b"30>x",
        b"<FEFF0041>",
    ]
    cases += [
        b"<" + bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 600))) + b">rest"
        for _ in range(400)
    ]
    for raw in cases:
        assert _read_with(read_hex_string, raw) == _read_with(read_hex_string_from_stream, raw)


def test_known_certificates_are_shared_by_value(pki: DevPki) -> None:
    """Two parses of the same certificate become one object; another certificate does not."""
    from validation.context import known_certificate

    der = pki.issuing.asn1.dump()
    first = known_certificate(der, x509.Certificate.load(der))
    again = known_certificate(der, x509.Certificate.load(der))
    assert again is first
    other = pki.tsa.asn1.dump()
    assert known_certificate(other, x509.Certificate.load(other)) is not first


async def test_fast_hex_reader_is_restored_after_validation(sample_pdf: bytes) -> None:
    from pyhanko.pdf_utils import generic as g

    original = g.read_hex_string_from_stream
    await asyncio.gather(*(validate_pdf(sample_pdf, ValidationPolicy()) for _ in range(3)))
    assert g.read_hex_string_from_stream is original


# -- the shared corpus ------------------------------------------------------------------------

EXPECTED = {"VALID": PASSED, "INVALID": FAILED, "INDETERMINATE": INDETERMINATE}


def _corpus_rows(corpus_root: Path) -> list[dict[str, str]]:
    with (corpus_root / "manifest.csv").open(encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r["format"] == "pdf"]


CORPUS_SAMPLE = (
    "coverage-anomalies/tail-uncovered.pdf",
    "coverage-anomalies/one-byterange.pdf",
    "coverage-anomalies/signature-gap-too-big.pdf",
    "form-update-override-appearance-stream.pdf",
    "form-update-override-appearance-stream-sneaky.pdf",
    "extensions-indirect-not-all-paths.pdf",
    "extensions-direct.pdf",
    "minimal-two-fields-signed-twice.pdf",
    "certified-with-indirect-refs-in-dir.pdf",
    "pades-lta-dss-indirect-arrs-test.pdf",
    "pades-lta-dss-indirect-arrs-test-2.pdf",
    "sig-no-signed-attrs.pdf",
    "sig-with-ski-sid.pdf",
    "pdf-sig-with-econtent.pdf",
    "ed448-disallowed-hash.pdf",
    "ed448-shake256-nolen.pdf",
)


async def test_corpus_signed_sample(corpus: Path) -> None:
    """A sample of the signed rows (the full manifest is the lead's test), each file in place:
    anchors and time from the row, offline, soft revocation."""
    seen = 0
    for row in _corpus_rows(corpus):
        if not row["path"].endswith(CORPUS_SAMPLE):
            continue
        anchors = tuple(
            cert
            for part in row["trust_anchor"].split(";")
            if part
            for cert in load_certificates(corpus / part)
        )
        policy = ValidationPolicy(
            anchors=TrustAnchors({"public": anchors}),
            validation_time=datetime.fromisoformat(row["validation_time"].replace("Z", "+00:00")),
            offline=True,
            revocation="soft",
        )
        report = await validate_bytes((corpus / row["path"]).read_bytes(), policy)
        got = INDICATION_NAMES[report.indication]
        assert report.indication is EXPECTED[row["expected"]], (row["path"], got, report.signatures)
        seen += 1
    assert seen >= len(CORPUS_SAMPLE)


async def test_corpus_malformed_pdfs_are_refused_or_bounded(corpus: Path) -> None:
    """MALFORMED rows are refused; BOUNDED ones give some verdict, quickly, without a crash
    (and, offline, without network)."""
    for row in _corpus_rows(corpus):
        if row["expected"] not in ("MALFORMED", "BOUNDED"):
            continue
        data = (corpus / row["path"]).read_bytes()
        started = time.perf_counter()
        report = await validate_bytes(data, ValidationPolicy(offline=True, revocation="soft"))
        elapsed = time.perf_counter() - started
        assert elapsed < 10, (row["path"], elapsed)
        if row["expected"] == "MALFORMED":
            assert report.indication is FAILED, row["path"]
            assert report.sub_indication is AdESFailure.FORMAT_FAILURE
            assert not report.signatures
        assert report.indication is not PASSED or not report.signatures, row["path"]
