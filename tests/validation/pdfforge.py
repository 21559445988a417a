"""A forger's toolkit for the PDF attack tests: incremental updates written byte by byte, so a
test can build exactly the structure an attacker would (duplicate cross-reference entries,
table and stream that disagree, a signature dictionary redefined, …) without a PDF library
tidying it up. Only for tests: nothing here is careful about anything but the attack.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader


@dataclass(frozen=True, slots=True)
class Last:
    """What an update needs to know of the file it extends."""

    size: int
    startxref: int
    root: generic.Reference
    info: generic.Reference | None
    id: bytes | None


def last_revision(data: bytes) -> Last:
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    trailer = reader.trailer
    root = trailer.raw_get("/Root")
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    ident = None
    if "/ID" in trailer:
        ident = (
            b"["
            + b"".join(b"<" + x.original_bytes.hex().encode() + b">" for x in trailer["/ID"])
            + b"]"
        )
    return Last(int(trailer["/Size"]), startxref, root, info, ident)


def read_object(data: bytes, number: int) -> bytes:
    """The body (between ``obj`` and ``endobj``) of the current definition of ``number``, as
    pyHanko resolves it; for dictionaries only (streams are re-serialised by the caller)."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    obj = reader.get_object(generic.Reference(number, 0, reader))
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def page_refs(data: bytes) -> list[int]:
    """Object numbers of the pages, in order."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    found: list[int] = []

    def walk(ref: generic.Reference) -> None:
        node = ref.get_object()
        if node.get("/Type") == "/Pages":
            for kid in node.raw_get("/Kids"):
                walk(kid)
        else:
            found.append(ref.idnum)

    walk(reader.root.raw_get("/Pages"))
    return found


def stream_object(body: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        body = zlib.compress(body)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(body), extra) + body + b"\nendstream"


@dataclass(slots=True)
class Update:
    """One incremental update. Objects are written in the order given (duplicates allowed, on
    purpose); the cross-reference table lists ``entries`` exactly as given (so a test can
    list an object twice), by default one entry per written object."""

    objects: list[tuple[int, bytes]] = field(default_factory=list)
    entries: list[tuple[int, int | None]] | None = None
    """(object number, offset or None for 'the offset of its last written definition');
    written as one subsection per entry so duplicates survive."""
    trailer_extra: bytes = b""
    size: int | None = None
    xref_stream: bool = False
    compressed: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Objects listed as the ``index``-th of object stream ``stream`` (xref streams only)."""

    def add(self, number: int, body: bytes) -> Update:
        self.objects.append((number, body))
        return self


def append(data: bytes, update: Update) -> bytes:
    last = last_revision(data)
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, list[int]] = {}
    for number, body in update.objects:
        offsets.setdefault(number, []).append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    entries = update.entries
    if entries is None:
        entries = [(n, None) for n in dict.fromkeys(n for n, _ in update.objects)]
    resolved = [(n, offsets[n][-1] if off is None else off) for n, off in entries]
    size = update.size
    if size is None:
        size = max([last.size, *(n + 1 for n, _ in resolved), *(n + 1 for n in update.compressed)])
    trailer = b"/Size %d /Root %d %d R /Prev %d" % (
        size,
        last.root.idnum,
        last.root.generation,
        last.startxref,
    )
    if last.info is not None:
        trailer += b" /Info %d %d R" % (last.info.idnum, last.info.generation)
    if last.id is not None:
        trailer += b" /ID " + last.id
    trailer += update.trailer_extra
    xref_at = len(out)
    if update.xref_stream or update.compressed:
        number = size
        table = {n: b"\x01" + off.to_bytes(4, "big") + b"\x00" for n, off in resolved}
        for n, (holder, index_in) in update.compressed.items():
            table[n] = b"\x02" + holder.to_bytes(4, "big") + bytes([index_in])
        table[number] = b"\x01" + xref_at.to_bytes(4, "big") + b"\x00"
        rows = b"".join(table[n] for n in sorted(table))
        index = b" ".join(b"%d 1" % n for n in sorted(table))
        out += (
            b"%d 0 obj\n" % number
            + stream_object(
                rows,
                b" /Type /XRef /W [1 4 1] /Index [%s] %s"
                % (index, trailer.replace(b"/Size %d" % size, b"/Size %d" % (size + 1))),
            )
            + b"\nendobj\n"
        )
    else:
        out += b"xref\n"
        if not resolved:  # an empty update: the head of the free list only
            out += b"0 1\n0000000000 65535 f \n"
        for number, offset in resolved:
            out += b"%d 1\n%010d 00000 n \n" % (number, offset)
        out += b"trailer\n<< " + trailer + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def text_page_content(lines: Sequence[str]) -> bytes:
    """A content stream showing ``lines`` in Helvetica (ASCII only), top of an A4 page."""
    ops = [b"BT /FForge 14 Tf 72 760 Td 18 TL"]
    for line in lines:
        ops.append(b"(" + line.encode("latin-1") + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def rendered_text(data: bytes, page: int = 1) -> str:
    """What poppler's ``pdftotext`` shows a reader of ``data`` (one page)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(data)
        proc = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
            capture_output=True,
            check=False,
        )
    return proc.stdout.decode("utf-8", "replace")


def rendered_pixels(data: bytes, box: tuple[float, float, float, float], page: int = 1) -> float:
    """The share of non-white pixels poppler's ``pdftoppm`` paints inside ``box`` (PDF user
    space, points, on an unrotated page), at 36 dpi."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-f",
                str(page),
                "-l",
                str(page),
                "-r",
                "36",
                "-gray",
                str(path),
                str(Path(tmp) / "p"),
            ],
            check=True,
            capture_output=True,
        )
        [image] = list(Path(tmp).glob("p*.pgm"))
        raw = image.read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
    assert header is not None
    width, height = int(header.group(1)), int(header.group(2))
    pixels = raw[header.end() :]
    scale = 36 / 72
    x0, y0, x1, y1 = (int(v * scale) for v in box)
    rows = range(max(0, height - y1), min(height, height - y0))
    dark = total = 0
    for row in rows:
        line = pixels[row * width + max(0, x0) : row * width + min(width, x1)]
        total += len(line)
        dark += sum(1 for p in line if p < 200)
    return dark / total if total else 0.0


def objects_of(data: bytes, numbers: Iterable[int]) -> dict[int, bytes]:
    return {n: read_object(data, n) for n in numbers}


def write_pdf(objects: dict[int, bytes], root: int) -> bytes:
    """A one-revision PDF of exactly these object bodies (a classic cross-reference table),
    for attacks that must sit in the bytes the first signer signs."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 00000 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref_at)
    return bytes(out)


def simple_page_pdf(resources: bytes, content: bytes) -> bytes:
    """A one-page A4 document: catalog 1, pages 2, page 3, content 4, font 5, and the page's
    resources 6 written as given (``/F1`` is the font)."""
    return write_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 6 0 R"
            b" /Contents 4 0 R >>",
            4: stream_object(content),
            5: FONT,
            6: resources,
        },
        1,
    )


def incremental(data: bytes, edit: object) -> bytes:
    """An incremental update of ``data`` made by ``edit(writer)`` (pyHanko's writer)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    edit(writer)  # type: ignore[operator]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
