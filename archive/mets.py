"""METS in TT 05/2025 packages: the namespaces (METS, XLink, the E-ARK CSIP extension,
PREMIS v3), the paths inside a package, how times, checksums and hrefs are spelled, and the
offline check of a zipped package (:func:`check_package`: no database, no network).

:mod:`archive.package` (the model and the writer) imports from here, never the other way.
"""

from __future__ import annotations

import hashlib
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Final
from urllib.parse import quote, unquote

from lxml import etree

from archive.errors import PackageInvalid
from archive.ziplayout import LayoutError, check_layout
from validation import VIETNAM, Unparseable, parse_untrusted_xml

__all__ = [
    "CHECKSUMTYPE",
    "CSIP_NS",
    "CSIP_PROFILE",
    "DATA_DIR",
    "EVIDENCE_DIR",
    "MAX_RATIO",
    "MAX_TOTAL_SIZE",
    "METS_NS",
    "NSMAP",
    "PREMIS_NS",
    "REPORTS_DIR",
    "REP_DIR",
    "SIP_PROFILE",
    "TT05_AIP_PROFILE",
    "XLINK_NS",
    "XSI_NS",
    "PackageCheck",
    "PackageEntry",
    "PackageFinding",
    "check_member_name",
    "check_package",
    "from_href",
    "q",
    "to_href",
    "xml_bytes",
    "xml_time",
]

METS_NS: Final = "http://www.loc.gov/METS/"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
CSIP_NS: Final = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
PREMIS_NS: Final = "http://www.loc.gov/premis/v3"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
# lxml's stubs do not allow the ``None`` key of a default namespace, though lxml does.
NSMAP: Final[dict[str, str]] = {None: METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "xsi": XSI_NS}  # type: ignore[dict-item]

# TT 05/2025 App. I names this profile for the AIP root; the representation METS and the SIP
# use the E-ARK ones (standards/archive.md §4).
TT05_AIP_PROFILE: Final = "http://www.ra.ee/METS/v01/IP.xml"
CSIP_PROFILE: Final = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
SIP_PROFILE: Final = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CHECKSUMTYPE: Final = "SHA-256"

REP_DIR: Final = "representations/rep1"
DATA_DIR: Final = f"{REP_DIR}/data"
# The command-line contract: the evidence record of data/NAME is exactly here.
EVIDENCE_DIR: Final = "metadata/preservation/evidence"
REPORTS_DIR: Final = "metadata/preservation/reports"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def q(namespace: str, name: str) -> str:
    """Clark notation ``{namespace}name``, as lxml wants it."""
    return f"{{{namespace}}}{name}"


def xml_time(value: datetime) -> str:
    """ISO 8601 in Vietnam time (``2026-12-02T14:40:28+07:00``), as TT 05/2025 wants every
    time in a package; a naive time is refused (we would be guessing its zone)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise PackageInvalid(
            f"a time without a time zone cannot go into a package: {value.isoformat()}",
            f"thời điểm không có múi giờ, không đưa vào gói được: {value.isoformat()}",
        )
    return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def check_member_name(name: str) -> str | None:
    """Why ``name`` cannot be a path inside a package (``None``: it can). Relative, forward
    slashes, no empty, ``.`` or ``..`` component, no control character, no drive letter:
    whatever unpacks it, it stays inside the package folder."""
    if not name or name.startswith("/") or "\\" in name:
        return "absolute or not a plain relative path"
    if _CONTROL.search(name):
        return "a control character in the name"
    parts = name.rstrip("/").split("/") if name.endswith("/") else name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "an empty, '.' or '..' path component"
    if ":" in parts[0]:
        return "a drive letter or scheme in the first component"
    if any(part != part.strip(" ") or part.endswith(".") for part in parts):
        # Windows drops them: "data " and "data." unpack as data
        return "a component with a leading or trailing space, or a trailing dot"
    for part in parts[:-1] if not name.endswith("/") else parts:
        folded = unicodedata.normalize("NFC", part).casefold()
        if folded in _PACKAGE_FOLDERS and part != folded:
            # a case-insensitive file system unpacks DATA/ into data/
            return f"the folder {part!r} is spelled unlike the package's {folded!r}"
    return None


_PACKAGE_FOLDERS = frozenset(
    (
        "representations",
        "data",
        "metadata",
        "descriptive",
        "preservation",
        "evidence",
        "reports",
        "other",
        "documentation",
        "schemas",
    )
)
"""The folders of a package (E-ARK CSIP, ours): spelled otherwise, on a case-insensitive
file system they would be these."""


def to_href(path: str) -> str:
    """A package path as a METS ``xlink:href`` (a relative URL: percent-encoded UTF-8)."""
    return quote(path, safe="/")


def from_href(href: str) -> str:
    return unquote(href, errors="strict")


# --- the offline check -----------------------------------------------------------------------

MAX_MEMBERS: Final = 200_000
MAX_TOTAL_SIZE: Final = 64 * 1024**3
"""What the members may add up to, uncompressed (as their headers declare: zipfile never
inflates a member past its declared size, so declared sizes bound the work)."""
MAX_RATIO: Final = 200
"""A member expanding more than this (and past 16 MiB) is refused as a ZIP bomb."""
_RATIO_FLOOR: Final = 16 * 1024 * 1024
_CHUNK: Final = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
_XML_LIMIT: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageFinding:
    """Something wrong with one file of a package, in both languages."""

    code: str
    """``package.tampered``, ``package.missing``, ``package.unlisted``,
    ``package.bad_checksum``, ``package.bad_reference``, ``package.mets_invalid``."""
    path: str
    """The file it is about (its path in the package)."""
    en: str
    vi: str

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageEntry:
    """One document of the package, as its representation METS lists it."""

    name: str
    data_path: str
    sha256: str
    """What METS records; ``intact`` says whether the bytes match it."""
    size: int
    intact: bool
    ers_path: str | None
    """``metadata/preservation/evidence/NAME.ers`` when the package has it."""
    report_paths: tuple[str, ...]
    evidence_paths: tuple[str, ...]
    """The validation data under ``metadata/preservation/evidence/NAME/``."""


@dataclass(frozen=True, slots=True)
class PackageCheck:
    """What :func:`check_package` found; the members stay readable through
    :meth:`open_member` (each call opens the ZIP again: nothing is held open)."""

    path: Path
    kind: str
    objid: str
    documents: tuple[PackageEntry, ...]
    findings: tuple[PackageFinding, ...]
    members: frozenset[str]
    """Every file in the package (paths as in METS)."""
    _prefix: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings

    @contextmanager
    def open_member(self, name: str) -> Iterator[IO[bytes]]:
        """The member ``name`` (a package path, e.g. ``representations/rep1/data/X.pdf``) as a
        binary stream; only members the check saw can be opened. Reading a member whose
        stored data is corrupt raises ``zipfile.BadZipFile`` from the stream itself: prefer
        :meth:`iter_member` and :meth:`read_member`, which say so as PackageInvalid."""
        if name not in self.members:
            raise PackageInvalid(f"the package has no file {name}", f"gói không có tệp {name}")
        try:
            archive = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise self._unreadable(name, exc) from exc
        with archive:
            try:
                handle = archive.open(self._prefix + name)
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                raise self._unreadable(name, exc) from exc
            with handle:
                yield handle

    def iter_member(self, name: str) -> Iterator[bytes]:
        """The member's bytes in 1 MiB chunks."""
        with self.open_member(name) as handle:
            while True:
                try:
                    chunk = handle.read(_CHUNK)
                except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
                    raise self._unreadable(name, exc) from exc
                if not chunk:
                    return
                yield chunk

    def read_member(self, name: str, limit: int = _XML_LIMIT) -> bytes:
        """A small member (an evidence record, a report) whole; over ``limit`` is refused."""
        with self.open_member(name) as handle:
            try:
                data = handle.read(limit + 1)
            except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise self._unreadable(name, exc) from exc
        if len(data) > limit:
            raise PackageInvalid(
                f"{name} is larger than {limit} bytes: refused",
                f"{name} lớn hơn {limit} byte: bị từ chối",
            )
        return data

    def _unreadable(self, name: str, exc: BaseException) -> PackageInvalid:
        return PackageInvalid(
            f"cannot read {name} from the package {self.path}: {exc}",
            f"không đọc được {name} từ gói {self.path}: {exc}",
        )


def _refuse(path: Path, en: str, vi: str) -> PackageInvalid:
    return PackageInvalid(f"{path}: {en}", f"{path}: {vi}")


def _safe_members(
    path: Path, archive: zipfile.ZipFile, max_total_size: int, max_ratio: int
) -> dict[str, zipfile.ZipInfo]:
    """The members by name, or PackageInvalid: we refuse to judge a ZIP that could write
    outside its folder, hide one file behind another, or expand without bound."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(
            path,
            f"more than {MAX_MEMBERS} files in the package",
            f"gói có hơn {MAX_MEMBERS} tệp",
        )
    members: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    files: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        reason = check_member_name(name)
        if reason is not None:
            raise _refuse(
                path,
                f"unsafe file name {name!r} in the package ({reason})",
                f"tên tệp không an toàn {name!r} trong gói",
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(path, f"{name} is a symbolic link", f"{name} là một liên kết tượng trưng")
        if info.flag_bits & 0x1:
            raise _refuse(path, f"{name} is encrypted", f"{name} bị mã hóa")
        key = unicodedata.normalize("NFC", name).casefold()  # macOS stores NFD, NTFS folds case
        if key in folded:
            raise _refuse(
                path,
                f"the file name {name} occurs twice in the package",
                f"tên tệp {name} xuất hiện hai lần trong gói",
            )
        folded.add(key)
        if info.is_dir():
            continue
        files.add(key)
        total += info.file_size
        if total > max_total_size:
            raise _refuse(
                path,
                f"the package expands to more than {max_total_size} bytes: refused",
                f"gói giải nén ra hơn {max_total_size} byte: bị từ chối",
            )
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise _refuse(
                path,
                f"{name} expands more than {max_ratio} times (a ZIP bomb?): refused",
                f"{name} giải nén ra lớn hơn {max_ratio} lần (bom ZIP?): bị từ chối",
            )
        members[name] = info
    for name in folded:
        parts = name.rstrip("/").split("/")
        for n in range(1, len(parts)):
            folder = "/".join(parts[:n])
            if folder in files:
                raise _refuse(
                    path,
                    f"{folder} is both a file and a folder in the package",
                    f"{folder} vừa là tệp vừa là thư mục trong gói",
                )
    return members


def _top_folder(members: Mapping[str, zipfile.ZipInfo]) -> str:
    """``FOLDER/`` when the package sits in one top folder (the TT 05 tree name) rather than
    at the ZIP's root, else ``""``."""
    if "METS.xml" in members:
        return ""
    tops = {name.split("/", 1)[0] for name in members}
    if len(tops) == 1:
        top = next(iter(tops))
        if f"{top}/METS.xml" in members:
            return f"{top}/"
    return ""


@dataclass(slots=True)
class _Reference:
    path: str
    size: str | None
    checksum: str | None
    checksumtype: str | None
    where: str


def _references(root: etree._Element, base: str, where: str) -> tuple[list[_Reference], list[str]]:
    """Every mdRef and file of a METS document, with the hrefs that are not safe paths."""
    refs: list[_Reference] = []
    bad: list[str] = []
    for element in root.iter(q(METS_NS, "mdRef"), q(METS_NS, "file")):
        if element.tag == q(METS_NS, "file"):
            locats = element.findall(q(METS_NS, "FLocat"))
            hrefs = [loc.get(q(XLINK_NS, "href")) for loc in locats]
        else:
            hrefs = [element.get(q(XLINK_NS, "href"))]
        for href in hrefs:
            if href is None:
                bad.append("(no xlink:href)")
                continue
            try:
                relative = from_href(href)
            except UnicodeDecodeError:
                bad.append(href)
                continue
            full = f"{base}/{relative}" if base else relative
            if check_member_name(full) is not None or full.endswith("/"):
                bad.append(href)
                continue
            refs.append(
                _Reference(
                    full,
                    element.get("SIZE"),
                    element.get("CHECKSUM"),
                    element.get("CHECKSUMTYPE"),
                    where,
                )
            )
    return refs, bad


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int] | None:
    """SHA-256 and size of a member, streamed; None when its stored CRC or data is broken."""
    digest = hashlib.sha256()
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest(), size


def _parse_mets(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> etree._Element:
    if info.file_size > _XML_LIMIT:
        raise PackageInvalid(
            f"{name} is larger than {_XML_LIMIT // (1024 * 1024)} MiB: refused",
            f"{name} lớn hơn {_XML_LIMIT // (1024 * 1024)} MiB: bị từ chối",
        )
    try:
        with archive.open(info) as handle:
            data = handle.read(_XML_LIMIT + 1)
        root = parse_untrusted_xml(data)
    except Unparseable as exc:
        raise PackageInvalid(
            f"{name} cannot be read: {exc.finding.en}",
            f"không đọc được {name}: {exc.finding.vi}",
        ) from exc
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise PackageInvalid(
            f"{name} cannot be read from the package: {exc}",
            f"không đọc được {name} từ gói: {exc}",
        ) from exc
    if root.tag != q(METS_NS, "mets"):
        raise PackageInvalid(f"{name} is not a METS document", f"{name} không phải tài liệu METS")
    return root


def check_package(
    path: Path,
    *,
    max_total_size: int = MAX_TOTAL_SIZE,
    max_ratio: int = MAX_RATIO,
) -> PackageCheck:
    """Check a zipped package offline: every file METS references exists and has the SIZE and
    SHA-256 CHECKSUM recorded, no file is left unlisted, and list the documents with their
    evidence records so the caller can run the evidence-record and signature checks.

    What cannot be checked from inside: the root ``METS.xml`` itself (nothing in the package
    records its digest; the evidence records cover the documents).

    :raises PackageInvalid: the file is not a ZIP, its names are unsafe (path traversal,
        absolute, duplicate, symbolic link), it would expand past the limits, or it has no
        readable root METS. A package that opens but is tampered with is *findings*, not an
        exception.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _refuse(
            path, f"not a readable ZIP file: {exc}", "không phải tệp ZIP đọc được"
        ) from exc
    with archive:
        zmembers = _safe_members(path, archive, max_total_size, max_ratio)
        try:
            with path.open("rb") as handle:
                check_layout(handle, archive.infolist())
        except OSError as exc:
            raise _refuse(path, f"cannot read: {exc}", "không đọc được tệp") from exc
        except LayoutError as exc:
            raise _refuse(path, exc.en, exc.vi) from exc
        prefix = _top_folder(zmembers)
        members = {
            name[len(prefix) :]: info for name, info in zmembers.items() if name.startswith(prefix)
        }
        if len(members) != len(zmembers):
            raise _refuse(
                path,
                "files outside the package's top folder",
                "có tệp nằm ngoài thư mục gốc của gói",
            )
        if "METS.xml" not in members:
            raise _refuse(path, "no METS.xml at the package's root", "gói không có METS.xml ở gốc")
        root = _parse_mets(archive, members["METS.xml"], "METS.xml")
        findings: list[PackageFinding] = []
        header = root.find(q(METS_NS, "metsHdr"))
        kind = header.get(q(CSIP_NS, "OAISPACKAGETYPE"), "") if header is not None else ""
        objid = root.get("OBJID", "")
        if kind not in ("SIP", "AIP", "DIP"):
            findings.append(
                _mets_invalid(
                    "csip:OAISPACKAGETYPE is not SIP, AIP or DIP",
                    "csip:OAISPACKAGETYPE không phải SIP, AIP hay DIP",
                )
            )
        if not objid:
            findings.append(_mets_invalid("the package has no OBJID", "gói không có OBJID"))
        refs, bad = _references(root, "", "METS.xml")
        for rep_mets in [r.path for r in refs if _is_rep_mets(r.path)]:
            if rep_mets not in members:
                continue
            rep_root = _parse_mets(archive, members[rep_mets], rep_mets)
            rep_refs, rep_bad = _references(rep_root, rep_mets.rsplit("/", 1)[0], rep_mets)
            refs += rep_refs
            bad += [f"{rep_mets}: {href}" for href in rep_bad]
        for href in bad:
            findings.append(
                PackageFinding(
                    code="package.bad_reference",
                    path=href,
                    en=f"METS references {href!r}, which is not a safe path inside the package",
                    vi=f"METS tham chiếu {href!r}, không phải đường dẫn an toàn trong gói",
                )
            )
        digests: dict[str, tuple[str, int] | None] = {}
        recorded: dict[str, _Reference] = {}
        for ref in refs:
            recorded.setdefault(ref.path, ref)
            findings += _check_reference(archive, members, ref, digests)
        for name in sorted(set(members) - set(recorded) - {"METS.xml"}):
            if members[name].is_dir():
                continue
            findings.append(
                PackageFinding(
                    code="package.unlisted",
                    path=name,
                    en=f"{name} is in the package but no METS lists it (added afterwards?)",
                    vi=f"{name} có trong gói nhưng không METS nào liệt kê (bị thêm vào sau?)",
                )
            )
        documents = _documents(members, recorded, digests)
    return PackageCheck(
        path=path,
        kind=kind,
        objid=objid,
        documents=documents,
        findings=tuple(findings),
        members=frozenset(name for name, info in members.items() if not info.is_dir()),
        _prefix=prefix,
    )


def _is_rep_mets(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "representations" and parts[2] == "METS.xml"


def _mets_invalid(en: str, vi: str) -> PackageFinding:
    return PackageFinding(
        code="package.mets_invalid", path="METS.xml", en=f"METS.xml: {en}", vi=f"METS.xml: {vi}"
    )


def _check_reference(
    archive: zipfile.ZipFile,
    members: Mapping[str, zipfile.ZipInfo],
    ref: _Reference,
    digests: dict[str, tuple[str, int] | None],
) -> list[PackageFinding]:
    name = ref.path
    if name not in members or members[name].is_dir():
        return [
            PackageFinding(
                code="package.missing",
                path=name,
                en=f"{name} is listed in {ref.where} but missing from the package",
                vi=f"{name} được liệt kê trong {ref.where} nhưng không có trong gói",
            )
        ]
    if name not in digests:
        digests[name] = _digest(archive, members[name])
    actual = digests[name]
    if (
        ref.checksumtype != CHECKSUMTYPE
        or ref.checksum is None
        or not _HEX64.fullmatch(ref.checksum.lower())
        or ref.size is None
        or not ref.size.isdigit()
    ):
        return [
            PackageFinding(
                code="package.bad_checksum",
                path=name,
                en=f"{ref.where} gives {name} no usable SHA-256 CHECKSUM and SIZE",
                vi=f"{ref.where} không ghi CHECKSUM SHA-256 và SIZE dùng được cho {name}",
            )
        ]
    if actual is None or actual != (ref.checksum.lower(), int(ref.size)):
        return [
            PackageFinding(
                code="package.tampered",
                path=name,
                en=f"{name} does not match the SHA-256 and size recorded in {ref.where}: "
                "it was changed or damaged",
                vi=f"{name} không khớp SHA-256 và kích thước ghi trong {ref.where}: "
                "tệp đã bị thay đổi hoặc hỏng",
            )
        ]
    return []


def _documents(
    members: Mapping[str, zipfile.ZipInfo],
    recorded: Mapping[str, _Reference],
    digests: Mapping[str, tuple[str, int] | None],
) -> tuple[PackageEntry, ...]:
    entries: list[PackageEntry] = []
    for path, ref in recorded.items():
        parts = path.split("/")
        if len(parts) != 4 or parts[0] != "representations" or parts[2] != "data":
            continue
        name = parts[3]
        checksum = (ref.checksum or "").lower()
        size = int(ref.size) if ref.size and ref.size.isdigit() else -1
        ers = f"{EVIDENCE_DIR}/{name}.ers"
        reports = tuple(
            p for p in (f"{REPORTS_DIR}/{name}.json", f"{REPORTS_DIR}/{name}.html") if p in members
        )
        evidence = tuple(sorted(p for p in members if p.startswith(f"{EVIDENCE_DIR}/{name}/")))
        entries.append(
            PackageEntry(
                name=name,
                data_path=path,
                sha256=checksum,
                size=size,
                intact=digests.get(path) == (checksum, size),
                ers_path=ers if ers in members else None,
                report_paths=reports,
                evidence_paths=evidence,
            )
        )
    return tuple(entries)
