"""One home for atomic outputs and their error, used by every room (signing outputs, the
verification report, the evidence export)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import signing
import validation
from signing.dev import DevPki
from tests.plugin import Decree30Documents
from validation import TrustAnchors, ValidationPolicy, validate_bytes, write_evidence


def test_one_writer_and_one_error_for_every_room() -> None:
    assert signing.OutputNotWritable is validation.OutputNotWritable
    assert signing.atomic_output is validation.atomic_output
    assert issubclass(validation.OutputNotWritable, validation.ValidationError)
    assert validation.OutputNotWritable.exit_code == 73


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), validation.atomic_output(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf"]
    with pytest.raises(validation.OutputNotWritable, match="cannot write"):
        validation.atomic_write(tmp_path / "missing" / "x.pdf", b"data")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB tmpfs: room for a few of the evidence files, not for all."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr!r}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


async def test_the_evidence_export_writes_whole_files_or_none(
    pki: DevPki, decree30: Decree30Documents, tmp_path: Path, small_disk: Path
) -> None:
    policy = ValidationPolicy(
        anchors=TrustAnchors({"public": (pki.root.asn1,)}), offline=True, revocation="soft"
    )
    report = await validate_bytes(decree30.final, policy, name="final.pdf")
    good = tmp_path / "good"
    files = write_evidence(report, good)
    assert sum(p.stat().st_size for p in files) > 16 * 1024 or len(files) > 4
    with pytest.raises(validation.OutputNotWritable, match="disk is full"):
        write_evidence(report, small_disk / "evidence")
    left = [p for p in small_disk.rglob("*") if p.is_file()]
    for path in left:  # what the full disk kept is whole: no truncated or empty file
        relative = path.relative_to(small_disk / "evidence")
        assert path.read_bytes() == (good / relative).read_bytes(), relative
    assert not [p for p in left if p.name.endswith(".part")]
