"""edXML build and parse: the wire form we emit (§6.1), every variant we accept, every
refusal with its code and element path, and the hostile payloads (ZIP bombs, traversal
names, oversize)."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from exchange.edxml import (
    EDXML_NS,
    VIETNAM,
    Attachment,
    AttachmentTooLarge,
    AttachmentUnsafe,
    Bussiness,
    BussinessDocType,
    Code,
    DocumentType,
    Edoc,
    EdxmlBadFormat,
    EdxmlBadValue,
    EdxmlError,
    EdxmlMissing,
    EdxmlOutOfRange,
    EdxmlTooDeep,
    EdxmlUnreadable,
    Limits,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    SteeringType,
    TraceHeaderList,
    build_edoc,
    build_status,
    document_id_for,
    parse_package,
)
from exchange.errors import ExchangeError
from tests.plugin import require_corpus

ED = f"{{{EDXML_NS}}}"
NOW = datetime(2026, 12, 1, 9, 30, 0, tzinfo=VIETNAM)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def sample_edoc(**changes: object) -> Edoc:
    code = Code(number="125", notation="UBND-VP")
    issued = date(2026, 11, 30)
    edoc = Edoc(
        from_=Organ(
            organ_id="000.00.00.H53",
            organ_name="Ủy ban nhân dân tỉnh Tây Ninh",
            organization_in_charge="Tỉnh Tây Ninh",
            email="ubnd@tayninh.gov.vn",
        ),
        to=(
            Organ(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
            Organ(organ_id="000.00.11.H53", organ_name="Sở Tài chính"),
        ),
        document_id=document_id_for("000.00.00.H53", issued, code),
        code=code,
        subject="Về việc triển khai liên thông văn bản điện tử",
        promulgation=PromulgationInfo(place="Tây Ninh", date=issued),
        document_type=DocumentType(type=2, type_name="Công văn", type_detail=0),
        content="Đề nghị các cơ quan phối hợp thực hiện.",
        signer=SignerInfo(
            full_name="Nguyễn Thị Hương Giang", position="Phó Chủ tịch", competence="KT. CHỦ TỊCH"
        ),
        due_date=date(2026, 12, 15),
        to_places=("Như trên", "Lưu: VT"),
        other_info=OtherInfo(
            priority=Priority.URGENT,
            sphere_of_promulgation="Liên thông văn bản",
            typer_notation="TVC",
            promulgation_amount=2,
            page_amount=3,
            direction=False,
            appendixes=("Phụ lục I",),
        ),
        response_for=(
            ResponseFor(
                organ_id="000.00.00.G22",
                document_id="000.00.00.G22,2026/11/02,77/VPCP-KSTT",
                code="77/VPCP-KSTT",
                promulgation_date=date(2026, 11, 2),
            ),
        ),
        steering_type=SteeringType.STEERING,
        trace=TraceHeaderList(
            bussiness=Bussiness(
                doc_type=BussinessDocType.NEW,
                document_id="000.00.00.H53,2026/11/30,125/UBND-VP",
                reason="Văn bản điện tử mới",
                staff_info=StaffInfo(
                    department="Văn phòng", staff="Trần Văn Thư", mobile="0912000001"
                ),
            )
        ),
        attachments=(
            Attachment(
                content_id="1",
                name="125-UBND-VP.pdf",
                data=PDF,
                content_type="application/pdf",
                description="Công văn 125/UBND-VP",
            ),
            Attachment(
                content_id="2",
                name="Phụ lục I.docx",
                data=b"PK fake docx " * 500,
                content_type="application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document",
                zipped=True,
            ),
        ),
    )
    return replace(edoc, **changes)  # type: ignore[arg-type]


def sample_status(**changes: object) -> StatusMessage:
    status = StatusMessage(
        from_=Organ(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        response_for=ResponseFor(
            organ_id="000.00.00.H53",
            document_id="000.00.00.H53,2026/11/30,125/UBND-VP",
            code="125/UBND-VP",
            promulgation_date=date(2026, 11, 30),
        ),
        status_code=StatusCode.REGISTERED,
        description="Đã vào sổ văn bản đến",
        timestamp=NOW,
        staff_info=StaffInfo(department="Văn thư", staff="Lê Thị Văn"),
        received_package_sha256="ab" * 32,
    )
    return replace(status, **changes)  # type: ignore[arg-type]


def child_names(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element]


# -- emit ----------------------------------------------------------------------------------


def test_round_trip_keeps_every_field() -> None:
    edoc = sample_edoc()
    parsed = parse_package(build_edoc(edoc, now=NOW))
    assert parsed.signature is None
    message = parsed.message
    assert isinstance(message, Edoc)
    # the builder adds the sender's trace header when there is none
    assert message.trace.headers[0].organ_id == "000.00.00.H53"
    assert message.trace.headers[0].timestamp == NOW
    assert replace(message, trace=edoc.trace) == edoc


def test_status_round_trip_with_the_lienthong_extension() -> None:
    status = sample_status()
    data = build_status(status)
    assert parse_package(data).message == status
    root = etree.fromstring(data)
    header = root.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader/{ED}MessageHeader")
    assert header is not None
    assert child_names(header) == [
        "From",
        "ResponseFor",
        "StaffInfo",
        "StatusCode",
        "Description",
        "Timestamp",
        "ReceivedPackage",
    ]
    assert header[-1].tag == "{urn:lienthong:edxml:1}ReceivedPackage"
    assert root.find(f"{ED}edXMLEnvelope/{ED}edXMLBody") is None


def test_emitted_tree_order_spelling_and_formats() -> None:
    data = build_edoc(sample_edoc(), now=NOW)
    text = data.decode("utf-8")
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<edXML xmlns=\"" + EDXML_NS)
    assert '<edXML:edXMLEnvelope xmlns:edXML="' + EDXML_NS in text
    root = etree.fromstring(data)
    assert child_names(root) == ["edXMLEnvelope", "AttachmentEncoded"]
    header = root.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader")
    assert header is not None
    assert child_names(header) == ["MessageHeader", "TraceHeaderList"]
    assert child_names(header[0]) == [
        "From",
        "To",
        "To",
        "DocumentId",
        "Code",
        "PromulgationInfo",
        "DocumentType",
        "Subject",
        "Content",
        "SignerInfo",
        "DueDate",
        "ToPlaces",
        "OtherInfo",
        "ResponseFor",
        "SteeringType",
    ]
    assert child_names(header[0][0]) == [
        "OrganId",
        "OrganizationInCharge",
        "OrganName",
        "OrganAdd",
        "Email",
        "Telephone",
        "Fax",
        "Website",
    ]
    assert header[0].findtext(f"{ED}DocumentId") == "000.00.00.H53,2026/11/30,125/UBND-VP"
    assert header[0].findtext(f"{ED}PromulgationInfo/{ED}PromulgationDate") == "2026/11/30"
    assert header[0].findtext(f"{ED}DueDate") == "2026/12/15"
    trace = header[1]
    assert child_names(trace) == ["TraceHeader", "Bussiness"]
    assert trace.findtext(f"{ED}TraceHeader/{ED}Timestamp") == "2026/12/01 09:30:00"
    assert child_names(trace[1]) == [
        "DocumentId",
        "BussinessDocType",
        "BussinessDocReason",
        "Paper",
        "StaffInfo",
    ]
    assert "Business" not in text.replace("Bussiness", "")
    references = root.findall(f"{ED}edXMLEnvelope/{ED}edXMLBody/{ED}edXMLManifest/{ED}Reference")
    assert [r.findtext(f"{ED}ContentId") for r in references] == ["cid:1", "cid:2"]
    assert [r.findtext(f"{ED}ContentType") for r in references][1] == "application/zip"
    payloads = root.findall(f"{ED}AttachmentEncoded/{ED}Attachment")
    assert child_names(payloads[0]) == [
        "ContentId",
        "AttachmentName",
        "Description",
        "ContentType",
        "ContentTransferEncoded",
    ]
    assert base64.b64decode(payloads[0].findtext(f"{ED}ContentTransferEncoded") or "") == PDF
    zipped = base64.b64decode(payloads[1].findtext(f"{ED}ContentTransferEncoded") or "")
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert archive.namelist() == ["Phụ lục I.docx"]


def test_timestamps_are_written_in_vietnam_time() -> None:
    from datetime import UTC

    data = build_status(sample_status(timestamp=datetime(2026, 12, 1, 2, 0, 0, tzinfo=UTC)))
    assert b"<edXML:Timestamp>2026/12/01 09:00:00</edXML:Timestamp>" in data


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ({"from_": Organ(organ_id="000.00.00.H53")}, "N.MessageHeader.From.OrganName"),
        ({"code": Code(number="", notation="UBND-VP")}, "N.MessageHeader.Code.CodeNumber"),
        ({"promulgation": PromulgationInfo()}, "N.MessageHeader.PromulgationInfo.PromulgationDate"),
        (
            {"promulgation": PromulgationInfo(date=date(2026, 12, 2))},
            "M.MessageHeader.PromulgationInfo.PromulgationDate",
        ),
        (
            {"document_type": DocumentType(type=18, type_name="x")},
            "M.MessageHeader.DocumentType.Type",
        ),
        ({"document_type": DocumentType(type=2)}, "N.MessageHeader.DocumentType.TypeName"),
        ({"signer": SignerInfo(position="Giám đốc")}, "N.MessageHeader.SignerInfo.FullName"),
        ({"signer": SignerInfo(full_name="Lê Văn A")}, "N.MessageHeader.SignerInfo.Position"),
        ({"document_id": "000.00.00.H53,2026/11/29,125/UBND-VP"}, "M.MessageHeader.DocumentId"),
        ({"trace": TraceHeaderList()}, "N.TraceHeaderList.Bussiness.StaffInfo"),
    ],
)
def test_emit_requirements(change: dict[str, object], label: str) -> None:
    with pytest.raises(EdxmlError) as caught:
        build_edoc(sample_edoc(**change), now=NOW)
    assert caught.value.label == label
    assert str(caught.value).startswith(label + ": ")
    assert isinstance(caught.value, ExchangeError)
    assert caught.value.exit_code == 65


@pytest.mark.parametrize(
    ("make", "kind", "path"),
    [
        (lambda: Organ(organ_id="000.00.00.h53"), EdxmlBadFormat, "OrganId"),
        (lambda: Organ(organ_id="A" * 36), EdxmlBadFormat, "OrganId"),
        (lambda: Organ(organ_id="G22", organ_name="x" * 201), EdxmlOutOfRange, "OrganName"),
        (lambda: Code(number="123456789012", notation="x"), EdxmlOutOfRange, "CodeNumber"),
        (lambda: OtherInfo(priority=5), EdxmlBadValue, "Priority"),  # type: ignore[arg-type]
        (lambda: OtherInfo(page_amount=1000), EdxmlOutOfRange, "PageAmount"),
        (lambda: sample_edoc(subject="x" * 501), EdxmlOutOfRange, "Subject"),
        (lambda: sample_edoc(subject=" "), EdxmlMissing, "Subject"),
        (lambda: sample_edoc(to=()), EdxmlMissing, "To"),
        (
            lambda: sample_edoc(to=(Organ(organ_id="G22"), Organ(organ_id="G22"))),
            EdxmlBadValue,
            "To[2].OrganId",
        ),
        (lambda: sample_edoc(steering_type=3), EdxmlBadValue, "SteeringType"),
        (lambda: sample_status(status_code="07"), EdxmlBadValue, "StatusCode"),
        (
            lambda: sample_status(received_package_sha256="AB" * 32),
            EdxmlBadFormat,
            "ReceivedPackage",
        ),
        (lambda: sample_status(timestamp=datetime(2026, 1, 1)), EdxmlBadFormat, "Timestamp"),  # noqa: DTZ001
        (
            lambda: Attachment(content_id="cid:1", name="a.pdf", data=b""),
            EdxmlBadFormat,
            "ContentId",
        ),
    ],
)
def test_model_invariants(make: object, kind: type[EdxmlError], path: str) -> None:
    with pytest.raises(kind) as caught:
        make()  # type: ignore[operator]
    assert caught.value.path == path


def test_status_codes_of_section_1_4() -> None:
    assert [c.value for c in StatusCode] == [
        "01", "02", "03", "04", "05", "06", "13", "15", "16"
    ]  # fmt: skip
    assert StatusCode("13").vietnamese == "Lấy lại"


# -- accept --------------------------------------------------------------------------------


def built(**changes: object) -> bytes:
    return build_edoc(sample_edoc(**changes), now=NOW)


def edit(data: bytes, *pairs: tuple[str, str]) -> bytes:
    text = data.decode("utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def test_accepts_dd_mm_yyyy_dates() -> None:
    data = edit(
        built(),
        ("<edXML:PromulgationDate>2026/11/30<", "<edXML:PromulgationDate>30/11/2026<"),
        ("<edXML:DueDate>2026/12/15<", "<edXML:DueDate>15/12/2026<"),
    )
    message = parse_package(data).message
    assert isinstance(message, Edoc)
    assert message.promulgation.date == date(2026, 11, 30)
    assert message.due_date == date(2026, 12, 15)


def test_accepts_business_spelled_with_one_s() -> None:
    data = built().decode().replace("Bussiness", "Business").encode()
    message = parse_package(data).message
    assert isinstance(message, Edoc)
    assert message.trace.bussiness is not None
    assert message.trace.bussiness.reason == "Văn bản điện tử mới"


def test_accepts_impossible_dates_inside_document_ids() -> None:
    weird = "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT"
    data = built().replace(
        b"<edXML:DocumentId>000.00.00.H53,2026/11/30,125/UBND-VP</edXML:DocumentId>",
        f"<edXML:DocumentId>{weird}</edXML:DocumentId>".encode(),
    )
    message = parse_package(data).message
    assert isinstance(message, Edoc)
    assert message.document_id == weird
    assert message.trace.bussiness is not None
    assert message.trace.bussiness.document_id == weird


def test_accepts_other_child_orders() -> None:
    root = etree.fromstring(built())
    header = root.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader/{ED}MessageHeader")
    assert header is not None
    sender = header.find(f"{ED}From")
    assert sender is not None
    # OrganName before OrganizationInCharge (as a real sample has it), the whole header reversed
    name = sender.find(f"{ED}OrganName")
    assert name is not None
    sender.remove(name)
    sender.insert(1, name)
    children = list(header)
    for child in children:
        header.remove(child)
    for child in reversed(children):
        header.append(child)
    payload = root.find(f"{ED}AttachmentEncoded/{ED}Attachment")
    assert payload is not None
    payload.append(payload[0])  # ContentId after the payload
    message = parse_package(etree.tostring(root)).message
    assert isinstance(message, Edoc)
    expected = sample_edoc()
    assert replace(message, trace=expected.trace) == replace(expected, to=expected.to[::-1])


def test_accepts_cid_without_prefix_and_xlink_references() -> None:
    root = etree.fromstring(built())
    references = root.findall(f"{ED}edXMLEnvelope/{ED}edXMLBody/{ED}edXMLManifest/{ED}Reference")
    xlink = "http://www.w3.org/1999/xlink"
    first = references[0]
    content_id = first.find(f"{ED}ContentId")
    assert content_id is not None
    first.remove(content_id)
    first.set(f"{{{xlink}}}href", "cid:1")
    first.set(f"{{{xlink}}}type", "simple")
    for payload in root.findall(f"{ED}AttachmentEncoded/{ED}Attachment"):
        element = payload.find(f"{ED}ContentId")
        assert element is not None and element.text is not None
        element.text = element.text.removeprefix("cid:")
    message = parse_package(etree.tostring(root)).message
    assert isinstance(message, Edoc)
    assert [a.content_id for a in message.attachments] == ["1", "2"]
    assert message.attachments[0].data == PDF


def test_accepts_digital_signature_element_and_signature_by_local_name() -> None:
    empty = edit(
        built(),
        ("</edXML:TraceHeaderList>", "</edXML:TraceHeaderList><edXML:DigitalSignature/>"),
    )
    signature = parse_package(empty).signature
    assert signature is not None
    assert (signature.local_name, signature.empty, signature.is_xmldsig) == (
        "DigitalSignature",
        True,
        False,
    )
    other = edit(
        built(),
        (
            "</edXML:TraceHeaderList>",
            "</edXML:TraceHeaderList><Signature><SignedInfo/></Signature>",
        ),
    )
    signature = parse_package(other).signature
    assert signature is not None
    assert (signature.local_name, signature.namespace) == ("Signature", EDXML_NS)


def test_accepts_zipped_and_raw_payloads() -> None:
    message = parse_package(built()).message
    assert isinstance(message, Edoc)
    raw, zipped = message.attachments
    assert (raw.zipped, raw.data, raw.content_type) == (False, PDF, "application/pdf")
    assert zipped.zipped and zipped.data == b"PK fake docx " * 500
    assert zipped.content_type.endswith("wordprocessingml.document")
    assert zipped.size == 13 * 500
    import hashlib

    assert zipped.sha256 == hashlib.sha256(b"PK fake docx " * 500).hexdigest()


def test_a_zip_of_several_files_stays_a_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "một")
        archive.writestr("thư mục/b.txt", "hai")
    data = replace_payload(built(), buffer.getvalue(), content_type="application/zip")
    message = parse_package(data).message
    assert isinstance(message, Edoc)
    assert message.attachments[0].data == buffer.getvalue()
    assert not message.attachments[0].zipped


def test_accepts_the_legacy_soap_status() -> None:
    inner = etree.fromstring(build_status(sample_status(received_package_sha256=None)))
    header = inner.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader/{ED}MessageHeader")
    assert header is not None
    soap = "http://schemas.xmlsoap.org/soap/envelope/"
    envelope = etree.Element(f"{{{soap}}}Envelope", nsmap={"SOAP-ENV": soap, "edXML": EDXML_NS})
    soap_header = etree.SubElement(envelope, f"{{{soap}}}Header")
    status = etree.SubElement(soap_header, f"{ED}Status")
    for child in list(header):
        status.append(child)
    etree.SubElement(envelope, f"{{{soap}}}Body")
    parsed = parse_package(etree.tostring(envelope))
    assert parsed.legacy_soap
    assert parsed.message == sample_status(received_package_sha256=None)


def test_parses_from_a_path_and_hashes_the_bytes(tmp_path: Path) -> None:
    import hashlib

    data = built()
    path = tmp_path / "p.edxml"
    path.write_bytes(data)
    parsed = parse_package(path)
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    assert parsed.size == len(data)


# -- refuse --------------------------------------------------------------------------------


def refusal(data: bytes, limits: Limits | None = None) -> EdxmlError:
    with pytest.raises(EdxmlError) as caught:
        parse_package(data, limits=limits)
    return caught.value


def drop(data: bytes, element: str) -> bytes:
    return re.sub(
        rf"<edXML:{element}>.*?</edXML:{element}>".encode(), b"", data, count=1, flags=re.S
    )


@pytest.mark.parametrize(
    ("mangle", "label"),
    [
        (lambda d: re.sub(rb"<edXML:To>.*</edXML:To>", b"", d, flags=re.S), "N.MessageHeader.To"),
        (lambda d: drop(d, "Subject"), "N.MessageHeader.Subject"),
        (lambda d: drop(d, "Code"), "N.MessageHeader.Code"),
        (lambda d: drop(d, "DocumentId"), "N.MessageHeader.DocumentId"),
        (lambda d: d.replace(b"000.00.11.H53", b"000.00.11.h53"), "T.MessageHeader.To[2].OrganId"),
        (
            lambda d: d.replace(b"<edXML:Priority>1<", b"<edXML:Priority>7<"),
            "M.MessageHeader.OtherInfo.Priority",
        ),
        (
            lambda d: d.replace(b"<edXML:Priority>1<", b"<edXML:Priority>high<"),
            "T.MessageHeader.OtherInfo.Priority",
        ),
        (
            lambda d: d.replace(b"<edXML:SteeringType>1<", b"<edXML:SteeringType>9<"),
            "M.MessageHeader.SteeringType",
        ),
        (
            lambda d: d.replace(b">2026/12/15<", b">2026/13/15<"),
            "T.MessageHeader.DueDate",
        ),
        (
            lambda d: d.replace(b"<edXML:CodeNumber>125<", b"<edXML:CodeNumber>123456789012<"),
            "R.MessageHeader.Code.CodeNumber",
        ),
        (
            lambda d: d.replace(b"<edXML:PageAmount>3<", b"<edXML:PageAmount>1000<"),
            "R.MessageHeader.OtherInfo.PageAmount",
        ),
        (
            lambda d: d.replace(
                b"</edXML:Subject>", b"</edXML:Subject><edXML:Subject>Other</edXML:Subject>"
            ),
            "M.MessageHeader.Subject",
        ),
        (
            lambda d: d.replace(b"<edXML:BussinessDocType>0<", b"<edXML:BussinessDocType>4<"),
            "M.TraceHeaderList.Bussiness.BussinessDocType",
        ),
        (
            lambda d: d.replace(b">2026/12/01 09:30:00<", b">yesterday<"),
            "T.TraceHeaderList.TraceHeader[1].Timestamp",
        ),
        (
            lambda d: d.replace(b"<edXML:ContentId>cid:2</edXML:ContentId>", b""),
            "N.edXMLManifest.Reference[2].ContentId",
        ),
        (
            lambda d: re.sub(rb"<Attachment><ContentId>cid:2.*?</Attachment>", b"", d, flags=re.S),
            "N.AttachmentEncoded.Attachment[ContentId=2]",
        ),
        (
            lambda d: re.sub(
                rb"<edXML:Reference><edXML:ContentId>cid:2.*?</edXML:Reference>", b"", d, flags=re.S
            ),
            "M.AttachmentEncoded.Attachment[2].ContentId",
        ),
        (
            lambda d: d.replace(b"<AttachmentName>125-UBND-VP.pdf<", b"<AttachmentName>other.pdf<"),
            "M.edXMLManifest.Reference[1].AttachmentName",
        ),
        (
            lambda d: re.sub(rb"(<edXML:ContentTransferEncoded[^>]*>)JVBE", rb"\1*VBE", d, count=1),
            "T.AttachmentEncoded.Attachment[1].ContentTransferEncoded",
        ),
    ],
)
def test_refusals_name_the_rule_and_the_element(mangle: object, label: str) -> None:
    error = refusal(mangle(built()))  # type: ignore[operator]
    assert error.label == label, str(error)
    assert str(error).startswith(f"{label}: ")
    assert error.message("vi").startswith(f"{label}: ")


def test_status_refusals() -> None:
    data = build_status(sample_status())
    assert refusal(data.replace(b">03<", b">07<")).label == "M.MessageHeader.StatusCode"
    assert refusal(drop(data, "ResponseFor")).label == "N.MessageHeader.ResponseFor"
    assert refusal(drop(data, "Timestamp")).label == "N.MessageHeader.Timestamp"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b"<edXML xmlns='" + EDXML_NS.encode() + b"'><unclosed></edXML>",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><edXML/>",
        b"<html/>",
    ],
)
def test_unreadable_files(data: bytes) -> None:
    error = refusal(data)
    assert isinstance(error, EdxmlUnreadable)
    assert error.exit_code == 65
    assert "\n" not in str(error)


def test_too_deep_nesting_has_its_own_refusal() -> None:
    """Deeper than libxml2's limit is not a text node over 10 MB, and says so."""
    deep = b"<x>" * 300 + b"</x>" * 300
    data = built().replace(b"</edXML>", deep + b"</edXML>")
    error = refusal(data)
    assert isinstance(error, EdxmlTooDeep) and error.code == "edxml.too_deep"
    assert not isinstance(error, AttachmentTooLarge)
    assert "nested too deeply" in error.detail_en and "lồng nhau quá sâu" in error.detail_vi
    assert "10 MB" not in str(error) and "\n" not in str(error)


# -- hostile payloads ----------------------------------------------------------------------


def replace_payload(data: bytes, payload: bytes, *, content_type: str | None = None) -> bytes:
    root = etree.fromstring(data)
    attachment = root.find(f"{ED}AttachmentEncoded/{ED}Attachment")
    assert attachment is not None
    encoded = attachment.find(f"{ED}ContentTransferEncoded")
    assert encoded is not None
    encoded.text = base64.b64encode(payload).decode()
    if content_type is not None:
        for element in root.iter(f"{ED}ContentType"):
            if element.getparent() is attachment or (
                (element.getparent() is not None)
                and element.getparent().findtext(f"{ED}ContentId") == "cid:1"  # type: ignore[union-attr]
            ):
                element.text = content_type
    return etree.tostring(root)


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_is_refused_without_inflating_it() -> None:
    bomb = zip_of("125-UBND-VP.pdf", bytes(40 * 1024 * 1024))  # 40 MiB of zeros: ~40 KB
    assert len(bomb) < 60_000
    data = replace_payload(built(), bomb, content_type="application/zip")
    error = refusal(data)
    assert isinstance(error, AttachmentUnsafe)
    assert error.label == "M.AttachmentEncoded.Attachment[1].ContentTransferEncoded"
    assert "bomb" in str(error)


def test_zip_over_the_size_limit_is_refused() -> None:
    import os

    big = zip_of("125-UBND-VP.pdf", os.urandom(300_000))
    data = replace_payload(built(), big, content_type="application/zip")
    error = refusal(data, Limits(max_attachment_bytes=200_000))
    assert isinstance(error, AttachmentTooLarge)
    assert error.status == 413


@pytest.mark.parametrize(
    "member", ["../../etc/passwd", "/abs.txt", "a\\..\\b.txt", "C:/x.txt", "ok/../../x"]
)
def test_zip_member_names_that_escape_are_refused(member: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.txt", "x")
        archive.writestr(member, "x")
    data = replace_payload(built(), buffer.getvalue(), content_type="application/zip")
    assert isinstance(refusal(data), AttachmentUnsafe)


def test_encrypted_zip_member_is_refused() -> None:
    payload = bytearray(zip_of("125-UBND-VP.pdf", b"secret"))
    # set the "encrypted" flag in both the local and the central header
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = payload.find(signature) + offset
        payload[at] |= 0x01
    data = replace_payload(built(), bytes(payload), content_type="application/zip")
    error = refusal(data)
    assert isinstance(error, AttachmentUnsafe)
    assert "encrypted" in str(error)


def test_not_a_zip_when_it_says_zip() -> None:
    data = replace_payload(built(), b"plain bytes", content_type="application/zip")
    assert refusal(data).label == "T.AttachmentEncoded.Attachment[1].ContentTransferEncoded"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b.pdf",
        "a\\b.pdf",
        "..",
        "x..pdf",
        "C:evil.pdf",
        "nul\x00.pdf",
        "tab\t.pdf",
        "CON",
        "con.txt",
        "LPT1.pdf",
        "trailing.",
        "trailing ",
        "hoa-don\u202efdp.exe",
        "del\x7f.pdf",
    ],
)
def test_traversal_and_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(AttachmentUnsafe):
        Attachment(content_id="1", name=name, data=b"x")
    if name != name.strip():
        return  # the reader trims values: on the wire this is a different, harmless name
    safe = "125-UBND-VP.pdf"
    data = built().replace(f">{safe}<".encode(), f">{name.replace(chr(0), '&#0;')}<".encode())
    if "\x00" in name:
        assert isinstance(refusal(data), EdxmlUnreadable)  # not even XML
        return
    error = refusal(data)
    assert isinstance(error, AttachmentUnsafe), str(error)
    assert error.path.endswith("AttachmentName")


def test_oversize_package_and_attachment_limits() -> None:
    data = built()
    whole = refusal(data, Limits(max_package_bytes=len(data) - 1))
    assert isinstance(whole, AttachmentTooLarge)
    assert str(whole).startswith("the package is larger than")  # no element to name
    error = refusal(data, Limits(max_attachment_bytes=len(PDF) - 1))
    assert isinstance(error, AttachmentTooLarge)
    assert error.label == "R.AttachmentEncoded.Attachment[1]"
    assert isinstance(refusal(data, Limits(max_total_bytes=len(PDF) + 10)), AttachmentTooLarge)
    assert isinstance(refusal(data, Limits(max_attachments=1)), AttachmentTooLarge)


def test_a_text_node_over_the_parser_limit_is_refused() -> None:
    data = built()
    huge = base64.b64encode(bytes(8 * 1024 * 1024))
    data = re.sub(
        rb"(<edXML:ContentTransferEncoded[^>]*>)[^<]*", lambda m: m.group(1) + huge, data, count=1
    )
    assert isinstance(refusal(data), AttachmentTooLarge)


# -- the corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["edoc_new.edxml", "edoc_update.edxml"])
def test_corpus_edoc_samples_parse(name: str) -> None:
    parsed = parse_package(require_corpus() / "edxml" / name)
    message = parsed.message
    assert isinstance(message, Edoc)
    assert message.trace.bussiness is not None
    # a real sample's DocumentId carries 2014/02/30: kept as the opaque string it is
    assert message.trace.bussiness.document_id == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT"
    (attachment,) = message.attachments
    assert attachment.name == "1896_QD-TTg_m_294779.doc"
    assert attachment.zipped and attachment.size == 388347
    assert parsed.signature is not None and not parsed.signature.is_xmldsig
    if name == "edoc_new.edxml":
        assert message.promulgation.date == date(2020, 10, 30)  # written 30/10/2020
        assert message.from_.organ_id == "000.00.11.H53"
    else:
        assert [o.organ_id for o in message.to] == [
            "000.00.00.H53",
            "000.00.12.H53",
            "000.00.00.G17",
        ]
        update = message.trace.bussiness.update
        assert update is not None and len(update.receivers) == 2
        assert message.trace.bussiness.doc_type == BussinessDocType.UPDATE


def test_corpus_status_sample_parses() -> None:
    parsed = parse_package(require_corpus() / "edxml" / "status_processing_05.edxml")
    message = parsed.message
    assert isinstance(message, StatusMessage)
    assert message.status_code == StatusCode.IN_PROGRESS
    assert message.response_for.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert message.from_.organ_name == "UBND Tỉnh Nghệ An"  # OrganName before its sibling
    assert message.timestamp == datetime(2015, 9, 20, 11, 8, 36, tzinfo=VIETNAM)


def test_payloads_hidden_outside_the_root_attachments_are_not_taken() -> None:
    # a payload inside the signature (which the enveloped signature does not cover) or any
    # other wrapper is no attachment: the manifest's reference then has no payload
    root = etree.fromstring(built())
    encoded = root.find(f"{ED}AttachmentEncoded")
    header = root.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader")
    assert encoded is not None and header is not None
    ds = "http://www.w3.org/2000/09/xmldsig#"
    signature = etree.SubElement(header, f"{{{ds}}}Signature")
    etree.SubElement(signature, f"{{{ds}}}Object").append(encoded)
    error = refusal(etree.tostring(root))
    assert error.label == "N.AttachmentEncoded.Attachment[ContentId=1]"


def test_too_many_elements_are_refused() -> None:
    places = "".join("<edXML:Place>x</edXML:Place>" for _ in range(2000))
    data = built().replace(b"<edXML:ToPlaces>", f"<edXML:ToPlaces>{places}".encode())
    assert isinstance(refusal(data, Limits(max_elements=1000)), AttachmentTooLarge)
    # within the default limit the same file is read, and its recipient lines are too long
    assert refusal(data).label == "R.MessageHeader.ToPlaces"


def test_update_replace_and_no_attachments_round_trip() -> None:
    from exchange.edxml import DocumentUpdate, Receiver, Replacement, TraceHeader

    staff = StaffInfo(staff="Trần Văn Thư", email="vt@tayninh.gov.vn")
    hops = (
        TraceHeader(organ_id="000.00.00.H53", timestamp=NOW),
        TraceHeader(organ_id="000.00.00.G22", timestamp=NOW),
    )
    for bussiness in (
        Bussiness(
            doc_type=BussinessDocType.UPDATE,
            document_id="000.00.00.H53,2026/11/30,125/UBND-VP",
            reason="Cập nhật văn bản điện tử",
            paper=True,
            staff_info=staff,
            update=DocumentUpdate(
                document_info=True,
                document_receiver=False,
                receivers=(Receiver(organ_id="000.00.00.H41", receiver_type=1),),
            ),
        ),
        Bussiness(
            doc_type=BussinessDocType.REPLACE,
            document_id="000.00.00.H53,2026/11/30,125/UBND-VP",
            reason="Thay thế",
            staff_info=staff,
            replacements=(
                Replacement(
                    document_id="000.00.00.H53,2026/11/01,99/UBND-VP",
                    organ_ids=("000.00.00.G22", "000.00.11.H53"),
                ),
            ),
        ),
    ):
        edoc = sample_edoc(attachments=(), trace=TraceHeaderList(headers=hops, bussiness=bussiness))
        data = build_edoc(edoc, now=NOW)
        assert b"AttachmentEncoded" not in data
        assert parse_package(data).message == edoc


def test_received_package_extension_only_once() -> None:
    data = build_status(sample_status())
    doubled = re.sub(rb"(<lt:ReceivedPackage.*?</lt:ReceivedPackage>)", rb"\1\1", data)
    assert refusal(doubled).label == "M.MessageHeader.ReceivedPackage"


def test_an_undeclared_prefix_is_a_coded_error() -> None:
    # found by mutating packages: without its xmlns:edXML declaration libxml2 keeps
    # "edXML:OrganId" as a plain name, which crashed the reader's name lookup
    data = built().replace(b' xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"', b"", 1)
    assert isinstance(refusal(data), EdxmlError)


@pytest.mark.parametrize("damage", ["deflate", "version", "method"])
def test_damaged_zip_payloads_are_coded_errors(damage: str) -> None:
    # found by mutating ZIP payloads: zlib.error and NotImplementedError escaped the reader
    payload = bytearray(zip_of("125-UBND-VP.pdf", b"%PDF-1.7 " * 3000))
    local = payload.find(b"PK\x03\x04")
    central = payload.find(b"PK\x01\x02")
    if damage == "deflate":
        payload[local + 30 + len("125-UBND-VP.pdf") + 2] ^= 0xFF
    elif damage == "version":
        payload[central + 6] = 0xF0  # "version needed to extract" 24.0
    else:
        payload[local + 8] = payload[central + 10] = 0x63  # compression method 99
    data = replace_payload(built(), bytes(payload), content_type="application/zip")
    error = refusal(data)
    assert error.label == "T.AttachmentEncoded.Attachment[1].ContentTransferEncoded", str(error)


def test_a_message_repr_does_not_carry_the_files() -> None:
    assert "JVBER" not in repr(sample_edoc()) and "%PDF" not in repr(sample_edoc())


def test_two_attachments_whose_names_differ_only_in_normalisation() -> None:
    import unicodedata

    first = Attachment(content_id="1", name=unicodedata.normalize("NFC", "Phụ lục.pdf"), data=b"")
    second = Attachment(content_id="2", name=unicodedata.normalize("NFD", "PHỤ LỤC.pdf"), data=b"")
    with pytest.raises(EdxmlBadValue) as caught:
        sample_edoc(attachments=(first, second))
    assert caught.value.path == "edXMLManifest.Reference[2].AttachmentName"


def test_an_empty_response_for_placeholder_answers_nothing() -> None:
    data = built(response_for=()).replace(
        b"<edXML:SteeringType>",
        b"<edXML:ResponseFor><edXML:OrganId/><edXML:DocumentId/></edXML:ResponseFor>"
        b"<edXML:SteeringType>",
    )
    message = parse_package(data).message
    assert isinstance(message, Edoc) and message.response_for == ()
    half = data.replace(
        b"<edXML:OrganId/><edXML:DocumentId/>", b"<edXML:OrganId>G22</edXML:OrganId>"
    )
    assert refusal(half).label == "N.MessageHeader.ResponseFor[1].DocumentId"
