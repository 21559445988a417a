"""The demo: the main job on the embedded default, end to end.

A development PKI and two SoftHSM2 tokens (kept under the data directory and reused), a
sample công văn, and the Decree 30 sequence: empty number/date fields in the draft → personal
signature (blue image, box 7c) → number and date filled → agency signature (red seal over the
left third of the personal signature) with a timestamp from the local development TSA.
Everything here is development-only and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
    add_text_fields,
    decree30_date_parts,
    fill_text_fields,
    open_key,
)
from signing.dev.assets import (
    SampleDocument,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
)
from signing.dev.pki import DEV_ORG, DEV_PERSON, DevPki
from signing.dev.services import serve_dev_services
from signing.dev.token import SoftHsmHome, softhsm_module
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes

DEV_PIN = "123456"
DEV_SO_PIN = "12345678"
DEV_PORT = 8397
TOKENS = (("Personal", "signature", "personal"), ("Agency", "seal", "agency"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    output: Path
    data_dir: Path
    report: DocumentReport
    commands: tuple[str, ...]


def _key_uri(token: str, obj: str, module: str) -> str:
    return f"pkcs11:token={token};object={obj}?module-path={module}"


def _ensure_pki(directory: Path, say: Callable[[str], None]) -> DevPki:
    if (directory / "pki.json").exists():
        return DevPki.load(directory)
    say(f"creating a development PKI in {directory}")
    pki = DevPki.generate(f"http://127.0.0.1:{DEV_PORT}")
    pki.save(directory)
    return pki


def _ensure_tokens(home: SoftHsmHome, pki: DevPki, say: Callable[[str], None]) -> None:
    home.ensure()
    for label, obj, signer in TOKENS:
        if home.has_token(label):
            continue
        say(f"creating the SoftHSM2 token {label!r} (PIN {DEV_PIN}, development only)")
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
    """The validation room's verdict, trusting the development root, revocation checked
    online against the development responder."""
    policy = ValidationPolicy(anchors=TrustAnchors({"development": (pki.root.asn1,)}))
    return await validate_bytes(pdf, policy, name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Setup:
    home: SoftHsmHome
    pki: DevPki
    module: str
    signature_png: bytes
    seal_png: bytes
    out_dir: Path


def _setup(data_dir: Path, say: Callable[[str], None]) -> _Setup:
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
    out_dir = data_dir / "out"
    out_dir.mkdir(exist_ok=True)
    return _Setup(
        home=home,
        pki=pki,
        module=softhsm_module(),
        signature_png=signature_png.read_bytes(),
        seal_png=seal_png.read_bytes(),
        out_dir=out_dir,
    )


async def run_demo(data_dir: Path, say: Callable[[str], None]) -> DemoResult:
    data_dir = await asyncio.to_thread(data_dir.resolve)
    setup = await asyncio.to_thread(_setup, data_dir, say)
    out_dir, module, pki = setup.out_dir, setup.module, setup.pki

    async def save(name: str, data: bytes) -> Path:
        path = out_dir / name
        await asyncio.to_thread(path.write_bytes, data)
        return path

    doc = SampleDocument()
    say("writing a sample công văn (draft) with empty number and date fields")
    draft = add_text_fields(make_sample_cong_van(doc))
    await save("1-draft.pdf", draft)

    os.environ.setdefault("LIENTHONG_DEMO_PIN", DEV_PIN)
    pins = PinOptions(env="LIENTHONG_DEMO_PIN")
    personal_spec = PadesSpec(
        level=Level.B_B,
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=setup.signature_png,
            placement=Anchor(text=doc.signer_name, above=doc.position),
        ),
    )
    say(f"signing as {DEV_PERSON} (token Personal, personal profile)")
    async with open_key(_key_uri("Personal", "signature", module), pins) as key:
        personal, _ = await PadesSigner(key, personal_spec).sign_bytes(draft)
    await save("2-personal.pdf", personal)

    now = datetime.now(VIETNAM)
    number = now.strftime("%H%M")
    say(f"numbering: Số {number}/{doc.notation_suffix}, {now:%d/%m/%Y}")
    numbered = fill_text_fields(personal, {"so": number, **decree30_date_parts(now.date())})
    await save("3-numbered.pdf", numbered)

    with contextlib.ExitStack() as stack:
        try:
            services = stack.enter_context(serve_dev_services(pki, port=DEV_PORT))
        except OSError:  # the usual port is taken: any free one will do for the TSA
            services = stack.enter_context(serve_dev_services(pki))
        agency_spec = PadesSpec(
            level=Level.B_T,
            tsa_urls=(services.tsa_url,),
            appearance=AppearanceSpec(
                profile=Profile.AGENCY, image_png=setup.seal_png, seal_diameter_mm=36
            ),
        )
        say(
            f"sealing as {DEV_ORG} (token Agency, agency profile, timestamp from "
            f"{services.tsa_url})"
        )
        async with open_key(_key_uri("Agency", "seal", module), pins) as key:
            final, _ = await PadesSigner(key, agency_spec).sign_bytes(numbered)
        output = await save(f"cong-van-{datetime.now(VIETNAM):%Y%m%d-%H%M%S}.pdf", final)
        say("validating the result (signatures, timestamp, revocation, Decree 30 Art. 5)")
        report = await _judge(final, str(output), pki)
    commands = (
        f"export SOFTHSM2_CONF={setup.home.conf}",
        f"lienthong token list --module {module}",
        f"lienthong sign pdf IN.pdf -o OUT.pdf --key '{_key_uri('Agency', 'seal', module)}' "
        "--pin-env LIENTHONG_DEMO_PIN",
        f"lienthong verify {output} --trust {data_dir / 'pki' / 'root.cert.pem'} "
        "--revocation soft   (the development OCSP responder runs only during the demo)",
    )
    return DemoResult(output=output, data_dir=data_dir, report=report, commands=commands)


def run_demo_sync(data_dir: Path, say: Callable[[str], None]) -> DemoResult:
    with warnings.catch_warnings():
        warnings.simplefilter("once", DevelopmentModeWarning)
        return asyncio.run(run_demo(data_dir, say))
