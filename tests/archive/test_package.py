"""TT 05/2025 packages: written, read back with lxml, and checked offline after tampering."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from lxml import etree

from archive.errors import DamagedObject, PackageInvalid
from archive.mets import CSIP_NS, METS_NS, PREMIS_NS, XLINK_NS, check_package
from archive.package import (
    DOC_FIELDS_AIP,
    DOC_FIELDS_SIP,
    DOSSIER_FIELDS_AIP,
    DOSSIER_FIELDS_SIP,
    Dossier,
    PackageDocument,
    PreservationEvent,
    SignatureInfo,
    StatusChange,
    write_package,
)

NS = {"m": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "premis": PREMIS_NS}
UTC = UTC
T0 = datetime(2026, 3, 4, 2, 5, 6, tzinfo=UTC)
TIME_7 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")


def _dossier() -> Dossier:
    return Dossier(
        file_code="000.00.12.H49.2026.01",
        archive_code="LT01",
        title="Hồ sơ về việc tổ chức hội nghị chuyển đổi số 2026",
        maintenance="04",
        mode="01",
        languages=("01", "02"),
        start_date=date(2026, 1, 5),
        end_date=date(2026, 3, 1),
        keyword="chuyển đổi số",
        description="Văn phòng Sở; Nguyễn Văn A",
        agency_name="Ủy ban nhân dân tỉnh H",
        agency_code="000.00.12.H49",
        archive_name="Lưu trữ lịch sử tỉnh H",
    )


def _doc(tmp: Path, name: str, ordinal: int, data: bytes, *, streamed: bool) -> PackageDocument:
    if streamed:

        def content() -> Iterator[bytes]:
            for i in range(0, len(data), 7):
                yield data[i : i + 7]

        source: Path | Callable[[], Iterable[bytes]] = content
    else:
        source = tmp / f"src-{name}"
        source.write_bytes(data)
    return PackageDocument(
        name=name,
        content=source,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created=T0 + timedelta(days=ordinal),
        doc_ordinal=ordinal,
        type_name="22",
        number_of_page=2,
        code_number=f"{ordinal}",
        code_notation="UBND-VP",
        issued_date=date(2026, 2, ordinal),
        organ_name="Ủy ban nhân dân tỉnh H",
        subject=f"Về việc thứ {ordinal}",
        edxml_trace=b"<TraceHeaderList><TraceHeader/></TraceHeaderList>",
        status_history=(
            StatusChange(code="01", time=T0, organ="000.00.12.H49"),
            StatusChange(code="03", time=T0 + timedelta(hours=1), organ="000.00.12.H49"),
        ),
        evidence_record=b"\x30\x03\x02\x01\x01" + bytes([ordinal]),
        report_json=b'{"indication": "TOTAL-PASSED"}',
        report_html="<html><body>hợp lệ</body></html>".encode(),
        evidence_files={"signer.cer": b"\x30\x82cert", "crl-1.crl": b"\x30\x82crl"},
        signatures=(
            SignatureInfo(
                encoding="PAdES",
                method="RSA-SHA256",
                value="AAAA",
                validation_rules="ETSI EN 319 102-1: TOTAL-PASSED",
                signer="Nguyễn Văn A",
            ),
        ),
    )


DOCS = {
    "cong-van-1.pdf": b"%PDF-1.7\n" + b"first document " * 1000,
    "quyet-dinh 2.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 50,
    "goi.edxml": b"<edXMLEnvelope>third</edXMLEnvelope>",
}


def _documents(tmp: Path) -> list[PackageDocument]:
    return [
        _doc(tmp, name, i, data, streamed=i % 2 == 0)
        for i, (name, data) in enumerate(DOCS.items(), 1)
    ]


def _events() -> list[PreservationEvent]:
    return [
        PreservationEvent(event_type="ingestion", time=T0, detail="from the exchange service"),
        PreservationEvent(
            event_type="message digest calculation",
            time=T0,
            objects=("cong-van-1.pdf", "goi.edxml"),
        ),
        PreservationEvent(
            event_type="fixity check",
            time=T0 + timedelta(days=30),
            agent="archivist B",
            agent_type="person",
            objects=("quyet-dinh 2.pdf",),
        ),
    ]


@pytest.fixture
def aip(tmp_path: Path) -> Path:
    dest = tmp_path / "dossier.zip"
    summary = write_package(_dossier(), _documents(tmp_path), _events(), dest)
    assert summary.path == dest and summary.kind == "AIP"
    assert summary.size == dest.stat().st_size
    return dest


def _xml(zf: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(zf.read(name))


def _rewrite(src: Path, dest: Path, change: dict[str, bytes | None], add: dict[str, bytes]) -> None:
    """A copy of the ZIP with members replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    zout.writestr(info.filename, data)
            else:
                zout.writestr(info, zin.read(info))
        for name, data in add.items():
            zout.writestr(name, data)


def test_aip_passes_and_lists_every_document(aip: Path) -> None:
    check = check_package(aip)
    assert check.findings == ()
    assert check.ok and check.kind == "AIP"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", check.objid)
    assert [d.name for d in check.documents] == list(DOCS)
    for entry in check.documents:
        data = DOCS[entry.name]
        assert entry.intact
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.data_path == f"representations/rep1/data/{entry.name}"
        assert entry.ers_path == f"metadata/preservation/evidence/{entry.name}.ers"
        assert b"".join(check.iter_member(entry.data_path)) == data
        assert check.read_member(entry.ers_path)[:2] == b"\x30\x03"
        assert len(entry.report_paths) == 2
        assert [p.rsplit("/", 1)[1] for p in entry.evidence_paths] == ["crl-1.crl", "signer.cer"]


def _els(element: etree._Element, path: str) -> list[etree._Element]:
    found = element.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [e for e in found if isinstance(e, etree._Element)]


def _strs(element: etree._Element, path: str) -> list[str]:
    found = element.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(e) for e in found]


def _one(element: etree._Element, path: str) -> etree._Element:
    found = element.find(path, NS)
    assert found is not None, path
    return found


def _attr(element: etree._Element, name: str) -> str:
    value = element.get(name)
    assert value is not None, name
    return value


def _text(element: etree._Element, path: str) -> str:
    return _one(element, path).text or ""


HREF = f"{{{XLINK_NS}}}href"


def test_documents_are_byte_exact_and_every_member_is_checksummed(aip: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        names = set(zf.namelist())
        for name, data in DOCS.items():
            assert zf.read(f"representations/rep1/data/{name}") == data
        root = _xml(zf, "METS.xml")
        rep = _xml(zf, "representations/rep1/METS.xml")
        listed = set()
        for mets, base in ((root, ""), (rep, "representations/rep1/")):
            for ref in _els(mets, "//m:mdRef | //m:file"):
                assert ref.get("CHECKSUMTYPE") == "SHA-256"
                assert TIME_7.fullmatch(_attr(ref, "CREATED"))
                href = ref.get(HREF) or _attr(_one(ref, "m:FLocat"), HREF)
                path = base + href.replace("%20", " ")
                data = zf.read(path)
                assert ref.get("SIZE") == str(len(data))
                assert ref.get("CHECKSUM") == hashlib.sha256(data).hexdigest()
                listed.add(path)
    assert names - listed == {"METS.xml"}
    assert "metadata/preservation/evidence/cong-van-1.pdf.ers" in listed


def test_root_mets_structure(aip: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        root = _xml(zf, "METS.xml")
    assert root.tag == f"{{{METS_NS}}}mets"
    assert root.get("TYPE") == "Mixed"
    assert root.get("PROFILE") == "http://www.ra.ee/METS/v01/IP.xml"
    header = _one(root, "m:metsHdr")
    assert header.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") == "AIP"
    assert header.get("RECORDSTATUS") == "NEW"
    assert TIME_7.fullmatch(_attr(header, "CREATEDATE"))
    agents = {
        (_attr(a, "ROLE"), _attr(a, "TYPE")): (
            _text(a, "m:name"),
            _one(a, "m:note").get(f"{{{CSIP_NS}}}NOTETYPE"),
            _text(a, "m:note"),
        )
        for a in header.findall("m:agent", NS)
    }
    assert agents[("CREATOR", "OTHER")][:2] == ("lienthong", "SOFTWARE VERSION")
    assert agents[("ARCHIVIST", "ORGANIZATION")] == (
        "Ủy ban nhân dân tỉnh H",
        "IDENTIFICATIONCODE",
        "000.00.12.H49",
    )
    assert agents[("PRESERVATION", "ORGANIZATION")][1:] == ("IDENTIFICATIONCODE", "LT01")
    smap = _one(root, "m:structMap")
    assert smap.get("LABEL") == "CSIP"
    labels = [d.get("LABEL") for d in smap.findall("m:div/m:div", NS)]
    assert labels == ["Metadata", "Schemas", "Representations/rep1"]
    mptr = _one(smap, "m:div/m:div[@LABEL='Representations/rep1']/m:mptr")
    assert mptr.get(HREF) == "representations/rep1/METS.xml"
    assert _strs(root, "//m:mdRef/@MDTYPE").count("PREMIS") == 1
    # every ADMID/DMDID in the structMap names a section that exists
    ids = set(_strs(root, "//@ID"))
    refs = _strs(root, "//m:div/@ADMID | //m:div/@DMDID")
    assert refs and all(set(attr.split()) <= ids for attr in refs)


def test_rep_mets_joins_each_ead_doc_to_its_file(aip: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        rep = _xml(zf, "representations/rep1/METS.xml")
    assert rep.get("PROFILE") == "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
    files = {_attr(f, "ID"): f for f in _els(rep, "//m:file")}
    dmds = {_attr(d, "ID"): d for d in _els(rep, "//m:dmdSec")}
    links = _els(rep, "//m:div[@LABEL='MetadataLink']/m:div[@LABEL='File']")
    assert len(links) == len(DOCS)
    for link, name in zip(links, DOCS, strict=True):
        ead = _attr(_one(dmds[_attr(link, "DMDID")], "m:mdRef"), HREF)
        data = files[_attr(_one(link, "m:fptr"), "FILEID")]
        assert _attr(_one(data, "m:FLocat"), HREF).replace("%20", " ") == f"data/{name}"
        assert ead.replace("%20", " ") == f"metadata/descriptive/EAD_doc_{name}.xml"
        trail = [
            _attr(_one(files[_attr(f, "FILEID")], "m:FLocat"), HREF)
            for f in link.findall("m:fptr", NS)[1:]
        ]
        assert [t.rsplit(".", 2)[-2] for t in trail] == ["trace", "status"]


def test_ead_has_18_fields_and_ead_doc_19_in_order(aip: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        ead = _xml(zf, "metadata/descriptive/EAD.xml")
        doc = _xml(zf, "representations/rep1/metadata/descriptive/EAD_doc_quyet-dinh 2.pdf.xml")
        status = _xml(zf, "representations/rep1/documentation/goi.edxml.status.xml")
    assert ead.tag == "simpledc"
    assert [e.tag for e in ead] == list(DOSSIER_FIELDS_AIP)
    assert len(ead) == 18
    fields = {e.tag: e.text for e in ead}
    assert fields["arcFileCode"] == "LT01.000.00.12.H49.2026.01"
    assert fields["startDate"] == "05/01/2026"
    assert fields["language"] == "01,02"
    assert fields["totalDoc"] == "3" and fields["numberOfPage"] == "6"
    assert fields["riskRecovery"] == "0"
    assert [e.tag for e in doc] == list(DOC_FIELDS_AIP)
    assert len(doc) == 19
    values = {e.tag: e.text for e in doc}
    assert values["docCode"] == "000.00.12.H49.2026.01.0000002"
    assert values["docOrdinal"] == "2"
    assert values["process"] == "1"
    assert values["issuedDate"] == "02/02/2026"
    assert [s.findtext("code") for s in status] == ["01", "03"]
    assert all(TIME_7.fullmatch(s.findtext("time") or "") for s in status)


def test_premis_objects_events_agents(aip: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        premis = _xml(zf, "metadata/preservation/PREMIS.xml")
        rep = _xml(zf, "representations/rep1/metadata/preservation/PREMIS_rep1.xml")
    assert premis.get("version") == "3.0"
    xsi_type = "{http://www.w3.org/2001/XMLSchema-instance}type"
    files = [o for o in _els(premis, "premis:object") if o.get(xsi_type) == "premis:file"]
    assert len(files) == 3
    digests = [_text(f, ".//premis:messageDigest") for f in files]
    assert digests == [hashlib.sha256(d).hexdigest() for d in DOCS.values()]
    assert all(_text(f, ".//premis:messageDigestAlgorithm") == "SHA-256" for f in files)
    assert all(f.find("premis:storage", NS) is not None for f in files)
    encoding = "premis:signatureInformation/premis:signature/premis:signatureEncoding"
    assert all(_text(f, encoding) == "PAdES" for f in files)
    events = premis.findall("premis:event", NS)
    assert [_text(e, "premis:eventType") for e in events] == [
        "ingestion",
        "message digest calculation",
        "fixity check",
    ]
    assert all(TIME_7.fullmatch(_text(e, "premis:eventDateTime")) for e in events)
    agents = [_text(a, "premis:agentName") for a in premis.findall("premis:agent", NS)]
    assert agents == ["lienthong", "archivist B"]
    linked = _strs(events[2], ".//premis:linkingObjectIdentifierValue/text()")
    assert linked[0].endswith("/representations/rep1/data/quyet-dinh 2.pdf")
    # the representation's PREMIS keeps only the events about its files
    assert len(rep.findall("premis:event", NS)) == 2


SCHEMAS = Path(__file__).with_name("test_package_schemas")


def _mets_schema(tmp: Path) -> etree.XMLSchema:
    """METS 1.12 with the CSIP extension; mets.xsd imports XLink from the Library of
    Congress, pointed here at the local copy (tests have no network)."""
    mets = (SCHEMAS / "mets.xsd").read_bytes()
    remote = b"http://www.loc.gov/standards/xlink/xlink.xsd"
    assert remote in mets
    local = tmp / "mets.xsd"
    local.write_bytes(mets.replace(remote, (SCHEMAS / "xlink.xsd").as_uri().encode()))
    wrapper = (
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
        f'<xsd:import namespace="{METS_NS}" schemaLocation="{local.as_uri()}"/>'
        f'<xsd:import namespace="{CSIP_NS}" '
        f'schemaLocation="{(SCHEMAS / "DILCISExtensionMETS.xsd").as_uri()}"/>'
        "</xsd:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper, etree.XMLParser(no_network=True)))


@pytest.mark.parametrize("kind", ["AIP", "SIP"])
def test_mets_is_valid_against_the_mets_and_csip_schemas(
    tmp_path: Path, kind: Literal["AIP", "SIP"]
) -> None:
    dest = tmp_path / "p.zip"
    write_package(_dossier(), _documents(tmp_path), _events(), dest, kind=kind)
    schema = _mets_schema(tmp_path)
    with zipfile.ZipFile(dest) as zf:
        for name in ("METS.xml", "representations/rep1/METS.xml"):
            assert schema.validate(_xml(zf, name)), (name, str(schema.error_log))
        # the schema does judge: an OAIS package type outside the CSIP list is refused
        forged = zf.read("METS.xml").replace(b'OAISPACKAGETYPE="', b'OAISPACKAGETYPE="X')
    assert not schema.validate(etree.fromstring(forged))


def test_tampered_document_is_named(aip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(aip, bad, {"representations/rep1/data/cong-van-1.pdf": b"%PDF-1.7\nforged"}, {})
    check = check_package(bad)
    assert not check.ok
    assert [(f.code, f.path) for f in check.findings] == [
        ("package.tampered", "representations/rep1/data/cong-van-1.pdf")
    ]
    assert "cong-van-1.pdf" in check.findings[0].vi
    entries = {d.name: d for d in check.documents}
    assert not entries["cong-van-1.pdf"].intact and entries["goi.edxml"].intact


def test_removed_and_added_files_are_named(aip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(
        aip,
        bad,
        {"metadata/preservation/evidence/goi.edxml.ers": None},
        {"representations/rep1/data/extra.pdf": b"%PDF smuggled"},
    )
    check = check_package(bad)
    found = {(f.code, f.path) for f in check.findings}
    assert found == {
        ("package.missing", "metadata/preservation/evidence/goi.edxml.ers"),
        ("package.unlisted", "representations/rep1/data/extra.pdf"),
    }
    assert {d.name: d.ers_path for d in check.documents}["goi.edxml"] is None


def test_tampered_mets_checksum_is_named(aip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(aip) as zf:
        rep = zf.read("representations/rep1/METS.xml")
    digest = hashlib.sha256(DOCS["goi.edxml"]).hexdigest()
    forged = rep.replace(digest.encode(), b"0" * 64)
    assert forged != rep
    bad = tmp_path / "bad.zip"
    _rewrite(aip, bad, {"representations/rep1/METS.xml": forged}, {})
    found = {(f.code, f.path) for f in check_package(bad).findings}
    # the data no longer matches the edited METS, and the edited METS no longer matches the
    # checksum the root METS keeps of it
    assert found == {
        ("package.tampered", "representations/rep1/data/goi.edxml"),
        ("package.tampered", "representations/rep1/METS.xml"),
    }
    root_forged = tmp_path / "bad2.zip"
    with zipfile.ZipFile(aip) as zf:
        mets = zf.read("METS.xml")
    cut = re.sub(rb'CHECKSUM="[0-9a-f]{64}"', b'CHECKSUM="xyz"', mets, count=1)
    _rewrite(aip, root_forged, {"METS.xml": cut}, {})
    codes = [f.code for f in check_package(root_forged).findings]
    assert codes == ["package.bad_checksum"]


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/evil", "representations/../../evil", "C:/evil", "a\\..\\b"]
)
def test_unsafe_names_are_refused(aip: Path, tmp_path: Path, name: str) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(aip, bad, {}, {name: b"x"})
    with pytest.raises(PackageInvalid) as caught:
        check_package(bad)
    assert "unsafe file name" in caught.value.en and "không an toàn" in caught.value.vi


def test_duplicate_name_and_symlink_are_refused(aip: Path, tmp_path: Path) -> None:
    dup = tmp_path / "dup.zip"
    shutil.copy(aip, dup)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(dup, "a") as zf:
        zf.writestr("representations/rep1/data/goi.edxml", b"shadow")
    with pytest.raises(PackageInvalid, match="occurs twice"):
        check_package(dup)
    link = tmp_path / "link.zip"
    shutil.copy(aip, link)
    with zipfile.ZipFile(link, "a") as zf:
        info = zipfile.ZipInfo("representations/rep1/data/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(PackageInvalid, match="symbolic link"):
        check_package(link)


def test_zip_bomb_is_refused(aip: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    shutil.copy(aip, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("representations/rep1/data/zeros.bin", bytes(64 * 1024 * 1024))
    with pytest.raises(PackageInvalid, match="ZIP bomb"):
        check_package(bomb)
    with pytest.raises(PackageInvalid, match="expands to more than"):
        check_package(aip, max_total_size=10_000)


def test_sip_has_no_preservation_metadata(tmp_path: Path) -> None:
    dest = tmp_path / "sip.zip"
    dossier = _dossier()
    summary = write_package(dossier, _documents(tmp_path), _events(), dest, kind="SIP")
    assert summary.objid == f"uuid-{dossier.objid}"
    check = check_package(dest)
    assert check.ok and check.kind == "SIP" and check.objid == summary.objid
    with zipfile.ZipFile(dest) as zf:
        names = zf.namelist()
        root = _xml(zf, "METS.xml")
        ead = _xml(zf, "metadata/descriptive/EAD.xml")
        doc = _xml(zf, "representations/rep1/metadata/descriptive/EAD_doc_goi.edxml.xml")
    assert not [n for n in names if "PREMIS" in n]
    assert "PREMIS" not in _strs(root, "//m:mdRef/@MDTYPE")
    assert root.get("OBJID") == summary.objid
    assert _one(root, "m:metsHdr").get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") == "SIP"
    assert [e.tag for e in ead] == list(DOSSIER_FIELDS_SIP)
    assert ead.findtext("fileCode") == dossier.file_code
    assert [e.tag for e in doc] == list(DOC_FIELDS_SIP)
    # the proof still travels with a SIP
    assert "metadata/preservation/evidence/goi.edxml.ers" in names


def test_document_not_matching_its_digest_stops_the_export(tmp_path: Path) -> None:
    docs = _documents(tmp_path)
    (tmp_path / "src-cong-van-1.pdf").write_bytes(b"changed on disk")
    dest = tmp_path / "out.zip"
    with pytest.raises(DamagedObject, match=r"cong-van-1\.pdf"):
        write_package(_dossier(), docs, _events(), dest)
    assert not dest.exists()
    assert not list(tmp_path.glob(".out.zip.*"))


def test_metadata_outside_the_code_lists_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageInvalid, match="maintenance"):
        Dossier(
            file_code="X",
            archive_code="Y",
            title="t",
            maintenance="08",
            mode="01",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 1, 2),
        )
    with pytest.raises(PackageInvalid, match="cannot be a file name"):
        _doc(tmp_path, "../x.pdf", 1, b"x", streamed=True)
    with pytest.raises(PackageInvalid, match="cannot be written as XML"):
        write_package(
            replace(_dossier(), title="bell \x07 in the title"),
            _documents(tmp_path),
            [],
            tmp_path / "x.zip",
        )
    with pytest.raises(PackageInvalid, match="time zone"):
        replace(_documents(tmp_path)[0], created=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(PackageInvalid, match="time zone"):
        write_package(
            _dossier(),
            _documents(tmp_path),
            [PreservationEvent(event_type="ingestion", time=datetime(2026, 1, 1))],  # noqa: DTZ001
            tmp_path / "x.zip",
        )


def test_package_under_one_top_folder_is_accepted(aip: Path, tmp_path: Path) -> None:
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(aip) as zin, zipfile.ZipFile(nested, "w") as zout:
        top = zin.read("METS.xml").split(b'OBJID="', 1)[1].split(b'"', 1)[0].decode()
        folder = top.replace(":", "_")
        for info in zin.infolist():
            zout.writestr(f"{folder}/{info.filename}", zin.read(info))
    check = check_package(nested)
    assert check.ok
    entry = check.documents[0]
    assert b"".join(check.iter_member(entry.data_path)) == DOCS[entry.name]


def test_flipped_byte_inside_the_zip_is_named_not_raised(aip: Path, tmp_path: Path) -> None:
    """A bit flipped on disk in a member's compressed data: the member fails its CRC or
    cannot inflate; the check names it and reading it says why, as PackageInvalid."""
    damaged = tmp_path / "damaged.zip"
    raw = bytearray(aip.read_bytes())
    target = "representations/rep1/data/quyet-dinh 2.pdf"
    with zipfile.ZipFile(aip) as zf:
        info = zf.getinfo(target)
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0x01
    damaged.write_bytes(bytes(raw))
    check = check_package(damaged)
    assert [(f.code, f.path) for f in check.findings] == [("package.tampered", target)]
    with pytest.raises(PackageInvalid, match="cannot read"):
        check.read_member(target)


def test_a_large_document_is_streamed_both_ways(tmp_path: Path) -> None:
    """48 MiB in and out with Python's allocations staying far below the document's size."""
    chunk_count, chunk = 48, os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    for _ in range(chunk_count):
        digest.update(chunk)

    def content() -> Iterator[bytes]:
        for _ in range(chunk_count):
            yield chunk

    big = replace(
        _doc(tmp_path, "lon.pdf", 1, b"", streamed=True),
        content=content,
        sha256=digest.hexdigest(),
        size=chunk_count * len(chunk),
    )
    dest = tmp_path / "big.zip"
    tracemalloc.start()
    try:
        write_package(_dossier(), [big], [], dest)
        _, written_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        check = check_package(dest)
        streamed = hashlib.sha256()
        for part in check.iter_member(check.documents[0].data_path):
            streamed.update(part)
        _, checked_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.ok and streamed.hexdigest() == digest.hexdigest()
    limit = 12 * 1024 * 1024
    assert written_peak < limit and checked_peak < limit, (written_peak, checked_peak)
