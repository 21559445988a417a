"""Forgeries found by an adversarial review of the PDF defences, each built here and shown to
a reader (poppler or qpdf), and caught; plus the false rejection it found."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESStatus

from signing import (
    AppearanceSpec,
    PadesSigner,
    PadesSpec,
    PageBox,
    Profile,
    fill_text_fields,
)
from signing.dev.assets import draw_seal_png
from signing.dev.pki import DevPki, SignerSpec
from tests.plugin import Decree30Documents
from tests.validation.pdfforge import (
    FONT,
    Update,
    append,
    incremental,
    last_revision,
    page_refs,
    read_object,
    rendered_pixels,
    rendered_text,
    simple_page_pdf,
    stream_object,
    write_pdf,
)
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes

FORGED = "FORGED PARAGRAPH 500.000.000"
MM = 72 / 25.4


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def _failed(report: DocumentReport, code: str, ids: tuple[str, ...]) -> None:
    for sig in report.signatures:
        if sig.id not in ids:
            continue
        assert (sig.indication, sig.sub_indication) == (
            AdESStatus.FAILED,
            AdESFailure.FORMAT_FAILURE,
        ), (sig.id, [f.code for f in sig.findings])
        assert any(f.code == code for f in sig.findings), (sig.id, [f.code for f in sig.findings])
    assert not report.legal.valid


def _overlay_parts(data: bytes) -> tuple[int, bytes, bytes, int, int, int, bytes]:
    """Numbers and bodies for re-issuing the page with a forged overlay: (page, its body,
    forged body, new content, new resources, new font, forged resources)."""
    [page] = page_refs(data)
    body = read_object(data, page)
    resources_ref = re.search(rb"/Resources (\d+) 0 R", body)
    assert resources_ref is not None
    resources_no = int(resources_ref.group(1))
    resources = read_object(data, resources_no)
    size = last_revision(data).size
    content_no, new_resources_no, font_no = size + 1, size + 2, size + 3
    forged_resources = resources.replace(b"/Font <<", b"/Font << /FForge %d 0 R" % font_no, 1)
    assert forged_resources != resources
    contents = re.search(rb"/Contents (\d+) 0 R", body)
    assert contents is not None
    forged = body.replace(
        contents.group(0), b"/Contents [%s %d 0 R]" % (contents.group(0)[10:], content_no)
    ).replace(resources_ref.group(0), b"/Resources %d 0 R" % new_resources_no)
    return page, body, forged, content_no, new_resources_no, font_no, forged_resources


def _overlay_content() -> bytes:
    return b"q 1 g 80 520 480 62 re f Q BT /FForge 13 Tf 85 566 Td (" + FORGED.encode() + b") Tj ET"


def _object_stream_forgery(data: bytes, kind: str) -> bytes:
    """Re-issue the page inside an object stream after the seal, so that pyHanko reads the
    original page (an identical rewrite its change analysis ignores) and another reader the
    forged one: ``offset`` (first offset non-zero, /First padded: poppler reads from /First),
    ``duplicate`` (the number twice in the header: qpdf takes the last), ``lone-gt`` (the
    dictionary closed by a single ``>``, which pyHanko takes for the end)."""
    page, body, forged, content_no, resources_no, font_no, resources = _overlay_parts(data)
    holder = last_revision(data).size
    if kind == "offset":
        skip = len(forged) + 1
        header = (b"%d %d" % (page, skip)).ljust(400)
        payload = header + forged + b" " * (skip - len(forged)) + body
        first, count = 400, 1
    elif kind == "duplicate":
        skip = len(body) + 1
        header = b"%d 0 %d %d " % (page, page, skip)
        payload = header + body + b" " + forged
        first, count = len(header), 2
    else:
        extra = forged[forged.index(b"/Contents") :].rstrip()
        assert body.rstrip().endswith(b">>") and extra.endswith(b">>")
        lone = body.rstrip()[:-2] + b"> " + extra
        header = b"%d 0 " % page
        payload = header + lone
        first, count = len(header), 1
    objstm = stream_object(payload, b" /Type /ObjStm /N %d /First %d" % (count, first))
    update = Update(compressed={page: (holder, 0)})
    update.add(holder, objstm)
    update.add(content_no, stream_object(_overlay_content()))
    update.add(resources_no, resources)
    update.add(font_no, FONT)
    return append(data, update)


def _qpdf_object(data: bytes, number: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.pdf"
        path.write_bytes(data)
        proc = subprocess.run(
            ["qpdf", f"--show-object={number}", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    return proc.stdout


async def test_object_stream_offset_trick(pki: DevPki, decree30: Decree30Documents) -> None:
    forged = _object_stream_forgery(decree30.final, "offset")
    assert "FORGED" in rendered_text(forged)  # poppler shows the forged page
    _failed(
        await validate_bytes(forged, _policy(pki)),
        "pdf.ambiguous_structure",
        ("personal-1", "agency-1"),
    )


async def test_object_stream_duplicate_number(pki: DevPki, decree30: Decree30Documents) -> None:
    forged = _object_stream_forgery(decree30.final, "duplicate")
    [page] = page_refs(decree30.final)
    assert "/Contents [" in _qpdf_object(forged, page)  # qpdf takes the forged page
    _failed(
        await validate_bytes(forged, _policy(pki)),
        "pdf.ambiguous_structure",
        ("personal-1", "agency-1"),
    )


async def test_dictionary_closed_by_a_lone_angle_bracket(
    pki: DevPki, decree30: Decree30Documents
) -> None:
    forged = _object_stream_forgery(decree30.final, "lone-gt")
    [page] = page_refs(decree30.final)
    assert "/Contents [" in _qpdf_object(forged, page)  # qpdf reads on past the stray '>'
    _failed(
        await validate_bytes(forged, _policy(pki)),
        "pdf.ambiguous_structure",
        ("personal-1", "agency-1"),
    )


def _personal_rect(data: bytes) -> tuple[float, float, float, float]:
    reader = PdfFileReader(io.BytesIO(data))
    sig = next(s for s in reader.embedded_signatures if s.field_name == "personal-1")
    x0, y0, x1, y1 = (float(v) for v in sig.sig_field["/Rect"])
    return x0, y0, x1, y1


async def test_giant_seal_over_the_body(pki: DevPki, decree30: Decree30Documents) -> None:
    """An agency 'seal' reaching the left third of the personal signature but covering the
    body: a seal has its real size, this one is no seal."""
    px0, _py0, px1, _py1 = _personal_rect(decree30.numbered)
    x0, x1, y0, y1 = 60.0, px0 + (px1 - px0) / 3 - 0.5, 250.0, 700.0
    place = PageBox(
        page=1,
        x_mm=x0 / MM,
        y_mm=(841.8897637795277 - y1) / MM,
        width_mm=(x1 - x0) / MM,
        height_mm=(y1 - y0) / MM,
    )
    seal = draw_seal_png("CO QUAN")
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal, placement=place)
    )
    forged, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(decree30.numbered)
    box = (x0, y0, x1, y1)
    assert abs(rendered_pixels(forged, box) - rendered_pixels(decree30.numbered, box)) > 0.02
    _failed(
        await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("personal-1",)
    )


async def test_number_field_filled_over_the_body(pki: DevPki, decree30: Decree30Documents) -> None:
    """The number field's box moved over the body after the personal signature, then
    'filled': a filled field may not paint over the signed text."""
    reader = PdfFileReader(io.BytesIO(decree30.personal))
    so = next(
        ref for ref in reader.root["/AcroForm"].raw_get("/Fields") if ref.get_object()["/T"] == "so"
    )
    number = so.idnum
    body = read_object(decree30.personal, number)
    size = last_revision(decree30.personal).size
    ap, font = size, size + 1
    rect = (80, 520, 560, 600)
    moved = re.sub(rb"/Rect \[[^\]]*\]", b"/Rect [%d %d %d %d]" % rect, body)
    moved = moved.replace(b"/V ()", b"/V (1234)")
    if b"/V (1234)" not in moved:
        moved = moved.rstrip()[:-2] + b" /V (1234) >>"
    moved = re.sub(rb"/AP <<[^>]*>>", b"", moved).rstrip()[:-2] + b" /AP << /N %d 0 R >> >>" % ap
    appearance = stream_object(
        b"q 1 g 0 0 480 80 re f Q BT /FF 13 Tf 5 46 Td (" + FORGED.encode() + b") Tj ET",
        b" /Type /XObject /Subtype /Form /BBox [0 0 480 80] /Resources << /Font << /FF %d 0 R >> >>"
        % font,
    )
    filled = append(
        decree30.personal, Update().add(number, moved).add(ap, appearance).add(font, FONT)
    )
    assert abs(rendered_pixels(filled, rect) - rendered_pixels(decree30.personal, rect)) > 0.02
    _failed(await validate_bytes(filled, _policy(pki)), "pdf.field_over_content", ("personal-1",))


async def test_seal_of_another_organisation(pki: DevPki, decree30: Decree30Documents) -> None:
    other = "Công ty TNHH Giả Mạo"
    if "other-org" not in pki.signers:
        pki.issue(
            SignerSpec(name="other-org", kind="organisation", common_name=other, organisation=other)
        )
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY, image_png=draw_seal_png(other.upper()), seal_diameter_mm=36
        )
    )
    sealed, _ = await PadesSigner(pki.in_memory_key("other-org"), spec).sign_bytes(
        decree30.numbered
    )
    report = await validate_bytes(sealed, _policy(pki))
    assert all(s.passed for s in report.signatures)
    assert not report.legal.valid
    assert any(f.code == "legal.agency_mismatch" for f in report.legal.reasons)


async def test_xref_entries_of_19_bytes_are_read(pki: DevPki, sample_pdf: bytes) -> None:
    """A classic table whose entries end with a one-byte end of line (19 bytes, as some
    writers do; pyHanko, poppler and qpdf read it) is no reason to refuse the signature."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        source.write_bytes(sample_pdf)
        subprocess.run(
            ["qpdf", "--object-streams=disable", str(source), str(target)],
            check=True,
            capture_output=True,
        )
        classic = target.read_bytes()
    # qpdf writes 20-byte entries ("nnnnnnnnnn ggggg n \n"): make them 19 bytes
    start = classic.rindex(b"\nxref\n") + 6
    end = classic.index(b"trailer", start)
    table = re.sub(rb"(\d{10} \d{5} [nf]) \n", rb"\1\n", classic[start:end])
    shift = end - start - len(table)
    assert shift > 0
    nineteen = classic[:start] + table + classic[end:]
    tail = re.search(rb"startxref\s+(\d+)", nineteen[-64:])
    assert tail is not None  # the table is the last section: its offset does not move
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(nineteen)
    report = await validate_bytes(signed, _policy(pki))
    assert report.indication is AdESStatus.PASSED, [
        (s.id, [f.code for f in s.findings]) for s in report.signatures
    ]


async def test_number_fill_still_allowed(pki: DevPki, decree30: Decree30Documents) -> None:
    """Sanity: the Decree 30 number fill itself stays allowed (the field sits after "Số:")."""
    filled = fill_text_fields(decree30.personal, {"so": "77", "ngay": "02", "thang": "12"})
    report = await validate_bytes(filled, _policy(pki))
    assert report.signatures[0].passed, [f.code for f in report.signatures[0].findings]


# -- second review ---------------------------------------------------------------------------


async def test_seal_reaching_above_the_signature_block(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes
) -> None:
    """A seal of legal size and shape, overlapping the left third of the personal signature
    but reaching far above it into the body: only the signature block's own lines may be
    covered."""
    px0, _py0, _px1, py1 = _personal_rect(decree30.numbered)
    side = 141.0
    x0, y0 = px0 - 85.0, py1 - 5.0
    place = PageBox(
        page=1,
        x_mm=x0 / MM,
        y_mm=(841.8897637795277 - (y0 + side)) / MM,
        width_mm=side / MM,
        height_mm=side / MM,
    )
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, placement=place)
    )
    sealed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(decree30.numbered)
    box = (x0, y0, x0 + side, y0 + side)
    assert abs(rendered_pixels(sealed, box) - rendered_pixels(decree30.numbered, box)) > 0.02
    _failed(
        await validate_bytes(sealed, _policy(pki)), "pdf.signature_over_content", ("personal-1",)
    )


async def test_hex_string_comment_in_the_signed_revision(pki: DevPki) -> None:
    """The drafter hides ``/XObject << /X9 50 0 R >>`` behind a ``%`` inside a hex string:
    pyHanko takes the ``%`` for a comment and skips the entry, poppler and qpdf end the string
    at ``>`` and read it. Object 50 does not exist when the leader signs; an unsigned update
    supplies it afterwards and poppler draws it over the page."""
    resources = b"<< /Font << /F1 5 0 R >> /Foo <41%>/XObject << /X9 50 0 R >> /Bar <\n42> >>"
    content = (
        b"BT /F1 14 Tf 72 760 Td (Noi dung da duoc phe duyet) Tj ET\nq 1 0 0 1 0 0 cm /X9 Do Q"
    )
    base = simple_page_pdf(resources, content)
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(base)
    assert FORGED not in rendered_text(signed)
    xobject = stream_object(
        b"BT /F1 14 Tf 72 700 Td (" + FORGED.encode() + b") Tj ET",
        b" /Type /XObject /Subtype /Form /BBox [0 0 595 842]"
        b" /Resources << /Font << /F1 5 0 R >> >>",
    )
    forged = append(signed, Update().add(50, xobject))
    assert FORGED in rendered_text(forged)  # poppler shows what was never signed
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.ambiguous_structure", ("plain-1",))


async def test_printed_but_not_viewed_field_between_the_signatures(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes
) -> None:
    """A signature field added after the personal signature, flagged NoView|Print: nothing
    on screen, a forged paragraph on paper."""
    data = decree30.numbered
    [page] = page_refs(data)
    reader = PdfFileReader(io.BytesIO(data))
    form_no = reader.root.raw_get("/AcroForm").idnum
    size = last_revision(data).size
    annot_no, ap_no, font_no = size, size + 1, size + 2
    page_body = read_object(data, page).replace(b"/Annots [", b"/Annots [%d 0 R " % annot_no)
    form_body = read_object(data, form_no).replace(b"/Fields [", b"/Fields [%d 0 R " % annot_no)
    rect = (80, 384, 560, 438)
    annot = (
        b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (review) /F 36 /Rect [%d %d %d %d] "
        b"/P %d 0 R /AP << /N %d 0 R >> >>" % (*rect, page, ap_no)
    )
    appearance = stream_object(
        b"q 1 g 0 0 480 54 re f Q BT /FF 13 Tf 5 38 Td (" + FORGED.encode() + b") Tj ET",
        b" /Type /XObject /Subtype /Form /BBox [0 0 480 54] /Resources << /Font << /FF %d 0 R >> >>"
        % font_no,
    )
    update = Update().add(page, page_body).add(form_no, form_body).add(annot_no, annot)
    annotated = append(data, update.add(ap_no, appearance).add(font_no, FONT))
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(annotated)
    with tempfile.TemporaryDirectory() as tmp:
        source, printed = Path(tmp) / "f.pdf", Path(tmp) / "printed.pdf"
        source.write_bytes(final)
        subprocess.run(
            ["pdftocairo", "-pdf", str(source), str(printed)], check=True, capture_output=True
        )
        on_paper = printed.read_bytes()
    # poppler prints it (its print output paints the box) though the screen does not
    assert abs(rendered_pixels(on_paper, rect) - rendered_pixels(final, rect)) > 0.02
    _failed(
        await validate_bytes(final, _policy(pki)), "pdf.unsigned_field_overlay", ("personal-1",)
    )


# -- third review ----------------------------------------------------------------------------


async def test_dangling_parent_supplied_after_signing(pki: DevPki) -> None:
    """The drafter leaves a field whose /Parent names an object that does not exist: empty
    when signed; an update after the signature supplies the parent with a value, and poppler
    shows it, while pyHanko's change analysis, which does not walk /Parent, sees an orphan."""
    base = write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 7 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 6 0 R"
            b" /Contents 4 0 R /Annots [8 0 R] >>",
            4: stream_object(b"BT /F1 14 Tf 72 760 Td (Noi dung da duoc phe duyet) Tj ET"),
            5: FONT,
            6: b"<< /Font << /F1 5 0 R >> >>",
            7: b"<< /Fields [8 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv 5 0 R >> >> >>",
            8: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (ghi) /Rect [72 600 520 640] /F 4"
            b" /P 3 0 R /Parent 500 0 R /DA (/Helv 12 Tf 0 g) >>",
        },
        1,
    )
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(base)
    assert FORGED not in rendered_text(signed)
    forged = append(signed, Update().add(500, b"<< /V (" + FORGED.encode() + b") >>"))
    assert FORGED in rendered_text(forged)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.ambiguous_structure", ("plain-1",))


async def test_number_field_as_a_text_box(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes, seal_png: bytes
) -> None:
    """A number/date field the person's lock leaves open, drafted as a large box: filled, it
    is room for a paragraph, not a number or a date."""
    from signing import DEFAULT_FIELDS, TextFieldSpec, add_text_fields

    big = TextFieldSpec(
        name="nam", box=PageBox(page=1, x_mm=30, y_mm=230, width_mm=160, height_mm=40)
    )
    draft = add_text_fields(sample_pdf, (*DEFAULT_FIELDS, big))
    personal, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(draft)
    filled = fill_text_fields(personal, {"so": "9", "ngay": "01", "thang": "12", "nam": "2026"})
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(filled)
    report = await validate_bytes(final, _policy(pki))
    assert not report.legal.valid
    # the person's signature itself fails: content was added after it
    _failed(report, "pdf.field_large_fill", ("personal-1",))
    assert [f.code for f in report.legal.reasons] == ["legal.personal_signature_not_valid"]


# -- fourth review ---------------------------------------------------------------------------


async def test_number_fill_drawing_more_than_its_value(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes, seal_png: bytes
) -> None:
    """A small year field in a blank area, filled with /V (2026) but an appearance that
    paints a box and a sentence: a number or a date draws its value and nothing else."""
    from signing import DEFAULT_FIELDS, TextFieldSpec, add_text_fields

    year = TextFieldSpec(
        name="nam", box=PageBox(page=1, x_mm=30, y_mm=270, width_mm=80, height_mm=9)
    )
    draft = add_text_fields(sample_pdf, (*DEFAULT_FIELDS, year))
    personal, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(draft)
    numbered = fill_text_fields(personal, {"so": "9", "ngay": "01", "thang": "12"})
    reader = PdfFileReader(io.BytesIO(numbered))
    nam = next(
        ref
        for ref in reader.root["/AcroForm"].raw_get("/Fields")
        if ref.get_object()["/T"] == "nam"
    )
    body = read_object(numbered, nam.idnum)
    size = last_revision(numbered).size
    look = stream_object(
        b"q 1 g 0 0 220 24 re f Q BT /FF 7 Tf 2 14 Td (" + FORGED.encode() + b") Tj ET",
        b" /Type /XObject /Subtype /Form /BBox [0 0 220 24] /Resources << /Font << /FF %d 0 R >> >>"
        % (size + 1),
    )
    filled_body = re.sub(rb"/V \([^)]*\)", b"", body).rstrip()[:-2]
    filled_body = (
        re.sub(rb"/AP <<[^>]*>>", b"", filled_body) + b" /V (2026) /AP << /N %d 0 R >> >>" % size
    )
    filled = append(
        numbered, Update().add(nam.idnum, filled_body).add(size, look).add(size + 1, FONT)
    )
    assert FORGED in rendered_text(filled)
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(filled)
    report = await validate_bytes(final, _policy(pki))
    assert not report.legal.valid
    # the person's signature itself fails: the fill draws more than its value
    _failed(report, "pdf.field_large_fill", ("personal-1",))
    assert [f.code for f in report.legal.reasons] == ["legal.personal_signature_not_valid"]


async def test_page_whose_parent_is_not_its_tree_node(pki: DevPki) -> None:
    """A page whose /Parent is not the node listing it (here the document information
    dictionary, which an update may change): what it inherits was never judged."""
    base = write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 9 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            4: stream_object(b"BT /F1 14 Tf 72 760 Td (Noi dung) Tj ET"),
            5: FONT,
            9: b"<< /Resources << /Font << /F1 5 0 R >> >> >>",
        },
        1,
    )
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(base)
    report = await validate_bytes(signed, _policy(pki))
    [sig] = report.signatures
    assert not sig.passed
    assert any("/Parent" in f.en for f in sig.findings), [f.en for f in sig.findings]


async def test_later_signature_over_a_scanned_page(pki: DevPki, seal_png: bytes) -> None:
    """A scanned document is an image, not text: a later signature painted over it covers
    the signed content all the same."""
    base = _scanned_page()
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(base)
    place = PageBox(page=1, x_mm=60, y_mm=120, width_mm=30, height_mm=30)
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, placement=place)
    )
    later, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(signed)
    _failed(await validate_bytes(later, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


# -- sixth review ----------------------------------------------------------------------------


async def test_unreadable_signature_between_the_signatures(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes
) -> None:
    """A signature field whose value cannot be read (junk /Contents), added after the personal
    signature with a visible line of text: it verifies nothing, so it is an unsigned overlay,
    and the document was not issued as signed."""
    from pyhanko.pdf_utils import generic as g
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(decree30.personal))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    value = g.DictionaryObject(
        {
            g.NameObject("/Type"): g.NameObject("/Sig"),
            g.NameObject("/Filter"): g.NameObject("/Adobe.PPKLite"),
            g.NameObject("/SubFilter"): g.NameObject("/ETSI.CAdES.detached"),
            g.NameObject("/ByteRange"): g.ArrayObject([g.NumberObject(v) for v in (0, 10, 20, 10)]),
            g.NameObject("/Contents"): g.ByteStringObject(b"\x30\x03\x02\x01\x00" + b"\x00" * 200),
        }
    )
    font = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Font"),
                g.NameObject("/Subtype"): g.NameObject("/Type1"),
                g.NameObject("/BaseFont"): g.NameObject("/Helvetica"),
            }
        )
    )
    look = g.StreamObject(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/XObject"),
                g.NameObject("/Subtype"): g.NameObject("/Form"),
                g.NameObject("/BBox"): g.ArrayObject([g.FloatObject(v) for v in (0, 0, 480, 20)]),
                g.NameObject("/Resources"): g.DictionaryObject(
                    {g.NameObject("/Font"): g.DictionaryObject({g.NameObject("/F1"): font})}
                ),
            }
        ),
        stream_data=b"BT /F1 12 Tf 2 5 Td (" + FORGED.encode() + b") Tj ET",
    )
    widget = writer.add_object(
        g.DictionaryObject(
            {
                g.NameObject("/Type"): g.NameObject("/Annot"),
                g.NameObject("/Subtype"): g.NameObject("/Widget"),
                g.NameObject("/FT"): g.NameObject("/Sig"),
                g.NameObject("/T"): g.TextStringObject("x-sig"),
                g.NameObject("/F"): g.NumberObject(4),
                g.NameObject("/Rect"): g.ArrayObject(
                    [g.FloatObject(v) for v in (60, 90, 540, 110)]
                ),
                g.NameObject("/V"): writer.add_object(value),
                g.NameObject("/P"): page_ref,
                g.NameObject("/AP"): g.DictionaryObject(
                    {g.NameObject("/N"): writer.add_object(look)}
                ),
            }
        )
    )
    page["/Annots"].append(widget)
    writer.update_container(page)
    if isinstance(page.raw_get("/Annots"), g.IndirectObject):
        writer.update_container(page["/Annots"])
    form = writer.root["/AcroForm"]
    form["/Fields"].append(widget)
    writer.update_container(form)
    if isinstance(form.raw_get("/Fields"), g.IndirectObject):
        writer.update_container(form["/Fields"])
    out = io.BytesIO()
    writer.write(out)
    numbered = fill_text_fields(out.getvalue(), {"so": "12", "ngay": "01", "thang": "12"})
    spec = PadesSpec(
        appearance=AppearanceSpec(profile=Profile.AGENCY, image_png=seal_png, seal_diameter_mm=36)
    )
    final, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(numbered)
    assert FORGED in rendered_text(final)
    report = await validate_bytes(final, _policy(pki))
    assert not report.legal.valid
    assert any(f.code == "legal.unreadable_signature" for f in report.legal.reasons)
    personal = next(s for s in report.signatures if s.id == "personal-1")
    assert any(f.code == "pdf.unsigned_field_overlay" for f in personal.findings)


# -- seventh review: plain signatures (no lock) and the fields they signed -------------------


def _field(writer: object, name: str) -> object:
    return next(
        r.get_object()
        for r in writer.root["/AcroForm"]["/Fields"]  # type: ignore[attr-defined]
        if str(r.get_object().get("/T")) == name
    )


async def _plain(pki: DevPki, data: bytes) -> bytes:
    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(data)
    return signed


async def test_a_signed_value_filled_in_again(pki: DevPki, sample_pdf: bytes) -> None:
    """The number and date were filled in before the plain signature (so it signed them);
    filled in again afterwards, pyHanko calls it form filling: the signed value was replaced."""
    from signing import add_text_fields

    filled = fill_text_fields(add_text_fields(sample_pdf), {"so": "125", "ngay": "05"})
    signed = await _plain(pki, filled)
    assert (await validate_bytes(signed, _policy(pki))).signatures[0].passed
    forged = fill_text_fields(signed, {"so": "999", "ngay": "31"})
    assert "999" in rendered_text(forged)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.field_refilled", ("plain-1",))
    # a field empty when signed and filled afterwards is no refill of a signed value
    empty = await _plain(pki, add_text_fields(sample_pdf))
    once = fill_text_fields(empty, {"so": "12"})
    twice = fill_text_fields(once, {"so": "13"})
    [sig] = (await validate_bytes(twice, _policy(pki))).signatures
    assert not any(f.code == "pdf.field_refilled" for f in sig.findings), sig.findings


@pytest.mark.parametrize("flags", [2, 32])
async def test_a_signed_field_hidden_after_signing(
    pki: DevPki, sample_pdf: bytes, flags: int
) -> None:
    """A condition filled in before signing, hidden afterwards by the widget's flags (Hidden,
    or NoView): the value is unchanged, what was signed no longer shows."""
    from pyhanko.pdf_utils import generic as g

    from signing import TextFieldSpec, add_text_fields

    note = TextFieldSpec(
        name="note", box=PageBox(page=1, x_mm=20, y_mm=240, width_mm=170, height_mm=12)
    )
    condition = "VALID ONLY WITH THE DIRECTOR'S COUNTERSIGNATURE"
    signed = await _plain(
        pki, fill_text_fields(add_text_fields(sample_pdf, (note,)), {"note": condition})
    )

    def hide(writer: object) -> None:
        field = _field(writer, "note")
        field[g.NameObject("/F")] = g.NumberObject(flags)  # type: ignore[index]
        writer.update_container(field)  # type: ignore[attr-defined]

    forged = incremental(signed, hide)
    assert "COUNTERSIGNATURE" not in rendered_text(forged)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.annotation_hidden", ("plain-1",))


async def test_a_signed_widget_taken_off_its_page(pki: DevPki, sample_pdf: bytes) -> None:
    from pyhanko.pdf_utils import generic as g

    from signing import TextFieldSpec, add_text_fields

    note = TextFieldSpec(
        name="note", box=PageBox(page=1, x_mm=20, y_mm=240, width_mm=170, height_mm=12)
    )
    signed = await _plain(
        pki, fill_text_fields(add_text_fields(sample_pdf, (note,)), {"note": "ONLY IF PAID"})
    )

    def remove(writer: object) -> None:
        page = writer.root["/Pages"]["/Kids"][0]  # type: ignore[attr-defined]
        kept = [ref for ref in page["/Annots"] if str(ref.get_object().get("/T")) != "note"]
        page[g.NameObject("/Annots")] = g.ArrayObject(kept)
        writer.update_container(page)  # type: ignore[attr-defined]

    forged = incremental(signed, remove)
    assert "ONLY IF PAID" not in rendered_text(forged)
    report = await validate_bytes(forged, _policy(pki))
    [sig] = report.signatures
    assert not sig.passed
    assert any(f.code == "pdf.annotation_hidden" for f in sig.findings), sig.findings


def _scanned_page() -> bytes:
    return write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 6 0 R"
            b" /Contents 4 0 R >>",
            4: stream_object(b"q 480 0 0 600 60 150 cm /Scan Do Q"),
            6: b"<< /XObject << /Scan 7 0 R >> >>",
            7: stream_object(
                b"\x40",
                b" /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray"
                b" /BitsPerComponent 8",
            ),
        },
        1,
    )


def _paint_fill(writer: object, name: str, text: str) -> None:
    """Fill ``name`` with ``text`` and an appearance that first paints its box white."""
    from pyhanko.pdf_utils import generic as g

    n = g.NameObject
    field = _field(writer, name)
    x0, y0, x1, y1 = (float(v) for v in field["/Rect"])  # type: ignore[index]
    font = writer.add_object(  # type: ignore[attr-defined]
        g.DictionaryObject(
            {n("/Type"): n("/Font"), n("/Subtype"): n("/Type1"), n("/BaseFont"): n("/Helvetica")}
        )
    )
    look = g.StreamObject(
        g.DictionaryObject(
            {
                n("/Type"): n("/XObject"),
                n("/Subtype"): n("/Form"),
                n("/BBox"): g.ArrayObject([g.FloatObject(v) for v in (0, 0, x1 - x0, y1 - y0)]),
                n("/Resources"): g.DictionaryObject(
                    {n("/Font"): g.DictionaryObject({n("/F1"): font})}
                ),
            }
        ),
        stream_data=b"1 1 1 rg 0 0 %f %f re f 0 g BT /F1 12 Tf 2 6 Td (%s) Tj ET"
        % (x1 - x0, y1 - y0, text.encode()),
    )
    field[n("/V")] = g.pdf_string(text)  # type: ignore[index]
    field[n("/AP")] = g.DictionaryObject({n("/N"): writer.add_object(look)})  # type: ignore
    writer.update_container(field)  # type: ignore[attr-defined]


async def test_a_scanned_page_painted_over_by_a_fill(pki: DevPki) -> None:
    """An empty field lies on a scanned line when signing; 'filled' afterwards with a white
    box and new words, it replaces the scanned line: over an image, a fill that paints more
    than its value fails the signature."""
    from signing import TextFieldSpec, add_text_fields

    remark = TextFieldSpec(
        name="remark", box=PageBox(page=1, x_mm=40, y_mm=92, width_mm=150, height_mm=8)
    )
    signed = await _plain(pki, add_text_fields(_scanned_page(), (remark,)))
    words = "PAY ALL FEES TO ACCOUNT 9999"
    forged = incremental(signed, lambda w: _paint_fill(w, "remark", words))
    assert words in rendered_text(forged)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.field_large_fill", ("plain-1",))


async def test_an_empty_box_filled_with_a_clause_after_signing(
    pki: DevPki, sample_pdf: bytes
) -> None:
    """An empty box in a blank part of the page, filled after the signature with a sentence:
    allowed form filling to pyHanko, content the signer never saw to a reader."""
    from signing import TextFieldSpec, add_text_fields

    note = TextFieldSpec(
        name="note", box=PageBox(page=1, x_mm=20, y_mm=240, width_mm=170, height_mm=12)
    )
    signed = await _plain(pki, add_text_fields(sample_pdf, (note,)))
    clause = "ADDENDUM: this decision is revoked"
    forged = fill_text_fields(signed, {"note": clause})
    assert clause in rendered_text(forged)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.field_large_fill", ("plain-1",))


# -- eighth review: what a later signature's widget may cover --------------------------------


async def _sign_over(
    pki: DevPki,
    data: bytes,
    box: tuple[float, float, float, float],
    *,
    flags: int | None = None,
    name: str = "Sig2",
) -> bytes:
    """A second signature, by a trusted key (the agency's), whose widget is ``box`` (with the
    annotation ``flags`` when given): pyHanko itself, so that nothing of ours places or sizes
    it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigFieldSpec
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    ident = pki.signers["agency"]
    signer = signers.SimpleSigner(
        signing_cert=ident.asn1,
        signing_key=ident.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    fields.append_signature_field(writer, SigFieldSpec(name, on_page=0, box=box))
    if flags is not None:  # in the same update as the signature
        widget = next(
            ref.get_object()
            for ref in writer.root["/AcroForm"]["/Fields"]
            if str(ref.get_object().get("/T")) == name
        )
        widget[generic.NameObject("/F")] = generic.NumberObject(flags)
        writer.update_container(widget)
    meta = signers.PdfSignatureMetadata(field_name=name, subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(
        meta, signer=signer, stamp_style=TextStampStyle(stamp_text="9", border_width=0)
    )
    out = io.BytesIO()
    await pdf_signer.async_sign_pdf(writer, output=out, existing_fields_only=True)
    return out.getvalue()


def _word_box(data: bytes, word: str, after: tuple[str, ...]) -> tuple[float, float, float, float]:
    """Where poppler puts ``word`` (preceded by the words ``after``), in PDF user space."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.pdf"
        path.write_bytes(data)
        listing = subprocess.run(
            ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    words = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', listing
    )
    for k, found in enumerate(words):
        if found[4] == word and tuple(w[4] for w in words[k - len(after) : k]) == after:
            x0, top, x1, bottom = (float(v) for v in found[:4])
            return (x0 - 0.5, 842.0 - bottom - 0.5, x1 + 0.5, 842.0 - top + 0.5)
    raise AssertionError(f"{word!r} not found")


async def test_a_later_signature_over_one_character(pki: DevPki, sample_pdf: bytes) -> None:
    """A widget a few points wide, over the 7 of "tháng 7": one digit replaced."""
    signed = await _plain(pki, sample_pdf)
    box = _word_box(signed, "7", ("01", "tháng"))
    assert box[2] - box[0] < 10
    _failed(
        await validate_bytes(await _sign_over(pki, signed, box), _policy(pki)),
        "pdf.signature_over_content",
        ("plain-1",),
    )


async def test_a_later_signature_over_a_signed_field_or_signature(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes
) -> None:
    """Not the page's text but what a reader saw on it when signed: the number filled in
    before signing, and the first signature's own appearance."""
    from signing import add_text_fields

    numbered = fill_text_fields(add_text_fields(sample_pdf), {"so": "125"})
    signed, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(numbered)
    reader = PdfFileReader(io.BytesIO(signed))
    rects = {
        str(ref.get_object().get("/T")): tuple(float(v) for v in ref.get_object()["/Rect"])
        for ref in reader.root["/AcroForm"]["/Fields"]
    }
    for name in ("so", *(n for n in rects if n not in ("so", "ngay", "thang"))):
        box = rects[name]
        forged = await _sign_over(pki, signed, box)  # type: ignore[arg-type]
        report = await validate_bytes(forged, _policy(pki))
        first = report.signatures[0]
        assert not first.passed, name
        assert any(f.code == "pdf.signature_over_content" for f in first.findings), name


async def test_text_drawn_through_a_form_xobject_is_where_it_is_drawn(pki: DevPki) -> None:
    """The line is drawn by a form XObject moved by its /Matrix: its text is located there,
    so a later widget over it covers it."""
    page = write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources"
            b" << /XObject << /Line 5 0 R >> >> /Contents 4 0 R >>",
            4: stream_object(b"q 1 0 0 1 0 200 cm /Line Do Q"),
            5: stream_object(
                b"BT /F1 14 Tf 0 0 Td (Amount: 1000 USD) Tj ET",
                b" /Type /XObject /Subtype /Form /BBox [0 0 300 40] /Matrix [1 0 0 1 100 300]"
                b" /Resources << /Font << /F1 6 0 R >> >>",
            ),
            6: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        },
        1,
    )
    assert "Amount: 1000 USD" in rendered_text(page)
    signed = await _plain(pki, page)
    # drawn at (100, 500): 0 200 cm, then the form's 100 300
    _failed(
        await validate_bytes(await _sign_over(pki, signed, (95, 495, 260, 515)), _policy(pki)),
        "pdf.signature_over_content",
        ("plain-1",),
    )


# -- ninth review: widgets together, unrotated widgets, small images, text state -------------


def _line_page(content: bytes, extra: bytes = b"") -> bytes:
    return write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources"
            b" << /Font << /F1 5 0 R >> /XObject << /Im 6 0 R >> >> /Contents 4 0 R"
            + extra
            + b" >>",
            4: stream_object(content),
            5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            6: stream_object(
                b"\x40",
                b" /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray"
                b" /BitsPerComponent 8",
            ),
        },
        1,
    )


async def test_two_thin_later_signatures_over_one_line(pki: DevPki) -> None:
    """Each widget covers under a third of the line's height; stacked, they cover most of
    the glyphs."""
    signed = await _plain(pki, _line_page(b"BT /F1 14 Tf 100 500 Td (Han: 7 ngay) Tj ET"))
    lower = await _sign_over(pki, signed, (95, 500, 220, 504.2))
    report = await validate_bytes(lower, _policy(pki))
    assert report.signatures[0].passed  # one thin band alone hides nothing
    both = await _sign_over(pki, lower, (95, 504.2, 220, 508.4), name="Sig3")
    _failed(await validate_bytes(both, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


async def test_an_unrotated_later_widget_on_a_rotated_page(pki: DevPki) -> None:
    """NoRotate (and NoZoom): the appearance is drawn about a corner of the box, so on a
    rotated page it paints outside it, wherever the box itself lies."""
    signed = await _plain(
        pki, _line_page(b"BT /F1 14 Tf 72 500 Td (So tien: 1.000.000) Tj ET", b" /Rotate 90")
    )
    forged = await _sign_over(pki, signed, (300, 100, 360, 120), flags=4 | 16)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


async def test_a_large_later_widget_over_a_small_image(pki: DevPki) -> None:
    """A 60 pt image (a QR code, a logo) wholly under a 150 pt widget: 16 % of the widget."""
    signed = await _plain(pki, _line_page(b"q 60 0 0 60 300 300 cm /Im Do Q"))
    forged = await _sign_over(pki, signed, (255, 255, 405, 405))
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


@pytest.mark.parametrize(
    ("state", "box"),
    [
        # 200 % horizontal scaling: "dong" drawn near x 280-340, beyond the unscaled run
        (b"200 Tz", (280, 497, 345, 512)),
        # a rise of 14 pt: the glyphs drawn above the line's own place
        (b"14 Ts", (100, 513, 200, 526)),
    ],
)
async def test_the_text_state_moves_the_glyphs(
    pki: DevPki, state: bytes, box: tuple[float, float, float, float]
) -> None:
    content = b"BT /F1 14 Tf 72 500 Td " + state + b" (So tien: 1.000.000 dong) Tj ET"
    signed = await _plain(pki, _line_page(content))
    forged = await _sign_over(pki, signed, box)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


async def test_a_later_widget_over_a_drawn_tick(pki: DevPki) -> None:
    """A tick drawn with paths in the first of two boxes (agreed / not agreed): a widget over
    it whites it out and draws one in the other box. No text, no image under it."""
    boxes = b"0 G 1 w 100 500 12 12 re S 200 500 12 12 re S "
    tick = b"0 g 2 w 102 506 m 105 502 l 111 511 l S "
    signed = await _plain(pki, _line_page(boxes + tick))
    _failed(
        await validate_bytes(await _sign_over(pki, signed, (98, 498, 214, 514)), _policy(pki)),
        "pdf.signature_over_content",
        ("plain-1",),
    )
    # a widget beside them, on blank paper, is no cover
    beside = await _sign_over(pki, signed, (300, 600, 400, 640))
    assert (await validate_bytes(beside, _policy(pki))).signatures[0].passed


async def test_a_seal_placed_as_a_seal_but_drawn_as_words(
    pki: DevPki, sample_pdf: bytes, signature_png: bytes
) -> None:
    """The Decree 30 seal may lie over the left of the personal signature and its lines
    because it is a see-through image of the seal; an agency signature placed just so whose
    look is text and painted areas (repainting the block) is no seal, and covers them."""
    personal, _ = await PadesSigner(
        pki.in_memory_key("personal"),
        PadesSpec(appearance=AppearanceSpec(profile=Profile.PERSONAL, image_png=signature_png)),
    ).sign_bytes(sample_pdf)
    reader = PdfFileReader(io.BytesIO(personal))
    [rect] = [
        tuple(float(v) for v in ref.get_object()["/Rect"])
        for ref in reader.root["/AcroForm"]["/Fields"]
        if ref.get_object().get("/FT") == "/Sig"
    ]
    x0, y0, x1, y1 = rect
    # where our own seal goes: its right edge a third into the personal signature
    side, right, middle = 100.0, x0 + (x1 - x0) / 3, (y0 + y1) / 2
    box = (right - side, middle - side / 2, right, middle + side / 2)
    forged = await _sign_over(pki, personal, box)
    report = await validate_bytes(forged, _policy(pki))
    first = report.signatures[0]
    assert not first.passed
    assert any(f.code == "pdf.signature_over_content" for f in first.findings), first.findings


# -- tenth review: widgets side by side, and content placed or painted in other ways ---------


async def test_later_widgets_side_by_side_over_one_character(pki: DevPki) -> None:
    """Strips each under 3 pt wide, side by side over one digit."""
    signed = await _plain(pki, _line_page(b"BT /F1 14 Tf 100 500 Td (Han: 7 ngay) Tj ET"))
    forged = signed
    for n, x in enumerate((134.0, 136.6, 139.2)):
        forged = await _sign_over(pki, forged, (x, 496, x + 2.6, 512), name=f"Strip{n}")
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


async def test_later_widgets_in_quarters_over_a_drawn_tick(pki: DevPki) -> None:
    boxes = b"0 G 1 w 100 500 12 12 re S 200 500 12 12 re S "
    tick = b"0 g 2 w 102 506 m 105 502 l 111 511 l S "
    signed = await _plain(pki, _line_page(boxes + tick))
    forged = signed
    quarters = [
        (99, 499, 106, 506),
        (106, 499, 113, 506),
        (99, 506, 106, 513),
        (106, 506, 113, 513),
    ]
    for n, box in enumerate(quarters):
        forged = await _sign_over(pki, forged, box, name=f"Quarter{n}")
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


@pytest.mark.parametrize(
    ("content", "box"),
    [
        # TJ moves "7000" 196 pt on from where the run starts
        (b"BT /F1 14 Tf 100 500 Td [(Total:) -14000 (7000)] TJ ET", (330, 496, 380, 512)),
        # text turned a quarter: it runs upwards from (300, 300)
        (b"BT /F1 14 Tf 0 1 -1 0 300 300 Tm (So tien 7000000) Tj ET", (286, 300, 304, 400)),
        # a tick stroked black through a colour space after a white stroke colour
        (b"1 G /DeviceGray CS 0 SC 2 w 102 506 m 105 502 l 111 511 l S", (98, 498, 114, 514)),
        # a tick painted as a clipping path, then a page-sized fill
        (b"q 102 502 10 10 re W n 0 g 0 0 595 842 re f Q", (98, 498, 116, 516)),
        # a frame painted by a shading through a clip
        (
            b"q 100 500 12 12 re W n /Sh0 sh Q",
            (98, 498, 116, 516),
        ),
    ],
    ids=["tj-offsets", "rotated", "colour-space", "clip-fill", "shading"],
)
async def test_content_placed_or_painted_otherwise(
    pki: DevPki, content: bytes, box: tuple[float, float, float, float]
) -> None:
    signed = await _plain(pki, _line_page(content, b" /Group << /S /Transparency >>"))
    forged = await _sign_over(pki, signed, box)
    _failed(await validate_bytes(forged, _policy(pki)), "pdf.signature_over_content", ("plain-1",))


# -- eleventh review: a seal image whose mask hides what is under it --------------------------


def _with_alpha(png: bytes, alpha: int) -> bytes:
    """``png`` with every pixel's opacity set to ``alpha`` (255: opaque; a soft mask is still
    written, but it lets nothing through)."""
    with Image.open(io.BytesIO(png)) as picture:
        rgba = picture.convert("RGBA")
    rgba.putalpha(alpha)
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("alpha", "passes"),
    [(255, False), (200, False), (128, False), (12, True)],
    ids=["opaque", "mostly-opaque", "half", "faint"],
)
async def test_a_seal_image_that_lets_nothing_through_is_no_seal(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes, alpha: int, passes: bool
) -> None:
    """The seal's allowance over the personal signature's block holds for an image that lets
    the block show through it, not for one whose soft mask is there but opaque: such a
    "seal", with its own ground, paints over the signer's name and position."""
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY, image_png=_with_alpha(seal_png, alpha), seal_diameter_mm=36
        )
    )
    sealed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(decree30.numbered)
    assert b"/SMask" in sealed  # the mask is there: only its samples tell
    report = await validate_bytes(sealed, _policy(pki))
    first = report.signatures[0]
    assert first.passed is passes, [f.code for f in first.findings]
    if not passes:
        assert any(f.code == "pdf.signature_over_content" for f in first.findings)


async def test_the_real_seal_keeps_its_allowance(pki: DevPki, decree30: Decree30Documents) -> None:
    """The stamp as it is drawn (a red ring and words over a transparent ground) lies over
    the block and both signatures hold."""
    report = await validate_bytes(decree30.final, _policy(pki))
    assert [s.passed for s in report.signatures] == [True, True]


@pytest.mark.parametrize("band", [0.62, 0.7], ids=["over-the-name", "lower"])
async def test_a_seal_with_an_opaque_band_over_the_name_line(
    pki: DevPki, decree30: Decree30Documents, seal_png: bytes, band: float
) -> None:
    """A seal mostly see-through (so its share passes) but with an opaque white band across
    its lower part: lying over the signer's name line, it paints the name out. The seal may
    lie over the block's lines only where its own pixels let them show."""
    with Image.open(io.BytesIO(seal_png)) as picture:
        banded = picture.convert("RGBA")
    width, height = banded.size
    ImageDraw.Draw(banded).rectangle(
        (0, int(height * band), width, height), fill=(255, 255, 255, 255)
    )
    out = io.BytesIO()
    banded.save(out, format="PNG")
    spec = PadesSpec(
        appearance=AppearanceSpec(
            profile=Profile.AGENCY, image_png=out.getvalue(), seal_diameter_mm=36
        )
    )
    sealed, _ = await PadesSigner(pki.in_memory_key("agency"), spec).sign_bytes(decree30.numbered)
    report = await validate_bytes(sealed, _policy(pki))
    first = report.signatures[0]
    assert not first.passed
    assert any(f.code == "pdf.signature_over_content" for f in first.findings), first.findings
