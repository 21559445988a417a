"""XML signatures: enveloped and enveloping XMLDSig, XAdES B-B and B-T, edXML packages.

signxml checks the cryptography (``ds:SignatureValue`` over ``ds:SignedInfo``, every
``ds:Reference`` digest, XAdES ``SigningCertificate``); pyHanko and pyhanko-certvalidator
judge the certificate path, validity, revocation, key usage and algorithms through the same
contexts as PDF and CMS (:mod:`validation.context`, :func:`validation.cms.context_for`), and
the XAdES ``SignatureTimeStamp`` through :func:`validation.cms.judge_timestamp_token`.

**Parsing** never expands entities, never loads a DTD, never touches the network. A
``<!DOCTYPE`` is refused before the parser runs (bombs, XXE and external DTDs are all
declared there) and again after it; documents over :data:`MAX_XML_BYTES` are refused too.
UTF-8 and UTF-16 (either byte order, with its byte-order mark) are read alike: what is
signed is the canonical form, which is UTF-8 whatever the document's encoding. A UTF-8
byte-order mark before the declaration of another encoding is a contradiction, refused.

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
  :meth:`_Verifier._verify_reference`) and each one we accept really applied:
  enveloped-signature; the XPath 1.0 filters ``not(ancestor-or-self::ds:Signature)`` (every
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

**Canonicalisation.** libxml2 (lxml 6.1, libxml2 2.14) renders a spurious ``xmlns=""`` in
the inclusive C14N of a subtree whose default namespace is declared above it (on its
grandchildren and deeper). signxml's ``excise_empty_xmlns_declarations`` deletes every
`` xmlns=""`` from the output, which also deletes legitimate undeclarations and the same
characters inside text nodes (where C14N does not escape quotes), so two different
documents would canonicalise alike. We leave it off and instead canonicalise a subtree as
the root of a copy that carries its in-scope namespaces: the spec's result, with no excision.
The copy also carries the ``xml:*`` attributes inclusive C14N makes a subtree inherit from
its ancestors (C14N 1.0 §2.4: all of them; C14N 1.1: ``xml:lang`` and ``xml:space``, with
``xml:base`` fixed up), which lxml's subtree C14N leaves out: a signature xmlsec1 made over a
document with ``xml:lang`` on its root verifies. Exclusive C14N inherits none.

**Which certificate.** The signer's certificate comes from ``ds:KeyInfo/ds:X509Data``:
each certificate there (those that issue none of the others first) is tried until one's key
verifies ``ds:SignatureValue``; the others help path building. A bare ``ds:KeyValue`` can
verify the cryptography but names nobody: INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND, as is
a XAdES ``SigningCertificate(V2)`` that does not name the verifying certificate. Key usage:
digitalSignature or nonRepudiation when the extension is present; a certificate without the
extension is not restricted (RFC 5280), as :func:`signing.keys.check_certificate_usable`
reads it too. ECDSA values shortened by the "Java bug" (r and s each missing leading zero
bytes, as xmlsec1 accepts) are padded back; r and s are unchanged integers.

**Mapping.** Structure → FORMAT_FAILURE; digests → HASH_FAILURE; signature value →
SIG_CRYPTO_FAILURE; then, for a signature that verifies, the certificate path as pyHanko maps
it (NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE, REVOKED_NO_POE, CHAIN_CONSTRAINTS_FAILURE,
CRYPTO_CONSTRAINTS_FAILURE(_NO_POE), …) with two refinements (NOT_YET_VALID and REVOKED as
TOTAL-FAILED, see :func:`_judge_path`), and the signature's own algorithms against the
policy (MD5, RSA < 2048 bits, EC < 256 bits: CRYPTO_CONSTRAINTS_FAILURE; SHA-1 passes with a
warning). An algorithm signxml cannot compute (MD5, HMAC, DSA, unknown) is
CRYPTO_CONSTRAINTS_FAILURE without any cryptographic check.

**Signing time.** XAdES ``SigningTime`` is the signer's claim, only reported. A valid
``SignatureTimeStamp`` (an RFC 3161 token over the canonicalised ``ds:SignatureValue``) is
proof of existence: the certificate is then judged at the timestamp's time, counting
revocation information issued after it; otherwise at the validation time. A timestamp that
does not pass is reported and ignored (ETSI EN 319 102-1 §5.5.4), as for CMS; so is one whose
time lies after the validation time (``time.after_validation_time``, as for PDF): it proves
nothing at the validation time.

**edXML.** Some producers put ``Signature`` in the edXML namespace instead of XMLDSig's (the
samples in the shared corpus do). That is not XMLDSig; we do not guess how to verify it: it
is reported INDETERMINATE / GENERIC with the reason (GENERIC, not SIGNED_DATA_NOT_FOUND:
the signed data is right there, it is the signature format we cannot process, and the
document-level SIGNED_DATA_NOT_FOUND already means "no signature at all").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import algos, cms, x509
from asn1crypto.crl import CRLReason
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.validation.status import RevocationDetails
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import AlgorithmUsageConstraint
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

from validation.certificates import judge_certificate
from validation.cms import (
    TokenOutcome,
    context_for,
    crl_status,
    digest,
    judge_timestamp_token,
    ocsp_status,
    rejected_timestamp_findings,
    revocation_findings,
    valid_at,
    verdict_finding,
)
from validation.context import (
    SIGNER_KEY_USAGE,
    AlgorithmPolicy,
    algorithm_findings,
    fetching,
    validation_time,
)
from validation.policy import ValidationPolicy
from validation.report import (
    CertificateInfo,
    Evidence,
    Finding,
    Outcome,
    RevocationInfo,
    Role,
    SignatureReport,
    SubIndication,
    Unparseable,
)

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

_DS = f"{{{XMLDSIG_NS}}}"
_XADES = f"{{{XADES_NS}}}"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
_BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
_SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_COUNTERSIGNED_TYPE = "http://uri.etsi.org/01903#CountersignedSignature"
_ID_ATTRIBUTES = frozenset({"Id", "ID", "id"})
"""Local names of the attributes signxml resolves ``#id`` against, in any namespace
(``xml:id`` included)."""
_MD5_URIS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#md5",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
    }
)

_SIGNATURE_METHODS = frozenset(
    m for m in SignatureMethod if not m.name.startswith(("HMAC_", "DSA_"))
)
"""What we let signxml verify: RSA (PKCS#1 v1.5 and PSS) and ECDSA. HMAC is not a digital
signature; DSA is not in TT 15/2025 App. I."""
_DIGEST_METHODS = frozenset(DigestAlgorithm)
_DEFAULT_C14N = CanonicalizationMethod.CANONICAL_XML_1_0
"""A reference without a canonicalisation transform is rendered with inclusive C14N 1.0
(XMLDSig §4.4.3.2)."""

_HASH_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


ReferenceRole = Literal["document", "object", "signed-properties", "key-info", "countersigned"]


# -- errors as verdicts --------------------------------------------------------------------


class _Verdict(Exception):
    """Stops examining one signature with a verdict (internal)."""

    def __init__(self, sub: SubIndication, finding: Finding) -> None:
        super().__init__(finding.en)
        self.sub = sub
        self.finding = finding


def _format(code: str, en: str, vi: str) -> _Verdict:
    return _Verdict(AdESFailure.FORMAT_FAILURE, Finding(code=f"xml.{code}", en=en, vi=vi))


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


def _parser() -> etree.XMLParser:
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
        root = etree.fromstring(data, _parser())
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
            f"văn bản không phải XML hợp lệ: {exc}",
        ) from exc
    except ValueError as exc:
        raise _unparseable(
            "unreadable",
            f"the document is not well-formed XML: {exc}",
            f"văn bản không phải XML hợp lệ: {exc}",
        ) from exc
    if root is None:
        raise _unparseable("unreadable", "the document is empty", "văn bản rỗng")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _unsafe_dtd()
    if next(root.iter(etree.Entity), None) is not None:
        raise _unsafe_dtd()
    return root


def _copy(element: etree._Element) -> etree._Element:
    """``element`` as the root of a new document, with every namespace in scope declared on
    it (how lxml serialises a subtree)."""
    return etree.fromstring(etree.tostring(element, with_tail=False), _parser())


def _canonical(
    element: etree._Element,
    method: CanonicalizationMethod,
    prefixes: Sequence[str] | None = None,
    *,
    comments: bool = True,
    placed: etree._Element | None = None,
) -> bytes:
    """C14N of ``element`` and its descendants, as the spec defines it: rendered as the root
    of a copy, because libxml2's subtree C14N adds a spurious ``xmlns=""`` under a default
    namespace declared above the subtree (see the module docstring), with the ``xml:*``
    attributes inclusive C14N inherits from the ancestors (:func:`_inherited_xml_attributes`).
    ``placed``: where ``element`` stands in the document when ``element`` itself is a copy
    cut from its ancestors (signxml canonicalises ``ds:SignedInfo`` in a copy of the
    signature). ``comments=False``: the input node-set has no comments (what a ``URI=""`` or
    ``#id`` reference yields), so a WithComments method renders none either."""
    origin = element if placed is None else placed
    exclusive = method.value.startswith(EXC_C14N_NS)
    node = element
    if origin.getparent() is not None:
        node = _copy(element)
        if not exclusive:
            for name, value in _inherited_xml_attributes(origin, method).items():
                if value is None:
                    node.attrib.pop(name, "")
                else:
                    node.set(name, value)
    return etree.tostring(
        node,
        method="c14n",
        exclusive=exclusive,
        with_comments=comments and method.value.endswith("#WithComments"),
        # a PrefixList means something to exclusive C14N only (libxml2 fails on it otherwise)
        inclusive_ns_prefixes=list(prefixes) if prefixes and exclusive else None,
    )


_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML = f"{{{_XML_NS}}}"
_C14N_11 = frozenset(
    {
        CanonicalizationMethod.CANONICAL_XML_1_1,
        CanonicalizationMethod.CANONICAL_XML_1_1_WITH_COMMENTS,
    }
)


def _inherited_xml_attributes(
    element: etree._Element, method: CanonicalizationMethod
) -> dict[str, str | None]:
    """The ``xml:*`` attributes inclusive C14N renders on the apex of a subtree whose
    ancestors are not in the node-set (``None``: the element's own one is not rendered), as
    libxml2 (and so xmlsec1) computes them:

    - C14N 1.0 §2.4: the nearest occurrence of every ``xml:*`` attribute of the ancestors the
      element does not carry itself;
    - C14N 1.1 §2.4: so for ``xml:lang`` and ``xml:space`` only (``xml:id`` is not inherited);
      ``xml:base`` is fixed up: the element's value (or the nearest ancestor's) resolved
      against each ancestor's value above it in turn (RFC 3986; a value whose last but one
      character is ``.`` gets a ``/`` appended first, as libxml2 does), omitted when empty.

    Exclusive C14N inherits nothing."""
    ancestors = list(element.iterancestors())
    inherited: dict[str, str | None] = {}
    if method not in _C14N_11:
        for ancestor in ancestors:
            for key, value in ancestor.attrib.items():
                name = str(key)
                if name.startswith(_XML) and name not in element.attrib:
                    inherited.setdefault(name, str(value))
        return inherited
    for local in ("lang", "space"):
        name = _XML + local
        if name not in element.attrib:
            found = next((a.get(name) for a in ancestors if a.get(name) is not None), None)
            if found is not None:
                inherited[name] = str(found)
    bases = [str(b) for b in (e.get(_XML + "base") for e in (element, *ancestors)) if b is not None]
    if bases:
        joined = bases[0]
        for base in bases[1:]:
            if len(base) > 1 and base[-2] == ".":
                base += "/"
            joined = _join_uri(joined, base)
        inherited[_XML + "base"] = joined or None
    return inherited


_URI_PARTS = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)


def _join_uri(reference: str, base: str) -> str:
    """``reference`` resolved against ``base`` (RFC 3986 §5.2.2)."""
    ref = _URI_PARTS.fullmatch(reference)
    bas = _URI_PARTS.fullmatch(base)
    if ref is None or bas is None:  # pragma: no cover - the pattern matches any string
        return reference
    r_scheme, r_auth, r_path, r_query, r_frag = ref.groups()
    b_scheme, b_auth, b_path, b_query, _ = bas.groups()
    if r_scheme is not None:
        scheme, auth, path, query = r_scheme, r_auth, _remove_dot_segments(r_path), r_query
    elif r_auth is not None:
        scheme, auth, path, query = b_scheme, r_auth, _remove_dot_segments(r_path), r_query
    else:
        scheme, auth = b_scheme, b_auth
        if not r_path:
            path, query = b_path, (r_query if r_query is not None else b_query)
        else:
            if r_path.startswith("/"):
                path = _remove_dot_segments(r_path)
            elif b_auth is not None and not b_path:
                path = _remove_dot_segments("/" + r_path)
            else:
                path = _remove_dot_segments(b_path[: b_path.rfind("/") + 1] + r_path)
            query = r_query
    out = "" if scheme is None else f"{scheme}:"
    out += "" if auth is None else f"//{auth}"
    out += path
    out += "" if query is None else f"?{query}"
    return out + ("" if r_frag is None else f"#{r_frag}")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:] if path.startswith("/../") else "/"
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            cut = path.find("/", 1)
            segment, path = (path, "") if cut < 0 else (path[:cut], path[cut:])
            out.append(segment)
    return "".join(out)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _namespace(element: etree._Element) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def _path_of(element: etree._Element) -> tuple[int, ...]:
    path: list[int] = []
    node = element
    while (parent := node.getparent()) is not None:
        path.append(parent.index(node))
        node = parent
    return tuple(reversed(path))


def _follow(root: etree._Element, path: Sequence[int]) -> etree._Element:
    node = root
    for index in path:
        node = node[index]
    return node


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


def _id_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(tag=etree.Element):
        for name, value in element.attrib.items():
            if etree.QName(name).localname in _ID_ATTRIBUTES:
                index.setdefault(str(value), []).append(element)
    return index


# -- signxml, hardened ---------------------------------------------------------------------


class _Verifier(XMLVerifier):
    """signxml's verifier for one given ``ds:Signature`` (``signature_path`` from the document
    element), with spec-correct canonicalisation of subtrees, certificate validity left to
    pyhanko-certvalidator, and ECDSA values shortened by the "Java bug" (leading zero bytes
    of r and s dropped) accepted as xmlsec1 accepts them."""

    signature_path: tuple[int, ...] = ()
    references: Sequence[_Reference] = ()
    """Our plan of the signature's references, in order (their roles)."""
    _placed: etree._Element | None = None
    """The signature in signxml's copy of the whole document (signxml canonicalises
    ``ds:SignedInfo`` in a copy of the signature alone, cut from the ancestors whose ``xml:*``
    attributes inclusive C14N inherits)."""

    def _get_signature(self, root: etree._Element) -> etree._Element:
        try:
            node = _follow(root, self.signature_path)
        except IndexError:
            raise InvalidInput("the signature is not where it was found") from None
        if node.tag != f"{_DS}Signature":
            raise InvalidInput("the signature is not where it was found")
        self._placed = node
        return node

    def validate_schema(self, signature: Any) -> None:
        """signxml's schema check, on a copy without the exclusive C14N
        ``ec:InclusiveNamespaces`` of ``ds:SignedInfo/ds:CanonicalizationMethod``: XMLDSig's
        schema processes that element's content strictly and signxml has no schema for it,
        so every signature listing inclusive prefixes there (Exclusive XML Canonicalization
        §3) would be refused. Checked here instead: a PrefixList and nothing else."""
        method = signature.find(f"{_DS}SignedInfo/{_DS}CanonicalizationMethod")
        listed = [] if method is None else method.findall(f"{{{EXC_C14N_NS}}}InclusiveNamespaces")
        if listed:
            for element in listed:
                if (
                    len(element)
                    or (element.text or "").strip()
                    or set(element.attrib) - {"PrefixList"}
                ):
                    raise InvalidInput("a malformed ec:InclusiveNamespaces in SignedInfo")
            signature = _copy(signature)
            holder = signature.find(f"{_DS}SignedInfo/{_DS}CanonicalizationMethod")
            for element in holder.findall(f"{{{EXC_C14N_NS}}}InclusiveNamespaces"):
                holder.remove(element)
        super().validate_schema(signature)  # type: ignore[no-untyped-call]

    def _verify_reference(
        self,
        reference: Any,
        index: int,
        root: Any,
        uri_resolver: Any,
        c14n_algorithm: Any,
        signature: Any,
        signature_key_used: Any,
    ) -> VerifyResult:
        """One reference of the verified ``ds:SignedInfo``, its transforms applied as
        XMLDSig defines them by :func:`_digest_input` (signxml's own ignore their order and
        XPath, keep comments under WithComments, decode base64 from the first text node only
        and then parse the octets as XML)."""
        if index >= len(self.references) or reference.get("URI") != self.references[index].uri:
            raise InvalidInput("the verified references are not the ones examined")
        planned = self.references[index]
        copied_root = _copy(root)
        payload = self._resolve_reference(copied_root, reference, uri_resolver=uri_resolver)  # type: ignore[no-untyped-call]
        if not isinstance(payload, etree._Element):
            raise InvalidInput(f"reference {planned.uri} names no element of the document")
        transforms = _read_transforms(reference.find(f"{_DS}Transforms"), planned.uri, planned.role)
        signed = _digest_input(self._get_signature(copied_root), payload, transforms)
        method = reference.find(f"{_DS}DigestMethod")
        value = reference.find(f"{_DS}DigestValue")
        if method is None or value is None:
            raise InvalidInput(f"reference {planned.uri} has no DigestMethod or DigestValue")
        algorithm = DigestAlgorithm(method.get("Algorithm"))
        self.check_digest_alg_expected(algorithm)  # type: ignore[no-untyped-call]
        if base64.b64decode(value.text or "") != self._get_digest(signed, algorithm):
            raise InvalidDigest(f"Digest mismatch for reference {index} ({planned.uri})")
        # as signxml: the signed XML, parsed back from the canonical form (octets: none)
        signed_xml = (
            None if transforms[-1].kind == "base64" else etree.fromstring(signed, _parser())
        )
        key = signature_key_used.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        return VerifyResult(signed, signed_xml, signature, signature_key=key)

    def _c14n(
        self,
        nodes: Any,
        algorithm: CanonicalizationMethod,
        inclusive_ns_prefixes: Any = None,
    ) -> bytes:
        items = nodes if isinstance(nodes, list) else [nodes]
        return b"".join(
            _canonical(n, algorithm, inclusive_ns_prefixes, placed=self._in_document(n))
            for n in items
        )

    def _in_document(self, node: etree._Element) -> etree._Element | None:
        """Where ``node`` (signxml's copy of ``ds:SignedInfo``) stands in the document."""
        if self._placed is None or node.tag != f"{_DS}SignedInfo" or node.getparent() is None:
            return None
        if node.getparent() is self._placed:
            return None
        return self._placed.find(f"{_DS}SignedInfo")

    def _check_cert_validity(self, cert: Any, cert_source: Any) -> None:
        return None  # judged by pyhanko-certvalidator at the right time

    def _encode_dss_signature(self, raw_signature: bytes, key_size_bits: int) -> bytes:
        want = (key_size_bits + 7) // 8 * 2
        size = len(raw_signature)
        if 0 < size < want and size % 2 == 0:
            half = size // 2
            raw_signature = raw_signature[:half].rjust(want // 2, b"\0") + raw_signature[
                half:
            ].rjust(want // 2, b"\0")
        result: bytes = super()._encode_dss_signature(raw_signature, key_size_bits)
        return result


class _XAdESVerifier(_Verifier, XAdESVerifier):
    """signxml's XAdES checks (SigningCertificate(V2) names the signing certificate), their
    failure kept for after the wrapping checks instead of raised."""

    signing_certificate_problem: str | None = None

    def _verify_signed_properties(self, verify_result: VerifyResult) -> Any:
        try:
            return super()._verify_signed_properties(verify_result)  # type: ignore[no-untyped-call]
        except SignXMLException as exc:
            self.signing_certificate_problem = str(exc) or type(exc).__name__
            return None


def _config(*, x509_required: bool, xades: bool) -> SignatureConfiguration:
    kind = XAdESSignatureConfiguration if xades else SignatureConfiguration
    return kind(
        require_x509=x509_required,
        expect_references=True,
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGEST_METHODS,
        default_reference_c14n_method=_DEFAULT_C14N,
    )


# -- examining one signature (synchronous, in a worker thread) ---------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Transform:
    """One step of a reference's transforms, as we apply it."""

    kind: Literal["enveloped", "without-signatures", "base64", "c14n"]
    """``enveloped``: this signature leaves the node-set (the enveloped-signature transform,
    or its XPath spelling with ``here()``); ``without-signatures``: every ``ds:Signature``
    leaves it (the XPath filter ``not(ancestor-or-self::ds:Signature)``); ``base64``: the
    text is decoded into octets; ``c14n``: the node-set is canonicalised into octets."""
    c14n: CanonicalizationMethod = _DEFAULT_C14N
    prefixes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reference:
    uri: str
    role: ReferenceRole
    target: etree._Element
    transforms: tuple[_Transform, ...]
    """What turns the target into the digested octets; the last step yields octets."""
    digest_uri: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stamp:
    """A ``xades:SignatureTimeStamp``: the token and the bytes it must cover."""

    token: bytes
    covered: bytes


@dataclass(slots=True, kw_only=True)
class _Examined:
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
    stamps: list[_Stamp] = field(default_factory=list)
    integrity: bool | None = None
    signature_valid: bool | None = None
    findings: list[Finding] = field(default_factory=list)
    signing_certificate_problem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Document:
    root: etree._Element
    ids: dict[str, list[etree._Element]]
    stray_pi: bool


def _examine_document(data: bytes) -> tuple[list[_Examined], list[Finding]]:
    root = parse_untrusted_xml(data)
    doc = _Document(
        root=root,
        ids=_id_index(root),
        stray_pi=any(
            isinstance(n, etree._ProcessingInstruction)
            for n in (*root.itersiblings(preceding=True), *root.itersiblings())
        ),
    )
    examined: list[_Examined] = []
    findings: list[Finding] = []
    ids: dict[etree._Element, str] = {}
    values: dict[bytes, str] = {}
    nested = 0
    for element in root.iter(tag=etree.Element):
        if element.tag == f"{_DS}Signature":
            parent = _countersigned(element)
            id = f"xml-{len(examined) + 1}"
            countersigned = None
            if parent is not None and parent in ids:
                countersigned = (parent, ids[parent])
            elif any(a.tag == f"{_DS}Signature" for a in element.iterancestors()):
                nested += 1
                continue
            value = _signature_value_key(element)
            if value is not None and value in values:
                examined.append(_duplicate(element, id, values[value], countersigned))
            else:
                examined.append(_examine(doc, element, id, countersigned=countersigned))
                if value is not None:
                    values[value] = id
            ids[element] = id
        elif _is_nonstandard_signature(element):
            examined.append(_nonstandard(element, f"xml-{len(examined) + 1}"))
    if nested:
        findings.append(
            Finding(
                code="xml.nested_signature_ignored",
                severity="info",
                en=f"{nested} signature(s) inside another signature, not as a XAdES "
                "CounterSignature, were not validated",
                vi=f"{nested} chữ ký nằm bên trong chữ ký khác, không phải dạng CounterSignature "
                "của XAdES, không được kiểm tra",
            )
        )
    return examined, findings


def _signature_value_key(signature: etree._Element) -> bytes | None:
    """The octets of the signature's ``ds:SignatureValue`` (its text without white space if it
    is not base64), to tell copies of one signature; ``None`` if it has none."""
    value = signature.find(f"{_DS}SignatureValue")
    text = "".join(((None if value is None else value.text) or "").split())
    if not text:
        return None
    try:
        return b"b" + base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b"t" + text.encode("utf-8", errors="surrogatepass")


def _duplicate(
    signature: etree._Element,
    id: str,
    original: str,
    countersigned: tuple[etree._Element, str] | None,
) -> _Examined:
    """A signature whose ``ds:SignatureValue`` is that of an earlier one (``original``): a copy
    of one signature placed elsewhere (an XPath filter that removes every signature lets
    both verify) is one signer's one signature, not a second one."""
    result = _Examined(id=id, counter_signs=None if countersigned is None else countersigned[1])
    result.certificates = _key_info_certificates(signature, result)
    if result.certificates:
        result.signer = _candidates(result.certificates)[0]  # presumed, not proven
    result.early = (
        AdESFailure.FORMAT_FAILURE,
        Finding(
            code="xml.duplicate_signature",
            en=f"this signature is a copy of signature {original} (the same ds:SignatureValue) "
            "placed elsewhere in the document: one signature counts once, the copy is not "
            "judged as a signature of its own",
            vi=f"chữ ký này là bản sao của chữ ký {original} (cùng ds:SignatureValue) được đặt ở "
            "chỗ khác trong văn bản: một chữ ký chỉ được tính một lần, bản sao không được "
            "kiểm tra như một chữ ký riêng",
        ),
    )
    return result


_COUNTER_SIGNATURE_PATH = (
    f"{_XADES}CounterSignature",
    f"{_XADES}UnsignedSignatureProperties",
    f"{_XADES}UnsignedProperties",
    f"{_XADES}QualifyingProperties",
    f"{_DS}Object",
    f"{_DS}Signature",
)


def _countersigned(signature: etree._Element) -> etree._Element | None:
    """The signature that ``signature`` counter-signs, if it is a XAdES counter-signature:
    ``ds:Signature/ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/
    xades:UnsignedSignatureProperties/xades:CounterSignature/ds:Signature``."""
    node: etree._Element | None = signature
    for tag in _COUNTER_SIGNATURE_PATH:
        node = None if node is None else node.getparent()
        if node is None or node.tag != tag:
            return None
    return node


def _is_nonstandard_signature(element: etree._Element) -> bool:
    if _local(element) != "Signature" or _namespace(element) == XMLDSIG_NS:
        return False
    if _namespace(element) == EDXML_NS:
        return True
    return any(_local(child) in ("SignedInfo", "SignatureValue") for child in element)


def _nonstandard(element: etree._Element, id: str) -> _Examined:
    where = etree.QName(element).namespace or "no namespace"
    return _Examined(
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


def _examine(
    doc: _Document,
    signature: etree._Element,
    id: str,
    *,
    countersigned: tuple[etree._Element, str] | None = None,
) -> _Examined:
    """One signature; ``countersigned``: the signature it counter-signs, and that one's id."""
    result = _Examined(id=id, counter_signs=None if countersigned is None else countersigned[1])
    try:
        _check_signature(
            doc, signature, result, None if countersigned is None else countersigned[0]
        )
    except _Verdict as verdict:
        result.early = (verdict.sub, verdict.finding)
        if result.signer is None and result.certificates:
            # not proven: whom the signature names (reported as the presumed signer)
            result.signer = _candidates(result.certificates)[0]
    return result


def _check_signature(
    doc: _Document,
    signature: etree._Element,
    out: _Examined,
    countersigned: etree._Element | None,
) -> None:
    root = doc.root
    enveloping = signature is root
    signed_info = signature.find(f"{_DS}SignedInfo")
    value = signature.find(f"{_DS}SignatureValue")
    if signed_info is None or value is None:
        raise _format(
            "structure",
            "the signature has no ds:SignedInfo or ds:SignatureValue",
            "chữ ký không có ds:SignedInfo hoặc ds:SignatureValue",
        )
    method = signed_info.find(f"{_DS}SignatureMethod")
    out.signature_uri = None if method is None else method.get("Algorithm")
    out.certificates = _key_info_certificates(signature, out)
    references = _plan_references(doc, signature, signed_info, enveloping, countersigned)
    out.digest_uris = [r.digest_uri for r in references]
    if doc.stray_pi:
        raise _format(
            "unsigned_instruction",
            "the document has a processing instruction outside its root element, which no "
            "signature covers (it could, for example, restyle what a reader sees)",
            "văn bản có chỉ thị xử lý (processing instruction) nằm ngoài phần tử gốc, không "
            "được chữ ký nào bao phủ (nó có thể thay đổi cách hiển thị nội dung)",
        )
    _check_unsigned_content(signature, signed_info, references)
    _check_split_text(signature, signed_info, references)
    _check_algorithms_supported(out)
    results = _verify_crypto(doc, signature, references, out)
    for reference, verified in zip(references, results, strict=True):
        if verified.signed_data != _expected(root, signature, reference):
            out.integrity = False
            raise _Verdict(
                AdESFailure.HASH_FAILURE,
                Finding(
                    code="xml.signed_content_mismatch",
                    en=f"what reference {reference.uri or '(whole document)'} signed is not what "
                    "this document contains (signature wrapping)",
                    vi=f"nội dung tham chiếu {reference.uri or '(cả văn bản)'} đã ký không phải "
                    "nội dung văn bản này chứa (tấn công bọc chữ ký)",
                ),
            )
    out.integrity = True
    if out.signing_certificate_problem is not None:
        raise _Verdict(
            AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
            Finding(
                code="xml.signing_certificate_mismatch",
                en="XAdES SigningCertificate does not name the certificate whose key made the "
                f"signature ({out.signing_certificate_problem})",
                vi="SigningCertificate của XAdES không chỉ đúng chứng thư số có khóa đã tạo chữ "
                f"ký ({out.signing_certificate_problem})",
            ),
        )
    if out.signer is None:  # verified with a bare public key
        raise _Verdict(
            AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
            Finding(
                code="xml.no_certificate",
                en="the signature verifies with the bare public key in ds:KeyInfo, but carries "
                "no certificate: nothing says whose key it is",
                vi="chữ ký khớp với khóa công khai trần trong ds:KeyInfo nhưng không kèm chứng "
                "thư số: không có gì cho biết khóa đó của ai",
            ),
        )
    properties = next((r.target for r in references if r.role == "signed-properties"), None)
    if properties is not None:
        claimed = properties.findtext(f"{_XADES}SignedSignatureProperties/{_XADES}SigningTime")
        out.claimed_time = _xs_datetime(claimed)
    out.stamps = _signature_timestamps(signature, value, out)


def _plan_references(
    doc: _Document,
    signature: etree._Element,
    signed_info: etree._Element,
    enveloping: bool,
    countersigned: etree._Element | None = None,
) -> list[_Reference]:
    """What each reference covers, checked against the rules of the module docstring;
    ``countersigned``: the signature this one counter-signs (XAdES ``CounterSignature``),
    whose ``ds:SignatureValue`` it must cover."""
    qualifying = signature.findall(f"{_DS}Object/{_XADES}QualifyingProperties")
    if len(qualifying) > 1:
        raise _format(
            "structure",
            "the signature has more than one xades:QualifyingProperties",
            "chữ ký có nhiều hơn một xades:QualifyingProperties",
        )
    holder = qualifying[0].getparent() if qualifying else None
    signed_properties = qualifying[0].find(f"{_XADES}SignedProperties") if qualifying else None
    if qualifying:
        sig_id = signature.get("Id")
        claimed_target = qualifying[0].get("Target")
        if not sig_id or claimed_target != f"#{sig_id}" or len(doc.ids.get(sig_id, [])) != 1:
            raise _format(
                "xades_target",
                "the XAdES properties do not belong to this signature (QualifyingProperties "
                "Target does not name its unique Id)",
                "thuộc tính XAdES không thuộc về chữ ký này (Target của QualifyingProperties "
                "không trỏ đến Id duy nhất của chữ ký)",
            )
    objects = [o for o in signature.findall(f"{_DS}Object") if o is not holder]
    if any(o.find(f"{_DS}Manifest") is not None for o in objects):
        raise _format(
            "manifest_unsupported",
            "the signature signs a ds:Manifest: the manifest's own references are not checked "
            "by XMLDSig core validation, so what they name is not proven signed",
            "chữ ký ký một ds:Manifest: các tham chiếu của manifest không được kiểm tra trong "
            "quy trình XMLDSig cơ bản nên nội dung chúng trỏ tới không được chứng minh là đã ký",
        )
    if objects and not enveloping:
        raise _format(
            "unsigned_object",
            "the signature carries a ds:Object besides its XAdES properties: content inside "
            "the signature that the enveloped reference does not sign",
            "chữ ký chứa ds:Object ngoài thuộc tính XAdES: nội dung nằm trong chữ ký mà tham "
            "chiếu bao (enveloped) không ký",
        )
    key_info = signature.find(f"{_DS}KeyInfo")
    countersigned_value = (
        None if countersigned is None else countersigned.find(f"{_DS}SignatureValue")
    )
    planned: list[_Reference] = []
    for reference in signed_info.findall(f"{_DS}Reference"):
        uri = reference.get("URI")
        if uri is None:
            raise _format(
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
                raise _format(
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
            raise _format(
                "reference_partial",
                f"reference {uri} covers something other than the whole document (part of "
                "it, or an element elsewhere): what is read would not be what was signed",
                f"tham chiếu {uri} bao phủ thứ khác với toàn bộ văn bản (một phần văn bản hoặc "
                "phần tử ở nơi khác): nội dung được đọc sẽ không phải nội dung đã ký",
            )
        if reference.get("Type") == _SIGNED_PROPERTIES_TYPE and role != "signed-properties":
            raise _format(
                "xades_target",
                f"reference {uri} claims to sign XAdES SignedProperties but does not",
                f"tham chiếu {uri} tự nhận ký SignedProperties của XAdES nhưng không phải",
            )
        if reference.get("Type") == _COUNTERSIGNED_TYPE and role != "countersigned":
            raise _format(
                "countersignature_target",
                f"reference {uri} claims to counter-sign a signature but does not cover the "
                "ds:SignatureValue of the signature that holds this counter-signature",
                f"tham chiếu {uri} tự nhận là chữ ký xác nhận nhưng không bao phủ "
                "ds:SignatureValue của chữ ký chứa chữ ký xác nhận này",
            )
        holders = reference.findall(f"{_DS}Transforms")
        if len(holders) > 1:
            raise _format(
                "structure",
                f"reference {uri or '(whole document)'} has more than one ds:Transforms",
                f"tham chiếu {uri or '(cả văn bản)'} có nhiều hơn một ds:Transforms",
            )
        transforms = _read_transforms(holders[0] if holders else None, uri, role)
        if any(t.kind == "base64" for t in transforms):
            _base64_octets(target)  # its content is checked before any cryptography
        digest_method = reference.find(f"{_DS}DigestMethod")
        planned.append(
            _Reference(
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
        raise _format(
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


def _check_unsigned_content(
    signature: etree._Element, signed_info: etree._Element, references: Sequence[_Reference]
) -> None:
    """The parts of a signature no reference covers (KeyInfo unless referenced, the XAdES
    unsigned properties, …) may hold only XMLDSig and XAdES elements. XMLDSig lets KeyInfo
    and others carry any foreign element; such content is unsigned, yet a reader looking for,
    say, ``.//edXML:Attachment`` would find it."""
    signed = [signed_info, *(r.target for r in references if r.role != "document")]

    def covered(element: etree._Element) -> bool:
        return any(element is s or any(a is s for a in element.iterancestors()) for s in signed)

    for element in signature.iter(tag=etree.Element):
        if _namespace(element) in _SIGNATURE_NAMESPACES or covered(element):
            continue
        raise _format(
            "unsigned_content",
            f"the signature carries a foreign element {element.tag} in a part no reference "
            "signs: content that could be read as the document's, unsigned",
            f"chữ ký chứa phần tử lạ {element.tag} ở phần không được tham chiếu nào ký: nội "
            "dung có thể bị đọc nhầm là của văn bản mà không được ký",
        )


def _check_split_text(
    signature: etree._Element, signed_info: etree._Element, references: Sequence[_Reference]
) -> None:
    """Inside what the signature covers (each reference's node-set, and ``ds:SignedInfo``),
    no comment or processing instruction may split a text node: stand between non-white text
    on both sides within one element. Canonicalisation without comments signs the whole text
    (``abc<!-- -->def`` as ``abcdef``), but a reader taking the element's text (lxml's
    ``.text``) gets only ``abc``: 3,000 of the 270,823 bytes of an edXML attachment, say.
    Comments between elements (white space around them) are left alone."""
    for reference in references:
        split = _split_text(reference.target, _removed_by(reference, signature))
        if split is not None:
            raise _split_text_verdict(split, reference.uri)
    split = _split_text(signed_info, lambda _: False)
    if split is not None:
        raise _split_text_verdict(split, None)


def _removed_by(
    reference: _Reference, signature: etree._Element
) -> Callable[[etree._Element], bool]:
    """Whether an element under the reference's target leaves its node-set with a signature
    the transforms remove (this one: enveloped; every one: the XPath filter)."""
    kinds = {t.kind for t in reference.transforms}

    def removed(element: etree._Element) -> bool:
        for node in (element, *element.iterancestors()):
            if node is reference.target:
                return False
            if (node is signature and "enveloped" in kinds) or (
                node.tag == f"{_DS}Signature" and "without-signatures" in kinds
            ):
                return True
        return False

    return removed


_WHITE = " \t\r\n"


def _split_text(
    element: etree._Element, removed: Callable[[etree._Element], bool]
) -> etree._Element | None:
    """The first element at or under ``element`` (and not ``removed``) whose text a comment or
    processing instruction splits, if any. Linear: each parent's children are read once."""
    parents: dict[etree._Element, None] = {}
    for node in element.iter(etree.Comment, etree.ProcessingInstruction):
        parent = node.getparent()
        if parent is not None and parent not in parents:
            parents[parent] = None
    for parent in parents:
        if removed(parent):
            continue
        pieces = 1 if (parent.text or "").strip(_WHITE) else 0
        for child in parent:
            if isinstance(child.tag, str):
                pieces = 0  # an element ends the run of text
            if (child.tail or "").strip(_WHITE):
                pieces += 1
                if pieces > 1:
                    return parent
    return None


def _split_text_verdict(element: etree._Element, uri: str | None) -> _Verdict:
    name = etree.QName(element).localname
    if uri is None:
        where_en, where_vi = "ds:SignedInfo", "ds:SignedInfo"
    else:
        where_en = f"reference {uri or '(whole document)'}"
        where_vi = f"tham chiếu {uri or '(cả văn bản)'}"
    return _format(
        "comment_in_signed_text",
        f"a comment or processing instruction splits the text of <{name}> in what {where_en} "
        "signs: the whole text is signed, but a reader taking the element's text gets only "
        "the part before it (what is read would not be what was signed)",
        f"một chú thích (comment) hoặc chỉ thị xử lý chia cắt phần chữ của <{name}> trong nội "
        f"dung {where_vi} ký: toàn bộ phần chữ được ký, nhưng chương trình đọc phần chữ của "
        "phần tử chỉ nhận được đoạn đứng trước nó (nội dung được đọc sẽ không phải nội dung "
        "đã ký)",
    )


def _resolve(doc: _Document, uri: str) -> etree._Element:
    if uri == "":
        return doc.root
    name = uri[1:]
    if not uri.startswith("#") or not name or "(" in name or "/" in name:
        raise _format(
            "reference_unsupported",
            f"reference {uri!r} points outside the document or uses XPointer: not supported "
            "(the validator never fetches anything)",
            f"tham chiếu {uri!r} trỏ ra ngoài văn bản hoặc dùng XPointer: không hỗ trợ (trình "
            "kiểm tra không tải gì từ bên ngoài)",
        )
    found = doc.ids.get(name, [])
    if len(found) != 1:
        if not found:
            raise _format(
                "reference_missing",
                f"reference {uri} names no element of the document",
                f"tham chiếu {uri} không trỏ đến phần tử nào của văn bản",
            )
        raise _format(
            "duplicate_id",
            f"the Id {name!r} is used by {len(found)} elements: reference {uri} is ambiguous "
            "(a forged twin of the signed element, signature wrapping)",
            f"Id {name!r} được dùng cho {len(found)} phần tử: tham chiếu {uri} không rõ ràng "
            "(phần tử giả mạo trùng Id với phần tử đã ký, tấn công bọc chữ ký)",
        )
    return found[0]


def _transform_refused(where: tuple[str, str], algorithm: str, en: str, vi: str) -> _Verdict:
    return _format(
        "transform_forbidden",
        f"reference {where[0]} uses the transform {algorithm or '(none)'}: {en}",
        f"tham chiếu {where[1]} dùng phép biến đổi {algorithm or '(không có)'}: {vi}",
    )


def _read_transforms(
    transforms: etree._Element | None, uri: str, role: ReferenceRole
) -> tuple[_Transform, ...]:
    """A reference's ``ds:Transforms``, checked and read into the steps we apply. Accepted,
    in this order: enveloped-signature and the XPath filters of :func:`_xpath_filter` (on the
    document); base64 (first, on a ``ds:Object`` of an enveloping signature); then one C14N
    (1.0, 1.1, exclusive, with or without comments), which ends the chain. Without a C14N or
    base64 at the end, C14N 1.0 is applied (XMLDSig §4.4.3.2). Any other transform is refused
    with its name: we never skip one."""
    where = (uri or "(whole document)", uri or "(cả văn bản)")
    steps: list[_Transform] = []
    items = [] if transforms is None else list(transforms.iterchildren(f"{_DS}Transform"))
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
            steps.append(_Transform(kind="enveloped"))
        elif algorithm == _XPATH:
            steps.append(_Transform(kind=_xpath_filter(transform, where)))
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
            steps.append(_Transform(kind="base64"))
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
                _Transform(
                    kind="c14n",
                    c14n=method,
                    prefixes=None if prefix_list is None else tuple(prefix_list.split()),
                )
            )
    if role == "document" and not any(s.kind in ("enveloped", "without-signatures") for s in steps):
        raise _format(
            "transform_forbidden",
            f"reference {where[0]} covers the document that contains the signature without the "
            "enveloped-signature transform",
            f"tham chiếu {where[1]} bao phủ văn bản chứa chữ ký mà không có phép biến đổi "
            "enveloped-signature",
        )
    if not steps or steps[-1].kind not in ("base64", "c14n"):
        steps.append(_Transform(kind="c14n"))
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
    xpath = transform.find(f"{_DS}XPath")
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
    raise _format(
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
    node-set, but may not split the text: :func:`_check_split_text`): a child element would
    be markup the signature does not cover. Characters outside the base64 alphabet other
    than XML white space are refused, not skipped, and so is anything after the padding."""
    if any(not isinstance(child, etree._Comment) for child in element):
        raise _format(
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
        raise _format(
            "base64_invalid",
            "a ds:Object signed through the base64 transform does not hold valid base64",
            "một ds:Object được ký qua phép biến đổi base64 không chứa dữ liệu base64 hợp lệ",
        ) from None


def _digest_input(
    signature: etree._Element, target: etree._Element, transforms: Sequence[_Transform]
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
                for s in node.iter(f"{_DS}Signature")
                if s is not node and not any(a.tag == f"{_DS}Signature" for a in s.iterancestors())
            ]
            for found in outermost:
                _detach(found)
        elif step.kind == "base64":
            return _base64_octets(node)
        else:
            return _canonical(node, step.c14n, step.prefixes, comments=False)
    raise InvalidInput("the transforms yield no octets")


def _key_info_certificates(signature: etree._Element, out: _Examined) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for element in signature.iterfind(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate"):
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            cert = _load_certificate(der)
        except (ValueError, binascii.Error, TypeError):
            out.findings.append(
                Finding(
                    code="xml.certificate_unreadable",
                    severity="warning",
                    en="a certificate in ds:KeyInfo cannot be read and is ignored",
                    vi="một chứng thư số trong ds:KeyInfo không đọc được nên bị bỏ qua",
                )
            )
            continue
        if all(c.sha256 != cert.sha256 for c in certs):
            certs.append(cert)
    return certs


@functools.lru_cache(maxsize=512)
def _load_certificate(der: bytes) -> x509.Certificate:
    """A certificate, checked well-formed (cryptography's strict parser), parsed once per
    process: the same signers' certificates come again and again, and pyhanko-certvalidator's
    name comparisons are cached on the parsed object. Treated as immutable."""
    pyca_x509.load_der_x509_certificate(der)
    return x509.Certificate.load(der)


def _method_of(uri: str | None) -> SignatureMethod | None:
    try:
        method = SignatureMethod(uri)
    except (ValueError, InvalidInput):
        return None
    return method if method in _SIGNATURE_METHODS else None


def _digest_of(uri: str) -> DigestAlgorithm | None:
    try:
        return DigestAlgorithm(uri)
    except (ValueError, InvalidInput):
        return None


def _check_algorithms_supported(out: _Examined) -> None:
    unsupported: list[str] = []
    if _method_of(out.signature_uri) is None:
        unsupported.append(out.signature_uri or "(none)")
    unsupported.extend(u or "(none)" for u in out.digest_uris if _digest_of(u) is None)
    if not unsupported:
        return
    names = ", ".join(dict.fromkeys(unsupported))
    md5 = any(u in _MD5_URIS for u in unsupported)
    raise _Verdict(
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        Finding(
            code="xml.algorithm_unacceptable",
            en=f"the signature uses an algorithm that is not acceptable or not supported "
            f"({names})" + ("; MD5 is broken" if md5 else ""),
            vi=f"chữ ký dùng thuật toán không được chấp nhận hoặc không được hỗ trợ ({names})"
            + ("; MD5 đã bị phá" if md5 else ""),
        ),
    )


def _candidates(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Certificates to try as the signer's: those that issue none of the others first."""

    def issues_another(cert: x509.Certificate) -> bool:
        subject = cert.subject.dump()
        return any(c is not cert and c.issuer.dump() == subject for c in certs)

    leaves = [c for c in certs if not issues_another(c)]
    return leaves + [c for c in certs if c not in leaves]


def _verify_crypto(
    doc: _Document,
    signature: etree._Element,
    references: Sequence[_Reference],
    out: _Examined,
) -> list[VerifyResult]:
    xades = any(r.role == "signed-properties" for r in references)
    path = _path_of(signature)
    candidates: list[x509.Certificate | None] = list(_candidates(out.certificates))
    bare_key = False
    if not candidates:
        key_info = signature.find(f"{_DS}KeyInfo")
        bare_key = key_info is not None and (
            key_info.find(f"{_DS}KeyValue") is not None
            or key_info.find(f"{{{XMLDSIG11_NS}}}DEREncodedKeyValue") is not None
        )
        if not bare_key:
            raise _Verdict(
                AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
                Finding(
                    code="xml.no_certificate",
                    en="the signature carries no certificate (ds:KeyInfo/ds:X509Data/"
                    "ds:X509Certificate): the signer cannot be identified",
                    vi="chữ ký không kèm chứng thư số (ds:KeyInfo/ds:X509Data/"
                    "ds:X509Certificate): không xác định được người ký",
                ),
            )
        candidates = [None]
    failure: Exception | None = None
    for candidate in candidates:
        verifier: _Verifier = _XAdESVerifier() if xades else _Verifier()
        verifier.signature_path = path
        verifier.references = references
        kwargs: dict[str, Any] = {
            "parser": _parser(),
            "expect_config": _config(x509_required=candidate is not None, xades=xades),
        }
        if candidate is not None:
            kwargs["x509_cert"] = pyca_x509.load_der_x509_certificate(candidate.dump())
        try:
            found = verifier.verify(doc.root, **kwargs)
        except InvalidDigest as exc:
            out.signer, out.signature_valid, out.integrity = candidate, True, False
            raise _Verdict(
                AdESFailure.HASH_FAILURE,
                Finding(
                    code="xml.digest_mismatch",
                    en=f"integrity: the document was changed after it was signed ({exc})",
                    vi=f"toàn vẹn: văn bản đã bị thay đổi sau khi ký ({exc})",
                ),
            ) from exc
        except InvalidSignature as exc:
            failure = exc  # perhaps another certificate's key
            continue
        except InvalidInput as exc:
            if "does not match specified signature algorithm" in str(exc):
                failure = exc  # a key of another type: try the next certificate
                continue
            raise _structure_error(exc) from exc
        except (SignXMLException, etree.LxmlError, ValueError, TypeError, KeyError) as exc:
            raise _structure_error(exc) from exc
        out.signer, out.signature_valid = candidate, True
        if isinstance(verifier, _XAdESVerifier):
            out.signing_certificate_problem = verifier.signing_certificate_problem
        results = found if isinstance(found, list) else [found]
        if len(results) != len(references):
            raise _format(
                "structure",
                "signxml verified a different number of references than the signature has",
                "signxml kiểm tra số tham chiếu khác với số tham chiếu của chữ ký",
            )
        return results
    out.signer = candidates[0]
    out.signature_valid = False
    raise _Verdict(
        AdESFailure.SIG_CRYPTO_FAILURE,
        Finding(
            code="xml.signature_mismatch",
            en="the signature value does not verify with the public key of any certificate "
            f"the signature carries ({failure})",
            vi="giá trị chữ ký không khớp với khóa công khai của chứng thư số nào kèm theo chữ "
            f"ký ({failure})",
        ),
    )


def _structure_error(exc: Exception) -> _Verdict:
    return _format(
        "structure",
        f"the signature is not well-formed XMLDSig: {exc}",
        f"chữ ký không đúng cấu trúc XMLDSig: {exc}",
    )


def _expected(root: etree._Element, signature: etree._Element, reference: _Reference) -> bytes:
    """What the reference must have digested, computed from our own reading of the
    document: the document without this signature (or without any, for the XPath filter),
    or the element it names."""
    if all(t.kind in ("base64", "c14n") for t in reference.transforms):
        return _digest_input(signature, reference.target, reference.transforms)
    document = _copy(root)
    return _digest_input(
        _follow(document, _path_of(signature)),
        _follow(document, _path_of(reference.target)),
        reference.transforms,
    )


def _xs_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _signature_timestamps(
    signature: etree._Element, value: etree._Element, out: _Examined
) -> list[_Stamp]:
    stamps: list[_Stamp] = []
    path = (
        f"{_DS}Object/{_XADES}QualifyingProperties/{_XADES}UnsignedProperties/"
        f"{_XADES}UnsignedSignatureProperties/{_XADES}SignatureTimeStamp"
    )
    for stamp in signature.iterfind(path):
        method_element = stamp.find(f"{_DS}CanonicalizationMethod")
        encapsulated = stamp.find(f"{_XADES}EncapsulatedTimeStamp")
        try:
            method = (
                _DEFAULT_C14N
                if method_element is None
                else CanonicalizationMethod(method_element.get("Algorithm"))
            )
            if encapsulated is None or encapsulated.get("Encoding") not in (
                None,
                "http://uri.etsi.org/01903/v1.2.2#DER",
            ):
                raise ValueError("no DER EncapsulatedTimeStamp")
            token = base64.b64decode("".join((encapsulated.text or "").split()), validate=True)
        except (ValueError, InvalidInput, binascii.Error):
            out.findings.append(
                Finding(
                    code="xml.timestamp_unreadable",
                    severity="warning",
                    en="a xades:SignatureTimeStamp cannot be read and is ignored",
                    vi="một xades:SignatureTimeStamp không đọc được nên bị bỏ qua",
                )
            )
            continue
        stamps.append(_Stamp(token=token, covered=_canonical(value, method)))
    return stamps


# -- judging (async: certificate paths, revocation, timestamps) ---------------------------


async def validate_xml(
    data: bytes, policy: ValidationPolicy, *, fetchers: Fetchers | None = None
) -> Outcome:
    """Validate every XML signature in ``data`` (one report each, ``xml-1``, ``xml-2``, … in
    document order). Raises :class:`Unparseable` for a document that is not well-formed XML,
    is too large, or declares a DTD; a document without any signature gives an outcome
    without signatures."""
    examined, findings = await asyncio.to_thread(_examine_document, data)
    # one "now" for every signature and timestamp of the document
    policy = dataclasses.replace(policy, validation_time=validation_time(policy))
    signatures: list[SignatureReport] = []
    evidence = Evidence()
    if not examined:
        return Outcome(findings=tuple(findings))
    needs_network = any(e.early is None for e in examined)
    if needs_network:
        async with fetching(policy, fetchers) as fetchers:
            for item in examined:
                report, more = await _judge(item, policy, fetchers)
                signatures.append(report)
                evidence = evidence.merge(more)
    else:
        for item in examined:
            report, more = await _judge(item, policy, None)
            signatures.append(report)
            evidence = evidence.merge(more)
    return Outcome(signatures=tuple(signatures), findings=tuple(findings), evidence=evidence)


def _role(cert: x509.Certificate | None, policy: ValidationPolicy) -> tuple[Role, bool]:
    if cert is None:
        return Role.UNKNOWN, False
    is_org = policy.agency_rule.is_organisation(cert)
    return (Role.AGENCY if is_org else Role.PERSONAL), is_org


def _algorithm_name(uri: str | None) -> str | None:
    if not uri:
        return None
    return uri.rsplit("#", 1)[-1]


def _digest_name(uri: str) -> str | None:
    algorithm = _digest_of(uri)
    if algorithm is None:
        return "md5" if uri in _MD5_URIS else None
    return algorithm.name.lower()


def _signature_digest(method: SignatureMethod) -> str:
    name = method.name
    if name.endswith("_RSA_MGF1"):
        return name.removesuffix("_RSA_MGF1").lower()
    return name.split("_", 1)[1].lower()


async def _judge(
    ex: _Examined, policy: ValidationPolicy, fetchers: Fetchers | None
) -> tuple[SignatureReport, Evidence]:
    when = validation_time(policy)
    role, is_org = _role(ex.signer, policy)
    signer_info = (
        None if ex.signer is None else CertificateInfo.of(ex.signer, is_organisation=is_org)
    )
    digest_names = [n for n in (_digest_name(u) for u in ex.digest_uris) if n]
    findings = list(ex.findings)
    for name in dict.fromkeys([*digest_names, *_signature_digest_names(ex.signature_uri)]):
        findings.extend(algorithm_findings(policy, name))
    base = SignatureReport(
        id=ex.id,
        kind="signature" if ex.counter_signs is None else "counter-signature",
        counter_signs=ex.counter_signs,
        indication=AdESStatus.INDETERMINATE,
        role=role,
        signer=signer_info,
        claimed_signing_time=ex.claimed_time,
        integrity=ex.integrity,
        signature_valid=ex.signature_valid,
        digest_algorithm=digest_names[0] if digest_names else None,
        signature_algorithm=_algorithm_name(ex.signature_uri),
    )
    certificates = tuple(c.dump() for c in ex.certificates)
    cert = ex.signer
    if ex.early is not None or cert is None:
        early, finding = ex.early or (AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND, None)
        report = dataclasses.replace(
            base,
            indication=early.status,
            sub_indication=early,
            findings=(*(() if finding is None else (finding,)), *findings),
            best_signature_time=when,
        )
        return report, Evidence(certificates=certificates)

    stamps, unreadable = await _judge_stamps(ex, policy, fetchers)
    findings.extend(unreadable)
    proofs: list[TokenOutcome] = []
    for stamp in stamps:
        if stamp.proof_time is not None and stamp.proof_time > when:
            findings.append(_later_than_validation(stamp.proof_time))
        elif stamp.proof_time is not None:
            proofs.append(stamp)
    used = min(proofs, key=lambda s: s.proof_time or when) if proofs else None
    poe = None if used is None or used.proof_time is None else min(used.proof_time, when)
    moment = poe or when
    findings.extend(_timestamp_findings(stamps, used))

    vc = context_for(
        policy,
        fetchers=fetchers,
        other_certs=ex.certificates,
        moment=moment,
        past=poe is not None and poe < when,
    )
    judged = await _judge_path(cert, vc, ex.claimed_time)
    path, sub, detail = judged.path, judged.sub, judged.detail
    algorithm_problem = _algorithm_problem(ex, cert, policy, moment)
    if algorithm_problem is not None and (sub is None or sub.status is not AdESStatus.FAILED):
        sub, detail = algorithm_problem
    revocation = _revocation(cert, vc, judged, policy, moment)
    explained = (
        judged.finding
        if sub is judged.sub and judged.finding is not None
        else verdict_finding("xml", sub, detail)
    )
    if explained is not None:
        findings.insert(0, explained)
    findings.extend(revocation_findings(revocation, policy))
    anchor = _anchor(path if judged.trusted else None)
    report = dataclasses.replace(
        base,
        indication=AdESStatus.PASSED if sub is None else sub.status,
        sub_indication=sub,
        timestamp=None if not stamps else (used or stamps[0]).report.timestamp,
        best_signature_time=moment,
        certificate_valid_at_signing_time=valid_at(cert, moment) and revocation.status != "revoked",
        trusted=judged.trusted,
        trust_anchor=None if anchor is None else anchor.subject.human_friendly,
        trust_purpose=None if anchor is None else policy.anchors.purpose_of(anchor),
        revocation=revocation,
        coverage="ENTIRE_FILE" if ex.counter_signs is None else None,
        findings=tuple(findings),
    )
    evidence = _evidence(cert, ex.certificates, vc, path)
    for stamp in stamps:
        evidence = evidence.merge(stamp.evidence)
    return report, evidence


def _signature_digest_names(uri: str | None) -> list[str]:
    method = _method_of(uri)
    return [] if method is None else [_signature_digest(method)]


def _imprint(covered: bytes) -> Callable[[str], bytes]:
    """The message imprint a signature timestamp must carry, for its hash algorithm."""

    def imprint(algorithm: str) -> bytes:
        return digest(covered, algorithm)

    return imprint


async def _judge_stamps(
    ex: _Examined, policy: ValidationPolicy, fetchers: Fetchers | None
) -> tuple[list[TokenOutcome], list[Finding]]:
    outcomes: list[TokenOutcome] = []
    findings: list[Finding] = []
    for n, stamp in enumerate(ex.stamps, start=1):
        try:
            token = cms.ContentInfo.load(stamp.token, strict=True)
            outcomes.append(
                await judge_timestamp_token(
                    token,
                    policy,
                    fetchers=fetchers,
                    imprint=_imprint(stamp.covered),
                    kind="signature-timestamp",
                    id=f"{ex.id}-timestamp-{n}",
                )
            )
        except (ValueError, KeyError, TypeError, IndexError):
            findings.append(
                Finding(
                    code="xml.timestamp_unreadable",
                    severity="warning",
                    en="a xades:SignatureTimeStamp does not hold an RFC 3161 token and is ignored",
                    vi="một xades:SignatureTimeStamp không chứa dấu thời gian RFC 3161 nên bị "
                    "bỏ qua",
                )
            )
    return outcomes, findings


def _later_than_validation(when: datetime) -> Finding:
    """A timestamp whose time lies after the validation time proves nothing at that time (the
    same code and wording as for PDF, :mod:`validation.pdf`)."""
    stamp = when.isoformat(timespec="seconds")
    return Finding(
        code="time.after_validation_time",
        severity="warning",
        en=f"the timestamp ({stamp}) is later than the validation time: it is not used as proof",
        vi=f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm "
        "bằng chứng",
    )


def _timestamp_findings(stamps: Sequence[TokenOutcome], used: TokenOutcome | None) -> list[Finding]:
    findings: list[Finding] = []
    if used is not None and used.report.timestamp is not None:
        ts = used.report.timestamp
        findings.append(
            Finding(
                code="xml.timestamp",
                severity="info",
                en=f"signature timestamp by {ts.tsa} at {ts.time.isoformat()}: the certificate "
                "is judged at that time",
                vi=f"dấu thời gian của chữ ký do {ts.tsa} cấp lúc {ts.time.isoformat()}: chứng "
                "thư số được kiểm tra tại thời điểm đó",
            )
        )
    else:
        findings.append(
            Finding(
                code="time.no_timestamp",
                severity="info",
                en="no valid signature timestamp: the certificate is judged at the validation "
                "time (the claimed signing time is the signer's own clock, not proof)",
                vi="không có dấu thời gian hợp lệ: chứng thư số được kiểm tra tại thời điểm "
                "kiểm tra (thời điểm ký do máy người ký ghi không phải là bằng chứng)",
            )
        )
    findings.extend(rejected_timestamp_findings(stamps, "xml"))
    return findings


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _PathJudgement:
    path: ValidationPath | None
    """The validated path, or the one that failed (if any was built)."""
    sub: SubIndication | None
    detail: str | None = None
    trusted: bool = False
    """A path to a trust anchor was built (whatever else failed)."""
    revoked: RevocationDetails | None = None
    finding: Finding | None = None
    """The certificate judge's own finding for ``sub``."""


async def _judge_path(
    cert: x509.Certificate, vc: ValidationContext, claimed: datetime | None
) -> _PathJudgement:
    """The signer's certificate at the context's moment, judged by the one certificate judge
    every format shares (:func:`validation.certificates.judge_certificate`: path, validity,
    revocation, key usage, and the claimed signing time after a revocation)."""
    verdict = await judge_certificate(cert, vc, SIGNER_KEY_USAGE, vc.moment, claimed=claimed)
    revoked = None
    if verdict.revoked_at is not None:
        revoked = RevocationDetails(
            ca_revoked=verdict.sub is AdESIndeterminate.REVOKED_CA_NO_POE,
            revocation_date=verdict.revoked_at,
            revocation_reason=CRLReason("unspecified"),
        )
    return _PathJudgement(
        path=verdict.path,
        sub=verdict.sub,
        detail=None if verdict.finding is None else verdict.finding.en,
        trusted=verdict.path is not None
        and verdict.sub is not AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
        revoked=revoked,
        finding=verdict.finding,
    )


def _algorithm_problem(
    ex: _Examined, cert: x509.Certificate, policy: ValidationPolicy, moment: datetime
) -> tuple[SubIndication, str] | None:
    """The signature's own algorithms against the policy, at the time judged (TT 15/2025
    App. I: no MD5, RSA ≥ 2048 bits, ECDSA ≥ 256 bits)."""
    algorithms = AlgorithmPolicy(policy)
    method = _method_of(ex.signature_uri)
    checks: list[AlgorithmUsageConstraint] = []
    if method is not None:
        checks.append(
            algorithms.signature_algorithm_allowed(
                _signed_digest_algorithm(method), moment, cert.public_key
            )
        )
        checks.append(
            algorithms.digest_algorithm_allowed(
                algos.DigestAlgorithm({"algorithm": _signature_digest(method)}), moment
            )
        )
    for uri in ex.digest_uris:
        name = _digest_name(uri)
        if name is not None:
            checks.append(
                algorithms.digest_algorithm_allowed(
                    algos.DigestAlgorithm({"algorithm": name}), moment
                )
            )
    for check in checks:
        if not check.allowed:
            sub = (
                AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
                if check.not_allowed_after is None
                else AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            )
            return sub, check.failure_reason or "algorithm not allowed"
    return None


def _signed_digest_algorithm(method: SignatureMethod) -> algos.SignedDigestAlgorithm:
    digest_name = _signature_digest(method)
    if method.name.endswith("_RSA_MGF1"):
        return algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": {
                    "hash_algorithm": {"algorithm": digest_name},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": digest_name},
                    },
                    "salt_length": _HASH_SIZES.get(digest_name, 32),
                },
            }
        )
    family = "ecdsa" if method.name.startswith("ECDSA_") else "rsa"
    name = f"{digest_name}_{family}"
    if name not in algos.SignedDigestAlgorithmId._map.values():
        name = "ecdsa" if family == "ecdsa" else "rsassa_pkcs1v15"
    return algos.SignedDigestAlgorithm({"algorithm": name})


def _anchor(path: ValidationPath | None) -> x509.Certificate | None:
    if path is None:
        return None
    anchor = path.trust_anchor
    return anchor.certificate if isinstance(anchor, CertTrustAnchor) else None


def _revocation(
    cert: x509.Certificate,
    vc: ValidationContext,
    judged: _PathJudgement,
    policy: ValidationPolicy,
    moment: datetime,
) -> RevocationInfo:
    """The signer certificate's revocation status at the time judged, and its source (XML
    signatures here carry no revocation data: it is supplied or fetched)."""

    def source(der: bytes) -> Literal["supplied", "online"]:
        return "supplied" if der in policy.crls or der in policy.ocsp_responses else "online"

    found: list[tuple[str, Literal["supplied", "online"], str]] = []
    for resp in vc.ocsps:
        state = ocsp_status(resp, cert)
        if state is not None:
            found.append((state, source(resp.dump()), "OCSP"))
    for lst in vc.crls:
        state = crl_status(lst, cert)
        if state is not None:
            found.append((state, source(lst.dump()), "CRL"))
    details = judged.revoked
    if details is not None:
        src = next((s for st, s, _ in found if st == "revoked"), None)
        what = "the issuing CA's certificate" if details.ca_revoked else "the certificate"
        return RevocationInfo(
            status="revoked",
            source=src,
            detail=f"{what} was revoked at {details.revocation_date.isoformat()}",
        )
    if found:
        state, src, kind = next((f for f in found if f[2] == "OCSP"), found[0])
        if state == "good" or (state == "revoked" and judged.sub is None):
            return RevocationInfo(
                status="good", source=src, detail=f"{kind} at {moment.isoformat()}"
            )
        return RevocationInfo(status="unknown", source=src, detail=f"{kind} says {state}")
    if not cert.crl_distribution_points and not cert.ocsp_urls:
        return RevocationInfo(
            status="not-checked", detail="the certificate names no CRL or OCSP responder"
        )
    return RevocationInfo(
        status="unknown",
        detail="no CRL or OCSP response was available" + (" (offline)" if policy.offline else ""),
    )


def _evidence(
    cert: x509.Certificate,
    carried: Sequence[x509.Certificate],
    vc: ValidationContext,
    path: ValidationPath | None,
) -> Evidence:
    chain: list[x509.Certificate] = [cert]
    if path is not None:
        chain.extend(path.iter_certs(include_root=True))
    certs = [*chain, *carried]
    issuers = [c.issuer for c in chain]
    return Evidence(
        certificates=tuple(dict.fromkeys(c.dump() for c in certs)),
        crls=tuple(dict.fromkeys(c.dump() for c in vc.crls if c.issuer in issuers)),
        ocsp_responses=tuple(
            dict.fromkeys(
                r.dump() for r in vc.ocsps if any(ocsp_status(r, c) is not None for c in chain)
            )
        ),
    )
