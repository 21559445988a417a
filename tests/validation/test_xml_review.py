"""XML signatures an adversarial review found wrongly judged (validation/xml.py): comments
splitting signed text, the ``xml:*`` attributes inclusive C14N inherits, copies of one
signature, base64 after its padding, a UTF-8 byte-order mark before another declared
encoding.

Each attack is checked against xmlsec1 (the second opinion) where it can judge the same file:
where it accepts what we refuse, the test says why (what a reader reads is not what was
signed).
"""

from __future__ import annotations

import base64
import copy
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESStatus

from signing import XmlSignatureSpec, sign_xml
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from signing.xml import Canonicalization, XmlSignatureKind
from tests.validation.test_xml import (
    DS,
    DS_NS,
    ED,
    SMALL_XML,
    T,
    codes,
    edit,
    edxml_package,
    offline,
    only,
    run_xmlsec1,
    sign,
    signature_of,
    verdict,
)
from tests.validation.test_xml_transforms import (
    C14N10,
    EXC_C14N,
    NOT_SIGNATURES,
    XPATH,
    Ref,
    base64_enveloping,
    by_id,
    document_without,
    enveloped,
    hand_sign,
    serialise,
    transform,
    wrapped_b64,
    xmlsec1_ok,
)
from validation.report import SignatureReport

C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def assert_refused(sig: SignatureReport, code: str) -> None:
    """FAILED / FORMAT_FAILURE with ``code``, explained in English and Vietnamese."""
    assert sig.indication is AdESStatus.FAILED, sig.findings
    assert sig.sub_indication is AdESFailure.FORMAT_FAILURE, sig.findings
    finding = next(f for f in sig.findings if f.code == code)
    assert finding.en and finding.vi and finding.en != finding.vi


def split_by_comment(element: etree._Element, at: int) -> str:
    """Put a comment ``at`` characters into ``element``'s text; returns the whole text."""
    text = element.text or ""
    assert 0 < at < len(text.strip())
    element.text = text[:at]
    comment = etree.Comment(" ")
    comment.tail = text[at:]
    element.insert(0, comment)
    return text


# -- 1. a comment or processing instruction splitting signed text ------------------------


@pytest.mark.parametrize("kind", ["xmldsig", "xades-b-b"])
async def test_comment_inside_a_signed_edxml_attachment(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path, kind: XmlSignatureKind
) -> None:
    """The attack: a comment inserted into the base64 text of an edXML attachment, after
    signing. Canonicalisation drops comments, so the signature still verifies (xmlsec1
    accepts the file), but lxml's ``.text`` of ``ContentTransferEncoded`` stops at the
    comment: a reader extracting the attachment gets a fraction of the signed document."""
    signed = await sign(pki, dev_services, kind=kind, data=edxml_package())
    assert only(await verdict(signed, offline(pki))).passed

    root = etree.fromstring(signed)
    attachment = root.find(f".//{ED}ContentTransferEncoded")
    assert attachment is not None
    whole = split_by_comment(attachment, 4000)
    forged = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    assert xmlsec1_ok(forged, pki_files, tmp_path)
    reread = etree.fromstring(forged).find(f".//{ED}ContentTransferEncoded")
    assert reread is not None and reread.text is not None
    signed_bytes = base64.b64decode("".join(whole.split()))
    read_bytes = base64.b64decode("".join(reread.text.split()))
    assert len(read_bytes) < len(signed_bytes) // 10  # what a reader gets is not what was signed
    assert "".join(t for t in reread.itertext() if isinstance(t, str)) == whole

    assert_refused(only(await verdict(forged, offline(pki))), "xml.comment_in_signed_text")


async def test_comment_splitting_signed_text_vs_between_elements(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    """A comment inside the text of any signed element is refused, and so is one before the
    text (a reader's ``.text`` stops at it: it would get nothing); between elements, or after
    the text, it hides nothing and stays allowed."""
    signed = await sign(pki, dev_services)

    def inside(root: etree._Element) -> None:
        noi_dung = root.find(f"{T}NoiDung")
        assert noi_dung is not None
        split_by_comment(noi_dung, 10)

    forged = edit(signed, inside)
    assert xmlsec1_ok(forged, pki_files, tmp_path)
    noi_dung = etree.fromstring(forged).find(f"{T}NoiDung")
    assert noi_dung is not None and noi_dung.text == "Đề nghị cá"
    assert_refused(only(await verdict(forged, offline(pki))), "xml.comment_in_signed_text")

    def around(root: etree._Element) -> None:
        root.insert(1, etree.Comment(" giữa hai phần tử "))
        noi_dung = root.find(f"{T}NoiDung")
        assert noi_dung is not None
        noi_dung.append(etree.Comment(" cuối "))

    allowed = edit(signed, around)
    assert only(await verdict(allowed, offline(pki))).passed

    def at_start(root: etree._Element) -> None:
        noi_dung = root.find(f"{T}NoiDung")
        assert noi_dung is not None
        noi_dung.insert(0, etree.Comment(" đầu "))
        noi_dung.text, noi_dung[0].tail = None, noi_dung.text

    hidden = edit(signed, at_start)
    assert xmlsec1_ok(hidden, pki_files, tmp_path)
    head = etree.fromstring(hidden).find(f"{T}NoiDung")
    assert head is not None and head.text is None  # a reader gets nothing
    assert_refused(only(await verdict(hidden, offline(pki))), "xml.comment_in_signed_text")


async def test_processing_instruction_splitting_signed_text(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """A processing instruction is in the signed node-set, so one added after signing breaks
    the digest; but one the signer signed splits the text for a reader just the same."""
    data = SMALL_XML.replace("thực hiện".encode(), "thực<?tach ?> hiện".encode())
    signed = enveloped(pki, [transform(ENVELOPED), transform(EXC_C14N)], data=data)
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    assert_refused(only(await verdict(signed, offline(pki))), "xml.comment_in_signed_text")


async def test_comment_splitting_a_digest_value(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    """ds:SignedInfo is signed too: a comment inside a DigestValue is refused by name."""
    signed = await sign(pki, dev_services)

    def split(root: etree._Element) -> None:
        value = signature_of(root).find(f"{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
        assert value is not None
        split_by_comment(value, 8)

    forged = edit(signed, split)
    assert xmlsec1_ok(forged, pki_files, tmp_path)
    assert_refused(only(await verdict(forged, offline(pki))), "xml.comment_in_signed_text")


async def test_comment_splitting_base64_object_text(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """The base64 transform decodes every text node of the Object, but a reader decoding the
    Object's ``.text`` gets the part before the comment only."""

    whole: list[str] = []

    def split(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        obj.text = "".join((obj.text or "").split())
        whole.append(split_by_comment(obj, 8))

    forged = edit(base64_enveloping(pki, xades=False), split)
    assert xmlsec1_ok(forged, pki_files, tmp_path)
    assert by_id(etree.fromstring(forged), "tep-dinh-kem").text == whole[0][:8]
    assert_refused(only(await verdict(forged, offline(pki))), "xml.comment_in_signed_text")


async def test_comment_in_text_outside_what_is_signed_is_not_judged(pki: DevPki) -> None:
    """With the XPath filter every signature leaves what is signed: a comment splitting
    text inside another (ignored) signature is none of this signature's business."""
    root = etree.fromstring(SMALL_XML)
    other = etree.SubElement(root, f"{DS}Signature", Id="khac", nsmap={"ds": DS_NS})
    key_name = etree.SubElement(etree.SubElement(other, f"{DS}KeyInfo"), f"{DS}KeyName")
    key_name.text = "Nguyễn Văn A"
    split_by_comment(key_name, 6)
    hand_sign(
        root,
        pki.signers["personal"],
        [
            Ref(
                uri="",
                transforms=[transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)],
                digested=document_without("hand-signature", "khac"),
            )
        ],
        chain=(pki.issuing.cert,),
    )
    report = await verdict(serialise(root), offline(pki))
    stray, judged = report.signatures  # the stray one comes first in document order
    assert judged.passed, judged.findings
    assert codes(stray) == {"xml.structure"}  # no SignedInfo: not a signature at all


# -- 2. xml:* attributes inherited by inclusive C14N of a subtree ------------------------

C14N_METHODS = {"c14n": C14N10, "c14n11": C14N11, "exc-c14n": EXC_C14N}


def xmlsec1_sign(template: bytes, pki: DevPki, tmp_path: Path, pki_files: Path) -> bytes:
    """xmlsec1 fills in a signature template (the independent signer)."""
    ident = pki.signers["personal"]
    key, cert = tmp_path / "signer.key", tmp_path / "signer.pem"
    key.write_bytes(ident.key_pem())
    cert.write_bytes(ident.cert_pem())
    source, target = tmp_path / "template.xml", tmp_path / "signed.xml"
    source.write_bytes(template)
    subprocess.run(
        [
            "xmlsec1", "--sign",
            "--privkey-pem", f"{key},{cert},{pki_files / 'issuing.pem'}",
            "--id-attr:Id", f"{DS_NS}:KeyInfo",
            "--output", str(target), str(source),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return target.read_bytes()


def inherited_template(method: str) -> bytes:
    """An enveloped signature sitting under ``xml:lang``, ``xml:space``, ``xml:id`` and two
    ``xml:base`` (the inner one relative), signing the document and its own KeyInfo."""
    steps = f'<ds:Transform Algorithm="{method}"/>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CongVan xmlns="urn:lienthong:test" xml:lang="vi" xml:space="preserve" xml:id="cong-van"
 xml:base="http://vanban.example/a/b/"><NoiDung>Đề nghị các sở thực hiện</NoiDung><PhanKy
 xml:base="../c/" xml:lang="vi-VN"><ds:Signature xmlns:ds="{DS_NS}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{method}"/>
<ds:SignatureMethod Algorithm="{RSA_SHA256}"/>
<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="{ENVELOPED}"/>{steps}</ds:Transforms>
<ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue/></ds:Reference>
<ds:Reference URI="#khoa"><ds:Transforms>{steps}</ds:Transforms>
<ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo Id="khoa"><ds:X509Data/></ds:KeyInfo>
</ds:Signature></PhanKy></CongVan>
""".encode()


@pytest.mark.parametrize("method", sorted(C14N_METHODS))
async def test_signed_by_xmlsec1_under_inherited_xml_attributes(
    pki: DevPki, pki_files: Path, tmp_path: Path, method: str
) -> None:
    """Inclusive C14N of ds:SignedInfo and of the KeyInfo renders the ancestors' ``xml:*``
    attributes (C14N 1.0: all of them, nearest first; 1.1: ``xml:lang`` and ``xml:space``,
    ``xml:base`` fixed up, not ``xml:id``); exclusive C14N none. A signature xmlsec1 made so
    passes here, and a text change still fails."""
    signed = xmlsec1_sign(inherited_template(C14N_METHODS[method]), pki, tmp_path, pki_files)
    assert xmlsec1_ok(signed, pki_files, tmp_path)
    report = await verdict(signed, offline(pki))
    sig = only(report)
    assert report.indication is AdESStatus.PASSED, sig.findings
    assert sig.integrity and sig.signature_valid

    forged = signed.replace("thực hiện".encode(), "không thực hiện".encode())
    assert not only(await verdict(forged, offline(pki))).passed


async def test_inclusive_signed_info_without_inherited_xml_lang_fails(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """The mirror image: SignedInfo signed in its inclusive C14N *without* the root's
    ``xml:lang`` (what a signer canonicalising it alone computes) does not verify, for
    xmlsec1 neither."""
    data = SMALL_XML.replace(b'so="12/UBND-VP"', b'so="12/UBND-VP" xml:lang="vi"')
    signed = enveloped(pki, [transform(ENVELOPED), transform(C14N10)], data=data,
                       signed_info_c14n=C14N10)  # fmt: skip
    assert not xmlsec1_ok(signed, pki_files, tmp_path)
    sig = only(await verdict(signed, offline(pki)))
    assert sig.sub_indication is AdESFailure.SIG_CRYPTO_FAILURE


@pytest.mark.parametrize(
    ("kind", "c14n"),
    [("xmldsig", "exc-c14n"), ("xmldsig", "c14n"), ("xades-b-b", "c14n"), ("xades-b-t", "c14n")],
)
@pytest.mark.parametrize("document", ["small", "edxml"])
async def test_own_signatures_under_xml_lang(
    pki: DevPki,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
    kind: XmlSignatureKind,
    c14n: Canonicalization,
    document: str,
) -> None:
    """Our signer and our validator agree with xmlsec1, not only with each other, on a
    document with ``xml:lang`` and ``xml:space`` on its root, in every profile."""
    root = etree.fromstring(SMALL_XML if document == "small" else edxml_package())
    root.set(f"{{{XML_NS}}}lang", "vi")
    root.set(f"{{{XML_NS}}}space", "default")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    spec = XmlSignatureSpec(kind=kind, c14n=c14n, tsa_urls=(dev_services.tsa_url,))
    signed = await sign_xml(data, pki.in_memory_key("personal"), spec)
    proc = run_xmlsec1(signed, pki_files, tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = await verdict(signed, offline(pki))
    assert report.indication is AdESStatus.PASSED, only(report).findings


# -- 3. a copy of one signature ----------------------------------------------------------


async def test_copy_of_a_signature_is_not_a_second_signature(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """Under ``not(ancestor-or-self::ds:Signature)`` a byte-identical copy of a signature,
    placed elsewhere, verifies too: one signer would be reported twice. The later one (in
    document order) is reported as a failed duplicate naming the other; xmlsec1 refuses the
    file."""
    signed = enveloped(pki, [transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)])

    def duplicate(root: etree._Element) -> None:
        trich_yeu = root.find(f"{T}TrichYeu")
        assert trich_yeu is not None
        trich_yeu.append(copy.deepcopy(signature_of(root)))

    doubled = edit(signed, duplicate)
    assert not xmlsec1_ok(doubled, pki_files, tmp_path)
    report = await verdict(doubled, offline(pki))
    first, second = report.signatures
    assert first.passed, first.findings
    assert_refused(second, "xml.duplicate_signature")
    assert first.id in next(f.en for f in second.findings if f.code == "xml.duplicate_signature")
    assert second.signer is not None and second.signer.subject == first.signer.subject  # type: ignore[union-attr]
    assert report.indication is AdESStatus.FAILED


@pytest.mark.parametrize("stray", ["-", "*"])
async def test_copy_with_a_stray_character_is_still_a_copy(
    pki: DevPki, pki_files: Path, tmp_path: Path, stray: str
) -> None:
    """signxml reads a SignatureValue leniently (characters outside base64 dropped): a copy
    with one stray character verifies as well, and must still count as the same signature."""
    signed = enveloped(pki, [transform(XPATH, NOT_SIGNATURES), transform(EXC_C14N)])

    def duplicate(root: etree._Element) -> None:
        trich_yeu = root.find(f"{T}TrichYeu")
        assert trich_yeu is not None
        twin = copy.deepcopy(signature_of(root))
        value = twin.find("{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
        assert value is not None and value.text
        value.text = value.text[:10] + stray + value.text[10:]
        trich_yeu.append(twin)

    report = await verdict(edit(signed, duplicate), offline(pki))
    first, second = report.signatures
    assert first.passed, first.findings
    assert_refused(second, "xml.duplicate_signature")
    assert report.indication is AdESStatus.FAILED


# -- 4. leniencies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "tail"),
    [
        pytest.param(b"Cong van 12/UBND-VP.", "=", id="padding-after-padding"),
        pytest.param(b"Cong van 12/UBND-VP.", "QUJD", id="data-after-padding"),
        pytest.param(b"Cong van 12/UBND-VP.", "QQ==", id="second-padded-quantum"),
        pytest.param(b"Cong van so 12/UB-VP.", "=", id="padding-not-needed"),
        pytest.param(b"Cong van so 12/UB-VP.", "====", id="padding-quantum"),
    ],
)
async def test_data_after_base64_padding_is_refused(
    pki: DevPki, pki_files: Path, tmp_path: Path, payload: bytes, tail: str
) -> None:
    """RFC 2045 base64 ends at its padding, and a complete last quantum has none: padding
    or data beyond that is refused (xmlsec1 refuses it too), not skipped."""
    assert base64.b64encode(payload).endswith(b"=") is (len(payload) % 3 != 0)
    signed = base64_enveloping(pki, payload=payload, xades=False)
    assert only(await verdict(signed, offline(pki))).passed

    def pad(root: etree._Element) -> None:
        obj = by_id(root, "tep-dinh-kem")
        obj.text = wrapped_b64(payload).rstrip("\n") + tail + "\n"

    forged = edit(signed, pad)
    assert not xmlsec1_ok(forged, pki_files, tmp_path)
    assert_refused(only(await verdict(forged, offline(pki))), "xml.base64_invalid")


async def test_utf8_bom_before_a_utf16_declaration_is_unreadable(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    """A UTF-8 byte-order mark before ``encoding='UTF-16'`` is a contradiction (a fatal
    error, XML 1.0 §4.3.3): refused as unreadable, as xmlsec1 does. The same mark before
    a UTF-8 declaration is fine."""
    signed = await sign(pki, dev_services)
    declaration, _, body = signed.partition(b"?>")
    assert b"UTF-8" in declaration
    fine = b"\xef\xbb\xbf" + signed
    assert run_xmlsec1(fine, pki_files, tmp_path).returncode == 0
    assert (await verdict(fine, offline(pki))).indication is AdESStatus.PASSED

    lying = b"\xef\xbb\xbf" + declaration.replace(b"UTF-8", b"UTF-16") + b"?>" + body
    assert run_xmlsec1(lying, pki_files, tmp_path).returncode != 0
    report = await verdict(lying, offline(pki))
    assert report.format == "xml"
    assert report.indication is AdESStatus.FAILED
    assert report.sub_indication is AdESFailure.FORMAT_FAILURE
    assert [f.code for f in report.findings] == ["xml.unreadable"]
    assert "UTF-16" in report.findings[0].en and "UTF-16" in report.findings[0].vi
