"""PAdES signatures: every profile and level, keys in memory and on SoftHSM2, judged by
pyHanko (with modification analysis) and by poppler's pdfsig."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import (
    Anchor,
    AppearanceSpec,
    ExistingField,
    Level,
    PadesSigner,
    PadesSpec,
    PageBox,
    Profile,
    add_text_fields,
    fill_text_fields,
    open_pkcs11_key,
    parse_pkcs11_uri,
)
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.plugin import SoftHsmToken, pdfsig, pyhanko_timestamps, pyhanko_verdicts


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _spec(profile: Profile, image: bytes | None = None, **kw: object) -> PadesSpec:
    appearance = AppearanceSpec(profile=profile, image_png=image, **kw)  # type: ignore[arg-type]
    return PadesSpec(appearance=appearance)


async def test_plain_b_b_in_memory(
    pki: DevPki, sample_pdf: bytes, nssdb: Path, tmp_path: Path
) -> None:
    out, result = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
        sample_pdf
    )
    assert result.field_name == "plain-1"
    [verdict] = await pyhanko_verdicts(out, pki)
    assert (verdict.intact, verdict.valid, verdict.trusted) == (True, True, True)
    assert verdict.modification == "NONE"
    assert verdict.coverage == "ENTIRE_FILE"
    [second] = pdfsig(_write(tmp_path, "plain.pdf", out), nssdb)
    assert second.valid and second.trusted, second.raw


@pytest.mark.hsm
@pytest.mark.parametrize(
    ("key_name", "pss"),
    [("personal", False), ("personal-pss", True), ("personal-ec", False)],
    ids=["rsa2048-pkcs1", "rsa3072-pss", "ec-p256"],
)
async def test_pkcs11_keys_sign_valid_pdfs(
    token: SoftHsmToken,
    pki: DevPki,
    sample_pdf: bytes,
    nssdb: Path,
    tmp_path: Path,
    key_name: str,
    pss: bool,
) -> None:
    config = replace(parse_pkcs11_uri(token.uri(key_name)), pss=pss)
    async with open_pkcs11_key(config, lambda: token.pin) as key:
        assert key.certificate.dump() == pki.signers[key_name].asn1.dump()
        assert len(key.chain) == 2  # issuing CA and root, found on the token
        out, _ = await PadesSigner(key, PadesSpec()).sign_bytes(sample_pdf)
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.intact and verdict.valid and verdict.trusted
    reader = PdfFileReader(io.BytesIO(out))
    algo = reader.embedded_signatures[0].signer_info["signature_algorithm"]["algorithm"].native
    assert algo == {
        "personal": "sha256_rsa",
        "personal-pss": "rsassa_pss",
        "personal-ec": "sha256_ecdsa",
    }[key_name] or (key_name == "personal" and algo == "rsassa_pkcs1v15")
    [opinion] = pdfsig(_write(tmp_path, f"{key_name}.pdf", out), nssdb)
    assert opinion.valid and opinion.trusted, opinion.raw


@pytest.mark.parametrize("level", list(Level), ids=[lv.value for lv in Level])
async def test_levels(
    level: Level,
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    nssdb: Path,
    tmp_path: Path,
) -> None:
    spec = PadesSpec(level=level, tsa_urls=(dev_services.tsa_url,))
    out, result = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    assert result.level is level
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.intact and verdict.valid and verdict.trusted
    assert verdict.timestamped is level.needs_timestamp
    reader = PdfFileReader(io.BytesIO(out))
    dss = reader.root.get("/DSS")
    assert (dss is not None) is level.needs_validation_data
    if dss is not None:
        dss = dss.get_object()
        assert len(dss["/Certs"]) >= 2
        assert "/OCSPs" in dss or "/CRLs" in dss
    timestamps = await pyhanko_timestamps(out, pki)
    assert timestamps == ([True] if level is Level.B_LTA else [])
    # pdfsig judges the signature (not the document timestamp, which it cannot)
    opinions = pdfsig(_write(tmp_path, f"{level}.pdf", out), nssdb)
    assert opinions[0].valid and opinions[0].trusted, opinions[0].raw


async def test_personal_profile_places_image_between_position_and_name(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes, nssdb: Path, tmp_path: Path
) -> None:
    from signing.anchor import find_text

    spec = _spec(
        Profile.PERSONAL,
        signature_png,
        placement=Anchor(text="Nguyễn Thị Hương Giang", above="PHÓ GIÁM ĐỐC"),
    )
    out, _result = await PadesSigner(pki.in_memory_key("personal"), spec).sign_bytes(sample_pdf)
    reader = PdfFileReader(io.BytesIO(out))
    sig = reader.embedded_signatures[0]
    x0, y0, x1, y1 = (float(v) for v in sig.sig_field["/Rect"])
    [name] = find_text(sample_pdf, "Nguyễn Thị Hương Giang")
    [position] = find_text(sample_pdf, "PHÓ GIÁM ĐỐC")
    assert name.y1 <= y0 + 1 and y1 <= position.y0 + 1, "the image sits in box 7c"
    assert abs((x0 + x1) / 2 - (name.x0 + name.x1) / 2) < 1, "centred on the signer's name"
    assert abs((x1 - x0) - 40 * 72 / 25.4) < 0.5
    ap = sig.sig_field["/AP"]["/N"].get_object()
    images = [x.get_object() for x in ap["/Resources"]["/XObject"].values()]
    assert images, "the appearance draws the signature image"
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.valid and verdict.trusted and verdict.modification == "NONE"
    [opinion] = pdfsig(_write(tmp_path, "personal.pdf", out), nssdb)
    assert opinion.valid and opinion.trusted


def _with_page_refs(data: bytes) -> bytes:
    """The trap: give every text-field widget the usual /P page reference."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = writer.find_page_for_modification(0)[0]
    for ref in writer.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        if widget.get("/FT") == "/Tx":
            widget[generic.NameObject("/P")] = page_ref
            writer.update_container(widget)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.hsm
async def test_decree30_sequence_personal_number_agency(
    token: SoftHsmToken,
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
    signature_png: bytes,
    seal_png: bytes,
    nssdb: Path,
    tmp_path: Path,
) -> None:
    """Draft with fields → personal signature → number and date filled → agency seal (B-T):
    both signatures valid, the personal one seeing only form filling."""
    draft = add_text_fields(sample_pdf)
    personal_spec = _spec(
        Profile.PERSONAL,
        signature_png,
        placement=Anchor(text="Nguyễn Thị Hương Giang", above="PHÓ GIÁM ĐỐC"),
    )
    async with open_pkcs11_key(parse_pkcs11_uri(token.uri("personal")), lambda: token.pin) as key:
        personal, _ = await PadesSigner(key, personal_spec).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "125", "ngay": "05", "thang": "02"})
    [after_fill] = await pyhanko_verdicts(numbered, pki)
    assert after_fill.valid and after_fill.modification == "FORM_FILLING"
    agency_spec = replace(
        _spec(Profile.AGENCY, seal_png, seal_diameter_mm=36),
        level=Level.B_T,
        tsa_urls=(dev_services.tsa_url,),
    )
    async with open_pkcs11_key(parse_pkcs11_uri(token.uri("agency")), lambda: token.pin) as key:
        final, _result = await PadesSigner(key, agency_spec).sign_bytes(numbered)
    verdicts = await pyhanko_verdicts(final, pki)
    assert [v.field for v in verdicts] == ["personal-1", "agency-1"]
    assert all(v.intact and v.valid and v.trusted for v in verdicts)
    assert verdicts[0].modification == "FORM_FILLING"
    assert verdicts[1].modification == "NONE" and verdicts[1].timestamped
    # the seal: real size, covering the left third of the signature image
    reader = PdfFileReader(io.BytesIO(final))
    personal_rect, seal_rect = (
        [float(v) for v in s.sig_field["/Rect"]] for s in reader.embedded_signatures
    )
    assert abs((seal_rect[2] - seal_rect[0]) - 36 * 72 / 25.4) < 0.5
    third = personal_rect[0] + (personal_rect[2] - personal_rect[0]) / 3
    assert abs(seal_rect[2] - third) < 0.5 and seal_rect[0] < personal_rect[0]
    # the filled values are in the document
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=final, capture_output=True, check=True
    ).stdout.decode()
    assert "125" in text and "05" in text
    opinions = pdfsig(_write(tmp_path, "decree30.pdf", final), nssdb)
    assert [(o.valid, o.trusted) for o in opinions] == [(True, True), (True, True)], opinions


def test_number_fields_have_no_page_reference(sample_pdf: bytes) -> None:
    """The issue's measured trap: two text fields whose widgets carry /P made pyHanko call the
    fill OTHER. Our widgets never carry /P."""
    reader = PdfFileReader(io.BytesIO(add_text_fields(sample_pdf)))
    widgets = [f.get_object() for f in reader.root["/AcroForm"]["/Fields"]]
    assert [str(w["/T"]) for w in widgets] == ["so", "ngay", "thang"]
    assert all("/P" not in w for w in widgets)


@pytest.mark.parametrize("with_page_refs", [False, True], ids=["no-P", "with-P"])
async def test_fill_after_signature_is_form_filling(
    pki: DevPki, sample_pdf: bytes, with_page_refs: bool
) -> None:
    """Sign, then fill two fields: FORM_FILLING. With pyHanko 0.38 and our fill (new /V and
    /AP on the widget only) /P on the widgets does not change that either; we could not
    reproduce the OTHER classification the issue measured, and keep /P out regardless."""
    from signing.numbering import TextFieldSpec

    fields = (TextFieldSpec(name="so", anchor="Số:"), TextFieldSpec(name="ngay", anchor="ngày"))
    draft = add_text_fields(sample_pdf, fields)
    if with_page_refs:
        draft = _with_page_refs(draft)
    personal, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "7", "ngay": "28"})
    [verdict] = await pyhanko_verdicts(numbered, pki)
    assert verdict.valid and verdict.docmdp_ok
    assert verdict.modification == "FORM_FILLING"


@pytest.mark.parametrize("profile", [Profile.ATTACHMENT, Profile.COPY])
async def test_text_profiles_top_right_with_iso_time(
    profile: Profile, pki: DevPki, sample_pdf: bytes, nssdb: Path, tmp_path: Path
) -> None:
    lines = (
        ("125/STTTT-VP",)
        if profile is Profile.ATTACHMENT
        else ("SAO Y", "Văn phòng Ủy ban nhân dân tỉnh Thái Bình")
    )
    spec = _spec(profile, text_lines=lines)
    out, result = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(sample_pdf)
    reader = PdfFileReader(io.BytesIO(out))
    sig = reader.embedded_signatures[0]
    _x0, _y0, x1, y1 = (float(v) for v in sig.sig_field["/Rect"])
    assert x1 > 595.28 - 25 * 72 / 25.4 and y1 > 841.89 - 25 * 72 / 25.4, "top right of page 1"
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=out, capture_output=True, check=True
    ).stdout.decode()
    iso = result.signing_time.astimezone().isoformat()
    assert result.signing_time.utcoffset() is not None
    from signing import vietnam_time

    assert vietnam_time(result.signing_time).endswith("+07:00")
    assert vietnam_time(result.signing_time) in text, iso
    for line in lines:
        assert line in text
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.valid and verdict.trusted
    [opinion] = pdfsig(_write(tmp_path, f"{profile}.pdf", out), nssdb)
    assert opinion.valid and opinion.trusted


async def test_explicit_box_and_existing_field(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes
) -> None:
    box = PageBox(page=1, x_mm=120, y_mm=200, width_mm=50, height_mm=20)
    out, _ = await PadesSigner(
        pki.in_memory_key("personal"), _spec(Profile.PERSONAL, signature_png, placement=box)
    ).sign_bytes(sample_pdf)
    sig = PdfFileReader(io.BytesIO(out)).embedded_signatures[0]
    x0, _y0, x1, y1 = (float(v) for v in sig.sig_field["/Rect"])
    mm = 72 / 25.4
    assert (round(x0 / mm), round((841.89 - y1) / mm), round((x1 - x0) / mm)) == (120, 200, 50)

    # an empty field prepared beforehand
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    writer = IncrementalPdfFileWriter(io.BytesIO(sample_pdf))
    append_signature_field(writer, SigFieldSpec("ky-so-1", on_page=0, box=(300, 100, 450, 160)))
    buf = io.BytesIO()
    writer.write(buf)
    out, result = await PadesSigner(
        pki.in_memory_key("personal"),
        _spec(Profile.PERSONAL, signature_png, placement=ExistingField(name="ky-so-1")),
    ).sign_bytes(buf.getvalue())
    assert result.field_name == "ky-so-1"
    [verdict] = await pyhanko_verdicts(out, pki)
    assert verdict.valid and verdict.field == "ky-so-1"


async def test_second_signature_keeps_first_valid(
    pki: DevPki, sample_pdf: bytes, nssdb: Path, tmp_path: Path
) -> None:
    first, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(sample_pdf)
    second, _ = await PadesSigner(pki.in_memory_key("agency"), PadesSpec()).sign_bytes(first)
    assert second.startswith(first), "an incremental update"
    verdicts = await pyhanko_verdicts(second, pki)
    assert [v.valid for v in verdicts] == [True, True]
    assert verdicts[0].modification in ("NONE", "LTA_UPDATES", "FORM_FILLING")
    opinions = pdfsig(_write(tmp_path, "two.pdf", second), nssdb)
    assert [(o.valid, o.trusted) for o in opinions] == [(True, True), (True, True)]
