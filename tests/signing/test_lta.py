"""extend_to_lta: a signed document taken to B-LTA keeps every signature valid, gains a DSS
with the validation data and one document timestamp that pyHanko trusts."""

from __future__ import annotations

import io

from pyhanko.pdf_utils.reader import PdfFileReader

from signing import HttpTimestamper, Level, PadesSigner, PadesSpec, extend_to_lta
from signing.dev import DevPki, DevServices
from tests.plugin import pyhanko_timestamps, pyhanko_verdicts


async def test_a_b_t_signature_is_taken_to_b_lta(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    spec = PadesSpec(level=Level.B_T, tsa_urls=(dev_services.tsa_url,))
    signed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    async with HttpTimestamper([dev_services.tsa_url]) as tsa:
        out = await extend_to_lta(signed, trust_roots=[pki.root.asn1], timestamper=tsa)
    assert out.startswith(signed)  # incremental: the signed revision is byte-exact
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.intact and verdict.valid and verdict.trusted and verdict.timestamped
    assert await pyhanko_timestamps(out, pki) == [True]
    dss = PdfFileReader(io.BytesIO(out)).root["/DSS"].get_object()
    assert len(dss["/Certs"]) >= 3
    assert "/OCSPs" in dss or "/CRLs" in dss
