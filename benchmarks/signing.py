"""Signing throughput and memory, measured in one run on one machine.

Run from the repository root::

    python -m benchmarks.signing               # full run: 5 rounds x 100 signatures, 200 MiB file
    python -m benchmarks.signing --quick       # smoke run: 3 rounds x 10 signatures, 20 MiB file
    python benchmarks/signing.py --iterations 500 --big-mb 500

It prints, as one table:

1. the raw RSA-2048 signing rate of the key with ``cryptography`` (PKCS#1 v1.5, SHA-256, over
   100 bytes): the ceiling for everything else;
2. PAdES B-B signatures per second of a one-page công văn with an in-memory key, one
   :class:`~signing.pades.PadesSigner` reused for the whole loop (a batch), and its ratio to 1;
3. the same with the key on a SoftHSM2 token created in a temporary directory, and its ratios
   to 1 and 2 (plus the token's raw signing rate through :class:`~signing.pkcs11.Pkcs11Key`);
4. a baseline: stock pyHanko (``SimpleSigner`` and ``PdfSigner.async_sign_pdf`` with default
   settings, so with its dry-run size estimate) on the same document;
5. time and peak memory to sign a large PDF (built here, streamed to disk: pages of
   incompressible images) with ``PadesSigner.sign_file``, measured in a child process so that
   its peak RSS is the signer's alone, and a check of the signed file (poppler's ``pdfsig``
   and pyHanko's integrity check).

Rates are the median of ``--rounds`` timed loops (after a short warm-up), with their range.
Targets are printed next to the figures; a missed target prints ``MISSED`` but the exit code
stays 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import io
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, ``benchmarks/`` heads sys.path and this very file would shadow the
# ``signing`` package: put the repository root in front of it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.dev.assets import make_sample_cong_van
from signing.dev.pki import DevPki
from signing.dev.token import SoftHsmHome, softhsm_module
from signing.errors import SigningError
from signing.keys import DevelopmentModeWarning, KeySigner, load_pkcs12
from signing.pades import PadesSigner, PadesSpec
from signing.pkcs11 import Pkcs11Config, open_pkcs11_key, parse_pkcs11_uri, pkcs11_uri

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024

# A throwaway token in a temporary directory.
SOFTHSM_LABEL = "LienthongBench"
TOKEN_PIN = "246810"  # noqa: S105
TOKEN_SO_PIN = "13579111"  # noqa: S105
P12_PASSWORD_ENV = "LIENTHONG_BENCH_P12_PASSWORD"  # noqa: S105 - the variable's name

# Targets.
MIN_INMEMORY_SHARE_OF_RAW = 0.02
"""In-memory PAdES B-B rate at least 2 % of the raw RSA rate."""
MAX_TOKEN_SLOWDOWN = 0.20
"""SoftHSM2 PAdES B-B rate within 20 % of the in-memory rate."""
MEMORY_HEADROOM_MIB = 300
"""Peak RSS while signing a big file below file size + 300 MiB."""

RAW_DATA = bytes(range(100))
# A closed port: B-B needs no service, and nothing must be fetched by accident.
DEV_BASE_URL = "http://127.0.0.1:9/"


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """Operations per second: median of several timed rounds, with their range."""

    median: float
    low: float
    high: float
    per_round: int
    rounds: int

    @classmethod
    def of(cls, rates: Sequence[float], per_round: int) -> Rate:
        return cls(
            median=statistics.median(rates),
            low=min(rates),
            high=max(rates),
            per_round=per_round,
            rounds=len(rates),
        )

    def text(self) -> str:
        return f"{_num(self.median)}/s"

    def spread(self) -> str:
        if self.rounds == 1:
            return f"{self.per_round} ops"
        return f"{_num(self.low)}–{_num(self.high)}, {self.rounds}x{self.per_round}"

    @property
    def ms(self) -> float:
        return 1000.0 / self.median


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str
    detail: str = ""
    target: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class BigFileResult:
    size: int
    generate_seconds: float
    sign_seconds: float
    rss_before_mib: float
    peak_rss_mib: float
    peak_reset: bool
    output_size: int
    pdfsig: str
    pyhanko: str
    verify_seconds: float


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _status(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- 1. raw RSA ---------------------------------------------------------------------------


def raw_rsa_rate(key: rsa.RSAPrivateKey, per_round: int, rounds: int) -> Rate:
    """PKCS#1 v1.5 / SHA-256 signatures per second over 100 bytes, straight from OpenSSL."""
    pad = padding.PKCS1v15()
    algo = hashes.SHA256()
    for _ in range(min(per_round, 50)):
        key.sign(RAW_DATA, pad, algo)
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            key.sign(RAW_DATA, pad, algo)
        rates.append(per_round / (time.perf_counter() - start))
    return Rate.of(rates, per_round)


# -- 2-4. signatures per second -----------------------------------------------------------


SignOnce = Callable[[], Awaitable[bytes]]


async def loop_rate(
    sign_once: SignOnce, per_round: int, rounds: int, warmup: int = 3
) -> tuple[Rate, bytes]:
    """Rate of ``sign_once`` (awaited back to back), and its last output."""
    rates, last = await interleaved_rates({"": sign_once}, per_round, rounds, warmup)
    return rates[""], last[""]


async def interleaved_rates(
    contenders: dict[str, SignOnce], per_round: int, rounds: int, warmup: int = 3
) -> tuple[dict[str, Rate], dict[str, bytes]]:
    """Rates of several ``sign_once`` loops, their timed rounds taken in turn (A B C A B C …)
    so that a slow patch of the machine costs every contender alike; and their last outputs.
    """
    last = dict.fromkeys(contenders, b"")
    for name, sign_once in contenders.items():
        for _ in range(warmup):
            last[name] = await sign_once()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, sign_once in contenders.items():
            start = time.perf_counter()
            for _ in range(per_round):
                last[name] = await sign_once()
            rates[name].append(per_round / (time.perf_counter() - start))
    return {name: Rate.of(r, per_round) for name, r in rates.items()}, last


def pades_once(signer: PadesSigner, pdf: bytes) -> SignOnce:
    async def once() -> bytes:
        signed, _ = await signer.sign_bytes(pdf)
        return signed

    return once


def stock_pyhanko_once(pki: DevPki, pdf: bytes) -> SignOnce:
    """What a pyHanko user writes: ``SimpleSigner`` (which loads the key from DER for every
    signature) and ``PdfSigner.async_sign_pdf`` without ``bytes_reserved`` (so a dry run first
    to size the signature). Only the subfilter is set, to make PAdES like ours; this is
    ``signers.sign_pdf`` minus its per-call ``asyncio.run``."""
    ident = pki.signers["personal"]
    stock = signers.SimpleSigner(
        signing_cert=ident.asn1,
        signing_key=ident.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES
    )

    async def once() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = await signers.PdfSigner(meta, signer=stock).async_sign_pdf(writer)
        return bytes(out.getvalue())

    return once


async def verdict(data: bytes, pki: DevPki, *, skip_diff: bool = False) -> str:
    """pyHanko's opinion of the (last) signature of ``data``, trusting the dev root."""
    reader = PdfFileReader(io.BytesIO(data))
    return await _verdict_of(reader, pki, skip_diff=skip_diff)


async def _verdict_of(reader: PdfFileReader, pki: DevPki, *, skip_diff: bool) -> str:
    sigs = reader.embedded_regular_signatures
    if not sigs:
        return "no signature"
    context = ValidationContext(trust_roots=[pki.root.asn1], revocation_mode="soft-fail")
    status = await async_validate_pdf_signature(sigs[-1], context, skip_diff=skip_diff)
    words = [
        "intact" if status.intact else "NOT INTACT",
        "valid" if status.valid else "NOT VALID",
        "trusted" if status.trusted else "untrusted",
        status.coverage.name.lower() if status.coverage else "coverage unknown",
    ]
    return ", ".join(words)


@dataclass(frozen=True, slots=True)
class TokenSetup:
    config: Pkcs11Config | None
    skipped: str = ""


def prepare_softhsm(pki: DevPki, workdir: Path) -> TokenSetup:
    """A SoftHSM2 token in ``workdir`` holding the ``personal`` key, its certificate and chain;
    ``SOFTHSM2_CONF`` is set before anything loads the module."""
    try:
        module = softhsm_module()
        home = SoftHsmHome(workdir / "softhsm")
        home.create_token(SOFTHSM_LABEL, pin=TOKEN_PIN, so_pin=TOKEN_SO_PIN)
        home.import_identity(
            SOFTHSM_LABEL,
            pin=TOKEN_PIN,
            label="personal",
            key_id=b"\x01",
            identity=pki.signers["personal"],
            chain=(pki.issuing, pki.root),
        )
    except SigningError as exc:
        return TokenSetup(None, skipped=f"SoftHSM2 unavailable: {exc}")
    os.environ["SOFTHSM2_CONF"] = str(home.conf)
    uri = pkcs11_uri(SOFTHSM_LABEL, "personal", module)
    return TokenSetup(parse_pkcs11_uri(uri))


@dataclass(frozen=True, slots=True)
class LoopResults:
    inmemory: Rate
    inmemory_verdict: str
    stock: Rate
    stock_verdict: str
    token_raw: Rate | None
    token: Rate | None
    token_verdict: str


async def signature_loops(
    pki: DevPki, pdf: bytes, token: TokenSetup, per_round: int, rounds: int
) -> LoopResults:
    """Rates 2, 3 and 4, their rounds interleaved; the token's raw rate first."""
    contenders: dict[str, SignOnce] = {
        "inmemory": pades_once(PadesSigner(pki.in_memory_key("personal"), PadesSpec()), pdf)
    }
    token_raw: Rate | None = None
    async with contextlib.AsyncExitStack() as stack:
        if token.config is not None:
            token_key = await stack.enter_async_context(
                open_pkcs11_key(token.config, lambda: TOKEN_PIN)
            )

            async def raw_once(k: KeySigner = token_key) -> bytes:
                return await k.sign_raw(RAW_DATA, "sha256")

            _progress(f"SoftHSM2 raw sign_raw: {rounds} x {per_round * 5}")
            token_raw, _ = await loop_rate(raw_once, per_round * 5, rounds)
            contenders["token"] = pades_once(PadesSigner(token_key, PadesSpec()), pdf)
        contenders["stock"] = stock_pyhanko_once(pki, pdf)
        _progress(f"PAdES B-B loops ({', '.join(contenders)}), interleaved: {rounds} x {per_round}")
        rates, last = await interleaved_rates(contenders, per_round, rounds)
    return LoopResults(
        inmemory=rates["inmemory"],
        inmemory_verdict=await verdict(last["inmemory"], pki),
        stock=rates["stock"],
        stock_verdict=await verdict(last["stock"], pki),
        token_raw=token_raw,
        token=rates.get("token"),
        token_verdict=(await verdict(last["token"], pki) if "token" in last else token.skipped),
    )


# -- 5. a big file ------------------------------------------------------------------------

IMAGE_WIDTH = 4096
IMAGE_TARGET_BYTES = 16 * MIB


def write_big_pdf(path: Path, size: int) -> int:
    """Write a valid PDF of about ``size`` bytes: pages each showing one uncompressed 8-bit
    grey image of random pixels (incompressible), streamed to disk 1 MiB at a time. Returns
    the file's size."""
    images = max(1, math.ceil(size / IMAGE_TARGET_BYTES))
    height = max(1, size // (images * IMAGE_WIDTH))
    length = IMAGE_WIDTH * height
    count = 2 + 3 * images  # catalog, page tree, then page + content + image per page
    offsets: dict[int, int] = {}
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q\n"
    with path.open("wb") as out:

        def obj(num: int, body: bytes) -> None:
            offsets[num] = out.tell()
            out.write(b"%d 0 obj\n%b\nendobj\n" % (num, body))

        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = b" ".join(b"%d 0 R" % (3 + 3 * i) for i in range(images))
        obj(2, b"<< /Type /Pages /Kids [%b] /Count %d >>" % (kids, images))
        for i in range(images):
            page, contents, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
            obj(
                page,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                % (image, contents),
            )
            obj(contents, b"<< /Length %d >>\nstream\n%b\nendstream" % (len(content), content))
            offsets[image] = out.tell()
            out.write(
                b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n"
                % (image, IMAGE_WIDTH, height, length)
            )
            remaining = length
            while remaining:
                chunk = min(remaining, MIB)
                out.write(os.urandom(chunk))
                remaining -= chunk
            out.write(b"\nendstream\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1))
        out.write(b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, count + 1)))
        file_id = os.urandom(16).hex().encode()
        out.write(
            b"trailer\n<< /Size %d /Root 1 0 R /ID [<%b> <%b>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (count + 1, file_id, file_id, xref)
        )
    return path.stat().st_size


def _proc_status_mib(name: str) -> float | None:
    """A ``Vm…`` line of /proc/self/status (Linux), in MiB."""
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so that the peak read afterwards is the
    signing's, not the imports' or the warm-up's."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def child_sign_big(src: Path, dst: Path, p12: Path, warmup_pdf: Path | None) -> int:
    """In the child process: sign ``src`` into ``dst``, print one JSON line of figures."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        key = load_pkcs12(p12, os.environ[P12_PASSWORD_ENV].encode())
    signer = PadesSigner(key, PadesSpec())
    if warmup_pdf is not None:
        # pyHanko's lazy imports and first-use caches: not part of the big file's cost.
        asyncio.run(signer.sign_file(warmup_pdf, warmup_pdf.with_suffix(".signed.pdf")))
    rss_before = _proc_status_mib("VmRSS")
    reset = _reset_peak_rss()
    start = time.perf_counter()
    asyncio.run(signer.sign_file(src, dst))
    seconds = time.perf_counter() - start
    peak = _proc_status_mib("VmHWM")
    if peak is None:  # not Linux: ru_maxrss is KiB on Linux, bytes on macOS
        scale = 1 / MIB if sys.platform == "darwin" else 1 / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    figures = {
        "seconds": seconds,
        "rss_before_mib": rss_before or 0.0,
        "peak_mib": peak,
        "peak_reset": reset,
    }
    print(json.dumps(figures))
    return 0


def pdfsig_verdict(path: Path) -> str:
    tool = shutil.which("pdfsig")
    if tool is None:
        return "pdfsig not installed"
    proc = subprocess.run(  # noqa: S603
        [tool, "-nocert", str(path)], capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        if "Signature Validation:" in line:
            return line.split(":", 1)[1].strip().rstrip(".")
    return f"no verdict (exit {proc.returncode}): {proc.stderr.strip()[:80]}"


async def pyhanko_file_verdict(path: Path, pki: DevPki) -> str:
    with path.open("rb") as handle:
        return await _verdict_of(PdfFileReader(handle), pki, skip_diff=True)


def big_file_benchmark(
    pki: DevPki, warmup_pdf: bytes, workdir: Path, size_mib: int
) -> BigFileResult:
    src = workdir / "big.pdf"
    dst = workdir / "big.signed.pdf"
    _progress(f"writing a {size_mib} MiB PDF")
    start = time.perf_counter()
    size = write_big_pdf(src, size_mib * MIB)
    generate_seconds = time.perf_counter() - start

    password = os.urandom(12).hex()
    p12 = workdir / "personal.p12"
    p12.write_bytes(pki.pkcs12("personal", password.encode()))
    small = workdir / "warmup.pdf"
    small.write_bytes(warmup_pdf)
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, P12_PASSWORD_ENV: password, "PYTHONPATH": pythonpath}
    command = [
        sys.executable, "-m", "benchmarks.signing", "--sign-big-child",
        str(src), str(dst), "--p12", str(p12), "--warmup-pdf", str(small),
    ]  # fmt: skip
    _progress("signing it in a child process")
    proc = subprocess.run(  # noqa: S603
        command, cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the signing child failed ({proc.returncode}):\n{proc.stderr}")
    # The child reads its own VmHWM: getrusage(RUSAGE_CHILDREN).ru_maxrss would count this
    # process's pages too (Linux charges the parent's RSS at spawn, vfork + exec, to the child).
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])

    _progress("verifying the signed file")
    start = time.perf_counter()
    by_pdfsig = pdfsig_verdict(dst)
    by_pyhanko = asyncio.run(pyhanko_file_verdict(dst, pki))
    verify_seconds = time.perf_counter() - start
    return BigFileResult(
        size=size,
        generate_seconds=generate_seconds,
        sign_seconds=figures["seconds"],
        rss_before_mib=figures["rss_before_mib"],
        peak_rss_mib=figures["peak_mib"],
        peak_reset=bool(figures["peak_reset"]),
        output_size=dst.stat().st_size,
        pdfsig=by_pdfsig,
        pyhanko=by_pyhanko,
        verify_seconds=verify_seconds,
    )


# -- report -------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
        f"pyHanko {importlib.metadata.version('pyhanko')}, "
        f"cryptography {importlib.metadata.version('cryptography')} "
        f"({openssl_backend.openssl_version_text()})"
    )


def rows_for(
    raw: Rate, loops: LoopResults, big: BigFileResult | None, big_skipped: str
) -> list[Row]:
    rows = [
        Row(
            "1 raw RSA-2048 sign (cryptography)",
            raw.text(),
            f"{raw.ms:.3f} ms; {raw.spread()}",
        )
    ]
    share = loops.inmemory.median / raw.median
    rows.append(
        Row(
            "2 PAdES B-B, in-memory key",
            loops.inmemory.text(),
            f"{share:.2%} of raw; {loops.inmemory.ms:.1f} ms; {loops.inmemory.spread()}",
            f">= {MIN_INMEMORY_SHARE_OF_RAW:.0%} of raw",
            _status(share >= MIN_INMEMORY_SHARE_OF_RAW),
        )
    )
    if loops.token is not None and loops.token_raw is not None:
        rows.append(
            Row(
                "3a SoftHSM2 raw sign (Pkcs11Key)",
                loops.token_raw.text(),
                f"{loops.token_raw.ms:.3f} ms; {loops.token_raw.median / raw.median:.0%} of raw",
            )
        )
        vs_mem = loops.token.median / loops.inmemory.median
        rows.append(
            Row(
                "3 PAdES B-B, SoftHSM2 key",
                loops.token.text(),
                f"{loops.token.median / raw.median:.2%} of raw, {vs_mem:.0%} of in-memory; "
                f"{loops.token.ms:.1f} ms; {loops.token.spread()}",
                f">= {1 - MAX_TOKEN_SLOWDOWN:.0%} of in-memory",
                _status(vs_mem >= 1 - MAX_TOKEN_SLOWDOWN),
            )
        )
    else:
        rows.append(Row("3 PAdES B-B, SoftHSM2 key", "skipped", loops.token_verdict))
    rows.append(
        Row(
            "4 stock pyHanko (dry run)",
            loops.stock.text(),
            f"{loops.stock.ms:.1f} ms; ours is {loops.inmemory.median / loops.stock.median:.2f}x; "
            f"{loops.stock.spread()}",
        )
    )
    if big is None:
        rows.append(Row("5 big file", "skipped", big_skipped))
        return rows
    size_mib = big.size / MIB
    limit = size_mib + MEMORY_HEADROOM_MIB
    rows.extend(
        [
            Row(
                "5 big file: sign_file time",
                f"{big.sign_seconds:.2f} s",
                f"{size_mib:,.1f} MiB -> {big.output_size / MIB:,.1f} MiB; "
                f"{size_mib / big.sign_seconds:,.0f} MiB/s "
                f"(file written in {big.generate_seconds:.1f} s)",
            ),
            Row(
                "5 big file: peak RSS (child)",
                f"{big.peak_rss_mib:,.1f} MiB",
                f"VmHWM {'since warm-up' if big.peak_reset else 'of the whole child'}; "
                f"{big.rss_before_mib:,.1f} MiB before signing, "
                f"+{big.peak_rss_mib - big.rss_before_mib:,.1f} MiB for the file",
                f"< {limit:,.0f} MiB (size + {MEMORY_HEADROOM_MIB})",
                _status(big.peak_rss_mib < limit),
            ),
            Row(
                "5 big file: verification",
                "Valid" if _valid(big) else "INVALID",
                f"pdfsig -nocert: {big.pdfsig}; pyHanko: {big.pyhanko} "
                f"({big.verify_seconds:.1f} s)",
                "valid",
                _status(_valid(big)),
            ),
        ]
    )
    return rows


def _valid(big: BigFileResult) -> bool:
    pdfsig_ok = big.pdfsig == "Signature is Valid" or big.pdfsig == "pdfsig not installed"
    return pdfsig_ok and big.pyhanko.startswith("intact, valid")


def print_table(rows: Sequence[Row]) -> None:
    headers = Row("measurement", "value", "detail", "target", "status")
    widths = [
        max(len(getattr(r, name)) for r in (headers, *rows))
        for name in ("label", "value", "target", "status")
    ]
    for r in (headers, *rows):
        print(
            f"{r.label:<{widths[0]}}  {r.value:>{widths[1]}}  {r.target:<{widths[2]}}  "
            f"{r.status:<{widths[3]}}  {r.detail}".rstrip()
        )


def run(args: argparse.Namespace) -> int:
    per_round: int = args.iterations
    rounds: int = args.rounds
    big_mib: int = args.big_mb
    print(f"lienthong signing benchmark: {machine()}")
    mode = "quick" if args.quick else "full"
    print(
        f"mode {mode}: {rounds} round(s) x {per_round} signatures per PDF loop, "
        f"big file {big_mib} MiB"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        pki = DevPki.generate(DEV_BASE_URL)
        pdf = make_sample_cong_van()
        signing_key = pki.signers["personal"].key
        assert isinstance(signing_key, rsa.RSAPrivateKey)
        print(f"document: make_sample_cong_van(), 1 page, {len(pdf):,} bytes")
        with tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp:
            workdir = Path(tmp)
            raw_per_round = max(500, 10 * per_round)
            _progress(f"raw RSA-2048: {rounds} x {raw_per_round}")
            raw = raw_rsa_rate(signing_key, raw_per_round, rounds)
            _progress("creating the SoftHSM2 token")
            token = prepare_softhsm(pki, workdir)
            loops = asyncio.run(signature_loops(pki, pdf, token, per_round, rounds))
            big: BigFileResult | None = None
            big_skipped = ""
            if big_mib > 0:
                big = big_file_benchmark(pki, pdf, workdir, big_mib)
            else:
                big_skipped = "--big-mb 0"
    print(
        f"verdicts of the last signed copy: in-memory: {loops.inmemory_verdict}; "
        f"SoftHSM2: {loops.token_verdict}; stock: {loops.stock_verdict}"
    )
    print()
    rows = rows_for(raw, loops, big, big_skipped)
    print_table(rows)
    missed = [r.label for r in rows if r.status == "MISSED"]
    print()
    if missed:
        print(f"MISSED {len(missed)} target(s): {'; '.join(missed)}")
    else:
        print("all targets met")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.signing", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: fewer iterations, 20 MiB file"
    )
    parser.add_argument("--iterations", type=int, help="signatures per timed round (100; quick 10)")
    parser.add_argument("--rounds", type=int, help="timed rounds, taken in turn (5; quick 3)")
    parser.add_argument(
        "--big-mb", type=int, help="size of the big PDF in MiB, 0 to skip (200; quick 20)"
    )
    parser.add_argument("--sign-big-child", nargs=2, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    parser.add_argument("--p12", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warmup-pdf", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.iterations is None:
        args.iterations = 10 if args.quick else 100
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.big_mb is None:
        args.big_mb = 20 if args.quick else 200
    if args.iterations < 1 or args.rounds < 1 or args.big_mb < 0:
        parser.error("--iterations and --rounds must be positive, --big-mb not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sign_big_child:
        src, dst = (Path(p) for p in args.sign_big_child)
        return child_sign_big(src, dst, args.p12, args.warmup_pdf)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
