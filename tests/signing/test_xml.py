"""XML signatures (XMLDSig, XAdES B-B/B-T), checked by independent verifiers.

Every signed output goes through xmlsec1 (libxmlsec1, a C implementation that shares no code
with signxml) and through signxml's own verifier; B-T timestamps go through ``openssl ts``.
xmlsec1 1.2 has no RSASSA-PSS: PSS signatures are checked by xmlsec1 only where it lists a
PSS transform, and always by signxml.

The PKI, its TSA and the SoftHSM2 token come from ``tests.plugin`` (session fixtures).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Protocol

import pytest
from asn1crypto import cms, tsp
from lxml import etree
from signxml.exceptions import InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from signing.errors import CertificateUnusable, InputUnreadable, ServiceUnavailable, UsageError
from signing.keys import InMemoryKey, KeySigner
from signing.pkcs11 import open_pkcs11_key, parse_pkcs11_uri
from signing.xml import (
    EDXML_NS,
    XADES_NS,
    XMLDSIG_NS,
    Canonicalization,
    XmlSignatureKind,
    XmlSignatureSpec,
    sign_xml,
)
from tests.plugin import corpus_dir, require_corpus

CORPUS = corpus_dir() / "edxml"
DS = f"{{{XMLDSIG_NS}}}"
XADES = f"{{{XADES_NS}}}"
ED = f"{{{EDXML_NS}}}"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

SMALL_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<CongVan xmlns="urn:lienthong:test" so="12/UBND-VP">\n'
    "  <TrichYeu>Về việc triển khai chữ ký số trong cơ quan nhà nước</TrichYeu>\n"
    '  <NoiDung Id="noi-dung">Đề nghị các sở, ban, ngành thực hiện &amp; báo cáo.</NoiDung>\n'
    "</CongVan>\n"
).encode()

# Signers of tests.plugin: name → (pss, description)
IN_MEMORY_KEYS = {
    "rsa2048": ("personal", False),
    "rsa3072-pss": ("personal-pss", True),
    "ec-p256": ("personal-ec", False),
}
KINDS: tuple[XmlSignatureKind, ...] = ("xmldsig", "xades-b-b", "xades-b-t")


class TokenFixture(Protocol):
    """What the plugin's ``token`` fixture offers (its class name is the plugin's business)."""

    pin: str

    def uri(self, key: str) -> str: ...


# -- helpers ------------------------------------------------------------------------------


def edxml_package(name: str = "edoc_new.edxml") -> bytes:
    """A corpus edXML package (read in place) without its dummy, non-XMLDSig ``<Signature>``
    (an element in the edXML namespace with an rsa-sha1 placeholder value)."""
    root = etree.fromstring((require_corpus() / "edxml" / name).read_bytes())
    header = root.find(f"{ED}edXMLEnvelope/{ED}edXMLHeader")
    assert header is not None
    for old in header.findall(f"{ED}Signature"):
        header.remove(old)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


DOCUMENTS: dict[str, Callable[[], bytes]] = {"small": lambda: SMALL_XML, "edxml": edxml_package}


def signature_of(signed: bytes) -> etree._Element:
    root = etree.fromstring(signed)
    signature = root.find(f".//{DS}Signature")
    assert signature is not None
    return signature


def run_xmlsec1(
    signed: bytes, pki_files: Path, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"signed-{hashlib.sha256(signed).hexdigest()[:12]}.xml"
    path.write_bytes(signed)
    return subprocess.run(
        [
            "xmlsec1", "--verify",
            "--trusted-pem", str(pki_files / "root.pem"),
            "--untrusted-pem", str(pki_files / "issuing.pem"),
            "--enabled-key-data", "x509",
            "--enabled-reference-uris", "empty,same-doc",
            "--id-attr:Id", f"{XMLDSIG_NS}:KeyInfo",
            "--id-attr:Id", f"{XADES_NS}:SignedProperties",
            *extra,
            str(path),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@cache
def xmlsec1_has_pss() -> bool:
    out = subprocess.run(
        ["xmlsec1", "--list-transforms"], capture_output=True, text=True, check=False
    )
    listing = (out.stdout + out.stderr).lower()
    return "pss" in listing  # xmlsec1 1.3 names them rsa-pss-sha256 etc.; 1.2 has none


def assert_xmlsec1_ok(signed: bytes, pki_files: Path, tmp_path: Path, *extra: str) -> None:
    proc = run_xmlsec1(signed, pki_files, tmp_path, *extra)
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout + proc.stderr


def signxml_verify(signed: bytes, kind: str, pki_files: Path, location: str) -> list[bytes]:
    """signxml's verdict; returns the signed data of each reference."""
    ca = str(pki_files / "chain.pem")
    if kind == "xmldsig":
        result = XMLVerifier().verify(
            signed, ca_pem_file=ca, expect_config=SignatureConfiguration(location=location)
        )
        assert not isinstance(result, list)
        return [result.signed_data]
    results = XAdESVerifier().verify(
        signed, ca_pem_file=ca, expect_config=XAdESSignatureConfiguration(location=location)
    )
    return [r.signed_data for r in results]


def location_for(document: str) -> str:
    return f"./{ED}edXMLEnvelope/{ED}edXMLHeader/" if document == "edxml" else "./"


def check_signature_timestamp(signed: bytes, pki_files: Path, tmp_path: Path) -> None:
    """The B-T token: openssl ts -verify over the canonicalised ds:SignatureValue, and its
    message imprint checked in Python."""
    signature = signature_of(signed)
    stamps = signature.findall(
        f"{DS}Object/{XADES}QualifyingProperties/{XADES}UnsignedProperties/"
        f"{XADES}UnsignedSignatureProperties/{XADES}SignatureTimeStamp"
    )
    assert len(stamps) == 1
    c14n_method = stamps[0].find(f"{DS}CanonicalizationMethod")
    assert c14n_method is not None and c14n_method.get("Algorithm") == EXC_C14N
    encapsulated = stamps[0].find(f"{XADES}EncapsulatedTimeStamp")
    assert encapsulated is not None and encapsulated.text
    token_der = base64.b64decode(encapsulated.text)
    value = signature.find(f"{DS}SignatureValue")
    assert value is not None
    covered = etree.tostring(value, method="c14n", exclusive=True)
    assert covered.startswith(b'<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">')

    info = tsp.TSTInfo.load(
        cms.ContentInfo.load(token_der)["content"]["encap_content_info"]["content"].parsed.dump()
    )
    imprint = info["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    assert imprint["hashed_message"].native == hashlib.sha256(covered).digest()

    token_file = tmp_path / "token.tst"
    data_file = tmp_path / "signature-value.c14n"
    token_file.write_bytes(token_der)
    data_file.write_bytes(covered)
    proc = subprocess.run(
        [
            "openssl", "ts", "-verify", "-in", str(token_file), "-token_in",
            "-data", str(data_file), "-CAfile", str(pki_files / "chain.pem"),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verification: OK" in proc.stdout


async def sign_and_check(
    data: bytes,
    document: str,
    key: KeySigner,
    kind: XmlSignatureKind,
    *,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
) -> bytes:
    spec = XmlSignatureSpec(kind=kind, tsa_urls=(dev_services.tsa_url,))
    signed = await sign_xml(data, key, spec)

    if not key.pss or xmlsec1_has_pss():
        assert_xmlsec1_ok(signed, pki_files, tmp_path)
    references = signxml_verify(signed, kind, pki_files, location_for(document))
    assert len(references) == (1 if kind == "xmldsig" else 3)

    signature = signature_of(signed)
    method = signature.find(f"{DS}SignedInfo/{DS}SignatureMethod")
    assert method is not None
    expected = {
        "ec": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "pss": "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
        "rsa": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    }["ec" if key.algorithm == "ec" else "pss" if key.pss else "rsa"]
    assert method.get("Algorithm") == expected
    certs = signature.findall(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    assert certs and base64.b64decode(certs[0].text or "") == key.certificate.dump()
    assert signature.find(f"{DS}KeyInfo/{DS}KeyValue") is None

    if document == "edxml":
        # QCVN 102:2016: the signature is the last child of edXMLHeader
        header = etree.fromstring(signed).find(f"{ED}edXMLEnvelope/{ED}edXMLHeader")
        assert header is not None and header[-1].tag == f"{DS}Signature"
    else:
        assert etree.fromstring(signed)[-1].tag == f"{DS}Signature"
    if kind == "xades-b-t":
        check_signature_timestamp(signed, pki_files, tmp_path)
    else:
        assert signature.find(f".//{XADES}UnsignedProperties") is None
    return signed


# -- in-memory keys -----------------------------------------------------------------------


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key_name", sorted(IN_MEMORY_KEYS))
async def test_sign_in_memory(
    pki: DevPki,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
    key_name: str,
    kind: XmlSignatureKind,
    document: str,
) -> None:
    signer, pss = IN_MEMORY_KEYS[key_name]
    key = pki.in_memory_key(signer, pss=pss)
    await sign_and_check(
        DOCUMENTS[document](), document, key, kind,
        dev_services=dev_services, pki_files=pki_files, tmp_path=tmp_path,
    )  # fmt: skip


async def test_xades_signed_properties(pki: DevPki, pki_files: Path) -> None:
    key = pki.in_memory_key("agency")
    vietnam = timezone(timedelta(hours=7))
    when = (pki.created + timedelta(hours=1)).astimezone(vietnam).replace(microsecond=0)
    signed = await sign_xml(
        DOCUMENTS["edxml"](), key, XmlSignatureSpec(kind="xades-b-b"), signing_time=when
    )
    signature = signature_of(signed)
    ssp = signature.find(
        f"{DS}Object/{XADES}QualifyingProperties/{XADES}SignedProperties/"
        f"{XADES}SignedSignatureProperties"
    )
    assert ssp is not None
    assert ssp.findtext(f"{XADES}SigningTime") == when.isoformat(timespec="seconds")
    assert ssp.findtext(f"{XADES}SigningTime", "").endswith("+07:00")
    digests = ssp.findall(f"{XADES}SigningCertificateV2/{XADES}Cert/{XADES}CertDigest")
    assert (
        digests[0].findtext(f"{DS}DigestValue")
        == base64.b64encode(hashlib.sha256(key.certificate.dump()).digest()).decode()
    )
    # XAdES references are canonicalised inclusively (see signing.xml)
    c14n = signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
    assert c14n is not None
    assert c14n.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    signxml_verify(signed, "xades-b-b", pki_files, location_for("edxml"))


async def test_concurrent_signing_shares_the_loop(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """signxml runs in worker threads and reaches the async key through the loop: several
    signatures at once neither deadlock nor mix up."""
    keys = [pki.in_memory_key("personal"), pki.in_memory_key("personal-ec")]
    documents = [SMALL_XML.replace(b"12/UBND-VP", f"{n}/UBND-VP".encode()) for n in range(6)]
    signed = await asyncio.gather(
        *(
            sign_xml(doc, keys[n % 2], XmlSignatureSpec(kind="xades-b-b"))
            for n, doc in enumerate(documents)
        )
    )
    for n, output in enumerate(signed):
        assert f"{n}/UBND-VP".encode() in output
        assert_xmlsec1_ok(output, pki_files, tmp_path)


class ThreadedKey:
    """An in-memory key that signs in the default executor, as :class:`Pkcs11Key` does."""

    def __init__(self, inner: InMemoryKey) -> None:
        self.inner = inner
        self.certificate = inner.certificate
        self.chain = inner.chain
        self.algorithm = inner.algorithm
        self.pss = inner.pss

    async def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return await asyncio.to_thread(self.inner.sign_sync, data, digest_algorithm)


async def test_many_signatures_with_a_threaded_key_do_not_deadlock(pki: DevPki) -> None:
    """Regression: with signxml in the default executor, more concurrent signatures than it
    has threads hung forever (each thread waited for a key that needed a thread)."""
    key = ThreadedKey(pki.in_memory_key("personal"))
    count = min(32, (os.cpu_count() or 1) + 4) + 2
    signed = await asyncio.wait_for(
        asyncio.gather(*(sign_xml(SMALL_XML, key, XmlSignatureSpec()) for _ in range(count))),
        timeout=60,
    )
    assert len(signed) == count


async def test_reference_to_one_element(pki: DevPki, pki_files: Path, tmp_path: Path) -> None:
    key = pki.in_memory_key("personal")
    signed = await sign_xml(SMALL_XML, key, XmlSignatureSpec(reference_uri="#noi-dung"))
    assert_xmlsec1_ok(signed, pki_files, tmp_path, "--id-attr:Id", "urn:lienthong:test:NoiDung")
    [data] = signxml_verify(signed, "xmldsig", pki_files, "./")
    assert data.startswith(b'<NoiDung xmlns="urn:lienthong:test" Id="noi-dung">')


LANG_XML = SMALL_XML.replace(
    b'so="12/UBND-VP"', b'so="12/UBND-VP" xml:lang="vi" xml:space="preserve"'
)


@pytest.mark.parametrize(
    ("kind", "c14n"),
    [("xmldsig", "c14n"), ("xmldsig", "exc-c14n"), ("xades-b-b", "c14n"), ("xades-b-t", "c14n")],
)
async def test_inherited_xml_attributes_are_signed(
    pki: DevPki,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
    kind: XmlSignatureKind,
    c14n: Canonicalization,
) -> None:
    """Regression: inclusive C14N of ds:SignedInfo (and of the XAdES SignedProperties and
    KeyInfo) carries the ``xml:*`` attributes of the document element (C14N 1.0 §2.4);
    signxml left them out, so xmlsec1 refused our signature of such a document."""
    spec = XmlSignatureSpec(kind=kind, c14n=c14n, tsa_urls=(dev_services.tsa_url,))
    signed = await sign_xml(LANG_XML, pki.in_memory_key("personal"), spec)
    assert etree.fromstring(signed).get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    assert_xmlsec1_ok(signed, pki_files, tmp_path)


async def test_reference_to_one_element_under_xml_lang(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    """An ``#id`` reference's element inherits the ``xml:*`` attributes of its ancestors in
    inclusive C14N (signxml copied it out of the document first)."""
    spec = XmlSignatureSpec(reference_uri="#noi-dung", c14n="c14n")
    signed = await sign_xml(LANG_XML, pki.in_memory_key("personal"), spec)
    assert_xmlsec1_ok(signed, pki_files, tmp_path, "--id-attr:Id", "urn:lienthong:test:NoiDung")


async def test_reference_to_a_missing_element(pki: DevPki) -> None:
    spec = XmlSignatureSpec(reference_uri="#khong-co")
    with pytest.raises(UsageError) as info:
        await sign_xml(SMALL_XML, pki.in_memory_key("personal"), spec)
    assert "#khong-co" in info.value.en


async def test_signature_location(pki: DevPki, pki_files: Path, tmp_path: Path) -> None:
    key = pki.in_memory_key("personal")
    document = b'<a xmlns="urn:x"><head><title>t</title></head><body>b</body></a>'
    spec = XmlSignatureSpec(signature_location="*[local-name()='head']")
    signed = await sign_xml(document, key, spec)
    head = etree.fromstring(signed)[0]
    assert head[-1].tag == f"{DS}Signature"
    assert_xmlsec1_ok(signed, pki_files, tmp_path)
    with pytest.raises(UsageError):
        await sign_xml(document, key, XmlSignatureSpec(signature_location="*"))


@pytest.mark.parametrize("kind", KINDS)
async def test_empty_default_namespace_undeclaration(
    pki: DevPki, pki_files: Path, tmp_path: Path, kind: XmlSignatureKind
) -> None:
    """Regression: ``xmlns=""`` under a default namespace must survive canonicalisation (signxml's
    ``excise_empty_xmlns_declarations`` would break exactly this document)."""
    document = (
        b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope>'
        b"<edXMLHeader><MessageHeader>x</MessageHeader></edXMLHeader></edXMLEnvelope>"
        b'<AttachmentEncoded xmlns=""><Attachment>QUJD</Attachment></AttachmentEncoded></edXML>'
    )
    key = pki.in_memory_key("personal-ec")
    spec = XmlSignatureSpec(kind="xades-b-b" if kind == "xades-b-t" else kind)
    signed = await sign_xml(document, key, spec)
    assert b'<AttachmentEncoded xmlns="">' in signed
    assert_xmlsec1_ok(signed, pki_files, tmp_path)
    signxml_verify(signed, spec.kind, pki_files, location_for("edxml"))


# -- PKCS#11 (SoftHSM2) -------------------------------------------------------------------


@pytest.mark.hsm
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("token_key", "pss"), [("personal", False), ("personal-pss", True), ("personal-ec", False)]
)
async def test_sign_with_token(
    token: TokenFixture,
    dev_services: DevServices,
    pki_files: Path,
    tmp_path: Path,
    token_key: str,
    pss: bool,
    kind: XmlSignatureKind,
) -> None:
    config = replace(parse_pkcs11_uri(token.uri(token_key)), pss=pss)
    async with open_pkcs11_key(config, lambda: token.pin) as key:
        assert key.pss is pss
        await sign_and_check(
            DOCUMENTS["edxml"](), "edxml", key, kind,
            dev_services=dev_services, pki_files=pki_files, tmp_path=tmp_path,
        )  # fmt: skip


# -- refusals and failures ----------------------------------------------------------------


async def test_modified_document_fails(pki: DevPki, pki_files: Path, tmp_path: Path) -> None:
    key = pki.in_memory_key("agency")
    signed = await sign_xml(DOCUMENTS["edxml"](), key, XmlSignatureSpec(kind="xades-b-b"))
    assert_xmlsec1_ok(signed, pki_files, tmp_path)
    subject = "Báo cáo tài chính tỉnh".encode()
    assert subject in signed
    tampered = signed.replace(subject, "Báo cáo tài chính huyện".encode(), 1)
    proc = run_xmlsec1(tampered, pki_files, tmp_path)
    assert proc.returncode != 0
    with pytest.raises(InvalidSignature):
        signxml_verify(tampered, "xades-b-b", pki_files, location_for("edxml"))


async def test_modified_signed_properties_fail(
    pki: DevPki, pki_files: Path, tmp_path: Path
) -> None:
    key = pki.in_memory_key("personal")
    when = pki.created.astimezone(UTC).replace(microsecond=0)
    signed = await sign_xml(SMALL_XML, key, XmlSignatureSpec(kind="xades-b-b"), signing_time=when)
    stamp = when.isoformat(timespec="seconds").encode()
    earlier = (when - timedelta(days=1)).isoformat(timespec="seconds").encode()
    assert signed.count(stamp) == 1
    tampered = signed.replace(stamp, earlier)
    assert tampered != signed
    assert run_xmlsec1(tampered, pki_files, tmp_path).returncode != 0


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        b'<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>',
        b'<!DOCTYPE a [<!ENTITY l0 "ha"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">'
        b'<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;">]><a>&l2;</a>',
        b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/a.dtd"><a/>',
        b"<!DOCTYPE a><a/>",
    ],
    ids=["entity", "external-entity", "entity-expansion", "external-dtd", "doctype"],
)
async def test_dtd_and_entities_refused(pki: DevPki, document: bytes) -> None:
    with pytest.raises(InputUnreadable) as info:
        await sign_xml(document, pki.in_memory_key("personal"), XmlSignatureSpec())
    assert "DTD" in info.value.en or "entit" in info.value.en
    assert info.value.vi != info.value.en


@pytest.mark.parametrize("document", [b"", b"<a>", b"not xml", b"<a></b>"])
async def test_malformed_refused(pki: DevPki, document: bytes) -> None:
    with pytest.raises(InputUnreadable):
        await sign_xml(document, pki.in_memory_key("personal"), XmlSignatureSpec())


async def test_oversized_text_node_refused_clearly(pki: DevPki) -> None:
    """huge_tree=False: libxml2 refuses text nodes over 10 MB (a big edXML attachment)."""
    document = b"<a><b>" + b"QUJD" * 2_600_000 + b"</b></a>"
    with pytest.raises(InputUnreadable) as info:
        await sign_xml(document, pki.in_memory_key("personal"), XmlSignatureSpec())
    assert "10 MB" in info.value.en


async def test_dead_tsa(pki: DevPki) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = XmlSignatureSpec(kind="xades-b-t", tsa_urls=(f"http://127.0.0.1:{port}/tsa",))
    with pytest.raises(ServiceUnavailable):
        await sign_xml(SMALL_XML, pki.in_memory_key("personal"), spec)


async def test_b_t_needs_a_tsa(pki: DevPki) -> None:
    with pytest.raises(UsageError):
        await sign_xml(SMALL_XML, pki.in_memory_key("personal"), XmlSignatureSpec(kind="xades-b-t"))


def test_xades_refuses_exclusive_c14n() -> None:
    with pytest.raises(UsageError):
        XmlSignatureSpec(kind="xades-b-b", c14n="exc-c14n")
    with pytest.raises(UsageError):
        XmlSignatureSpec(reference_uri="http://example.org/doc.xml")


async def test_edxml_with_existing_signature_refused(pki: DevPki) -> None:
    original = (
        require_corpus() / "edxml" / "edoc_new.edxml"
    ).read_bytes()  # its dummy <Signature> is still there
    with pytest.raises(UsageError):
        await sign_xml(original, pki.in_memory_key("agency"), XmlSignatureSpec())


async def test_expired_certificate_refused(pki: DevPki) -> None:
    key = pki.in_memory_key("expired")
    with pytest.raises(CertificateUnusable):
        await sign_xml(SMALL_XML, key, XmlSignatureSpec())
