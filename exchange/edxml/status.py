"""Answering a received package with a status message (§1.4): the receiver's side of the
exchange (01 on arrival, 02 rejected or 03 registered after the clerk's checks, 04 → 05 → 06),
and 15/16 or 03/02 in answer to a recall or revocation."""

from __future__ import annotations

from datetime import datetime

from exchange.edxml.errors import EdxmlBadValue
from exchange.edxml.model import (
    VIETNAM,
    Edoc,
    Organ,
    StaffInfo,
    StatusCode,
    StatusMessage,
    response_for,
)
from exchange.edxml.parse import ParsedPackage


def status_for(
    received: ParsedPackage,
    *,
    sender: Organ,
    code: StatusCode,
    description: str = "",
    staff: StaffInfo | None = None,
    timestamp: datetime | None = None,
) -> StatusMessage:
    """The status message ``sender`` (the receiving agency) sends about ``received``: it
    names the document (``ResponseFor``) and, in the lienthong extension, the SHA-256 of the
    very package received, so the sender can match it to one delivery."""
    edoc = received.message
    if not isinstance(edoc, Edoc):
        raise EdxmlBadValue(
            "MessageHeader",
            "a status message answers a document package, not another status message",
            "thông điệp trạng thái trả lời một gói văn bản, không trả lời thông điệp trạng thái",
        )
    if all(organ.organ_id != sender.organ_id for organ in edoc.to):
        raise EdxmlBadValue(
            "MessageHeader.To",
            f"{sender.organ_id} is not among the package's recipients",
            f"{sender.organ_id} không có trong danh sách cơ quan nhận của gói tin",
        )
    return StatusMessage(
        from_=sender,
        response_for=response_for(edoc),
        status_code=code,
        description=description,
        staff_info=staff,
        timestamp=timestamp or datetime.now(VIETNAM).replace(microsecond=0),
        received_package_sha256=received.sha256,
    )


__all__ = ["status_for"]
