"""Requests between nodes, signed by the sending agency's own key.

A node delivering a message for agency A signs the request with A's agency key (the seal key
of the node's configuration, the one A's packages are signed with); the receiving node checks
that signature against the certificates its directory lists for A, that the request's date is
within :data:`MAX_SKEW` of its own clock, and that its nonce was not seen before (see
:func:`remember_nonce`). So a request is accepted only from the agency it claims to come from,
only once, and only while fresh; the body is bound by its SHA-256.

The signed text (UTF-8, lines joined by ``\\n``)::

    lienthong-node-v1
    POST
    /api/v1/node/messages
    <From OrganId>
    <To OrganId>
    <date, RFC 3339 UTC>
    <nonce>
    <SHA-256 of the body, hex>

Written by hand (a few lines): HTTP message signatures (RFC 9421) have no maintained Python
implementation that signs with a PKCS#11 key; the signature itself is made by the signing
room and checked by ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.db.delivery_models import NodeNonce
from exchange.errors import NodeRefused
from signing import KeySigner

MESSAGES_PATH = "/api/v1/node/messages"
MAX_SKEW = timedelta(minutes=5)

FROM = "Lienthong-From"
TO = "Lienthong-To"
DATE = "Lienthong-Date"
NONCE = "Lienthong-Nonce"
CERTIFICATE = "Lienthong-Certificate"
"""The SHA-256 (hex) of the signing certificate's DER: which of the agency's keys signed."""
ALGORITHM = "Lienthong-Signature-Algorithm"
SIGNATURE = "Lienthong-Signature"

_ALGORITHMS = ("rsa-pkcs1-sha256", "rsa-pss-sha256", "ecdsa-sha256")


def signing_text(
    *, method: str, path: str, sender: str, recipient: str, date: str, nonce: str, body: bytes
) -> bytes:
    lines = (
        "lienthong-node-v1",
        method.upper(),
        path,
        sender,
        recipient,
        date,
        nonce,
        hashlib.sha256(body).hexdigest(),
    )
    return "\n".join(lines).encode("utf-8")


def _algorithm(key: KeySigner) -> str:
    if key.algorithm == "ec":
        return "ecdsa-sha256"
    return "rsa-pss-sha256" if key.pss else "rsa-pkcs1-sha256"


async def sign_request(
    key: KeySigner,
    *,
    sender: str,
    recipient: str,
    body: bytes,
    now: datetime | None = None,
    path: str = MESSAGES_PATH,
) -> dict[str, str]:
    """The headers that authenticate a POST of ``body`` to ``path`` from ``sender``."""
    date = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    nonce = secrets.token_hex(16)
    text = signing_text(
        method="POST",
        path=path,
        sender=sender,
        recipient=recipient,
        date=date,
        nonce=nonce,
        body=body,
    )
    value = await key.sign_raw(text, "sha256")
    return {
        FROM: sender,
        TO: recipient,
        DATE: date,
        NONCE: nonce,
        CERTIFICATE: hashlib.sha256(key.certificate.dump()).hexdigest(),
        ALGORITHM: _algorithm(key),
        SIGNATURE: base64.b64encode(value).decode("ascii"),
    }


def _refuse(reason: str, en: str, vi: str) -> NodeRefused:
    return NodeRefused(en, vi, reason=reason)


def _check_signature(der: bytes, algorithm: str, value: bytes, text: bytes) -> bool:
    public = x509.load_der_x509_certificate(der).public_key()
    try:
        if algorithm == "ecdsa-sha256" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(value, text, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "rsa-pkcs1-sha256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(value, text, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == "rsa-pss-sha256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(
                value,
                text,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedHeaders:
    """A request's authentication headers, each given exactly once and well-formed."""

    sender: str
    recipient: str
    date: str
    nonce: str
    certificate_sha256: str
    algorithm: str
    signature: bytes


_NAMES = (FROM, TO, DATE, NONCE, CERTIFICATE, ALGORITHM, SIGNATURE)


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):  # a real request's headers: a name may be given more than once
        return [str(v) for v in getlist(name)]
    return [v for k, v in headers.items() if k.lower() == name.lower()]


def parse_headers(headers: Mapping[str, str], *, now: datetime | None = None) -> SignedHeaders:
    """Check what can be checked before the body is read: every header once (a name given
    twice is refused: a reader taking the first and a reader taking the last would name two
    different agencies), the date within :data:`MAX_SKEW`, an accepted algorithm."""
    values = {name: _values(headers, name) for name in _NAMES}
    missing = [n for n, v in values.items() if not v or not v[0]]
    if missing:
        raise _refuse(
            "unsigned",
            f"the request is not signed by a node (missing {', '.join(missing)})",
            f"yêu cầu không được nút gửi ký (thiếu {', '.join(missing)})",
        )
    repeated = [n for n, v in values.items() if len(v) > 1]
    if repeated:
        raise _refuse(
            "repeated_header",
            f"the request gives {', '.join(repeated)} more than once",
            f"yêu cầu ghi {', '.join(repeated)} nhiều hơn một lần",
        )
    one = {name: v[0] for name, v in values.items()}
    try:
        stamped: datetime | None = datetime.fromisoformat(one[DATE])
    except ValueError:
        stamped = None
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if stamped is None or stamped.tzinfo is None or abs(moment - stamped) > MAX_SKEW:
        raise _refuse(
            "stale",
            "the request's date is missing or too far from this node's clock (more than "
            f"{int(MAX_SKEW.total_seconds())} s): a delayed or replayed request",
            "ngày giờ của yêu cầu thiếu hoặc lệch quá xa đồng hồ của nút này (quá "
            f"{int(MAX_SKEW.total_seconds())} giây): yêu cầu bị trễ hoặc bị gửi lại",
        )
    try:
        signature = base64.b64decode(one[SIGNATURE], validate=True)
    except ValueError:
        signature = b""
    if (
        one[ALGORITHM] not in _ALGORITHMS
        or len(one[NONCE]) > 64
        or len(one[FROM]) > 35
        or len(one[TO]) > 35
        or not signature
    ):
        raise _refuse(
            "bad_signature",
            "the request's signature, algorithm, nonce or agency names are not accepted",
            "chữ ký, thuật toán, nonce hoặc mã cơ quan của yêu cầu không được chấp nhận",
        )
    return SignedHeaders(
        sender=one[FROM],
        recipient=one[TO],
        date=one[DATE],
        nonce=one[NONCE],
        certificate_sha256=one[CERTIFICATE].lower(),
        algorithm=one[ALGORITHM],
        signature=signature,
    )


def signing_certificate(
    signed: SignedHeaders, certificates: Iterable[bytes] | None, *, now: datetime | None = None
) -> bytes:
    """The directory certificate (DER) the request names: one of those the directory lists
    for the sending agency (None: it does not know the agency), valid now."""
    sender = signed.sender
    if certificates is None:
        raise _refuse(
            "sender_unknown",
            f"the sending agency {sender} is not in the agency directory",
            f"cơ quan gửi {sender} không có trong danh bạ cơ quan",
        )
    wanted = signed.certificate_sha256
    der = next((c for c in certificates if hashlib.sha256(c).hexdigest() == wanted), None)
    if der is None:
        raise _refuse(
            "wrong_agency",
            f"the request is signed with a certificate the directory does not list for {sender}",
            f"yêu cầu được ký bằng chứng thư số không có trong danh bạ của {sender}",
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    certificate = x509.load_der_x509_certificate(der)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise _refuse(
            "certificate_expired",
            f"the certificate {sender} signed the request with is not valid now",
            f"chứng thư số {sender} dùng để ký yêu cầu hiện không còn hiệu lực",
        )
    return der


def check_signature(
    signed: SignedHeaders, der: bytes, body: bytes, *, path: str = MESSAGES_PATH
) -> None:
    text = signing_text(
        method="POST",
        path=path,
        sender=signed.sender,
        recipient=signed.recipient,
        date=signed.date,
        nonce=signed.nonce,
        body=body,
    )
    if not _check_signature(der, signed.algorithm, signed.signature, text):
        raise _refuse(
            "bad_signature",
            f"the request's signature is not valid for {signed.sender}'s certificate",
            f"chữ ký của yêu cầu không hợp lệ với chứng thư số của {signed.sender}",
        )


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    certificates: Iterable[bytes] | None,
    *,
    now: datetime | None = None,
    path: str = MESSAGES_PATH,
) -> tuple[str, str, str]:
    """All the checks at once (:func:`parse_headers`, :func:`signing_certificate`,
    :func:`check_signature`); ``certificates`` are those the directory lists for the agency
    the headers name. Returns (sender, recipient, nonce); raises :class:`NodeRefused`."""
    signed = parse_headers(headers, now=now)
    der = signing_certificate(signed, certificates, now=now)
    check_signature(signed, der, body, path=path)
    return signed.sender, signed.recipient, signed.nonce


async def remember_nonce(
    session: AsyncSession, sender: str, nonce: str, *, now: datetime | None = None
) -> None:
    """Record a verified request's nonce in ``session``'s transaction; a nonce seen before
    (the same request again) raises :class:`NodeRefused`. Nonces older than twice the
    accepted skew are forgotten: their requests are refused by date anyway."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    await session.execute(delete(NodeNonce).where(NodeNonce.seen_at < moment - 2 * MAX_SKEW))
    try:
        async with session.begin_nested():
            session.add(NodeNonce(key=f"{sender}:{nonce}"[:120], seen_at=moment))
            await session.flush()
    except IntegrityError:
        raise _refuse(
            "replayed",
            "this request was already received (the same nonce): a replay is refused",
            "yêu cầu này đã được nhận (cùng nonce): yêu cầu gửi lại bị từ chối",
        ) from None
