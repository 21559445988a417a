"""Validation speed, measured in one run on one machine.

Run from the repository root::

    python benchmarks/validation.py            # full run
    python benchmarks/validation.py --quick    # smoke run

(``python -m benchmarks.validation`` works too.) It prints

1. in the process, validations per second of a one-page PAdES B-LT công văn (offline: the
   revocation data is embedded) with :func:`validation.validate_bytes`, and of the same file
   with a plain pyHanko ``validate_pdf_signature`` loop (the baseline; target: at least 5x the
   baseline, with the same verdict); of a 100-page B-LT công văn, both ways; and of a small
   XAdES B-B document with :func:`validation.validate_bytes`;
2. seconds to validate a 1,000-page Decree 30 document (personal signature, number fill,
   agency seal: three revisions; target at most 0.2 s);
3. time and peak memory (VmHWM of a child process that validates nothing else) to validate a
   signed 200 MiB PDF from its path, as ``lienthong verify`` does (target at most 250 MiB);
4. whole programs, seconds per run from start to exit: ``lienthong --help``, ``lienthong
   verify`` of the one-page PDF and of the XAdES document, and, where installed, poppler's
   ``pdfsig`` on the PDF and ``xmlsec1 --verify`` on the XML (each checked once for the
   expected verdict). The bare interpreter and ``import validation`` are shown as floors.

Contenders run interleaved, round by round, in an order that alternates, so that a machine
getting busier during the run slows every contender alike. Each figure is given as min /
median over the rounds (after a warm-up); a ratio is computed within each round and also
given as min / median.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.pdf_utils.xref import XRefCache
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from benchmarks.signing import MIB, REPO, write_big_pdf
from signing import (
    Anchor,
    AppearanceSpec,
    Level,
    PadesSigner,
    PadesSpec,
    Profile,
    XmlSignatureSpec,
    add_text_fields,
    fill_text_fields,
    sign_xml,
)
from signing.dev.assets import (
    SampleDocument,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
)
from signing.dev.pki import DEV_ORG, DEV_PERSON, DevPki
from signing.dev.services import serve_dev_services
from signing.keys import DevelopmentModeWarning
from validation import (
    TrustAnchors,
    ValidationPolicy,
    hexstrings,
    load_certificates,
    pdfpaths,
    pdftokens,
    validate_bytes,
    validate_files,
)

TARGET_RATIO = 5.0  # validations per second against the plain pyHanko loop, all our checks on
TARGET_PAGES_SECONDS = 0.2  # a 1,000-page Decree 30 document
TARGET_BIG_MIB = 250.0  # peak memory validating a 200 MiB PDF
PDFSIG = "pdfsig (OCSP: local)"
"""poppler cannot use the revocation data in the file: it asks the development responder."""

Timer = Callable[[int], Awaitable[float]]
"""Runs a contender n times; returns the seconds it took."""


@dataclass(frozen=True, slots=True)
class Spread:
    """Min and median of one figure over the rounds."""

    low: float
    median: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        return cls(min(samples), statistics.median(samples))


async def interleaved(timers: dict[str, Timer], n: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per operation of each contender in each round.

    One warm-up call each, then every round runs each contender ``n`` times, forwards in even
    rounds and backwards in odd ones.
    """
    names = list(timers)
    for name in names:
        await timers[name](1)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            samples[name].append(await timers[name](n) / n)
    return samples


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> Spread:
    """Per-round ratios of two contenders' figures, as min / median."""
    return Spread.of([a / b for a, b in zip(numerator, denominator, strict=True)])


# -- in the process ----------------------------------------------------------------------------


def _async_timer(once: Callable[[], Awaitable[object]]) -> Timer:
    async def timed(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await once()
        return time.perf_counter() - start

    return timed


def _thread_timer(once: Callable[[], object]) -> Timer:
    """For pyHanko's sync API, which runs its own event loop: a thread without one."""

    def loop(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            once()
        return time.perf_counter() - start

    async def timed(n: int) -> float:
        return await asyncio.to_thread(loop, n)

    return timed


async def decree30_document(pki: DevPki, tsa_url: str, pages: int) -> bytes:
    """A document through the Decree 30 steps: a personal signature over the signer's name,
    the number and date filled in, the agency seal (both B-LT)."""
    doc = SampleDocument()
    draft = add_text_fields(make_sample_cong_van(doc, pages=pages))
    personal_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=(tsa_url,),
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=draw_signature_png(DEV_PERSON),
            placement=Anchor(text=doc.signer_name, above=doc.position),
        ),
    )
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), personal_spec).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "125", "ngay": "05", "thang": "02"})
    agency_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=(tsa_url,),
        appearance=AppearanceSpec(
            profile=Profile.AGENCY, image_png=draw_seal_png(DEV_ORG.upper()), seal_diameter_mm=36
        ),
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), agency_spec).sign_bytes(numbered)
    return final


async def _documents(pki: DevPki, tsa_url: str, pages: int) -> dict[str, bytes]:
    spec = PadesSpec(level=Level.B_LT, tsa_urls=(tsa_url,))
    signer = PadesSigner(pki.in_memory_key("agency"), spec)
    one, _ = await signer.sign_bytes(make_sample_cong_van())
    hundred, _ = await signer.sign_bytes(make_sample_cong_van(pages=100))
    many = await decree30_document(pki, tsa_url, pages)
    xml = await sign_xml(
        '<?xml version="1.0" encoding="UTF-8"?><CongVan><TrichYeu>Về việc liên thông'
        "</TrichYeu></CongVan>".encode(),
        pki.in_memory_key("agency"),
        XmlSignatureSpec(kind="xades-b-b"),
    )
    return {"pdf-1": one, "pdf-100": hundred, "decree30": many, "xml": xml}


_PYHANKO_AS_SHIPPED = {
    "read_hex_string_from_stream": hexstrings.PYHANKO_READ_HEX_STRING,
    "read_until_delimiter": pdftokens.PYHANKO_READ_UNTIL_DELIMITER,
    "_decode_name": pdftokens.PYHANKO_DECODE_NAME,
    "decode_pdfdocencoding": pdftokens.PYHANKO_DECODE_PDFDOCENCODING,
}


def _plain_pyhanko(data: bytes, pki: DevPki) -> Callable[[], bool]:
    """pyHanko as shipped: with its own hex-string, keyword, name, number and text-string
    readers, reference paths and last-change lookups (the validation room installs faster
    ones for the whole process), restored for the duration of each run (nothing else runs
    meanwhile)."""

    def once() -> bool:
        module = vars(generic)
        ours = {name: module[name] for name in _PYHANKO_AS_SHIPPED}
        module.update(_PYHANKO_AS_SHIPPED)
        generic.NumberObject.read_from_stream = staticmethod(pdftokens.PYHANKO_READ_NUMBER)  # type: ignore[method-assign]
        HistoricalResolver._load_reverse_xref_cache = pdfpaths.PYHANKO_LOAD_PATHS  # type: ignore[method-assign]
        XRefCache.get_last_change = pdfpaths.PYHANKO_LAST_CHANGE  # type: ignore[method-assign]
        HistoricalResolver._get_usages_of_ref = pdfpaths.PYHANKO_GET_USAGES  # type: ignore[method-assign]
        try:
            reader = PdfFileReader(io.BytesIO(data))
            sig = reader.embedded_regular_signatures[0]
            context = ValidationContext(trust_roots=[pki.root.asn1], allow_fetching=False)
            status = validate_pdf_signature(sig, context)
            return bool(status.bottom_line)
        finally:
            module.update(ours)
            generic.NumberObject.read_from_stream = staticmethod(pdftokens.read_number)  # type: ignore[method-assign]
            pdfpaths.install_targeted_paths()

    return once


async def in_process(
    docs: dict[str, bytes], pki: DevPki, policy: ValidationPolicy, n: int, rounds: int
) -> None:
    # the XML signature carries no revocation data: the caller supplies the CRLs
    xml_policy = replace(policy, crls=(pki.crl("issuing"), pki.crl("root")))
    print(f"In the process: validations per second, {n} validations x {rounds} rounds")
    print(
        f"{'document':<24}{'lienthong':>18}{'plain pyHanko':>18}{'ratio':>16}  target\n"
        f"{'':<24}{'min / median':>18}{'min / median':>18}{'min / median':>16}"
    )
    labels = {"pdf-1": "PDF B-LT, 1 page", "pdf-100": "PDF B-LT, 100 pages"}
    for name, label in labels.items():
        data = docs[name]
        report = await validate_bytes(data, policy)
        assert report.indication is AdESStatus.PASSED, report.signatures
        plain = _plain_pyhanko(data, pki)
        assert await asyncio.to_thread(plain), "pyHanko verdict differs"

        async def ours(d: bytes = data) -> object:
            return await validate_bytes(d, policy)

        seconds = await interleaved(
            {"ours": _async_timer(ours), "plain": _thread_timer(plain)}, n, rounds
        )
        rate = {k: [1 / s for s in v] for k, v in seconds.items()}
        ratio = ratios(rate["ours"], rate["plain"])
        ok = "ok" if ratio.median >= TARGET_RATIO else "MISSED"
        target = f">= {TARGET_RATIO:.0f}x {ok}" if name == "pdf-1" else ""
        print(
            f"{label:<24}{_rate(rate['ours']):>18}{_rate(rate['plain']):>18}"
            f"{ratio.low:>8.2f} / {ratio.median:.2f}x  {target}"
        )
    xml_report = await validate_bytes(docs["xml"], xml_policy)
    assert xml_report.indication is AdESStatus.PASSED, xml_report.signatures[0].findings

    async def xml_once() -> object:
        return await validate_bytes(docs["xml"], xml_policy)

    xml_seconds = await interleaved({"xml": _async_timer(xml_once)}, n, rounds)
    print(f"{'XAdES B-B, small':<24}{_rate([1 / s for s in xml_seconds['xml']]):>18}")
    print("verdicts: lienthong TOTAL-PASSED, pyHanko bottom line True, on every document")


def _rate(per_second: Sequence[float]) -> str:
    spread = Spread.of(per_second)
    return f"{spread.low:.0f} / {spread.median:.0f}/s"


# -- many pages ---------------------------------------------------------------------------------


async def many_pages(data: bytes, pages: int, policy: ValidationPolicy, rounds: int) -> None:
    report = await validate_bytes(data, policy)
    assert report.indication is AdESStatus.PASSED, report.signatures
    assert report.legal.valid, report.legal

    async def once() -> object:
        return await validate_bytes(data, policy)

    seconds = (await interleaved({"pages": _async_timer(once)}, 1, rounds))["pages"]
    spread = Spread.of(seconds)
    ok = "ok" if spread.median <= TARGET_PAGES_SECONDS else "MISSED"
    print(
        f"{f'PDF, {pages:,} pages, Decree 30':<32}{spread.low:>8.3f} / {spread.median:.3f} s"
        f"   target <= {TARGET_PAGES_SECONDS} s {ok} (3 revisions; TOTAL-PASSED, legal valid)"
    )


# -- a big file ----------------------------------------------------------------------------------

BIG_CHILD = "--validate-big-child"


def _proc_status_mib(name: str) -> float | None:
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return None


def child_validate_big(path: Path, root: Path, crls: list[Path], warmup: Path) -> int:
    """In a child process: validate ``warmup`` (imports, first-use caches), reset the peak
    (VmHWM, Linux) and validate ``path`` from its path; print one JSON line of figures."""
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": load_certificates(root)}),
        crls=tuple(p.read_bytes() for p in crls),
        offline=True,
        revocation="hard",
    )
    asyncio.run(validate_files([warmup], policy))
    before = _proc_status_mib("VmRSS") or 0.0
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        reset = True
    except OSError:
        reset = False
    start = time.perf_counter()
    [report] = asyncio.run(validate_files([path], policy))
    seconds = time.perf_counter() - start
    peak = _proc_status_mib("VmHWM") or 0.0
    figures = {
        "seconds": seconds,
        "rss_before_mib": before,
        "peak_mib": peak,
        "peak_reset": reset,
        "indication": report.indication.name,
    }
    print(json.dumps(figures))
    return 0


async def big_file(pki: DevPki, folder: Path, size_mib: int) -> Path:
    """A signed PDF of about ``size_mib`` MiB (random images, streamed to disk)."""
    plain, signed = folder / "big.pdf", folder / "big.signed.pdf"
    await asyncio.to_thread(write_big_pdf, plain, size_mib * MIB)
    await PadesSigner(pki.in_memory_key("agency"), PadesSpec()).sign_file(plain, signed)
    plain.unlink()
    return signed


def big_file_figures(signed: Path, pki: DevPki, folder: Path, warmup: bytes) -> None:
    root, small = folder / "big-root.pem", folder / "big-warmup.pdf"
    root.write_bytes(pki.root.cert_pem())
    small.write_bytes(warmup)
    crls = []
    for name, crl in (("issuing", pki.crl("issuing")), ("root", pki.crl("root"))):
        crl_path = folder / f"big-{name}.crl"
        crl_path.write_bytes(crl)
        crls += ["--crl", str(crl_path)]
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "benchmarks.validation", BIG_CHILD, str(signed),
        "--trust", str(root), *crls, "--warmup", str(small),
    ]  # fmt: skip
    proc = subprocess.run(  # noqa: S603 - our own arguments
        command,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the validating child failed ({proc.returncode}):\n{proc.stderr}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["indication"] == "PASSED", figures
    size = signed.stat().st_size / MIB
    peak = figures["peak_mib"]
    ok = "ok" if peak <= TARGET_BIG_MIB else "MISSED"
    since = "since warm-up" if figures["peak_reset"] else "of the whole child"
    print(
        f"{f'PDF, {size:,.0f} MiB, from its path':<32}{figures['seconds']:>8.2f} s, "
        f"peak {peak:,.0f} MiB (VmHWM {since}; {figures['rss_before_mib']:,.0f} MiB before)"
        f"   target <= {TARGET_BIG_MIB:.0f} MiB {ok}"
    )


# -- whole programs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    label: str
    argv: list[str]
    check: Callable[[subprocess.CompletedProcess[str]], bool]
    """Is the first run's outcome the expected verdict?"""
    versus: str | None = None
    """The program this one is compared with, if it runs: this one's time over its, per
    round."""


def _process_timer(program: Program) -> Timer:
    def loop(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            subprocess.run(  # noqa: S603 - our own arguments
                program.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
        return time.perf_counter() - start

    async def timed(n: int) -> float:
        return await asyncio.to_thread(loop, n)

    return timed


def _lienthong() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).parent / "lienthong"
    return [str(script)] if script.exists() else [sys.executable, "-m", "exchange.cli"]


def _exit_0(proc: subprocess.CompletedProcess[str]) -> bool:
    return proc.returncode == 0


def _programs(docs: dict[str, bytes], pki: DevPki, folder: Path) -> tuple[list[Program], str]:
    """What to run, and a note on what is not installed."""
    pdf, xml = folder / "cong-van.pdf", folder / "cong-van.xml"
    pdf.write_bytes(docs["pdf-1"])
    xml.write_bytes(docs["xml"])
    root, issuing = folder / "root.pem", folder / "issuing.pem"
    root.write_bytes(pki.root.cert_pem())
    issuing.write_bytes(pki.issuing.cert_pem())
    crls = []
    for name, crl in (("issuing", pki.crl("issuing")), ("root", pki.crl("root"))):
        path = folder / f"{name}.crl"
        path.write_bytes(crl)
        crls += ["--crl", str(path)]
    lienthong = _lienthong()
    programs = [
        Program(label="python -c pass", argv=[sys.executable, "-c", "pass"], check=_exit_0),
        Program(
            label="python: import validation",
            argv=[sys.executable, "-c", "import validation"],
            check=_exit_0,
        ),
        Program(label="lienthong --help", argv=[*lienthong, "--help"], check=_exit_0),
        Program(
            label="lienthong verify PDF",
            argv=[*lienthong, "verify", str(pdf), "--trust", str(root), "--offline"],
            check=_exit_0,
            versus=PDFSIG,
        ),
    ]
    missing = []
    pdfsig, certutil = shutil.which("pdfsig"), shutil.which("certutil")
    if pdfsig and certutil:
        nssdb = folder / "nssdb"
        nssdb.mkdir()
        for args in (
            ["-N", "--empty-password"],
            ["-A", "-n", "root", "-t", "CT,C,C", "-a", "-i", str(root)],
            ["-A", "-n", "issuing", "-t", ",,", "-a", "-i", str(issuing)],
        ):
            subprocess.run([certutil, "-d", f"sql:{nssdb}", *args], check=True)  # noqa: S603
        programs.append(
            Program(
                label=PDFSIG,
                argv=[pdfsig, "-nssdir", f"sql:{nssdb}", str(pdf)],
                check=lambda p: (
                    "Signature is Valid." in p.stdout and "Certificate is Trusted." in p.stdout
                ),
            )
        )
    else:
        missing.append("pdfsig (poppler-utils) and certutil (libnss3-tools)")
    programs.append(
        Program(
            label="lienthong verify XML",
            argv=[*lienthong, "verify", str(xml), "--trust", str(root), *crls, "--offline"],
            check=_exit_0,
            versus="xmlsec1 --verify",
        )
    )
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1:
        programs.append(
            Program(
                label="xmlsec1 --verify",
                argv=[
                    xmlsec1,
                    "--verify",
                    "--trusted-pem",
                    str(root),
                    "--untrusted-pem",
                    str(issuing),
                    str(xml),
                ],
                check=_exit_0,
            )
        )
    else:
        missing.append("xmlsec1")
    for program in programs:
        proc = subprocess.run(  # noqa: S603 - our own arguments
            program.argv, capture_output=True, text=True, check=False
        )
        assert program.check(proc), f"{program.label}: {proc.stdout}{proc.stderr}"
    return programs, (f"not installed: {', '.join(missing)}" if missing else "")


async def whole_programs(docs: dict[str, bytes], pki: DevPki, port: int, rounds: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        # lienthong runs --offline; pdfsig needs the OCSP responder the certificates name
        with serve_dev_services(pki, port=port):
            programs, note = _programs(docs, pki, Path(tmp))
            seconds = await interleaved(
                {p.label: _process_timer(p) for p in programs}, n=1, rounds=rounds
            )
    print(f"Whole programs: seconds from start to exit, {rounds} rounds")
    print(f"{'program':<28}{'min / median':>18}   ratio, min / median")
    for program in programs:
        spread = Spread.of(seconds[program.label])
        line = f"{program.label:<28}{spread.low:>8.3f} / {spread.median:.3f} s"
        if program.versus in seconds:
            ratio = ratios(seconds[program.label], seconds[program.versus])
            line += f"   {ratio.low:.1f} / {ratio.median:.1f}x {program.versus}"
        print(line)
    if note:
        print(note)


async def run(args: argparse.Namespace) -> int:
    n, rounds, process_rounds = (
        (10, 3, 3) if args.quick else (args.iterations, args.rounds, args.process_rounds)
    )
    pages = args.pages
    big_mib = args.big_mib if args.big_mib is not None else (20 if args.quick else 200)
    with (
        tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        folder = Path(tmp)
        with serve_dev_services() as services:
            pki = DevPki.generate(services.url)
            services.attach(pki)
            docs = await _documents(pki, services.tsa_url, pages)
            big = await big_file(pki, folder, big_mib) if big_mib else None
            port = urlsplit(services.url).port or 80
        # from here on, nothing listens: validation must be offline
        policy = ValidationPolicy(
            anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="hard"
        )
        pyc = "off (PYTHONDONTWRITEBYTECODE)" if sys.flags.dont_write_bytecode else "on"
        print(
            f"validation benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"bytecode cache for the project's sources {pyc}\n"
        )
        await in_process(docs, pki, policy, n, rounds)
        print()
        print(f"Big documents: seconds per validation, min / median over {rounds} rounds")
        await many_pages(docs["decree30"], pages, policy, rounds)
        if big is not None:
            big_file_figures(big, pki, folder, docs["pdf-1"])
        print()
        await whole_programs(docs, pki, port, process_rounds)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [BIG_CHILD]:
        child = argparse.ArgumentParser()
        child.add_argument("path", type=Path)
        child.add_argument("--trust", type=Path, required=True)
        child.add_argument("--crl", type=Path, action="append", default=[])
        child.add_argument("--warmup", type=Path, required=True)
        ns = child.parse_args(argv[1:])
        return child_validate_big(ns.path, ns.trust, ns.crl, ns.warmup)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument(
        "--iterations", type=int, default=100, help="validations per contender per round"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds in the process")
    parser.add_argument(
        "--process-rounds", type=int, default=10, help="rounds of whole-program runs"
    )
    parser.add_argument("--pages", type=int, default=1000, help="pages of the big document")
    parser.add_argument(
        "--big-mb",
        dest="big_mib",
        type=int,
        help="MiB of the big file (200; quick 20), 0: skip",
    )
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
