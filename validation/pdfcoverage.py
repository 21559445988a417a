"""What a PDF signature covers, decided from the bytes of the file.

pyHanko decides coverage from the signature dictionary as it reads it *now* (its
``/ByteRange`` and the length of its ``/Contents``): a later revision that redefines that
dictionary, with the same ``/ByteRange`` and a ``/Contents`` padded to the right length, makes
it believe the signature covers the whole file, and the change analysis never runs. Here the
signed range must end exactly where a revision of the file ends (its ``startxref`` and
``%%EOF``, read by :mod:`validation.pdfstructure`), the gap must be exactly the hex string the
signature value is read from, and the signature dictionary must not be defined again after
its own revision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from validation.pdfstructure import Structure, signed_revision
from validation.report import Finding

__all__ = ["ByteCoverage", "byte_coverage", "structure_findings"]

_HEX = re.compile(rb"<[0-9A-Fa-f]*>")


@dataclass(frozen=True, slots=True)
class ByteCoverage:
    revision: int | None
    """The revision the signed range ends with (``None`` when it ends elsewhere)."""
    whole_file: bool
    """The signed revision is the file's last one."""
    problems: tuple[Finding, ...] = field(default=())


def _finding(code: str, en: str, vi: str) -> Finding:
    return Finding(code=code, en=en, vi=vi)


def structure_findings(structure: Structure) -> tuple[Finding, ...]:
    """The file's ambiguities, as findings that fail every signature (a signature over an
    ambiguous revision signed bytes that readers show differently; an ambiguous later
    revision shows something else than the change analysis judged)."""
    shown = structure.problems[:3]
    more = len(structure.problems) - len(shown)
    suffix_en = f" (and {more} more)" if more > 0 else ""
    suffix_vi = f" (và {more} vấn đề khác)" if more > 0 else ""
    return tuple(
        _finding(
            "pdf.ambiguous_structure",
            f"revision {p.revision}: {p.en}; PDF readers may show something other than what "
            f"was checked{suffix_en if i == len(shown) - 1 else ''}",
            f"phiên bản {p.revision}: {p.vi}; phần mềm đọc PDF có thể hiển thị nội dung khác "
            f"với nội dung đã kiểm tra{suffix_vi if i == len(shown) - 1 else ''}",
        )
        for i, p in enumerate(shown)
    )


def byte_coverage(
    data: bytes, structure: Structure, embedded: EmbeddedPdfSignature
) -> ByteCoverage:
    if not structure.complete:
        # the structure's own finding fails the signature; revision numbers mean nothing here
        return ByteCoverage(revision=None, whole_file=False)
    problems: list[Finding] = []
    try:
        start, len1, start2, len2 = (int(v) for v in embedded.byte_range)
        contents = bytes(embedded.pkcs7_content)
        sig_number = embedded.sig_field.raw_get("/V").reference.idnum
        claimed = int(embedded.signed_revision)
    except Exception:  # hostile input: reported as an unusable byte range
        return ByteCoverage(
            revision=None,
            whole_file=False,
            problems=(
                _finding(
                    "pdf.byte_range",
                    "the signature's /ByteRange or /Contents cannot be used",
                    "không dùng được /ByteRange hoặc /Contents của chữ ký",
                ),
            ),
        )
    end = start2 + len2
    gap = data[len1:start2]
    hole = _HEX.fullmatch(gap)
    if start != 0 or hole is None or bytes.fromhex(gap[1:-1].decode("ascii")) != contents:
        problems.append(
            _finding(
                "pdf.signature_gap",
                "the bytes the signature leaves out are not exactly the hex string its value is "
                "read from",
                "phần byte chữ ký chừa ra không đúng là chuỗi hex chứa giá trị chữ ký",
            )
        )
    revision = signed_revision(data, structure, end)
    if revision is None:
        problems.append(
            _finding(
                "pdf.signed_range_end",
                f"the signed range ends at byte {end}, which is not the end of a revision of "
                "the file (startxref and %%EOF)",
                f"phạm vi được ký kết thúc tại byte {end}, không phải điểm kết thúc một phiên "
                "bản của tệp (startxref và %%EOF)",
            )
        )
        return ByteCoverage(revision=None, whole_file=False, problems=tuple(problems))
    sections = structure.sections
    if revision != claimed:
        problems.append(
            _finding(
                "pdf.signature_redefined",
                f"the signature dictionary was defined again in revision {claimed}, after the "
                f"revision it signs ({revision})",
                f"từ điển chữ ký bị định nghĩa lại ở phiên bản {claimed}, sau phiên bản mà nó "
                f"ký ({revision})",
            )
        )
    later = [n for n in range(revision + 1, len(sections)) if sig_number in sections[n].entries]
    if later and revision == claimed:
        problems.append(
            _finding(
                "pdf.signature_redefined",
                f"the signature dictionary is listed again in revision {later[0]}, after the "
                f"revision it signs ({revision})",
                f"từ điển chữ ký được liệt kê lại ở phiên bản {later[0]}, sau phiên bản mà nó "
                f"ký ({revision})",
            )
        )
    own = sections[revision].entries.get(sig_number)
    if own is None or own.kind != 1 or not own.offset < len1:
        problems.append(
            _finding(
                "pdf.signature_gap",
                "the signature value is not inside the signature dictionary of the signed revision",
                "giá trị chữ ký không nằm trong từ điển chữ ký của phiên bản được ký",
            )
        )
    for number in range(revision + 1):
        section = sections[number]
        in_gap = section.start < start2 and section.end > len1
        beyond = section.end > end
        pointing = [
            e.number
            for e in section.entries.values()
            if e.kind == 1 and (e.offset >= end or len1 <= e.offset < start2)
        ]
        if in_gap or beyond or pointing:
            problems.append(
                _finding(
                    "pdf.signed_range_end",
                    f"revision {number}, which the signature covers, has cross-reference data or "
                    "objects outside the signed bytes",
                    f"phiên bản {number} thuộc phạm vi chữ ký có bảng tham chiếu chéo hoặc đối "
                    "tượng nằm ngoài phần byte được ký",
                )
            )
            break
    for number in range(revision + 1, len(sections)):
        if sections[number].start < end:
            problems.append(
                _finding(
                    "pdf.signed_range_end",
                    f"revision {number}, made after the signature, has its cross-reference data "
                    "inside the signed bytes",
                    f"phiên bản {number}, có sau chữ ký, có bảng tham chiếu chéo nằm trong phần "
                    "byte được ký",
                )
            )
            break
    whole = revision == len(sections) - 1 and not data[end:].strip(b"\x00\t\n\x0c\r ")
    return ByteCoverage(revision=revision, whole_file=whole, problems=tuple(problems))
