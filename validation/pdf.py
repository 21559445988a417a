"""PAdES validation: a verdict on every signature and document timestamp of a PDF.

Each signature is judged in the ETSI EN 319 102-1 vocabulary, with pyHanko's enums; pyHanko
and pyhanko-certvalidator do the PDF, CMS and X.509 work, this module chooses the time, the
revocation sources and the verdict. The steps, and what each failure becomes:

1. **Format.** The signature dictionary and its CMS must be readable and of a kind we verify:
   ``/Sig`` with ``adbe.pkcs7.detached`` or ``ETSI.CAdES.detached``, ``/DocTimeStamp`` with
   ``ETSI.RFC3161``; a detached CMS carries no content of its own. Otherwise
   TOTAL-FAILED / ``FORMAT_FAILURE`` (ETSI: "the cryptographic verification building block is
   unable to process it").
2. **Coverage and later changes.** The ``/ByteRange`` must cover the whole revision it signs
   (pyHanko's coverage ``ENTIRE_FILE`` or ``ENTIRE_REVISION``; a range that skips bytes, is not
   contiguous around ``/Contents`` or stops short of the revision's end is ``UNCLEAR`` or
   ``CONTIGUOUS_BLOCK_FROM_START``). What later revisions changed is classified by pyHanko's
   difference analysis: ``NONE``, ``LTA_UPDATES`` (DSS, document timestamps),
   ``FORM_FILLING``, ``ANNOTATIONS`` (allowed unless the signature's DocMDP forbids them) or
   ``OTHER``. Bad coverage, ``OTHER``, or more than DocMDP allows is TOTAL-FAILED /
   ``FORMAT_FAILURE``: the signed bytes may be intact, but the document a reader sees is not
   the one that was signed. Bytes after the last ``%%EOF`` line other than whitespace (an
   update appended without its own ``%%EOF``, which lenient readers apply and pyHanko's reader
   does not see) fail every signature the same way; line ends and NUL padding do not.
   Incremental saving, shadow hide/replace, universal signature forgery and signature
   wrapping attacks all end here (or in step 1). We follow the EU DSS
   validator, whose PDF format checks (byte range, DocMDP, undefined changes) fail with
   ``FORMAT_FAILURE``; ``HASH_FAILURE`` keeps its ETSI meaning of step 3.
3. **Integrity and signature value.** TOTAL-FAILED / ``HASH_FAILURE`` when the digest of the
   byte range differs from the signed one (a byte flipped in the signed range);
   ``SIG_CRYPTO_FAILURE`` when the signature value does not verify with the certificate's key
   (a damaged CMS blob). ``NO_SIGNING_CERTIFICATE_FOUND`` (INDETERMINATE) when the CMS does not
   carry the certificate its attributes name.
4. **Algorithms** (:class:`validation.context.AlgorithmPolicy`): MD5, RSA < 2048 bits or EC
   < 256 bits give INDETERMINATE / ``CRYPTO_CONSTRAINTS_FAILURE`` (``_NO_POE`` when a policy
   bans an algorithm only from a date on); SHA-1 passes with a warning.
5. **Time.** A claimed signing time (``/M``, ``signingTime``) is reported and never used. The
   best signature time is the earliest proof of existence: a valid signature timestamp, else a
   valid document timestamp of a later revision, else the validation time. A signature
   timestamp is itself judged at the time its own proof of existence (a later document
   timestamp) gives, else at the validation time; older document timestamps likewise at the
   time of the next one (PAdES B-LTA). A signature timestamp that is broken (issued for other
   data, a signature value that does not verify, unreadable) makes the signature fail the same
   way (``HASH_FAILURE``, …), as pyHanko's validation with time does: the container was
   tampered with. One that is intact but not trusted (unknown TSA, revocation unknown) proves
   nothing and is set aside with a warning, as ETSI does with unusable tokens; so is one dated
   after the validation time.
6. **Certificate at the best signature time**: path to a configured anchor, validity, key usage
   (``digitalSignature`` or ``nonRepudiation``; time-stamping for a TSA) and revocation, with
   revocation data from the document (DSS, CMS ``revocation-info-archival``) and the caller's
   files first, then fetched online unless the policy is offline, then, in ``soft`` mode, an
   unknown status accepted (and reported). Revocation data issued after the best signature time
   counts (a later CRL still says whether the certificate was revoked before).

   ============================================  ===============================================
   certificate problem                           indication / sub-indication
   ============================================  ===============================================
   no path to a trust anchor                     INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
   expired at the best signature time            INDETERMINATE / OUT_OF_BOUNDS_NO_POE
   not yet valid at the best signature time      TOTAL-FAILED / NOT_YET_VALID
   revoked before the best signature time        INDETERMINATE / REVOKED_NO_POE (CA:
                                                 REVOKED_CA_NO_POE); TOTAL-FAILED / REVOKED when
                                                 a content timestamp proves signing after it
   expired before a content timestamp            INDETERMINATE / EXPIRED
   revocation status unknown or stale (hard)     INDETERMINATE / TRY_LATER
   key usage does not allow signing              INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
   algorithm in the chain not accepted           INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE
   anything else in the path                     INDETERMINATE / CERTIFICATE_CHAIN_GENERAL_FAILURE
   seed value constraint of the field violated   INDETERMINATE / SIG_CONSTRAINTS_FAILURE
   ============================================  ===============================================

   When several problems apply, a TOTAL-FAILED one wins over an INDETERMINATE one, and among
   equals the earlier step wins.

Files that cannot be parsed (strict mode), or that are encrypted with a password we do not
have, raise :class:`~validation.report.Unparseable`.

Why not pyHanko's ``ades_lta_validation``: it gives a signature without a timestamp (B-B)
INDETERMINATE / ``SIG_CONSTRAINTS_FAILURE``, and each call re-analyses every signature of the
document; the building blocks it uses (difference analysis, CMS checks, certificate paths with
point-in-time revocation) are the ones used here, once per signature, with the same
sub-indications.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from asn1crypto import algos, cms, core, crl, ocsp, tsp, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils import misc, xref
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.general import (
    MultivaluedAttributeError,
    NonexistentAttributeError,
    check_ess_certid,
    extract_signer_info,
    find_cms_attribute_iter,
    find_unique_cms_attribute,
)
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    report_seed_value_validation,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from validation.certificates import (
    NO_CHAIN,
    PathVerdict,
    judge_certificate,
    revocation_unknown_accepted,
)
from validation.context import (
    SIGNER_KEY_USAGE,
    AlgorithmPolicy,
    ContextFactory,
    algorithm_findings,
    fetching,
    validation_time,
)
from validation.hexstrings import install_fast_hex_strings
from validation.pdfcoverage import byte_coverage, structure_findings
from validation.pdfhistory import Change, History, Rect, read_history, text_boxes
from validation.pdfstructure import Structure, read_structure
from validation.policy import ValidationPolicy
from validation.report import (
    CertificateInfo,
    Evidence,
    Finding,
    Outcome,
    RevisionUpdate,
    RevocationInfo,
    Role,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Unparseable,
)

__all__ = ["validate_pdf"]

install_fast_hex_strings()

SIGNATURE_SUBFILTERS = frozenset(
    {SigSeedSubFilter.ADOBE_PKCS7_DETACHED.value, SigSeedSubFilter.PADES.value}
)
TIMESTAMP_SUBFILTERS = frozenset({SigSeedSubFilter.ETSI_RFC3161.value})

TSA_KEY_USAGE = KeyUsageConstraints(extd_key_usage={"time_stamping"})

OVER_TEXT = 0.5
"""A later signature's widget "covers" a run of text when it hides this share of the run's
height, over :data:`OVER_TEXT_WIDTH` points of its width (or this share of a short run)."""
OVER_TEXT_WIDTH = 20.0
SEAL_MAX = 50 / 25.4 * 72
"""The largest seal told apart as the Decree 30 agency seal (50 mm; real seals are ~36-42)."""
MAX_SIGNATURES = 64
"""Signatures and document timestamps judged per file; more are reported unchecked."""
MAX_CERTIFICATES = 64
"""Certificates in one CMS, and (four times as many) in the DSS: path building tries every
issuer candidate, so a hostile file must not bring thousands."""

ALLOWED_MODIFICATIONS = {
    ModificationLevel.NONE: None,
    ModificationLevel.LTA_UPDATES: (
        "validation data and document timestamps",
        "dữ liệu phục vụ kiểm tra và dấu thời gian văn bản",
    ),
    ModificationLevel.FORM_FILLING: ("form filling", "điền biểu mẫu"),
    ModificationLevel.ANNOTATIONS: ("annotations", "chú thích"),
}

# Anything pyHanko, asn1crypto or the certificate validator raise on hostile input. A verdict
# must come out of every file, so these are caught at each call into them (never around our own
# logic) and become a format failure or an unreadable file.
_BAD_INPUT: tuple[type[Exception], ...] = (Exception,)


@dataclass(slots=True)
class _Document:
    """Everything read from the file before any signature is judged (all of it synchronous,
    CPU-bound work: it runs in a worker thread)."""

    structure: Structure
    entries: list[_Entry]
    tail: int
    dss: _Revinfo
    findings: list[Finding]
    history: History


def _read_document(data: bytes) -> _Document:
    structure = read_structure(data)
    reader = _open(data, structure)
    entries = _signature_entries(reader, len(data))
    tail = _trailing_bytes(data)
    dss, findings = _read_dss(reader)
    if dss.certs or dss.crls or dss.ocsps:
        findings.append(
            _finding(
                "pdf.dss",
                f"the file carries validation data (DSS): {len(dss.certs)} certificates, "
                f"{len(dss.crls)} CRLs, {len(dss.ocsps)} OCSP responses",
                f"tệp có kèm dữ liệu phục vụ kiểm tra (DSS): {len(dss.certs)} chứng thư số, "
                f"{len(dss.crls)} CRL, {len(dss.ocsps)} phản hồi OCSP",
                "info",
            )
        )
    if not entries:
        findings.append(
            _finding(
                "pdf.unsigned",
                "the PDF carries no signature and no document timestamp",
                "tệp PDF không có chữ ký số hay dấu thời gian nào",
                "info",
            )
        )
    revisions = [e.revision for e in entries if e.signature is not None and e.revision >= 0]
    history = read_history(reader, structure, min(revisions)) if revisions else History()
    return _Document(structure, entries, tail, dss, findings, history)


async def validate_pdf(
    data: bytes, policy: ValidationPolicy, *, fetchers: Fetchers | None = None
) -> Outcome:
    """Judge every signature and document timestamp in ``data``.

    Safe to run concurrently: parsing, the change analysis and the cryptographic checks run in
    worker threads (:func:`asyncio.to_thread`), one step of one document at a time; only the
    certificate paths (which may fetch revocation data) run on the event loop. ``fetchers``:
    the caller's (tests pin them), else made from the policy for this call.

    Raises :class:`Unparseable` when the file cannot be read as a PDF (strict parsing) or is
    encrypted with a password we do not have; everything else, forgeries included, is a verdict.
    """
    document = await asyncio.to_thread(_read_document, data)
    async with fetching(policy, fetchers) as live:
        judge = _Judge(policy, live, data=data, document=document)
        reports = await judge.all(document.entries)
    return Outcome(
        signatures=tuple(reports),
        findings=tuple(document.findings),
        evidence=judge.evidence(),
        updates=judge.updates(),
    )


# -- reading ----------------------------------------------------------------------------------


def _finding(
    code: str, en: str, vi: str, severity: Literal["error", "warning", "info"] = "error"
) -> Finding:
    return Finding(code=code, en=en, vi=vi, severity=severity)


def _problem(sub: SubIndication, code: str, en: str, vi: str) -> tuple[SubIndication, Finding]:
    return sub, _finding(code, en, vi)


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _unreadable(detail: str) -> Unparseable:
    return Unparseable(
        _finding(
            "pdf.unreadable",
            f"the PDF cannot be read: {detail}",
            f"không đọc được tệp PDF: {detail}",
        )
    )


_SHRINKING_SIZE = "XRef section sizes must be nondecreasing"


def _read(data: bytes, structure: Structure) -> PdfFileReader:
    """pyHanko's strict reader; but an update whose trailer ``/Size`` is smaller than the one
    before (harmless when the update lists nothing beyond it, and accepted by every major
    reader) is read leniently, then judged strictly: our own structure reader has checked the
    sections, and pyHanko's remaining strict consistency checks are run by hand."""
    try:
        return PdfFileReader(io.BytesIO(data), strict=True)
    except misc.PdfStrictReadError as exc:
        if _SHRINKING_SIZE not in str(exc) or structure.problems:
            raise
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    reader.strict = True
    sections = reader.xrefs._xref_sections  # the chronological sections pyHanko read
    for index, section in enumerate(sections):
        xref._check_freed_refs(index, section, sections)
    return reader


def _open(data: bytes, structure: Structure) -> PdfFileReader:
    try:
        reader = _read(data, structure)
        if reader.encrypted:
            try:
                opened = reader.decrypt(b"").status.name != "FAILED"
            except _BAD_INPUT:
                opened = False
            if not opened:
                raise Unparseable(
                    _finding(
                        "pdf.unreadable",
                        "the PDF is encrypted and needs a password (or a key) to be read",
                        "tệp PDF đã được mã hóa, cần mật khẩu (hoặc khóa) để đọc",
                    )
                )
        reader.root  # noqa: B018 - the catalog must be readable
    except Unparseable:
        raise
    except RecursionError as exc:
        raise _unreadable("its object structure is nested too deeply") from exc
    except _BAD_INPUT as exc:
        # our own reader's finding, where it has one, says more than pyHanko's exception
        raise _unreadable(structure.problems[0].en if structure.problems else _why(exc)) from exc
    return reader


def _trailing_bytes(data: bytes) -> int:
    """How many bytes other than whitespace follow the last line that starts with ``%%EOF``
    (where pyHanko's reader, like a careful one, takes the file to end). Line ends and NULs that
    transports add are whitespace; an incremental update appended without its own ``%%EOF`` is
    not."""
    end = len(data)
    while True:
        end = data.rfind(b"%%EOF", 0, end)
        if end < 0:
            return 0
        if end == 0 or data[end - 1] in b"\r\n":
            break
    return len(data[end + 5 :].translate(None, misc.PDF_WHITESPACE))


@dataclass(slots=True)
class _Entry:
    """One filled signature field."""

    name: str
    signature: EmbeddedPdfSignature | None
    problem: Finding | None = None
    revision: int = -1
    timestamp: bool = False


def _signature_entries(reader: PdfFileReader, size: int) -> list[_Entry]:
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except RecursionError as exc:
        raise _unreadable("its form fields are nested too deeply") from exc
    except _BAD_INPUT as exc:
        raise _unreadable(f"its signature fields cannot be read: {_why(exc)}") from exc
    entries: list[_Entry] = []
    for number, (fq_name, _value, sig_field) in enumerate(fields):
        name = str(fq_name)
        if number >= MAX_SIGNATURES:
            # each one costs a pass over the document: a bound for hostile files
            entries.append(
                _Entry(
                    name,
                    None,
                    _finding(
                        "pdf.too_many_signatures",
                        f"not checked: the file has more than {MAX_SIGNATURES} signatures",
                        f"không kiểm tra: tệp có hơn {MAX_SIGNATURES} chữ ký",
                    ),
                )
            )
            continue
        try:
            embedded = EmbeddedPdfSignature(reader, sig_field, name)
            kind = str(embedded.sig_object_type)
            subfilter = embedded.sig_object.get("/SubFilter")
            revision = int(embedded.signed_revision)
        except _BAD_INPUT as exc:
            entries.append(
                _Entry(
                    name,
                    None,
                    _finding(
                        "pdf.signature_unreadable",
                        f"the signature cannot be read: {_why(exc)}",
                        f"không đọc được chữ ký: {_why(exc)}",
                    ),
                )
            )
            continue
        is_timestamp = kind == "/DocTimeStamp"
        allowed = TIMESTAMP_SUBFILTERS if is_timestamp else SIGNATURE_SUBFILTERS
        problem = _byte_range_problem(embedded, size)
        if problem is None and kind not in ("/Sig", "/DocTimeStamp"):
            problem = _finding(
                "pdf.signature_type",
                f"unknown signature dictionary type {kind}",
                f"loại từ điển chữ ký không xác định: {kind}",
            )
        if problem is None and str(subfilter) not in allowed:
            problem = _finding(
                "pdf.unsupported_format",
                f"signature format {subfilter} is not one we can verify "
                f"(accepted: {', '.join(sorted(allowed))})",
                f"định dạng chữ ký {subfilter} không được hỗ trợ để kiểm tra "
                f"(chấp nhận: {', '.join(sorted(allowed))})",
            )
        entries.append(_Entry(name, embedded, problem, revision, is_timestamp))
    entries.sort(key=lambda e: (e.revision < 0, e.revision))
    return entries


def _byte_range_problem(embedded: EmbeddedPdfSignature, size: int) -> Finding | None:
    """A /ByteRange must be two ranges inside the file, the first from its start, the second
    after the first: anything else is refused before any digest is computed (pyHanko would hash
    every pair it is given, and a hostile file can list a million of them)."""
    try:
        values = [int(v) for v in embedded.byte_range]
    except _BAD_INPUT:
        values = []
    if (
        len(values) == 4
        and values[0] == 0
        and min(values) >= 0
        and values[1] <= values[2]
        and values[2] + values[3] <= size
    ):
        return None
    shown = " ".join(str(v) for v in values[:8]) + (" ..." if len(values) > 8 else "")
    return _finding(
        "pdf.byte_range",
        f"the signature's /ByteRange [{shown}] is not two ranges of this file around the "
        "signature value",
        f"/ByteRange [{shown}] của chữ ký không phải hai đoạn của tệp bao quanh giá trị chữ ký",
    )


@dataclass(frozen=True, slots=True)
class _Revinfo:
    """Validation data found in the document, parsed once, with its DER for the evidence."""

    certs: tuple[x509.Certificate, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    ocsps: tuple[ocsp.OCSPResponse, ...] = ()

    def __add__(self, other: _Revinfo) -> _Revinfo:
        return _Revinfo(self.certs + other.certs, self.crls + other.crls, self.ocsps + other.ocsps)


def _read_dss(reader: PdfFileReader) -> tuple[_Revinfo, list[Finding]]:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _Revinfo(), []
    except _BAD_INPUT as exc:
        return _Revinfo(), [_dss_unreadable(exc)]
    certs: list[x509.Certificate] = []
    crls: list[crl.CertificateList] = []
    ocsps: list[ocsp.OCSPResponse] = []
    if len(dss.certs) + len(dss.crls) + len(dss.ocsps) > 4 * MAX_CERTIFICATES:
        return _Revinfo(), [_dss_unreadable(ValueError("it holds too many items"))]
    try:
        for ref in dss.certs.values():
            cert = x509.Certificate.load(ref.get_object().read_data(DecodePurpose.CERTIFICATE))
            cert["tbs_certificate"]["serial_number"].native  # noqa: B018 - parse now
            certs.append(cert)
        for ref in dss.crls:
            item = crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL))
            item["tbs_cert_list"]["issuer"].native  # noqa: B018
            crls.append(item)
        for ref in dss.ocsps:
            resp = ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
            resp["response_status"].native  # noqa: B018
            ocsps.append(resp)
    except _BAD_INPUT as exc:
        return _Revinfo(tuple(certs), tuple(crls), tuple(ocsps)), [_dss_unreadable(exc)]
    return _Revinfo(tuple(certs), tuple(crls), tuple(ocsps)), []


def _dss_unreadable(exc: Exception) -> Finding:
    return _finding(
        "pdf.dss_unreadable",
        f"the document security store (DSS) cannot be read and was ignored: {_why(exc)}",
        f"không đọc được kho dữ liệu kiểm tra (DSS) trong tệp, đã bỏ qua: {_why(exc)}",
        "warning",
    )


def _cms_revinfo(signer_info: cms.SignerInfo) -> _Revinfo:
    """Adobe's ``revocation-info-archival`` signed attribute."""
    try:
        archival = find_unique_cms_attribute(
            signer_info["signed_attrs"], "adobe_revocation_info_archival"
        )
        crls = tuple(archival["crl"]) if archival["crl"] else ()
        ocsps = tuple(archival["ocsp"]) if archival["ocsp"] else ()
        return _Revinfo(crls=crls, ocsps=ocsps)
    except (NonexistentAttributeError, MultivaluedAttributeError):
        return _Revinfo()
    except _BAD_INPUT:
        return _Revinfo()


# -- cryptography -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Crypto:
    """Signature value, integrity and algorithms of one CMS SignedData."""

    cert: x509.Certificate | None = None
    other_certs: tuple[x509.Certificate, ...] = ()
    intact: bool | None = None
    valid: bool | None = None
    problems: list[tuple[SubIndication, Finding]] = field(default_factory=list)
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None

    @property
    def sound(self) -> bool:
        """Intact, valid, algorithms accepted: worth judging the certificate."""
        return bool(self.intact and self.valid and self.cert is not None and not self.problems)


def _signer_certificate(
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    canonical: Callable[[x509.Certificate], x509.Certificate],
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The signer's certificate among the CMS certificates (ETSI EN 319 102-1 §5.2.3.4), and
    the others, as one object per certificate.

    pyHanko's ``extract_certs_for_validation`` does the same but compares the issuer name of
    every certificate in the bag before its serial number, and RFC 5280 name comparison is the
    slowest thing in a validation; here the serial number goes first. Among several candidates
    the one the ``signing-certificate(-v2)`` attribute names wins.
    """
    choices = signed_data["certificates"]
    if len(choices) > MAX_CERTIFICATES:
        raise SignatureValidationError(
            f"the signature carries {len(choices)} certificates (at most {MAX_CERTIFICATES})",
            AdESFailure.FORMAT_FAILURE,
        )
    bag = [canonical(c.chosen.untag()) for c in choices if c.name == "certificate"]
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        serial = wanted["serial_number"].native
        issuer = wanted["issuer"]

        def named(cert: x509.Certificate) -> bool:
            if cert.serial_number != serial:
                return False
            try:
                return bool(issuer.dump() == cert.issuer.dump() or issuer == cert.issuer)
            except ValueError:
                return False

    elif sid.name == "subject_key_identifier":
        key_id = sid.chosen.native

        def named(cert: x509.Certificate) -> bool:
            return bool(cert.key_identifier == key_id)

    else:
        raise SignatureValidationError(
            "unknown signer identifier", AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
        )
    candidates = [c for c in bag if named(c)]
    certid = None
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs is not core.VOID:
        attr = generic_cms.get_signing_cert_attr(signed_attrs)
        certid = None if attr is None else attr["certs"][0]
    if certid is not None:
        candidates = [c for c in candidates if _names_certificate(certid, c)]
    if not candidates:
        raise SignatureValidationError(
            "the certificate the signature names is not in it (or does not match its "
            "signing-certificate attribute)",
            AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
        )
    signer = candidates[0]
    return signer, tuple(c for c in bag if c is not signer)


def _names_certificate(certid: tsp.ESSCertID | tsp.ESSCertIDv2, cert: x509.Certificate) -> bool:
    """pyHanko's ``check_ess_certid``, with the issuer compared byte for byte before name
    matching is tried (bytes that are equal are the same name)."""
    algorithm = (
        "sha1"
        if isinstance(certid, tsp.ESSCertID)
        else certid["hash_algorithm"]["algorithm"].native
    )
    md = hashes.Hash(get_pyca_cryptography_hash(algorithm))
    md.update(cert.dump())
    if md.finalize() != certid["cert_hash"].native:
        return False
    issuer_serial = certid["issuer_serial"]
    if not issuer_serial:
        return True
    names = issuer_serial["issuer"]
    if (
        issuer_serial["serial_number"].native == cert.serial_number
        and len(names) == 1
        and names[0].name == "directory_name"
        and names[0].chosen.untag().dump() == cert.issuer.dump()
    ):
        return True
    return bool(check_ess_certid(cert, certid))


def _check_crypto(
    signed_data: cms.SignedData,
    digest: bytes | None,
    content_type: str,
    policy: ValidationPolicy,
    canonical: Callable[[x509.Certificate], x509.Certificate],
) -> _Crypto:
    """``digest`` is the external digest (detached); ``None``: hash the encapsulated content."""
    result = _Crypto()
    try:
        signer_info = extract_signer_info(signed_data)
        result.digest_algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
        result.signature_algorithm = str(signer_info["signature_algorithm"]["algorithm"].native)
        result.cert, result.other_certs = _signer_certificate(signed_data, signer_info, canonical)
        content = signed_data["encap_content_info"]["content"]
        if digest is None:
            md = hashes.Hash(get_pyca_cryptography_hash(result.digest_algorithm))
            md.update(bytes(content))
            digest = md.finalize()
        elif content is not core.VOID:
            result.problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "cms.content_in_detached",
                    "the signature carries content of its own, which a PDF signature must "
                    "not (it signs the file's byte range)",
                    "chữ ký chứa nội dung riêng, điều chữ ký PDF không được phép "
                    "(chữ ký PDF ký trên các đoạn byte của tệp)",
                )
            )
            return result
        intact, valid = generic_cms.validate_sig_integrity(
            signer_info, result.cert, expected_content_type=content_type, actual_digest=digest
        )
    except SignatureValidationError as exc:
        sub = exc.ades_subindication
        if sub is not AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND:
            sub = AdESFailure.FORMAT_FAILURE
        result.problems.append(
            (
                sub,
                _finding(
                    "cms.no_signer_certificate"
                    if sub is AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
                    else "cms.malformed",
                    f"the signature container is not usable: {exc.failure_message}",
                    f"cấu trúc chữ ký không dùng được: {exc.failure_message}",
                ),
            )
        )
        return result
    except _BAD_INPUT as exc:
        result.problems.append(
            _problem(
                AdESFailure.FORMAT_FAILURE,
                "cms.malformed",
                f"the signature container cannot be read: {_why(exc)}",
                f"không đọc được cấu trúc chữ ký: {_why(exc)}",
            )
        )
        return result
    result.intact, result.valid = intact, valid
    if not intact:
        result.problems.append(
            _problem(
                AdESFailure.HASH_FAILURE,
                "cms.hash_mismatch",
                "the signed data was altered: its digest does not match the signed one",
                "dữ liệu đã ký bị thay đổi: giá trị băm không khớp với giá trị đã ký",
            )
        )
    elif not valid:
        result.problems.append(
            _problem(
                AdESFailure.SIG_CRYPTO_FAILURE,
                "cms.signature_invalid",
                "the signature value does not verify with the certificate's public key",
                "giá trị chữ ký không khớp với khóa công khai của chứng thư số",
            )
        )
    else:
        refusal = _algorithm_refusal(signer_info, result.cert, policy)
        if refusal is not None:
            result.problems.append(
                _problem(
                    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                    "crypto.not_accepted",
                    f"algorithm not accepted: {refusal}",
                    f"thuật toán không được chấp nhận: {refusal}",
                )
            )
    return result


def _algorithm_refusal(
    signer_info: cms.SignerInfo, cert: x509.Certificate, policy: ValidationPolicy
) -> str | None:
    """TT 15/2025 App. I: the reason the signature's algorithms are refused, if they are."""
    rules = CMSAlgorithmUsagePolicy.lift_policy(AlgorithmPolicy(policy))
    signature_algorithm = signer_info["signature_algorithm"]
    digest_algorithm = signer_info["digest_algorithm"]
    checks = (
        rules.signature_algorithm_allowed(signature_algorithm, None, public_key=cert.public_key),
        rules.digest_algorithm_allowed(digest_algorithm, None),
        rules.digest_combination_allowed(
            signature_algo=signature_algorithm,
            message_digest_algo=algos.DigestAlgorithm(
                {"algorithm": digest_algorithm["algorithm"].native}
            ),
            moment=None,
        ),
    )
    for check in checks:
        if not check:
            return str(check.failure_reason or signature_algorithm["algorithm"].native)
    return None


# -- certificates -----------------------------------------------------------------------------


def _declares_revocation(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.crl_distribution_points or cert.ocsp_urls)
    except _BAD_INPUT:
        return True


def _mentions(cert: x509.Certificate, revinfo: _Revinfo) -> bool:
    """Whether ``revinfo`` holds a CRL from the certificate's issuer or an OCSP answer about
    it (a cheap test, for naming the source; the validator decides what is used)."""
    try:
        issuer = cert.issuer
        serial = cert.serial_number
        if any(item["tbs_cert_list"]["issuer"] == issuer for item in revinfo.crls):
            return True
        for resp in revinfo.ocsps:
            body = resp["response_bytes"]["response"].parsed
            for single in body["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial:
                    return True
    except _BAD_INPUT:
        return False
    return False


# -- the judge --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Stamp:
    """A timestamp token's verdict."""

    time: datetime | None
    tsa: x509.Certificate | None
    crypto: _Crypto
    problems: list[tuple[SubIndication, Finding]] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    trust: PathVerdict | None = None
    imprint_algorithm: str | None = None

    @property
    def sub(self) -> SubIndication | None:
        return _worst(self.problems)

    @property
    def reason(self) -> Finding:
        """The finding behind :attr:`sub`."""
        sub = self.sub
        return next((f for s, f in self.problems if s is sub), NO_CHAIN)

    @property
    def passed(self) -> bool:
        return not self.problems and self.time is not None


class _Judge:
    """Judges the signatures of one document; collects the evidence on the way."""

    def __init__(
        self,
        policy: ValidationPolicy,
        fetchers: Fetchers | None,
        *,
        data: bytes,
        document: _Document,
    ) -> None:
        entries = document.entries
        dss = document.dss
        self.policy = policy
        self.tail = document.tail
        self.data = data
        self.structure = document.structure
        self.ambiguities = structure_findings(document.structure)
        self.by_revision: dict[int, _Entry] = {
            e.revision: e for e in entries if e.signature is not None and e.revision >= 0
        }
        self.history = document.history
        self._text: dict[int, list[Rect]] = {}
        self.fetchers = fetchers
        self.when = validation_time(policy)
        # All validation data the document carries (DSS, CMS revocation-info-archival), shared
        # by every signature: one certificate pool, one set of revocation data.
        embedded = dss
        for entry in entries:
            if entry.signature is not None:
                with contextlib.suppress(*_BAD_INPUT):
                    embedded = embedded + _cms_revinfo(entry.signature.signer_info)
        self.embedded = embedded
        self.contexts = ContextFactory(
            policy,
            fetchers=fetchers,
            certs=embedded.certs,
            crls=embedded.crls,
            ocsps=embedded.ocsps,
        )
        self._certs: list[bytes] = [c.dump() for c in embedded.certs]
        self._crls: list[bytes] = [c.dump() for c in embedded.crls]
        self._ocsps: list[bytes] = [o.dump() for o in embedded.ocsps]
        self._tokens: list[bytes] = []

    def updates(self) -> tuple[RevisionUpdate, ...]:
        by_revision: dict[int, list[tuple[str, str]]] = {}
        for change in self.history.changes:
            by_revision.setdefault(change.revision, []).append((change.kind, change.name))
        return tuple(
            RevisionUpdate(revision=r, changes=tuple(c)) for r, c in sorted(by_revision.items())
        )

    def evidence(self) -> Evidence:
        return Evidence().merge(
            Evidence(
                certificates=tuple(self._certs),
                crls=tuple(self._crls),
                ocsp_responses=tuple(self._ocsps),
                timestamp_tokens=tuple(self._tokens),
            )
        )

    async def all(self, entries: Sequence[_Entry]) -> list[SignatureReport]:
        """Document timestamps newest first (each is proof of existence for everything before
        it, including the older timestamps), then the signatures."""
        reports: dict[int, SignatureReport] = {}
        proofs: list[tuple[int, datetime]] = []  # (revision, time) of valid document timestamps
        horizon: datetime | None = None
        for index in sorted(
            (i for i, e in enumerate(entries) if e.timestamp and e.problem is None),
            key=lambda i: -entries[i].revision,
        ):
            entry = entries[index]
            judged_at = min(horizon, self.when) if horizon else self.when
            report, proof = await self.document_timestamp(entry, judged_at)
            reports[index] = report
            if proof is not None:
                proofs.append((entry.revision, proof))
                horizon = proof
        for index, entry in enumerate(entries):
            if index in reports:
                continue
            if entry.signature is None or entry.problem is not None:
                reports[index] = self.unusable(entry)
                continue
            later = [t for rev, t in proofs if rev > entry.revision]
            reports[index] = await self.signature(entry, min(later) if later else None)
        return [reports[i] for i in range(len(entries))]

    # -- one report each ----------------------------------------------------------------------

    def unusable(self, entry: _Entry) -> SignatureReport:
        problem = entry.problem or _finding(
            "pdf.signature_unreadable", "the signature cannot be read", "không đọc được chữ ký"
        )
        signer = None
        if entry.signature is not None:
            with contextlib.suppress(*_BAD_INPUT):
                cert = entry.signature.signer_cert
                signer = CertificateInfo.of(
                    cert, is_organisation=self.policy.agency_rule.is_organisation(cert)
                )
        return SignatureReport(
            id=entry.name,
            kind="document-timestamp" if entry.timestamp else "signature",
            indication=AdESFailure.FORMAT_FAILURE.status,
            sub_indication=AdESFailure.FORMAT_FAILURE,
            role=Role.TIMESTAMP if entry.timestamp else Role.UNKNOWN,
            signer=signer,
            findings=(problem,),
            revision=entry.revision if entry.revision >= 0 else None,
        )

    async def signature(self, entry: _Entry, proof: datetime | None) -> SignatureReport:
        embedded = entry.signature
        if embedded is None:
            return self.unusable(entry)
        policy = self.policy
        findings: list[Finding] = []
        problems: list[tuple[SubIndication, Finding]] = []
        self._tokens_of(embedded)

        coverage, modification = await asyncio.to_thread(
            self._integrity, embedded, problems, findings
        )
        crypto = await asyncio.to_thread(self._signature_crypto, embedded, problems)
        problems.extend(crypto.problems)
        cert = crypto.cert
        self._keep_certs(crypto)
        is_org = cert is not None and policy.agency_rule.is_organisation(cert)
        findings.extend(algorithm_findings(policy, crypto.digest_algorithm))

        claimed = None
        try:
            claimed = embedded.self_reported_timestamp
        except _BAD_INPUT:
            findings.append(
                _finding(
                    "pdf.bad_signing_time",
                    "the claimed signing time (/M) cannot be read",
                    "không đọc được thời điểm ký tự khai (/M)",
                    "warning",
                )
            )

        # Time: the signature timestamp, judged at its own proof of existence.
        judged_at = min(proof, self.when) if proof else self.when
        stamp = await self._signature_timestamp(embedded, judged_at, findings, problems)
        best = judged_at
        if stamp is not None and stamp.passed and stamp.time is not None:
            if stamp.time <= judged_at:
                best = stamp.time
            else:
                findings.append(_later_than_validation(stamp.time))
        elif stamp is None:
            findings.append(
                _finding(
                    "time.no_timestamp",
                    "no timestamp: the signing time is the signer's own claim, so the "
                    "certificate is judged at "
                    + (
                        "the time of a later document timestamp" if proof else "the validation time"
                    ),
                    "không có dấu thời gian: thời điểm ký do người ký tự khai, nên chứng thư số "
                    "được kiểm tra tại "
                    + (
                        "thời điểm của dấu thời gian văn bản sau đó"
                        if proof
                        else "thời điểm kiểm tra"
                    ),
                    "warning",
                )
            )

        trust = None
        if crypto.sound and cert is not None:
            trust = await self._judge(
                cert, crypto.other_certs, best, SIGNER_KEY_USAGE, policy.revocation, claimed
            )
            if trust.sub is not None and trust.finding is not None:
                problems.append((trust.sub, trust.finding))
            elif trust.finding is not None:
                findings.append(trust.finding)
            self._refine_with_content_timestamps(embedded, cert, trust, problems)
            seed = self._seed_values(embedded, trust, stamp)
            if seed is not None:
                problems.append((AdESIndeterminate.SIG_CONSTRAINTS_FAILURE, seed))

        sub = _worst(problems)
        findings = [f for _, f in problems] + findings
        return SignatureReport(
            id=entry.name,
            kind="signature",
            indication=sub.status if sub is not None else AdESStatus.PASSED,
            sub_indication=sub,
            role=Role.AGENCY if is_org else Role.PERSONAL if cert is not None else Role.UNKNOWN,
            signer=None if cert is None else CertificateInfo.of(cert, is_organisation=is_org),
            claimed_signing_time=claimed,
            timestamp=None
            if stamp is None or stamp.time is None
            else TimestampInfo(
                time=stamp.time,
                tsa=_name(stamp.tsa),
                valid=stamp.passed,
                kind="signature-timestamp",
            ),
            best_signature_time=best,
            integrity=crypto.intact,
            signature_valid=crypto.valid,
            certificate_valid_at_signing_time=_valid_at(cert, best, trust),
            trusted=None if trust is None else trust.chained,
            trust_anchor=_anchor_name(trust),
            trust_purpose=_anchor_purpose(policy, trust),
            revocation=RevocationInfo() if trust is None else trust.revocation,
            modification=modification,
            coverage=coverage,
            digest_algorithm=crypto.digest_algorithm,
            signature_algorithm=crypto.signature_algorithm,
            findings=tuple(findings),
            revision=entry.revision,
        )

    async def document_timestamp(
        self, entry: _Entry, judged_at: datetime
    ) -> tuple[SignatureReport, datetime | None]:
        """The report, and the time the timestamp proves (when it passes)."""
        embedded = entry.signature
        if embedded is None:
            return self.unusable(entry), None
        findings: list[Finding] = []
        problems: list[tuple[SubIndication, Finding]] = []
        coverage, modification = await asyncio.to_thread(
            self._integrity, embedded, problems, findings
        )
        with contextlib.suppress(*_BAD_INPUT):
            self._tokens.append(bytes(embedded.pkcs7_content))

        def imprint(algorithm: str) -> bytes:
            return bytes(embedded.compute_digest(algorithm))

        stamp = await self._timestamp(embedded.signed_data, imprint, judged_at)
        problems.extend(stamp.problems)
        findings.extend(stamp.notes)
        sub = _worst(problems)
        tsa = stamp.tsa
        passed = sub is None
        proof = stamp.time if passed and stamp.time is not None else None
        if proof is not None and proof > judged_at:
            findings.append(_later_than_validation(proof))
            proof = None
        trust = stamp.trust
        report = SignatureReport(
            id=entry.name,
            kind="document-timestamp",
            indication=sub.status if sub is not None else AdESStatus.PASSED,
            sub_indication=sub,
            role=Role.TIMESTAMP,
            signer=None
            if tsa is None
            else CertificateInfo.of(
                tsa, is_organisation=self.policy.agency_rule.is_organisation(tsa)
            ),
            timestamp=None
            if stamp.time is None
            else TimestampInfo(
                time=stamp.time, tsa=_name(tsa), valid=stamp.passed, kind="document-timestamp"
            ),
            best_signature_time=stamp.time if proof is not None else judged_at,
            integrity=stamp.crypto.intact,
            signature_valid=stamp.crypto.valid,
            certificate_valid_at_signing_time=_valid_at(tsa, judged_at, trust),
            trusted=None if trust is None else trust.chained,
            trust_anchor=_anchor_name(trust),
            trust_purpose=_anchor_purpose(self.policy, trust),
            revocation=RevocationInfo() if trust is None else trust.revocation,
            modification=modification,
            coverage=coverage,
            digest_algorithm=stamp.imprint_algorithm,
            signature_algorithm=stamp.crypto.signature_algorithm,
            findings=tuple([f for _, f in problems] + findings),
            revision=entry.revision,
        )
        return report, proof

    # -- steps --------------------------------------------------------------------------------

    def _signature_crypto(
        self, embedded: EmbeddedPdfSignature, problems: list[tuple[SubIndication, Finding]]
    ) -> _Crypto:
        try:
            digest = embedded.compute_digest()
        except _BAD_INPUT as exc:
            problems.append((AdESFailure.FORMAT_FAILURE, _byte_range_unreadable(exc)))
            return _Crypto()
        return _check_crypto(
            embedded.signed_data, digest, "data", self.policy, self.contexts.canonical
        )

    def _integrity(
        self,
        embedded: EmbeddedPdfSignature,
        problems: list[tuple[SubIndication, Finding]],
        findings: list[Finding],
    ) -> tuple[str | None, str | None]:
        entry_revision = int(embedded.signed_revision)
        """Coverage of the byte range and the changes after the signed revision."""
        if self.tail:
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.trailing_bytes",
                    f"{self.tail} bytes follow the end of the file's last revision "
                    "(after %%EOF): no signature covers them, and some readers would show "
                    "them",
                    f"có {self.tail} byte nằm sau điểm kết thúc phiên bản cuối của tệp "
                    "(sau %%EOF): không chữ ký nào bao phủ chúng, một số phần mềm đọc vẫn "
                    "hiển thị chúng",
                )
            )
        problems.extend((AdESFailure.FORMAT_FAILURE, f) for f in self.ambiguities)
        by_bytes = byte_coverage(self.data, self.structure, embedded)
        problems.extend((AdESFailure.FORMAT_FAILURE, f) for f in by_bytes.problems)
        try:
            embedded.compute_integrity_info()
            if (
                embedded.coverage == SignatureCoverageLevel.ENTIRE_FILE
                and by_bytes.revision is not None
                and not by_bytes.whole_file
            ):
                # pyHanko was fooled into "covers the whole file": every byte after the
                # signed revision still goes through the change analysis
                embedded.coverage = SignatureCoverageLevel.ENTIRE_REVISION
                embedded.diff_result = DEFAULT_DIFF_POLICY.review_file(
                    embedded.reader,
                    by_bytes.revision,
                    field_mdp_spec=embedded.fieldmdp,
                    doc_mdp=embedded.docmdp_level,
                )
            summary = embedded.summarise_integrity_info()
        except RecursionError:
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    "the changes made after signing cannot be analysed (objects nested too deeply)",
                    "không phân tích được các thay đổi sau khi ký (cấu trúc lồng quá sâu)",
                )
            )
            return None, None
        except _BAD_INPUT as exc:
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    f"the changes made after signing cannot be analysed: {_why(exc)}",
                    f"không phân tích được các thay đổi sau khi ký: {_why(exc)}",
                )
            )
            return None, None
        coverage_level: SignatureCoverageLevel | None = summary.get("coverage")
        coverage = None if coverage_level is None else coverage_level.name
        if coverage_level is None or coverage_level < SignatureCoverageLevel.ENTIRE_REVISION:
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.coverage",
                    "the signature's /ByteRange does not cover the whole revision it signs "
                    f"(coverage {coverage}): bytes of the file are outside the signature",
                    "/ByteRange của chữ ký không bao phủ toàn bộ phiên bản tệp đã ký "
                    f"(mức {coverage}): có phần của tệp nằm ngoài chữ ký",
                )
            )
        diff = summary.get("diff_result")
        if isinstance(diff, DiffResult):
            level = diff.modification_level
        elif diff is None:
            level = None
        else:  # SuspiciousModification
            level = ModificationLevel.OTHER
        modification = None if level is None else level.name
        covered = coverage_level is not None and coverage_level >= (
            SignatureCoverageLevel.ENTIRE_REVISION
        )
        if level is not None and covered and not summary.get("docmdp_ok"):
            detail = "" if isinstance(diff, DiffResult) or diff is None else f": {_why(diff)}"
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modified_after_signing",
                    f"the document was changed after this signature in a way that is not "
                    f"allowed (modification level {modification}){detail}",
                    "văn bản đã bị sửa đổi sau khi ký theo cách không được phép "
                    f"(mức thay đổi {modification})",
                )
            )
        elif level is not None and ALLOWED_MODIFICATIONS.get(level):
            en, vi = ALLOWED_MODIFICATIONS[level] or ("", "")
            findings.append(
                _finding(
                    "pdf.allowed_changes",
                    f"after this signature the file received {en} only (allowed)",
                    f"sau chữ ký này tệp chỉ được bổ sung {vi} (được phép)",
                    "info",
                )
            )
        if level is not None and covered:
            signed_at = by_bytes.revision if by_bytes.revision is not None else entry_revision
            overlay_problems, overlay_notes = self._overlays(signed_at)
            problems.extend(overlay_problems)
            findings.extend(overlay_notes)
        return coverage, modification

    def _author(self, revision: int) -> tuple[str, str]:
        entry = self.by_revision.get(revision)
        if entry is None:
            return (
                f"revision {revision}, an update nobody signed",
                f"phiên bản {revision}, bản cập nhật không có chữ ký",
            )
        return (
            f"revision {revision}, made with {entry.name}",
            f"phiên bản {revision}, tạo cùng {entry.name}",
        )

    def _is_organisation(self, revision: int) -> bool:
        entry = self.by_revision.get(revision)
        if entry is None or entry.signature is None or entry.timestamp:
            return False
        try:
            cert = entry.signature.signer_cert
        except _BAD_INPUT:
            return False
        return self.policy.agency_rule.is_organisation(cert)

    def _is_seal(self, change: Change) -> bool:
        """Decree 30 App. I: the agency signature's seal over the left third of an earlier
        personal signature on the same page (it may touch the name and position lines)."""
        if change.rect is None or not self._is_organisation(change.revision):
            return False
        sx0, sy0, sx1, sy1 = change.rect
        width, height = sx1 - sx0, sy1 - sy0
        if not (0 < width <= SEAL_MAX and 0 < height <= SEAL_MAX):
            return False  # a seal has its real size: Decree 30 seals are at most ~42 mm
        if max(width, height) > 1.3 * min(width, height):
            return False  # round (or square): a long box is not a seal
        for other in self.history.changes:
            if (
                other.kind != "signature"
                or other.revision >= change.revision
                or other.page != change.page
                or other.rect is None
                or self._is_organisation(other.revision)
            ):
                continue
            px0, py0, px1, py1 = other.rect
            overlap_x = min(sx1, px1) - max(sx0, px0)
            overlap_y = min(sy1, py1) - max(sy0, py0)
            centre = (sx0 + sx1) / 2
            middle = (sy0 + sy1) / 2
            if (
                overlap_x > 0
                and overlap_y > 0
                and overlap_x <= 0.5 * (px1 - px0)
                and centre < px0 + (px1 - px0) / 3
                and py0 - height / 2 <= middle <= py1 + height / 2
            ):
                return True
        return False

    def _over_text(self, change: Change) -> bool:
        if change.rect is None or change.page is None:
            return False
        if change.page not in self._text:
            try:
                self._text[change.page] = text_boxes(self.data, change.page)
            except _BAD_INPUT:
                self._text[change.page] = [
                    (float("-inf"), float("-inf"), float("inf"), float("inf"))
                ]
        x0, y0, x1, y1 = change.rect

        def covers(box: Rect) -> bool:
            bx0, by0, bx1, by1 = box
            width = min(x1, bx1) - max(x0, bx0)
            height = min(y1, by1) - max(y0, by0)
            # most of the line's height, over a few characters' width: a box grazing the
            # tops or bottoms of a line (estimated glyph boxes are generous) is no cover
            return height >= OVER_TEXT * (by1 - by0) and width >= min(
                OVER_TEXT_WIDTH, OVER_TEXT * (bx1 - bx0)
            )

        return any(covers(box) for box in self._text[change.page])

    def _overlays(self, revision: int) -> tuple[list[tuple[SubIndication, Finding]], list[Finding]]:
        """What later revisions painted over the page (see :mod:`validation.pdfhistory`)."""
        problems: list[tuple[SubIndication, Finding]] = []
        notes: list[Finding] = []
        if self.history.unreadable is not None:
            detail = self.history.unreadable
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    f"what the later revisions show cannot be analysed: {detail}",
                    f"không phân tích được nội dung hiển thị của các phiên bản sau: {detail}",
                )
            )
            return problems, notes
        for change in self.history.after(revision):
            who_en, who_vi = self._author(change.revision)
            name = change.name
            if change.kind == "unsigned-field":
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.unsigned_field_overlay",
                        f"after this signature, an unsigned signature field with its own "
                        f"appearance was added or changed ({name}; {who_en}): it can hide or "
                        "replace what was signed",
                        f"sau chữ ký này có ô chữ ký chưa ký mang hình hiển thị riêng được thêm "
                        f"hoặc sửa ({name}; {who_vi}): nó có thể che hoặc thay nội dung đã ký",
                    )
                )
            elif change.kind == "appearance":
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.appearance_replaced",
                        f"after this signature, the appearance of field {name} changed while "
                        f"its value did not ({who_en}): what is shown is not what was filled in",
                        f"sau chữ ký này, hình hiển thị của ô {name} bị thay đổi trong khi giá "
                        f"trị không đổi ({who_vi}): nội dung hiển thị không phải nội dung đã điền",
                    )
                )
            elif change.kind == "revealed":
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.annotation_revealed",
                        f"after this signature, a hidden {name} was made visible ({who_en})",
                        f"sau chữ ký này, một {name} đang ẩn đã bị cho hiện ra ({who_vi})",
                    )
                )
            elif change.kind == "form-defaults":
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.form_defaults_changed",
                        f"after this signature, the form's {name} changed ({who_en}): viewers "
                        "would redraw the fields differently from what was signed",
                        f"sau chữ ký này, {name} của biểu mẫu bị thay đổi ({who_vi}): phần mềm "
                        "xem sẽ vẽ lại các ô khác với nội dung đã ký",
                    )
                )
            elif change.kind == "timestamp":
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.timestamp_appearance",
                        f"a document timestamp added after this signature has a visible "
                        f"appearance ({name}; {who_en}): a timestamp paints nothing",
                        f"dấu thời gian văn bản thêm sau chữ ký này có hình hiển thị ({name}; "
                        f"{who_vi}): dấu thời gian không được vẽ gì lên văn bản",
                    )
                )
            elif (
                change.kind == "signature" and not self._is_seal(change) and self._over_text(change)
            ):
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.signature_over_content",
                        f"the appearance of a later signature ({name}; {who_en}) covers text of "
                        "the page this signature signed",
                        f"hình hiển thị của chữ ký sau ({name}; {who_vi}) che lên chữ của trang "
                        "mà chữ ký này đã ký",
                    )
                )
            elif change.kind in ("fill", "refill") and self._over_text(change):
                problems.append(
                    _problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.field_over_content",
                        f"after this signature, field {name} was filled in where its box covers "
                        f"text of the signed page ({who_en}): the filled value can hide or "
                        "replace what was signed",
                        f"sau chữ ký này, ô {name} được điền tại vị trí che lên chữ của trang đã "
                        f"ký ({who_vi}): giá trị điền vào có thể che hoặc thay nội dung đã ký",
                    )
                )
            elif change.kind == "annotation":
                notes.append(
                    _finding(
                        "pdf.annotation_added",
                        f"after this signature, an annotation {name} was added or changed "
                        f"({who_en})",
                        f"sau chữ ký này, một chú thích {name} được thêm hoặc sửa ({who_vi})",
                        "warning",
                    )
                )
        return problems, notes

    async def _signature_timestamp(
        self,
        embedded: EmbeddedPdfSignature,
        judged_at: datetime,
        findings: list[Finding],
        problems: list[tuple[SubIndication, Finding]],
    ) -> _Stamp | None:
        """The first signature timestamp that passes, else the last one's verdict.

        A token that is broken (issued for other data, a signature value that does not verify,
        unreadable) means the signature container was tampered with: the signature fails the
        same way, as in pyHanko's validation with time. A token that is intact but cannot be
        trusted (unknown TSA, revocation unknown, …) proves nothing and is set aside, as
        ETSI EN 319 102-1 §5.5 does with unusable tokens: the signature is judged without it.
        """
        try:
            signer_info = embedded.signer_info
            tokens = list(generic_cms.extract_tst_data_iter(signer_info, signed=False))
        except _BAD_INPUT as exc:
            problems.append(
                _problem(
                    AdESFailure.FORMAT_FAILURE,
                    "time.timestamp_unreadable",
                    f"the signature timestamp cannot be read: {_why(exc)}",
                    f"không đọc được dấu thời gian của chữ ký: {_why(exc)}",
                )
            )
            return None
        stamp = None
        for token in tokens:
            stamp = await self._timestamp(
                token, generic_cms.message_imprint_checker(signer_info), judged_at
            )
            if stamp.passed:
                findings.extend(stamp.notes)
                return stamp
        if stamp is not None and stamp.sub is not None:
            first = stamp.reason
            if isinstance(stamp.sub, AdESFailure):
                problems.append(
                    (
                        stamp.sub,
                        Finding(
                            code=first.code,
                            en=f"the signature timestamp is forged or damaged: {first.en}",
                            vi=f"dấu thời gian của chữ ký bị giả mạo hoặc hư hỏng: {first.vi}",
                        ),
                    )
                )
            else:
                findings.append(
                    Finding(
                        code="time.timestamp_unusable",
                        severity="warning",
                        en="the signature timestamp cannot be verified and is not used as "
                        f"proof of the signing time: {first.en}",
                        vi="không kiểm tra được dấu thời gian của chữ ký nên không dùng làm bằng "
                        f"chứng về thời điểm ký: {first.vi}",
                    )
                )
        return stamp

    async def _timestamp(
        self,
        token: cms.SignedData,
        imprint: Callable[[str], bytes],
        judged_at: datetime,
    ) -> _Stamp:
        """An RFC 3161 token: its signature, its imprint, its TSA at ``judged_at``."""
        policy = self.policy
        try:
            tst_info = token["encap_content_info"]["content"].parsed
            if not isinstance(tst_info, tsp.TSTInfo):
                raise TypeError("the token does not hold a TSTInfo")
            gen_time: datetime = tst_info["gen_time"].native
            imprint_algorithm = str(
                tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native
            )
            hashed = bytes(tst_info["message_imprint"]["hashed_message"].native)
        except _BAD_INPUT as exc:
            finding = _finding(
                "time.timestamp_unreadable",
                f"the timestamp token cannot be read: {_why(exc)}",
                f"không đọc được dấu thời gian: {_why(exc)}",
            )
            return _Stamp(None, None, _Crypto(), [(AdESFailure.FORMAT_FAILURE, finding)])
        crypto = await asyncio.to_thread(
            _check_crypto, token, None, "tst_info", policy, self.contexts.canonical
        )
        self._keep_certs(crypto)
        problems = list(crypto.problems)
        stamp = _Stamp(gen_time, crypto.cert, crypto, problems, imprint_algorithm=imprint_algorithm)
        try:
            expected = imprint(imprint_algorithm)
        except _BAD_INPUT:
            expected = None
        if expected is None or expected != hashed:
            problems.insert(
                0,
                (
                    AdESFailure.HASH_FAILURE,
                    _finding(
                        "time.imprint_mismatch",
                        "the timestamp was issued for other data (its message imprint does "
                        "not match)",
                        "dấu thời gian được cấp cho dữ liệu khác (giá trị băm không khớp)",
                    ),
                ),
            )
        elif imprint_algorithm in policy.forbidden_digests:
            problems.append(
                _problem(
                    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                    "crypto.not_accepted",
                    f"algorithm not accepted: the timestamp imprint uses {imprint_algorithm}",
                    f"thuật toán không được chấp nhận: dấu thời gian dùng {imprint_algorithm}",
                )
            )
        stamp.notes.extend(algorithm_findings(policy, imprint_algorithm))
        if not problems and crypto.cert is not None:
            trust = await self._judge(
                crypto.cert,
                crypto.other_certs,
                judged_at,
                TSA_KEY_USAGE,
                policy.revocation,
            )
            stamp.trust = trust
            if trust.sub is not None and trust.finding is not None:
                problems.append((trust.sub, trust.finding))
            elif trust.finding is not None:
                stamp.notes.append(trust.finding)
        return stamp

    async def _judge(
        self,
        cert: x509.Certificate,
        other_certs: tuple[x509.Certificate, ...],
        moment: datetime,
        usage: KeyUsageConstraints,
        mode: Literal["hard", "soft"],
        claimed: datetime | None = None,
    ) -> PathVerdict:
        """The certificate at ``moment``, its revocation status from the document and the
        caller's files first, then online, then (soft mode) unknown accepted. A fresh context
        for each attempt; most documents need only the first."""
        online = self.fetchers is not None
        attempts: list[tuple[bool, Literal["hard", "soft"]]] = [(False, "hard")]
        if online:
            attempts.append((True, "hard"))
        if mode == "soft":
            attempts.append((online, "soft"))
        trust = PathVerdict(None, None, None, RevocationInfo())
        for fetch, rule in attempts:
            context = self.contexts.context(
                certs=other_certs,
                moment=moment,
                online=fetch,
                revocation=rule,
                retroactive_revinfo=True,
            )
            trust = await judge_certificate(cert, context, usage, moment, claimed=claimed)
            trust.context = context
            if trust.sub is not AdESIndeterminate.TRY_LATER or (fetch, rule) == attempts[-1]:
                trust.revocation = self._revocation(cert, trust, fetch, rule)
                break
        if trust.context is not None and self.fetchers is not None:
            self._keep_fetched(trust.context)
        if trust.path is not None:
            with contextlib.suppress(*_BAD_INPUT):
                self._certs.extend(c.dump() for c in trust.path.iter_certs(include_root=True))
        return trust

    def _revocation(
        self,
        cert: x509.Certificate,
        trust: PathVerdict,
        fetched: bool,
        rule: Literal["hard", "soft"],
    ) -> RevocationInfo:
        if fetched:
            source: Literal["embedded", "supplied", "online"] | None = "online"
        elif _mentions(cert, self.embedded):
            source = "embedded"
        elif self.policy.crls or self.policy.ocsp_responses:
            source = "supplied"
        else:
            source = None
        if trust.revocation.status == "revoked":
            return RevocationInfo(status="revoked", source=source, detail=trust.revocation.detail)
        if trust.sub is not None:
            return trust.revocation
        if not _declares_revocation(cert):
            return RevocationInfo(
                status="not-checked",
                detail="the certificate names no CRL or OCSP service",
            )
        if rule == "soft":
            trust.finding = revocation_unknown_accepted(None)
            return RevocationInfo(
                status="unknown",
                source=None,
                detail="no usable revocation data; accepted by the soft revocation policy",
            )
        return RevocationInfo(status="good", source=source)

    def _refine_with_content_timestamps(
        self,
        embedded: EmbeddedPdfSignature,
        cert: x509.Certificate,
        trust: PathVerdict,
        problems: list[tuple[SubIndication, Finding]],
    ) -> None:
        """A valid content timestamp proves the signature was made after its time: revoked or
        expired before that is a certainty (ETSI EN 319 102-1 §5.3.4)."""
        if trust.sub not in (
            AdESIndeterminate.REVOKED_NO_POE,
            AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        ):
            return
        try:
            tokens = list(generic_cms.extract_tst_data_iter(embedded.signer_info, signed=True))
        except _BAD_INPUT:
            return
        for token in tokens:
            try:
                tst_info = token["encap_content_info"]["content"].parsed
                not_before: datetime = tst_info["gen_time"].native
            except _BAD_INPUT:
                continue
            if trust.sub is AdESIndeterminate.REVOKED_NO_POE and trust.revoked_at is not None:
                if not_before >= trust.revoked_at:
                    problems.append(
                        _problem(
                            AdESFailure.REVOKED,
                            "cert.revoked_before_signing",
                            f"a content timestamp proves the signature was made after "
                            f"{not_before.isoformat()}, when the certificate was already "
                            "revoked",
                            "dấu thời gian nội dung chứng minh chữ ký được tạo sau "
                            f"{not_before.isoformat()}, khi chứng thư số đã bị thu hồi",
                        )
                    )
                    return
            elif not_before >= cert.not_valid_after:
                problems.append(
                    _problem(
                        AdESIndeterminate.EXPIRED,
                        "cert.expired_before_signing",
                        "a content timestamp proves the signature was made after the "
                        "certificate expired",
                        "dấu thời gian nội dung chứng minh chữ ký được tạo sau khi chứng thư "
                        "số hết hạn",
                    )
                )
                return

    def _seed_values(
        self, embedded: EmbeddedPdfSignature, trust: PathVerdict, stamp: _Stamp | None
    ) -> Finding | None:
        try:
            if embedded.seed_value_spec is None or trust.path is None:
                return None
            result = report_seed_value_validation(
                embedded, trust.path, timestamp_found=stamp is not None and stamp.passed
            )
            error = result.get("seed_value_constraint_error")
        except _BAD_INPUT as exc:
            error = exc
        if error is None:
            return None
        return _finding(
            "pdf.seed_value",
            f"the signature does not meet its field's constraints (seed value): {_why(error)}",
            f"chữ ký không đáp ứng ràng buộc của trường chữ ký (seed value): {_why(error)}",
        )

    # -- evidence -----------------------------------------------------------------------------

    def _tokens_of(self, embedded: EmbeddedPdfSignature) -> None:
        with contextlib.suppress(*_BAD_INPUT):
            for attr in find_cms_attribute_iter(
                embedded.signer_info["unsigned_attrs"], "signature_time_stamp_token"
            ):
                self._tokens.append(attr.dump())

    def _keep_certs(self, crypto: _Crypto) -> None:
        with contextlib.suppress(*_BAD_INPUT):
            if crypto.cert is not None:
                self._certs.append(crypto.cert.dump())
            self._certs.extend(c.dump() for c in crypto.other_certs)

    def _keep_fetched(self, context: ValidationContext) -> None:
        with contextlib.suppress(*_BAD_INPUT):
            self._crls.extend(c.dump() for c in context.crls)
            self._ocsps.extend(o.dump() for o in context.ocsps)


def _worst(problems: Sequence[tuple[SubIndication, Finding]]) -> SubIndication | None:
    """A TOTAL-FAILED sub-indication wins over an INDETERMINATE one; the first among equals."""
    failed = [s for s, _ in problems if isinstance(s, AdESFailure)]
    if failed:
        return failed[0]
    return problems[0][0] if problems else None


def _byte_range_unreadable(exc: Exception) -> Finding:
    return _finding(
        "pdf.byte_range",
        f"the signature's /ByteRange cannot be used: {_why(exc)}",
        f"không dùng được /ByteRange của chữ ký: {_why(exc)}",
    )


def _later_than_validation(when: datetime) -> Finding:
    stamp = when.isoformat(timespec="seconds")
    return _finding(
        "time.after_validation_time",
        f"the timestamp ({stamp}) is later than the validation time: it is not used as proof",
        f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm bằng chứng",
        "warning",
    )


def _name(cert: x509.Certificate | None) -> str:
    if cert is None:
        return ""
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[0] if cn else None
    return str(cn or cert.subject.human_friendly)


def _valid_at(
    cert: x509.Certificate | None, when: datetime, trust: PathVerdict | None
) -> bool | None:
    if cert is None:
        return None
    try:
        inside = cert.not_valid_before <= when <= cert.not_valid_after
    except _BAD_INPUT:
        return None
    revoked = trust is not None and trust.revoked_at is not None and trust.revoked_at <= when
    return inside and not revoked


def _anchor_name(trust: PathVerdict | None) -> str | None:
    if trust is None or not trust.chained:
        return None
    anchor = trust.anchor
    return None if anchor is None else str(anchor.subject.human_friendly)


def _anchor_purpose(policy: ValidationPolicy, trust: PathVerdict | None) -> str | None:
    if trust is None or not trust.chained or trust.anchor is None:
        return None
    return policy.anchors.purpose_of(trust.anchor)
