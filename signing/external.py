"""Two-phase external signing, for a key that stays on the signer's own machine.

Phase one (:func:`prepare_pdf`) writes the document with an empty signature and returns what
the key must sign: the DER of the CMS signed attributes (to be hashed and signed, as any
hash-and-sign API does), its digest, and the algorithm. Phase two (:func:`finish_pdf`) takes
the signature value, checks it against the certificate, and completes the document (adding
the signature timestamp for B-T). Between the phases everything lives in one self-contained
JSON state file, so the phases can run in different processes or on different machines.

State file (``format`` = ``lienthong-two-phase/1``), all binary values base64::

    {
      "format": "lienthong-two-phase/1",
      "created": "2026-11-28T09:15:30+07:00",
      "level": "B-B" | "B-T",
      "tsa_urls": ["http://…"],
      "field_name": "personal-1",
      "profile": "personal",
      "signer": "Nguyễn Thị Hương Giang",
      "signing_time": "…",
      "certificate": "<DER>", "chain": ["<DER>", …],
      "digest_algorithm": "sha256",
      "signature_algorithm": "sha256_rsa" | "rsassa_pss" | "sha256_ecdsa",
      "signature_algorithm_der": "<DER AlgorithmIdentifier>",
      "to_be_signed": "<DER signed attributes>",
      "to_be_signed_digest": "<digest of to_be_signed>",
      "pdf": {"document": "<PDF with placeholder>", "document_digest": "<…>",
              "reserved_region_start": 1234, "reserved_region_end": 17448}
    }

The state holds no secret: only the document and public data. pyHanko's interrupted
signing does the PDF work.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509 import load_der_x509_certificate
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.appearance import Profile
from signing.errors import InputUnreadable, SigningError, UsageError
from signing.files import atomic_output, open_input
from signing.keys import HASHES, CertifiedKey, signature_mechanism
from signing.pades import Level, PadesSigner, PadesSpec, SignedPdf, translate_errors
from signing.tsa import HttpTimestamper

STATE_FORMAT = "lienthong-two-phase/1"


class SignatureValueInvalid(SigningError):
    code = "signing.signature_value_invalid"
    exit_code = 65


class ExternalKey(CertifiedKey):
    """A certificate whose key is elsewhere: it can describe itself but not sign here."""

    async def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        raise UsageError(
            "this key signs outside lienthong: use the two phases",
            "khóa này ký bên ngoài lienthong: hãy ký hai bước",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningRequest:
    """What phase one hands to the external signer."""

    state_path: Path
    digest_algorithm: str
    signature_algorithm: str
    to_be_signed: bytes
    digest: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputUnreadable(
            f"the state file's {what} is not valid base64",
            f"tệp trạng thái có trường không phải base64 hợp lệ ({what})",
        ) from exc


async def prepare_pdf(
    source: Path,
    state_path: Path,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    spec: PadesSpec,
    *,
    pss: bool = False,
) -> SigningRequest:
    """Phase one: the document with a reserved signature, and what to sign."""
    key = ExternalKey(certificate, chain, pss=pss)
    signer = PadesSigner(key, spec)
    buffer = io.BytesIO()
    with open_input(source) as src:
        result, prepared, signed_attrs = await signer.prepare_external(src, buffer)
    digest_algorithm = signer.digest_algorithm
    mechanism = signature_mechanism(key, digest_algorithm)
    tbs = signed_attrs.dump()
    digest = hashlib.new(digest_algorithm, tbs).digest()
    state = {
        "format": STATE_FORMAT,
        "created": result.signing_time.isoformat(),
        "level": spec.level.value,
        "tsa_urls": list(spec.tsa_urls),
        "field_name": result.field_name,
        "profile": result.profile.value,
        "signer": result.signer,
        "signing_time": result.signing_time.isoformat(),
        "certificate": _b64(certificate.dump()),
        "chain": [_b64(c.dump()) for c in chain],
        "digest_algorithm": digest_algorithm,
        "signature_algorithm": mechanism["algorithm"].native,
        "signature_algorithm_der": _b64(mechanism.dump()),
        "to_be_signed": _b64(tbs),
        "to_be_signed_digest": _b64(digest),
        "pdf": {
            "document": _b64(buffer.getvalue()),
            "document_digest": _b64(prepared.document_digest),
            "reserved_region_start": prepared.reserved_region_start,
            "reserved_region_end": prepared.reserved_region_end,
        },
    }
    with atomic_output(state_path) as out:
        out.write(json.dumps(state, indent=1).encode("utf-8"))
    return SigningRequest(
        state_path=state_path,
        digest_algorithm=digest_algorithm,
        signature_algorithm=mechanism["algorithm"].native,
        to_be_signed=tbs,
        digest=digest,
    )


def _load_state(state_path: Path) -> dict[str, Any]:
    with open_input(state_path) as handle:
        raw = handle.read()
    try:
        state = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputUnreadable(
            f"{state_path} is not a two-phase state file", f"{state_path} không phải tệp trạng thái"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise InputUnreadable(
            f"{state_path} is not a {STATE_FORMAT} state file",
            f"{state_path} không phải tệp trạng thái {STATE_FORMAT}",
        )
    return state


def _normalise_ecdsa(value: bytes, cert: x509.Certificate) -> bytes:
    """Accept raw r||s (what many tokens return) as well as DER."""
    size = (cert.public_key.bit_size + 7) // 8
    if len(value) == 2 * size:
        r = int.from_bytes(value[:size], "big")
        s = int.from_bytes(value[size:], "big")
        return utils.encode_dss_signature(r, s)
    return value


def _check_signature(
    cert: x509.Certificate,
    mechanism: algos.SignedDigestAlgorithm,
    digest_algorithm: str,
    tbs: bytes,
    value: bytes,
) -> None:
    public = load_der_x509_certificate(cert.dump()).public_key()
    hash_algo: hashes.HashAlgorithm = HASHES[digest_algorithm]()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(value, tbs, ec.ECDSA(hash_algo))
        elif isinstance(public, rsa.RSAPublicKey):
            if mechanism["algorithm"].native == "rsassa_pss":
                pad: padding.AsymmetricPadding = padding.PSS(
                    mgf=padding.MGF1(hash_algo), salt_length=hash_algo.digest_size
                )
            else:
                pad = padding.PKCS1v15()
            public.verify(value, tbs, pad, hash_algo)
        else:
            raise UsageError("only RSA and EC keys are supported", "chỉ hỗ trợ khóa RSA và EC")
    except InvalidSignature as exc:
        raise SignatureValueInvalid(
            "the signature value does not match the document and the certificate "
            "(wrong key, wrong data or wrong algorithm)",
            "giá trị chữ ký không khớp với văn bản và chứng thư số",
        ) from exc


async def finish_pdf(state_path: Path, signature_value: bytes, output: Path) -> SignedPdf:
    """Phase two: embed the signature value (checked first) and write ``output``."""
    state = _load_state(state_path)
    cert = x509.Certificate.load(_unb64(state["certificate"], "certificate"))
    chain = [x509.Certificate.load(_unb64(c, "chain")) for c in state["chain"]]
    digest_algorithm = str(state["digest_algorithm"])
    if digest_algorithm not in HASHES:
        raise InputUnreadable(
            f"unsupported digest algorithm {digest_algorithm!r} in the state",
            f"tệp trạng thái dùng thuật toán băm không được hỗ trợ {digest_algorithm!r}",
        )
    mechanism = algos.SignedDigestAlgorithm.load(
        _unb64(state["signature_algorithm_der"], "signature algorithm")
    )
    tbs = _unb64(state["to_be_signed"], "signed attributes")
    if cert.public_key.algorithm == "ec":
        signature_value = _normalise_ecdsa(signature_value, cert)
    _check_signature(cert, mechanism, digest_algorithm, tbs, signature_value)
    level = Level(state["level"])
    pdf_state = state["pdf"]
    prepared = PreparedByteRangeDigest(
        document_digest=_unb64(pdf_state["document_digest"], "document digest"),
        reserved_region_start=int(pdf_state["reserved_region_start"]),
        reserved_region_end=int(pdf_state["reserved_region_end"]),
    )
    ext = ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
        signature_value=signature_value,
        signature_mechanism=mechanism,
    )
    timestamper = HttpTimestamper(state["tsa_urls"]) if level.needs_timestamp else None
    signer_name = str(state["signer"])
    with translate_errors(signer_name):
        try:
            signed_cms: cms.ContentInfo = await ext.async_sign_prescribed_attributes(
                digest_algorithm, signed_attrs=cms.CMSAttributes.load(tbs), timestamper=timestamper
            )
        finally:
            if timestamper is not None:
                await timestamper.aclose()
        with atomic_output(output) as out:
            out.write(_unb64(pdf_state["document"], "document"))
            prepared.fill_with_cms(out, signed_cms)
    return SignedPdf(
        field_name=str(state["field_name"]),
        signer=signer_name,
        signing_time=datetime.fromisoformat(state["signing_time"]),
        level=level,
        profile=Profile(state["profile"]),
    )
