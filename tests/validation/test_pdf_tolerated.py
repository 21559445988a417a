"""Oddities every major reader accepts, which the strict structure reader must not refuse
(found while attacking our own checks): each document is signed with our signer and must pass."""

from __future__ import annotations

import pytest
from pyhanko.sign.ades.report import AdESStatus

from signing import PadesSigner, PadesSpec
from signing.dev.pki import DevPki
from tests.validation.pdfforge import FONT, stream_object, write_pdf
from validation import TrustAnchors, ValidationPolicy, validate_bytes

CONTENT = b"BT /F1 14 Tf 72 760 Td (Noi dung) Tj ET"


def _document(kind: str) -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 6 0 R /Contents 4 0 R >>"
    )
    content = stream_object(CONTENT)
    if kind == "reference-to-a-free-object":
        catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 9 0 R >>"  # 9 is free: null
    elif kind == "page-without-parent":
        page = b"<< /Type /Page /MediaBox [0 0 595 842] /Resources 6 0 R /Contents 4 0 R >>"
    elif kind == "space-after-stream-keyword":
        content = b"<< /Length %d >>\nstream \n" % len(CONTENT) + CONTENT + b"\nendstream"
    elif kind == "cr-after-stream-keyword":
        content = b"<< /Length %d >>\nstream\r" % len(CONTENT) + CONTENT + b"\nendstream"
    return write_pdf(
        {
            1: catalog,
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: page,
            4: content,
            5: FONT,
            6: b"<< /Font << /F1 5 0 R >> >>",
            10: b"<< /Producer (test) >>",
        },
        1,
    )


@pytest.mark.parametrize(
    "kind",
    [
        "reference-to-a-free-object",
        "page-without-parent",
        "space-after-stream-keyword",
        "cr-after-stream-keyword",
    ],
)
async def test_tolerated(pki: DevPki, kind: str) -> None:
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
        _document(kind)
    )
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )
    report = await validate_bytes(signed, policy)
    assert report.indication is AdESStatus.PASSED, [
        (s.id, [f.en for f in s.findings if f.severity == "error"]) for s in report.signatures
    ]
