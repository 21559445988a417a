"""Writing edXML: packages and status messages exactly as ``standards/edxml.md`` §6.1 says to
emit them.

- the tree and element order of §1.1–1.4: ``edXML`` (default namespace) holding
  ``edXML:edXMLEnvelope`` (header, body with the manifest) and, outside it,
  ``AttachmentEncoded`` with one ``Attachment`` per file and its ``edXML:ContentTransferEncoded``;
- ``Bussiness*`` spelled so; dates ``yyyy/MM/dd``, timestamps ``yyyy/MM/dd HH:mm:ss`` in
  Vietnam time;
- ``DocumentId`` = ``{From.OrganId},{yyyy/MM/dd},{CodeNumber}/{CodeNotation}``;
- each attachment as a manifest ``Reference`` (``ContentId`` = ``cid:…``) plus its base64
  payload (the file, or a ZIP of it when :attr:`Attachment.zipped`).

The output is unsigned; :func:`exchange.edxml.package.sign_package` adds the enveloped XMLDSig
signature as the last child of ``edXMLHeader``. What §6.1 requires on emit beyond the model's
invariants is checked here (:func:`check_emittable`), with the element path.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime

from lxml import etree

from exchange.edxml.errors import EdxmlBadValue, EdxmlMissing, within
from exchange.edxml.model import (
    EDXML_NS,
    LIENTHONG_NS,
    VIETNAM,
    Attachment,
    Bussiness,
    BussinessDocType,
    Edoc,
    Message,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusMessage,
    TraceHeader,
    TraceHeaderList,
    document_id_for,
)

_ED = f"{{{EDXML_NS}}}"
_LT = f"{{{LIENTHONG_NS}}}"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""ZIP entries carry this time: the same file gives the same payload (ZIP's epoch)."""
DATE_FORMAT = "%Y/%m/%d"
TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"


def format_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def format_timestamp(value: datetime) -> str:
    return value.astimezone(VIETNAM).strftime(TIMESTAMP_FORMAT)


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()


def check_emittable(edoc: Edoc, *, today: date | None = None) -> None:
    """What §6.1 requires of a package we emit (the model allows less, as real producers
    send less). ``today``: the date in Vietnam (default: now) the promulgation date may not
    be after."""
    today = today or today_in_vietnam()
    with within("MessageHeader"):
        _need("From.OrganName", edoc.from_.organ_name, "the sender's name", "tên cơ quan gửi")
        _need("Code.CodeNumber", edoc.code.number, "the document number", "số văn bản")
        _need("Code.CodeNotation", edoc.code.notation, "the notation", "ký hiệu văn bản")
        issued = edoc.promulgation.date
        if issued is None:
            raise EdxmlMissing(
                "PromulgationInfo.PromulgationDate",
                "the promulgation date is missing",
                "thiếu ngày ban hành",
            )
        if issued > today:
            raise EdxmlBadValue(
                "PromulgationInfo.PromulgationDate",
                f"the promulgation date {format_date(issued)} is in the future",
                f"ngày ban hành {format_date(issued)} ở trong tương lai",
            )
        if edoc.document_type.type not in (1, 2):
            raise EdxmlBadValue(
                "DocumentType.Type",
                f"{edoc.document_type.type} is not 1 or 2",
                f"{edoc.document_type.type} không phải 1 hoặc 2",
            )
        _need("DocumentType.TypeName", edoc.document_type.type_name, "the type name", "tên loại")
        _need("SignerInfo.FullName", edoc.signer.full_name, "the signer's name", "họ tên người ký")
        _need("SignerInfo.Position", edoc.signer.position, "the signer's position", "chức vụ")
        expected = document_id_for(edoc.from_.organ_id, issued, edoc.code)
        if edoc.document_id != expected:
            raise EdxmlBadValue(
                "DocumentId",
                f"{edoc.document_id!r} is not the identifier of this document ({expected!r})",
                f"{edoc.document_id!r} không phải mã của văn bản này ({expected!r})",
            )
    bussiness = edoc.trace.bussiness
    if bussiness is None or bussiness.staff_info is None:
        raise EdxmlMissing(
            "TraceHeaderList.Bussiness.StaffInfo",
            "the clerk who sends the package (StaffInfo) is missing",
            "thiếu thông tin văn thư gửi gói tin (StaffInfo)",
        )


def _need(path: str, value: str, what_en: str, what_vi: str) -> None:
    if not value.strip():
        raise EdxmlMissing(path, f"{what_en} is missing", f"thiếu {what_vi}")


def build_edoc(edoc: Edoc, *, now: datetime | None = None) -> bytes:
    """The unsigned edXML package of ``edoc`` (UTF-8, with an XML declaration).

    ``now`` (timezone-aware, default: the current time) is the time of the trace header added
    for the sender when ``edoc.trace`` has none, and decides "not in the future"."""
    now = now or datetime.now(VIETNAM)
    check_emittable(edoc, today=now.astimezone(VIETNAM).date())
    root, header, envelope = _skeleton()
    _message_header(header, edoc)
    trace = edoc.trace
    if not trace.headers:
        trace = TraceHeaderList(
            headers=(TraceHeader(organ_id=edoc.from_.organ_id, timestamp=now),),
            bussiness=trace.bussiness,
        )
    _trace_header_list(header, trace)
    body = _sub(envelope, "edXMLBody")
    manifest = _sub(body, "edXMLManifest", version="1.0")
    encoded = etree.SubElement(root, f"{_ED}AttachmentEncoded") if edoc.attachments else None
    for attachment in edoc.attachments:
        reference = _sub(manifest, "Reference")
        _text(reference, "ContentId", f"cid:{attachment.content_id}")
        _text(reference, "ContentType", _wire_type(attachment))
        _text(reference, "Description", attachment.description)
        _text(reference, "AttachmentName", attachment.name)
        assert encoded is not None  # noqa: S101 - created above when there are attachments
        _attachment(encoded, attachment)
    return _serialise(root)


def build_status(status: StatusMessage) -> bytes:
    """The unsigned status message (§1.4: same root, envelope and header; no body)."""
    root, header, _ = _skeleton()
    message = _sub(header, "MessageHeader")
    _organ(message, "From", status.from_)
    _response_for(message, status.response_for)
    if status.staff_info is not None:
        _staff(message, status.staff_info)
    _text(message, "StatusCode", status.status_code.value)
    _text(message, "Description", status.description)
    _text(message, "Timestamp", format_timestamp(status.timestamp))
    if status.received_package_sha256 is not None:
        extension = etree.SubElement(
            message, f"{_LT}ReceivedPackage", nsmap={"lt": LIENTHONG_NS}, algorithm="sha256"
        )
        extension.text = status.received_package_sha256
    return _serialise(root)


def build_message(message: Message, *, now: datetime | None = None) -> bytes:
    """:func:`build_edoc` or :func:`build_status`, whichever ``message`` is."""
    if isinstance(message, Edoc):
        return build_edoc(message, now=now)
    return build_status(message)


# -- the tree ------------------------------------------------------------------------------


def _skeleton() -> tuple[etree._Element, etree._Element, etree._Element]:
    # the layout of every sample: default namespace on the root, the edXML: prefix declared
    # on the envelope (lxml keeps each element's prefix from the nearest declaration)
    root = etree.Element(f"{_ED}edXML", nsmap={None: EDXML_NS})  # type: ignore[dict-item]
    envelope = etree.SubElement(root, f"{_ED}edXMLEnvelope", nsmap={"edXML": EDXML_NS})
    header = _sub(envelope, "edXMLHeader")
    return root, header, envelope


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _sub(parent: etree._Element, name: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{_ED}{name}", attributes)


def _text(parent: etree._Element, name: str, value: str) -> etree._Element:
    element = _sub(parent, name)
    element.text = value
    return element


def _texts(parent: etree._Element, pairs: Iterable[tuple[str, str | None]]) -> None:
    for name, value in pairs:
        if value is not None:
            _text(parent, name, value)


def _organ(parent: etree._Element, name: str, organ: Organ) -> None:
    element = _sub(parent, name)
    _texts(
        element,
        [
            ("OrganId", organ.organ_id),
            ("OrganizationInCharge", organ.organization_in_charge),
            ("OrganName", organ.organ_name),
            ("OrganAdd", organ.organ_add),
            ("Email", organ.email),
            ("Telephone", organ.telephone),
            ("Fax", organ.fax),
            ("Website", organ.website),
        ],
    )


def _message_header(header: etree._Element, edoc: Edoc) -> None:
    message = _sub(header, "MessageHeader")
    _organ(message, "From", edoc.from_)
    for organ in edoc.to:
        _organ(message, "To", organ)
    _text(message, "DocumentId", edoc.document_id)
    code = _sub(message, "Code")
    _texts(code, [("CodeNumber", edoc.code.number), ("CodeNotation", edoc.code.notation)])
    promulgation = _sub(message, "PromulgationInfo")
    issued = edoc.promulgation.date
    _texts(
        promulgation,
        [
            ("Place", edoc.promulgation.place),
            ("PromulgationDate", format_date(issued) if issued else None),
        ],
    )
    kind = _sub(message, "DocumentType")
    detail = edoc.document_type.type_detail
    _texts(
        kind,
        [
            ("Type", str(edoc.document_type.type)),
            ("TypeDetail", None if detail is None else str(detail)),
            ("TypeName", edoc.document_type.type_name),
        ],
    )
    _text(message, "Subject", edoc.subject)
    if edoc.content:
        _text(message, "Content", edoc.content)
    signer = _sub(message, "SignerInfo")
    _texts(
        signer,
        [
            ("Competence", edoc.signer.competence),
            ("Position", edoc.signer.position),
            ("FullName", edoc.signer.full_name),
        ],
    )
    if edoc.due_date is not None:
        _text(message, "DueDate", format_date(edoc.due_date))
    if edoc.to_places:
        places = _sub(message, "ToPlaces")
        for place in edoc.to_places:
            _text(places, "Place", place)
    other = edoc.other_info
    info = _sub(message, "OtherInfo")
    _texts(
        info,
        [
            ("Priority", str(other.priority.value)),
            ("SphereOfPromulgation", other.sphere_of_promulgation or None),
            ("TyperNotation", other.typer_notation or None),
            ("PromulgationAmount", _number(other.promulgation_amount)),
            ("PageAmount", _number(other.page_amount)),
            ("Direction", None if other.direction is None else str(other.direction).lower()),
        ],
    )
    if other.appendixes:
        appendixes = _sub(info, "Appendixes")
        for appendix in other.appendixes:
            _text(appendixes, "Appendix", appendix)
    for answered in edoc.response_for:
        _response_for(message, answered)
    _text(message, "SteeringType", str(edoc.steering_type.value))


def _number(value: int | None) -> str | None:
    return None if value is None else str(value)


def _response_for(parent: etree._Element, answered: ResponseFor) -> None:
    element = _sub(parent, "ResponseFor")
    issued = answered.promulgation_date
    _texts(
        element,
        [
            ("OrganId", answered.organ_id),
            ("Code", answered.code),
            ("PromulgationDate", format_date(issued) if issued else None),
            ("DocumentId", answered.document_id),
        ],
    )


def _staff(parent: etree._Element, staff: StaffInfo) -> None:
    element = _sub(parent, "StaffInfo")
    _texts(
        element,
        [
            ("Department", staff.department),
            ("Staff", staff.staff),
            ("Mobile", staff.mobile),
            ("Email", staff.email),
        ],
    )


def _trace_header_list(header: etree._Element, trace: TraceHeaderList) -> None:
    element = _sub(header, "TraceHeaderList")
    for hop in trace.headers:
        item = _sub(element, "TraceHeader")
        _texts(item, [("OrganId", hop.organ_id), ("Timestamp", format_timestamp(hop.timestamp))])
    if trace.bussiness is not None:
        _bussiness(element, trace.bussiness)


def _bussiness(parent: etree._Element, bussiness: Bussiness) -> None:
    element = _sub(parent, "Bussiness")
    _texts(
        element,
        [
            ("DocumentId", bussiness.document_id),
            ("BussinessDocType", str(bussiness.doc_type.value)),
            ("BussinessDocReason", bussiness.reason),
            ("Paper", "1" if bussiness.paper else "0"),
        ],
    )
    if bussiness.staff_info is not None:
        _staff(element, bussiness.staff_info)
    if bussiness.update is not None and bussiness.doc_type == BussinessDocType.UPDATE:
        info = _sub(element, "BussinessDocumentInfo")
        update = bussiness.update
        _texts(
            info,
            [
                ("DocumentInfo", "1" if update.document_info else "0"),
                ("DocumentReceiver", "1" if update.document_receiver else "0"),
            ],
        )
        if update.receivers:
            receivers = _sub(info, "ReceiverList")
            for receiver in update.receivers:
                item = _sub(receivers, "Receiver")
                _texts(
                    item,
                    [("OrganId", receiver.organ_id), ("ReceiverType", str(receiver.receiver_type))],
                )
    if bussiness.replacements:
        replacements = _sub(element, "ReplacementInfoList")
        for replacement in bussiness.replacements:
            item = _sub(replacements, "ReplacementInfo")
            _text(item, "DocumentId", replacement.document_id)
            organs = _sub(item, "OrganIdList")
            for organ_id in replacement.organ_ids:
                _text(organs, "OrganId", organ_id)


def _wire_type(attachment: Attachment) -> str:
    return "application/zip" if attachment.zipped else attachment.content_type


def _attachment(parent: etree._Element, attachment: Attachment) -> None:
    element = _sub(parent, "Attachment")
    _texts(
        element,
        [
            ("ContentId", f"cid:{attachment.content_id}"),
            ("AttachmentName", attachment.name),
            ("Description", attachment.description),
            ("ContentType", _wire_type(attachment)),
        ],
    )
    payload = _zip(attachment) if attachment.zipped else attachment.data
    encoded = etree.SubElement(element, f"{_ED}ContentTransferEncoded", nsmap={"edXML": EDXML_NS})
    encoded.text = base64.b64encode(payload).decode("ascii")


def _zip(attachment: Attachment) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(attachment.name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, attachment.data)
    return buffer.getvalue()


__all__ = [
    "DATE_FORMAT",
    "TIMESTAMP_FORMAT",
    "build_edoc",
    "build_message",
    "build_status",
    "check_emittable",
    "format_date",
    "format_timestamp",
]
