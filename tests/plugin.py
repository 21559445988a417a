"""Shared test infrastructure, all real: a test PKI, its TSA/OCSP/CRL server on 127.0.0.1,
a SoftHSM2 token, an NSS database for poppler's ``pdfsig``, and sample documents.

Loaded with ``-p tests.plugin`` (see pyproject.toml). SoftHSM2 reads ``SOFTHSM2_CONF`` when
its module is first loaded, so the plugin points it at a session directory before any test
runs and creates the token before anything opens it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from signing import pkcs11_uri
from signing.dev.assets import draw_seal_png, draw_signature_png, make_sample_cong_van
from signing.dev.pki import DEFAULT_SIGNERS, DEV_ORG, DEV_PERSON, DevPki, SignerSpec
from signing.dev.services import DevServices, serve_dev_services
from signing.dev.token import SoftHsmHome, softhsm_module
from signing.keys import DevelopmentModeWarning

TOKEN_LABEL = "Lienthong Test"
TOKEN_PIN = "246810"
TOKEN_SO_PIN = "13579111"

# Every signer the tests use. Distinct certificates per role: pdfsig reports a second
# signature by the same certificate as an unknown certificate issue.
TEST_SIGNERS: tuple[SignerSpec, ...] = (
    *DEFAULT_SIGNERS,
    SignerSpec(name="personal-pss", kind="individual", common_name="Trần Văn Bình", key="rsa3072"),
    SignerSpec(name="personal-ec", kind="individual", common_name="Lê Hoàng Minh", key="ec256"),
    SignerSpec(
        name="agency-ec",
        kind="organisation",
        common_name="Văn phòng Ủy ban nhân dân tỉnh Thái Bình",
        key="ec256",
        organisation="Văn phòng Ủy ban nhân dân tỉnh Thái Bình",
    ),
    SignerSpec(
        name="expired",
        kind="individual",
        common_name="Phạm Quốc Hùng",
        valid_from=timedelta(days=-400),
        valid_for=timedelta(days=30),
    ),
    SignerSpec(
        name="not-yet-valid",
        kind="individual",
        common_name="Đỗ Thị Lan",
        valid_from=timedelta(days=30),
    ),
    SignerSpec(
        name="encipher-only",
        kind="individual",
        common_name="Vũ Minh Tuấn",
        key_usage="encipherment",
    ),
)
TOKEN_KEYS = ("personal", "agency", "personal-pss", "personal-ec", "agency-ec", "expired")


@dataclass(frozen=True, slots=True)
class SoftHsmToken:
    module: str
    label: str
    pin: str

    def uri(self, key: str) -> str:
        return pkcs11_uri(self.label, key, self.module)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("LIENTHONG_REQUIRE_CORPUS") == "1" and not corpus_available():
        raise pytest.UsageError(f"CI: the shared corpus is mandatory: {corpus_missing_reason()}")
    # the tests use the development parts on purpose; tests of the warnings use pytest.warns
    config.addinivalue_line("filterwarnings", "ignore::validation.DevelopmentModeWarning")
    session_dir = Path(tempfile.mkdtemp(prefix="lienthong-tests-"))
    config.stash[_SESSION_DIR] = session_dir
    home = SoftHsmHome(session_dir / "softhsm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        home.ensure()
    os.environ["SOFTHSM2_CONF"] = str(home.conf)


def pytest_unconfigure(config: pytest.Config) -> None:
    session_dir = config.stash.get(_SESSION_DIR, None)
    if session_dir is not None:
        shutil.rmtree(session_dir, ignore_errors=True)


@contextlib.contextmanager
def serving(server: HTTPServer) -> Iterator[HTTPServer]:
    """``server`` answering from a thread of its own until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


_SESSION_DIR = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def session_dir(pytestconfig: pytest.Config) -> Path:
    return pytestconfig.stash[_SESSION_DIR]


@pytest.fixture(scope="session")
def dev_services() -> Iterator[DevServices]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        with serve_dev_services() as services:
            yield services


@pytest.fixture(scope="session")
def pki(dev_services: DevServices) -> DevPki:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        pki = DevPki.generate(dev_services.url, signers=TEST_SIGNERS)
    dev_services.attach(pki)
    return pki


@pytest.fixture(scope="session")
def pki_files(pki: DevPki, session_dir: Path) -> Path:
    """root.pem, issuing.pem, chain.pem (issuing + root) on disk."""
    directory = session_dir / "pki"
    directory.mkdir(exist_ok=True)
    (directory / "root.pem").write_bytes(pki.root.cert_pem())
    (directory / "issuing.pem").write_bytes(pki.issuing.cert_pem())
    (directory / "chain.pem").write_bytes(pki.chain_pem())
    return directory


@pytest.fixture(scope="session")
def token(pki: DevPki, session_dir: Path) -> SoftHsmToken:
    home = SoftHsmHome(session_dir / "softhsm")
    home.create_token(TOKEN_LABEL, pin=TOKEN_PIN, so_pin=TOKEN_SO_PIN)
    for n, name in enumerate(TOKEN_KEYS, start=1):
        home.import_identity(
            TOKEN_LABEL,
            pin=TOKEN_PIN,
            label=name,
            key_id=bytes([n]),
            identity=pki.signers[name],
            chain=(pki.issuing, pki.root) if n == 1 else (),
        )
    return SoftHsmToken(module=softhsm_module(), label=TOKEN_LABEL, pin=TOKEN_PIN)


@pytest.fixture(scope="session")
def nssdb(pki_files: Path, session_dir: Path) -> Path:
    """An NSS database trusting the test root (CT,C,C), for pdfsig."""
    db = session_dir / "nssdb"
    db.mkdir(exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "lienthong-test-root",
            "-t",
            "CT,C,C",
            "-a",
            "-i",
            str(pki_files / "root.pem"),
        ],
        check=True,
    )
    return db


@dataclass(frozen=True, slots=True)
class PdfsigSignature:
    field: str
    signer: str
    valid: bool
    trusted: bool
    raw: str


def pdfsig(path: Path, nssdb: Path) -> list[PdfsigSignature]:
    """poppler's opinion of every signature in ``path`` (its OCSP checks reach the test
    responder, which must be running)."""
    proc = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nssdb}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    blocks = re.split(r"^Signature #\d+:$", proc.stdout, flags=re.MULTILINE)[1:]
    result = []
    for block in blocks:

        def value(name: str, text: str = block) -> str:
            m = re.search(rf"- {name}: (.*)$", text, flags=re.MULTILINE)
            return m.group(1).strip() if m else ""

        result.append(
            PdfsigSignature(
                field=value("Signature Field Name"),
                signer=value("Signer Certificate Common Name"),
                valid=value("Signature Validation") == "Signature is Valid.",
                trusted=value("Certificate Validation") == "Certificate is Trusted.",
                raw=block,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class PyhankoVerdict:
    field: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    modification: str
    docmdp_ok: bool
    timestamped: bool
    coverage: str


async def pyhanko_verdicts(data: bytes, pki: DevPki) -> list[PyhankoVerdict]:
    """pyHanko's judgement of every regular signature, with modification analysis, trusting
    the test root (revocation checked online against the test responder, soft-fail)."""
    reader = PdfFileReader(io.BytesIO(data))
    verdicts = []
    for sig in reader.embedded_regular_signatures:
        async with AIOHttpFetcherBackend() as fetchers:
            context = ValidationContext(
                trust_roots=[pki.root.asn1],
                allow_fetching=True,
                revocation_mode="soft-fail",
                fetchers=fetchers,
            )
            status = await async_validate_pdf_signature(sig, context)
        verdicts.append(
            PyhankoVerdict(
                field=str(sig.field_name),
                signer=str(sig.signer_cert.subject.native["common_name"]),
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                modification=status.modification_level.name,
                docmdp_ok=bool(status.docmdp_ok),
                timestamped=status.timestamp_validity is not None,
                coverage=status.coverage.name,
            )
        )
    return verdicts


async def pyhanko_timestamps(data: bytes, pki: DevPki) -> list[bool]:
    """For each document timestamp: intact, valid and trusted?"""
    reader = PdfFileReader(io.BytesIO(data))
    result = []
    for sig in reader.embedded_timestamp_signatures:
        async with AIOHttpFetcherBackend() as fetchers:
            context = ValidationContext(
                trust_roots=[pki.root.asn1],
                allow_fetching=True,
                revocation_mode="soft-fail",
                fetchers=fetchers,
            )
            status = await async_validate_pdf_timestamp(sig, validation_context=context)
        result.append(bool(status.intact and status.valid and status.trusted))
    return result


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    """A one-page sample công văn (Vietnamese, A4) without fields or signatures."""
    return make_sample_cong_van()


@pytest.fixture(scope="session")
def signature_png() -> bytes:
    return draw_signature_png(DEV_PERSON)


@pytest.fixture(scope="session")
def seal_png() -> bytes:
    return draw_seal_png(DEV_ORG.upper())


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    """The shared third-party corpus, used in place (never copied into the repository):
    ``../shared/corpus`` beside the project, or ``$LIENTHONG_CORPUS``."""
    return Path(os.environ.get("LIENTHONG_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))


def corpus_missing_reason() -> str:
    return (
        f"needs the shared third-party corpus, not found at {corpus_dir()} (it sits beside the "
        "project as ../shared/corpus in CI; set LIENTHONG_CORPUS to use one elsewhere)"
    )


def corpus_available() -> bool:
    return (corpus_dir() / "manifest.csv").is_file()


def require_corpus() -> Path:
    """The corpus folder, or skip the calling test with one line saying what is missing (CI,
    with ``LIENTHONG_REQUIRE_CORPUS=1``, stops the run before: there it is mandatory)."""
    if not corpus_available():
        pytest.skip(corpus_missing_reason())
    return corpus_dir()


def corpus_rows(prefix: str = "") -> list[dict[str, str]]:
    """The manifest rows whose path starts with ``prefix`` (empty without the corpus)."""
    if not corpus_available():
        return []
    with (corpus_dir() / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["path"].startswith(prefix)]
    for n, row in enumerate(rows, start=2):
        row.setdefault("key", f"{row['path']}@{row['validation_time']}#{n}")
    return rows


def corpus_params(rows: list[dict[str, str]], ids: Any) -> list[Any]:
    """``rows`` as pytest parameters; without the corpus, one skipped parameter that says
    what is missing (instead of pytest's "empty parameter set")."""
    if not rows and not corpus_available():
        return [
            pytest.param(
                None, id="no-corpus", marks=pytest.mark.skip(reason=corpus_missing_reason())
            )
        ]
    return [pytest.param(row, id=ids(row)) for row in rows]


@pytest.fixture(scope="session")
def corpus() -> Path:
    return require_corpus()


@dataclass(frozen=True, slots=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> CliResult:
    """Run the real ``lienthong`` program in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LIENTHONG_LANG": "en", **(env or {})},
        input=input_text,
        cwd=cwd or PROJECT_ROOT,
        check=False,
        timeout=300,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True, slots=True)
class Decree30Documents:
    """One công văn through the Decree 30 steps (in-memory keys, no timestamps)."""

    draft: bytes
    personal: bytes
    numbered: bytes
    final: bytes


@pytest.fixture(scope="session")
async def decree30(pki: DevPki, signature_png: bytes, seal_png: bytes) -> Decree30Documents:
    from signing import (
        Anchor,
        AppearanceSpec,
        PadesSigner,
        PadesSpec,
        Profile,
        add_text_fields,
        fill_text_fields,
    )
    from signing.dev.assets import SampleDocument

    doc = SampleDocument()
    draft = add_text_fields(make_sample_cong_van(doc))
    personal_spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=signature_png,
            placement=Anchor(text=doc.signer_name, above=doc.position),
        )
    )
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), personal_spec).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "125", "ngay": "05", "thang": "02"})
    agency_spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), agency_spec).sign_bytes(numbered)
    return Decree30Documents(draft=draft, personal=personal, numbered=numbered, final=final)
