"""Validation throughput, measured in one run on one machine.

Run from the repository root::

    python -m benchmarks.validation            # full run
    python -m benchmarks.validation --quick    # smoke run

It prints validations per second for

1. a one-page PAdES B-LT công văn (offline: the revocation data is embedded) with
   :func:`validation.validate_bytes`, and the same file with a plain pyHanko
   ``validate_pdf_signature`` loop (the baseline; target: at least 2x the baseline, with the
   same verdict);
2. a 100-page B-LT công văn, both ways;
3. a small XAdES B-B document with :func:`validation.validate_bytes`.

Each figure is the median of ``--rounds`` timed loops after a warm-up, with its range.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signing import Level, PadesSigner, PadesSpec, XmlSignatureSpec, sign_xml
from signing.devassets import make_sample_cong_van
from signing.devpki import DevPki
from signing.devservices import serve_dev_services
from signing.keys import DevelopmentModeWarning
from validation import TrustAnchors, ValidationPolicy, validate_bytes

TARGET_RATIO = 2.0


@dataclass(frozen=True, slots=True)
class Rate:
    median: float
    low: float
    high: float


def _rate(samples: list[float]) -> Rate:
    return Rate(statistics.median(samples), min(samples), max(samples))


async def _loop(once: Callable[[], Awaitable[object]], n: int, rounds: int) -> Rate:
    await once()  # warm-up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            await once()
        samples.append(n / (time.perf_counter() - start))
    return _rate(samples)


def _sync_loop(once: Callable[[], object], n: int, rounds: int) -> Rate:
    once()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            once()
        samples.append(n / (time.perf_counter() - start))
    return _rate(samples)


async def _documents(pki: DevPki, tsa_url: str) -> dict[str, bytes]:
    spec = PadesSpec(level=Level.B_LT, tsa_urls=(tsa_url,))
    signer = PadesSigner(pki.in_memory_key("agency"), spec)
    one, _ = await signer.sign_bytes(make_sample_cong_van())
    hundred, _ = await signer.sign_bytes(make_sample_cong_van(pages=100))
    xml = await sign_xml(
        '<?xml version="1.0" encoding="UTF-8"?><CongVan><TrichYeu>Về việc liên thông'
        "</TrichYeu></CongVan>".encode(),
        pki.in_memory_key("agency"),
        XmlSignatureSpec(kind="xades-b-b"),
    )
    return {"pdf-1": one, "pdf-100": hundred, "xml": xml}


def _plain_pyhanko(data: bytes, pki: DevPki) -> Callable[[], bool]:
    def once() -> bool:
        reader = PdfFileReader(io.BytesIO(data))
        sig = reader.embedded_regular_signatures[0]
        context = ValidationContext(trust_roots=[pki.root.asn1], allow_fetching=False)
        status = validate_pdf_signature(sig, context)
        return bool(status.bottom_line)

    return once


async def run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        with serve_dev_services() as services:
            pki = DevPki.generate(services.url)
            services.attach(pki)
            docs = await _documents(pki, services.tsa_url)
    # from here on, nothing listens: validation must be offline
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="hard"
    )
    # the XML signature carries no revocation data: the caller supplies the CRLs
    xml_policy = replace(policy, crls=(pki.crl("issuing"), pki.crl("root")))
    n, rounds = (10, 3) if args.quick else (args.iterations, args.rounds)
    print(f"validation benchmark: {n} validations x {rounds} rounds per figure")
    rows = []
    for name in ("pdf-1", "pdf-100"):
        data = docs[name]
        report = await validate_bytes(data, policy)
        assert report.indication is AdESStatus.PASSED, report.signatures
        plain = _plain_pyhanko(data, pki)
        assert await asyncio.to_thread(plain), "pyHanko verdict differs"
        ours = await _loop(lambda d=data: validate_bytes(d, policy), n, rounds)  # type: ignore[misc]
        # pyHanko's sync API runs its own event loop: give it a thread without one
        base = await asyncio.to_thread(_sync_loop, plain, n, rounds)
        ratio = ours.median / base.median
        rows.append((name, ours, base, ratio))
    xml_report = await validate_bytes(docs["xml"], xml_policy)
    assert xml_report.indication is AdESStatus.PASSED, xml_report.signatures[0].findings
    xml_rate = await _loop(lambda: validate_bytes(docs["xml"], xml_policy), n, rounds)

    print(f"{'document':<28}{'lienthong':>12}{'plain pyHanko':>16}{'ratio':>8}  target")
    for name, ours, base, ratio in rows:
        label = {"pdf-1": "PDF B-LT, 1 page", "pdf-100": "PDF B-LT, 100 pages"}[name]
        target = f">= {TARGET_RATIO:.0f}x {'ok' if ratio >= TARGET_RATIO else 'MISSED'}"
        print(
            f"{label:<28}{ours.median:>10.1f}/s{base.median:>14.1f}/s{ratio:>7.2f}x  "
            f"{target if name == 'pdf-1' else ''}"
        )
        print(f"{'':<28}({ours.low:.0f}–{ours.high:.0f})  ({base.low:.0f}–{base.high:.0f})")
    print(f"{'XAdES B-B, small':<28}{xml_rate.median:>10.1f}/s")
    print("verdicts: lienthong TOTAL-PASSED, pyHanko bottom line True, on every document")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
