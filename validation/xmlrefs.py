"""What each reference of a signature covers, and the defences against signature wrapping:
references resolved by unique ids, transforms read and applied as XMLDSig defines them,
unsigned content and split text refused, the digested octets recomputed from our own
reading. Part of :mod:`validation.xml`.

**What a signature must cover** (signature wrapping). What the caller reads is the whole
document, so a signature passes only if it binds exactly that:

- *enveloped*: exactly one content reference, ``URI=""`` or ``#id`` of the document
  element, with the enveloped-signature transform or an XPath filter that removes the
  signature (see transforms), and one canonicalisation.
  For an edXML package that is the whole package: the attachments (``AttachmentEncoded``)
  lie outside ``edXMLEnvelope``, so a signature over the envelope alone would leave the
  documents themselves unsigned;
- *enveloping* (the document element is the ``ds:Signature``): every ``ds:Object`` that is
  not the XAdES properties holder is covered by exactly one reference, and nothing else is;
- *counter-signature* (XAdES ``CounterSignature`` in the ``UnsignedSignatureProperties`` of
  another signature): exactly one reference to the ``ds:SignatureValue`` of the signature
  it counter-signs (``Type`` ``…#CountersignedSignature``, if given, only there). It is
  judged as a signature of its own and reported as ``kind="counter-signature"`` with
  ``counter_signs`` naming the other's report; what it does not cover, the document, is
  the other signature's business. Other signatures inside a signature are not judged
  (reported as ignored);
- besides content, a reference may cover only this signature's own ``xades:SignedProperties``
  or ``ds:KeyInfo``;
- every ``#id`` a signature uses names exactly one element in the whole document, counting
  every attribute signxml resolves (``Id``, ``ID``, ``id`` in any namespace, ``xml:id``);
- transforms, applied as XMLDSig defines them (signxml's own are replaced, see
  :meth:`validation.xmlverify._Verifier._verify_reference`) and each one we accept really
  applied: enveloped-signature; the XPath 1.0 filters ``not(ancestor-or-self::ds:Signature)`` (every
  signature leaves what is signed; each of them is judged on its own) and XMLDSig §6.6.3's
  ``here()`` expression (this signature leaves), recognised exactly, not evaluated; base64
  (XMLDSig 1.1 §6.6.2: the text of a ``ds:Object`` of an enveloping signature, decoded; the
  Object may hold nothing but text); then one C14N (1.0, 1.1, exclusive, with or without
  comments), last. A ``URI=""`` or ``#id`` reference yields a node-set without comments
  (XMLDSig §4.4.3.3), so a WithComments C14N renders none either. Anything else is refused
  by name: XSLT, other XPath expressions, XPath Filter 2.0, a transform after the octets;
- no comment or processing instruction splits a text node of what a signature covers (a
  reference's node-set, ``ds:SignedInfo``): canonicalisation signs ``abc<!-- -->def`` as
  ``abcdef``, but a reader taking the element's text gets ``abc`` (an edXML attachment cut
  short, a base64 Object decoded in part). Between elements they are harmless and allowed;
- one signature is reported once: a ``ds:Signature`` whose ``ds:SignatureValue`` is that of
  an earlier one (a copy placed elsewhere, which the XPath filter lets verify too) fails as
  a duplicate;
- no ``ds:Object`` besides the XAdES one inside an enveloped signature, no ``ds:Manifest``,
  no foreign (non-XMLDSig/XAdES) element in the parts of the signature no reference covers
  (XMLDSig lets ``ds:KeyInfo`` carry any element: unsigned content a reader could take for the
  document's), no processing instruction outside the document element (not digested);
- after signxml has verified, the bytes it digested for each reference must equal our own
  canonicalisation of what the rule above says it covers (the document without this
  signature, the Object, the SignedProperties, the KeyInfo).

A breach of the structure rules is TOTAL-FAILED / FORMAT_FAILURE: the signature cannot be
tied to the document it comes with, so the cryptographic check cannot even be applied to
it. Bytes that differ from what was signed (a reference digest, or digested bytes that are
not the document) are TOTAL-FAILED / HASH_FAILURE; a ``ds:SignatureValue`` that does not
verify is SIG_CRYPTO_FAILURE.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from lxml import etree
from pyhanko.sign.ades.report import AdESFailure
from signxml.algorithms import CanonicalizationMethod
from signxml.exceptions import InvalidInput

from validation.report import Finding, SubIndication
from validation.xmlc14n import DEFAULT_C14N, canonical
from validation.xmlread import (
    DS,
    EXC_C14N_NS,
    XADES,
    XADES141_NS,
    XADES_NS,
    XMLDSIG11_NS,
    XMLDSIG_NS,
    Document,
    copy_element,
    follow,
    namespace_of,
    path_of,
)

__all__ = [
    "Reference",
    "ReferenceRole",
    "Transform",
    "Verdict",
    "check_exclusive_prefixes",
    "check_split_text",
    "check_unsigned_content",
    "digest_input",
    "expected_octets",
    "format_failure",
    "plan_references",
    "read_transforms",
    "unpinned_prefixes",
]

_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
_BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
_SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_COUNTERSIGNED_TYPE = "http://uri.etsi.org/01903#CountersignedSignature"


ReferenceRole = Literal["document", "object", "signed-properties", "key-info", "countersigned"]


# -- errors as verdicts --------------------------------------------------------------------


class Verdict(Exception):
    """Stops examining one signature with a verdict (internal to :mod:`validation.xml`)."""

    def __init__(self, sub: SubIndication, finding: Finding) -> None:
        super().__init__(finding.en)
        self.sub = sub
        self.finding = finding


def format_failure(code: str, en: str, vi: str) -> Verdict:
    return Verdict(AdESFailure.FORMAT_FAILURE, Finding(code=f"xml.{code}", en=en, vi=vi))


# -- what each reference covers ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Transform:
    """One step of a reference's transforms, as we apply it."""

    kind: Literal["enveloped", "without-signatures", "base64", "c14n"]
    """``enveloped``: this signature leaves the node-set (the enveloped-signature transform,
    or its XPath spelling with ``here()``); ``without-signatures``: every ``ds:Signature``
    leaves it (the XPath filter ``not(ancestor-or-self::ds:Signature)``); ``base64``: the
    text is decoded into octets; ``c14n``: the node-set is canonicalised into octets."""
    c14n: CanonicalizationMethod = DEFAULT_C14N
    prefixes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    uri: str
    role: ReferenceRole
    target: etree._Element
    transforms: tuple[Transform, ...]
    """What turns the target into the digested octets; the last step yields octets."""
    digest_uri: str


def plan_references(
    doc: Document,
    signature: etree._Element,
    signed_info: etree._Element,
    enveloping: bool,
    countersigned: etree._Element | None = None,
) -> list[Reference]:
    """What each reference covers, checked against the rules of the module docstring;
    ``countersigned``: the signature this one counter-signs (XAdES ``CounterSignature``),
    whose ``ds:SignatureValue`` it must cover."""
    qualifying = signature.findall(f"{DS}Object/{XADES}QualifyingProperties")
    if len(qualifying) > 1:
        raise format_failure(
            "structure",
            "the signature has more than one xades:QualifyingProperties",
            "chữ ký có nhiều hơn một xades:QualifyingProperties",
        )
    holder = qualifying[0].getparent() if qualifying else None
    signed_properties = qualifying[0].find(f"{XADES}SignedProperties") if qualifying else None
    if qualifying:
        sig_id = signature.get("Id")
        claimed_target = qualifying[0].get("Target")
        if not sig_id or claimed_target != f"#{sig_id}" or len(doc.ids.get(sig_id, [])) != 1:
            raise format_failure(
                "xades_target",
                "the XAdES properties do not belong to this signature (QualifyingProperties "
                "Target does not name its unique Id)",
                "thuộc tính XAdES không thuộc về chữ ký này (Target của QualifyingProperties "
                "không trỏ đến Id duy nhất của chữ ký)",
            )
    objects = [o for o in signature.findall(f"{DS}Object") if o is not holder]
    if any(o.find(f"{DS}Manifest") is not None for o in objects):
        raise format_failure(
            "manifest_unsupported",
            "the signature signs a ds:Manifest: the manifest's own references are not checked "
            "by XMLDSig core validation, so what they name is not proven signed",
            "chữ ký ký một ds:Manifest: các tham chiếu của manifest không được kiểm tra trong "
            "quy trình XMLDSig cơ bản nên nội dung chúng trỏ tới không được chứng minh là đã ký",
        )
    if objects and not enveloping:
        raise format_failure(
            "unsigned_object",
            "the signature carries a ds:Object besides its XAdES properties: content inside "
            "the signature that the enveloped reference does not sign",
            "chữ ký chứa ds:Object ngoài thuộc tính XAdES: nội dung nằm trong chữ ký mà tham "
            "chiếu bao (enveloped) không ký",
        )
    key_info = signature.find(f"{DS}KeyInfo")
    countersigned_value = (
        None if countersigned is None else countersigned.find(f"{DS}SignatureValue")
    )
    planned: list[Reference] = []
    for reference in signed_info.findall(f"{DS}Reference"):
        uri = reference.get("URI")
        if uri is None:
            raise format_failure(
                "reference_unsupported",
                "a ds:Reference without URI: what it signs is up to the application",
                "ds:Reference không có URI: nội dung được ký tùy ứng dụng hiểu",
            )
        target = _resolve(doc, uri)
        role: ReferenceRole
        if countersigned is not None:
            if countersigned_value is not None and target is countersigned_value:
                role = "countersigned"
            elif signed_properties is not None and target is signed_properties:
                role = "signed-properties"
            elif key_info is not None and target is key_info:
                role = "key-info"
            else:
                raise format_failure(
                    "countersignature_coverage",
                    f"reference {uri or '(whole document)'} of a counter-signature covers "
                    "something other than the ds:SignatureValue it counter-signs or its own "
                    "properties",
                    f"tham chiếu {uri or '(cả văn bản)'} của chữ ký xác nhận bao phủ thứ khác "
                    "với ds:SignatureValue được xác nhận hoặc thuộc tính của chính nó",
                )
        elif target is doc.root and not enveloping:
            role = "document"
        elif enveloping and any(target is o for o in objects):
            role = "object"
        elif signed_properties is not None and target is signed_properties:
            role = "signed-properties"
        elif key_info is not None and target is key_info:
            role = "key-info"
        else:
            raise format_failure(
                "reference_partial",
                f"reference {uri} covers something other than the whole document (part of "
                "it, or an element elsewhere): what is read would not be what was signed",
                f"tham chiếu {uri} bao phủ thứ khác với toàn bộ văn bản (một phần văn bản hoặc "
                "phần tử ở nơi khác): nội dung được đọc sẽ không phải nội dung đã ký",
            )
        if reference.get("Type") == _SIGNED_PROPERTIES_TYPE and role != "signed-properties":
            raise format_failure(
                "xades_target",
                f"reference {uri} claims to sign XAdES SignedProperties but does not",
                f"tham chiếu {uri} tự nhận ký SignedProperties của XAdES nhưng không phải",
            )
        if reference.get("Type") == _COUNTERSIGNED_TYPE and role != "countersigned":
            raise format_failure(
                "countersignature_target",
                f"reference {uri} claims to counter-sign a signature but does not cover the "
                "ds:SignatureValue of the signature that holds this counter-signature",
                f"tham chiếu {uri} tự nhận là chữ ký xác nhận nhưng không bao phủ "
                "ds:SignatureValue của chữ ký chứa chữ ký xác nhận này",
            )
        holders = reference.findall(f"{DS}Transforms")
        if len(holders) > 1:
            raise format_failure(
                "structure",
                f"reference {uri or '(whole document)'} has more than one ds:Transforms",
                f"tham chiếu {uri or '(cả văn bản)'} có nhiều hơn một ds:Transforms",
            )
        transforms = read_transforms(holders[0] if holders else None, uri, role)
        if any(t.kind == "base64" for t in transforms):
            _base64_octets(target)  # its content is checked before any cryptography
        digest_method = reference.find(f"{DS}DigestMethod")
        planned.append(
            Reference(
                uri=uri,
                role=role,
                target=target,
                transforms=transforms,
                digest_uri=(digest_method.get("Algorithm") or "")
                if digest_method is not None
                else "",
            )
        )
    roles = [r.role for r in planned]
    covered_objects = [r.target for r in planned if r.role == "object"]
    if countersigned is not None:
        complete = roles.count("countersigned") == 1
    elif enveloping:
        complete = (
            bool(objects)
            and len(covered_objects) == len(objects)
            and all(any(o is c for c in covered_objects) for o in objects)
        )
    else:
        complete = roles.count("document") == 1
    if (
        not complete
        or roles.count("signed-properties") > 1
        or roles.count("key-info") > 1
        or (signed_properties is not None and "signed-properties" not in roles)
    ):
        raise format_failure(
            "coverage",
            "the references do not cover the document exactly once (enveloped: one reference "
            'to the whole document, URI="" or the root\'s Id; enveloping: each ds:Object once; '
            "counter-signature: the counter-signed ds:SignatureValue once; XAdES: the "
            "SignedProperties once)",
            "các tham chiếu không bao phủ văn bản đúng một lần (chữ ký bao: một tham chiếu đến "
            'toàn bộ văn bản, URI="" hoặc Id của phần tử gốc; chữ ký gói: mỗi ds:Object một '
            "lần; chữ ký xác nhận: ds:SignatureValue được xác nhận một lần; XAdES: "
            "SignedProperties một lần)",
        )
    return planned


_SIGNATURE_NAMESPACES = frozenset({XMLDSIG_NS, XMLDSIG11_NS, XADES_NS, XADES141_NS, EXC_C14N_NS})


def check_unsigned_content(
    signature: etree._Element, signed_info: etree._Element, references: Sequence[Reference]
) -> None:
    """The parts of a signature no reference covers (KeyInfo unless referenced, the XAdES
    unsigned properties, …) may hold only XMLDSig and XAdES elements. XMLDSig lets KeyInfo
    and others carry any foreign element; such content is unsigned, yet a reader looking for,
    say, ``.//edXML:Attachment`` would find it."""
    signed = [signed_info, *(r.target for r in references if r.role != "document")]

    def covered(element: etree._Element) -> bool:
        return any(element is s or any(a is s for a in element.iterancestors()) for s in signed)

    for element in signature.iter(tag=etree.Element):
        if covered(element):
            continue
        if namespace_of(element) not in _SIGNATURE_NAMESPACES:
            raise format_failure(
                "unsigned_content",
                f"the signature carries a foreign element {element.tag} in a part no reference "
                "signs: content that could be read as the document's, unsigned",
                f"chữ ký chứa phần tử lạ {element.tag} ở phần không được tham chiếu nào ký: nội "
                "dung có thể bị đọc nhầm là của văn bản mà không được ký",
            )
        # a container (KeyInfo, Object, the XAdES properties, …) holds elements, not words:
        # text there is unsigned, yet in the document's string value. Values sit in leaves
        # (certificates, timestamps, names); a ds:Object holds none of its own
        container = len(element) > 0 or element.tag == f"{DS}Object"
        texts = [element.text] if container else []
        texts += [child.tail for child in element]
        if any(text and text.strip(_WHITE) for text in texts):
            raise format_failure(
                "unsigned_content",
                f"the signature carries text inside {element.tag}, in a part no reference "
                "signs: words that could be read as the document's, unsigned",
                f"chữ ký chứa chữ bên trong {element.tag}, ở phần không được tham chiếu nào "
                "ký: nội dung có thể bị đọc nhầm là của văn bản mà không được ký",
            )


_EXCLUSIVE = frozenset(
    (
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS,
    )
)
_QNAME = re.compile(r"([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*")


def unpinned_prefixes(
    target: etree._Element, removed: Callable[[etree._Element], bool] = lambda _: False
) -> Iterator[tuple[etree._Element, str, str]]:
    """``(element, value, prefix)`` for every attribute value or text at or under ``target``
    that is a QName (``prefix:name``) whose prefix, in scope there, neither the element nor
    (alone bound to its namespace) one of its attributes is named with: the values whose
    namespace exclusive canonicalisation leaves unsigned."""
    for element in target.iter(tag=etree.Element):
        values = [str(v) for v in element.attrib.values() if ":" in v and len(v) < 256]
        if element.text and ":" in element.text and len(element.text) < 256:
            values.append(element.text)
        if not values or removed(element):
            continue
        # the namespaces its attributes are named in: their prefixes' declarations are
        # output here, so signed (when one prefix alone is bound to the namespace)
        named = {etree.QName(name).namespace for name in element.attrib}
        bound = list(element.nsmap.values())
        for value in values:
            match = _QNAME.fullmatch(value.strip(_WHITE))
            if match is None:
                continue
            prefix = match.group(1)
            if prefix not in element.nsmap or prefix == element.prefix:
                continue
            uri = element.nsmap[prefix]
            if uri in named and bound.count(uri) == 1:
                continue
            yield element, value, prefix


def check_exclusive_prefixes(signature: etree._Element, references: Sequence[Reference]) -> None:
    """Exclusive canonicalisation signs a namespace declaration only where its prefix names
    the element or one of its attributes (or is in ``InclusiveNamespaces``). A prefix used
    only inside a value (``xsi:type="kq:QuyetDinh"``, or an element whose text is
    ``kq:ChapThuan``) can then be rebound after signing, digest unchanged, and the value read
    in another namespace. Such a value, whose prefix the element itself does not use by
    name, is refused under exclusive canonicalisation (inclusive canonicalisation signs every
    declaration in scope; our signer lists such prefixes in ``InclusiveNamespaces``)."""
    for reference in references:
        last = reference.transforms[-1] if reference.transforms else None
        if last is None or last.kind != "c14n" or last.c14n not in _EXCLUSIVE:
            continue
        listed = set(last.prefixes or ())
        removed = _removed_by(reference, signature)
        for element, value, prefix in unpinned_prefixes(reference.target, removed):
            if prefix in listed:
                continue
            raise format_failure(
                "unsigned_namespace",
                f"the value {value.strip(_WHITE)!r} of {element.tag} names a namespace "
                f"prefix ({prefix}) whose declaration exclusive canonicalisation does not "
                "sign: it could be rebound after signing and the value read otherwise",
                f"giá trị {value.strip(_WHITE)!r} của {element.tag} dùng tiền tố không gian "
                f"tên ({prefix}) mà chuẩn hóa loại trừ không ký phần khai báo: nó có thể bị "
                "gán lại sau khi ký và giá trị bị hiểu khác",
            )


def check_split_text(
    signature: etree._Element, signed_info: etree._Element, references: Sequence[Reference]
) -> None:
    """Inside what the signature covers (each reference's node-set, and ``ds:SignedInfo``),
    no comment or processing instruction may split a text node: stand between non-white text
    on both sides within one element. Canonicalisation without comments signs the whole text
    (``abc<!-- -->def`` as ``abcdef``), but a reader taking the element's text (lxml's
    ``.text``) gets only ``abc``: 3,000 of the 270,823 bytes of an edXML attachment, say.
    Comments between elements (white space around them) are left alone. The signature
    itself, which the enveloped transform takes out, splits the text the same way when words
    follow it: ``<a>abc<ds:Signature/>def</a>`` is signed as ``abcdef``, read as ``abc``."""
    for reference in references:
        removed = _removed_by(reference, signature)
        split = _split_text(reference.target, removed)
        if split is not None:
            raise _split_text_verdict(split, reference.uri)
        parent = signature.getparent()
        if (
            parent is not None
            and removed(signature)
            and signature.tail
            and signature.tail.strip(_WHITE)
        ):
            raise _split_text_verdict(parent, reference.uri)
    split = _split_text(signed_info, lambda _: False)
    if split is not None:
        raise _split_text_verdict(split, None)


def _removed_by(
    reference: Reference, signature: etree._Element
) -> Callable[[etree._Element], bool]:
    """Whether an element under the reference's target leaves its node-set with a signature
    the transforms remove (this one: enveloped; every one: the XPath filter)."""
    kinds = {t.kind for t in reference.transforms}

    def removed(element: etree._Element) -> bool:
        for node in (element, *element.iterancestors()):
            if node is reference.target:
                return False
            if (node is signature and "enveloped" in kinds) or (
                node.tag == f"{DS}Signature" and "without-signatures" in kinds
            ):
                return True
        return False

    return removed


_WHITE = " \t\r\n"


def _split_text(
    element: etree._Element, removed: Callable[[etree._Element], bool]
) -> etree._Element | None:
    """The first element at or under ``element`` (and not ``removed``) whose text a comment or
    processing instruction cuts: one followed by non-blank text within the same parent. A
    reader taking the element's ``.text`` (or the preceding child's ``.tail``) stops there,
    whatever came before: a comment at the very start hides the whole text. Linear: each
    parent's children are read once."""
    parents: dict[etree._Element, None] = {}
    for node in element.iter(etree.Comment, etree.ProcessingInstruction):
        parent = node.getparent()
        if parent is not None and parent not in parents:
            parents[parent] = None
    for parent in parents:
        if removed(parent):
            continue
        for child in parent:
            if not isinstance(child.tag, str) and (child.tail or "").strip(_WHITE):
                return parent
    return None


def _split_text_verdict(element: etree._Element, uri: str | None) -> Verdict:
    name = etree.QName(element).localname
    if uri is None:
        where_en, where_vi = "ds:SignedInfo", "ds:SignedInfo"
    else:
        where_en = f"reference {uri or '(whole document)'}"
        where_vi = f"tham chiếu {uri or '(cả văn bản)'}"
    return format_failure(
        "comment_in_signed_text",
        f"a comment or processing instruction splits the text of <{name}> in what {where_en} "
        "signs: the whole text is signed, but a reader taking the element's text gets only "
        "the part before it (what is read would not be what was signed)",
        f"một chú thích (comment) hoặc chỉ thị xử lý chia cắt phần chữ của <{name}> trong nội "
        f"dung {where_vi} ký: toàn bộ phần chữ được ký, nhưng chương trình đọc phần chữ của "
        "phần tử chỉ nhận được đoạn đứng trước nó (nội dung được đọc sẽ không phải nội dung "
        "đã ký)",
    )


def _resolve(doc: Document, uri: str) -> etree._Element:
    if uri == "":
        return doc.root
    name = uri[1:]
    if not uri.startswith("#") or not name or "(" in name or "/" in name:
        raise format_failure(
            "reference_unsupported",
            f"reference {uri!r} points outside the document or uses XPointer: not supported "
            "(the validator never fetches anything)",
            f"tham chiếu {uri!r} trỏ ra ngoài văn bản hoặc dùng XPointer: không hỗ trợ (trình "
            "kiểm tra không tải gì từ bên ngoài)",
        )
    found = doc.ids.get(name, [])
    if len(found) != 1:
        if not found:
            raise format_failure(
                "reference_missing",
                f"reference {uri} names no element of the document",
                f"tham chiếu {uri} không trỏ đến phần tử nào của văn bản",
            )
        raise format_failure(
            "duplicate_id",
            f"the Id {name!r} is used by {len(found)} elements: reference {uri} is ambiguous "
            "(a forged twin of the signed element, signature wrapping)",
            f"Id {name!r} được dùng cho {len(found)} phần tử: tham chiếu {uri} không rõ ràng "
            "(phần tử giả mạo trùng Id với phần tử đã ký, tấn công bọc chữ ký)",
        )
    return found[0]


def _transform_refused(where: tuple[str, str], algorithm: str, en: str, vi: str) -> Verdict:
    return format_failure(
        "transform_forbidden",
        f"reference {where[0]} uses the transform {algorithm or '(none)'}: {en}",
        f"tham chiếu {where[1]} dùng phép biến đổi {algorithm or '(không có)'}: {vi}",
    )


def read_transforms(
    transforms: etree._Element | None, uri: str, role: ReferenceRole
) -> tuple[Transform, ...]:
    """A reference's ``ds:Transforms``, checked and read into the steps we apply. Accepted,
    in this order: enveloped-signature and the XPath filters of :func:`_xpath_filter` (on the
    document); base64 (first, on a ``ds:Object`` of an enveloping signature); then one C14N
    (1.0, 1.1, exclusive, with or without comments), which ends the chain. Without a C14N or
    base64 at the end, C14N 1.0 is applied (XMLDSig §4.4.3.2). Any other transform is refused
    with its name: we never skip one."""
    where = (uri or "(whole document)", uri or "(cả văn bản)")
    steps: list[Transform] = []
    items = [] if transforms is None else list(transforms.iterchildren(f"{DS}Transform"))
    for transform in items:
        algorithm = transform.get("Algorithm") or ""
        if steps and steps[-1].kind in ("base64", "c14n"):
            raise _transform_refused(
                where,
                algorithm,
                "it comes after a canonicalisation or base64 transform, whose output is octets "
                "(reading them again as XML is not supported)",
                "phép này đứng sau một phép chuẩn hóa hoặc base64, vốn cho ra chuỗi byte (không "
                "hỗ trợ đọc lại chuỗi byte đó thành XML)",
            )
        if algorithm in (_ENVELOPED, _XPATH) and role != "document":
            raise _transform_refused(
                where,
                algorithm,
                "it removes signatures from what is signed, but this reference does not cover "
                "the document that contains the signature",
                "phép này loại chữ ký khỏi nội dung được ký, nhưng tham chiếu này không bao phủ "
                "văn bản chứa chữ ký",
            )
        if algorithm == _ENVELOPED:
            steps.append(Transform(kind="enveloped"))
        elif algorithm == _XPATH:
            steps.append(Transform(kind=_xpath_filter(transform, where)))
        elif algorithm == _BASE64:
            if role != "object" or steps:
                raise _transform_refused(
                    where,
                    algorithm,
                    "base64 decoding is accepted only as the first transform of a reference to "
                    "a ds:Object of an enveloping signature (elsewhere it would sign the text "
                    "of the document, not the document)",
                    "giải mã base64 chỉ được chấp nhận là phép biến đổi đầu tiên của tham chiếu "
                    "đến một ds:Object của chữ ký gói (ở chỗ khác nó ký phần chữ của văn bản, "
                    "không phải văn bản)",
                )
            steps.append(Transform(kind="base64"))
        else:
            try:
                method = CanonicalizationMethod(algorithm)
            except (ValueError, InvalidInput):
                raise _transform_refused(
                    where,
                    algorithm,
                    "not supported (accepted: enveloped-signature, the XPath filter "
                    "not(ancestor-or-self::ds:Signature), base64 for a ds:Object, and "
                    "canonicalisation; XSLT, XPath Filter 2.0 and others can make the signed "
                    "content differ from what is read)",
                    "không được hỗ trợ (chấp nhận: enveloped-signature, bộ lọc XPath "
                    "not(ancestor-or-self::ds:Signature), base64 cho ds:Object và chuẩn hóa; "
                    "XSLT, XPath Filter 2.0 và các phép khác có thể làm nội dung được ký khác "
                    "nội dung được đọc)",
                ) from None
            inclusive = transform.find(f"{{{EXC_C14N_NS}}}InclusiveNamespaces")
            prefix_list = None if inclusive is None else inclusive.get("PrefixList")
            steps.append(
                Transform(
                    kind="c14n",
                    c14n=method,
                    prefixes=None if prefix_list is None else tuple(prefix_list.split()),
                )
            )
    if role == "document" and not any(s.kind in ("enveloped", "without-signatures") for s in steps):
        raise format_failure(
            "transform_forbidden",
            f"reference {where[0]} covers the document that contains the signature without the "
            "enveloped-signature transform",
            f"tham chiếu {where[1]} bao phủ văn bản chứa chữ ký mà không có phép biến đổi "
            "enveloped-signature",
        )
    if not steps or steps[-1].kind not in ("base64", "c14n"):
        steps.append(Transform(kind="c14n"))
    return tuple(steps)


_QNAME_PREFIX = r"([^\W\d][\w.-]*)"
_XPATH_SPACE = r"[ \t\r\n]*"


def _xpath_pattern(*tokens: str) -> re.Pattern[str]:
    """A pattern of XPath tokens, with XPath white space allowed around each one."""
    return re.compile(_XPATH_SPACE + _XPATH_SPACE.join(tokens) + _XPATH_SPACE)


_SIGNATURE_STEP = (r"ancestor-or-self", "::", rf"{_QNAME_PREFIX}:Signature")
_XPATH_WITHOUT_SIGNATURES = _xpath_pattern("not", r"\(", *_SIGNATURE_STEP, r"\)")
_XPATH_ENVELOPED = _xpath_pattern(
    "count", r"\(", *_SIGNATURE_STEP, r"\|", "here", r"\(", r"\)", "/", "ancestor", "::",
    rf"{_QNAME_PREFIX}:Signature", r"\[", "1", r"\]", r"\)", ">", "count", r"\(", *_SIGNATURE_STEP,
    r"\)",
)  # fmt: skip


def _xpath_filter(
    transform: etree._Element, where: tuple[str, str]
) -> Literal["enveloped", "without-signatures"]:
    """The XPath 1.0 filters we apply, recognised exactly (no XPath engine runs on what the
    document says, so no extension function, ``document()`` or runaway expression can):

    - ``not(ancestor-or-self::ds:Signature)``: every signature leaves the node-set (the
      pre-2002 spelling of the enveloped-signature transform, used beside it or alone, and
      the way to let several signatures not cover one another);
    - ``count(ancestor-or-self::ds:Signature | here()/ancestor::ds:Signature[1]) >
      count(ancestor-or-self::ds:Signature)``: this signature leaves it (XMLDSig §6.6.3's
      enveloped-signature expression).

    ``ds`` must be bound to the XMLDSig namespace on the ``ds:XPath`` element; read from the
    verified ``ds:SignedInfo``, so the binding itself is signed. Anything else is refused."""
    xpath = transform.find(f"{DS}XPath")
    expression = "" if xpath is None else "".join(t for t in xpath.itertext() if isinstance(t, str))
    if xpath is not None and len(xpath) == 0:
        for pattern, kind in (
            (_XPATH_WITHOUT_SIGNATURES, "without-signatures"),
            (_XPATH_ENVELOPED, "enveloped"),
        ):
            found = pattern.fullmatch(expression)
            if found is not None and all(xpath.nsmap.get(p) == XMLDSIG_NS for p in found.groups()):
                return "enveloped" if kind == "enveloped" else "without-signatures"
    shown = " ".join(expression.split())
    shown = shown if len(shown) <= 200 else shown[:197] + "..."
    raise format_failure(
        "xpath_unsupported",
        f"reference {where[0]} uses the XPath filter transform ({_XPATH}) with an "
        f"expression we do not apply: {shown!r}; only not(ancestor-or-self::ds:Signature) "
        "and XMLDSig's enveloped-signature expression (with ds bound to the XMLDSig "
        "namespace in the signed ds:SignedInfo) are accepted, because another expression can "
        "leave part of what is read unsigned",
        f"tham chiếu {where[1]} dùng phép biến đổi lọc XPath ({_XPATH}) với biểu thức không "
        f"được áp dụng: {shown!r}; chỉ chấp nhận not(ancestor-or-self::ds:Signature) và biểu "
        "thức enveloped-signature của XMLDSig (với ds gắn với không gian tên XMLDSig trong "
        "ds:SignedInfo đã ký), vì biểu thức khác có thể để một phần nội dung được đọc không "
        "được ký",
    )


_XML_SPACE = str.maketrans("", "", " \t\r\n")
_BASE64_TEXT = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _base64_octets(element: etree._Element) -> bytes:
    """XMLDSig 1.1 §6.6.2: the node-set's text nodes (``self::text()``), their string value
    base64-decoded. The element may hold only text (and comments, which are not in the
    node-set, but may not split the text: :func:`check_split_text`): a child element would
    be markup the signature does not cover. Characters outside the base64 alphabet other
    than XML white space are refused, not skipped, and so is anything after the padding."""
    if any(not isinstance(child, etree._Comment) for child in element):
        raise format_failure(
            "base64_content",
            "a base64-encoded ds:Object holds elements or processing instructions besides "
            "its text: markup the signature does not cover",
            "một ds:Object mã hóa base64 chứa phần tử hoặc chỉ thị xử lý ngoài phần chữ: phần "
            "đánh dấu đó không được chữ ký bao phủ",
        )
    text = ((element.text or "") + "".join(child.tail or "" for child in element)).translate(
        _XML_SPACE
    )
    try:
        # nothing after the padding, no padding a complete last quantum does not need
        # (RFC 2045 §6.8; xmlsec1 refuses both; binascii's strict mode lets "QUJD==" through)
        if _BASE64_TEXT.fullmatch(text) is None:
            raise ValueError("not RFC 2045 base64")
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise format_failure(
            "base64_invalid",
            "a ds:Object signed through the base64 transform does not hold valid base64",
            "một ds:Object được ký qua phép biến đổi base64 không chứa dữ liệu base64 hợp lệ",
        ) from None


# -- the octets a reference digests --------------------------------------------------------


def _detach(element: etree._Element) -> None:
    """Remove ``element`` and keep its tail text (what the enveloped-signature transform
    does: only the signature's own nodes go)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def digest_input(
    signature: etree._Element, target: etree._Element, transforms: Sequence[Transform]
) -> bytes:
    """The octets a reference digests: its transforms applied to ``target`` (the element the
    URI names) in the tree that holds ``signature``. Enveloped and XPath steps edit that
    tree: give a copy. The node-set of a ``URI=""`` or ``#id`` reference has no comments
    (XMLDSig §4.4.3.3), so none are rendered, WithComments or not."""
    node = target
    for step in transforms:
        if step.kind == "enveloped":
            _detach(signature)
        elif step.kind == "without-signatures":
            outermost = [
                s
                for s in node.iter(f"{DS}Signature")
                if s is not node and not any(a.tag == f"{DS}Signature" for a in s.iterancestors())
            ]
            for found in outermost:
                _detach(found)
        elif step.kind == "base64":
            return _base64_octets(node)
        else:
            return canonical(node, step.c14n, step.prefixes, comments=False)
    raise InvalidInput("the transforms yield no octets")


def expected_octets(root: etree._Element, signature: etree._Element, reference: Reference) -> bytes:
    """What the reference must have digested, computed from our own reading of the
    document: the document without this signature (or without any, for the XPath filter),
    or the element it names."""
    if all(t.kind in ("base64", "c14n") for t in reference.transforms):
        return digest_input(signature, reference.target, reference.transforms)
    document = copy_element(root)
    return digest_input(
        follow(document, path_of(signature)),
        follow(document, path_of(reference.target)),
        reference.transforms,
    )
