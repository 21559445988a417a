"""The edXML (QCVN 102:2016) messages as typed, frozen objects whose constructors check what
every package must satisfy, whoever produced it: OrganIds, field lengths (``standards/edxml.md``
§1.6, counted in characters), code lists (§1.5), status codes (§1.4).

What *we* must satisfy when emitting (a signer's name, a promulgation date not in the future,
``DocumentType/Type`` ∈ {1, 2}) is checked by :func:`exchange.edxml.build.build_edoc`: real
producers send packages without them, and the reader accepts those.

Errors name the field as an element path relative to the object (``OrganId``); the reader and
the builder put it under the element that holds the object (``MessageHeader.To.OrganId``).
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar, TypeVar

from exchange.edxml.errors import (
    AttachmentUnsafe,
    EdxmlBadFormat,
    EdxmlBadValue,
    EdxmlMissing,
    EdxmlOutOfRange,
)

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
"""The edXML namespace (QCVN 102:2016)."""
LIENTHONG_NS = "urn:lienthong:edxml:1"
"""Our extension elements (other producers ignore elements they do not know)."""
VIETNAM = timezone(timedelta(hours=7), "ICT")
"""edXML timestamps are Vietnam local time."""

ORGAN_ID = re.compile(r"[0-9A-Z.]{1,35}")
"""QĐ 20/2020/QĐ-TTg: at most 35 characters from ``.``, digits and capitals; opaque."""

LENGTHS: dict[str, int] = {
    # Decree 30 App. VI and the axis checker (standards/edxml.md §1.6)
    "OrganName": 200,
    "CodeNumber": 11,
    "CodeNotation": 30,
    "TypeName": 100,
    "Subject": 500,
    "Content": 500,
    "Position": 100,
    "FullName": 50,
    "ToPlaces": 1000,
    "ToPlaces.Place": 150,
    "PromulgationInfo.Place": 50,
    "SphereOfPromulgation": 100,
    "TyperNotation": 10,
    "Email": 100,
    "Telephone": 20,
    "Fax": 20,
    "AttachmentName": 500,
    # No source gives these; bounded so that no field is unbounded (our choice)
    "OrganizationInCharge": 200,
    "OrganAdd": 500,
    "Website": 200,
    "Competence": 100,
    "DocumentId": 200,
    "Appendix": 500,
    "BussinessDocReason": 500,
    "StaffInfo": 100,
    "Description": 1000,
    "ContentId": 200,
    "ContentType": 200,
    "Attachment.Description": 1000,
    "ResponseFor.Code": 45,
}
"""Maximum lengths in characters, by element name (or parent.name where one name has two
limits)."""


class Priority(enum.IntEnum):
    """``OtherInfo/Priority`` (độ khẩn)."""

    NORMAL = 0
    URGENT = 1
    VERY_URGENT = 2
    FLASH = 3
    FLASH_SCHEDULED = 4

    @property
    def vietnamese(self) -> str:
        return ("Thường", "Khẩn", "Thượng khẩn", "Hỏa tốc", "Hỏa tốc hẹn giờ")[self.value]


class SteeringType(enum.IntEnum):
    """``SteeringType``: is this a steering document (văn bản chỉ đạo)?"""

    NONE = 0
    STEERING = 1
    STEERING_REPORT = 2

    @property
    def vietnamese(self) -> str:
        return ("Không phải văn bản chỉ đạo", "Chỉ đạo", "Báo cáo chỉ đạo")[self.value]


class BussinessDocType(enum.IntEnum):
    """``Bussiness/BussinessDocType``: what this package does to the document."""

    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3

    @property
    def vietnamese(self) -> str:
        return ("Văn bản mới", "Thu hồi", "Cập nhật", "Thay thế")[self.value]


class StatusCode(enum.StrEnum):
    """``StatusCode`` of a status message (§1.4)."""

    DELIVERED = "01"
    REJECTED = "02"
    REGISTERED = "03"
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    COMPLETED = "06"
    RECALL = "13"
    RECALL_ACCEPTED = "15"
    RECALL_REFUSED = "16"

    @property
    def vietnamese(self) -> str:
        return _STATUS_VI[self]


_STATUS_VI = {
    StatusCode.DELIVERED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận",
    StatusCode.REGISTERED: "Đã tiếp nhận (vào sổ)",
    StatusCode.ASSIGNED: "Phân công",
    StatusCode.IN_PROGRESS: "Đang xử lý",
    StatusCode.COMPLETED: "Hoàn thành",
    StatusCode.RECALL: "Lấy lại",
    StatusCode.RECALL_ACCEPTED: "Đồng ý lấy lại / cập nhật văn bản",
    StatusCode.RECALL_REFUSED: "Từ chối lấy lại / cập nhật văn bản",
}


# -- checks --------------------------------------------------------------------------------


def check_length(path: str, value: str, limit_key: str | None = None) -> None:
    """``value`` fits the §1.6 length of ``limit_key`` (default: the last part of ``path``)."""
    limit = LENGTHS[limit_key or path.rsplit(".", 1)[-1]]
    if len(value) > limit:
        raise EdxmlOutOfRange(
            path,
            f"{len(value)} characters, at most {limit} allowed",
            f"dài {len(value)} ký tự, tối đa {limit} ký tự",
        )


def check_organ_id(path: str, value: str) -> None:
    if not value:
        raise EdxmlMissing(
            path, "the agency code (OrganId) is missing", "thiếu mã định danh cơ quan"
        )
    if ORGAN_ID.fullmatch(value) is None:
        raise EdxmlBadFormat(
            path,
            f"{value[:40]!r} is not an agency code (at most 35 characters: digits, capital "
            "letters and dots)",
            f"{value[:40]!r} không phải mã định danh cơ quan (tối đa 35 ký tự gồm chữ số, chữ in "
            "hoa và dấu chấm)",
        )


def _required(path: str, value: str, what_en: str, what_vi: str) -> None:
    if not value.strip():
        raise EdxmlMissing(path, f"{what_en} is missing", f"thiếu {what_vi}")


def _aware(path: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise EdxmlBadFormat(path, "a time without a time zone", "thời điểm không có múi giờ")


def _count(path: str, value: int | None, limit: int = 999) -> None:
    if value is not None and not 0 <= value <= limit:
        raise EdxmlOutOfRange(
            path, f"{value} is outside 0..{limit}", f"{value} nằm ngoài khoảng 0..{limit}"
        )


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


# -- parts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Organ:
    """``From`` or one ``To``: an agency as edXML names it."""

    organ_id: str
    """``OrganId``: the agency code, an opaque string (never parse a hierarchy from it)."""
    organ_name: str = ""
    """``OrganName``: required on emit."""
    organization_in_charge: str = ""
    """``OrganizationInCharge``: the agency it belongs to."""
    organ_add: str = ""
    """``OrganAdd``: postal address."""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""

    def __post_init__(self) -> None:
        check_organ_id("OrganId", self.organ_id)
        for name, value in (
            ("OrganName", self.organ_name),
            ("OrganizationInCharge", self.organization_in_charge),
            ("OrganAdd", self.organ_add),
            ("Email", self.email),
            ("Telephone", self.telephone),
            ("Fax", self.fax),
            ("Website", self.website),
        ):
            check_length(name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """``Code``: the document's number (số) and notation (ký hiệu)."""

    number: str
    """``CodeNumber``, e.g. ``2491``."""
    notation: str
    """``CodeNotation``, e.g. ``STC-BCTC``."""

    def __post_init__(self) -> None:
        check_length("CodeNumber", self.number)
        check_length("CodeNotation", self.notation)

    def __str__(self) -> str:
        return f"{self.number}/{self.notation}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromulgationInfo:
    """``PromulgationInfo``: where and when the document was issued."""

    place: str = ""
    date: date | None = None
    """``PromulgationDate``; required on emit."""

    def __post_init__(self) -> None:
        check_length("Place", self.place, "PromulgationInfo.Place")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentType:
    """``DocumentType``: the kind of document."""

    type: int
    """``Type``: 1 or 2 on emit (the axis validator allows no other); others are read."""
    type_name: str = ""
    """``TypeName``, e.g. ``Công văn``; required on emit."""
    type_detail: int | None = None
    """``TypeDetail`` (meaning unverified)."""

    def __post_init__(self) -> None:
        check_length("TypeName", self.type_name)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    """``SignerInfo``: who signed the document."""

    full_name: str = ""
    """``FullName``; required on emit."""
    position: str = ""
    """``Position`` (chức vụ); required on emit."""
    competence: str = ""
    """``Competence`` (thẩm quyền ký), e.g. ``TL. BỘ TRƯỞNG``."""

    def __post_init__(self) -> None:
        check_length("FullName", self.full_name)
        check_length("Position", self.position)
        check_length("Competence", self.competence)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherInfo:
    """``OtherInfo``: priority and the document's particulars."""

    priority: Priority = Priority.NORMAL
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    """``TyperNotation``: the typist's initials."""
    promulgation_amount: int | None = None
    """``PromulgationAmount``: copies issued."""
    page_amount: int | None = None
    """``PageAmount``: pages."""
    direction: bool | None = None
    """``Direction`` (seen in samples; meaning unverified)."""
    appendixes: tuple[str, ...] = ()
    """``Appendixes/Appendix``: titles of the appendices."""

    def __post_init__(self) -> None:
        if not isinstance(self.priority, Priority):
            object.__setattr__(self, "priority", priority_of("Priority", self.priority))
        check_length("SphereOfPromulgation", self.sphere_of_promulgation)
        check_length("TyperNotation", self.typer_notation)
        _count("PromulgationAmount", self.promulgation_amount)
        _count("PageAmount", self.page_amount)
        for n, appendix in enumerate(self.appendixes, start=1):
            check_length(f"Appendixes.Appendix[{n}]", appendix, "Appendix")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFor:
    """``ResponseFor``: the document a reply or a status message is about."""

    organ_id: str
    """``OrganId``: the agency that sent that document."""
    document_id: str
    """``DocumentId``: its identifier, an opaque string."""
    code: str = ""
    """``Code``: its number and notation as one string (``7816/VPCP-TTĐT``)."""
    promulgation_date: date | None = None

    def __post_init__(self) -> None:
        check_organ_id("OrganId", self.organ_id)
        _required("DocumentId", self.document_id, "the document identifier", "mã văn bản")
        check_length("DocumentId", self.document_id)
        check_length("Code", self.code, "ResponseFor.Code")


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffInfo:
    """``StaffInfo``: the clerk who handled the message."""

    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        check_length("Department", self.department, "StaffInfo")
        check_length("Staff", self.staff, "StaffInfo")
        check_length("Mobile", self.mobile, "Telephone")
        check_length("Email", self.email)


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceHeader:
    """``TraceHeader``: one agency the package passed through, and when."""

    organ_id: str
    timestamp: datetime
    """Timezone-aware; written in Vietnam time."""

    def __post_init__(self) -> None:
        check_organ_id("OrganId", self.organ_id)
        _aware("Timestamp", self.timestamp)


@dataclass(frozen=True, slots=True, kw_only=True)
class Receiver:
    """``ReceiverList/Receiver`` of an update."""

    organ_id: str
    receiver_type: int
    """0 or 1 (meaning unverified; probably add / remove)."""

    def __post_init__(self) -> None:
        check_organ_id("OrganId", self.organ_id)
        _flag("ReceiverType", self.receiver_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentUpdate:
    """``BussinessDocumentInfo``: what an update (BussinessDocType 2) changes."""

    document_info: bool
    """``DocumentInfo``: the metadata changed."""
    document_receiver: bool
    """``DocumentReceiver``: the recipients changed."""
    receivers: tuple[Receiver, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Replacement:
    """``ReplacementInfoList/ReplacementInfo`` of a replacement (BussinessDocType 3)."""

    document_id: str
    organ_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _required("DocumentId", self.document_id, "the document identifier", "mã văn bản")
        check_length("DocumentId", self.document_id)
        for n, organ in enumerate(self.organ_ids, start=1):
            check_organ_id(f"OrganIdList.OrganId[{n}]", organ)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bussiness:
    """``TraceHeaderList/Bussiness`` (spelled so on the wire): what the package does."""

    doc_type: BussinessDocType = BussinessDocType.NEW
    document_id: str = ""
    """``DocumentId`` of the document revoked, updated or replaced (for a new document, its
    own); an opaque string."""
    reason: str = ""
    """``BussinessDocReason``, e.g. ``Văn bản điện tử mới``."""
    paper: bool = False
    """``Paper``: a paper copy is sent too."""
    staff_info: StaffInfo | None = None
    update: DocumentUpdate | None = None
    """Only with :attr:`BussinessDocType.UPDATE`."""
    replacements: tuple[Replacement, ...] = ()
    """Only with :attr:`BussinessDocType.REPLACE`."""

    def __post_init__(self) -> None:
        if not isinstance(self.doc_type, BussinessDocType):
            object.__setattr__(
                self, "doc_type", _enum(BussinessDocType, "BussinessDocType", self.doc_type)
            )
        check_length("DocumentId", self.document_id)
        check_length("BussinessDocReason", self.reason)
        if self.update is not None and self.doc_type != BussinessDocType.UPDATE:
            raise EdxmlBadValue(
                "BussinessDocumentInfo",
                "only an update (BussinessDocType 2) says what it changes",
                "chỉ gói cập nhật (BussinessDocType 2) mới có thông tin cập nhật",
            )
        if self.replacements and self.doc_type != BussinessDocType.REPLACE:
            raise EdxmlBadValue(
                "ReplacementInfoList",
                "only a replacement (BussinessDocType 3) lists what it replaces",
                "chỉ gói thay thế (BussinessDocType 3) mới có danh sách thay thế",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceHeaderList:
    """``TraceHeaderList``: where the package has been, and what it does."""

    headers: tuple[TraceHeader, ...] = ()
    bussiness: Bussiness | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """One attached file: a manifest ``Reference`` plus its base64 payload."""

    content_id: str
    """``ContentId`` without the ``cid:`` prefix."""
    name: str
    """``AttachmentName``: a file name, never a path (checked)."""
    data: bytes = field(repr=False)
    """The file itself (unzipped when it travelled as a ZIP); left out of ``repr`` (a
    message in a log line must not carry megabytes)."""
    content_type: str = "application/octet-stream"
    """The file's media type (``application/zip`` goes on the wire when :attr:`zipped`)."""
    description: str = ""
    zipped: bool = False
    """On the wire the payload is a ZIP holding this one file (as the VNPT/Bkav producers
    send it)."""

    def __post_init__(self) -> None:
        _required("ContentId", self.content_id, "the content identifier", "mã nội dung")
        check_length("ContentId", self.content_id)
        if self.content_id.startswith("cid:"):
            raise EdxmlBadFormat(
                "ContentId",
                "give the content identifier without its 'cid:' prefix",
                "mã nội dung phải không có tiền tố 'cid:'",
            )
        check_file_name("AttachmentName", self.name)
        check_length("ContentType", self.content_type)
        check_length("Description", self.description, "Attachment.Description")

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        """The SHA-256 of :attr:`data`, in hex."""
        return hashlib.sha256(self.data).hexdigest()


_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in (*range(10), "¹", "²", "³")}
    | {f"LPT{n}" for n in (*range(10), "¹", "²", "³")}
)


_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def check_file_name(path: str, name: str) -> None:
    """A name that stays a plain file name on every system a receiver may save it on: no
    separators, no ``..``, no NUL or control characters, no drive (``C:``), no names
    Windows reserves (``CON``, ``NUL.txt``, ``COM1``), no trailing dot or space."""
    _required(path, name, "the file name", "tên tệp")
    check_length(path, name, "AttachmentName")
    reason: tuple[str, str] | None = None
    if "/" in name or "\\" in name or ":" in name:
        reason = ("holds a path separator or drive", "chứa dấu phân cách đường dẫn hoặc ổ đĩa")
    elif ".." in name:
        reason = ("holds '..'", "chứa '..'")
    elif any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name):
        reason = ("holds a control character", "chứa ký tự điều khiển")
    elif any(c in _BIDI_CONTROLS for c in name):
        # U+202E makes "hóa-đơn‮fdp.exe" display as "hóa-đơnexe.pdf"
        reason = (
            "holds a character that reverses how it is displayed",
            "chứa ký tự đảo chiều hiển thị",
        )
    elif name.endswith((".", " ")) or name.startswith(" "):
        reason = (
            "starts with a space or ends with a dot or space",
            "bắt đầu bằng dấu cách hoặc kết thúc bằng dấu chấm hoặc dấu cách",
        )
    elif name.split(".", 1)[0].strip().upper() in _RESERVED_NAMES:
        reason = ("is a name Windows reserves for a device", "là tên thiết bị Windows dành riêng")
    if reason is not None:
        raise AttachmentUnsafe(
            path,
            f"the file name {name[:80]!r} {reason[0]}: refused",
            f"tên tệp {name[:80]!r} {reason[1]}: bị từ chối",
        )


def _flag(path: str, value: int) -> None:
    if value not in (0, 1):
        raise EdxmlBadValue(path, f"{value} is not 0 or 1", f"{value} không phải 0 hoặc 1")


_E = TypeVar("_E", bound=enum.IntEnum)


def _enum(kind: type[_E], path: str, value: object) -> _E:
    try:
        return kind(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        allowed = ", ".join(str(m.value) for m in kind)
        raise EdxmlBadValue(
            path, f"{value!r} is not one of {allowed}", f"{value!r} không thuộc {allowed}"
        ) from None


def priority_of(path: str, value: object) -> Priority:
    return _enum(Priority, path, value)


def steering_of(path: str, value: object) -> SteeringType:
    return _enum(SteeringType, path, value)


def bussiness_doc_type_of(path: str, value: object) -> BussinessDocType:
    return _enum(BussinessDocType, path, value)


def status_code_of(path: str, value: str) -> StatusCode:
    try:
        return StatusCode(value)
    except ValueError:
        allowed = ", ".join(m.value for m in StatusCode)
        raise EdxmlBadValue(
            path,
            f"{value!r} is not a status code ({allowed})",
            f"{value!r} không phải mã trạng thái ({allowed})",
        ) from None


def document_id_for(organ_id: str, promulgation_date: date, code: Code) -> str:
    """The ``DocumentId`` §6.1 prescribes: ``{From.OrganId},{yyyy/MM/dd},{số}/{ký hiệu}``."""
    return f"{organ_id},{promulgation_date:%Y/%m/%d},{code.number}/{code.notation}"


# -- messages ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Edoc:
    """An edoc message: one document with its attachments, for one or more recipients."""

    kind: ClassVar[str] = "edoc"

    from_: Organ
    """``From``: the sending agency."""
    to: tuple[Organ, ...]
    """``To``: the recipients, at least one, each OrganId once."""
    document_id: str
    """``DocumentId``: an opaque string (a real sample embeds 2014/02/30); see
    :func:`document_id_for` for the form we emit."""
    code: Code
    subject: str
    """``Subject``: the trích yếu."""
    promulgation: PromulgationInfo = field(default_factory=PromulgationInfo)
    document_type: DocumentType = field(default_factory=lambda: DocumentType(type=2))
    content: str = ""
    signer: SignerInfo = field(default_factory=SignerInfo)
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    """``ToPlaces/Place``: the free-text "Nơi nhận" lines."""
    other_info: OtherInfo = field(default_factory=OtherInfo)
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: SteeringType = SteeringType.NONE
    trace: TraceHeaderList = field(default_factory=TraceHeaderList)
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.steering_type, SteeringType):
            object.__setattr__(
                self, "steering_type", steering_of("SteeringType", self.steering_type)
            )
        if not self.to:
            raise EdxmlMissing("To", "no recipient (To)", "không có cơ quan nhận (To)")
        seen: set[str] = set()
        for n, organ in enumerate(self.to, start=1):
            if organ.organ_id in seen:
                raise EdxmlBadValue(
                    f"To[{n}].OrganId",
                    f"the recipient {organ.organ_id} is listed twice",
                    f"cơ quan nhận {organ.organ_id} bị lặp lại",
                )
            seen.add(organ.organ_id)
        _required("DocumentId", self.document_id, "the document identifier", "mã văn bản")
        check_length("DocumentId", self.document_id)
        _required("Subject", self.subject, "the subject (trích yếu)", "trích yếu")
        check_length("Subject", self.subject)
        check_length("Content", self.content)
        for n, place in enumerate(self.to_places, start=1):
            check_length(f"ToPlaces.Place[{n}]", place, "ToPlaces.Place")
        if sum(len(p) for p in self.to_places) > LENGTHS["ToPlaces"]:
            raise EdxmlOutOfRange(
                "ToPlaces",
                f"the recipient lines hold more than {LENGTHS['ToPlaces']} characters",
                f"nơi nhận dài quá {LENGTHS['ToPlaces']} ký tự",
            )
        ids: set[str] = set()
        names: set[str] = set()
        for n, attachment in enumerate(self.attachments, start=1):
            where = f"edXMLManifest.Reference[{n}]"
            if attachment.content_id in ids:
                raise EdxmlBadValue(
                    f"{where}.ContentId",
                    f"the content identifier {attachment.content_id!r} is used twice",
                    f"mã nội dung {attachment.content_id!r} bị dùng hai lần",
                )
            folded = unicodedata.normalize("NFC", attachment.name).casefold()
            if folded in names:
                raise EdxmlBadValue(
                    f"{where}.AttachmentName",
                    f"two attachments are named {attachment.name!r}",
                    f"hai tệp đính kèm cùng tên {attachment.name!r}",
                )
            ids.add(attachment.content_id)
            names.add(folded)


def response_for(edoc: Edoc) -> ResponseFor:
    """What a reply or a status message about ``edoc`` names it by."""
    return ResponseFor(
        organ_id=edoc.from_.organ_id,
        document_id=edoc.document_id,
        code=str(edoc.code),
        promulgation_date=edoc.promulgation.date,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusMessage:
    """A status message: what happened to a received document (§1.4)."""

    kind: ClassVar[str] = "status"

    from_: Organ
    """``From``: the agency reporting the status."""
    response_for: ResponseFor
    """The document the status is about (``ResponseFor/DocumentId`` is the key)."""
    status_code: StatusCode
    timestamp: datetime
    """Timezone-aware; written in Vietnam time."""
    description: str = ""
    staff_info: StaffInfo | None = None
    received_package_sha256: str | None = None
    """lienthong extension: the SHA-256 (hex) of the package this status answers, so the
    sender matches it to what it delivered. Written in our own namespace
    (:data:`LIENTHONG_NS`); other producers ignore it."""

    def __post_init__(self) -> None:
        if not isinstance(self.status_code, StatusCode):
            object.__setattr__(
                self, "status_code", status_code_of("StatusCode", str(self.status_code))
            )
        _aware("Timestamp", self.timestamp)
        check_length("Description", self.description)
        if self.received_package_sha256 is not None and (
            _SHA256_HEX.fullmatch(self.received_package_sha256) is None
        ):
            raise EdxmlBadFormat(
                "ReceivedPackage",
                "not a SHA-256 in lowercase hexadecimal (64 characters)",
                "không phải giá trị SHA-256 dạng thập lục phân chữ thường (64 ký tự)",
            )


Message = Edoc | StatusMessage

__all__ = [
    "EDXML_NS",
    "LENGTHS",
    "LIENTHONG_NS",
    "ORGAN_ID",
    "VIETNAM",
    "Attachment",
    "Bussiness",
    "BussinessDocType",
    "Code",
    "DocumentType",
    "DocumentUpdate",
    "Edoc",
    "Message",
    "Organ",
    "OtherInfo",
    "Priority",
    "PromulgationInfo",
    "Receiver",
    "Replacement",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusMessage",
    "SteeringType",
    "TraceHeader",
    "TraceHeaderList",
    "bussiness_doc_type_of",
    "check_file_name",
    "check_length",
    "check_organ_id",
    "document_id_for",
    "priority_of",
    "response_for",
    "status_code_of",
    "steering_of",
]
