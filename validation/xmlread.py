"""Reading an XML document for validation: hardened parsing of untrusted XML (UTF-8 and
UTF-16), the document as examined (its ids, its signatures: counter-signatures, copies,
non-standard ones) and the record of what examining one signature found. Part of
:mod:`validation.xml`.

**Parsing** never expands entities, never loads a DTD, never touches the network. A
``<!DOCTYPE`` is refused before the parser runs (bombs, XXE and external DTDs are all
declared there) and again after it; documents over :data:`MAX_XML_BYTES` are refused too.
UTF-8 and UTF-16 (either byte order, with its byte-order mark) are read alike: what is
signed is the canonical form, which is UTF-8 whatever the document's encoding. A UTF-8
byte-order mark before the declaration of another encoding is a contradiction, refused.

**edXML.** Some producers put ``Signature`` in the edXML namespace instead of XMLDSig's (the
samples in the shared corpus do). That is not XMLDSig; we do not guess how to verify it: it
is reported INDETERMINATE / GENERIC with the reason (GENERIC, not SIGNED_DATA_NOT_FOUND:
the signed data is right there, it is the signature format we cannot process, and the
document-level SIGNED_DATA_NOT_FOUND already means "no signature at all").
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509
from lxml import etree
from pyhanko.sign.ades.report import AdESIndeterminate

from validation.report import Finding, SubIndication, Unparseable

__all__ = [
    "DS",
    "EDXML_NS",
    "EXC_C14N_NS",
    "MAX_XML_BYTES",
    "XADES",
    "XADES141_NS",
    "XADES_NS",
    "XMLDSIG11_NS",
    "XMLDSIG_NS",
    "Document",
    "Examined",
    "Stamp",
    "copy_element",
    "countersigned_signature",
    "examined_nonstandard",
    "follow",
    "hardened_parser",
    "is_nonstandard_signature",
    "local_name",
    "namespace_of",
    "parse_untrusted_xml",
    "path_of",
    "read_document",
    "signature_value_key",
]

XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XMLDSIG11_NS = "http://www.w3.org/2009/xmldsig11#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
XADES141_NS = "http://uri.etsi.org/01903/v1.4.1#"
EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

MAX_XML_BYTES = 64 * 1024 * 1024
"""Larger documents are refused: lxml and signxml hold several copies of the tree, and the
validator must stay within its memory bound. (Text nodes are also limited to 10 MB by
libxml2 without ``huge_tree``, as when signing.)"""

DS = f"{{{XMLDSIG_NS}}}"
XADES = f"{{{XADES_NS}}}"
_ID_ATTRIBUTES = frozenset({"Id", "ID", "id"})
"""Local names of the attributes signxml resolves ``#id`` against, in any namespace
(``xml:id`` included)."""


# -- parsing -------------------------------------------------------------------------------


def _unparseable(code: str, en: str, vi: str) -> Unparseable:
    return Unparseable(Finding(code=f"xml.{code}", en=en, vi=vi))


def _unsafe_dtd() -> Unparseable:
    return _unparseable(
        "unsafe",
        "the document has a DTD (<!DOCTYPE …>): refused, because DTDs and entities can hide "
        "content, exhaust memory or read files and URLs (XML bombs, XXE)",
        "văn bản có DTD (<!DOCTYPE …>): bị từ chối vì DTD và thực thể có thể che giấu nội dung, "
        "làm cạn bộ nhớ hoặc đọc tệp và địa chỉ mạng (bom XML, XXE)",
    )


def _refuse_doctype(data: bytes) -> None:
    """Refuse a document type declaration before any parser sees it: skip the BOM, the XML
    declaration, processing instructions, comments and white space of the prolog; ``<!``
    anything else there is a DOCTYPE (or not XML at all)."""
    head = data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(data) >= 2 and (data[0] == 0) != (data[1] == 0)
    ):
        codec = "utf-16"
        if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            codec = "utf-16-be" if data[0] == 0 else "utf-16-le"
        head = data.decode(codec, errors="replace").encode("utf-8")
    i = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    size = len(head)
    while i < size:
        if head[i] in b" \t\r\n":
            i += 1
        elif head.startswith(b"<?", i):
            end = head.find(b"?>", i + 2)
            if end < 0:
                return
            i = end + 2
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i + 4)
            if end < 0:
                return
            i = end + 3
        elif head.startswith(b"<!", i):
            raise _unsafe_dtd()
        else:
            return


_DECLARED_ENCODING = re.compile(
    rb"<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*([\"'])([A-Za-z][A-Za-z0-9._-]*)\1"
)


def _refuse_contradicting_bom(data: bytes) -> None:
    """A UTF-8 byte-order mark before a declaration of another encoding (``encoding='UTF-16'``)
    is a fatal error (XML 1.0 §4.3.3): libxml2 would read the document as UTF-8 anyway,
    xmlsec1 refuses it. Refused as unreadable rather than guessed."""
    if not data.startswith(b"\xef\xbb\xbf"):
        return
    head = data[3:512]
    declared = _DECLARED_ENCODING.match(head) if head.startswith(b"<?xml") else None
    if declared is None:
        return
    name = declared.group(2).decode("ascii")
    if name.lower().replace("_", "-") in ("utf-8", "utf8"):
        return
    raise _unparseable(
        "unreadable",
        f"the document starts with a UTF-8 byte-order mark but declares the encoding {name}: "
        "it cannot be read unambiguously",
        f"văn bản bắt đầu bằng dấu thứ tự byte (BOM) UTF-8 nhưng khai báo bảng mã {name}: "
        "không thể đọc một cách rõ ràng",
    )


def hardened_parser() -> etree.XMLParser:
    """A fresh hardened parser (parsers are not shared between threads)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def parse_untrusted_xml(data: bytes) -> etree._Element:
    """Parse XML from outside: no DTD, no entities, no network, bounded size; anything else
    raises :class:`Unparseable` with the reason. The signing room parses with it too."""
    if len(data) > MAX_XML_BYTES:
        raise _unparseable(
            "too_large",
            f"the document is larger than {MAX_XML_BYTES // (1024 * 1024)} MiB: refused",
            f"văn bản lớn hơn {MAX_XML_BYTES // (1024 * 1024)} MiB: bị từ chối",
        )
    _refuse_doctype(data)
    _refuse_contradicting_bom(data)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        if "Resource limit exceeded" in str(exc) or "Huge input" in str(exc):
            raise _unparseable(
                "too_large",
                "the document exceeds the parser's safety limits (a text node over 10 MB or "
                "nesting deeper than 256 levels)",
                "văn bản vượt giới hạn an toàn của bộ phân tích (một nút văn bản quá 10 MB "
                "hoặc lồng sâu quá 256 mức)",
            ) from exc
        raise _unparseable(
            "unreadable",
            f"the document is not well-formed XML: {exc}",
            "văn bản không phải XML hợp lệ",
        ) from exc
    except ValueError as exc:
        raise _unparseable(
            "unreadable",
            f"the document is not well-formed XML: {exc}",
            "văn bản không phải XML hợp lệ",
        ) from exc
    if root is None:
        raise _unparseable("unreadable", "the document is empty", "văn bản rỗng")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _unsafe_dtd()
    if next(root.iter(etree.Entity), None) is not None:
        raise _unsafe_dtd()
    return root


def copy_element(element: etree._Element) -> etree._Element:
    """``element`` as the root of a new document, with every namespace in scope declared on
    it (how lxml serialises a subtree)."""
    return etree.fromstring(etree.tostring(element, with_tail=False), hardened_parser())


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def namespace_of(element: etree._Element) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def path_of(element: etree._Element) -> tuple[int, ...]:
    path: list[int] = []
    node = element
    while (parent := node.getparent()) is not None:
        path.append(parent.index(node))
        node = parent
    return tuple(reversed(path))


def follow(root: etree._Element, path: Sequence[int]) -> etree._Element:
    node = root
    for index in path:
        node = node[index]
    return node


def _id_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(tag=etree.Element):
        for name, value in element.attrib.items():
            if etree.QName(name).localname in _ID_ATTRIBUTES:
                index.setdefault(str(value), []).append(element)
    return index


# -- the document, examined ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """The document as read: its root, every element each id names, and whether a
    processing instruction stands outside the root (no signature covers it)."""

    root: etree._Element
    ids: dict[str, list[etree._Element]]
    stray_pi: bool


def read_document(data: bytes) -> Document:
    """``data`` parsed by :func:`parse_untrusted_xml`, with the index of its ids and whether a
    processing instruction stands outside its document element."""
    root = parse_untrusted_xml(data)
    return Document(
        root=root,
        ids=_id_index(root),
        stray_pi=any(
            isinstance(n, etree._ProcessingInstruction)
            for n in (*root.itersiblings(preceding=True), *root.itersiblings())
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamp:
    """A ``xades:SignatureTimeStamp``: the token and the bytes it must cover."""

    token: bytes
    covered: bytes


@dataclass(slots=True, kw_only=True)
class Examined:
    """What examining one signature found (structure, references, cryptography, its XAdES
    properties), handed to the judgement (:func:`validation.xmljudge.judge`)."""

    id: str
    counter_signs: str | None = None
    """For a XAdES counter-signature: the id of the signature it counter-signs."""
    early: tuple[SubIndication, Finding] | None = None
    """A verdict reached without the certificate path."""
    signer: x509.Certificate | None = None
    certificates: list[x509.Certificate] = field(default_factory=list)
    signature_uri: str | None = None
    digest_uris: list[str] = field(default_factory=list)
    claimed_time: datetime | None = None
    stamps: list[Stamp] = field(default_factory=list)
    integrity: bool | None = None
    signature_valid: bool | None = None
    findings: list[Finding] = field(default_factory=list)
    signing_certificate_problem: str | None = None


def signature_value_key(signature: etree._Element) -> bytes | None:
    """The octets of the signature's ``ds:SignatureValue`` (its text without white space if it
    is not base64), to tell copies of one signature; ``None`` if it has none."""
    value = signature.find(f"{DS}SignatureValue")
    text = "".join(((None if value is None else value.text) or "").split())
    if not text:
        return None
    try:
        return b"b" + base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        # as signxml reads it (characters outside the alphabet dropped): a copy with a stray
        # '-' or '*' is still the same signature
        return b"b" + base64.b64decode(text)
    except (binascii.Error, ValueError):
        return b"t" + text.encode("utf-8", errors="surrogatepass")


_COUNTER_SIGNATURE_PATH = (
    f"{XADES}CounterSignature",
    f"{XADES}UnsignedSignatureProperties",
    f"{XADES}UnsignedProperties",
    f"{XADES}QualifyingProperties",
    f"{DS}Object",
    f"{DS}Signature",
)


def countersigned_signature(signature: etree._Element) -> etree._Element | None:
    """The signature that ``signature`` counter-signs, if it is a XAdES counter-signature:
    ``ds:Signature/ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/
    xades:UnsignedSignatureProperties/xades:CounterSignature/ds:Signature``."""
    node: etree._Element | None = signature
    for tag in _COUNTER_SIGNATURE_PATH:
        node = None if node is None else node.getparent()
        if node is None or node.tag != tag:
            return None
    return node


def is_nonstandard_signature(element: etree._Element) -> bool:
    if local_name(element) != "Signature" or namespace_of(element) == XMLDSIG_NS:
        return False
    if namespace_of(element) == EDXML_NS:
        return True
    return any(local_name(child) in ("SignedInfo", "SignatureValue") for child in element)


def examined_nonstandard(element: etree._Element, id: str) -> Examined:
    where = etree.QName(element).namespace or "no namespace"
    return Examined(
        id=id,
        early=(
            AdESIndeterminate.GENERIC,
            Finding(
                code="xml.nonstandard_signature",
                en=f"a non-standard signature element we cannot verify: <Signature> in the "
                f"namespace {where}, not in the XMLDSig namespace {XMLDSIG_NS} (some edXML "
                "producers write it so); ask the sender for a standard XMLDSig signature",
                vi=f"phần tử chữ ký không theo chuẩn nên không kiểm tra được: <Signature> thuộc "
                f"không gian tên {where}, không thuộc không gian tên XMLDSig {XMLDSIG_NS} "
                "(một số phần mềm edXML ghi như vậy); đề nghị bên gửi dùng chữ ký XMLDSig chuẩn",
            ),
        ),
    )
