"""A package described in JSON or TOML (header fields and attachment files), as
``lienthong edxml build`` reads it, turned into a :class:`~exchange.edxml.model.Edoc` or
:class:`~exchange.edxml.model.StatusMessage`.

Keys are the model's field names (``from``, ``to``, ``code``, ``subject``, …; see the README);
an unknown key is an error, so a typo never silently drops a field. Attachment files are named
relative to the spec file.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from exchange.edxml.errors import EdxmlBadFormat, EdxmlMissing, within
from exchange.edxml.model import (
    VIETNAM,
    Attachment,
    Bussiness,
    Code,
    DocumentType,
    Edoc,
    Message,
    Organ,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeaderList,
    bussiness_doc_type_of,
    document_id_for,
    priority_of,
    status_code_of,
    steering_of,
)
from exchange.errors import BadRequest
from validation import os_reason

_EDOC_KEYS = {
    "kind",
    "from",
    "to",
    "document_id",
    "code",
    "subject",
    "promulgation",
    "document_type",
    "content",
    "signer",
    "due_date",
    "to_places",
    "other_info",
    "response_for",
    "steering_type",
    "bussiness",
    "attachments",
}
_STATUS_KEYS = {
    "kind",
    "from",
    "response_for",
    "status_code",
    "description",
    "timestamp",
    "staff_info",
    "received_package",
}
_ORGAN_KEYS = {
    "organ_id",
    "organ_name",
    "organization_in_charge",
    "organ_add",
    "email",
    "telephone",
    "fax",
    "website",
}


def load_spec(path: Path) -> Message:
    """Read ``path`` (``.toml``, else JSON) into a message."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        raise BadRequest(
            f"cannot read the package description {path}: {en}",
            f"không đọc được tệp mô tả gói tin {path}: {vi}",
        ) from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            f"the package description {path} is not valid {_format(path)}: {exc}",
            f"tệp mô tả gói tin {path} không phải {_format(path)} hợp lệ{_where_vi(exc)}",
        ) from exc
    return message_from_spec(_table(data, "(top)"), base=path.parent)


def _where_vi(exc: Exception) -> str:
    """Where the parser stopped, in Vietnamese (the parsers' own words are English)."""
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    return "" if line is None else f" (lỗi ở dòng {line}, cột {column})"


def _format(path: Path) -> str:
    return "TOML" if path.suffix.lower() == ".toml" else "JSON"


def message_from_spec(spec: Mapping[str, Any], *, base: Path) -> Message:
    """The message ``spec`` describes; ``kind`` is ``edoc`` (default) or ``status``."""
    kind = spec.get("kind", "edoc")
    if kind == "status":
        return _status(spec, base)
    if kind != "edoc":
        raise BadRequest(
            f"kind must be 'edoc' or 'status', not {kind!r}",
            f"kind phải là 'edoc' hoặc 'status', không phải {kind!r}",
        )
    _known(spec, _EDOC_KEYS, "(top)")
    sender = _organ(spec.get("from"), "MessageHeader.From")
    code_spec = _table(spec.get("code", {}), "code")
    _known(code_spec, {"number", "notation"}, "code")
    with within("MessageHeader.Code"):
        code = Code(number=_str(code_spec, "number"), notation=_str(code_spec, "notation"))
    promulgation_spec = _table(spec.get("promulgation", {}), "promulgation")
    _known(promulgation_spec, {"place", "date"}, "promulgation")
    issued = _date(promulgation_spec.get("date"), "MessageHeader.PromulgationInfo.PromulgationDate")
    with within("MessageHeader.PromulgationInfo"):
        promulgation = PromulgationInfo(place=_str(promulgation_spec, "place"), date=issued)
    document_id = spec.get("document_id")
    if document_id is None:
        if issued is None:
            raise EdxmlMissing(
                "MessageHeader.PromulgationInfo.PromulgationDate",
                "the promulgation date is missing",
                "thiếu ngày ban hành",
            )
        document_id = document_id_for(sender.organ_id, issued, code)
    type_spec = _table(spec.get("document_type", {}), "document_type")
    _known(type_spec, {"type", "type_name", "type_detail"}, "document_type")
    with within("MessageHeader.DocumentType"):
        document_type = DocumentType(
            type=_int(type_spec.get("type", 2), "Type") or 0,
            type_name=_str(type_spec, "type_name"),
            type_detail=_int(type_spec.get("type_detail"), "TypeDetail"),
        )
    signer_spec = _table(spec.get("signer", {}), "signer")
    _known(signer_spec, {"full_name", "position", "competence"}, "signer")
    with within("MessageHeader.SignerInfo"):
        signer = SignerInfo(**{k: str(v) for k, v in signer_spec.items()})
    other_spec = dict(_table(spec.get("other_info", {}), "other_info"))
    _known(
        other_spec,
        {
            "priority",
            "sphere_of_promulgation",
            "typer_notation",
            "promulgation_amount",
            "page_amount",
            "direction",
            "appendixes",
        },
        "other_info",
    )
    other_spec["priority"] = priority_of(
        "MessageHeader.OtherInfo.Priority", other_spec.get("priority", 0)
    )
    other_spec["appendixes"] = tuple(
        str(a) for a in _list(other_spec.get("appendixes", []), "other_info.appendixes")
    )
    for key, element in (
        ("promulgation_amount", "PromulgationAmount"),
        ("page_amount", "PageAmount"),
    ):
        other_spec[key] = _int(other_spec.get(key), f"MessageHeader.OtherInfo.{element}")
    direction = other_spec.get("direction")
    if direction is not None and not isinstance(direction, bool):
        raise EdxmlBadFormat(
            "MessageHeader.OtherInfo.Direction", "not true or false", "không phải true hoặc false"
        )
    with within("MessageHeader.OtherInfo"):
        other = OtherInfo(**other_spec)
    recipients = spec.get("to", [])
    if isinstance(recipients, Mapping):
        recipients = [recipients]
    recipients = _list(recipients, "to")
    values: dict[str, Any] = {
        "from_": sender,
        "to": tuple(_organ(r, f"MessageHeader.To[{n}]") for n, r in enumerate(recipients, start=1)),
        "document_id": str(document_id),
        "code": code,
        "subject": _str(spec, "subject"),
        "promulgation": promulgation,
        "document_type": document_type,
        "content": _str(spec, "content"),
        "signer": signer,
        "due_date": _date(spec.get("due_date"), "MessageHeader.DueDate"),
        "to_places": tuple(str(p) for p in _list(spec.get("to_places", []), "to_places")),
        "other_info": other,
        "response_for": tuple(
            _response_for(r, f"MessageHeader.ResponseFor[{n}]")
            for n, r in enumerate(_list(spec.get("response_for", []), "response_for"), start=1)
        ),
        "steering_type": steering_of("MessageHeader.SteeringType", spec.get("steering_type", 0)),
        "trace": TraceHeaderList(bussiness=_bussiness(spec.get("bussiness", {}), document_id)),
        "attachments": tuple(
            _attachment(a, base, n)
            for n, a in enumerate(_list(spec.get("attachments", []), "attachments"), start=1)
        ),
    }
    with within("MessageHeader"):
        return Edoc(**values)


def _status(spec: Mapping[str, Any], base: Path) -> StatusMessage:
    _known(spec, _STATUS_KEYS, "(top)")
    received = spec.get("received_package")
    digest = None
    if received is not None:
        # the package's SHA-256, or the package file itself
        digest = str(received).lower()
        if re.fullmatch(r"[0-9a-f]{64}", digest) is None:
            digest = received_package_digest(base / str(received))
    timestamp = spec.get("timestamp")
    stamp = datetime.now(VIETNAM).replace(microsecond=0)
    if timestamp is not None:
        stamp = _datetime(timestamp, "MessageHeader.Timestamp")
    values: dict[str, Any] = {
        "from_": _organ(spec.get("from"), "MessageHeader.From"),
        "response_for": _response_for(spec.get("response_for"), "MessageHeader.ResponseFor"),
        "status_code": status_code_of(
            "MessageHeader.StatusCode", str(spec.get("status_code", "")).zfill(2)
        ),
        "description": _str(spec, "description"),
        "timestamp": stamp,
        "staff_info": _staff(spec.get("staff_info"), "MessageHeader.StaffInfo"),
        "received_package_sha256": digest,
    }
    with within("MessageHeader"):
        return StatusMessage(**values)


def received_package_digest(path: Path) -> str:
    """The SHA-256 (hex) of a received package, for a status message's extension."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        en, vi = os_reason(exc)
        raise BadRequest(
            f"cannot read the received package {path}: {en}",
            f"không đọc được gói tin đã nhận {path}: {vi}",
        ) from exc
    return digest.hexdigest()


# -- parts ---------------------------------------------------------------------------------


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequest(
            f"{where} in the package description must be a table of keys",
            f"{where} trong tệp mô tả gói tin phải là một bảng khóa",
        )
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequest(
            f"{where} in the package description must be a list",
            f"{where} trong tệp mô tả gói tin phải là một danh sách",
        )
    return value


def _int(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise EdxmlBadFormat(path, f"{value!r} is not a number", f"{value!r} không phải số")
    try:
        return int(value)
    except ValueError:
        raise EdxmlBadFormat(
            path, f"{str(value)[:20]!r} is not a number", f"{str(value)[:20]!r} không phải số"
        ) from None


def _known(spec: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(spec) - keys)
    if unknown:
        raise BadRequest(
            f"unknown key {unknown[0]!r} in {where} of the package description "
            f"(known: {', '.join(sorted(keys))})",
            f"khóa không hợp lệ {unknown[0]!r} trong {where} của tệp mô tả gói tin "
            f"(các khóa: {', '.join(sorted(keys))})",
        )


def _str(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key, "")
    return "" if value is None else str(value)


def _organ(value: Any, path: str) -> Organ:
    if value is None:
        raise EdxmlMissing(path, "the agency is missing", "thiếu thông tin cơ quan")
    table = _table(value, path)
    _known(table, _ORGAN_KEYS, path)
    with within(path):
        return Organ(**{k: str(v) for k, v in table.items()})


def _staff(value: Any, path: str) -> StaffInfo | None:
    if value is None:
        return None
    table = _table(value, path)
    _known(table, {"department", "staff", "mobile", "email"}, path)
    with within(path):
        return StaffInfo(**{k: str(v) for k, v in table.items()})


def _response_for(value: Any, path: str) -> ResponseFor:
    if value is None:
        raise EdxmlMissing(path, "the document answered is missing", "thiếu văn bản được phản hồi")
    table = _table(value, path)
    _known(table, {"organ_id", "document_id", "code", "promulgation_date"}, path)
    with within(path):
        return ResponseFor(
            organ_id=_str(table, "organ_id"),
            document_id=_str(table, "document_id"),
            code=_str(table, "code"),
            promulgation_date=_date(table.get("promulgation_date"), "PromulgationDate"),
        )


def _bussiness(value: Any, document_id: str) -> Bussiness:
    path = "TraceHeaderList.Bussiness"
    table = _table(value, path)
    _known(table, {"doc_type", "document_id", "reason", "paper", "staff_info"}, path)
    doc_type = bussiness_doc_type_of(f"{path}.BussinessDocType", table.get("doc_type", 0))
    with within(path):
        return Bussiness(
            doc_type=doc_type,
            document_id=_str(table, "document_id") or document_id,
            reason=_str(table, "reason") or ("Văn bản điện tử mới" if doc_type == 0 else ""),
            paper=bool(table.get("paper", False)),
            staff_info=_staff(table.get("staff_info"), "StaffInfo"),
        )


def _attachment(value: Any, base: Path, n: int) -> Attachment:
    path = f"edXMLManifest.Reference[{n}]"
    table = _table(value, path)
    _known(table, {"file", "name", "content_type", "description", "zip", "content_id"}, path)
    file_name = _str(table, "file")
    if not file_name:
        raise BadRequest(
            f"attachment {n} of the package description names no file",
            f"tệp đính kèm thứ {n} trong tệp mô tả gói tin không có đường dẫn tệp",
        )
    file_path = base / file_name
    try:
        data = file_path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        raise BadRequest(
            f"cannot read the attachment {file_path}: {en}",
            f"không đọc được tệp đính kèm {file_path}: {vi}",
        ) from exc
    name = _str(table, "name") or file_path.name
    content_type = _str(table, "content_type") or (
        mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    )
    with within(path):
        return Attachment(
            content_id=_str(table, "content_id") or str(n),
            name=name,
            data=data,
            content_type=content_type,
            description=_str(table, "description") or name,
            zipped=bool(table.get("zip", False)),
        )


def _date(value: Any, path: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    for parse in (date.fromisoformat, _slashed):
        try:
            return parse(text)
        except ValueError:
            continue
    raise EdxmlBadFormat(
        path,
        f"{text[:30]!r} is not a date (yyyy-mm-dd or yyyy/MM/dd)",
        f"{text[:30]!r} không phải ngày (yyyy-mm-dd hoặc yyyy/MM/dd)",
    )


def _slashed(text: str) -> date:
    return datetime.strptime(text, "%Y/%m/%d").date()  # noqa: DTZ007 - a date, no time


def _datetime(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise EdxmlBadFormat(
            path,
            f"{str(value)[:30]!r} is not a time (ISO 8601)",
            f"{str(value)[:30]!r} không phải thời điểm (ISO 8601)",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


__all__ = ["load_spec", "message_from_spec", "received_package_digest"]
