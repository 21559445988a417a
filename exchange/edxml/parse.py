"""Reading edXML as real producers send it, into the typed objects of
:mod:`exchange.edxml.model` (``standards/edxml.md`` §6.1, "accept on input").

Accepted: ``Business*`` and ``Bussiness*``; dates ``yyyy/MM/dd`` and ``dd/MM/yyyy``; the
signature as ``Signature`` (any namespace) or ``DigitalSignature``; manifest references with
child elements or ``xlink:href``; ``cid:`` with or without its prefix; payloads zipped (when
the content type is ``application/zip``) or raw; children in any order; identifiers as opaque
strings (a ``DocumentId`` may embed ``2014/02/30``); the legacy status wrapped in
``SOAP-ENV:Envelope/Header/edXML:Status``.

Refused, as coded errors with the element path (:mod:`exchange.edxml.errors`): a missing
required element (``N.``), a value too long or out of range (``R.``), a value no code list has
or a contradiction — a singleton element given twice, an attachment nobody references
(``M.``), a value of the wrong form (``T.``); attachments whose name could escape a
directory, ZIP bombs, encrypted ZIP members, anything over :class:`Limits`.

The file is read once, incrementally (lxml ``iterparse``, no DTD, no entities, no network):
each attachment is decoded when its element ends and its base64 text dropped from the tree,
so memory holds the header, one payload's text and the decoded files, all bounded. A single
text node over 10 MB (libxml2's limit without ``huge_tree``) is refused: a raw payload is
therefore at most about 7.5 MB, a zipped one decompresses to at most
:attr:`Limits.max_attachment_bytes`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import lzma
import mimetypes
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Literal

from lxml import etree

from exchange.edxml.errors import (
    AttachmentTooLarge,
    AttachmentUnsafe,
    EdxmlBadFormat,
    EdxmlBadValue,
    EdxmlMissing,
    EdxmlTooDeep,
    EdxmlUnreadable,
    within,
)
from exchange.edxml.model import (
    EDXML_NS,
    LIENTHONG_NS,
    VIETNAM,
    Attachment,
    Bussiness,
    Code,
    DocumentType,
    DocumentUpdate,
    Edoc,
    Message,
    Organ,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    Replacement,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
    TraceHeaderList,
    bussiness_doc_type_of,
    check_file_name,
    priority_of,
    status_code_of,
    steering_of,
)
from validation import os_reason

XLINK_NS = "http://www.w3.org/1999/xlink"
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what a package may hold; over them the package is refused."""

    max_package_bytes: int = 64 * 1024 * 1024
    """The whole file (the validation room reads at most as much to check the signature)."""
    max_attachments: int = 100
    max_attachment_bytes: int = 32 * 1024 * 1024
    """One file, after base64 decoding and unzipping."""
    max_total_bytes: int = 128 * 1024 * 1024
    """All files together, decoded."""
    max_zip_ratio: int = 100
    """A ZIP payload may decompress to at most this many times its own size (deflate reaches
    about 1000:1 on a bomb, ordinary documents stay under 20:1)."""
    max_zip_members: int = 100
    max_elements: int = 100_000
    """Elements in the whole file: a real package has a few hundred; millions of tiny ones
    would cost gigabytes of tree."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureElement:
    """Where the package's signature element sits and what it is (not whether it is valid:
    that is :func:`exchange.edxml.package.verify_package`)."""

    local_name: Literal["Signature", "DigitalSignature"]
    namespace: str | None
    empty: bool
    """``<DigitalSignature/>`` as the Lạng Sơn builder writes it: no signature at all."""

    @property
    def is_xmldsig(self) -> bool:
        return self.namespace == "http://www.w3.org/2000/09/xmldsig#" and not self.empty


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedPackage:
    """A package or status message as read."""

    message: Message
    signature: SignatureElement | None
    """The signature element in ``edXMLHeader`` (found by local name), if any."""
    sha256: str
    """SHA-256 of the bytes read (hex): what a status message's extension refers to."""
    size: int
    legacy_soap: bool = False
    """The status came in the legacy ``SOAP-ENV:Envelope`` wrapper."""


def parse_package(
    source: bytes | Path | IO[bytes], *, limits: Limits | None = None
) -> ParsedPackage:
    """Read an edXML package or status message from bytes, a file path or a binary stream.

    Raises :class:`~exchange.edxml.errors.EdxmlError` (a subclass saying which rule, with the
    element path) for anything it refuses; never another exception for bad input."""
    limits = limits or Limits()
    if isinstance(source, bytes):
        return _parse(BytesIO(source), limits)
    if isinstance(source, Path):
        try:
            handle = source.open("rb")
        except OSError as exc:
            en, vi = os_reason(exc)
            raise EdxmlUnreadable(
                "", f"cannot read {source}: {en}", f"không đọc được {source}: {vi}"
            ) from exc
        with handle:
            return _parse(handle, limits)
    return _parse(source, limits)


# -- reading -------------------------------------------------------------------------------


class _Counted:
    """A binary stream that hashes and counts what is read, and stops past the limit."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._stream.read(n if n >= 0 else _CHUNK)
        except OSError as exc:
            en, vi = os_reason(exc)
            raise EdxmlUnreadable(
                "", f"the file cannot be read: {en}", f"không đọc được tệp: {vi}"
            ) from exc
        self.size += len(data)
        if self.size > self._limit:
            raise AttachmentTooLarge(
                "",
                f"the package is larger than {_mib(self._limit)}: refused",
                f"gói tin lớn hơn {_mib(self._limit)}: bị từ chối",
            )
        self.digest.update(data)
        return data


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


def _parse(stream: IO[bytes], limits: Limits) -> ParsedPackage:
    counted = _Counted(stream, limits.max_package_bytes)
    payloads = _Payloads(limits)
    root: etree._Element | None = None
    try:
        events = etree.iterparse(
            counted,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        elements = 0
        for event, element in events:
            if event == "start":
                elements += 1
                if elements > limits.max_elements:
                    raise AttachmentTooLarge(
                        "",
                        f"the file has more than {limits.max_elements} elements: refused",
                        f"tệp có hơn {limits.max_elements} phần tử: bị từ chối",
                    )
                if root is None:
                    root = element
                    if element.getroottree().docinfo.doctype:
                        raise _unsafe_dtd()
            elif _local(element) == "Attachment" and _in_attachments(element, root):
                payloads.take(element)
    except etree.XMLSyntaxError as exc:
        text = str(exc)
        line, column = exc.position if exc.position else (0, 0)
        # libxml2 says both of these with XML_ERR_RESOURCE_LIMIT ("use XML_PARSE_HUGE"):
        # only its words tell a too deep file from a too long text node
        if "Excessive depth" in text:
            raise EdxmlTooDeep(
                "",
                "the elements are nested too deeply (more than 256 levels): refused",
                "các phần tử lồng nhau quá sâu (hơn 256 cấp): bị từ chối",
            ) from exc
        if "huge" in text.lower() or "Resource limit" in text:
            raise AttachmentTooLarge(
                "AttachmentEncoded",
                "a text node exceeds 10 MB (the reader's safety limit)",
                "một nút văn bản vượt quá 10 MB (giới hạn an toàn của bộ đọc)",
            ) from exc
        raise EdxmlUnreadable(
            "",
            f"the file is not well-formed XML: {text}",
            # libxml2 speaks English: the Vietnamese line says where, not its words
            f"tệp không phải XML hợp lệ (lỗi ở dòng {line}, cột {column})",
        ) from exc
    if root is None:  # pragma: no cover - iterparse raises on an empty document
        raise EdxmlUnreadable("", "the file is empty", "tệp rỗng")
    if next(root.iter(etree.Entity), None) is not None:
        raise _unsafe_dtd()
    message, signature, legacy = _message(root, payloads)
    return ParsedPackage(
        message=message,
        signature=signature,
        sha256=counted.digest.hexdigest(),
        size=counted.size,
        legacy_soap=legacy,
    )


def _unsafe_dtd() -> EdxmlUnreadable:
    return EdxmlUnreadable(
        "",
        "the file declares a DTD (<!DOCTYPE …>): refused (entities can hide content or read files)",
        "tệp khai báo DTD (<!DOCTYPE …>): bị từ chối (thực thể có thể che giấu nội dung "
        "hoặc đọc tệp)",
    )


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _namespace(element: etree._Element) -> str | None:
    """The element's namespace; ``None`` without one (also for a name whose prefix was never
    declared, which libxml2 keeps as ``prefix:name``: it then matches nothing we look for)."""
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    return tag[1:].split("}", 1)[0]


def _ours(element: etree._Element) -> bool:
    """An element of edXML: in its namespace, or in none (some producers reset it)."""
    return _namespace(element) in (EDXML_NS, None)


def _in_attachments(element: etree._Element, root: etree._Element | None) -> bool:
    """``edXML/AttachmentEncoded/Attachment`` and nowhere else: a copy hidden deeper (in the
    signature, whose own content it does not sign) is not an attachment."""
    parent = element.getparent()
    return (
        parent is not None
        and _local(parent) == "AttachmentEncoded"
        and _ours(parent)
        and _ours(element)
        and parent.getparent() is root
    )


# -- the tree, with paths ------------------------------------------------------------------


class _Node:
    """An element and its path for error messages (``MessageHeader.To[2]``)."""

    def __init__(self, element: etree._Element, path: str) -> None:
        self.element = element
        self.path = path

    def sub(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _matching(self, names: tuple[str, ...]) -> list[etree._Element]:
        return [c for c in self.element if _local(c) in names and _ours(c)]

    def child(self, *names: str) -> _Node | None:
        """The one child called ``names[0]`` (or an accepted spelling); a second is refused:
        two readers must not see two different values."""
        found = self._matching(names)
        if len(found) > 1:
            raise EdxmlBadValue(
                self.sub(names[0]),
                f"{names[0]} appears {len(found)} times, once is allowed",
                f"{names[0]} xuất hiện {len(found)} lần, chỉ được một lần",
            )
        return _Node(found[0], self.sub(names[0])) if found else None

    def need(self, *names: str) -> _Node:
        node = self.child(*names)
        if node is None:
            raise EdxmlMissing(
                self.sub(names[0]),
                f"the element {names[0]} is missing",
                f"thiếu phần tử {names[0]}",
            )
        return node

    def children(self, *names: str) -> Iterator[_Node]:
        found = self._matching(names)
        for n, element in enumerate(found, start=1):
            yield _Node(element, self.sub(f"{names[0]}[{n}]"))

    def value(self) -> str:
        if len(self.element):
            raise EdxmlBadFormat(
                self.path,
                "holds elements where a value is expected",
                "chứa phần tử con ở chỗ cần một giá trị",
            )
        return (self.element.text or "").strip()

    def text(self, *names: str) -> str:
        """The trimmed text of the child ``names[0]``; ``""`` when it is absent or empty."""
        node = self.child(*names)
        return "" if node is None else node.value()

    def required(self, *names: str) -> str:
        value = self.need(*names).value()
        if not value:
            raise EdxmlMissing(
                self.sub(names[0]), f"{names[0]} is empty", f"{names[0]} không có giá trị"
            )
        return value

    def integer(self, *names: str) -> int | None:
        value = self.text(*names)
        if not value:
            return None
        if re.fullmatch(r"[+-]?[0-9]{1,9}", value) is None:
            raise EdxmlBadFormat(
                self.sub(names[0]),
                f"{value[:20]!r} is not a number",
                f"{value[:20]!r} không phải số",
            )
        return int(value)

    def date(self, *names: str) -> date | None:
        value = self.text(*names)
        return parse_date(self.sub(names[0]), value) if value else None

    def flag(self, *names: str) -> bool | None:
        value = self.text(*names).lower()
        if not value:
            return None
        if value in ("1", "true"):
            return True
        if value in ("0", "false"):
            return False
        raise EdxmlBadFormat(
            self.sub(names[0]),
            f"{value[:20]!r} is not 0/1 or true/false",
            f"{value[:20]!r} không phải 0/1 hoặc true/false",
        )


_DATE_FORMATS = ("%Y/%m/%d", "%d/%m/%Y")
_TIMESTAMP_FORMATS = ("%Y/%m/%d %H:%M:%S", "%d/%m/%Y %H:%M:%S")


def parse_date(path: str, value: str) -> date:
    """``yyyy/MM/dd`` (what we emit) or ``dd/MM/yyyy`` (a real sample)."""
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(value, form).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise EdxmlBadFormat(
        path,
        f"{value[:30]!r} is not a date (yyyy/MM/dd or dd/MM/yyyy)",
        f"{value[:30]!r} không phải ngày (yyyy/MM/dd hoặc dd/MM/yyyy)",
    )


def parse_timestamp(path: str, value: str) -> datetime:
    """``yyyy/MM/dd HH:mm:ss`` in Vietnam time (also ``dd/MM/yyyy HH:mm:ss``, and ISO 8601
    with an offset)."""
    for form in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, form).replace(tzinfo=VIETNAM)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)
    raise EdxmlBadFormat(
        path,
        f"{value[:30]!r} is not a time (yyyy/MM/dd HH:mm:ss)",
        f"{value[:30]!r} không phải thời điểm (yyyy/MM/dd HH:mm:ss)",
    )


# -- the message ---------------------------------------------------------------------------


def _message(
    root: etree._Element, payloads: _Payloads
) -> tuple[Message, SignatureElement | None, bool]:
    if _local(root) == "Envelope" and _namespace(root) != EDXML_NS:
        return _legacy_status(root), None, True
    if _local(root) != "edXML" or _namespace(root) != EDXML_NS:
        raise EdxmlUnreadable(
            "",
            f"not an edXML package: the root element is {root.tag!s}",
            f"không phải gói tin edXML: phần tử gốc là {root.tag!s}",
        )
    top = _Node(root, "")
    envelope = top.need("edXMLEnvelope")
    header = envelope.need("edXMLHeader")
    message_header = _Node(header.need("MessageHeader").element, "MessageHeader")
    signature = _signature(header.element)
    if message_header.child("StatusCode") is not None:
        return _status(message_header), signature, False
    trace_node = header.child("TraceHeaderList")
    trace = TraceHeaderList()
    if trace_node is not None:
        trace = _trace(_Node(trace_node.element, "TraceHeaderList"))
    body = envelope.child("edXMLBody")
    manifest = None if body is None else body.child("edXMLManifest")
    references = (
        []
        if manifest is None
        else list(_Node(manifest.element, "edXMLManifest").children("Reference"))
    )
    attachments = payloads.match(references)
    return _edoc(message_header, trace, attachments), signature, False


def _signature(header: etree._Element) -> SignatureElement | None:
    found = [c for c in header if _local(c) in ("Signature", "DigitalSignature")]
    if len(found) > 1:
        raise EdxmlBadValue(
            "edXMLHeader.Signature",
            f"the header holds {len(found)} signature elements, one is allowed",
            f"phần đầu có {len(found)} phần tử chữ ký, chỉ được một",
        )
    if not found:
        return None
    element = found[0]
    name: Literal["Signature", "DigitalSignature"] = (
        "Signature" if _local(element) == "Signature" else "DigitalSignature"
    )
    empty = len(element) == 0 and not (element.text or "").strip()
    return SignatureElement(local_name=name, namespace=_namespace(element), empty=empty)


def _organ(node: _Node) -> Organ:
    values = {
        "organ_id": node.required("OrganId"),
        "organ_name": node.text("OrganName"),
        "organization_in_charge": node.text("OrganizationInCharge"),
        "organ_add": node.text("OrganAdd"),
        "email": node.text("Email"),
        "telephone": node.text("Telephone"),
        "fax": node.text("Fax"),
        "website": node.text("Website"),
    }
    with within(node.path):
        return Organ(**values)


def _blank(node: _Node) -> bool:
    """An element with no text anywhere below it (``<ResponseFor/>``, a placeholder some
    producers write for "answers nothing")."""
    return not any(isinstance(t, str) and t.strip() for t in node.element.itertext())


def _response_for(node: _Node) -> ResponseFor:
    values: dict[str, Any] = {
        "organ_id": node.required("OrganId"),
        "document_id": node.required("DocumentId"),
        "code": node.text("Code"),
        "promulgation_date": node.date("PromulgationDate"),
    }
    with within(node.path):
        return ResponseFor(**values)


def _staff(node: _Node | None) -> StaffInfo | None:
    if node is None:
        return None
    values = {
        "department": node.text("Department"),
        "staff": node.text("Staff"),
        "mobile": node.text("Mobile"),
        "email": node.text("Email"),
    }
    with within(node.path):
        return StaffInfo(**values)


def _edoc(header: _Node, trace: TraceHeaderList, attachments: tuple[Attachment, ...]) -> Edoc:
    recipients = tuple(_organ(n) for n in header.children("To"))
    if not recipients:
        raise EdxmlMissing(header.sub("To"), "no recipient (To)", "không có cơ quan nhận (To)")
    code_node = header.need("Code")
    with within(code_node.path):
        code = Code(number=code_node.text("CodeNumber"), notation=code_node.text("CodeNotation"))
    promulgation_node = header.need("PromulgationInfo")
    with within(promulgation_node.path):
        promulgation = PromulgationInfo(
            place=promulgation_node.text("Place"),
            date=promulgation_node.date("PromulgationDate"),
        )
    type_node = header.need("DocumentType")
    kind = type_node.integer("Type")
    if kind is None:
        raise EdxmlMissing(
            type_node.sub("Type"), "the document type is missing", "thiếu loại văn bản"
        )
    with within(type_node.path):
        document_type = DocumentType(
            type=kind,
            type_name=type_node.text("TypeName"),
            type_detail=type_node.integer("TypeDetail"),
        )
    signer_node = header.child("SignerInfo")
    signer = SignerInfo()
    if signer_node is not None:
        with within(signer_node.path):
            signer = SignerInfo(
                full_name=signer_node.text("FullName"),
                position=signer_node.text("Position"),
                competence=signer_node.text("Competence"),
            )
    other = OtherInfo()
    other_node = header.child("OtherInfo")
    if other_node is not None:
        other = _other_info(other_node)
    places_node = header.child("ToPlaces")
    places = () if places_node is None else tuple(p.value() for p in places_node.children("Place"))
    steering = header.integer("SteeringType")
    values: dict[str, Any] = {
        "from_": _organ(header.need("From")),
        "to": recipients,
        "document_id": header.required("DocumentId"),
        "code": code,
        "subject": header.required("Subject"),
        "promulgation": promulgation,
        "document_type": document_type,
        "content": header.text("Content"),
        "signer": signer,
        "due_date": header.date("DueDate"),
        "to_places": tuple(p for p in places if p),
        "other_info": other,
        "response_for": tuple(
            _response_for(n) for n in header.children("ResponseFor") if not _blank(n)
        ),
        "steering_type": steering_of(header.sub("SteeringType"), steering or 0),
        "trace": trace,
        "attachments": attachments,
    }
    with within(header.path):
        return Edoc(**values)


def _other_info(node: _Node) -> OtherInfo:
    priority = node.integer("Priority")
    appendixes_node = node.child("Appendixes")
    appendixes: tuple[str, ...] = ()
    if appendixes_node is not None:
        appendixes = tuple(
            value for value in (a.value() for a in appendixes_node.children("Appendix")) if value
        )
    values: dict[str, Any] = {
        "priority": priority_of(node.sub("Priority"), 0 if priority is None else priority),
        "sphere_of_promulgation": node.text("SphereOfPromulgation"),
        "typer_notation": node.text("TyperNotation"),
        "promulgation_amount": node.integer("PromulgationAmount"),
        "page_amount": node.integer("PageAmount"),
        "direction": node.flag("Direction"),
        "appendixes": appendixes,
    }
    with within(node.path):
        return OtherInfo(**values)


def _trace(node: _Node) -> TraceHeaderList:
    headers = []
    for hop in node.children("TraceHeader"):
        organ_id = hop.required("OrganId")
        stamp = parse_timestamp(hop.sub("Timestamp"), hop.required("Timestamp"))
        with within(hop.path):
            headers.append(TraceHeader(organ_id=organ_id, timestamp=stamp))
    bussiness_node = node.child("Bussiness", "Business")
    bussiness = None if bussiness_node is None else _bussiness(bussiness_node)
    return TraceHeaderList(headers=tuple(headers), bussiness=bussiness)


def _bussiness(node: _Node) -> Bussiness:
    doc_type = node.integer("BussinessDocType", "BusinessDocType")
    kind = bussiness_doc_type_of(node.sub("BussinessDocType"), 0 if doc_type is None else doc_type)
    update = None
    update_node = node.child("BussinessDocumentInfo", "BusinessDocumentInfo")
    if update_node is not None:
        receivers = []
        receiver_list = update_node.child("ReceiverList")
        for item in [] if receiver_list is None else receiver_list.children("Receiver"):
            organ_id = item.required("OrganId")
            receiver_type = item.integer("ReceiverType")
            with within(item.path):
                receivers.append(Receiver(organ_id=organ_id, receiver_type=receiver_type or 0))
        with within(update_node.path):
            update = DocumentUpdate(
                document_info=bool(update_node.flag("DocumentInfo")),
                document_receiver=bool(update_node.flag("DocumentReceiver")),
                receivers=tuple(receivers),
            )
    replacements = []
    replacement_list = node.child("ReplacementInfoList")
    for item in [] if replacement_list is None else replacement_list.children("ReplacementInfo"):
        organs_node = item.child("OrganIdList")
        organs = (
            () if organs_node is None else tuple(o.value() for o in organs_node.children("OrganId"))
        )
        document_id = item.required("DocumentId")
        with within(item.path):
            replacements.append(Replacement(document_id=document_id, organ_ids=organs))
    values: dict[str, Any] = {
        "doc_type": kind,
        "document_id": node.text("DocumentId"),
        "reason": node.text("BussinessDocReason", "BusinessDocReason"),
        "paper": bool(node.flag("Paper")),
        "staff_info": _staff(node.child("StaffInfo")),
        "update": update,
        "replacements": tuple(replacements),
    }
    with within(node.path):
        return Bussiness(**values)


def _status(header: _Node) -> StatusMessage:
    code = header.required("StatusCode")
    extension = [
        c
        for c in header.element
        if _local(c) == "ReceivedPackage" and _namespace(c) == LIENTHONG_NS
    ]
    if len(extension) > 1:
        raise EdxmlBadValue(
            header.sub("ReceivedPackage"),
            "ReceivedPackage appears twice, once is allowed",
            "ReceivedPackage xuất hiện hai lần, chỉ được một lần",
        )
    received = None
    if extension:
        received = (extension[0].text or "").strip().lower()
    values: dict[str, Any] = {
        "from_": _organ(header.need("From")),
        "response_for": _response_for(header.need("ResponseFor")),
        "status_code": status_code_of(header.sub("StatusCode"), code.zfill(2)),
        "timestamp": parse_timestamp(header.sub("Timestamp"), header.required("Timestamp")),
        "description": header.text("Description"),
        "staff_info": _staff(header.child("StaffInfo")),
        "received_package_sha256": received,
    }
    with within(header.path):
        return StatusMessage(**values)


def _legacy_status(root: etree._Element) -> StatusMessage:
    """``SOAP-ENV:Envelope/Header/edXML:Status``: an older provincial axis's status."""
    soap_header = next((c for c in root if _local(c) == "Header"), None)
    status = None
    if soap_header is not None:
        status = next(
            (c for c in soap_header if _local(c) == "Status" and _namespace(c) == EDXML_NS), None
        )
    if status is None:
        raise EdxmlUnreadable(
            "",
            "a SOAP envelope without an edXML Status in its Header: not an edXML message",
            "phong bì SOAP không có Status edXML trong Header: không phải thông điệp edXML",
        )
    return _status(_Node(status, "Status"))


# -- attachments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Payload:
    content_id: str
    name: str
    description: str
    content_type: str
    data: bytes
    zipped: bool
    path: str


def _cid(value: str) -> str:
    value = value.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip().strip("<>")


class _Payloads:
    """The decoded ``AttachmentEncoded/Attachment`` payloads, bounded as they arrive."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.items: list[_Payload] = []
        self.total = 0

    def take(self, element: etree._Element) -> None:
        n = len(self.items) + 1
        node = _Node(element, f"AttachmentEncoded.Attachment[{n}]")
        if n > self.limits.max_attachments:
            raise AttachmentTooLarge(
                node.path,
                f"more than {self.limits.max_attachments} attachments",
                f"nhiều hơn {self.limits.max_attachments} tệp đính kèm",
            )
        content_id = _cid(node.required("ContentId"))
        encoded_node = node.need("ContentTransferEncoded")
        encoded = encoded_node.value()
        # the base64 text is the bulk of the package: drop it from the tree now
        encoded_node.element.text = None
        try:
            payload = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise EdxmlBadFormat(
                encoded_node.path,
                "the payload is not valid base64",
                "dữ liệu không phải base64 hợp lệ",
            ) from None
        content_type = node.text("ContentType").lower()
        name = node.text("AttachmentName")
        data, zipped = payload, False
        if content_type.split(";")[0].strip() in _ZIP_TYPES:
            data, zipped = _unzip(encoded_node.path, payload, self.limits)
        if len(data) > self.limits.max_attachment_bytes:
            raise AttachmentTooLarge(
                node.path,
                f"an attachment is larger than {_mib(self.limits.max_attachment_bytes)}",
                f"tệp đính kèm lớn hơn {_mib(self.limits.max_attachment_bytes)}",
            )
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            raise AttachmentTooLarge(
                node.path,
                f"the attachments together exceed {_mib(self.limits.max_total_bytes)}",
                f"tổng dung lượng tệp đính kèm vượt quá {_mib(self.limits.max_total_bytes)}",
            )
        if name:
            check_file_name(node.sub("AttachmentName"), name)
        self.items.append(
            _Payload(
                content_id=content_id,
                name=name,
                description=node.text("Description"),
                content_type=content_type,
                data=data,
                zipped=zipped,
                path=node.path,
            )
        )

    def match(self, references: list[_Node]) -> tuple[Attachment, ...]:
        """Pair each manifest reference with its payload; a payload no reference names, or a
        reference without a payload, is refused."""
        by_id: dict[str, _Payload] = {}
        for item in self.items:
            if item.content_id in by_id:
                raise EdxmlBadValue(
                    f"{item.path}.ContentId",
                    f"two payloads have the content identifier {item.content_id!r}",
                    f"hai dữ liệu đính kèm cùng mã nội dung {item.content_id!r}",
                )
            by_id[item.content_id] = item
        attachments = []
        used: set[str] = set()
        for reference in references:
            href = reference.element.get(f"{{{XLINK_NS}}}href")
            raw_id = reference.text("ContentId") or (href or "")
            if not raw_id:
                raise EdxmlMissing(
                    reference.sub("ContentId"),
                    "the reference names no content (ContentId or xlink:href)",
                    "tham chiếu không chỉ tới nội dung nào (ContentId hoặc xlink:href)",
                )
            content_id = _cid(raw_id)
            found = by_id.get(content_id)
            if found is None:
                raise EdxmlMissing(
                    f"AttachmentEncoded.Attachment[ContentId={content_id}]",
                    f"the attachment {content_id!r} the manifest lists has no payload",
                    f"tệp đính kèm {content_id!r} có trong danh mục nhưng không có dữ liệu",
                )
            if content_id in used:
                raise EdxmlBadValue(
                    reference.sub("ContentId"),
                    f"the manifest lists {content_id!r} twice",
                    f"danh mục liệt kê {content_id!r} hai lần",
                )
            used.add(content_id)
            attachments.append(self._attachment(reference, found))
        for item in self.items:
            if item.content_id not in used:
                raise EdxmlBadValue(
                    f"{item.path}.ContentId",
                    f"the payload {item.content_id!r} is not listed in the manifest",
                    f"dữ liệu đính kèm {item.content_id!r} không có trong danh mục",
                )
        return tuple(attachments)

    @staticmethod
    def _attachment(reference: _Node, item: _Payload) -> Attachment:
        listed_name = reference.text("AttachmentName")
        if listed_name and item.name and listed_name != item.name:
            raise EdxmlBadValue(
                reference.sub("AttachmentName"),
                f"the manifest names the file {listed_name!r}, its payload {item.name!r}",
                f"danh mục ghi tên tệp {listed_name!r}, dữ liệu ghi {item.name!r}",
            )
        name = listed_name or item.name
        if not name:
            raise EdxmlMissing(
                reference.sub("AttachmentName"), "the file name is missing", "thiếu tên tệp"
            )
        declared = (reference.text("ContentType").lower() or item.content_type) or (
            "application/octet-stream"
        )
        content_type = declared
        if item.zipped:
            content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        with within(reference.path):
            return Attachment(
                content_id=item.content_id,
                name=name,
                data=item.data,
                content_type=content_type,
                description=reference.text("Description") or item.description,
                zipped=item.zipped,
            )


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a version or compression method zipfile does not have
    EOFError,
    OSError,  # bz2
    ValueError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
)
"""What :mod:`zipfile` and its decompressors raise for a damaged or exotic archive."""


def _unzip(path: str, payload: bytes, limits: Limits) -> tuple[bytes, bool]:
    """The file a ZIP payload wraps (one member), or the ZIP itself (several members, as a
    real ZIP attachment is); either way every member is checked: a safe name, not encrypted,
    and decompressed (counted, not trusted from the header) within the size and ratio
    limits."""
    try:
        archive = zipfile.ZipFile(BytesIO(payload))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except _ZIP_ERRORS as exc:
        raise EdxmlBadFormat(
            path,
            f"the payload is not a readable ZIP: {exc}",
            "dữ liệu không phải tệp ZIP đọc được (hỏng hoặc dùng định dạng không hỗ trợ)",
        ) from None
    with archive:
        if not members:
            raise EdxmlBadValue(path, "the ZIP payload is empty", "dữ liệu ZIP rỗng")
        if len(members) > limits.max_zip_members:
            raise AttachmentTooLarge(
                path,
                f"the ZIP holds more than {limits.max_zip_members} files",
                f"tệp ZIP chứa hơn {limits.max_zip_members} tệp",
            )
        # the ratio is judged against the whole payload: a bomb cannot hide behind padding
        # without paying for it in package size
        ratio_budget = limits.max_zip_ratio * max(len(payload), 1024)
        total = 0
        single: bytes | None = None
        for member in members:
            _check_member_name(path, member.filename)
            if member.flag_bits & 0x1:
                raise AttachmentUnsafe(
                    path,
                    f"the ZIP member {member.filename!r} is encrypted",
                    f"tệp {member.filename!r} trong ZIP bị mã hóa",
                )
            keep = len(members) == 1
            chunks: list[bytes] = []
            try:
                with archive.open(member) as handle:
                    while chunk := handle.read(_CHUNK):
                        total += len(chunk)
                        _check_inflated(path, total, ratio_budget, limits)
                        if keep:
                            chunks.append(chunk)
            except _ZIP_ERRORS as exc:
                raise EdxmlBadFormat(
                    path,
                    f"the ZIP member {member.filename!r} cannot be read: {exc}",
                    f"không đọc được tệp {member.filename!r} trong ZIP (hỏng hoặc dùng "
                    "phương pháp nén không hỗ trợ)",
                ) from None
            if keep:
                single = b"".join(chunks)
    if single is not None:
        return single, True
    return payload, False


def _check_inflated(path: str, total: int, ratio_budget: int, limits: Limits) -> None:
    if total > ratio_budget:
        raise AttachmentUnsafe(
            path,
            f"the ZIP decompresses to more than {limits.max_zip_ratio} times its size "
            "(a decompression bomb): refused",
            f"tệp ZIP giải nén ra lớn hơn {limits.max_zip_ratio} lần kích thước của nó "
            "(bom giải nén): bị từ chối",
        )
    if total > limits.max_attachment_bytes:
        raise AttachmentTooLarge(
            path,
            f"the ZIP decompresses to more than {_mib(limits.max_attachment_bytes)}",
            f"tệp ZIP giải nén ra hơn {_mib(limits.max_attachment_bytes)}",
        )


def _check_member_name(path: str, name: str) -> None:
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("..", ".") for p in parts)
        or re.match(r"[A-Za-z]:", name)
    ):
        raise AttachmentUnsafe(
            path,
            f"the ZIP member name {name[:80]!r} could escape its folder: refused",
            f"tên tệp {name[:80]!r} trong ZIP có thể thoát khỏi thư mục: bị từ chối",
        )


__all__ = [
    "Limits",
    "ParsedPackage",
    "SignatureElement",
    "parse_date",
    "parse_package",
    "parse_timestamp",
]
