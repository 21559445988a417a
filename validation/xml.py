"""XML signatures: enveloped and enveloping XMLDSig, XAdES B-B and B-T, edXML packages.

signxml checks the cryptography (``ds:SignatureValue`` over ``ds:SignedInfo``, every
``ds:Reference`` digest, XAdES ``SigningCertificate``); pyHanko and pyhanko-certvalidator
judge the certificate path, validity, revocation, key usage and algorithms through the same
contexts as PDF and CMS (:mod:`validation.context`, :func:`validation.cms.context_for`), and
the XAdES ``SignatureTimeStamp`` through :func:`validation.cms.judge_timestamp_token`.

Each signature is examined in a worker thread, then judged; the parts are in their own
modules:

- :mod:`validation.xmlread`: parsing untrusted XML, the document's ids and signatures;
- :mod:`validation.xmlrefs`: what each reference covers, its transforms, the defences
  against signature wrapping;
- :mod:`validation.xmlc14n`: canonicalisation;
- :mod:`validation.xmlverify`: the cryptographic check (signxml, hardened) and which
  certificate made the signature;
- :mod:`validation.xmljudge`: the XAdES properties, timestamps, the certificate path and
  the report.
"""

from __future__ import annotations

import asyncio
import dataclasses

from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko_certvalidator.fetchers.api import Fetchers

from validation.context import fetching, validation_time
from validation.policy import ValidationPolicy
from validation.report import Evidence, Finding, Outcome, SignatureReport
from validation.xmljudge import judge, signature_timestamps, xs_datetime
from validation.xmlread import (
    DS,
    MAX_XML_BYTES,
    XADES,
    Document,
    Examined,
    countersigned_signature,
    examined_nonstandard,
    is_nonstandard_signature,
    parse_untrusted_xml,
    read_document,
    signature_value_key,
)
from validation.xmlrefs import (
    Verdict,
    check_exclusive_prefixes,
    check_split_text,
    check_unsigned_content,
    expected_octets,
    format_failure,
    plan_references,
)
from validation.xmlverify import (
    check_algorithms_supported,
    key_info_certificates,
    signer_candidates,
    verify_crypto,
)

__all__ = ["MAX_XML_BYTES", "parse_untrusted_xml", "validate_xml"]


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
                report, more = await judge(item, policy, fetchers)
                signatures.append(report)
                evidence = evidence.merge(more)
    else:
        for item in examined:
            report, more = await judge(item, policy, None)
            signatures.append(report)
            evidence = evidence.merge(more)
    return Outcome(signatures=tuple(signatures), findings=tuple(findings), evidence=evidence)


# -- examining each signature (synchronous, in a worker thread) ----------------------------


def _examine_document(data: bytes) -> tuple[list[Examined], list[Finding]]:
    doc = read_document(data)
    root = doc.root
    examined: list[Examined] = []
    findings: list[Finding] = []
    ids: dict[etree._Element, str] = {}
    values: dict[bytes, str] = {}
    nested = 0
    for element in root.iter(tag=etree.Element):
        if element.tag == f"{DS}Signature":
            parent = countersigned_signature(element)
            id = f"xml-{len(examined) + 1}"
            countersigned = None
            if parent is not None and parent in ids:
                countersigned = (parent, ids[parent])
            elif any(a.tag == f"{DS}Signature" for a in element.iterancestors()):
                nested += 1
                continue
            value = signature_value_key(element)
            if value is not None and value in values:
                examined.append(_duplicate(element, id, values[value], countersigned))
            else:
                examined.append(_examine(doc, element, id, countersigned=countersigned))
                if value is not None:
                    values[value] = id
            ids[element] = id
        elif is_nonstandard_signature(element):
            examined.append(examined_nonstandard(element, f"xml-{len(examined) + 1}"))
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


def _duplicate(
    signature: etree._Element,
    id: str,
    original: str,
    countersigned: tuple[etree._Element, str] | None,
) -> Examined:
    """A signature whose ``ds:SignatureValue`` is that of an earlier one (``original``): a copy
    of one signature placed elsewhere (an XPath filter that removes every signature lets
    both verify) is one signer's one signature, not a second one."""
    result = Examined(id=id, counter_signs=None if countersigned is None else countersigned[1])
    result.certificates = key_info_certificates(signature, result)
    if result.certificates:
        result.signer = signer_candidates(result.certificates)[0]  # presumed, not proven
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


def _examine(
    doc: Document,
    signature: etree._Element,
    id: str,
    *,
    countersigned: tuple[etree._Element, str] | None = None,
) -> Examined:
    """One signature; ``countersigned``: the signature it counter-signs, and that one's id."""
    result = Examined(id=id, counter_signs=None if countersigned is None else countersigned[1])
    try:
        _check_signature(
            doc, signature, result, None if countersigned is None else countersigned[0]
        )
    except Verdict as verdict:
        result.early = (verdict.sub, verdict.finding)
        if result.signer is None and result.certificates:
            # not proven: whom the signature names (reported as the presumed signer)
            result.signer = signer_candidates(result.certificates)[0]
    return result


def _check_signature(
    doc: Document,
    signature: etree._Element,
    out: Examined,
    countersigned: etree._Element | None,
) -> None:
    root = doc.root
    enveloping = signature is root
    signed_info = signature.find(f"{DS}SignedInfo")
    value = signature.find(f"{DS}SignatureValue")
    if signed_info is None or value is None:
        raise format_failure(
            "structure",
            "the signature has no ds:SignedInfo or ds:SignatureValue",
            "chữ ký không có ds:SignedInfo hoặc ds:SignatureValue",
        )
    method = signed_info.find(f"{DS}SignatureMethod")
    out.signature_uri = None if method is None else method.get("Algorithm")
    out.certificates = key_info_certificates(signature, out)
    references = plan_references(doc, signature, signed_info, enveloping, countersigned)
    out.digest_uris = [r.digest_uri for r in references]
    if doc.stray_pi:
        raise format_failure(
            "unsigned_instruction",
            "the document has a processing instruction outside its root element, which no "
            "signature covers (it could, for example, restyle what a reader sees)",
            "văn bản có chỉ thị xử lý (processing instruction) nằm ngoài phần tử gốc, không "
            "được chữ ký nào bao phủ (nó có thể thay đổi cách hiển thị nội dung)",
        )
    check_unsigned_content(signature, signed_info, references)
    check_split_text(signature, signed_info, references)
    check_exclusive_prefixes(signature, references)
    check_algorithms_supported(out)
    results = verify_crypto(doc, signature, references, out)
    for reference, verified in zip(references, results, strict=True):
        if verified.signed_data != expected_octets(root, signature, reference):
            out.integrity = False
            raise Verdict(
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
        raise Verdict(
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
        raise Verdict(
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
        claimed = properties.findtext(f"{XADES}SignedSignatureProperties/{XADES}SigningTime")
        out.claimed_time = xs_datetime(claimed)
    out.stamps = signature_timestamps(signature, value, out)
