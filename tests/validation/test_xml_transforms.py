"""XML signatures the audit found wrongly judged (validation/xml.py): UTF-16 documents, the
base64 transform, comments under WithComments canonicalisation, the XPath filter, XAdES
counter-signatures and timestamps later than the validation time.

Signatures our signer cannot make are built here by hand (lxml and cryptography, keys of the
test PKI): each reference's digest is computed by the test itself from what XMLDSig says the
reference covers, independently of the validator. xmlsec1 is the second opinion wherever it
can judge the same file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import Certificate
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing.dev.pki import DevPki, Identity
from signing.dev.services import DevServices
from signing.xml import XmlSignatureKind
from tests.validation.test_xml import (
    DS,
    DS_NS,
    SMALL_XML,
    TEST_NS,
    XADES,
    XADES_NS,
    codes,
    edit,
    offline,
    online,
    only,
    run_xmlsec1,
    sign,
    signature_of,
    verdict,
)
from validation.document import detect_format, validate_bytes
from validation.policy import ValidationPolicy
from validation.report import people_time

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N10_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
C14N11_COMMENTS = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNED_PROPERTIES = "http://uri.etsi.org/01903#SignedProperties"
COUNTERSIGNED = "http://uri.etsi.org/01903#CountersignedSignature"
NOT_SIGNATURES = "not(ancestor-or-self::ds:Signature)"
HERE_ENVELOPED = (
    "count(ancestor-or-self::ds:Signature | here()/ancestor::ds:Signature[1]) > "
    "count(ancestor-or-self::ds:Signature)"
)

COMMENTED_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!-- trước phần tử gốc -->\n"
    '<CongVan xmlns="urn:lienthong:test" Id="cong-van" so="12/UBND-VP">\n'
    "  <!-- ghi chú của người soạn -->\n"
    "  <TrichYeu>Về việc triển khai chữ ký số trong cơ quan nhà nước</TrichYeu>\n"
    '  <NoiDung Id="noi-dung">Đề nghị các sở, ban, ngành thực hiện &amp; báo cáo.<!-- x -->'
    "</NoiDung>\n"
    "</CongVan>\n"
).encode()


# -- signatures made by hand ---------------------------------------------------------------


Digested = Callable[[etree._Element], bytes]
"""Given the signed document's root, the octets a reference digests (computed here)."""


@dataclass(frozen=True, slots=True)
class Step:
    """A ``ds:Transform``; ``xpath``: its XPath element's text, with ``nsmap`` declared on
    that element besides ``ds`` (built in place: lxml drops a declaration it deems redundant
    when an element moves between trees)."""

    algorithm: str
    xpath: str | None = None
    nsmap: dict[str, str] | None = None
    xpath_tag: str = f"{DS}XPath"
    xpath_attributes: dict[str, str] | None = None


def transform(
    algorithm: str, xpath: str | None = None, nsmap: dict[str, str] | None = None
) -> Step:
    return Step(algorithm, xpath, nsmap)


@dataclass(frozen=True, slots=True)
class Ref:
    uri: str
    transforms: Sequence[Step]
    digested: Digested
    type: str | None = None


def by_id(root: etree._Element, id: str) -> etree._Element:
    found = root.xpath("//*[@Id=$id]", id=id)
    assert isinstance(found, list) and len(found) == 1
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def remove(element: etree._Element) -> None:
    """Take ``element`` out of its tree, keeping the text after it."""
    parent = element.getparent()
    assert parent is not None
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def c14n(element: etree._Element, *, exclusive: bool = False, comments: bool = False) -> bytes:
    """C14N of ``element`` as the root of its own document (as the spec renders a subtree,
    without libxml2's spurious ``xmlns=""`` on a subtree of a default namespace)."""
    alone = etree.fromstring(etree.tostring(element, with_tail=False))
    return etree.tostring(alone, method="c14n", exclusive=exclusive, with_comments=comments)


def document_without(*signature_ids: str, exclusive: bool = False) -> Digested:
    """The whole document without the given signatures and without comments (what a
    ``URI=""`` reference with the enveloped-signature transform or the XPath filter yields)."""

    def digested(root: etree._Element) -> bytes:
        copy = etree.fromstring(etree.tostring(root))
        for id in signature_ids:
            remove(by_id(copy, id))
        return c14n(copy, exclusive=exclusive)

    return digested


def element_c14n(id: str, *, exclusive: bool = True) -> Digested:
    return lambda root: c14n(by_id(root, id), exclusive=exclusive)


def der_b64(cert: Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def hand_sign(
    parent: etree._Element | None,
    ident: Identity,
    refs: Sequence[Ref],
    *,
    chain: Sequence[Certificate] = (),
    sig_id: str = "hand-signature",
    xades: bool = False,
    named_certificate: Certificate | None = None,
    objects: Sequence[Step] = (),
    signed_info_c14n: str = EXC_C14N,
    inclusive_prefixes: str | None = None,
) -> etree._Element:
    """An RSA-SHA256 ``ds:Signature`` with the given references, appended to ``parent``
    (``None``: an enveloping signature, the root of its own document). ``xades``: with
    ``xades:SignedProperties`` (SigningTime, SigningCertificateV2 naming
    ``named_certificate``, by default the signer's) and its reference. The signature value
    has the Id ``<sig_id>-value``."""
    nsmap = {"ds": DS_NS}
    if parent is None:
        signature = etree.Element(f"{DS}Signature", nsmap=nsmap, Id=sig_id)
    else:
        signature = etree.SubElement(parent, f"{DS}Signature", nsmap=nsmap, Id=sig_id)
    signed_info = etree.SubElement(signature, f"{DS}SignedInfo")
    method = etree.SubElement(
        signed_info, f"{DS}CanonicalizationMethod", Algorithm=signed_info_c14n
    )
    if inclusive_prefixes is not None:
        etree.SubElement(
            method, f"{{{EXC_C14N}}}InclusiveNamespaces", PrefixList=inclusive_prefixes
        )
    etree.SubElement(signed_info, f"{DS}SignatureMethod", Algorithm=RSA_SHA256)
    value = etree.SubElement(signature, f"{DS}SignatureValue", Id=f"{sig_id}-value")
    key_info = etree.SubElement(signature, f"{DS}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{DS}X509Data")
    for cert in (ident.cert, *chain):
        etree.SubElement(x509_data, f"{DS}X509Certificate").text = der_b64(cert)
    for obj in objects:
        signature.append(obj)
    all_refs = list(refs)
    if xades:
        holder = etree.SubElement(signature, f"{DS}Object")
        qualifying = etree.SubElement(
            holder, f"{XADES}QualifyingProperties", nsmap={"xades": XADES_NS}, Target=f"#{sig_id}"
        )
        props = etree.SubElement(qualifying, f"{XADES}SignedProperties", Id=f"{sig_id}-props")
        ssp = etree.SubElement(props, f"{XADES}SignedSignatureProperties")
        now = datetime.now(UTC).replace(microsecond=0)
        etree.SubElement(ssp, f"{XADES}SigningTime").text = now.isoformat()
        v2 = etree.SubElement(ssp, f"{XADES}SigningCertificateV2")
        digest = etree.SubElement(etree.SubElement(v2, f"{XADES}Cert"), f"{XADES}CertDigest")
        etree.SubElement(digest, f"{DS}DigestMethod", Algorithm=SHA256)
        named = named_certificate or ident.cert
        etree.SubElement(digest, f"{DS}DigestValue").text = base64.b64encode(
            named.fingerprint(hashes.SHA256())
        ).decode()
        all_refs.append(
            Ref(
                uri=f"#{sig_id}-props",
                transforms=[transform(EXC_C14N)],
                digested=element_c14n(f"{sig_id}-props"),
                type=SIGNED_PROPERTIES,
            )
        )
    root = signature.getroottree().getroot()
    for ref in all_refs:
        reference = etree.SubElement(signed_info, f"{DS}Reference", URI=ref.uri)
        if ref.type is not None:
            reference.set("Type", ref.type)
        if ref.transforms:
            holder = etree.SubElement(reference, f"{DS}Transforms")
            for step in ref.transforms:
                element = etree.SubElement(holder, f"{DS}Transform", Algorithm=step.algorithm)
                if step.xpath is not None:
                    nsmap = {"ds": DS_NS, **(step.nsmap or {})}
                    xpath = etree.SubElement(
                        element, step.xpath_tag, step.xpath_attributes, nsmap=nsmap
                    )
                    xpath.text = step.xpath
        etree.SubElement(reference, f"{DS}DigestMethod", Algorithm=SHA256)
        etree.SubElement(reference, f"{DS}DigestValue").text = base64.b64encode(
            hashlib.sha256(ref.digested(root)).digest()
        ).decode()
    exclusive = signed_info_c14n.startswith(EXC_C14N)
    prefixes = None if inclusive_prefixes is None else inclusive_prefixes.split()
    canonical = etree.tostring(
        signed_info,
        method="c14n",
        exclusive=exclusive,
        with_comments=False,
        inclusive_ns_prefixes=prefixes,
    )
    key = ident.key
    assert isinstance(key, rsa.RSAPrivateKey)
    value.text = base64.b64encode(key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())).decode()
    return signature


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def enveloped(
    pki: DevPki,
    transforms: Sequence[Step],
    *,
    data: bytes = SMALL_XML,
    uri: str = "",
    sig_id: str = "hand-signature",
    signer: str = "personal",
    signed_info_c14n: str = EXC_C14N,
    inclusive_prefixes: str | None = None,
) -> bytes:
    """``data`` with an enveloped signature by hand, over the document less the signature."""
    root = etree.fromstring(data)
    hand_sign(
        root,
        pki.signers[signer],
        [Ref(uri=uri, transforms=transforms, digested=document_without(sig_id))],
        chain=(pki.issuing.cert,),
        sig_id=sig_id,
        signed_info_c14n=signed_info_c14n,
        inclusive_prefixes=inclusive_prefixes,
    )
    return serialise(root)


def xmlsec1_ok(signed: bytes, pki_files: Path, tmp_path: Path, *extra: str) -> bool:
    proc = run_xmlsec1(
        signed,
        pki_files,
        tmp_path,
        "--id-attr:Id",
        f"{DS_NS}:Signature",
        "--id-attr:Id",
        f"{DS_NS}:SignatureValue",
        "--id-attr:Id",
        f"{DS_NS}:Object",
        *extra,
    )
    return proc.returncode == 0


def forge_text(signed: bytes) -> bytes:
    forged = signed.replace("thực hiện".encode(), "không thực hiện".encode(), 1)
    assert forged != signed
    return forged


# -- 1. UTF-16 documents -------------------------------------------------------------------


def utf16(signed: bytes, codec: str) -> bytes:
    """The same document in UTF-16 with a byte-order mark (``utf-16-le`` or ``utf-16-be``)."""
    text = signed.decode("utf-8")
    declaration, _, body = text.partition("?>")
    assert declaration.startswith("<?xml")
    text = '<?xml version="1.0" encoding="UTF-16"' + "?>" + body
    mark = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    return mark + text.encode(codec)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("kind", ["xmldsig", "xades-b-t"])
async def test_utf16_document_validates_like_its_utf8_twin(
    pki: DevPki,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
    codec: str,
    kind: XmlSignatureKind,
) -> None:
    twin = await sign(pki, dev_services, kind=kind)
    data = utf16(twin, codec)
    assert detect_format(data) == "xml"
    assert run_xmlsec1(data, pki_files, tmp_path).returncode == 0

    expected = only(await verdict(twin, online(pki)))
    report = await verdict(data, online(pki))
    sig = only(report)
    assert report.format == "xml"
    assert report.indication is AdESStatus.PASSED, sig.findings
    assert (sig.indication, sig.sub_indication) == (expected.indication, expected.sub_indication)
    assert sig.signer == expected.signer and sig.integrity and sig.signature_valid

    forged = utf16(forge_text(twin), codec)
    assert run_xmlsec1(forged, pki_files, tmp_path).returncode != 0
    assert only(await verdict(forged, offline(pki))).sub_indication is AdESFailure.HASH_FAILURE


def test_detect_format_reads_utf16() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<CongVan/>'
    assert detect_format(b"\xff\xfe" + text.encode("utf-16-le")) == "xml"
    assert detect_format(b"\xfe\xff" + text.encode("utf-16-be")) == "xml"
    assert detect_format(b"\xff\xfe" + "  \n<CongVan/>".encode("utf-16-le")) == "xml"
    assert detect_format(text.encode("utf-16-le")) == "xml"  # no mark: XML 1.0 App. F
    assert detect_format(text.encode("utf-16-be")) == "xml"
    assert detect_format(b"\xff\xfe" + "không phải XML".encode("utf-16-le")) == "unknown"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
async def test_utf16_doctype_is_still_refused(codec: str) -> None:
    """The hardened parser sees UTF-16 documents now: a DTD is refused there too."""
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    mark = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    report = await validate_bytes(
        mark + text.encode(codec), ValidationPolicy(offline=True), name="x.xml"
    )
    assert report.format == "xml"
    assert report.indication is AdESStatus.FAILED
    assert report.sub_indication is AdESFailure.FORMAT_FAILURE
    assert [f.code for f in report.findings] == ["xml.unsafe"]


# -- 2. the base64 transform ---------------------------------------------------------------

PAYLOAD = "Công văn số 12/UBND-VP: đề nghị các sở thực hiện.\n".encode() * 8


def wrapped_b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n" + "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def base64_enveloping(
    pki: DevPki,
    *,
    payload: bytes = PAYLOAD,
    xades: bool = True,
    named_certificate: Certificate | None = None,
) -> bytes:
    """An enveloping signature whose ds:Object holds ``payload`` in base64; its reference
    decodes it (XMLDSig 1.1 §6.6.2), so the digest is over the payload's own octets."""
    obj = etree.Element(f"{DS}Object", nsmap={"ds": DS_NS}, Id="tep-dinh-kem")
    obj.set("MimeType", "application/octet-stream")
    obj.set("Encoding", BASE64)
    obj.text = wrapped_b64(payload)
    signature = hand_sign(
        None,
        pki.signers["personal"],
        [Ref(uri="#tep-dinh-kem", transforms=[transform(BASE64)], digested=lambda _: payload)],
        chain=(pki.issuing.cert,),
        objects=[obj],
        xades=xades,
        named_certificate=named_certificate,
    )
    return serialise(signature)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(PAYLOAD, id="text"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), id="binary"),
        pytest.param(
            b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html><p>&nbsp;</p></html>', id="xml-with-dtd"
        ),
    ],
)
@pytest.mark.parametrize("xades", [False, True])
async def test_base64_reference_passes(
    pki: DevPki, pki_files: Path, tmp_path: Path, xades: bool, payload: bytes
) -> None:
    """The decoded octets are what is signed, whatever they are: they are never parsed as
    XML (signxml would, and refuse a DTD in a signed attachment)."""
    signed = base64_enveloping(pki, xades=xades, payload=payload)
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    sig = only(await verdict(signed, offline(pki)))
    assert sig.passed, sig.findings
    assert sig.integrity and sig.signature_valid
    assert (sig.claimed_signing_time is not None) is xades


async def test_base64_content_changed(pki: DevPki, pki_files: Path, tmp_path: Path) -> None:
    def swap(root: etree._Element) -> None:
        by_id(root, "tep-dinh-kem").text = wrapped_b64(PAYLOAD.replace(b"12/", b"99/"))

    forged = edit(base64_enveloping(pki), swap)
    assert not xmlsec1_ok(forged, pki_files, tmp_path)
    sig = only(await verdict(forged, offline(pki)))
    assert sig.sub_indication is AdESFailure.HASH_FAILURE
    assert "xml.digest_mismatch" in codes(sig)


async def test_base64_reference_reaches_the_signing_certificate_check(pki: DevPki) -> None:
    """Behind the base64 reference, XAdES SigningCertificateV2 is checked: here it names the
    issuing CA's certificate, not the signer's."""
    signed = base64_enveloping(pki, named_certificate=pki.issuing.cert)
    sig = only(await verdict(signed, offline(pki)))
    assert sig.indication is AdESStatus.INDETERMINATE
    assert sig.sub_indication is AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
    assert "xml.signing_certificate_mismatch" in codes(sig)


async def test_base64_line_breaks_and_comments_are_not_content(pki: DevPki) -> None:
    """White space is not base64 data, comments are not in the node-set: re-wrapping the
    text or adding a comment after it does not change what is signed. A comment before the
    text would hide it from a reader taking the element's text: refused."""

    def rewrap(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        text = "".join((obj.text or "").split())
        obj.text = "\n  " + text[:48] + "\r\n\t" + text[48:] + "\n"
        after = etree.Comment(" hết ")
        after.tail = "\n"
        obj.append(after)

    assert only(await verdict(edit(base64_enveloping(pki), rewrap), offline(pki))).passed

    def before(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        comment = etree.Comment(" tệp đính kèm ")
        comment.tail, obj.text = obj.text, "\n"
        obj.insert(0, comment)

    sig = only(await verdict(edit(base64_enveloping(pki), before), offline(pki)))
    assert not sig.passed and "xml.comment_in_signed_text" in codes(sig)


async def test_base64_object_with_markup_is_refused(pki: DevPki) -> None:
    """The base64 transform keeps only the text: an element added inside the Object, with
    the text moved into it, would be markup the signature does not cover."""

    def wrap_in_element(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        holder = etree.SubElement(obj, f"{{{TEST_NS}}}TepDinhKem", nsmap={None: TEST_NS})
        holder.text, obj.text = obj.text, None

    sig = only(await verdict(edit(base64_enveloping(pki), wrap_in_element), offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    assert "xml.base64_content" in codes(sig)


async def test_base64_with_foreign_characters_is_refused(pki: DevPki) -> None:
    """RFC 2045 decoders skip characters outside the alphabet; we refuse them instead of
    letting text the signature does not cover stand in the Object."""

    def add_text(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        obj.text = (obj.text or "") + "Chuyển khoản 10 tỷ đồng"

    sig = only(await verdict(edit(base64_enveloping(pki), add_text), offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    assert "xml.base64_invalid" in codes(sig)


async def test_base64_on_the_document_is_refused(pki: DevPki) -> None:
    """Decoding the text of an enveloped document would sign its text, not the document."""
    signed = enveloped(pki, [transform(ENVELOPED), transform(BASE64)])
    sig = only(await verdict(signed, offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    finding = next(f for f in sig.findings if f.code == "xml.transform_forbidden")
    assert BASE64 in finding.en and BASE64 in finding.vi


# -- 3. comments under a WithComments canonicalisation ----------------------------------------


@pytest.mark.parametrize("method", [C14N11_COMMENTS, C14N10_COMMENTS])
@pytest.mark.parametrize("uri", ["", "#cong-van"])
async def test_with_comments_reference_drops_comments(
    pki: DevPki, pki_files: Path, tmp_path: Path, method: str, uri: str
) -> None:
    """XMLDSig §4.4.3.3: a ``URI=""`` or ``#id`` reference yields a node-set without comments,
    so a WithComments C14N of it renders none. A signature made so over a document with
    comments passes; a comment added after signing changes nothing; a text change fails."""
    signed = enveloped(pki, [transform(ENVELOPED), transform(method)], data=COMMENTED_XML, uri=uri)
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    sig = only(await verdict(signed, offline(pki)))
    assert sig.passed, sig.findings

    def comment(root: etree._Element) -> None:
        root.insert(0, etree.Comment(" thêm sau khi ký "))
        by_id(root, "noi-dung").append(etree.Comment(" nữa "))

    commented = edit(signed, comment)
    assert xmlsec1_ok(commented, pki_files, tmp_path)
    assert only(await verdict(commented, offline(pki))).passed

    forged = forge_text(signed)
    assert not xmlsec1_ok(forged, pki_files, tmp_path)
    sig = only(await verdict(forged, offline(pki)))
    assert sig.sub_indication is AdESFailure.HASH_FAILURE


async def test_with_comments_digest_over_comments_fails(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """The mirror image: a digest computed over the comments (as a naive signer does) is not
    what the reference covers, for xmlsec1 neither."""
    root = etree.fromstring(COMMENTED_XML)

    def with_comments(doc: etree._Element) -> bytes:
        copy = etree.fromstring(etree.tostring(doc))
        remove(by_id(copy, "hand-signature"))
        return etree.tostring(copy, method="c14n", with_comments=True)

    transforms = [transform(ENVELOPED), transform(C14N11_COMMENTS)]
    hand_sign(
        root,
        pki.signers["personal"],
        [Ref(uri="", transforms=transforms, digested=with_comments)],
        chain=(pki.issuing.cert,),
    )
    signed = serialise(root)
    assert not xmlsec1_ok(signed, pki_files, tmp_path)
    assert only(await verdict(signed, offline(pki))).sub_indication is AdESFailure.HASH_FAILURE


# -- 4. the XPath filter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transforms", "signed_info_c14n"),
    [
        pytest.param([transform(XPATH, NOT_SIGNATURES)], EXC_C14N, id="xpath-alone"),
        pytest.param([transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)], EXC_C14N, id="xpath"),
        pytest.param(
            [transform(ENVELOPED), transform(XPATH, NOT_SIGNATURES), transform(C14N10)],
            EXC_C14N,
            id="enveloped-and-xpath",
        ),
        pytest.param([transform(XPATH, HERE_ENVELOPED)], EXC_C14N, id="here"),
        pytest.param(
            [transform(XPATH, "\n  not ( ancestor-or-self :: dsig:Signature )\n", {"dsig": DS_NS})],
            C14N10,
            id="other-prefix-signed-by-inclusive-c14n",
        ),
    ],
)
async def test_xpath_filter_is_applied(
    pki: DevPki,
    pki_files: Path,
    tmp_path: Path,
    transforms: list[Step],
    signed_info_c14n: str,
) -> None:
    """The enveloped idioms of the XPath filter transform are applied, not skipped: a valid
    signature using them passes (xmlsec1 agrees) and a text change fails. (A prefix other
    than the one of ds:XPath itself is signed only by inclusive C14N of SignedInfo, see
    test_xpath_prefix_binding_must_be_signed.)"""
    signed = enveloped(pki, transforms, signed_info_c14n=signed_info_c14n)
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    sig = only(await verdict(signed, offline(pki)))
    assert sig.passed, sig.findings

    forged = forge_text(signed)
    assert not xmlsec1_ok(forged, pki_files, tmp_path)
    assert only(await verdict(forged, offline(pki))).sub_indication is AdESFailure.HASH_FAILURE


async def test_xpath_filter_lets_signatures_not_cover_each_other(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """``not(ancestor-or-self::ds:Signature)`` takes every signature out of what is signed:
    two signatures made so both pass (with the enveloped-signature transform alone the first
    would break, see test_second_enveloped_signature_breaks_the_first)."""
    root = etree.fromstring(SMALL_XML)
    for n, signer in enumerate(("personal", "agency"), start=1):
        hand_sign(
            root,
            pki.signers[signer],
            [
                Ref(
                    uri="",
                    transforms=[transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)],
                    digested=document_without("sig-1", *(["sig-2"] if n == 2 else [])),
                )
            ],
            chain=(pki.issuing.cert,),
            sig_id=f"sig-{n}",
        )
    signed = serialise(root)
    for n in (1, 2):
        assert xmlsec1_ok(signed, pki_files, tmp_path, "--node-id", f"sig-{n}")
    report = await verdict(signed, offline(pki))
    assert report.indication is AdESStatus.PASSED, report.signatures
    assert [s.passed for s in report.signatures] == [True, True]


async def test_xpath_filter_wrapping_with_a_forged_signature_element(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """Signature wrapping against the XPath filter: since every ds:Signature is outside
    what is signed, an attacker hides forged content in a new ds:Signature. The genuine
    signature still verifies (it never covered that element, xmlsec1 agrees), but the forged
    element is judged as the signature it claims to be, and fails: the document fails."""
    signed = enveloped(pki, [transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)])

    def smuggle(root: etree._Element) -> None:
        fake = etree.Element(f"{DS}Signature", nsmap={"ds": DS_NS})
        etree.SubElement(fake, f"{DS}SignatureValue").text = "Chuyển 10 tỷ đồng vào tài khoản"
        root.insert(0, fake)

    attack = edit(signed, smuggle)
    assert xmlsec1_ok(attack, pki_files, tmp_path, "--node-id", "hand-signature")
    report = await verdict(attack, offline(pki))
    assert report.indication is AdESStatus.FAILED
    forged, genuine = report.signatures
    assert genuine.passed
    assert forged.sub_indication is AdESFailure.FORMAT_FAILURE

    def smuggle_content(root: etree._Element) -> None:
        """Foreign content inside the forged signature's KeyInfo."""
        smuggle(root)
        key_info = etree.SubElement(root[0], f"{DS}KeyInfo")
        etree.SubElement(key_info, f"{{{TEST_NS}}}NoiDung").text = "Hủy bỏ công văn trước."

    report = await verdict(edit(signed, smuggle_content), offline(pki))
    assert report.indication is AdESStatus.FAILED


async def test_xpath_prefix_binding_must_be_signed(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """Exclusive C14N of SignedInfo leaves out a namespace declaration used only inside the
    XPath text: the binding of ``dsig`` is then not signed, and whoever rebinds it chooses
    which elements leave what is signed. Here the attacker binds ``dsig`` to his own
    namespace and adds ``evil:Signature`` content: xmlsec1 reads the binding from the
    document and accepts; we read it from the verified SignedInfo, where it is missing, and
    refuse. Declared in InclusiveNamespaces (so signed), the same filter passes."""
    transforms = [
        transform(ENVELOPED),
        transform(XPATH, "not(ancestor-or-self::dsig:Signature)", {"dsig": DS_NS}),
        transform(EXC_C14N),
    ]
    signed = enveloped(pki, transforms)

    def rebind(root: etree._Element) -> None:
        xpath = signature_of(root).find(f".//{DS}XPath")
        assert xpath is not None
        holder = xpath.getparent()
        assert holder is not None
        replacement = etree.SubElement(
            holder, f"{DS}XPath", nsmap={"ds": DS_NS, "dsig": "urn:evil"}
        )
        replacement.text = xpath.text
        holder.remove(xpath)
        evil = etree.SubElement(root, "{urn:evil}Signature", nsmap={"evil": "urn:evil"})
        evil.text = "Chuyển 10 tỷ đồng vào tài khoản 0123456789."

    attack = edit(signed, rebind)
    assert xmlsec1_ok(attack, pki_files, tmp_path)  # a real attack
    for data in (signed, attack):
        sig = only(await verdict(data, offline(pki)))
        assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
        assert "xml.xpath_unsupported" in codes(sig)

    signed = enveloped(pki, transforms, inclusive_prefixes="dsig")
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    assert only(await verdict(signed, offline(pki))).passed
    attack = edit(signed, rebind)
    assert not xmlsec1_ok(attack, pki_files, tmp_path)
    assert only(await verdict(attack, offline(pki))).indication is AdESStatus.FAILED


@pytest.mark.parametrize(
    "expression",
    [
        "self::text()",
        "not(ancestor-or-self::ds:Signature) or true()",
        "not(ancestor-or-self::ds:Signature | //t:NoiDung)",
        "not(ancestor-or-self::ds:Signature)[document('http://127.0.0.1:1/x')]",
        "not(ancestor-or-self::t:Signature)",
    ],
)
async def test_other_xpath_expressions_are_refused(pki: DevPki, expression: str) -> None:
    """Anything but the idioms is refused with its expression named, never ignored; ``t``
    here is bound to the document's namespace, not XMLDSig's."""
    nsmap = {"ds": DS_NS, "t": TEST_NS}
    signed = enveloped(pki, [transform(ENVELOPED), transform(XPATH, expression, nsmap)])
    sig = only(await verdict(signed, offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    finding = next(f for f in sig.findings if f.code == "xml.xpath_unsupported")
    assert expression.split("(")[0] in finding.en and "XPath" in finding.vi


async def test_xpath_filter2_is_refused_by_name(pki: DevPki) -> None:
    step = Step(
        XPATH_FILTER2,
        "here()/ancestor::ds:Signature[1]",
        {"dsig-xpath": XPATH_FILTER2},
        xpath_tag=f"{{{XPATH_FILTER2}}}XPath",
        xpath_attributes={"Filter": "subtract"},
    )
    sig = only(await verdict(enveloped(pki, [step]), offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    finding = next(f for f in sig.findings if f.code == "xml.transform_forbidden")
    assert XPATH_FILTER2 in finding.en and XPATH_FILTER2 in finding.vi


async def test_transform_after_canonicalisation_is_refused(pki: DevPki) -> None:
    signed = enveloped(pki, [transform(EXC_C14N), transform(ENVELOPED)])
    sig = only(await verdict(signed, offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    assert "xml.transform_forbidden" in codes(sig)


# -- 5. XAdES counter-signatures ------------------------------------------------------------


def counter_sign(
    signed: bytes,
    pki: DevPki,
    *,
    signer: str = "agency",
    xades: bool = True,
    digested: Digested | None = None,
    uri: str = "#parent-value",
) -> bytes:
    """``signed`` (one XAdES signature) with a counter-signature by ``signer`` in its
    UnsignedSignatureProperties, over its ds:SignatureValue (given the Id ``parent-value``,
    which the signature value does not cover)."""
    root = etree.fromstring(signed)
    parent = signature_of(root)
    value = parent.find(f"{DS}SignatureValue")
    assert value is not None
    value.set("Id", "parent-value")
    qualifying = parent.find(f"{DS}Object/{XADES}QualifyingProperties")
    assert qualifying is not None
    unsigned = qualifying.find(f"{XADES}UnsignedProperties")
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, f"{XADES}UnsignedProperties")
    usp = unsigned.find(f"{XADES}UnsignedSignatureProperties")
    if usp is None:
        usp = etree.SubElement(unsigned, f"{XADES}UnsignedSignatureProperties")
    holder = etree.SubElement(usp, f"{XADES}CounterSignature")
    hand_sign(
        holder,
        pki.signers[signer],
        [
            Ref(
                uri=uri,
                transforms=[transform(EXC_C14N)],
                digested=digested or element_c14n("parent-value"),
                type=COUNTERSIGNED,
            )
        ],
        chain=(pki.issuing.cert,),
        sig_id="counter-1",
        xades=xades,
    )
    return serialise(root)


@pytest.mark.parametrize("xades", [True, False])
async def test_counter_signature_is_judged_on_its_own(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path, xades: bool
) -> None:
    parent = await sign(pki, dev_services, kind="xades-b-b")
    signed = counter_sign(parent, pki, xades=xades)
    assert xmlsec1_ok(signed, pki_files, tmp_path)  # the first signature: the parent
    assert xmlsec1_ok(signed, pki_files, tmp_path, "--node-id", "counter-1")

    report = await verdict(signed, online(pki))
    assert report.indication is AdESStatus.PASSED, report.signatures
    first, counter = report.signatures
    assert first.kind == "signature" and first.passed and first.counter_signs is None
    assert counter.kind == "counter-signature" and counter.passed, counter.findings
    assert counter.counter_signs == first.id
    assert counter.signer is not None and counter.signer.is_organisation
    assert counter.signer.sha256 == pki.signers["agency"].asn1.sha256.hex()
    assert counter.integrity and counter.signature_valid and counter.trusted
    assert (counter.claimed_signing_time is not None) is xades
    assert "xml.nested_signature_ignored" not in {f.code for f in report.findings}
    # the legal check counts signatures, not counter-signatures
    assert report.legal.personal == first.id and report.legal.agency is None


async def test_counter_signature_over_other_bytes_fails(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    """A counter-signature whose digest is not that of the parent's SignatureValue: it
    fails, the parent does not, the document does."""
    parent = await sign(pki, dev_services, kind="xades-b-b")
    signed = counter_sign(parent, pki, digested=lambda _: b"<ds:SignatureValue>other")
    assert not xmlsec1_ok(signed, pki_files, tmp_path, "--node-id", "counter-1")
    report = await verdict(signed, offline(pki))
    first, counter = report.signatures
    assert first.passed
    assert counter.kind == "counter-signature" and counter.counter_signs == first.id
    assert counter.indication is AdESStatus.FAILED
    assert counter.sub_indication is AdESFailure.HASH_FAILURE
    assert counter.signature_valid and counter.integrity is False
    assert report.indication is AdESStatus.FAILED


async def test_counter_signature_moved_to_another_signature_fails(
    pki: DevPki, dev_services: DevServices
) -> None:
    """A counter-signature taken from one signature and put under another (with the Id the
    first one's SignatureValue had) counter-signs what it was made for, not this one."""
    donor = counter_sign(await sign(pki, dev_services, kind="xades-b-b"), pki)
    other = await sign(pki, dev_services, kind="xades-b-b")
    counter = etree.fromstring(donor).find(f".//{XADES}CounterSignature")
    assert counter is not None

    def transplant(root: etree._Element) -> None:
        parent = signature_of(root)
        value = parent.find(f"{DS}SignatureValue")
        assert value is not None
        value.set("Id", "parent-value")
        qualifying = parent.find(f"{DS}Object/{XADES}QualifyingProperties")
        assert qualifying is not None
        unsigned = etree.SubElement(qualifying, f"{XADES}UnsignedProperties")
        etree.SubElement(unsigned, f"{XADES}UnsignedSignatureProperties").append(counter)

    report = await verdict(edit(other, transplant), offline(pki))
    first, moved = report.signatures
    assert first.passed
    assert moved.kind == "counter-signature"
    assert moved.sub_indication is AdESFailure.HASH_FAILURE
    assert report.indication is AdESStatus.FAILED


async def test_parent_signature_value_changed_fails_both(
    pki: DevPki, dev_services: DevServices
) -> None:
    signed = counter_sign(await sign(pki, dev_services, kind="xades-b-b"), pki)

    def flip(root: etree._Element) -> None:
        value = by_id(root, "parent-value")
        raw = bytearray(base64.b64decode(value.text or ""))
        raw[7] ^= 0x01
        value.text = base64.b64encode(bytes(raw)).decode()

    first, counter = (await verdict(edit(signed, flip), offline(pki))).signatures
    assert first.sub_indication is AdESFailure.SIG_CRYPTO_FAILURE
    assert counter.sub_indication is AdESFailure.HASH_FAILURE


async def test_counter_signature_must_cover_the_parent_signature_value(
    pki: DevPki, dev_services: DevServices
) -> None:
    """A "counter-signature" whose reference names something else (here the parent's own
    SignedProperties) is refused with the reason; so is the CountersignedSignature type on a
    reference elsewhere."""
    parent = await sign(pki, dev_services, kind="xades-b-b")
    props = etree.fromstring(parent).find(f".//{XADES}SignedProperties")
    assert props is not None
    props_id = props.get("Id")
    signed = counter_sign(parent, pki, uri=f"#{props_id}", digested=element_c14n(str(props_id)))
    report = await verdict(signed, offline(pki))
    first, counter = report.signatures
    assert first.passed
    assert counter.sub_indication is AdESFailure.FORMAT_FAILURE
    assert "xml.countersignature_coverage" in codes(counter)


async def test_countersigned_type_elsewhere_is_refused(pki: DevPki) -> None:
    """An ordinary signature whose reference claims to counter-sign."""
    root = etree.fromstring(SMALL_XML)
    hand_sign(
        root,
        pki.signers["personal"],
        [
            Ref(
                uri="",
                transforms=[transform(ENVELOPED)],
                digested=document_without("hand-signature"),
                type=COUNTERSIGNED,
            )
        ],
        chain=(pki.issuing.cert,),
    )
    sig = only(await verdict(serialise(root), offline(pki)))
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE
    assert "xml.countersignature_target" in codes(sig)


# -- 6. a timestamp later than the validation time -------------------------------------------


async def test_timestamp_after_validation_time_is_not_proof(
    pki: DevPki, dev_services: DevServices
) -> None:
    """Validated at a pinned time an hour before the signature timestamp: the timestamp
    proves nothing then, so it is reported (``time.after_validation_time``, as for PDF) and
    the certificate is judged at the validation time."""
    signed = await sign(pki, dev_services, kind="xades-b-t")
    stamped = only(await verdict(signed, offline(pki)))
    assert stamped.timestamp is not None and "xml.timestamp" in codes(stamped)

    earlier = stamped.timestamp.time - timedelta(hours=1)
    report = await verdict(signed, offline(pki, validation_time=earlier))
    sig = only(report)
    assert report.validation_time == earlier
    assert "time.after_validation_time" in codes(sig)
    finding = next(f for f in sig.findings if f.code == "time.after_validation_time")
    assert finding.severity == "warning"
    assert people_time(stamped.timestamp.time) in finding.en
    assert "muộn hơn thời điểm kiểm tra" in finding.vi
    assert "xml.timestamp" not in codes(sig) and "time.no_timestamp" in codes(sig)
    assert sig.best_signature_time == earlier
    assert sig.passed, sig.findings  # the certificate was valid then
