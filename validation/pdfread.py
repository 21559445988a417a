"""Reading a PDF for validation: opening it (strictly, with the one tolerated oddity), its
signature fields and their byte ranges, the validation data it carries (DSS, CMS
revocation-info-archival). Part of :mod:`validation.pdf`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO, Literal

from asn1crypto import cms, crl, ocsp, x509
from pyhanko.pdf_utils import misc, xref
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.general import (
    MultivaluedAttributeError,
    NonexistentAttributeError,
    find_unique_cms_attribute,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
)

from validation.pdfstructure import Structure
from validation.report import (
    Finding,
    SubIndication,
    Unparseable,
)

__all__ = [
    "BAD_INPUT",
    "MAX_CERTIFICATES",
    "MAX_SIGNATURES",
    "SIGNATURE_SUBFILTERS",
    "TIMESTAMP_SUBFILTERS",
    "Entry",
    "Revinfo",
    "byte_range_problem",
    "cms_revinfo",
    "make_finding",
    "make_problem",
    "open_pdf",
    "read_dss",
    "signature_entries",
    "trailing_bytes",
    "unreadable",
    "why",
]

SIGNATURE_SUBFILTERS = frozenset(
    {SigSeedSubFilter.ADOBE_PKCS7_DETACHED.value, SigSeedSubFilter.PADES.value}
)
TIMESTAMP_SUBFILTERS = frozenset({SigSeedSubFilter.ETSI_RFC3161.value})

MAX_SIGNATURES = 64
"""Signatures and document timestamps judged per file; more are reported unchecked."""
MAX_CERTIFICATES = 64
"""Certificates in one CMS, and (four times as many) in the DSS: path building tries every
issuer candidate, so a hostile file must not bring thousands."""


# Anything pyHanko, asn1crypto or the certificate validator raise on hostile input. A verdict
# must come out of every file, so these are caught at each call into them (never around our own
# logic) and become a format failure or an unreadable file.
BAD_INPUT: tuple[type[Exception], ...] = (Exception,)


def make_finding(
    code: str, en: str, vi: str, severity: Literal["error", "warning", "info"] = "error"
) -> Finding:
    return Finding(code=code, en=en, vi=vi, severity=severity)


def make_problem(sub: SubIndication, code: str, en: str, vi: str) -> tuple[SubIndication, Finding]:
    return sub, make_finding(code, en, vi)


def why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def unreadable(detail: str) -> Unparseable:
    return Unparseable(
        make_finding(
            "pdf.unreadable",
            f"the PDF cannot be read: {detail}",
            "không đọc được tệp PDF",  # the reader's words (English) stay in the English text
        )
    )


_SHRINKING_SIZE = "XRef section sizes must be nondecreasing"


def _read(data: bytes, structure: Structure, stream: BinaryIO | None) -> PdfFileReader:
    """pyHanko's strict reader; but an update whose trailer ``/Size`` is smaller than the one
    before (harmless when the update lists nothing beyond it, and accepted by every major
    reader) is read leniently, then judged strictly: our own structure reader has checked the
    sections, and pyHanko's remaining strict consistency checks are run by hand. ``stream``:
    the file ``data`` maps (:mod:`validation.mapped`), else pyHanko reads ``data``."""
    try:
        return PdfFileReader(io.BytesIO(data) if stream is None else stream, strict=True)
    except misc.PdfStrictReadError as exc:
        if _SHRINKING_SIZE not in str(exc) or structure.problems:
            raise
    reader = PdfFileReader(io.BytesIO(data) if stream is None else stream, strict=False)
    reader.strict = True
    sections = reader.xrefs._xref_sections  # the chronological sections pyHanko read
    for index, section in enumerate(sections):
        xref._check_freed_refs(index, section, sections)
    return reader


def open_pdf(data: bytes, structure: Structure, stream: BinaryIO | None = None) -> PdfFileReader:
    try:
        reader = _read(data, structure, stream)
        if reader.encrypted:
            try:
                opened = reader.decrypt(b"").status.name != "FAILED"
            except BAD_INPUT:
                opened = False
            if not opened:
                raise Unparseable(
                    make_finding(
                        "pdf.unreadable",
                        "the PDF is encrypted and needs a password (or a key) to be read",
                        "tệp PDF đã được mã hóa, cần mật khẩu (hoặc khóa) để đọc",
                    )
                )
        reader.root  # noqa: B018 - the catalog must be readable
    except Unparseable:
        raise
    except RecursionError as exc:
        raise unreadable("its object structure is nested too deeply") from exc
    except BAD_INPUT as exc:
        # our own reader's finding, where it has one, says more than pyHanko's exception
        raise unreadable(structure.problems[0].en if structure.problems else why(exc)) from exc
    return reader


def trailing_bytes(data: bytes) -> int:
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
class Entry:
    """One filled signature field."""

    name: str
    signature: EmbeddedPdfSignature | None
    problem: Finding | None = None
    revision: int = -1
    timestamp: bool = False


def signature_entries(reader: PdfFileReader, size: int) -> list[Entry]:
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except RecursionError as exc:
        raise unreadable("its form fields are nested too deeply") from exc
    except BAD_INPUT as exc:
        raise unreadable(f"its signature fields cannot be read: {why(exc)}") from exc
    entries: list[Entry] = []
    for number, (fq_name, _value, sig_field) in enumerate(fields):
        name = str(fq_name)
        if number >= MAX_SIGNATURES:
            # each one costs a pass over the document: a bound for hostile files
            entries.append(
                Entry(
                    name,
                    None,
                    make_finding(
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
        except BAD_INPUT as exc:
            entries.append(
                Entry(
                    name,
                    None,
                    make_finding(
                        "pdf.signature_unreadable",
                        f"the signature cannot be read: {why(exc)}",
                        f"không đọc được chữ ký: {why(exc)}",
                    ),
                )
            )
            continue
        is_timestamp = kind == "/DocTimeStamp"
        allowed = TIMESTAMP_SUBFILTERS if is_timestamp else SIGNATURE_SUBFILTERS
        problem = byte_range_problem(embedded, size)
        if problem is None and kind not in ("/Sig", "/DocTimeStamp"):
            problem = make_finding(
                "pdf.signature_type",
                f"unknown signature dictionary type {kind}",
                f"loại từ điển chữ ký không xác định: {kind}",
            )
        if problem is None and str(subfilter) not in allowed:
            problem = make_finding(
                "pdf.unsupported_format",
                f"signature format {subfilter} is not one we can verify "
                f"(accepted: {', '.join(sorted(allowed))})",
                f"định dạng chữ ký {subfilter} không được hỗ trợ để kiểm tra "
                f"(chấp nhận: {', '.join(sorted(allowed))})",
            )
        entries.append(Entry(name, embedded, problem, revision, is_timestamp))
    entries.sort(key=lambda e: (e.revision < 0, e.revision))
    return entries


def byte_range_problem(embedded: EmbeddedPdfSignature, size: int) -> Finding | None:
    """A /ByteRange must be two ranges inside the file, the first from its start, the second
    after the first: anything else is refused before any digest is computed (pyHanko would hash
    every pair it is given, and a hostile file can list a million of them)."""
    try:
        values = [int(v) for v in embedded.byte_range]
    except BAD_INPUT:
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
    return make_finding(
        "pdf.byte_range",
        f"the signature's /ByteRange [{shown}] is not two ranges of this file around the "
        "signature value",
        f"/ByteRange [{shown}] của chữ ký không phải hai đoạn của tệp bao quanh giá trị chữ ký",
    )


@dataclass(frozen=True, slots=True)
class Revinfo:
    """Validation data found in the document, parsed once, with its DER for the evidence."""

    certs: tuple[x509.Certificate, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    ocsps: tuple[ocsp.OCSPResponse, ...] = ()

    def __add__(self, other: Revinfo) -> Revinfo:
        return Revinfo(self.certs + other.certs, self.crls + other.crls, self.ocsps + other.ocsps)


def read_dss(reader: PdfFileReader) -> tuple[Revinfo, list[Finding]]:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return Revinfo(), []
    except BAD_INPUT as exc:
        return Revinfo(), [_dss_unreadable(exc)]
    certs: list[x509.Certificate] = []
    crls: list[crl.CertificateList] = []
    ocsps: list[ocsp.OCSPResponse] = []
    if len(dss.certs) + len(dss.crls) + len(dss.ocsps) > 4 * MAX_CERTIFICATES:
        return Revinfo(), [_dss_unreadable(ValueError("it holds too many items"))]
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
    except BAD_INPUT as exc:
        return Revinfo(tuple(certs), tuple(crls), tuple(ocsps)), [_dss_unreadable(exc)]
    return Revinfo(tuple(certs), tuple(crls), tuple(ocsps)), []


def _dss_unreadable(exc: Exception) -> Finding:
    return make_finding(
        "pdf.dss_unreadable",
        f"the document security store (DSS) cannot be read and was ignored: {why(exc)}",
        f"không đọc được kho dữ liệu kiểm tra (DSS) trong tệp, đã bỏ qua: {why(exc)}",
        "warning",
    )


def cms_revinfo(signer_info: cms.SignerInfo) -> Revinfo:
    """Adobe's ``revocation-info-archival`` signed attribute."""
    try:
        archival = find_unique_cms_attribute(
            signer_info["signed_attrs"], "adobe_revocation_info_archival"
        )
        crls = tuple(archival["crl"]) if archival["crl"] else ()
        ocsps = tuple(archival["ocsp"]) if archival["ocsp"] else ()
        return Revinfo(crls=crls, ocsps=ocsps)
    except (NonexistentAttributeError, MultivaluedAttributeError):
        return Revinfo()
    except BAD_INPUT:
        return Revinfo()
