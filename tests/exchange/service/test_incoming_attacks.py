"""Packages genuinely signed by a sender in the directory, whose contents must still not be
registered (found attacking the incoming flow): every attachment is judged, every file passes
the Decree 30 check, the files are sealed by the sending agency itself, and there is a main
document. Each attack is shown readable by poppler where it is a PDF."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from exchange import incoming
from exchange.edxml import Attachment, build_signed, sign_package
from exchange.service import Services
from signing.dev.pki import DevPki
from tests.exchange.service.test_incoming import OTHER, clerk, edoc, key, receiving
from tests.exchange.service.test_incoming import ready as ready  # a fixture
from tests.plugin import Decree30Documents

pytestmark = pytest.mark.db


def _attachment(cid: str, name: str, data: bytes, ctype: str = "application/pdf") -> Attachment:
    return Attachment(content_id=cid, name=name, data=data, content_type=ctype, description="x")


def _plain_pdf(text: str) -> bytes:
    """A one-page unsigned PDF with a classic cross-reference table, showing ``text``."""
    content = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _poppler_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "shown.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    return done.stdout


async def _receive(
    ready: Services, pki: DevPki, pki_files: Path, doc: object, signer: str
) -> incoming.IncomingView:
    principal = await clerk(ready)
    package = await build_signed(doc, key(pki, signer))  # type: ignore[arg-type]
    return await incoming.receive(ready, principal, package, receiving(pki_files))


async def test_a_second_pdf_failing_the_decree30_check_is_rejected(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    doc = replace(
        edoc(decree30.final),
        attachments=(
            _attachment("1", "benign.pdf", decree30.final),
            _attachment("2", "real-main.pdf", decree30.personal),  # no agency signature
        ),
    )
    view = await _receive(ready, pki, pki_files, doc, "agency")
    assert view.state == "rejected" and view.arrival_number is None
    assert view.reason is not None and view.reason.code == "incoming.legal_check"
    assert "real-main.pdf" in view.reason.en


async def test_a_pdf_with_its_header_after_1024_bytes_is_judged_and_rejected(
    ready: Services,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
    tmp_path: Path,
) -> None:
    hidden = b" " * 1100 + _plain_pdf("UNVALIDATED CONTENT")
    assert "UNVALIDATED CONTENT" in _poppler_text(hidden, tmp_path)  # a reader shows it
    doc = replace(
        edoc(decree30.final),
        attachments=(
            _attachment("1", "hidden.pdf", hidden),
            _attachment("2", "benign.pdf", decree30.final),
        ),
    )
    view = await _receive(ready, pki, pki_files, doc, "agency")
    assert view.state == "rejected"
    assert view.reason is not None and view.reason.code == "incoming.document_signature"
    assert view.files[0].indication == "TOTAL-FAILED"


async def test_a_zip_of_several_files_is_rejected(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents, sample_pdf: bytes
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("quyet-dinh.pdf", sample_pdf)
        archive.writestr("phu-luc.pdf", sample_pdf)
    doc = replace(
        edoc(decree30.final),
        attachments=(
            _attachment("1", "main.pdf", decree30.final),
            _attachment("2", "kem-theo.zip", buf.getvalue(), "application/zip"),
        ),
    )
    view = await _receive(ready, pki, pki_files, doc, "agency")
    assert view.state == "rejected"
    assert view.reason is not None and view.reason.code == "incoming.document_signature"
    assert "kem-theo.zip" in view.reason.en


async def test_a_package_without_a_main_pdf_is_rejected(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    inner = await sign_package(b"<doc><p>anything</p></doc>", key(pki, "agency"))
    doc = replace(
        edoc(decree30.final), attachments=(_attachment("1", "vb.xml", inner, "text/xml"),)
    )
    view = await _receive(ready, pki, pki_files, doc, "agency")
    assert view.state == "rejected"
    assert view.reason is not None and view.reason.code == "incoming.no_main_document"


async def test_a_document_sealed_by_another_agency_is_not_the_senders(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    """H54 wraps H53's sealed document in its own genuine package, under its own number."""
    view = await _receive(
        ready, pki, pki_files, edoc(decree30.final, sender=OTHER, number="999"), "agency-ec"
    )
    assert view.state == "rejected" and view.arrival_number is None
    assert view.reason is not None and view.reason.code == "incoming.sealed_by_other_agency"


async def test_a_corrected_package_after_a_rejection_is_judged_anew(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    """The sender's first package fails the Decree 30 check and is returned; its corrected
    package, with the same DocumentId, is judged on its own and registered."""
    first = await _receive(ready, pki, pki_files, edoc(decree30.personal), "agency")
    assert first.state == "rejected"
    second = await _receive(ready, pki, pki_files, edoc(decree30.final), "agency")
    assert second.state == "registered" and second.arrival_number == 1
    again = await _receive(ready, pki, pki_files, edoc(decree30.final), "agency")
    assert again == second  # registered once
