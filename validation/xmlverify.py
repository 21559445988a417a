"""The cryptographic check of one signature: signxml's verifier, hardened (each reference
digested as :mod:`validation.xmlrefs` reads its transforms, spec-correct canonicalisation,
certificate validity left to the judgement), the algorithms it may compute, and which
certificate made the signature. Part of :mod:`validation.xml`.

**Which certificate.** The signer's certificate comes from ``ds:KeyInfo/ds:X509Data``:
each certificate there (those that issue none of the others first) is tried until one's key
verifies ``ds:SignatureValue``; the others help path building. A bare ``ds:KeyValue`` can
verify the cryptography but names nobody: INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND, as is
a XAdES ``SigningCertificate(V2)`` that does not name the verifying certificate. ECDSA values
shortened by the "Java bug" (r and s each missing leading zero bytes, as xmlsec1 accepts) are
padded back; r and s are unchanged integers.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

from validation.report import Finding
from validation.xmlc14n import DEFAULT_C14N, canonical
from validation.xmlread import (
    DS,
    EXC_C14N_NS,
    XMLDSIG11_NS,
    Document,
    Examined,
    copy_element,
    follow,
    hardened_parser,
    path_of,
)
from validation.xmlrefs import Reference, Verdict, digest_input, format_failure, read_transforms

__all__ = [
    "MD5_URIS",
    "SIGNATURE_METHODS",
    "check_algorithms_supported",
    "digest_of",
    "key_info_certificates",
    "method_of",
    "signer_candidates",
    "verify_crypto",
]

MD5_URIS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#md5",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
    }
)

SIGNATURE_METHODS = frozenset(
    m for m in SignatureMethod if not m.name.startswith(("HMAC_", "DSA_"))
)
"""What we let signxml verify: RSA (PKCS#1 v1.5 and PSS) and ECDSA. HMAC is not a digital
signature; DSA is not in TT 15/2025 App. I."""
_DIGEST_METHODS = frozenset(DigestAlgorithm)


# -- signxml, hardened ---------------------------------------------------------------------


class _Verifier(XMLVerifier):
    """signxml's verifier for one given ``ds:Signature`` (``signature_path`` from the document
    element), with spec-correct canonicalisation of subtrees, certificate validity left to
    pyhanko-certvalidator, and ECDSA values shortened by the "Java bug" (leading zero bytes
    of r and s dropped) accepted as xmlsec1 accepts them."""

    signature_path: tuple[int, ...] = ()
    references: Sequence[Reference] = ()
    """Our plan of the signature's references, in order (their roles)."""
    _placed: etree._Element | None = None
    """The signature in signxml's copy of the whole document (signxml canonicalises
    ``ds:SignedInfo`` in a copy of the signature alone, cut from the ancestors whose ``xml:*``
    attributes inclusive C14N inherits)."""

    def _get_signature(self, root: etree._Element) -> etree._Element:
        try:
            node = follow(root, self.signature_path)
        except IndexError:
            raise InvalidInput("the signature is not where it was found") from None
        if node.tag != f"{DS}Signature":
            raise InvalidInput("the signature is not where it was found")
        self._placed = node
        return node

    def validate_schema(self, signature: Any) -> None:
        """signxml's schema check, on a copy without the exclusive C14N
        ``ec:InclusiveNamespaces`` of ``ds:SignedInfo/ds:CanonicalizationMethod``: XMLDSig's
        schema processes that element's content strictly and signxml has no schema for it,
        so every signature listing inclusive prefixes there (Exclusive XML Canonicalization
        §3) would be refused. Checked here instead: a PrefixList and nothing else."""
        method = signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
        listed = [] if method is None else method.findall(f"{{{EXC_C14N_NS}}}InclusiveNamespaces")
        if listed:
            for element in listed:
                if (
                    len(element)
                    or (element.text or "").strip()
                    or set(element.attrib) - {"PrefixList"}
                ):
                    raise InvalidInput("a malformed ec:InclusiveNamespaces in SignedInfo")
            signature = copy_element(signature)
            holder = signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
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
        XMLDSig defines them by :func:`validation.xmlrefs.digest_input` (signxml's own ignore
        their order and XPath, keep comments under WithComments, decode base64 from the first
        text node only and then parse the octets as XML)."""
        if index >= len(self.references) or reference.get("URI") != self.references[index].uri:
            raise InvalidInput("the verified references are not the ones examined")
        planned = self.references[index]
        copied_root = copy_element(root)
        payload = self._resolve_reference(copied_root, reference, uri_resolver=uri_resolver)  # type: ignore[no-untyped-call]
        if not isinstance(payload, etree._Element):
            raise InvalidInput(f"reference {planned.uri} names no element of the document")
        transforms = read_transforms(reference.find(f"{DS}Transforms"), planned.uri, planned.role)
        signed = digest_input(self._get_signature(copied_root), payload, transforms)
        method = reference.find(f"{DS}DigestMethod")
        value = reference.find(f"{DS}DigestValue")
        if method is None or value is None:
            raise InvalidInput(f"reference {planned.uri} has no DigestMethod or DigestValue")
        algorithm = DigestAlgorithm(method.get("Algorithm"))
        self.check_digest_alg_expected(algorithm)  # type: ignore[no-untyped-call]
        if base64.b64decode(value.text or "") != self._get_digest(signed, algorithm):
            raise InvalidDigest(f"Digest mismatch for reference {index} ({planned.uri})")
        # as signxml: the signed XML, parsed back from the canonical form (octets: none)
        signed_xml = (
            None if transforms[-1].kind == "base64" else etree.fromstring(signed, hardened_parser())
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
            canonical(n, algorithm, inclusive_ns_prefixes, placed=self._in_document(n))
            for n in items
        )

    def _in_document(self, node: etree._Element) -> etree._Element | None:
        """Where ``node`` (signxml's copy of ``ds:SignedInfo``) stands in the document."""
        if self._placed is None or node.tag != f"{DS}SignedInfo" or node.getparent() is None:
            return None
        if node.getparent() is self._placed:
            return None
        return self._placed.find(f"{DS}SignedInfo")

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
        signature_methods=SIGNATURE_METHODS,
        digest_algorithms=_DIGEST_METHODS,
        default_reference_c14n_method=DEFAULT_C14N,
    )


# -- which certificate, which algorithms ---------------------------------------------------


def key_info_certificates(signature: etree._Element, out: Examined) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for element in signature.iterfind(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate"):
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
    cert = x509.Certificate.load(der)
    # Names are decoded lazily by asn1crypto; one that does not decode (bad UTF-8 in a
    # UTF8String) would raise deep inside path building: refuse it here, at the border.
    _ = cert.subject.native, cert.issuer.native
    return cert


def method_of(uri: str | None) -> SignatureMethod | None:
    try:
        method = SignatureMethod(uri)
    except (ValueError, InvalidInput):
        return None
    return method if method in SIGNATURE_METHODS else None


def digest_of(uri: str) -> DigestAlgorithm | None:
    try:
        return DigestAlgorithm(uri)
    except (ValueError, InvalidInput):
        return None


def check_algorithms_supported(out: Examined) -> None:
    unsupported: list[str] = []
    if method_of(out.signature_uri) is None:
        unsupported.append(out.signature_uri or "(none)")
    unsupported.extend(u or "(none)" for u in out.digest_uris if digest_of(u) is None)
    if not unsupported:
        return
    names = ", ".join(dict.fromkeys(unsupported))
    md5 = any(u in MD5_URIS for u in unsupported)
    raise Verdict(
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        Finding(
            code="xml.algorithm_unacceptable",
            en=f"the signature uses an algorithm that is not acceptable or not supported "
            f"({names})" + ("; MD5 is broken" if md5 else ""),
            vi=f"chữ ký dùng thuật toán không được chấp nhận hoặc không được hỗ trợ ({names})"
            + ("; MD5 đã bị phá" if md5 else ""),
        ),
    )


def signer_candidates(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Certificates to try as the signer's: those that issue none of the others first."""

    def issues_another(cert: x509.Certificate) -> bool:
        subject = cert.subject.dump()
        return any(c is not cert and c.issuer.dump() == subject for c in certs)

    leaves = [c for c in certs if not issues_another(c)]
    return leaves + [c for c in certs if c not in leaves]


def verify_crypto(
    doc: Document,
    signature: etree._Element,
    references: Sequence[Reference],
    out: Examined,
) -> list[VerifyResult]:
    xades = any(r.role == "signed-properties" for r in references)
    path = path_of(signature)
    candidates: list[x509.Certificate | None] = list(signer_candidates(out.certificates))
    bare_key = False
    if not candidates:
        key_info = signature.find(f"{DS}KeyInfo")
        bare_key = key_info is not None and (
            key_info.find(f"{DS}KeyValue") is not None
            or key_info.find(f"{{{XMLDSIG11_NS}}}DEREncodedKeyValue") is not None
        )
        if not bare_key:
            raise Verdict(
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
            "parser": hardened_parser(),
            "expect_config": _config(x509_required=candidate is not None, xades=xades),
        }
        if candidate is not None:
            kwargs["x509_cert"] = pyca_x509.load_der_x509_certificate(candidate.dump())
        try:
            found = verifier.verify(doc.root, **kwargs)
        except InvalidDigest as exc:
            out.signer, out.signature_valid, out.integrity = candidate, True, False
            raise Verdict(
                AdESFailure.HASH_FAILURE,
                Finding(
                    code="xml.digest_mismatch",
                    en=f"integrity: the document was changed after it was signed ({exc})",
                    vi="toàn vẹn: văn bản đã bị thay đổi sau khi ký",
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
            raise format_failure(
                "structure",
                "signxml verified a different number of references than the signature has",
                "signxml kiểm tra số tham chiếu khác với số tham chiếu của chữ ký",
            )
        return results
    out.signer = candidates[0]
    out.signature_valid = False
    raise Verdict(
        AdESFailure.SIG_CRYPTO_FAILURE,
        Finding(
            code="xml.signature_mismatch",
            en="the signature value does not verify with the public key of any certificate "
            f"the signature carries ({failure})",
            vi="giá trị chữ ký không khớp với khóa công khai của chứng thư số nào kèm theo chữ "
            f"ký ({failure})",
        ),
    )


def _structure_error(exc: Exception) -> Verdict:
    return format_failure(
        "structure",
        f"the signature is not well-formed XMLDSig: {exc}",
        "chữ ký không đúng cấu trúc XMLDSig",
    )
