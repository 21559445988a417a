"""edXML (QCVN 102:2016/BTTTT): the packages and status messages agencies exchange.

- :mod:`~exchange.edxml.model`: typed, frozen messages whose constructors check OrganIds,
  field lengths and code lists;
- :mod:`~exchange.edxml.build`: the wire form we emit (``standards/edxml.md`` §6.1);
- :mod:`~exchange.edxml.parse`: reading what real producers send, bounded and safe;
- :mod:`~exchange.edxml.package`: the package signature (signing room) and its verdict
  (validation room), with the signer's certificate;
- :mod:`~exchange.edxml.status`: the status message answering a received package;
- :mod:`~exchange.edxml.errors`: coded errors carrying the element path (``N.``/``R.``/
  ``M.``/``T.``).
"""

from exchange.edxml.build import build_edoc, build_message, build_status, check_emittable
from exchange.edxml.errors import (
    AttachmentTooLarge,
    AttachmentUnsafe,
    EdxmlBadFormat,
    EdxmlBadValue,
    EdxmlError,
    EdxmlMissing,
    EdxmlOutOfRange,
    EdxmlTooDeep,
    EdxmlUnreadable,
)
from exchange.edxml.model import (
    EDXML_NS,
    LIENTHONG_NS,
    VIETNAM,
    Attachment,
    Bussiness,
    BussinessDocType,
    Code,
    DocumentType,
    DocumentUpdate,
    Edoc,
    Message,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    Receiver,
    Replacement,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    SteeringType,
    TraceHeader,
    TraceHeaderList,
    document_id_for,
    response_for,
)
from exchange.edxml.package import (
    PackageVerdict,
    build_signed,
    read_package,
    sign_package,
    verify_package,
)
from exchange.edxml.parse import Limits, ParsedPackage, SignatureElement, parse_package
from exchange.edxml.status import status_for

__all__ = [
    "EDXML_NS",
    "LIENTHONG_NS",
    "VIETNAM",
    "Attachment",
    "AttachmentTooLarge",
    "AttachmentUnsafe",
    "Bussiness",
    "BussinessDocType",
    "Code",
    "DocumentType",
    "DocumentUpdate",
    "Edoc",
    "EdxmlBadFormat",
    "EdxmlBadValue",
    "EdxmlError",
    "EdxmlMissing",
    "EdxmlOutOfRange",
    "EdxmlTooDeep",
    "EdxmlUnreadable",
    "Limits",
    "Message",
    "Organ",
    "OtherInfo",
    "PackageVerdict",
    "ParsedPackage",
    "Priority",
    "PromulgationInfo",
    "Receiver",
    "Replacement",
    "ResponseFor",
    "SignatureElement",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusMessage",
    "SteeringType",
    "TraceHeader",
    "TraceHeaderList",
    "build_edoc",
    "build_message",
    "build_signed",
    "build_status",
    "check_emittable",
    "document_id_for",
    "parse_package",
    "read_package",
    "response_for",
    "sign_package",
    "status_for",
    "verify_package",
]
