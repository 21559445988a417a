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


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    certificates: Iterable[bytes] | None,
    *,
    now: datetime | None = None,
    path: str = MESSAGES_PATH,
) -> tuple[str, str, str]:
    """Check the request's signature against ``certificates`` (DER: those the directory lists
    for the agency the request names in ``Lienthong-From``; None when the directory does not
    know it). Returns (sender, recipient, nonce); raises :class:`NodeRefused` otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    names = (FROM, TO, DATE, NONCE, CERTIFICATE, ALGORITHM, SIGNATURE)
    missing = [n for n in names if not lowered.get(n.lower())]
    if missing:
        raise _refuse(
            "unsigned",
            f"the request is not signed by a node (missing {', '.join(missing)})",
            f"yêu cầu không được nút gửi ký (thiếu {', '.join(missing)})",
        )
    sender, recipient = lowered[FROM.lower()], lowered[TO.lower()]
    date, nonce = lowered[DATE.lower()], lowered[NONCE.lower()]
    algorithm = lowered[ALGORITHM.lower()]
    if certificates is None:
        raise _refuse(
            "sender_unknown",
            f"the sending agency {sender} is not in the agency directory",
            f"cơ quan gửi {sender} không có trong danh bạ cơ quan",
        )
    try:
        stamped = datetime.fromisoformat(date)
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
    if algorithm not in _ALGORITHMS or len(nonce) > 64:
        raise _refuse(
            "bad_signature",
            "the request's signature algorithm or nonce is not accepted",
            "thuật toán chữ ký hoặc nonce của yêu cầu không được chấp nhận",
        )
    wanted = lowered[CERTIFICATE.lower()].lower()
    der = next((c for c in certificates if hashlib.sha256(c).hexdigest() == wanted), None)
    if der is None:
        raise _refuse(
            "wrong_agency",
            f"the request is signed with a certificate the directory does not list for {sender}",
            f"yêu cầu được ký bằng chứng thư số không có trong danh bạ của {sender}",
        )
    certificate = x509.load_der_x509_certificate(der)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise _refuse(
            "certificate_expired",
            f"the certificate {sender} signed the request with is not valid now",
            f"chứng thư số {sender} dùng để ký yêu cầu hiện không còn hiệu lực",
        )
    try:
        value = base64.b64decode(lowered[SIGNATURE.lower()], validate=True)
    except ValueError:
        value = b""
    text = signing_text(
        method="POST",
        path=path,
        sender=sender,
        recipient=recipient,
        date=date,
        nonce=nonce,
        body=body,
    )
    if not value or not _check_signature(der, algorithm, value, text):
        raise _refuse(
            "bad_signature",
            f"the request's signature is not valid for {sender}'s certificate",
            f"chữ ký của yêu cầu không hợp lệ với chứng thư số của {sender}",
        )
    return sender, recipient, nonce


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
