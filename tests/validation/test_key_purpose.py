"""TT 15/2025 App. II 1.4: a certificate is used within its purpose. A timestamp authority's
or an OCSP responder's certificate must not pass as anyone's document signature."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pyhanko.sign.ades.report import AdESStatus

from signing import InMemoryKey, PadesSigner, PadesSpec, XmlSignatureSpec, sign_xml
from signing.dev.pki import DevPki
from validation import Role, TrustAnchors, ValidationPolicy, validate_bytes


def _key(pki: DevPki, which: str) -> InMemoryKey:
    ident = pki.tsa if which == "tsa" else pki.ocsp
    assert isinstance(ident.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return InMemoryKey(ident.key, ident.asn1, [pki.issuing.asn1, pki.root.asn1])


@pytest.mark.parametrize("which", ["tsa", "ocsp"])
async def test_service_certificates_cannot_sign_documents(
    pki: DevPki, sample_pdf: bytes, which: str
) -> None:
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), revocation="soft", offline=True
    )
    pdf, _ = await PadesSigner(_key(pki, which), PadesSpec()).sign_bytes(sample_pdf)
    agency_too, _ = await PadesSigner(pki.in_memory_key("agency"), PadesSpec()).sign_bytes(pdf)
    report = await validate_bytes(agency_too, policy)
    service_sig = report.signatures[0]
    assert service_sig.indication is AdESStatus.INDETERMINATE
    assert report.indication is not AdESStatus.PASSED
    assert not report.legal.valid
    assert report.legal.personal is None

    xml = await sign_xml(b"<r>x</r>", _key(pki, which), XmlSignatureSpec())
    xml_report = await validate_bytes(xml, policy)
    assert xml_report.signatures[0].indication is AdESStatus.INDETERMINATE
    assert xml_report.signatures[0].role is not Role.AGENCY
