"""A certificate whose name does not decode (bad UTF-8 inside a UTF8String) is a verdict, never
an exception: an attacker controls the certificates a signature carries, and the report must
still be written. Found by mutating edXML packages; here built by byte surgery on our own
PDF and XML signatures."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from pyhanko.sign.ades.report import AdESStatus

from signing import XmlSignatureSpec, sign_xml
from signing.dev.pki import DEV_PERSON, DevPki
from tests.plugin import Decree30Documents
from validation import TrustAnchors, ValidationPolicy, validate_bytes

_NAME = DEV_PERSON.encode()
_BROKEN = _NAME.replace("ễ".encode(), b"\xe1\x41\x85")  # same length, an invalid continuation byte
_CA = b"Lienthong Dev Issuing CA"  # the issuing CA's name, also the signer certificate's issuer
_CA_BROKEN = b"Lienthong Dev Issu\xe9ng CA"
SURGERIES = [
    pytest.param((_NAME, _BROKEN), id="signer-name"),
    pytest.param((_CA, _CA_BROKEN), id="issuing-ca-name"),
]


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def test_the_broken_name_is_really_invalid_utf8() -> None:
    assert len(_BROKEN) == len(_NAME) and _BROKEN != _NAME
    try:
        _BROKEN.decode()
    except UnicodeDecodeError:
        return
    raise AssertionError("the surgery left valid UTF-8")


@pytest.mark.parametrize("surgery", SURGERIES)
@pytest.mark.parametrize("stage", ["personal", "final"])
async def test_pdf_certificate_with_an_undecodable_name(
    decree30: Decree30Documents, pki: DevPki, surgery: tuple[bytes, bytes], stage: str
) -> None:
    name, broken = surgery
    data = getattr(decree30, stage)
    forged = data
    for match in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", data):
        contents = bytes.fromhex(match.group(1).decode())
        forged_hex = contents.replace(name, broken).hex().encode()
        forged = forged[: match.start(1)] + forged_hex + forged[match.end(1) :]
    assert forged != data and len(forged) == len(data)

    report = await validate_bytes(forged, _policy(pki))

    assert report.indication is not AdESStatus.PASSED
    assert not report.legal.valid


@pytest.mark.parametrize("surgery", SURGERIES)
async def test_xml_certificate_with_an_undecodable_name(
    pki: DevPki, surgery: tuple[bytes, bytes]
) -> None:
    name, broken = surgery
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<CongVan xmlns="urn:lienthong:test">'
        "<TrichYeu>Về việc thử</TrichYeu></CongVan>"
    ).encode()
    signed = await sign_xml(xml, pki.in_memory_key("personal"), XmlSignatureSpec(kind="xmldsig"))
    certs = re.findall(rb"<(?:ds:)?X509Certificate>([^<]+)<", signed)
    assert certs
    forged = signed
    for b64 in certs:
        der = base64.b64decode(b64)
        if name in der:
            forged = forged.replace(b64, base64.b64encode(der.replace(name, broken)))
    assert forged != signed

    report = await validate_bytes(forged, _policy(pki))

    assert report.indication is not AdESStatus.PASSED


@pytest.mark.parametrize("surgery", SURGERIES)
async def test_cms_certificate_with_an_undecodable_name(
    pki: DevPki, tmp_path: Path, surgery: tuple[bytes, bytes]
) -> None:
    from tests.validation.test_cms import DATA, openssl_sign

    name, broken = surgery
    signed = openssl_sign(tmp_path, pki, pki.signers["personal"])
    assert name in signed
    forged = signed.replace(name, broken)

    report = await validate_bytes(forged, _policy(pki), detached_data=DATA)

    assert report.indication is not AdESStatus.PASSED
