"""Forgeries that reached TOTAL-PASSED before: parser differentials and coverage arithmetic.

Each test builds the attack byte by byte (``pdfforge``), shows that poppler (``pdftotext``)
or qpdf displays the forged content, and that ``validate_bytes`` fails every signature the
forgery touches, with the finding that names the trick.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESStatus

from signing.dev.pki import DevPki
from tests.plugin import Decree30Documents
from tests.validation.pdfforge import (
    FONT,
    Update,
    append,
    last_revision,
    page_refs,
    read_object,
    rendered_text,
    stream_object,
    text_page_content,
)
from validation import DocumentReport, TrustAnchors, ValidationPolicy, validate_bytes

FORGED = "QUYET DINH CAP 10 TY DONG"


def _policy(pki: DevPki) -> ValidationPolicy:
    return ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )


def _all_failed(report: DocumentReport, code: str) -> None:
    assert report.signatures
    for sig in report.signatures:
        assert (sig.indication, sig.sub_indication) == (
            AdESStatus.FAILED,
            AdESFailure.FORMAT_FAILURE,
        ), (sig.id, sig.findings)
        assert any(f.code == code for f in sig.findings), (sig.id, [f.code for f in sig.findings])
    assert not report.legal.valid


def _forged_page(data: bytes, content_no: int, font_no: int) -> tuple[int, bytes, bytes]:
    """The page object, and a copy of it showing the forged text instead."""
    [page] = page_refs(data)
    body = read_object(data, page)
    forged = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % content_no, body)
    forged = re.sub(
        rb"/Resources \d+ 0 R", b"/Resources << /Font << /FForge %d 0 R >> >>" % font_no, forged
    )
    return page, body, forged


def _qpdf_object(data: bytes, number: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.pdf"
        path.write_bytes(data)
        proc = subprocess.run(
            ["qpdf", f"--show-object={number}", str(path)], capture_output=True, text=True
        )
    return proc.stdout


# -- 1. parser differentials ------------------------------------------------------------------


def duplicate_entry(data: bytes) -> bytes:
    """One revision defines the page twice and lists it twice in its table: forged first
    (poppler and qpdf keep the first entry), the untouched page last (pyHanko keeps that)."""
    last = last_revision(data)
    content_no, font_no = last.size, last.size + 1
    page, body, forged = _forged_page(data, content_no, font_no)
    update = Update()
    update.add(content_no, stream_object(text_page_content([FORGED])))
    update.add(font_no, FONT)
    update.add(page, forged).add(page, body)
    out = append(data, update)
    offsets = [m.start() + 1 for m in re.finditer(rb"\n%d 0 obj\n" % page, out)][-2:]
    update.entries = [(content_no, None), (font_no, None), (page, offsets[0]), (page, offsets[1])]
    return append(data, update)


@pytest.mark.parametrize("which", ["plain", "decree30"])
async def test_duplicate_xref_entry_fails(
    pki: DevPki, sample_pdf: bytes, decree30: Decree30Documents, which: str
) -> None:
    from signing import PadesSigner, PadesSpec

    if which == "plain":
        signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
            sample_pdf
        )
    else:
        signed = decree30.final
    forged = duplicate_entry(signed)
    # what people see: poppler and qpdf take the forged page
    assert FORGED in rendered_text(forged)
    [page] = page_refs(signed)
    assert "/FForge" in _qpdf_object(forged, page)
    # what pyHanko alone would judge: the untouched page
    reader = PdfFileReader(io.BytesIO(forged), strict=False)
    assert "/FForge" not in str(reader.root["/Pages"]["/Kids"][0].get_object())
    _all_failed(await validate_bytes(forged, _policy(pki)), "pdf.ambiguous_structure")


def wrong_header(data: bytes) -> bytes:
    """The table entry of the new page points at the forged-content stream's header instead:
    readers that rebuild the table disagree with those that trust it."""
    last = last_revision(data)
    content_no, font_no = last.size, last.size + 1
    page, _body, forged = _forged_page(data, content_no, font_no)
    update = Update()
    update.add(content_no, stream_object(text_page_content([FORGED])))
    update.add(font_no, FONT)
    update.add(page, forged)
    out = append(data, update)
    content_at = out.rfind(b"\n%d 0 obj\n" % content_no) + 1
    update.entries = [(content_no, None), (font_no, None), (page, content_at)]
    return append(data, update)


async def test_entry_pointing_at_another_object_fails(pki: DevPki, sample_pdf: bytes) -> None:
    from signing import PadesSigner, PadesSpec

    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(sample_pdf)
    forged = wrong_header(signed)
    assert FORGED in rendered_text(forged)  # poppler rebuilds the table and shows it
    _all_failed(await validate_bytes(forged, _policy(pki)), "pdf.ambiguous_structure")


def redefined_object_stream(data: bytes) -> bytes:
    """A later revision redefines an object stream of the signed revision (same number) so
    that an object in it, never listed again, changes: here the page."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    page = page_refs(data)[-1]
    located = None
    for revision in range(reader.xrefs.total_revisions):
        section = reader.xrefs._xref_sections[revision].xref_data  # test-only peek
        if page in section.xrefs_in_objstm:
            located = section.xrefs_in_objstm[page]
    assert located is not None, "the page must be in an object stream for this attack"
    stream_no = located.obj_stream_id
    stream = reader.get_object(generic.Reference(stream_no, 0, reader))
    raw = stream.data
    first = int(stream["/First"])
    header = raw[:first].split()
    numbers = [int(n) for n in header[0::2]]
    offsets = [int(n) for n in header[1::2]]
    bodies = [
        raw[first + start : first + (offsets[i + 1] if i + 1 < len(offsets) else len(raw) - first)]
        for i, start in enumerate(offsets)
    ]
    last = last_revision(data)
    content_no, font_no = last.size, last.size + 1
    i = numbers.index(page)
    bodies[i] = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % content_no, bodies[i])
    bodies[i] = re.sub(
        rb"/Resources \d+ 0 R", b"/Resources << /Font << /FForge %d 0 R >> >>" % font_no, bodies[i]
    )
    payload = b""
    new_offsets = []
    for body in bodies:
        new_offsets.append(len(payload))
        payload += body.strip() + b"\n"
    head = b" ".join(b"%d %d" % (n, o) for n, o in zip(numbers, new_offsets, strict=True)) + b"\n"
    objstm = stream_object(
        head + payload, b" /Type /ObjStm /N %d /First %d" % (len(numbers), len(head))
    )
    update = Update()
    update.add(content_no, stream_object(text_page_content([FORGED])))
    update.add(font_no, FONT)
    update.add(stream_no, objstm)
    return append(data, update)


def _with_object_streams(data: bytes) -> bytes:
    """The document twice over (two pages), rewritten by qpdf with its objects in object
    streams, as many producers write them."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        source.write_bytes(data)
        subprocess.run(
            [
                "qpdf",
                "--object-streams=generate",
                "--empty",
                "--pages",
                str(source),
                str(source),
                "--",
                str(target),
            ],
            check=True,
            capture_output=True,
        )
        return target.read_bytes()


async def test_redefined_object_stream_fails(pki: DevPki, sample_pdf: bytes) -> None:
    from signing import PadesSigner, PadesSpec

    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
        _with_object_streams(sample_pdf)
    )
    assert (await validate_bytes(signed, _policy(pki))).indication is AdESStatus.PASSED
    forged = redefined_object_stream(signed)
    assert FORGED in rendered_text(forged, page=2)
    _all_failed(await validate_bytes(forged, _policy(pki)), "pdf.ambiguous_structure")


# -- 2. coverage arithmetic -------------------------------------------------------------------


def _literal(raw: bytes) -> bytes:
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped.replace(b"\r", b"\\r") + b")"


def padded_signature_dictionary(data: bytes) -> bytes:
    """Replace the page and redefine the last signature's dictionary with the same
    /ByteRange and its /Contents as a literal string padded so that pyHanko's arithmetic
    (both ranges + 2 x contents + 2 = file size) says "covers the entire file"."""
    reader = PdfFileReader(io.BytesIO(data))
    embedded = reader.embedded_signatures[-1]
    sig_no = embedded.sig_field.raw_get("/V").reference.idnum
    cms = bytes(embedded.pkcs7_content)
    _, len1, _, len2 = (int(v) for v in embedded.byte_range)
    last = last_revision(data)
    content_no, font_no = last.size, last.size + 1
    page, _body, forged = _forged_page(data, content_no, font_no)
    sig_body = read_object(data, sig_no)
    hole = re.search(rb"/Contents <[0-9a-fA-F]+>", sig_body)
    assert hole is not None
    pad = 0
    for _ in range(64):
        contents = cms + b"\0" * pad
        body = (
            sig_body[: hole.start()] + b"/Contents " + _literal(contents) + sig_body[hole.end() :]
        )
        update = Update()
        update.add(content_no, stream_object(text_page_content([FORGED])))
        update.add(font_no, FONT)
        update.add(page, forged)
        update.add(sig_no, body)
        out = append(data, update)
        expected = len1 + len2 + 2 * len(contents) + 2
        if expected == len(out):
            return out
        pad = max(0, pad + len(out) - expected)
    raise AssertionError("no padding makes the arithmetic work")


@pytest.mark.parametrize("which", ["plain", "decree30"])
async def test_padded_signature_dictionary_fails(
    pki: DevPki, sample_pdf: bytes, decree30: Decree30Documents, which: str
) -> None:
    from signing import PadesSigner, PadesSpec

    if which == "plain":
        signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(
            sample_pdf
        )
    else:
        signed = decree30.final
    forged = padded_signature_dictionary(signed)
    assert FORGED in rendered_text(forged)
    # pyHanko alone is fooled into "the signature covers the entire file"
    reader = PdfFileReader(io.BytesIO(forged))
    last = reader.embedded_signatures[-1]
    last.compute_integrity_info()
    assert last.coverage.name == "ENTIRE_FILE"
    report = await validate_bytes(forged, _policy(pki))
    _all_failed(report, "pdf.modified_after_signing")
    assert any(f.code == "pdf.signature_redefined" for f in report.signatures[-1].findings)


# -- harmless oddities every major reader accepts ---------------------------------------------


async def test_empty_update_with_smaller_size_passes(pki: DevPki, sample_pdf: bytes) -> None:
    """An empty incremental update whose trailer /Size is smaller than the previous one
    (DSS and pyHanko's lenient reader accept it) is no reason to refuse the file."""
    from signing import PadesSigner, PadesSpec

    signed, _ = await PadesSigner(pki.in_memory_key("personal"), PadesSpec()).sign_bytes(sample_pdf)
    smaller = append(signed, Update(size=5))
    assert b"/Size 5 " in smaller[len(signed) :]
    report = await validate_bytes(smaller, _policy(pki))
    assert report.indication is AdESStatus.PASSED, [s.findings for s in report.signatures]
    # but an update that defines an object beyond its own /Size is ambiguous
    [page] = page_refs(signed)
    beyond = append(signed, Update(size=5).add(page, read_object(signed, page)))
    report = await validate_bytes(beyond, _policy(pki))
    assert report.indication is AdESStatus.FAILED
