"""The archive's two-copy store: writes, reads with fallback, the fixity audit and repairs."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from archive.errors import DamagedObject, StorageFailed, UsageError
from archive.store import (
    CHUNK,
    CopyState,
    FindingState,
    StoredObject,
    TwoCopyStore,
)


@pytest.fixture
def store(tmp_path: Path) -> TwoCopyStore:
    s = TwoCopyStore(tmp_path / "disk1", tmp_path / "disk2")
    s.initialise()
    return s


def _flip(path: Path, offset: int = 0) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def _temps(s: TwoCopyStore) -> list[Path]:
    return [p for root in s.roots for p in (root / "tmp").iterdir()]


def _snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_ino, st.st_mtime_ns


DATA = os.urandom(3 * CHUNK + 12345)  # crosses several chunk boundaries


# ---- writing


def test_put_writes_both_copies(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    assert obj == StoredObject(sha256=hashlib.sha256(DATA).hexdigest(), size=len(DATA))
    for root in (0, 1):
        path = store.path(obj.sha256, root)
        assert path == (
            store.roots[root] / "objects" / obj.sha256[:2] / obj.sha256[2:4] / obj.sha256
        )
        assert path.read_bytes() == DATA
    assert _temps(store) == []
    assert store.exists(obj.sha256) == (True, True)


def test_put_file_by_path_and_by_stream_reads_in_chunks(
    store: TwoCopyStore, tmp_path: Path
) -> None:
    source = tmp_path / "doc.pdf"
    source.write_bytes(DATA)
    assert store.put_file(source).sha256 == hashlib.sha256(DATA).hexdigest()

    class Recording(io.RawIOBase):
        """A stream that remembers how much it was asked for at a time."""

        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)
            self.largest = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.largest = max(self.largest, len(buffer))
            return self._inner.readinto(buffer)

    other = DATA[::-1]
    stream = Recording(other)
    obj = store.put_file(stream)  # type: ignore[arg-type]
    assert obj.size == len(other) and store.path(obj.sha256, 1).read_bytes() == other
    assert 0 < stream.largest <= CHUNK  # never the whole file at once


def test_put_chunks_and_empty_object(store: TwoCopyStore) -> None:
    obj = store.put_chunks([b"ab", b"", b"cd"])
    assert obj.sha256 == hashlib.sha256(b"abcd").hexdigest() and obj.size == 4
    empty = store.put_bytes(b"")
    assert empty.size == 0 and store.path(empty.sha256, 0).read_bytes() == b""


def test_put_repairs_a_damaged_existing_copy(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    _flip(store.path(obj.sha256, 1), 1000)
    assert store.put_bytes(DATA) == obj  # the existing copy is verified, not trusted
    assert store.path(obj.sha256, 1).read_bytes() == DATA
    assert store.path(obj.sha256, 0).read_bytes() == DATA


def test_put_of_an_intact_existing_object_keeps_the_file(store: TwoCopyStore) -> None:
    obj = store.put_bytes(b"kept")
    before = store.path(obj.sha256, 0).stat().st_ino
    store.put_bytes(b"kept")
    assert store.path(obj.sha256, 0).stat().st_ino == before
    assert _temps(store) == []


def test_concurrent_puts_of_the_same_bytes_from_threads(store: TwoCopyStore) -> None:
    barrier = threading.Barrier(8)

    def put() -> StoredObject:
        barrier.wait()
        return store.put_bytes(DATA)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: put(), range(8)))
    assert len(set(results)) == 1
    for root in (0, 1):
        assert store.path(results[0].sha256, root).read_bytes() == DATA
    assert _temps(store) == []


def _put_in_process(roots: tuple[str, str], data: bytes) -> str:
    return TwoCopyStore(*roots).put_bytes(data).sha256


_INHERITED: TwoCopyStore | None = None


def _put_with_inherited_store(data: bytes) -> str:
    assert _INHERITED is not None
    return _INHERITED.put_bytes(data).sha256


def test_a_forked_process_can_use_a_store_already_used_before_the_fork(
    store: TwoCopyStore,
) -> None:
    global _INHERITED
    store.put_bytes(b"before the fork")  # starts the helper threads, which a child lacks
    _INHERITED = store
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            digest = pool.submit(_put_with_inherited_store, b"after").result(timeout=30)
    finally:
        _INHERITED = None
    assert store.path(digest, 1).read_bytes() == b"after"


def test_concurrent_puts_of_the_same_bytes_from_processes(store: TwoCopyStore) -> None:
    roots = (str(store.roots[0]), str(store.roots[1]))
    with ProcessPoolExecutor(3) as pool:
        digests = list(pool.map(_put_in_process, [roots] * 6, [DATA] * 6))
    assert set(digests) == {hashlib.sha256(DATA).hexdigest()}
    for root in (0, 1):
        assert store.path(digests[0], root).read_bytes() == DATA
    assert _temps(store) == []


@contextlib.contextmanager
def _tiny_tmpfs(where: Path) -> Iterator[bool]:
    """A 1 MiB tmpfs at ``where``: a really full disk (False when mounting is not allowed)."""
    where.mkdir()
    try:
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
    except OSError:  # no mount command here
        mounted = False
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def test_put_into_a_full_root_fails_clearly_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _tiny_tmpfs(tmp_path / "small") as mounted:
        store = TwoCopyStore(tmp_path / "big", tmp_path / "small")
        store.initialise()
        if not mounted:
            # last resort where this sandbox may not mount: the write itself reports ENOSPC
            real_write = os.write

            def write(fd: int, data: bytes) -> int:
                target = Path(f"/proc/self/fd/{fd}").readlink()
                small = target.is_relative_to(tmp_path / "small")
                if small and len(data) > 4096:  # room for small files only, as on the tmpfs
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real_write(fd, data)

            monkeypatch.setattr(os, "write", write)
        small = store.put_bytes(b"fits")  # the root works until it is full
        with pytest.raises(StorageFailed) as caught:
            store.put_bytes(os.urandom(2 * CHUNK))
        assert str(tmp_path / "small") in caught.value.en
        assert "No space left on device" in caught.value.en
        assert "đĩa đầy" in caught.value.vi and str(tmp_path / "small") in caught.value.vi
        assert _temps(store) == []
        assert store.exists(small.sha256) == (True, True)


def test_put_into_an_unmounted_root_fails_and_writes_nothing(tmp_path: Path) -> None:
    store = TwoCopyStore(tmp_path / "a", tmp_path / "b")
    store.initialise()
    (tmp_path / "b" / "lienthong-archive-store").unlink()  # as an empty mount point looks
    with pytest.raises(StorageFailed) as caught:
        store.put_bytes(b"x")
    assert str(tmp_path / "b") in caught.value.en and "chưa được gắn" in caught.value.vi
    assert _temps(store) == []
    assert store.exists(hashlib.sha256(b"x").hexdigest()) == (False, False)


def test_a_root_that_does_not_exist_is_not_created_by_a_put(tmp_path: Path) -> None:
    store = TwoCopyStore(tmp_path / "a", tmp_path / "mnt" / "b")
    (tmp_path / "a").mkdir()
    with pytest.raises(StorageFailed):
        store.put_bytes(b"x")
    assert not (tmp_path / "mnt").exists()


def test_a_source_that_cannot_be_opened_is_a_usage_error(
    store: TwoCopyStore, tmp_path: Path
) -> None:
    with pytest.raises(UsageError) as caught:
        store.put_file(tmp_path / "nope.pdf")
    assert "nope.pdf" in caught.value.en and "Không mở được" in caught.value.vi
    assert _temps(store) == []


# ---- roots


def test_the_same_root_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        TwoCopyStore(tmp_path / "disk", tmp_path / "disk")
    assert "twice" in caught.value.en and "hai lần" in caught.value.vi
    (tmp_path / "disk").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "disk")
    with pytest.raises(UsageError):
        TwoCopyStore(tmp_path / "disk", tmp_path / "alias")
    with pytest.raises(UsageError):
        TwoCopyStore(tmp_path / "disk", tmp_path / "disk" / "../disk")


def test_one_root_inside_the_other_is_refused(tmp_path: Path) -> None:
    for first, second in ((tmp_path, tmp_path / "inner"), (tmp_path / "inner", tmp_path)):
        with pytest.raises(UsageError) as caught:
            TwoCopyStore(first, second)
        assert "inside" in caught.value.en and "nằm trong" in caught.value.vi
    TwoCopyStore(tmp_path / "a", tmp_path / "ab")  # a shared name prefix is not nesting


def test_independent_devices(store: TwoCopyStore, tmp_path: Path) -> None:
    assert store.independent_devices is False  # both under one tmp_path
    with _tiny_tmpfs(tmp_path / "other") as mounted:
        if mounted:
            assert TwoCopyStore(tmp_path / "disk1", tmp_path / "other").independent_devices


# ---- reading


def test_reading_falls_back_to_the_good_copy(store: TwoCopyStore, tmp_path: Path) -> None:
    obj = store.put_bytes(DATA)
    _flip(store.path(obj.sha256, 0), len(DATA) - 1)

    assert store.copy_to(obj.sha256, tmp_path / "out.pdf") == obj
    assert (tmp_path / "out.pdf").read_bytes() == DATA
    with store.open(obj.sha256) as f:
        assert f.read() == DATA
    # streaming cannot take back what it yielded: the damage is raised at the end
    chunks: list[bytes] = []
    with pytest.raises(DamagedObject):
        for chunk in store.read_verified(obj.sha256):
            chunks.append(chunk)
    assert len(b"".join(chunks)) == len(DATA)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_reading_from_the_second_root_when_the_first_copy_is_missing(
    store: TwoCopyStore, tmp_path: Path
) -> None:
    obj = store.put_bytes(DATA)
    store.path(obj.sha256, 0).unlink()
    assert b"".join(store.read_verified(obj.sha256)) == DATA
    store.copy_to(obj.sha256, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == DATA


def test_reading_when_both_copies_are_bad(store: TwoCopyStore, tmp_path: Path) -> None:
    obj = store.put_bytes(DATA)
    _flip(store.path(obj.sha256, 0))
    _flip(store.path(obj.sha256, 1), 7)
    with pytest.raises(DamagedObject) as caught:
        store.copy_to(obj.sha256, tmp_path / "out")
    assert "copy 1 and copy 2" in caught.value.en and "bản 1 và bản 2" in caught.value.vi
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.*")) == []
    with pytest.raises(DamagedObject):
        store.open(obj.sha256)
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(StorageFailed):
        store.open(missing)
    with pytest.raises(UsageError):
        store.open("not-a-digest")


def test_digests_lists_every_stored_object_once(store: TwoCopyStore) -> None:
    a = store.put_bytes(b"a")
    b = store.put_bytes(b"b")
    store.path(b.sha256, 0).unlink()  # still in the second root
    assert sorted(store.digests()) == sorted([a.sha256, b.sha256])


# ---- disposal


def test_delete_removes_both_copies(store: TwoCopyStore) -> None:
    obj = store.put_bytes(b"to be disposed of")
    keep = store.put_bytes(b"to be kept")
    assert store.delete(obj.sha256) is True
    assert store.exists(obj.sha256) == (False, False)
    assert store.delete(obj.sha256) is False
    assert store.exists(keep.sha256) == (True, True)


def test_clean_temporary_removes_only_old_leftovers(store: TwoCopyStore) -> None:
    old = store.roots[0] / "tmp" / "dead.123.part"
    old.write_bytes(b"half")
    os.utime(old, (1, 1))
    fresh = store.roots[1] / "tmp" / "alive.456.part"
    fresh.write_bytes(b"being written")
    assert store.clean_temporary() == 1
    assert not old.exists() and fresh.exists()


# ---- fixity audit


def test_audit_of_intact_objects_reports_nothing(store: TwoCopyStore) -> None:
    objs = [store.put_bytes(DATA), store.put_bytes(b"small")]
    seen: list[tuple[int, int]] = []
    report = store.audit(objs, progress=lambda n, b: seen.append((n, b)))
    assert report.ok and report.findings == ()
    assert report.objects_checked == 2
    assert report.bytes_hashed == 2 * (len(DATA) + 5)
    assert seen == [(1, 2 * len(DATA)), (2, 2 * (len(DATA) + 5))]
    assert report.seconds > 0


def test_audit_repairs_a_flipped_byte_from_the_other_copy(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    other = store.put_bytes(b"untouched")
    _flip(store.path(obj.sha256, 1), 2 * CHUNK + 5)

    report = store.audit([obj, other])
    (finding,) = report.findings
    assert finding.sha256 == obj.sha256
    assert finding.roots == (1,) and finding.found == (CopyState.DAMAGED,)
    assert finding.state is FindingState.REPAIRED
    assert str(store.roots[1]) in finding.en and "đã được ghi lại" in finding.vi
    assert report.ok  # repaired: both copies good again
    assert store.path(obj.sha256, 1).read_bytes() == DATA
    assert store.audit([obj, other]).findings == ()
    assert _temps(store) == []


def test_audit_restores_a_missing_copy(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    store.path(obj.sha256, 0).unlink()
    (finding,) = store.audit([obj]).findings
    assert finding.roots == (0,) and finding.found == (CopyState.MISSING,)
    assert finding.state is FindingState.REPAIRED
    assert store.path(obj.sha256, 0).read_bytes() == DATA


def test_audit_restores_a_copy_whose_directories_are_gone(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    path = store.path(obj.sha256, 1)
    path.unlink()
    path.parent.rmdir()
    path.parent.parent.rmdir()
    assert store.audit([obj]).ok
    assert path.read_bytes() == DATA


def test_audit_finds_a_truncated_copy(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    with store.path(obj.sha256, 0).open("r+b") as f:
        f.truncate(100)
    (finding,) = store.audit([obj]).findings
    assert finding.found == (CopyState.DAMAGED,) and finding.state is FindingState.REPAIRED
    assert store.path(obj.sha256, 0).read_bytes() == DATA


def test_a_flipped_byte_in_both_copies_is_reported_and_never_repaired(
    store: TwoCopyStore,
) -> None:
    obj = store.put_bytes(DATA)
    _flip(store.path(obj.sha256, 0), 10)
    _flip(store.path(obj.sha256, 1), 20)
    before = [_snapshot(store.path(obj.sha256, r)) for r in (0, 1)]

    report = store.audit([obj])
    (finding,) = report.findings
    assert finding.state is FindingState.UNRECOVERABLE
    assert finding.roots == (0, 1) and finding.found == (CopyState.DAMAGED, CopyState.DAMAGED)
    assert "neither copy was changed" in finding.en and "người lưu trữ" in finding.vi
    assert not report.ok
    assert [_snapshot(store.path(obj.sha256, r)) for r in (0, 1)] == before
    # nor may an archivist's repair copy a bad copy over the other
    for source in (0, 1):
        with pytest.raises(DamagedObject):
            store.repair(obj, from_root=source)
    assert [_snapshot(store.path(obj.sha256, r)) for r in (0, 1)] == before
    assert _temps(store) == []


def test_a_recorded_digest_that_no_copy_matches_touches_nothing(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    before = [_snapshot(store.path(obj.sha256, r)) for r in (0, 1)]
    wrong_size = StoredObject(sha256=obj.sha256, size=obj.size + 1)
    (finding,) = store.audit([wrong_size]).findings
    assert finding.state is FindingState.UNRECOVERABLE
    assert [_snapshot(store.path(obj.sha256, r)) for r in (0, 1)] == before


def test_audit_without_repair_only_reports(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    gone = store.put_bytes(b"gone")
    _flip(store.path(obj.sha256, 0))
    store.path(gone.sha256, 1).unlink()
    before = _snapshot(store.path(obj.sha256, 0))
    report = store.audit([obj, gone], repair=False)
    states = {(f.sha256, f.state, f.roots) for f in report.findings}
    assert states == {
        (obj.sha256, FindingState.DAMAGED, (0,)),
        (gone.sha256, FindingState.MISSING, (1,)),
    }
    assert not report.ok
    assert _snapshot(store.path(obj.sha256, 0)) == before
    assert not store.path(gone.sha256, 1).exists()


def test_audit_reports_a_repair_that_cannot_be_made(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    store.path(obj.sha256, 1).unlink()
    (store.roots[1] / "lienthong-archive-store").unlink()  # the disk went away
    (finding,) = store.audit([obj]).findings
    assert finding.state is FindingState.MISSING
    assert "the repair failed" in finding.en and "sửa không thành công" in finding.vi
    assert store.path(obj.sha256, 0).read_bytes() == DATA


def test_an_archivists_repair_from_a_chosen_root(store: TwoCopyStore) -> None:
    obj = store.put_bytes(DATA)
    _flip(store.path(obj.sha256, 0))
    finding = store.repair(obj, from_root=1)
    assert finding.state is FindingState.REPAIRED and finding.roots == (0,)
    assert finding.found == (CopyState.DAMAGED,)
    assert store.path(obj.sha256, 0).read_bytes() == DATA
    with pytest.raises(UsageError):
        store.repair(obj, from_root=2)


def test_audit_streams_a_large_object_in_chunks() -> None:
    # the audit's memory does not grow with the object: measured in a fresh process
    code = """
import os, sys, tempfile
from pathlib import Path
from archive.store import TwoCopyStore, CHUNK
from tests.memory import peak_kib, reset_peak
with tempfile.TemporaryDirectory() as d:
    s = TwoCopyStore(Path(d) / "a", Path(d) / "b")
    s.initialise()
    with open(Path(d) / "big", "wb") as f:
        for _ in range(200):
            f.write(os.urandom(CHUNK))
    reset_peak()
    before = peak_kib()
    obj = s.put_file(Path(d) / "big")
    report = s.audit([obj])
    grown = peak_kib() - before
    assert report.ok and report.bytes_hashed == 2 * 200 * CHUNK, report
    print(grown)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    grown_kib = int(done.stdout.strip())
    assert grown_kib < 40 * 1024  # 200 MiB stored and audited in well under 40 MiB
