"""Second opinions from a tool nobody here wrote: poppler's pdfsig agrees with our PDF
verdicts (signatures only: pdfsig cannot judge document timestamps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.sign.ades.report import AdESStatus

from signing import (
    AppearanceSpec,
    Level,
    PadesSigner,
    PadesSpec,
    Profile,
)
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import pdfsig
from validation import TrustAnchors, ValidationPolicy, validate_bytes


@pytest.mark.parametrize(
    ("key", "level", "profile"),
    [
        ("personal", Level.B_B, Profile.PLAIN),
        ("agency", Level.B_T, Profile.ATTACHMENT),
        ("personal-ec", Level.B_LT, Profile.PLAIN),
        ("personal-pss", Level.B_LTA, Profile.COPY),
    ],
)
async def test_pdfsig_agrees(
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    nssdb: Path,
    tmp_path: Path,
    key: str,
    level: Level,
    profile: Profile,
) -> None:
    lines = ("125/STTTT-VP",) if profile is not Profile.PLAIN else ()
    spec = PadesSpec(
        level=level,
        tsa_urls=(dev_services.tsa_url,),
        appearance=AppearanceSpec(profile=profile, text_lines=lines),
    )
    signed, _ = await PadesSigner(pki.in_memory_key(key), spec).sign_bytes(sample_pdf)
    policy = ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)}))
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)

    report = await validate_bytes(signed, policy)
    [theirs, *_] = pdfsig(path, nssdb)
    assert report.indication is AdESStatus.PASSED, report.signatures
    assert theirs.valid and theirs.trusted, theirs.raw

    tampered = bytearray(signed)
    at = signed.index(b"/Type /Page") + 2
    tampered[at] ^= 0x20  # inside the first signed range
    path.write_bytes(bytes(tampered))
    report = await validate_bytes(bytes(tampered), policy)
    [theirs, *_] = pdfsig(path, nssdb)
    assert report.indication is AdESStatus.FAILED
    assert not theirs.valid, theirs.raw
