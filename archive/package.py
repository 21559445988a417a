"""TT 05/2025 information packages (``AIP_hoso``, ``SIP_hoso``; E-ARK CSIP v2.0.4 based),
written as one ZIP from plain values the catalog fills in.

The tree (standards/archive.md §4)::

    METS.xml
    metadata/descriptive/EAD.xml                      the 18 dossier fields, root <simpledc>
    metadata/preservation/PREMIS.xml                  AIP only: objects, every event, agents
    metadata/preservation/evidence/NAME.ers           RFC 4998 EvidenceRecord over data/NAME
    metadata/preservation/evidence/NAME/...           certificates, CRLs, OCSP, timestamps
    metadata/preservation/reports/NAME.json|.html     the validation report
    representations/rep1/METS.xml
    representations/rep1/metadata/descriptive/EAD_doc_NAME.xml
    representations/rep1/metadata/preservation/PREMIS_rep1.xml   AIP only
    representations/rep1/documentation/NAME.trace.xml  the edXML trace (processing trail)
    representations/rep1/documentation/NAME.status.xml the status history (processing trail)
    representations/rep1/data/NAME                     the document, byte-exact

Members sit at the root of the ZIP (not under an OBJID folder): the command-line contract
names ``representations/rep1/data/NAME`` and ``metadata/preservation/evidence/NAME.ers`` as
paths in the zipped package. The checker also accepts a package under one top folder.

``schemas/`` is not written: we do not ship the TT 05 XSDs (METS.xsd, EAD.xsd, EAD_doc.xsd…),
and a schema file we wrote ourselves would pretend to an authority it does not have.

Documents are copied into the ZIP in 1 MiB chunks and hashed on the way; a document whose bytes
do not match the SHA-256 and size the catalog recorded stops the export (DamagedObject) and
nothing is left at ``dest``. The ZIP is written beside ``dest`` and renamed over it at the end.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Final, Literal
from uuid import UUID, uuid4

from lxml import etree

from archive.composition import PATH as COMPOSITION_PATH
from archive.composition import RECORD_PATH as COMPOSITION_RECORD_PATH
from archive.errors import DamagedObject, PackageInvalid, StorageFailed
from archive.mets import (
    CHECKSUMTYPE,
    CSIP_NS,
    CSIP_PROFILE,
    DATA_DIR,
    EVIDENCE_DIR,
    METS_NS,
    NSMAP,
    PREMIS_NS,
    REP_DIR,
    REPORTS_DIR,
    SIP_PROFILE,
    TT05_AIP_PROFILE,
    XLINK_NS,
    XSI_NS,
    check_member_name,
    q,
    to_href,
    xml_bytes,
    xml_time,
)
from validation import VIETNAM, OutputNotWritable, atomic_output

__all__ = [
    "DOC_FIELDS_AIP",
    "DOC_FIELDS_SIP",
    "DOSSIER_FIELDS_AIP",
    "DOSSIER_FIELDS_SIP",
    "Dossier",
    "PackageDocument",
    "PackageFile",
    "PackageSummary",
    "PreservationEvent",
    "SignatureInfo",
    "StatusChange",
    "write_package",
]

CHUNK: Final = 1024 * 1024
SOFTWARE: Final = "lienthong"

# Field orders are the appendices' (standards/archive.md §5, §6): a reader may rely on them.
DOSSIER_FIELDS_AIP: Final = (
    "arcFileCode",
    "title",
    "maintenance",
    "mode",
    "language",
    "startDate",
    "endDate",
    "keyword",
    "totalDoc",
    "numberOfPaper",
    "numberOfPage",
    "format",
    "inforSign",
    "confidenceLevel",
    "paperFileCode",
    "riskRecovery",
    "riskRecoveryStatus",
    "description",
)
DOSSIER_FIELDS_SIP: Final = ("fileCode", *DOSSIER_FIELDS_AIP[1:])
DOC_FIELDS_AIP: Final = (
    "arcFileCode",
    "mode",
    "language",
    "keyword",
    "numberOfPage",
    "format",
    "inforSign",
    "confidenceLevel",
    "description",
    "docCode",
    "docOrdinal",
    "typeName",
    "codeNumber",
    "codeNotation",
    "issuedDate",
    "organName",
    "subject",
    "autograph",
    "process",
)
# The SIP appendix's table order (§6); it has docId and maintenance, no arcFileCode.
DOC_FIELDS_SIP: Final = (
    "docId",
    "docCode",
    "maintenance",
    "typeName",
    "codeNumber",
    "codeNotation",
    "issuedDate",
    "organName",
    "subject",
    "language",
    "numberOfPage",
    "inforSign",
    "keyword",
    "mode",
    "confidenceLevel",
    "autograph",
    "format",
    "process",
    "description",
)

_MAINTENANCE = {f"{n:02d}" for n in range(1, 8)}
_MODE = {"01", "02", "03"}
_LANGUAGE = {f"{n:02d}" for n in range(1, 12)}
_FORMAT = {"01", "02", "03"}
_CONFIDENCE = {"01", "02", "03"}
_TYPE_NAME = {f"{n:02d}" for n in range(1, 33)}
_RECOVERY_STATUS = {"01", "02"}
_HEX64 = re.compile(r"[0-9a-f]{64}")

Content = Path | Callable[[], Iterable[bytes]]


def _fail(en: str, vi: str) -> PackageInvalid:
    return PackageInvalid(en, vi)


def _code(value: str, allowed: set[str], field_name: str) -> None:
    if value not in allowed:
        raise _fail(
            f"{field_name} must be one of {', '.join(sorted(allowed))}, not {value!r}",
            f"{field_name} phải là một trong {', '.join(sorted(allowed))}, không phải {value!r}",
        )


def _length(value: str, limit: int, field_name: str) -> None:
    if len(value) > limit:
        raise _fail(
            f"{field_name} is longer than {limit} characters",
            f"{field_name} dài quá {limit} ký tự",
        )


def _name(value: str, what: str) -> None:
    """A file name that becomes one path component in the package."""
    if "/" in value or check_member_name(value) is not None or value.startswith("."):
        raise _fail(
            f"{what} {value!r} cannot be a file name in a package (one plain name, no '/', "
            "no control characters, not starting with '.')",
            f"{what} {value!r} không dùng làm tên tệp trong gói được (một tên đơn, không có "
            "'/', không có ký tự điều khiển, không bắt đầu bằng '.')",
        )


def _ddmmyyyy(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dossier:
    """A closed dossier (hồ sơ) as TT 05/2025 describes it in ``EAD.xml``."""

    file_code: str
    """fileCode: agency id (or fond code) + year + dossier number/notation, joined with '.'
    (§12)."""
    archive_code: str
    """The archive agency's code; arcFileCode is ``archive_code.file_code`` unless given."""
    title: str
    maintenance: str
    """01 permanent, 02 70 years, 03 50, 04 30, 05 20, 06 10, 07 other."""
    mode: str
    """01 public, 02 conditional, 03 secret."""
    languages: tuple[str, ...] = ("01",)
    """Codes 01–11; several are written comma-separated in the one ``language`` field."""
    start_date: date
    end_date: date
    objid: UUID = field(default_factory=uuid4)
    """The package's identity: ``urn:uuid:…`` (AIP), ``uuid-…`` (SIP)."""
    fond_code: str | None = None
    """When set, the AIP OBJID is ``urn:{fond_code}:uuid-{objid}`` (§4)."""
    arc_file_code: str | None = None
    keyword: str = ""
    total_doc: int | None = None
    """None: the number of documents in the package."""
    number_of_paper: int = 0
    """Sheets; only for digitised paper."""
    number_of_page: int | None = None
    """None: the sum of the documents' pages."""
    format: str = "01"
    """Physical condition: 01 good, 02 normal, 03 damaged."""
    infor_sign: str = ""
    confidence_level: str = "01"
    """01 born-digital, 02 digitised, 03 mixed."""
    paper_file_code: str = ""
    """``[archive].[store/shelf/box].[paper no.]``; required when digitised (02)."""
    risk_recovery: bool = False
    risk_recovery_status: str = ""
    """01 done, 02 not yet; required when ``risk_recovery``."""
    description: str = ""
    """The creator's name and notes (App. VI Creator goes here, §12)."""
    storage_medium: str = "hard disk, two independent copies"
    """What PREMIS ``storageMedium`` says of the archive's copies."""
    agency_name: str = ""
    """The agency that created the dossier (a METS ARCHIVIST agent when given)."""
    agency_code: str = ""
    """Its identification code (the agency id of the file code)."""
    archive_name: str = ""
    """The archive keeping the AIP (a METS PRESERVATION agent when given, with
    ``archive_code``)."""

    def __post_init__(self) -> None:
        _code(self.maintenance, _MAINTENANCE, "maintenance")
        _code(self.mode, _MODE, "mode")
        if not self.languages:
            raise _fail("a dossier needs a language", "hồ sơ cần có ngôn ngữ")
        for code in self.languages:
            _code(code, _LANGUAGE, "language")
        _code(self.format, _FORMAT, "format")
        _code(self.confidence_level, _CONFIDENCE, "confidenceLevel")
        if self.risk_recovery:
            _code(self.risk_recovery_status, _RECOVERY_STATUS, "riskRecoveryStatus")
        elif self.risk_recovery_status:
            raise _fail(
                "riskRecoveryStatus is given but riskRecovery is 0",
                "có riskRecoveryStatus nhưng riskRecovery là 0",
            )
        if self.confidence_level == "02" and not self.paper_file_code:
            raise _fail(
                "a digitised dossier (confidenceLevel 02) needs its paperFileCode",
                "hồ sơ số hóa (confidenceLevel 02) phải có paperFileCode",
            )
        if not self.file_code or not self.archive_code:
            raise _fail(
                "a dossier needs its fileCode and the archive's code",
                "hồ sơ cần có fileCode và mã cơ quan lưu trữ",
            )
        if self.end_date < self.start_date:
            raise _fail(
                "the dossier's end date is before its start date",
                "ngày kết thúc của hồ sơ trước ngày bắt đầu",
            )
        for value, limit, name in (
            (self.file_code, 100, "fileCode"),
            (self.arc_file_code_text, 100, "arcFileCode"),
            (self.title, 1000, "title"),
            (self.keyword, 100, "keyword"),
            (self.infor_sign, 30, "inforSign"),
            (self.paper_file_code, 100, "paperFileCode"),
            (self.description, 2000, "description"),
        ):
            _length(value, limit, name)
        for number, name in (
            (self.total_doc, "totalDoc"),
            (self.number_of_paper, "numberOfPaper"),
            (self.number_of_page, "numberOfPage"),
        ):
            if number is not None and not 0 <= number < 10**10:
                raise _fail(
                    f"{name} must be a number of at most 10 digits",
                    f"{name} phải là số không quá 10 chữ số",
                )

    @property
    def arc_file_code_text(self) -> str:
        return self.arc_file_code or f"{self.archive_code}.{self.file_code}"

    def package_objid(self, kind: Literal["AIP", "SIP"]) -> str:
        if kind == "SIP":
            return f"uuid-{self.objid}"
        if self.fond_code:
            return f"urn:{self.fond_code}:uuid-{self.objid}"
        return f"urn:uuid:{self.objid}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """One entry of a document's status history (edXML status codes 01–16)."""

    code: str
    time: datetime
    organ: str
    """The agency that sent or received the status."""
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureInfo:
    """What PREMIS ``signatureInformation`` says of one signature on a document."""

    encoding: str
    """How the signature is encoded: ``PAdES``, ``XAdES``, ``CMS``."""
    method: str
    """The algorithm, e.g. ``RSA-SHA256``."""
    value: str
    """The signature value (base64) or, for a large one, its SHA-256 in hex."""
    validation_rules: str
    """How it is to be validated and the verdict, e.g. ``ETSI EN 319 102-1: TOTAL-PASSED``."""
    signer: str = ""
    properties: tuple[str, ...] = ()
    """Free notes: signing time, role (personal / agency), certificate serial…"""


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageDocument:
    """One archived document, its ``EAD_doc`` metadata (the AIP's 19 fields) and its proof."""

    name: str
    """The file name under ``representations/rep1/data/``."""
    content: Content
    """The bytes: a path, or a callable giving an iterator of chunks (called once)."""
    sha256: str
    size: int
    created: datetime
    doc_ordinal: int
    """1, 2, …; docCode is ``fileCode.`` + this on 7 digits."""
    type_name: str
    """01–32 (§7)."""
    mimetype: str | None = None
    """None: guessed from the name."""
    pronom: str | None = None
    """The PRONOM format id (``fmt/476`` for PDF/A-2b), when known."""
    mode: str | None = None
    """None: the dossier's."""
    language: str | None = None
    """None: the dossier's first language."""
    keyword: str = ""
    number_of_page: int = 0
    format: str = "01"
    infor_sign: str = ""
    confidence_level: str = "01"
    description: str = ""
    code_number: str = ""
    code_notation: str = ""
    issued_date: date | None = None
    organ_name: str = ""
    subject: str = ""
    autograph: str = ""
    doc_id: str = ""
    """docId (SIP only), e.g. ``H49.64.33.2001.160.1``."""
    edxml_trace: bytes | None = None
    """The processing trail: the edXML trace (TraceHeaderList) as it was exchanged."""
    status_history: tuple[StatusChange, ...] = ()
    """The processing trail: the statuses the document went through."""
    evidence_record: bytes | None = None
    """DER RFC 4998 EvidenceRecord over exactly this document's bytes."""
    report_json: bytes | None = None
    report_html: bytes | None = None
    evidence_files: Mapping[str, bytes] = field(default_factory=dict)
    """What the report rests on (certificates, CRLs, OCSP responses, timestamp tokens)."""
    signatures: tuple[SignatureInfo, ...] = ()

    def __post_init__(self) -> None:
        _name(self.name, "the document name")
        xml_time(self.created)
        for change in self.status_history:
            xml_time(change.time)
        for name in self.evidence_files:
            _name(name, "the evidence file name")
        if not _HEX64.fullmatch(self.sha256):
            raise _fail(
                f"{self.name}: the SHA-256 must be 64 lowercase hex digits",
                f"{self.name}: SHA-256 phải là 64 chữ số hex viết thường",
            )
        if self.size < 0 or not 1 <= self.doc_ordinal <= 9_999_999:
            raise _fail(
                f"{self.name}: a negative size or an ordinal outside 1–9999999",
                f"{self.name}: kích thước âm hoặc số thứ tự ngoài khoảng 1–9999999",
            )
        _code(self.type_name, _TYPE_NAME, "typeName")
        if self.mode is not None:
            _code(self.mode, _MODE, "mode")
        if self.language is not None:
            _code(self.language, _LANGUAGE, "language")
        _code(self.format, _FORMAT, "format")
        _code(self.confidence_level, _CONFIDENCE, "confidenceLevel")
        if not 0 <= self.number_of_page < 10**4:
            raise _fail(
                f"{self.name}: numberOfPage must have at most 4 digits",
                f"{self.name}: numberOfPage không quá 4 chữ số",
            )
        for value, limit, what in (
            (self.keyword, 100, "keyword"),
            (self.infor_sign, 30, "inforSign"),
            (self.description, 500, "description"),
            (self.code_number, 11, "codeNumber"),
            (self.code_notation, 30, "codeNotation"),
            (self.organ_name, 200, "organName"),
            (self.subject, 500, "subject"),
            (self.autograph, 2000, "autograph"),
            (self.doc_id, 25, "docId"),
        ):
            _length(value, limit, what)

    @property
    def process(self) -> bool:
        """TT 05 ``process``: 1 when a processing trail is attached (and it is, here, exactly
        when the catalog gave one)."""
        return self.edxml_trace is not None or bool(self.status_history)

    @property
    def media_type(self) -> str:
        return self.mimetype or mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def chunks(self) -> Iterator[bytes]:
        if isinstance(self.content, Path):
            with self.content.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
        else:
            yield from self.content()


@dataclass(frozen=True, slots=True, kw_only=True)
class PreservationEvent:
    """One PREMIS event in the dossier's history."""

    event_type: str
    """PREMIS vocabulary where it has the word: ``ingestion``, ``message digest calculation``,
    ``fixity check``, ``repair``, ``timestamp renewal``, ``hash-tree renewal``,
    ``information package creation``…"""
    time: datetime
    outcome: str = "success"
    detail: str = ""
    objects: tuple[str, ...] = ()
    """The names of the documents it concerns; empty: the whole package."""
    agent: str = SOFTWARE
    agent_type: str = "software"
    identifier: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSummary:
    path: Path
    objid: str
    kind: Literal["AIP", "SIP"]
    size: int
    """The ZIP's size in bytes."""
    files: tuple[PackageFile, ...]
    """Every member but the root METS.xml, with what METS says of it."""


# --- writing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Written:
    path: str
    size: int
    sha256: str
    created: datetime
    mimetype: str


class _Zip:
    """The ZIP being written: every member is hashed on its way in."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED)
        self.files: dict[str, _Written] = {}
        self._folders: set[str] = set()

    def add(self, path: str, chunks: Iterable[bytes], created: datetime, mimetype: str) -> _Written:
        parts = path.split("/")
        folders = {"/".join(parts[:n]) for n in range(1, len(parts))}
        if path in self.files or path in self._folders or folders & self.files.keys():
            # e.g. a document "a.pdf.ers" beside "a.pdf" with evidence files: the second's
            # folder would be the first's evidence record; unpacked, one would hide the other
            raise _fail(
                f"two files would be written at {path} in the package (or a file and a folder)",
                f"hai tệp (hoặc một tệp và một thư mục) trùng đường dẫn {path} trong gói",
            )
        self._folders |= folders
        info = zipfile.ZipInfo(path, date_time=_zip_time(created))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        digest = hashlib.sha256()
        size = 0
        with self._zip.open(info, "w", force_zip64=True) as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        written = _Written(path, size, digest.hexdigest(), created, mimetype)
        self.files[path] = written
        return written

    def add_bytes(self, path: str, data: bytes, created: datetime, mimetype: str) -> _Written:
        return self.add(path, (data,), created, mimetype)

    def close(self) -> None:
        self._zip.close()


def _zip_time(value: datetime) -> tuple[int, int, int, int, int, int]:
    local = value.astimezone(VIETNAM)
    if local.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    try:
        element = etree.SubElement(parent, tag, attrs)
        if text is not None:
            element.text = text
    except ValueError as exc:  # lxml refuses control characters and lone surrogates
        raise _fail(
            f"a metadata value cannot be written as XML ({etree.QName(tag).localname}): {exc}",
            f"một giá trị siêu dữ liệu không ghi được thành XML ({etree.QName(tag).localname})",
        ) from exc
    return element


def _simpledc(fields: Sequence[tuple[str, str]]) -> bytes:
    root = etree.Element("simpledc")
    for name, value in fields:
        _sub(root, name, value)
    return xml_bytes(root)


def _dossier_ead(
    dossier: Dossier, documents: Sequence[PackageDocument], kind: Literal["AIP", "SIP"]
) -> bytes:
    pages = dossier.number_of_page
    if pages is None:
        pages = sum(doc.number_of_page for doc in documents)
    total = dossier.total_doc if dossier.total_doc is not None else len(documents)
    code = dossier.arc_file_code_text if kind == "AIP" else dossier.file_code
    values = (
        code,
        dossier.title,
        dossier.maintenance,
        dossier.mode,
        ",".join(dossier.languages),
        _ddmmyyyy(dossier.start_date),
        _ddmmyyyy(dossier.end_date),
        dossier.keyword,
        str(total),
        str(dossier.number_of_paper),
        str(pages),
        dossier.format,
        dossier.infor_sign,
        dossier.confidence_level,
        dossier.paper_file_code,
        "1" if dossier.risk_recovery else "0",
        dossier.risk_recovery_status,
        dossier.description,
    )
    names = DOSSIER_FIELDS_AIP if kind == "AIP" else DOSSIER_FIELDS_SIP
    return _simpledc(list(zip(names, values, strict=True)))


def _doc_ead(dossier: Dossier, doc: PackageDocument, kind: Literal["AIP", "SIP"]) -> bytes:
    values = {
        "arcFileCode": dossier.arc_file_code_text,
        "docId": doc.doc_id,
        "maintenance": dossier.maintenance,
        "mode": doc.mode or dossier.mode,
        "language": doc.language or dossier.languages[0],
        "keyword": doc.keyword,
        "numberOfPage": str(doc.number_of_page),
        "format": doc.format,
        "inforSign": doc.infor_sign,
        "confidenceLevel": doc.confidence_level,
        "description": doc.description,
        "docCode": f"{dossier.file_code}.{doc.doc_ordinal:07d}",
        "docOrdinal": str(doc.doc_ordinal),
        "typeName": doc.type_name,
        "codeNumber": doc.code_number,
        "codeNotation": doc.code_notation,
        "issuedDate": _ddmmyyyy(doc.issued_date),
        "organName": doc.organ_name,
        "subject": doc.subject,
        "autograph": doc.autograph,
        "process": "1" if doc.process else "0",
    }
    names = DOC_FIELDS_AIP if kind == "AIP" else DOC_FIELDS_SIP
    return _simpledc([(name, values[name]) for name in names])


def _status_history(doc: PackageDocument) -> bytes:
    # Our own small format: TT 05 asks for the processing file, not for its schema.
    root = etree.Element("statusHistory", document=doc.name)
    for change in sorted(doc.status_history, key=lambda c: c.time):
        entry = _sub(root, "status")
        _sub(entry, "code", change.code)
        _sub(entry, "time", xml_time(change.time))
        _sub(entry, "organ", change.organ)
        if change.description:
            _sub(entry, "description", change.description)
    return xml_bytes(root)


def _p(name: str) -> str:
    return q(PREMIS_NS, name)


def _premis(
    dossier: Dossier,
    objid: str,
    documents: Sequence[PackageDocument],
    data: Mapping[str, _Written],
    events: Sequence[PreservationEvent],
    *,
    representation: bool,
) -> bytes:
    """PREMIS v3: the root file has the representation, every file object, every event and
    agent; the representation's file has its file objects and the events that touch them."""
    root = etree.Element(_p("premis"), nsmap={"premis": PREMIS_NS, "xsi": XSI_NS})
    root.set("version", "3.0")
    ids = {doc.name: f"{objid}/{DATA_DIR}/{doc.name}" for doc in documents}
    if not representation:
        rep = _sub(root, _p("object"))
        rep.set(q(XSI_NS, "type"), "premis:representation")
        rep.set("xmlID", "obj-rep1")
        _identifier(rep, "objectIdentifier", "local", f"{objid}/{REP_DIR}")
    for index, doc in enumerate(documents, 1):
        written = data[doc.name]
        obj = _sub(root, _p("object"))
        obj.set(q(XSI_NS, "type"), "premis:file")
        obj.set("xmlID", f"obj-{index:04d}")
        _identifier(obj, "objectIdentifier", "local", ids[doc.name])
        chars = _sub(obj, _p("objectCharacteristics"))
        _sub(chars, _p("compositionLevel"), "0")
        fixity = _sub(chars, _p("fixity"))
        _sub(fixity, _p("messageDigestAlgorithm"), CHECKSUMTYPE)
        _sub(fixity, _p("messageDigest"), written.sha256)
        _sub(fixity, _p("messageDigestOriginator"), SOFTWARE)
        _sub(chars, _p("size"), str(written.size))
        fmt = _sub(chars, _p("format"))
        designation = _sub(fmt, _p("formatDesignation"))
        _sub(designation, _p("formatName"), doc.media_type)
        if doc.pronom:
            registry = _sub(fmt, _p("formatRegistry"))
            _sub(registry, _p("formatRegistryName"), "PRONOM")
            _sub(registry, _p("formatRegistryKey"), doc.pronom)
        _sub(obj, _p("originalName"), doc.name)
        storage = _sub(obj, _p("storage"))
        location = _sub(storage, _p("contentLocation"))
        _sub(location, _p("contentLocationType"), "package path")
        _sub(location, _p("contentLocationValue"), written.path)
        _sub(storage, _p("storageMedium"), dossier.storage_medium)
        if doc.signatures:
            info = _sub(obj, _p("signatureInformation"))
            for sig in doc.signatures:
                signature = _sub(info, _p("signature"))
                _sub(signature, _p("signatureEncoding"), sig.encoding)
                if sig.signer:
                    _sub(signature, _p("signer"), sig.signer)
                _sub(signature, _p("signatureMethod"), sig.method)
                _sub(signature, _p("signatureValue"), sig.value)
                _sub(signature, _p("signatureValidationRules"), sig.validation_rules)
                for prop in sig.properties:
                    _sub(signature, _p("signatureProperties"), prop)
    agents: dict[tuple[str, str], str] = {}
    for event in events:
        if representation and not event.objects:
            continue
        agent_id = agents.setdefault(
            (event.agent, event.agent_type), f"agent-{len(agents) + 1:03d}"
        )
        element = _sub(root, _p("event"))
        _identifier(element, "eventIdentifier", "UUID", str(event.identifier))
        _sub(element, _p("eventType"), event.event_type)
        _sub(element, _p("eventDateTime"), xml_time(event.time))
        if event.detail:
            detail = _sub(element, _p("eventDetailInformation"))
            _sub(detail, _p("eventDetail"), event.detail)
        outcome = _sub(element, _p("eventOutcomeInformation"))
        _sub(outcome, _p("eventOutcome"), event.outcome)
        link = _sub(element, _p("linkingAgentIdentifier"))
        _sub(link, _p("linkingAgentIdentifierType"), "local")
        _sub(link, _p("linkingAgentIdentifierValue"), agent_id)
        targets = [ids[name] for name in event.objects] or [f"{objid}/{REP_DIR}"]
        for target in targets:
            obj_link = _sub(element, _p("linkingObjectIdentifier"))
            _sub(obj_link, _p("linkingObjectIdentifierType"), "local")
            _sub(obj_link, _p("linkingObjectIdentifierValue"), target)
            _sub(obj_link, _p("linkingObjectRole"), "outcome")
    for (name, agent_type), agent_id in agents.items():
        agent = _sub(root, _p("agent"))
        _identifier(agent, "agentIdentifier", "local", agent_id)
        _sub(agent, _p("agentName"), name)
        _sub(agent, _p("agentType"), agent_type)
    return xml_bytes(root)


def _identifier(parent: etree._Element, kind: str, type_: str, value: str) -> None:
    element = _sub(parent, _p(kind))
    _sub(element, _p(f"{kind}Type"), type_)
    _sub(element, _p(f"{kind}Value"), value)


def _m(name: str) -> str:
    return q(METS_NS, name)


def _file_attrs(element: etree._Element, written: _Written) -> None:
    element.set("MIMETYPE", written.mimetype)
    element.set("SIZE", str(written.size))
    element.set("CREATED", xml_time(written.created))
    element.set("CHECKSUM", written.sha256)
    element.set("CHECKSUMTYPE", CHECKSUMTYPE)


def _href(written: _Written, base: str) -> str:
    path = written.path
    if base:
        path = path[len(base) + 1 :]
    return to_href(path)


def _md_ref(
    parent: etree._Element,
    written: _Written,
    base: str,
    mdtype: str,
    othermdtype: str | None = None,
) -> None:
    ref = _sub(parent, _m("mdRef"))
    ref.set("LOCTYPE", "URL")
    ref.set(q(XLINK_NS, "type"), "simple")
    ref.set(q(XLINK_NS, "href"), _href(written, base))
    ref.set("MDTYPE", mdtype)
    if othermdtype:
        ref.set("OTHERMDTYPE", othermdtype)
    _file_attrs(ref, written)


def _file(parent: etree._Element, written: _Written, base: str, file_id: str) -> None:
    element = _sub(parent, _m("file"), ID=file_id)
    _file_attrs(element, written)
    locat = _sub(element, _m("FLocat"), LOCTYPE="URL")
    locat.set(q(XLINK_NS, "type"), "simple")
    locat.set(q(XLINK_NS, "href"), _href(written, base))


def _software_version() -> str:
    try:
        return f"{SOFTWARE} {metadata.version(SOFTWARE)}"
    except metadata.PackageNotFoundError:
        return SOFTWARE


def _mets_root(
    dossier: Dossier, objid: str, label: str, profile: str, kind: str, created: datetime
) -> etree._Element:
    root = etree.Element(_m("mets"), nsmap=NSMAP)
    root.set("OBJID", objid)
    root.set("LABEL", label)
    root.set("TYPE", "Mixed")
    root.set(q(CSIP_NS, "CONTENTINFORMATIONTYPE"), "MIXED")
    root.set("PROFILE", profile)
    header = _sub(
        root,
        _m("metsHdr"),
        CREATEDATE=xml_time(created),
        LASTMODDATE=xml_time(created),
        RECORDSTATUS="NEW",
    )
    header.set(q(CSIP_NS, "OAISPACKAGETYPE"), kind)
    agent = _sub(header, _m("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _sub(agent, _m("name"), SOFTWARE)
    note = _sub(agent, _m("note"), _software_version())
    note.set(q(CSIP_NS, "NOTETYPE"), "SOFTWARE VERSION")
    # E-ARK names the organisations by an identification code: the creating agency (E-ARK
    # SIP's "archival creator", ROLE ARCHIVIST: CSIP keeps ROLE CREATOR for the software)
    # and the archive keeping the AIP.
    organisations = [("ARCHIVIST", dossier.agency_name, dossier.agency_code)]
    if kind == "AIP":
        organisations.append(("PRESERVATION", dossier.archive_name, dossier.archive_code))
    for role, name, code in organisations:
        if not name:
            continue
        org = _sub(header, _m("agent"), ROLE=role, TYPE="ORGANIZATION")
        _sub(org, _m("name"), name)
        if code:
            note = _sub(org, _m("note"), code)
            note.set(q(CSIP_NS, "NOTETYPE"), "IDENTIFICATIONCODE")
    return root


def _rep_mets(
    dossier: Dossier,
    objid: str,
    kind: Literal["AIP", "SIP"],
    created: datetime,
    documents: Sequence[PackageDocument],
    files: Mapping[str, _Written],
    ead_docs: Mapping[str, _Written],
    trails: Mapping[str, list[_Written]],
    premis: _Written | None,
) -> bytes:
    root = _mets_root(dossier, "rep1", f"{objid} rep1", CSIP_PROFILE, kind, created)
    for index, doc in enumerate(documents, 1):
        dmd = _sub(root, _m("dmdSec"), ID=f"dmd-doc-{index:04d}", STATUS="CURRENT")
        dmd.set("CREATED", xml_time(created))
        _md_ref(dmd, ead_docs[doc.name], REP_DIR, "OTHER", "EAD_doc")
    if premis is not None:
        amd = _sub(root, _m("amdSec"), ID="amd-rep1")
        digiprov = _sub(amd, _m("digiprovMD"), ID="digiprov-premis-rep1", STATUS="CURRENT")
        _md_ref(digiprov, premis, REP_DIR, "PREMIS")
    file_sec = _sub(root, _m("fileSec"), ID="filesec-rep1")
    data_grp = _sub(file_sec, _m("fileGrp"), ID="grp-data", USE="Data")
    for index, doc in enumerate(documents, 1):
        _file(data_grp, files[doc.name], REP_DIR, f"file-data-{index:04d}")
    if any(trails.values()):
        doc_grp = _sub(file_sec, _m("fileGrp"), ID="grp-documentation", USE="Documentation")
        for index, doc in enumerate(documents, 1):
            for n, written in enumerate(trails[doc.name], 1):
                _file(doc_grp, written, REP_DIR, f"file-trail-{index:04d}-{n}")
    smap = _sub(root, _m("structMap"), ID="structmap-rep1", TYPE="PHYSICAL", LABEL="CSIP")
    top = _sub(smap, _m("div"), ID="div-rep1", LABEL="rep1")
    dmd_ids = " ".join(f"dmd-doc-{i:04d}" for i in range(1, len(documents) + 1))
    meta = _sub(top, _m("div"), ID="div-rep1-metadata", LABEL="Metadata")
    if dmd_ids:
        meta.set("DMDID", dmd_ids)
    if premis is not None:
        meta.set("ADMID", "digiprov-premis-rep1")
    data_div = _sub(top, _m("div"), ID="div-rep1-data", LABEL="Data")
    for index in range(1, len(documents) + 1):
        _sub(data_div, _m("fptr"), FILEID=f"file-data-{index:04d}")
    if any(trails.values()):
        doc_div = _sub(top, _m("div"), ID="div-rep1-documentation", LABEL="Documentation")
        for index, doc in enumerate(documents, 1):
            for n in range(1, len(trails[doc.name]) + 1):
                _sub(doc_div, _m("fptr"), FILEID=f"file-trail-{index:04d}-{n}")
    # TT 05: MetadataLink/File ties each EAD_doc to its data file (and here to its trail).
    link = _sub(top, _m("div"), ID="div-rep1-metadatalink", LABEL="MetadataLink")
    for index, doc in enumerate(documents, 1):
        one = _sub(link, _m("div"), ID=f"div-link-{index:04d}", LABEL="File")
        one.set("DMDID", f"dmd-doc-{index:04d}")
        _sub(one, _m("fptr"), FILEID=f"file-data-{index:04d}")
        for n in range(1, len(trails[doc.name]) + 1):
            _sub(one, _m("fptr"), FILEID=f"file-trail-{index:04d}-{n}")
    return xml_bytes(root)


def _root_mets(
    dossier: Dossier,
    objid: str,
    kind: Literal["AIP", "SIP"],
    created: datetime,
    ead: _Written,
    premis: _Written | None,
    proofs: Sequence[tuple[_Written, str]],
    rep_mets: _Written,
) -> bytes:
    profile = TT05_AIP_PROFILE if kind == "AIP" else SIP_PROFILE
    root = _mets_root(dossier, objid, dossier.title, profile, kind, created)
    dmd = _sub(root, _m("dmdSec"), ID="dmd-ead", STATUS="CURRENT")
    dmd.set("CREATED", xml_time(created))
    _md_ref(dmd, ead, "", "OTHER", "EAD")
    adm_ids: list[str] = []
    if premis is not None or proofs:
        amd = _sub(root, _m("amdSec"), ID="amd-package")
        if premis is not None:
            digiprov = _sub(amd, _m("digiprovMD"), ID="digiprov-premis", STATUS="CURRENT")
            _md_ref(digiprov, premis, "", "PREMIS")
            adm_ids.append("digiprov-premis")
        # The evidence records, reports and the validation data they rest on are digital
        # provenance of the documents: each is a digiprovMD with SIZE and CHECKSUM like any
        # other reference. The .ers is checksummed here too (standards/archive.md §13 keeps
        # an ERS outside the tree it covers, but our ERS covers one document's bytes, never
        # METS, so listing it creates no circle; and a package is a snapshot: an ERS renewed
        # later goes into a new export, not into this one). So "every member is listed" holds
        # without exception and a truncated .ers is named before the ERS parser meets it.
        for index, (written, what) in enumerate(proofs, 1):
            prov_id = f"digiprov-{index:05d}"
            digiprov = _sub(amd, _m("digiprovMD"), ID=prov_id, STATUS="CURRENT")
            _md_ref(digiprov, written, "", "OTHER", what)
            adm_ids.append(prov_id)
    file_sec = _sub(root, _m("fileSec"), ID="filesec-package")
    grp = _sub(file_sec, _m("fileGrp"), ID="grp-rep1", USE="Representations/rep1")
    _file(grp, rep_mets, "", "file-rep1-mets")
    smap = _sub(root, _m("structMap"), ID="structmap-csip", TYPE="PHYSICAL", LABEL="CSIP")
    top = _sub(smap, _m("div"), ID="div-package", LABEL=objid)
    meta = _sub(top, _m("div"), ID="div-metadata", LABEL="Metadata", DMDID="dmd-ead")
    if adm_ids:
        meta.set("ADMID", " ".join(adm_ids))
    # The Schemas division is kept (the CSIP structMap names it) though empty: the TT 05
    # XSDs are not shipped.
    _sub(top, _m("div"), ID="div-schemas", LABEL="Schemas")
    reps = _sub(top, _m("div"), ID="div-representations", LABEL="Representations/rep1")
    mptr = _sub(reps, _m("mptr"), LOCTYPE="URL")
    mptr.set(q(XLINK_NS, "type"), "simple")
    mptr.set(q(XLINK_NS, "href"), to_href(rep_mets.path))
    mptr.set(q(XLINK_NS, "title"), "file-rep1-mets")
    _sub(reps, _m("fptr"), FILEID="file-rep1-mets")
    return xml_bytes(root)


def _check_inputs(
    documents: Sequence[PackageDocument], events: Sequence[PreservationEvent]
) -> None:
    names = [doc.name for doc in documents]
    folded = {name.casefold() for name in names}
    if len(folded) != len(names):
        raise _fail(
            "two documents have the same file name (ignoring case)",
            "hai văn bản trùng tên tệp (không phân biệt hoa thường)",
        )
    ordinals = [doc.doc_ordinal for doc in documents]
    if len(set(ordinals)) != len(ordinals):
        raise _fail("two documents have the same ordinal", "hai văn bản trùng số thứ tự")
    known = set(names)
    for event in events:
        unknown = [name for name in event.objects if name not in known]
        if unknown:
            raise _fail(
                f"a {event.event_type} event names a document not in the package: {unknown[0]}",
                f"sự kiện {event.event_type} nêu văn bản không có trong gói: {unknown[0]}",
            )
        xml_time(event.time)


def write_package(
    dossier: Dossier,
    documents: Sequence[PackageDocument],
    events: Sequence[PreservationEvent],
    dest: Path,
    *,
    kind: Literal["AIP", "SIP"] = "AIP",
    created: datetime | None = None,
    composition: tuple[bytes, bytes] | None = None,
) -> PackageSummary:
    """Write the dossier as a zipped ``AIP_hoso`` (or ``SIP_hoso``) at ``dest``.

    ``composition``: the archive's sealed record of the dossier's composition and its
    evidence record, written at ``metadata/preservation/composition.json`` (``.ers``).

    A SIP has no PREMIS (TT 05: SIPs carry no preservation metadata) but keeps the evidence
    records, reports and their validation data: they are the proof that travels to the other
    system. ``created`` (default: now) is the package's creation time in METS.

    :raises PackageInvalid: the metadata break a TT 05 rule (a code outside its list, …).
    :raises DamagedObject: a document's bytes do not match its recorded SHA-256 or size.
    :raises StorageFailed: ``dest`` cannot be written.
    """
    if kind not in ("AIP", "SIP"):
        raise _fail(f"unknown package kind {kind!r}", f"loại gói không rõ {kind!r}")
    documents = sorted(documents, key=lambda d: d.doc_ordinal)
    _check_inputs(documents, events)
    now = created or datetime.now(VIETNAM)
    xml_time(now)
    objid = dossier.package_objid(kind)
    try:
        with atomic_output(dest) as handle:
            out = _Zip(handle)
            try:
                files = _write_members(
                    out, dossier, objid, documents, events, kind, now, composition
                )
            finally:
                out.close()
    except OutputNotWritable as exc:
        raise StorageFailed(exc.en, exc.vi) from exc
    except OSError as exc:
        raise StorageFailed(
            f"cannot write the package {dest}: {exc.strerror or exc}",
            f"không ghi được gói {dest}: {exc.strerror or exc}",
        ) from exc
    return PackageSummary(
        path=dest,
        objid=objid,
        kind=kind,
        size=dest.stat().st_size,
        files=tuple(PackageFile(path=w.path, size=w.size, sha256=w.sha256) for w in files),
    )


def _write_members(
    out: _Zip,
    dossier: Dossier,
    objid: str,
    documents: Sequence[PackageDocument],
    events: Sequence[PreservationEvent],
    kind: Literal["AIP", "SIP"],
    now: datetime,
    composition: tuple[bytes, bytes] | None = None,
) -> list[_Written]:
    xml = "text/xml"
    data: dict[str, _Written] = {}
    for doc in documents:
        try:
            written = out.add(f"{DATA_DIR}/{doc.name}", doc.chunks(), doc.created, doc.media_type)
        except OSError as exc:
            raise StorageFailed(
                f"cannot read the document {doc.name}: {exc.strerror or exc}",
                f"không đọc được văn bản {doc.name}: {exc.strerror or exc}",
            ) from exc
        if written.sha256 != doc.sha256 or written.size != doc.size:
            raise DamagedObject(
                f"the document {doc.name} does not match its recorded SHA-256 and size "
                f"({written.size} bytes read, {doc.size} recorded): the package is not written",
                f"văn bản {doc.name} không khớp SHA-256 và kích thước đã ghi nhận "
                f"(đọc được {written.size} byte, ghi nhận {doc.size}): không ghi gói",
                document=doc.name,
            )
        data[doc.name] = written
    ead_docs = {
        doc.name: out.add_bytes(
            f"{REP_DIR}/metadata/descriptive/EAD_doc_{doc.name}.xml",
            _doc_ead(dossier, doc, kind),
            now,
            xml,
        )
        for doc in documents
    }
    trails: dict[str, list[_Written]] = {}
    for doc in documents:
        trail: list[_Written] = []
        if doc.edxml_trace is not None:
            trail.append(
                out.add_bytes(
                    f"{REP_DIR}/documentation/{doc.name}.trace.xml", doc.edxml_trace, now, xml
                )
            )
        if doc.status_history:
            trail.append(
                out.add_bytes(
                    f"{REP_DIR}/documentation/{doc.name}.status.xml",
                    _status_history(doc),
                    now,
                    xml,
                )
            )
        trails[doc.name] = trail
    rep_premis = None
    premis = None
    if kind == "AIP":
        rep_premis = out.add_bytes(
            f"{REP_DIR}/metadata/preservation/PREMIS_rep1.xml",
            _premis(dossier, objid, documents, data, events, representation=True),
            now,
            xml,
        )
        premis = out.add_bytes(
            "metadata/preservation/PREMIS.xml",
            _premis(dossier, objid, documents, data, events, representation=False),
            now,
            xml,
        )
    proofs: list[tuple[_Written, str]] = []
    for doc in documents:
        if doc.evidence_record is not None:
            ers = out.add_bytes(
                f"{EVIDENCE_DIR}/{doc.name}.ers",
                doc.evidence_record,
                now,
                "application/octet-stream",
            )
            proofs.append((ers, "RFC4998 EvidenceRecord"))
        if doc.report_json is not None:
            report = out.add_bytes(
                f"{REPORTS_DIR}/{doc.name}.json", doc.report_json, now, "application/json"
            )
            proofs.append((report, "ValidationReport"))
        if doc.report_html is not None:
            report = out.add_bytes(
                f"{REPORTS_DIR}/{doc.name}.html", doc.report_html, now, "text/html"
            )
            proofs.append((report, "ValidationReport"))
        for name in sorted(doc.evidence_files):
            evidence = out.add_bytes(
                f"{EVIDENCE_DIR}/{doc.name}/{name}",
                doc.evidence_files[name],
                now,
                mimetypes.guess_type(name)[0] or "application/octet-stream",
            )
            proofs.append((evidence, "ValidationData"))
    if composition is not None:
        composed, composed_record = composition
        proofs.append(
            (out.add_bytes(COMPOSITION_PATH, composed, now, "application/json"), "Composition")
        )
        proofs.append(
            (
                out.add_bytes(
                    COMPOSITION_RECORD_PATH, composed_record, now, "application/octet-stream"
                ),
                "RFC4998 EvidenceRecord",
            )
        )
    rep_mets = out.add_bytes(
        f"{REP_DIR}/METS.xml",
        _rep_mets(dossier, objid, kind, now, documents, data, ead_docs, trails, rep_premis),
        now,
        xml,
    )
    ead = out.add_bytes(
        "metadata/descriptive/EAD.xml", _dossier_ead(dossier, documents, kind), now, xml
    )
    listed = list(out.files.values())
    out.add_bytes(
        "METS.xml",
        _root_mets(dossier, objid, kind, now, ead, premis, proofs, rep_mets),
        now,
        xml,
    )
    return listed
