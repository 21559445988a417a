"""An adversary's read of the offline package check: genuine packages are built once for the
module, then their bytes and ZIP members are mutated. Whatever the trick, the check must
refuse the package (PackageInvalid) or say it is not proven; it must never call a forged or
tampered package proven, nor claim more than the evidence covers."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from archive import Archive, PackageInvalid, TwoCopyStore, ingest, seal
from archive.catalog import metadata
from archive.exporting import export_package
from archive.mets import METS_NS, XLINK_NS, check_package, q, xml_bytes
from archive.verifying import PackageVerdict, verify_package
from archive.ziplayout import check_layout
from signing import HttpTimestamper, Level, PadesSigner, PadesSpec
from signing.dev import DevPki, DevServices
from validation import TrustAnchors, ValidationPolicy


@dataclass(frozen=True)
class Genuine:
    one: Path
    """Dossier H53.2026.90: two documents, a.pdf and b.pdf."""
    two: Path
    """Dossier H53.2026.91: one document, c.pdf."""
    anchors: TrustAnchors
    folder: Path


@pytest.fixture(scope="module")
async def genuine(
    tmp_path_factory: pytest.TempPathFactory,
    pki: DevPki,
    dev_services: DevServices,
    sample_pdf: bytes,
) -> AsyncIterator[Genuine]:
    root = tmp_path_factory.mktemp("attacks")
    engine = create_async_engine(f"sqlite+aiosqlite:///{root / 'catalog.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    store = TwoCopyStore(root / "copy-1", root / "copy-2")
    store.initialise()
    anchors = TrustAnchors({"public": (pki.root.asn1,)})
    spec = PadesSpec(level=Level.B_T, tsa_urls=(dev_services.tsa_url,))
    signer = PadesSigner(pki.in_memory_key("agency"), spec)
    inputs = root / "in"
    inputs.mkdir()
    paths = []
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        signed, _ = await signer.sign_bytes(sample_pdf)
        (inputs / name).write_bytes(signed)
        paths.append(inputs / name)
    async with HttpTimestamper([dev_services.tsa_url]) as tsa:
        archive = Archive(
            sessions=async_sessionmaker(engine, expire_on_commit=False),
            store=store,
            timestamper=tsa,
            policy=ValidationPolicy(anchors=anchors, revocation="soft"),
            trust_roots=(pki.root.asn1,),
        )
        await ingest(archive, paths[:2], dossier="H53.2026.90", title="Hồ sơ một")
        await seal(archive)
        await ingest(archive, paths[2:], dossier="H53.2026.91", title="Hồ sơ hai")
        await seal(archive)
        one, two = root / "one.zip", root / "two.zip"
        await export_package(archive, "H53.2026.90", one)
        await export_package(archive, "H53.2026.91", two)
    await engine.dispose()
    yield Genuine(one, two, anchors, root)


def read_members(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(info, z.read(info)) for info in z.infolist()]


def write_zip(path: Path, items: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            z.writestr(info, data)
    return path


DATA = "representations/rep1/data"
EVIDENCE = "metadata/preservation/evidence"
REP_METS = "representations/rep1/METS.xml"


def members(path: Path) -> dict[str, bytes]:
    return {info.filename: data for info, data in read_members(path)}


def consistent(items: dict[str, bytes]) -> dict[str, bytes]:
    """What a forger does after changing files: every METS checksum and size recomputed,
    the representation METS first, then the root one, so that METS agrees with the files."""
    out = dict(items)
    for mets, base in ((REP_METS, "representations/rep1/"), ("METS.xml", "")):
        root = etree.fromstring(out[mets])
        for element in root.iter(q(METS_NS, "mdRef"), q(METS_NS, "file")):
            locat = element.find(q(METS_NS, "FLocat"))
            href = (locat if locat is not None else element).get(q(XLINK_NS, "href"))
            data = out.get(base + str(href))
            if data is not None:
                element.set("SIZE", str(len(data)))
                element.set("CHECKSUM", hashlib.sha256(data).hexdigest())
        out[mets] = xml_bytes(root)
    return out


async def judged(genuine: Genuine, path: Path, at: datetime | None = None) -> PackageVerdict | None:
    """The verdict, or None when the package is refused outright (PackageInvalid)."""
    try:
        return await verify_package(path, anchors=genuine.anchors, at=at)
    except PackageInvalid:
        return None


def problems(verdict: PackageVerdict) -> list[str]:
    return [en for en, _ in verdict.problems] + [
        en for d in verdict.documents for en, _ in d.problems
    ]


async def test_the_genuine_packages_are_proven_and_say_what_is_not_covered(
    genuine: Genuine,
) -> None:
    for path in (genuine.one, genuine.two):
        verdict = await verify_package(path, anchors=genuine.anchors)
        assert verdict.proven, problems(verdict)
        assert "composition" in verdict.scope[0]


@pytest.mark.parametrize(
    "name",
    [
        "../evil.pdf",
        "/etc/evil.pdf",
        "representations\\rep1\\data\\a.pdf",
        "representations/rep1/data/a\x00.pdf",
        "representations/rep1/./data/a.pdf",
        "C:/evil.pdf",
    ],
)
async def test_unsafe_member_names_are_refused(genuine: Genuine, name: str, tmp_path: Path) -> None:
    items: list[tuple[zipfile.ZipInfo | str, bytes]] = [
        (info, data) for info, data in read_members(genuine.one)
    ]
    info = zipfile.ZipInfo("x")
    info.filename = name  # zipfile would clean the name up; a forger's writer does not
    items.append((info, b"forged"))
    verdict = await judged(genuine, write_zip(tmp_path / "p.zip", items))
    # zipfile cuts a name at NUL: what is left is an unlisted file, named as such
    assert verdict is None or (not verdict.proven and "\x00" in name)


@pytest.mark.parametrize("forged_first", [True, False])
async def test_a_member_name_twice_is_refused(
    genuine: Genuine, tmp_path: Path, forged_first: bool
) -> None:
    """zipfile's open() by name finds the last, infolist() has both: never judge either."""
    items: list[tuple[zipfile.ZipInfo | str, bytes]] = []
    for info, data in read_members(genuine.one):
        if info.filename == f"{DATA}/a.pdf":
            pair = [(info.filename, b"%PDF-forged"), (info, data)]
            items += pair if forged_first else pair[::-1]
        else:
            items.append((info, data))
    with pytest.warns(UserWarning):
        path = write_zip(tmp_path / "p.zip", items)
    assert await judged(genuine, path) is None


async def test_a_case_variant_name_is_refused(genuine: Genuine, tmp_path: Path) -> None:
    items = members(genuine.one)
    items[f"{DATA}/A.PDF"] = b"%PDF-forged"
    assert await judged(genuine, write_zip(tmp_path / "p.zip", list(items.items()))) is None


async def test_symbolic_links_and_encrypted_members_are_refused(
    genuine: Genuine, tmp_path: Path
) -> None:
    items: list[tuple[zipfile.ZipInfo | str, bytes]] = []
    for info, data in read_members(genuine.one):
        if info.filename == f"{DATA}/a.pdf":
            info.external_attr = 0o120777 << 16
        items.append((info, data))
    assert await judged(genuine, write_zip(tmp_path / "link.zip", items)) is None
    # zipfile's writer clears the encryption bit: set it in the bytes, both headers
    raw = bytearray(genuine.one.read_bytes())
    name = f"{DATA}/a.pdf".encode()
    with zipfile.ZipFile(genuine.one) as z:
        local = z.getinfo(f"{DATA}/a.pdf").header_offset
    raw[local + 6] |= 0x1
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(name)] != name:
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[central + 8] |= 0x1
    encrypted = tmp_path / "encrypted.zip"
    encrypted.write_bytes(bytes(raw))
    assert await judged(genuine, encrypted) is None


async def test_unlisted_members_and_a_zip_inside_are_named(
    genuine: Genuine, tmp_path: Path
) -> None:
    items = members(genuine.one)
    items[f"{DATA}/inner.zip"] = genuine.two.read_bytes()
    verdict = await judged(genuine, write_zip(tmp_path / "p.zip", list(items.items())))
    assert verdict is not None and not verdict.proven
    assert any("inner.zip" in en and "no METS lists it" in en for en in problems(verdict))


async def test_a_mets_with_a_dtd_or_entities_is_refused(genuine: Genuine, tmp_path: Path) -> None:
    items = members(genuine.one)
    mets = items["METS.xml"]
    head, rest = mets.split(b"\n", 1)
    items["METS.xml"] = (
        head + b'\n<!DOCTYPE mets [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' + rest
    ).replace(b'LABEL="H', b'LABEL="&x;H', 1)
    assert await judged(genuine, write_zip(tmp_path / "p.zip", list(items.items()))) is None


async def test_an_empty_package_proves_nothing(genuine: Genuine, tmp_path: Path) -> None:
    """A METS alone, its documents removed from it: no document, nothing proven."""
    items = members(genuine.one)
    for name in list(items):
        if name.startswith(("representations/", "metadata/")):
            del items[name]
    root = etree.fromstring(items["METS.xml"])
    sections = (q(METS_NS, "amdSec"), q(METS_NS, "dmdSec"), q(METS_NS, "fileSec"))
    for element in list(root.iter(*sections)):
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    items["METS.xml"] = xml_bytes(root)
    verdict = await judged(genuine, write_zip(tmp_path / "p.zip", list(items.items())))
    assert verdict is not None and not verdict.documents
    assert not verdict.proven
    assert any("no document" in en for en in problems(verdict))


async def test_an_unreadable_evidence_record_is_named_not_raised(
    genuine: Genuine, tmp_path: Path
) -> None:
    """Trailing bytes after the record's DER, or bytes that are no record at all: that
    document is not proven, the other is still judged."""
    for tail in (b"\x00", b"garbage"):
        items = members(genuine.one)
        items[f"{EVIDENCE}/a.pdf.ers"] += tail
        verdict = await judged(
            genuine, write_zip(tmp_path / "p.zip", list(consistent(items).items()))
        )
        assert verdict is not None and not verdict.proven
        a, b = verdict.documents
        assert not a.proven and b.proven
        assert any("evidence record" in en for en, _ in a.problems)


async def test_the_record_of_another_document(genuine: Genuine, tmp_path: Path) -> None:
    items = members(genuine.one)
    items[f"{EVIDENCE}/a.pdf.ers"] = members(genuine.two)[f"{EVIDENCE}/c.pdf.ers"]
    verdict = await judged(genuine, write_zip(tmp_path / "p.zip", list(consistent(items).items())))
    assert verdict is not None and not verdict.proven
    assert not verdict.documents[0].proven and verdict.documents[1].proven


async def test_verification_time_before_the_archive_timestamp(genuine: Genuine) -> None:
    verdict = await judged(genuine, genuine.one, at=datetime(2020, 1, 1, tzinfo=UTC))
    assert verdict is not None and not verdict.proven


async def test_a_package_composed_of_two_packages_genuine_parts(
    genuine: Genuine, tmp_path: Path
) -> None:
    """b.pdf swapped for c.pdf of another dossier, with its record, METS rewritten
    consistently: each document is genuinely proven, but the dossier's sealed composition
    record lists a.pdf and b.pdf: the package is not proven, and the verdict names both."""
    items = members(genuine.one)
    other = members(genuine.two)
    composed: dict[str, bytes] = {}
    for name, data in items.items():
        if "b.pdf" in name:
            replacement = name.replace("b.pdf", "c.pdf")
            composed[replacement] = other.get(replacement, data)
        elif name.endswith("METS.xml"):
            composed[name] = data.replace(b"b.pdf", b"c.pdf")
        else:
            composed[name] = data
    verdict = await judged(
        genuine, write_zip(tmp_path / "p.zip", list(consistent(composed).items()))
    )
    assert verdict is not None
    assert [d.name for d in verdict.documents] == ["a.pdf", "c.pdf"]
    assert all(d.proven for d in verdict.documents), problems(verdict)
    assert not verdict.proven
    found = " | ".join(problems(verdict))
    assert "the dossier held these documents, the package lacks them (version 1): b.pdf" in found
    assert "the package holds these documents, the dossier did not (version 1): c.pdf" in found
    assert verdict.scope[0].startswith(
        "each document is proven; the package's composition (METS) is not covered"
    )


COMPOSITION = "metadata/preservation/composition.json"


def without(items: dict[str, bytes], *names: str) -> dict[str, bytes]:
    """``names`` taken out of the package and out of both METS (their entries removed)."""
    out = {k: v for k, v in items.items() if k not in names}
    for mets, base in ((REP_METS, "representations/rep1/"), ("METS.xml", "")):
        root = etree.fromstring(out[mets])
        for element in list(root.iter(q(METS_NS, "mdRef"), q(METS_NS, "file"))):
            locat = element.find(q(METS_NS, "FLocat"))
            href = (locat if locat is not None else element).get(q(XLINK_NS, "href"))
            if base + str(href) in names:
                holder = element.getparent()
                assert holder is not None
                holder.remove(element)
        out[mets] = xml_bytes(root)
    return consistent(out)


async def test_the_composition_is_proven_and_says_so(genuine: Genuine) -> None:
    verdict = await verify_package(genuine.one, anchors=genuine.anchors)
    assert verdict.proven, problems(verdict)
    assert verdict.scope[0].startswith(
        "each document is proven; the package holds exactly the documents of the composition"
    )
    # a timestamp proves when, not who: the verdict does not claim the record authentic
    assert "not signed by the archive" in verdict.scope[0] and "forger" in verdict.scope[0]
    # as of which record: an older genuine one (the dossier grew since) would say so
    assert "(version 1, made 20" in verdict.scope[0] and "+07:00)" in verdict.scope[0]
    assert "(phiên bản 1, lập lúc 20" in verdict.scope[1]
    assert COMPOSITION in members(genuine.one) and COMPOSITION + ".ers" in members(genuine.one)


async def test_a_document_left_out_of_the_package(genuine: Genuine, tmp_path: Path) -> None:
    """b.pdf, its record and its reports removed, METS rewritten without them: what is
    left is genuine, but the dossier held b.pdf."""
    items = members(genuine.one)
    gone = [name for name in items if "b.pdf" in name and not name.endswith("METS.xml")]
    path = write_zip(tmp_path / "p.zip", list(without(items, *gone).items()))
    verdict = await judged(genuine, path)
    assert verdict is not None and not verdict.proven
    assert [d.name for d in verdict.documents] == ["a.pdf"]
    assert any("the package lacks them (version 1): b.pdf" in p for p in problems(verdict))


async def test_a_composition_record_altered_or_of_another_dossier(
    genuine: Genuine, tmp_path: Path
) -> None:
    items = members(genuine.one)
    # altered: b.pdf renamed in the record itself, METS checksums recomputed
    altered = dict(items)
    altered[COMPOSITION] = items[COMPOSITION].replace(b'"b.pdf"', b'"x.pdf"')
    verdict = await judged(
        genuine, write_zip(tmp_path / "a.zip", list(consistent(altered).items()))
    )
    assert verdict is not None and not verdict.proven
    assert any(p.startswith(COMPOSITION) and "does not cover" in p for p in problems(verdict))
    # another dossier's genuine record (and its evidence record) put in
    other = members(genuine.two)
    swapped = dict(items)
    swapped[COMPOSITION] = other[COMPOSITION]
    swapped[COMPOSITION + ".ers"] = other[COMPOSITION + ".ers"]
    verdict = await judged(
        genuine, write_zip(tmp_path / "s.zip", list(consistent(swapped).items()))
    )
    assert verdict is not None and not verdict.proven
    assert any("record of another dossier (H53.2026.91)" in p for p in problems(verdict))


async def test_a_composition_record_taken_out_is_said(genuine: Genuine, tmp_path: Path) -> None:
    """Without its composition record (and METS rewritten) a package proves only its
    documents; the verdict says that it does not prove the composition. A record without
    its evidence record, or an evidence record alone, is a problem."""
    items = members(genuine.one)
    bare = write_zip(
        tmp_path / "bare.zip", list(without(items, COMPOSITION, COMPOSITION + ".ers").items())
    )
    verdict = await judged(genuine, bare)
    assert verdict is not None and verdict.proven
    assert "composition (METS) is not covered" in verdict.scope[0]
    for gone in (COMPOSITION, COMPOSITION + ".ers"):
        path = write_zip(tmp_path / "half.zip", list(without(items, gone).items()))
        verdict = await judged(genuine, path)
        assert verdict is not None and not verdict.proven, gone


# --- one ZIP, one reading ---------------------------------------------------------------------
# zipfile (which the check uses) and a streaming unzip (which someone unpacking the package
# may use) must not see different files: any byte the central directory does not account for
# is refused, with its reason.


def _central_entries(raw: bytes) -> tuple[int, list[int]]:
    """(the EOCD's position, the positions of each central-directory entry) of a small ZIP."""
    eocd = raw.rindex(b"PK\x05\x06")
    entries = int.from_bytes(raw[eocd + 10 : eocd + 12], "little")
    at = int.from_bytes(raw[eocd + 16 : eocd + 20], "little")
    positions = []
    for _ in range(entries):
        assert raw[at : at + 4] == b"PK\x01\x02"
        positions.append(at)
        lengths = [int.from_bytes(raw[at + i : at + i + 2], "little") for i in (28, 30, 32)]
        at += 46 + sum(lengths)
    return eocd, positions


def inserted(raw: bytes, at: int, junk: bytes) -> bytes:
    """``junk`` put at byte ``at``, every offset after it moved on: a well-formed ZIP to
    zipfile, which reads the central directory, with bytes only a front-to-back reader sees."""
    eocd, positions = _central_entries(raw)
    out = bytearray(raw)
    for entry in positions:
        offset = int.from_bytes(raw[entry + 42 : entry + 46], "little")
        if offset >= at:
            out[entry + 42 : entry + 46] = (offset + len(junk)).to_bytes(4, "little")
    cd_offset = int.from_bytes(raw[eocd + 16 : eocd + 20], "little")
    if cd_offset >= at:
        out[eocd + 16 : eocd + 20] = (cd_offset + len(junk)).to_bytes(4, "little")
    return bytes(out[:at]) + junk + bytes(out[at:])


def _refusal(genuine: Genuine, path: Path) -> str:
    with pytest.raises(PackageInvalid) as caught:
        check_package(path)
    assert caught.value.vi, caught.value
    return str(caught.value)


def _forged_local_member(name: str, data: bytes) -> bytes:
    """A local header and data for ``name``, as a front-to-back reader would take it."""
    crc = zlib.crc32(data)
    encoded = name.encode()
    header = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(encoded), 0
    )
    return header + encoded + data


async def test_the_genuine_zips_have_one_reading(genuine: Genuine) -> None:
    for path in (genuine.one, genuine.two):
        with zipfile.ZipFile(path) as z, path.open("rb") as handle:
            check_layout(handle, z.infolist())


async def test_a_hidden_member_before_the_first_is_refused(
    genuine: Genuine, tmp_path: Path
) -> None:
    raw = genuine.one.read_bytes()
    forged = _forged_local_member(f"{DATA}/a.pdf", b"%PDF-forged")
    path = tmp_path / "p.zip"
    path.write_bytes(inserted(raw, 0, forged))
    with zipfile.ZipFile(path) as z:  # zipfile alone sees the genuine package
        assert z.read(f"{DATA}/a.pdf") == members(genuine.one)[f"{DATA}/a.pdf"]
    assert "unlisted data before it" in _refusal(genuine, path)
    assert await judged(genuine, path) is None


async def test_prepended_bytes_with_the_offsets_left_alone_are_refused(
    genuine: Genuine, tmp_path: Path
) -> None:
    """zipfile shifts every offset by what was prepended (a self-extracting stub)."""
    path = tmp_path / "p.zip"
    path.write_bytes(_forged_local_member("x", b"stub") + genuine.one.read_bytes())
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    assert "offsets do not add up" in _refusal(genuine, path)


async def test_a_gap_between_members_and_before_the_directory_is_refused(
    genuine: Genuine, tmp_path: Path
) -> None:
    raw = genuine.one.read_bytes()
    with zipfile.ZipFile(genuine.one) as z:
        second = sorted(i.header_offset for i in z.infolist())[1]
        directory = z.start_dir
    forged = _forged_local_member(f"{DATA}/c.pdf", b"%PDF-forged")
    gap, before = tmp_path / "gap.zip", tmp_path / "before.zip"
    gap.write_bytes(inserted(raw, second, forged))
    before.write_bytes(inserted(raw, directory, forged))
    assert "unlisted data before it" in _refusal(genuine, gap)
    assert "unlisted data before the central directory" in _refusal(genuine, before)


async def test_bytes_after_the_end_record_are_refused(genuine: Genuine, tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(genuine.one.read_bytes() + _forged_local_member("x", b"appended"))
    with zipfile.ZipFile(path) as z:  # zipfile reads it as if nothing were there
        assert z.testzip() is None
    assert "no end record closes the file" in _refusal(genuine, path)


@pytest.mark.parametrize("field", ["name", "crc"])
async def test_a_local_header_that_differs_from_the_directory_is_refused(
    genuine: Genuine, tmp_path: Path, field: str
) -> None:
    raw = bytearray(genuine.one.read_bytes())
    name = f"{DATA}/a.pdf"
    with zipfile.ZipFile(genuine.one) as z:
        local = z.getinfo(name).header_offset
    if field == "name":  # a streaming unzip writes x.pdf, zipfile reads a.pdf
        raw[local + 30 + len(name) - 5] = ord("x")
    else:  # a streaming unzip checks the data against another CRC
        raw[local + 14] ^= 0xFF
    path = tmp_path / "p.zip"
    path.write_bytes(bytes(raw))
    reason = _refusal(genuine, path)
    assert "differs from the central directory" in reason and name in reason


async def test_a_file_that_is_also_a_folder_is_refused(genuine: Genuine, tmp_path: Path) -> None:
    items = members(genuine.one)
    items[f"{DATA}/a.pdf/inside.pdf"] = b"%PDF-forged"
    path = write_zip(tmp_path / "p.zip", list(items.items()))
    assert "both a file and a folder" in _refusal(genuine, path)


def test_ordinary_writers_layouts_pass(tmp_path: Path) -> None:
    """What other writers produce is not refused: ZIP64 end records (more than 65,535
    files), data descriptors (written to a stream), stored members, a comment."""
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for n in range(65_600):
            z.writestr(f"f/{n}", b"")
    streamed = io.BytesIO()

    class Unseekable(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            return streamed.write(data)

    with zipfile.ZipFile(Unseekable(), "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.comment = b"written to a pipe"
        for n in range(3):
            with z.open(f"d/{n}.pdf", "w", force_zip64=n == 1) as out:
                out.write(b"%PDF-1.7 " * 1000)
    for raw in (many.read_bytes(), streamed.getvalue()):
        handle = io.BytesIO(raw)
        with zipfile.ZipFile(handle) as z:
            assert any(i.flag_bits & 0x8 for i in z.infolist()) or len(z.infolist()) > 0xFFFF
            check_layout(handle, z.infolist())


async def test_a_second_representation_with_the_same_names(
    genuine: Genuine, tmp_path: Path
) -> None:
    """rep1 copied whole as rep2 and listed in the root METS: every document is genuine and
    proven, names and digests match the composition record, yet the package holds each
    document twice: not the composition the archive sealed."""
    import copy

    items = members(genuine.one)
    for name, data in list(items.items()):
        if name.startswith("representations/rep1/"):
            items[name.replace("/rep1/", "/rep2/", 1)] = data
    root = etree.fromstring(items["METS.xml"])
    for element in list(root.iter(q(METS_NS, "mptr"), q(METS_NS, "FLocat"))):
        if element.get(q(XLINK_NS, "href")) == REP_METS:
            twin = copy.deepcopy(element)
            twin.set(q(XLINK_NS, "href"), REP_METS.replace("rep1", "rep2"))
            holder = element.getparent()
            assert holder is not None
            outer = holder.getparent()
            assert outer is not None
            wrapper = copy.deepcopy(holder)
            wrapper.clear()
            wrapper.attrib.update(
                {k: v + "-2" if k == "ID" else v for k, v in holder.attrib.items()}
            )
            wrapper.append(twin)
            outer.append(wrapper)
    items["METS.xml"] = xml_bytes(root)
    verdict = await judged(genuine, write_zip(tmp_path / "p.zip", list(consistent(items).items())))
    assert verdict is not None
    assert len(verdict.documents) == 4, [d.name for d in verdict.documents]
    assert not verdict.proven
    assert any("more than one document named a.pdf, b.pdf" in p for p in problems(verdict))


async def test_a_second_name_in_an_extra_field_is_refused(genuine: Genuine, tmp_path: Path) -> None:
    """Info-ZIP's Unicode Path field names the member for unzip (which writes the file under
    that name) while zipfile ignores it: a.pdf's bytes and a report's swapped that way would
    be verified under one name and unpacked under the other."""
    items: list[tuple[zipfile.ZipInfo | str, bytes]] = []
    for info, data in read_members(genuine.one):
        if info.filename == f"{DATA}/a.pdf":
            other = b"representations/rep1/metadata/other/a.pdf.html"
            body = b"\x01" + struct.pack("<I", zlib.crc32(info.filename.encode())) + other
            info.extra = struct.pack("<HH", 0x7075, len(body)) + body
        items.append((info, data))
    path = write_zip(tmp_path / "p.zip", items)
    assert "carries another name for it (extra field 0x7075)" in _refusal(genuine, path)


@pytest.mark.parametrize("folder", ["DATA", "Data", "data ", "data."])
async def test_a_folder_spelled_like_data_is_not_a_way_in(
    genuine: Genuine, tmp_path: Path, folder: str
) -> None:
    """On a case-insensitive file system (or Windows, which drops a trailing space or dot)
    representations/rep1/DATA/z.pdf unpacks into data/: a document without evidence."""
    items = members(genuine.one)
    items[f"representations/rep1/{folder}/z.pdf"] = b"%PDF-forged"
    reason = _refusal(genuine, write_zip(tmp_path / "p.zip", list(consistent(items).items())))
    assert "spelled unlike the package's 'data'" in reason or "trailing dot" in reason, reason


async def test_names_equal_once_normalised_are_refused(genuine: Genuine, tmp_path: Path) -> None:
    """hồ-sơ.pdf in NFC and in NFD are one file on macOS: the second would replace the first."""
    import unicodedata

    items = members(genuine.one)
    name = "hồ-sơ.pdf"
    items[f"{DATA}/{unicodedata.normalize('NFC', name)}"] = b"%PDF-one"
    items[f"{DATA}/{unicodedata.normalize('NFD', name)}"] = b"%PDF-two"
    assert "occurs twice" in _refusal(genuine, write_zip(tmp_path / "p.zip", list(items.items())))


async def test_a_revoked_signer_stays_revoked_offline(
    archive: Archive, pki: DevPki, dev_services: DevServices, sample_pdf: bytes, tmp_path: Path
) -> None:
    """Signed with a certificate revoked the day before: ingest finds it TOTAL-FAILED and
    keeps it as received (no B-LTA); the package's offline check uses the OCSP responses and
    CRLs it carries, and with those taken out there is no revocation data at all: never
    proven either way."""
    import uuid
    from datetime import timedelta

    from signing.dev import SignerSpec

    name = f"revoked-{uuid.uuid4().hex[:8]}"
    pki.issue(SignerSpec(name=name, kind="individual", common_name="Hoàng Văn Thử"))
    pki.revoke(name, at=datetime.now(UTC) - timedelta(days=1))
    signer = PadesSigner(
        pki.in_memory_key(name), PadesSpec(level=Level.B_T, tsa_urls=(dev_services.tsa_url,))
    )
    signed, _ = await signer.sign_bytes(sample_pdf)
    (tmp_path / "r.pdf").write_bytes(signed)
    result = await ingest(archive, [tmp_path / "r.pdf"], dossier="H53.2026.93", title="R")
    assert result.documents[0].indication == "TOTAL-FAILED"
    await seal(archive)
    await export_package(archive, "H53.2026.93", tmp_path / "r.zip")
    anchors = TrustAnchors({"public": (pki.root.asn1,)})
    verdict = await verify_package(tmp_path / "r.zip", anchors=anchors)
    assert not verdict.proven
    assert any("r.pdf: its signatures are TOTAL-FAILED" in p for p in problems(verdict))
    items = members(tmp_path / "r.zip")
    revocation = [n for n in items if n.endswith((".ocsp", ".crl"))]
    assert revocation
    stripped = write_zip(tmp_path / "s.zip", list(without(items, *revocation).items()))
    verdict = await verify_package(stripped, anchors=anchors)
    assert not verdict.proven
    assert any("r.pdf: its signatures are" in p for p in problems(verdict)), problems(verdict)
