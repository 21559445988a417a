"""The demo: the main job on the embedded default, end to end.

A development PKI and two SoftHSM2 tokens (kept under the data directory and reused), a
sample công văn, and the Decree 30 sequence: empty number/date fields in the draft → personal
signature (blue image, box 7c) → number and date filled → agency signature (red seal over the
left third of the personal signature) with a timestamp from the local development TSA →
validation data of both signatures in the DSS (B-LT), so that the document verifies offline,
in the hard revocation mode, days later. Each run has its own folder (``runs/<time>``, the
newest also as ``latest``). Everything here is development-only and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from signing import (
    VIETNAM,
    Anchor,
    AppearanceSpec,
    DevelopmentModeWarning,
    Level,
    PadesSigner,
    PadesSpec,
    PinOptions,
    Profile,
    ServiceUnavailable,
    add_text_fields,
    add_validation_data,
    atomic_output,
    decree30_date_parts,
    fill_text_fields,
    open_key,
    pkcs11_uri,
)
from signing.dev import (
    DEV_ORG,
    DEV_PERSON,
    DevPki,
    SampleDocument,
    SoftHsmHome,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
    serve_dev_services,
    softhsm_module,
)
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes

Say = Callable[[str, str], None]
"""Tells the user what the demo is doing: the English line, then the Vietnamese one (the
caller picks one)."""

DEV_PIN = "123456"
DEV_SO_PIN = "12345678"
DEV_PORT = 8397
TOKENS = (("Personal", "signature", "personal"), ("Agency", "seal", "agency"))


FINAL_NAME = "cong-van.pdf"
"""The issued document, in each run's folder."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    """What a run left behind, and what the caller needs to try the tokens and the
    verification itself."""

    output: Path
    """The issued document (B-LT): ``<run_dir>/cong-van.pdf``."""
    run_dir: Path
    """This run's folder under ``<data_dir>/runs``; ``<data_dir>/latest`` points to it."""
    data_dir: Path
    report: DocumentReport
    """The offline verdict on ``output``."""
    softhsm_conf: Path
    module: str
    agency_key: str
    """PKCS#11 URI of the agency's key on its development token."""
    trust_root: Path
    """The development root certificate (PEM)."""
    pin: str
    """The development tokens' PIN."""


def _free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there now, else a free port the system picks."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _ensure_pki(directory: Path, say: Say) -> DevPki:
    if (directory / "pki.json").exists():
        return DevPki.load(directory)
    say(
        f"creating a development PKI in {directory}",
        f"đang tạo hệ thống chứng thư số thử nghiệm trong {directory}",
    )
    # the certificates name where their OCSP responder and CRLs are: the port the development
    # services will listen on in every run with this PKI
    pki = DevPki.generate(f"http://127.0.0.1:{_free_port(DEV_PORT)}")
    pki.save(directory)
    return pki


def _ensure_tokens(home: SoftHsmHome, pki: DevPki, say: Say) -> None:
    home.ensure()
    for label, obj, signer in TOKENS:
        if home.has_token(label):
            continue
        say(
            f"creating the SoftHSM2 token {label!r} (PIN {DEV_PIN}, development only)",
            f"đang tạo token SoftHSM2 {label!r} (PIN {DEV_PIN}, chỉ để thử nghiệm)",
        )
        home.create_token(label, pin=DEV_PIN, so_pin=DEV_SO_PIN)
        home.import_identity(
            label,
            pin=DEV_PIN,
            label=obj,
            key_id=b"\x01",
            identity=pki.signers[signer],
            chain=(pki.issuing, pki.root),
        )


async def _judge(pdf: bytes, name: str, pki: DevPki) -> DocumentReport:
    """The validation room's verdict, trusting the development root, offline and in the hard
    revocation mode: only what the document carries counts, as for a reader days later."""
    policy = ValidationPolicy(anchors=TrustAnchors({"development": (pki.root.asn1,)}), offline=True)
    return await validate_bytes(pdf, policy, name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Setup:
    home: SoftHsmHome
    pki: DevPki
    module: str
    signature_png: bytes
    seal_png: bytes
    runs_dir: Path


def _setup(data_dir: Path, say: Say) -> _Setup:
    """Everything that is created once and reused: PKI, tokens, images, output folder."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    home = SoftHsmHome(data_dir / "softhsm")
    home.ensure()
    os.environ["SOFTHSM2_CONF"] = str(home.conf)
    pki = _ensure_pki(data_dir / "pki", say)
    _ensure_tokens(home, pki, say)
    art = data_dir / "art"
    art.mkdir(exist_ok=True)
    signature_png = art / "signature.png"
    seal_png = art / "seal.png"
    if not signature_png.exists():
        signature_png.write_bytes(draw_signature_png(DEV_PERSON))
    if not seal_png.exists():
        seal_png.write_bytes(draw_seal_png(DEV_ORG.upper()))
    runs_dir = data_dir / "runs"
    runs_dir.mkdir(exist_ok=True)
    return _Setup(
        home=home,
        pki=pki,
        module=softhsm_module(),
        signature_png=signature_png.read_bytes(),
        seal_png=seal_png.read_bytes(),
        runs_dir=runs_dir,
    )


async def run_demo(data_dir: Path, say: Say) -> DemoResult:
    data_dir = await asyncio.to_thread(data_dir.resolve)
    setup = await asyncio.to_thread(_setup, data_dir, say)
    module, pki = setup.module, setup.pki
    started = datetime.now(VIETNAM)
    run_dir = await asyncio.to_thread(_new_run_dir, setup.runs_dir, started)
    say(f"this run's files go to {run_dir}", f"các tệp của lần chạy này nằm trong {run_dir}")

    async def save(name: str, data: bytes) -> Path:
        path = run_dir / name
        await asyncio.to_thread(_write, path, data)
        return path

    doc = SampleDocument()
    say(
        "writing a sample công văn (draft) with empty number and date fields",
        "đang tạo bản thảo công văn mẫu, để trống số và ngày",
    )
    draft_path = await save("1-draft.pdf", add_text_fields(make_sample_cong_van(doc)))
    draft = draft_path.read_bytes()

    # the development tokens' PIN, given directly: nothing depends on the caller's environment
    pins = PinOptions(prompt=lambda: DEV_PIN)
    personal_spec = PadesSpec(
        level=Level.B_B,
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=setup.signature_png,
            placement=Anchor(text=doc.signer_name, above=doc.position),
        ),
    )
    say(
        f"signing as {DEV_PERSON} (token Personal, personal profile)",
        f"đang ký với tư cách {DEV_PERSON} (token Personal, chữ ký cá nhân)",
    )
    async with open_key(pkcs11_uri("Personal", "signature", module), pins) as key:
        personal, _ = await PadesSigner(key, personal_spec).sign_bytes(draft)
    await save("2-personal.pdf", personal)

    # A number that changes from run to run, written as Decree 30 writes numbers: two digits
    # at least ("01"), no other leading zero.
    number = f"{started.hour * 60 + started.minute + 1:02d}"
    say(
        f"numbering: Số {number}/{doc.notation_suffix}, {started:%d/%m/%Y}",
        f"cấp số: Số {number}/{doc.notation_suffix}, ngày {started:%d/%m/%Y}",
    )
    numbered = fill_text_fields(personal, {"so": number, **decree30_date_parts(started.date())})
    await save("3-numbered.pdf", numbered)

    with contextlib.ExitStack() as stack:
        port = urlsplit(pki.base_url).port or DEV_PORT
        try:
            services = stack.enter_context(serve_dev_services(pki, port=port))
        except OSError as exc:
            # B-LT fetches revocation data from the address in the certificates: no other port
            raise ServiceUnavailable(
                f"the development OCSP/CRL server cannot listen on 127.0.0.1:{port}, where the "
                f"development PKI's certificates say it is ({exc.strerror}): stop what uses "
                "the port, or give the demo another data directory",
                f"máy chủ OCSP/CRL thử nghiệm không mở được cổng 127.0.0.1:{port} mà chứng thư "
                "của hệ thống chứng thư số thử nghiệm ghi: hãy dừng chương trình đang dùng cổng "
                "đó, hoặc dùng thư mục dữ liệu khác cho bản chạy thử",
            ) from exc
        agency_spec = PadesSpec(
            level=Level.B_T,
            tsa_urls=(services.tsa_url,),
            appearance=AppearanceSpec(
                profile=Profile.AGENCY, image_png=setup.seal_png, seal_diameter_mm=36
            ),
        )
        say(
            f"sealing as {DEV_ORG} (token Agency, agency profile, timestamp from "
            f"{services.tsa_url})",
            f"đang ký số của cơ quan {DEV_ORG} (token Agency, chữ ký cơ quan, dấu thời gian "
            f"từ {services.tsa_url})",
        )
        async with open_key(pkcs11_uri("Agency", "seal", module), pins) as key:
            sealed, _ = await PadesSigner(key, agency_spec).sign_bytes(numbered)
        await save("4-sealed.pdf", sealed)
        # B-LT: the certificates, CRLs and OCSP answers of both signatures go into the DSS
        # now, while the development responder runs, so the document verifies offline later
        say(
            "adding the validation data (certificates, CRLs, OCSP) of both signatures: B-LT",
            "đang thêm dữ liệu kiểm tra (chứng thư số, CRL, OCSP) của cả hai chữ ký: B-LT",
        )
        final = await add_validation_data(sealed, trust_roots=(pki.root.asn1,))
        output = await save(FINAL_NAME, final)
    await asyncio.to_thread(_point_latest, data_dir, run_dir)
    say(
        "validating the result offline (signatures, timestamp, revocation, Decree 30 Art. 5)",
        "đang kiểm tra kết quả ngoại tuyến (chữ ký, dấu thời gian, thu hồi, Điều 5 Nghị định 30)",
    )
    report = await _judge(final, str(output), pki)
    return DemoResult(
        output=output,
        run_dir=run_dir,
        data_dir=data_dir,
        report=report,
        softhsm_conf=setup.home.conf,
        module=module,
        agency_key=pkcs11_uri("Agency", "seal", module),
        trust_root=data_dir / "pki" / "root.cert.pem",
        pin=DEV_PIN,
    )


def _new_run_dir(runs: Path, started: datetime) -> Path:
    """``runs/YYYYMMDD-HHMMSS`` (with a suffix if two runs start in the same second)."""
    base = f"{started:%Y%m%d-%H%M%S}"
    for n in range(100):
        path = runs / (base if n == 0 else f"{base}-{n}")
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(runs / base)


def _write(path: Path, data: bytes) -> None:
    with atomic_output(path) as out:
        out.write(data)


def _point_latest(data_dir: Path, run_dir: Path) -> None:
    """``latest`` beside ``runs``: a symbolic link to the newest run, replaced atomically."""
    link = data_dir / "latest"
    tmp = data_dir / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.relative_to(data_dir))
    tmp.replace(link)


def run_demo_sync(data_dir: Path, say: Say) -> DemoResult:
    with warnings.catch_warnings():
        warnings.simplefilter("once", DevelopmentModeWarning)
        return asyncio.run(run_demo(data_dir, say))
