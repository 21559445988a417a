"""Files handed in from memory by another room (the exchange room closing a dossier): their
own EAD_doc fields and processing trail travel into the package (process=1, the edXML trace
and the status history under documentation/), and handing the same dossier in again adds
nothing."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from archive import (
    Archive,
    StatusChange,
    Submission,
    UsageError,
    dossier_fields,
    export_package,
    ingest_submissions,
    seal,
)

TRACE = (
    b'<TraceHeaderList xmlns="urn:test"><TraceHeader><OrganId>000.00.01.H53</OrganId>'
    b"</TraceHeader></TraceHeaderList>"
)


def _submissions(pdf: bytes) -> list[Submission]:
    return [
        Submission(
            name="001-125-UBND-VP.pdf",
            content=pdf,
            fields={
                "typeName": "01",
                "codeNumber": "125",
                "codeNotation": "UBND-VP",
                "issuedDate": "03/11/2026",
                "organName": "Ủy ban nhân dân tỉnh",
                "subject": "Về việc lưu trữ",
                "numberOfPage": 2,
            },
            edxml_trace=TRACE,
            status_history=(
                StatusChange(
                    code="03",
                    time=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
                    organ="000.00.02.H53",
                    description="Đã vào sổ",
                ),
                StatusChange(
                    code="01", time=datetime(2026, 11, 3, 9, 0, tzinfo=UTC), organ="000.00.02.H53"
                ),
            ),
        ),
        Submission(name="001-125-UBND-VP.edxml", content=b"<edXMLEnvelope/>"),
    ]


async def test_trail_and_fields_reach_the_package(
    archive: Archive, signed_pdf: Path, tmp_path: Path
) -> None:
    fields = dossier_fields(
        title="Hồ sơ lưu",
        maintenance="04",
        extra={"startDate": "01/11/2026", "endDate": "30/11/2026"},
    )
    items = _submissions(signed_pdf.read_bytes())
    first = await ingest_submissions(
        archive, items, dossier="000.00.01.H53.2026.HS01", title="Hồ sơ lưu", fields=fields
    )
    assert first.created and [d.already for d in first.documents] == [False, False]
    again = await ingest_submissions(archive, items, dossier="000.00.01.H53.2026.HS01")
    assert [d.already for d in again.documents] == [True, True]

    await seal(archive)
    out = tmp_path / "hoso.zip"
    await export_package(archive, "000.00.01.H53.2026.HS01", out)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()

        def member(suffix: str) -> bytes:
            return z.read(next(n for n in names if n.endswith(suffix)))

        assert member("documentation/001-125-UBND-VP.pdf.trace.xml") == TRACE
        history = etree.fromstring(member("documentation/001-125-UBND-VP.pdf.status.xml"))
        codes = [e.text for e in history.iter() if etree.QName(e).localname == "code"]
        assert codes == ["01", "03"]  # oldest first
        assert not any(n.endswith("001-125-UBND-VP.edxml.trace.xml") for n in names)
        ead = etree.fromstring(member("descriptive/EAD_doc_001-125-UBND-VP.pdf.xml"))
        plain = etree.fromstring(member("descriptive/EAD_doc_001-125-UBND-VP.edxml.xml"))
        dossier_ead = member("metadata/descriptive/EAD.xml").decode()
    assert "01/11/2026" in dossier_ead and "30/11/2026" in dossier_ead

    def value(root: etree._Element, name: str) -> str | None:
        found = [e.text for e in root.iter() if etree.QName(e).localname == name]
        return found[0] if found else None

    assert value(ead, "process") == "1" and value(plain, "process") == "0"
    assert value(ead, "codeNotation") == "UBND-VP" and value(ead, "issuedDate") == "03/11/2026"
    assert value(ead, "typeName") == "01" and value(ead, "numberOfPage") == "2"


async def test_refuses_names_that_cannot_travel(archive: Archive) -> None:
    for bad in ("../x.pdf", "a/b.pdf", "", "x\x00.pdf"):
        with pytest.raises(UsageError):
            await ingest_submissions(
                archive, [Submission(name=bad, content=b"%PDF-1.7")], dossier="D1", title="T"
            )
    with pytest.raises(UsageError):
        await ingest_submissions(
            archive,
            [Submission(name="a.pdf", content=b"1"), Submission(name="a.pdf", content=b"2")],
            dossier="D1",
            title="T",
        )
