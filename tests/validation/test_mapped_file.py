"""A PDF judged from its path is memory-mapped, never read whole (validation/mapped.py): the
verdicts are exactly those of the same bytes in memory, forgeries included; a file changed
while it is judged is caught; and a big file costs little memory."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from signing import PadesSigner, PadesSpec
from signing.dev.pki import DevPki
from tests.plugin import PROJECT_ROOT, Decree30Documents
from tests.validation.test_pdf_forgeries import (
    _with_object_streams,
    duplicate_entry,
    padded_signature_dictionary,
    redefined_object_stream,
    wrong_header,
)
from validation import TrustAnchors, ValidationPolicy, report_json, validate_bytes, validate_files
from validation.mapped import MappedFile, mapped, unchanged


def _comparable(report: Any) -> str:
    return json.dumps(report_json(report), sort_keys=True, ensure_ascii=False)


async def test_a_path_gives_the_verdicts_of_the_bytes(
    pki: DevPki, decree30: Decree30Documents, sample_pdf: bytes, tmp_path: Path
) -> None:
    signer = PadesSigner(pki.in_memory_key("personal"), PadesSpec())
    plain, _ = await signer.sign_bytes(sample_pdf)
    in_streams, _ = await signer.sign_bytes(_with_object_streams(sample_pdf))
    documents = {
        "final": decree30.final,
        "numbered": decree30.numbered,
        "plain": plain,
        "unsigned": sample_pdf,
        "duplicate-entry": duplicate_entry(plain),
        "padded-signature-dictionary": padded_signature_dictionary(decree30.final),
        "object-streams": in_streams,
        "redefined-object-stream": redefined_object_stream(in_streams),
        "wrong-header": wrong_header(plain),
        "trailing-update": plain + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "truncated": plain[: len(plain) // 2],
    }
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}),
        offline=True,
        revocation="soft",
        validation_time=datetime.now(UTC),
    )
    indications = set()
    for label, data in documents.items():
        path = tmp_path / f"{label}.pdf"
        path.write_bytes(data)
        [from_path] = await validate_files([path], policy)
        from_bytes = await validate_bytes(data, policy, name=str(path))
        assert _comparable(from_path) == _comparable(from_bytes), label
        indications.add(from_path.indication.name)
    assert indications == {"PASSED", "FAILED", "INDETERMINATE"}


def test_the_map_reads_like_bytes(tmp_path: Path) -> None:
    path = tmp_path / "some.pdf"
    data = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\nstream\r\n"
    path.write_bytes(data)
    with mapped(path) as pdf:
        assert pdf is not None
        view = pdf.data
        assert isinstance(view, MappedFile)
        for prefix in (b"%PDF", b"obj", b"stream\r\n", b"", data, data + b"x"):
            for start in (0, 1, 10, 11, len(data) - 3, len(data), len(data) + 5):
                assert view.startswith(prefix, start) == data.startswith(prefix, start)
        assert view[3:9] == data[3:9] and view[4] == data[4] and len(view) == len(data)
        assert view.rfind(b"obj") == data.rfind(b"obj")


def test_a_file_changed_while_judged_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "changing.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"%" * 4096)
    with mapped(path) as pdf:
        assert pdf is not None and unchanged(pdf)
        with path.open("r+b") as other:
            other.seek(100)
            other.write(b"1 0 obj")
        assert not unchanged(pdf)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with mapped(empty) as nothing:
        assert nothing is None  # cannot be mapped: read whole instead


_CHILD = """
import asyncio, json, sys
from pathlib import Path
from validation import TrustAnchors, ValidationPolicy, load_certificates, validate_files

def status(name):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024

path, root, small = (Path(a) for a in sys.argv[1:4])
policy = ValidationPolicy(
    anchors=TrustAnchors({"public": load_certificates(root)}), offline=True, revocation="soft"
)
asyncio.run(validate_files([small], policy))
Path("/proc/self/clear_refs").write_text("5")
before = status("VmRSS")
[report] = asyncio.run(validate_files([path], policy))
print(json.dumps({"extra": status("VmHWM") - before, "indication": report.indication.name}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
async def test_a_big_file_is_not_read_into_memory(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    from benchmarks.signing import MIB, write_big_pdf

    plain, signed = tmp_path / "big.pdf", tmp_path / "big.signed.pdf"
    write_big_pdf(plain, 64 * MIB)
    await PadesSigner(pki.in_memory_key("agency"), PadesSpec()).sign_file(plain, signed)
    root, small = tmp_path / "root.pem", tmp_path / "small.pdf"
    root.write_bytes(pki.root.cert_pem())
    small.write_bytes(sample_pdf)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(signed), str(root), str(small)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["indication"] == "PASSED", proc.stdout
    # read whole it would cost the file's 64 MiB at least (and once more for each copy)
    assert figures["extra"] < 24, figures


def test_a_file_truncated_while_judged_cannot_kill_the_reader(tmp_path: Path) -> None:
    """A map of the file itself dies with SIGBUS when another process truncates the file and a
    page past the new end is touched; the snapshot is unaffected (run in a child process, so a
    SIGBUS would show as its exit status)."""
    path = tmp_path / "victim.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"x" * (4 << 20) + b"\n%%EOF\n")
    script = f"""
import os, sys
from pathlib import Path
from validation.mapped import mapped, unchanged
path = Path({str(path)!r})
with mapped(path) as pdf:
    assert pdf is not None
    os.truncate(path, 1000)
    tail = pdf.data[len(pdf.data) - 7 :]
    assert tail == b"\\n%%EOF\\n", tail
    print("changed" if not unchanged(pdf) else "unchanged")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.strip() == "changed"


def test_writes_through_another_map_do_not_reach_the_snapshot(tmp_path: Path) -> None:
    """Another process's shared writable map changes the file's bytes without changing its
    size or times; what is judged is the snapshot taken when the file was opened."""
    import mmap as mmap_module

    path = tmp_path / "victim.pdf"
    path.write_bytes(b"%PDF-1.7\nBENIGN\n%%EOF\n")
    with path.open("r+b") as handle:
        writer = mmap_module.mmap(handle.fileno(), 0)
        writer[9:15] = b"benign"  # dirty the page first, as an attacker would
        with mapped(path) as pdf:
            assert pdf is not None
            writer[9:15] = b"FORGED"
            assert path.read_bytes()[9:15] == b"FORGED"
            assert pdf.data[9:15] == b"benign"
            pdf.stream.seek(9)
            assert pdf.stream.read(6) == b"benign"
        writer.close()
