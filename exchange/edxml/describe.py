"""A read package as plain data (JSON) and as text a clerk reads: every header field, the
status fields, the attachments (name, type, size, SHA-256, never their bytes) and the
signature verdict."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from exchange.edxml.model import Attachment, Edoc, StatusMessage
from exchange.edxml.package import PackageVerdict
from exchange.edxml.parse import ParsedPackage
from validation import report_json

SCHEMA = "lienthong-edxml/1"


def _plain(value: Any) -> Any:
    if isinstance(value, Attachment):
        return {
            "content_id": value.content_id,
            "name": value.name,
            "content_type": value.content_type,
            "description": value.description,
            "size": value.size,
            "sha256": value.sha256,
            "zipped": value.zipped,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            ("from" if f.name == "from_" else f.name): _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def package_json(parsed: ParsedPackage, verdict: PackageVerdict | None = None) -> dict[str, Any]:
    """``parsed`` (and the signature ``verdict``, if judged) as JSON-ready data."""
    signature = parsed.signature
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": parsed.message.kind,
        "sha256": parsed.sha256,
        "size": parsed.size,
        "legacy_soap": parsed.legacy_soap,
        "message": _plain(parsed.message),
        "signature_element": None
        if signature is None
        else {
            "local_name": signature.local_name,
            "namespace": signature.namespace,
            "empty": signature.empty,
        },
    }
    if verdict is not None:
        report = report_json(verdict.report)
        result["signature"] = {
            "indication": report["indication"],
            "sub_indication": report["sub_indication"],
            "signer": report["signatures"][0]["signer"] if report["signatures"] else None,
            "reasons": [
                {"code": f.code, "en": f.en, "vi": f.vi, "severity": f.severity}
                for f in verdict.reasons
            ],
            "report": report,
        }
    return result


_LABELS = {
    "kind": ("Loại thông điệp", "Message"),
    "sha256": ("SHA-256 gói tin", "Package SHA-256"),
    "signature": ("Chữ ký gói tin", "Package signature"),
    "attachments": ("Tệp đính kèm", "Attachments"),
}


def package_text(
    parsed: ParsedPackage, verdict: PackageVerdict | None = None, *, lang: str = "vi"
) -> str:
    """Every field of ``parsed``, one per line (``Element.Path: value``), then the
    attachments and the signature verdict."""
    lines = []
    en = lang != "vi"
    lines.append(f"{_LABELS['kind'][en]}: {parsed.message.kind}")
    lines.append(f"{_LABELS['sha256'][en]}: {parsed.sha256}")
    message = parsed.message
    fields = dict(_fields(message))
    lines.extend(f"{path}: {value}" for path, value in fields.items())
    if isinstance(message, Edoc):
        lines.append(f"{_LABELS['attachments'][en]}: {len(message.attachments)}")
        for n, a in enumerate(message.attachments, start=1):
            packed = " (zip)" if a.zipped else ""
            lines.append(
                f"  [{n}] {a.name}  {a.content_type}{packed}  {a.size} bytes  sha256 {a.sha256}"
            )
    first, *reasons = verdict_lines(parsed, verdict, lang=lang)
    lines.append(f"{_LABELS['signature'][en]}: {first}")
    lines.extend(reasons)
    return "\n".join(lines)


def verdict_lines(
    parsed: ParsedPackage, verdict: PackageVerdict | None, *, lang: str = "vi"
) -> list[str]:
    """The verdict in one line (indication, signer), then one line per reason."""
    lines = [_verdict_line(parsed, verdict, lang)]
    if verdict is not None:
        en = lang != "vi"
        lines.extend(f"  - {f.en if en else f.vi} ({f.code})" for f in verdict.reasons)
    return lines


def _verdict_line(parsed: ParsedPackage, verdict: PackageVerdict | None, lang: str) -> str:
    en = lang != "vi"
    if verdict is None:
        return "not checked" if en else "chưa kiểm tra"
    report = report_json(verdict.report)
    words = report["verdict"]["en" if en else "vi"]
    line = f"{report['indication']} ({words})"
    if report["sub_indication"]:
        line += f" {report['sub_indication']}"
    signer = verdict.signature.signer if verdict.signature is not None else None
    if signer is not None:
        line += f"; {'signed by' if en else 'người ký'}: {signer.common_name}"
    elif parsed.signature is None or parsed.signature.empty:
        line += "; no signature" if en else "; không có chữ ký"
    return line


def _fields(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Edoc | StatusMessage):
        names = _EDOC_NAMES if isinstance(value, Edoc) else _STATUS_NAMES
        for attr, element in names:
            yield from _fields(getattr(value, attr), element)
        return
    if isinstance(value, Attachment):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value).__name__
        for f in dataclasses.fields(value):
            element = _WIRE.get((kind, f.name)) or _camel(f.name)
            yield from _fields(getattr(value, f.name), f"{prefix}.{element}")
        return
    if isinstance(value, tuple):
        if value and all(isinstance(v, Attachment) for v in value):
            return
        for n, item in enumerate(value, start=1):
            yield from _fields(item, f"{prefix}[{n}]")
        return
    if value is None or value == "":
        return
    if isinstance(value, enum.Enum):
        vietnamese = getattr(value, "vietnamese", None)
        yield prefix, f"{value.value}" + (f" ({vietnamese})" if vietnamese else "")
        return
    if isinstance(value, datetime):
        yield prefix, value.isoformat()
        return
    if isinstance(value, date):
        yield prefix, value.strftime("%Y/%m/%d")
        return
    yield prefix, str(value)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.rstrip("_").split("_"))


_WIRE = {
    ("Code", "number"): "CodeNumber",
    ("Code", "notation"): "CodeNotation",
    ("PromulgationInfo", "date"): "PromulgationDate",
    ("TraceHeaderList", "headers"): "TraceHeader",
    ("Bussiness", "doc_type"): "BussinessDocType",
    ("Bussiness", "reason"): "BussinessDocReason",
    ("Bussiness", "update"): "BussinessDocumentInfo",
    ("Bussiness", "replacements"): "ReplacementInfo",
    ("DocumentUpdate", "receivers"): "Receiver",
    ("Replacement", "organ_ids"): "OrganId",
    ("OtherInfo", "appendixes"): "Appendix",
}
"""Field names whose element name is not the field's in CamelCase."""

_EDOC_NAMES = (
    ("from_", "From"),
    ("to", "To"),
    ("document_id", "DocumentId"),
    ("code", "Code"),
    ("promulgation", "PromulgationInfo"),
    ("document_type", "DocumentType"),
    ("subject", "Subject"),
    ("content", "Content"),
    ("signer", "SignerInfo"),
    ("due_date", "DueDate"),
    ("to_places", "ToPlaces"),
    ("other_info", "OtherInfo"),
    ("response_for", "ResponseFor"),
    ("steering_type", "SteeringType"),
    ("trace", "TraceHeaderList"),
)
_STATUS_NAMES = (
    ("from_", "From"),
    ("response_for", "ResponseFor"),
    ("staff_info", "StaffInfo"),
    ("status_code", "StatusCode"),
    ("description", "Description"),
    ("timestamp", "Timestamp"),
    ("received_package_sha256", "ReceivedPackage"),
)

__all__ = ["SCHEMA", "package_json", "package_text", "verdict_lines"]
