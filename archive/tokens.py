"""What the archive needs to know of an RFC 3161 token without judging it: when it was made,
what it covers, and when its TSA's certificate expires (the date a renewal must beat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp, x509

from archive.errors import EvidenceInvalid


@dataclass(frozen=True, slots=True)
class TokenFacts:
    gen_time: datetime
    algorithm: str
    imprint: bytes
    tsa_not_after: datetime
    tsa_name: str


def facts(token: cms.ContentInfo | bytes) -> TokenFacts:
    """The facts of ``token`` (a DER ContentInfo or its parsed form)."""
    try:
        info = token if isinstance(token, cms.ContentInfo) else cms.ContentInfo.load(token)
        signed = info["content"]
        tst = signed["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            tst = tsp.TSTInfo.load(signed["encap_content_info"]["content"].contents)
        gen_time: datetime = tst["gen_time"].native
        imprint = tst["message_imprint"]
        algorithm = str(imprint["hash_algorithm"]["algorithm"].native)
        hashed: bytes = imprint["hashed_message"].native
        signer = _signer_certificate(signed)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise EvidenceInvalid(
            f"not a readable timestamp token: {exc}", "dấu thời gian không đọc được"
        ) from exc
    return TokenFacts(
        gen_time=gen_time,
        algorithm=algorithm,
        imprint=hashed,
        tsa_not_after=signer["tbs_certificate"]["validity"]["not_after"].native,
        tsa_name=str(signer.subject.human_friendly),
    )


def _signer_certificate(signed: cms.SignedData) -> x509.Certificate:
    sid = signed["signer_infos"][0]["sid"]
    for choice in signed["certificates"] or ():
        cert = choice.chosen
        if not isinstance(cert, x509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise ValueError("the token does not carry its TSA's certificate")
