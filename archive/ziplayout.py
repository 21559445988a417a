"""The byte layout of a package's ZIP: one reading, whatever reads it.

ZIP readers disagree on damaged or doctored files: Python's zipfile finds the central
directory from the end and tolerates bytes before the first member (it shifts every offset),
between members, or after the end record; a streaming unzip reads local headers from the
front and may see members the central directory does not list, or another name, or other
sizes. A package verified through one reading and unpacked through another would prove one
document and hand over a different one. So before judging a package we require the only
layout our exporter (and any ordinary writer) produces: members back to back from byte 0,
each local header agreeing with its central-directory entry, the central directory right
after the last member, the (ZIP64) end records right after it, and nothing after them.

Written by hand: zipfile exposes the entries but not whether the bytes around them are
accounted for, and no maintained library checks that.
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO, Final

_LOCAL: Final = struct.Struct("<4sHHHHHIIIHH")  # local file header, 30 bytes
_EOCD: Final = struct.Struct("<4sHHHHIIH")  # end of central directory, 22 bytes
_LOCATOR: Final = struct.Struct("<4sIQI")  # ZIP64 end-of-central-directory locator, 20 bytes
_EOCD64: Final = struct.Struct("<4sQHHIIQQQQ")  # ZIP64 end of central directory, 56 bytes
_MAX_COMMENT: Final = 0xFFFF
_DATA_DESCRIPTOR_SIG: Final = b"PK\x07\x08"


class LayoutError(Exception):
    """The ZIP's bytes admit another reading; ``en``/``vi`` say where."""

    def __init__(self, en: str, vi: str) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi


def check_layout(handle: IO[bytes], infos: list[zipfile.ZipInfo]) -> None:
    """Raise LayoutError unless every byte of the open ZIP ``handle`` belongs to one of
    ``infos`` (its central directory as zipfile read it) or to the directory and end records,
    in that order, with each local header repeating its entry's name, method, flags, CRC and
    sizes."""
    size = handle.seek(0, 2)
    cd_offset, cd_size, cd_end, entries = _end_records(handle, size)
    if entries != len(infos):
        raise LayoutError(
            f"the end record counts {entries} files, the central directory lists {len(infos)}",
            f"bản ghi kết thúc đếm {entries} tệp, thư mục trung tâm liệt kê {len(infos)}",
        )
    if cd_offset + cd_size != cd_end:
        raise LayoutError(
            "bytes before the first file or around the central directory (the offsets do not "
            "add up: data prepended or inserted)",
            "có dữ liệu trước tệp đầu tiên hoặc quanh thư mục trung tâm (các vị trí không khớp:"
            " dữ liệu bị chèn vào)",
        )
    position = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset != position:
            raise LayoutError(
                f"{info.filename}: {abs(info.header_offset - position)} bytes "
                + ("of unlisted data before it" if info.header_offset > position else "overlap")
                + " (a hidden or overlapping file)",
                f"{info.filename}: {abs(info.header_offset - position)} byte "
                + (
                    "dữ liệu không được liệt kê trước nó"
                    if info.header_offset > position
                    else "chồng lấn"
                )
                + " (tệp ẩn hoặc chồng lấn)",
            )
        position = _member_end(handle, info, size)
    if position != cd_offset:
        raise LayoutError(
            f"{cd_offset - position} bytes of unlisted data before the central directory",
            f"{cd_offset - position} byte dữ liệu không được liệt kê trước thư mục trung tâm",
        )


def _end_records(handle: IO[bytes], size: int) -> tuple[int, int, int, int]:
    """(central directory offset and size as recorded, where it must end, entry count)."""
    tail_start = max(0, size - _EOCD.size - _MAX_COMMENT)
    handle.seek(tail_start)
    tail = handle.read()
    # the last signature, as zipfile takes it, and it must end the file exactly
    at = tail.rfind(b"PK\x05\x06")
    if (
        at < 0
        or at + _EOCD.size > len(tail)
        or (at + _EOCD.size + _EOCD.unpack_from(tail, at)[7] != len(tail))
    ):
        raise LayoutError(
            "no end record closes the file (bytes appended after it?)",
            "không có bản ghi kết thúc ở cuối tệp (có dữ liệu nối thêm sau nó?)",
        )
    eocd = tail_start + at
    _sig, disk, cd_disk, on_disk, entries, cd_size, cd_offset, _comment = _EOCD.unpack_from(
        tail, at
    )
    cd_end = eocd
    locator_at = eocd - _LOCATOR.size
    locator = None
    if locator_at >= 0:
        handle.seek(locator_at)
        raw = handle.read(_LOCATOR.size)
        if raw[:4] == b"PK\x06\x07":
            locator = _LOCATOR.unpack(raw)
    if locator is not None:
        _sig, _disk64, record_at, _disks = locator
        handle.seek(record_at)
        raw = handle.read(_EOCD64.size)
        if len(raw) < _EOCD64.size or raw[:4] != b"PK\x06\x06":
            raise LayoutError(
                "the ZIP64 locator points at no ZIP64 end record",
                "bộ định vị ZIP64 không trỏ tới bản ghi kết thúc ZIP64",
            )
        (_sig, record_size, _made, _needed, disk, cd_disk, on_disk, entries, cd_size, cd_offset) = (
            _EOCD64.unpack(raw)
        )
        if record_at + 12 + record_size != locator_at:
            raise LayoutError(
                "bytes between the ZIP64 end record and its locator",
                "có dữ liệu giữa bản ghi kết thúc ZIP64 và bộ định vị",
            )
        cd_end = record_at
    if disk != 0 or cd_disk != 0 or on_disk != entries:
        raise LayoutError("a ZIP split over several disks", "ZIP chia thành nhiều phần")
    return cd_offset, cd_size, cd_end, entries


def _member_end(handle: IO[bytes], info: zipfile.ZipInfo, size: int) -> int:
    """Where the member at ``info.header_offset`` ends (after its data descriptor, if any),
    checking its local header against the central directory."""
    handle.seek(info.header_offset)
    raw = handle.read(_LOCAL.size)
    if len(raw) < _LOCAL.size or raw[:4] != b"PK\x03\x04":
        raise LayoutError(
            f"{info.filename}: no local header where the central directory says",
            f"{info.filename}: không có tiêu đề cục bộ ở vị trí thư mục trung tâm ghi",
        )
    (_sig, _needed, flags, method, _time, _date, crc, csize, usize, name_len, extra_len) = (
        _LOCAL.unpack(raw)
    )
    name = handle.read(name_len)
    extra = handle.read(extra_len)
    for where, fields in (("local header", extra), ("central directory", info.extra)):
        renamed = _name_fields(fields)
        if renamed:
            # Info-ZIP's Unicode Path / Comment fields: unzip takes the name from them,
            # zipfile ignores them: two names for one member
            raise LayoutError(
                f"{info.filename}: its {where} carries another name for it (extra field "
                f"0x{renamed:04x}): unzip and this check would read different files",
                f"{info.filename}: {where} chứa một tên khác cho tệp (trường mở rộng "
                f"0x{renamed:04x}): các phần mềm giải nén sẽ đọc ra tệp khác nhau",
            )
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if name != info.orig_filename.encode(encoding, errors="surrogateescape"):
        raise _differs(info, "name", "tên")
    if flags != info.flag_bits or method != info.compress_type:
        raise _differs(info, "flags or compression method", "cờ hoặc phương pháp nén")
    data_end: int = info.header_offset + _LOCAL.size + name_len + extra_len + info.compress_size
    if data_end > size:
        raise _differs(info, "size (it runs past the end of the file)", "kích thước")
    if flags & 0x8:  # sizes and CRC follow the data, in a data descriptor
        return _descriptor_end(handle, info, data_end)
    if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF:
        usize, csize = _zip64_sizes(extra, usize, csize)
    if (crc, csize, usize) != (info.CRC, info.compress_size, info.file_size):
        raise _differs(info, "CRC or sizes", "CRC hoặc kích thước")
    return data_end


def _descriptor_end(handle: IO[bytes], info: zipfile.ZipInfo, data_end: int) -> int:
    handle.seek(data_end)
    raw = handle.read(28)
    for skip in (4, 0) if raw[:4] == _DATA_DESCRIPTOR_SIG else (0,):
        for width, fmt in ((8, "<IQQ"), (4, "<III")):
            need = 4 + 2 * width
            if len(raw) - skip >= need:
                crc, csize, usize = struct.unpack_from(fmt, raw, skip)
                if (crc, csize, usize) == (info.CRC, info.compress_size, info.file_size):
                    return data_end + skip + need
    raise _differs(info, "data descriptor", "bộ mô tả dữ liệu")


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + length]
        if tag == 0x0001:
            values = [int.from_bytes(body[i : i + 8], "little") for i in range(0, len(body) - 7, 8)]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            return usize, csize
        at += 4 + length
    return usize, csize


_NAME_FIELDS = frozenset((0x7075, 0x6375))
"""Info-ZIP Unicode Path and Unicode Comment extra fields."""


def _name_fields(extra: bytes) -> int | None:
    """The first extra field of ``extra`` that renames the member (or its comment)."""
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        if tag in _NAME_FIELDS:
            return int(tag)
        at += 4 + length
    return None


def _differs(info: zipfile.ZipInfo, what_en: str, what_vi: str) -> LayoutError:
    return LayoutError(
        f"{info.filename}: the local header's {what_en} differs from the central directory's"
        " (two readings of one file)",
        f"{info.filename}: {what_vi} trong tiêu đề cục bộ khác thư mục trung tâm"
        " (một tệp hai cách đọc)",
    )
