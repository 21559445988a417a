"""Content-addressed storage with two independent copies, and the fixity audit.

TT 05/2025 asks for at least two sets on independent media, so every object is written to two
configured roots (two disks or mounts) and :meth:`TwoCopyStore.put_file` returns only once both
copies are durable: streamed in 1 MiB chunks to a temporary file in each root's ``tmp/``, hashed
while written, fsynced, renamed to ``objects/ab/cd/<sha256>`` and the directory fsynced. An object
already present in a root is re-hashed rather than trusted, and replaced when it does not match.

A root is usable only once :meth:`TwoCopyStore.initialise` has written its marker file: an
empty mount point (the disk not mounted) then fails loudly instead of silently collecting the
archive's copies on the system disk.

The audit re-hashes both copies of every object, repairs a damaged copy from the good one, and
touches nothing when no copy matches (that needs an archivist, :meth:`TwoCopyStore.repair`).
The API is blocking (file I/O); async callers run it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, cast

from archive.errors import DamagedObject, StorageFailed, UsageError

CHUNK = 1 << 20
"""Bytes read or written at a time: large enough that hashing, not system calls, sets the pace."""

MARKER = "lienthong-archive-store"
"""The file :meth:`TwoCopyStore.initialise` writes at the top of each root."""

_HEX = re.compile(r"^[0-9a-f]{64}$")

# a short Vietnamese reason for the failures an operator can act on; others keep the system's text
_REASONS_VI = {
    errno.ENOSPC: "đĩa đầy",
    errno.EDQUOT: "vượt hạn mức dung lượng",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.EROFS: "ổ chỉ cho phép đọc",
    errno.ENOENT: "không tìm thấy thư mục (ổ chưa được gắn?)",
    errno.EIO: "lỗi đọc/ghi của thiết bị",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    """An object as the catalog records it."""

    sha256: str
    """Lower-case hex SHA-256 of the content: the object's address."""
    size: int
    """Length in bytes."""


class CopyState(StrEnum):
    """What the audit found of one copy."""

    GOOD = "good"
    MISSING = "missing"
    DAMAGED = "damaged"
    """Present, but its size or hash differs from the recorded one (or it cannot be read)."""


class FindingState(StrEnum):
    """Where an object stands after the audit looked at it."""

    MISSING = "missing"
    """One copy is absent and was not restored (repair off, or the repair failed)."""
    DAMAGED = "damaged"
    """One copy differs and was not repaired (repair off, or the repair failed)."""
    REPAIRED = "repaired"
    """One copy was missing or damaged and has been rewritten from the good one and re-verified."""
    UNRECOVERABLE = "unrecoverable"
    """No copy matches the recorded digest; neither copy was touched."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Something the audit (or an archivist's repair) has to report about one object."""

    sha256: str
    size: int
    roots: tuple[int, ...]
    """The copies concerned, as indexes into :attr:`TwoCopyStore.roots` (0 or 1)."""
    found: tuple[CopyState, ...]
    """The state each of those copies was found in, in the order of :attr:`roots`."""
    state: FindingState
    en: str
    vi: str
    """What happened, for a person (and for the PREMIS event's outcome detail)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """The outcome of one fixity audit."""

    objects_checked: int
    bytes_hashed: int
    """Bytes read and hashed, over both copies."""
    seconds: float
    findings: tuple[Finding, ...]
    """Only objects with something to report; an object whose two copies match is not listed."""

    @property
    def ok(self) -> bool:
        """True when every object now has two good copies (repairs included)."""
        return all(f.state is FindingState.REPAIRED for f in self.findings)

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes_hashed / 1e6 / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Check:
    state: CopyState
    hashed: int


def _reason_vi(exc: OSError) -> str:
    return _REASONS_VI.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def _failed(root: Path, exc: OSError, *, reading: bool = False) -> StorageFailed:
    reason = exc.strerror or type(exc).__name__
    if reading:
        return StorageFailed(
            f"Storage root {root} could not be read: {reason}.",
            f"Không đọc được nơi lưu trữ {root}: {_reason_vi(exc)}.",
        )
    return StorageFailed(
        f"Storage root {root} could not be written: {reason}.",
        f"Không ghi được vào nơi lưu trữ {root}: {_reason_vi(exc)}.",
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _advise(fd: int, advice: int) -> None:
    # only a hint: not every platform or file system has it
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(fd, 0, 0, advice)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _hash_file(path: Path, buffer: bytearray) -> tuple[str, int]:
    """SHA-256 and length of a file, read into a preallocated buffer; OSError passes through."""
    view = memoryview(buffer)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb", buffering=0) as handle:
        fd = handle.fileno()
        _advise(fd, getattr(os, "POSIX_FADV_SEQUENTIAL", 0))
        while n := handle.readinto(view):
            digest.update(view[:n])
            size += n
        # an audit sweeps the whole archive: it should not push the service's own data out of
        # the page cache, and a re-verification after a repair should read the disk, not memory
        _advise(fd, getattr(os, "POSIX_FADV_DONTNEED", 0))
    return digest.hexdigest(), size


Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]
"""What can be stored: a path, bytes, a binary stream (read to its end) or an iterable of chunks."""


def _chunks(source: Source) -> Iterator[memoryview]:
    """The source as memoryviews of at most CHUNK bytes, never all of it in memory at once."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            handle = path.open("rb", buffering=0)
        except OSError as exc:
            raise UsageError(
                f"The file to archive could not be opened: {path}: {exc.strerror}.",
                f"Không mở được tệp cần lưu trữ: {path}: {exc.strerror}.",
            ) from exc
        with handle:
            yield from _read_stream(handle)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]
    elif hasattr(source, "read"):
        yield from _read_stream(cast(BinaryIO, source))
    else:
        for chunk in source:
            yield memoryview(chunk).cast("B")


def _read_stream(stream: BinaryIO | io.FileIO) -> Iterator[memoryview]:
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        # each chunk is hashed and written before the next read reuses the buffer
        while n := readinto(view):
            yield view[:n]
    else:
        while data := stream.read(CHUNK):
            yield memoryview(data).cast("B")


class TwoCopyStore:
    """Objects addressed by SHA-256, each kept under both ``first`` and ``second``.

    The two roots should be on independent media (:attr:`independent_devices` says whether
    they are at least on different file systems); the same directory twice, or one inside the
    other, is refused.
    """

    def __init__(self, first: str | os.PathLike[str], second: str | os.PathLike[str]) -> None:
        a = Path(first).absolute().resolve()
        b = Path(second).absolute().resolve()
        if a == b:
            raise UsageError(
                f"The two storage roots must be different directories, not {a} twice.",
                f"Hai nơi lưu trữ phải là hai thư mục khác nhau, không được dùng {a} hai lần.",
            )
        if a in b.parents or b in a.parents:
            inner, outer = (b, a) if a in b.parents else (a, b)
            raise UsageError(
                f"A storage root may not lie inside the other: {inner} is inside {outer}.",
                f"Nơi lưu trữ này không được nằm trong nơi lưu trữ kia: {inner} nằm trong {outer}.",
            )
        self.roots: tuple[Path, Path] = (a, b)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        """Stop the helper threads (they also end when the store is garbage collected)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def __enter__(self) -> TwoCopyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _helper(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            # a forked child inherits the pool object but not its threads: it needs its own
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="archive-store")
                self._pool_pid = os.getpid()
            return self._pool

    def _on_both(self, work: Callable[[int], object]) -> None:
        """Run ``work(0)`` here and ``work(1)`` on a helper thread, and wait for both.

        The roots are separate disks: writing, fsyncing and hashing them side by side (all
        release the GIL) takes about the time of one. An OSError becomes StorageFailed naming
        its root; nothing returns (or raises) before both sides have finished, so a buffer or
        file the work uses can be reused or closed afterwards.
        """
        pending = self._helper().submit(work, 1)
        first: OSError | None = None
        try:
            work(0)
        except OSError as exc:
            first = exc
        except BaseException:
            with contextlib.suppress(BaseException):
                pending.result()
            raise
        try:
            pending.result()
        except OSError as exc:
            if first is None:
                raise _failed(self.roots[1], exc) from exc
        if first is not None:
            raise _failed(self.roots[0], first) from first

    # ---- layout

    @property
    def independent_devices(self) -> bool:
        """Whether the two roots are on different file systems (devices); False if unknown.
        A root not created yet is judged by the folder it would be created in, so that the
        check can refuse before anything is made."""

        def device(path: Path) -> int:
            for candidate in (path, *path.absolute().parents):
                try:
                    return candidate.stat().st_dev
                except FileNotFoundError:
                    continue
            raise FileNotFoundError(path)

        try:
            return device(self.roots[0]) != device(self.roots[1])
        except OSError:
            return False

    def path(self, sha256: str, root: int) -> Path:
        """Where the copy of ``sha256`` in root ``root`` (0 or 1) lives (it may not exist)."""
        _check_hex(sha256)
        return self.roots[root] / "objects" / sha256[:2] / sha256[2:4] / sha256

    def initialise(self) -> None:
        """Make both roots usable: create them if needed and write their marker file.

        Run it once when the storage is set up (the development default does it on start);
        afterwards a root without its marker is taken to be an unmounted disk.
        """
        for root in self.roots:
            try:
                root.mkdir(parents=True, exist_ok=True)
                for sub in ("objects", "tmp"):
                    (root / sub).mkdir(exist_ok=True)
                marker = root / MARKER
                if not marker.exists():
                    marker.write_text(
                        "lienthong archive storage root: objects/ holds one copy of each "
                        "archived object, named by its SHA-256. Do not edit.\n",
                        encoding="utf-8",
                    )
                    _fsync_dir(root)
            except OSError as exc:
                raise _failed(root, exc) from exc

    def _ready(self, index: int) -> Path:
        root = self.roots[index]
        if not (root / MARKER).is_file():
            raise StorageFailed(
                f"Storage root {root} is not available (the disk is not mounted, or the "
                "storage was never initialised).",
                f"Nơi lưu trữ {root} không sẵn sàng (ổ đĩa chưa được gắn, hoặc kho lưu trữ "
                "chưa được khởi tạo).",
            )
        return root

    def _ensure_parent(self, final: Path) -> None:
        # a new directory is durable only once its own parent is fsynced
        for directory in (final.parent.parent, final.parent):
            if not directory.is_dir():
                with contextlib.suppress(FileExistsError):
                    directory.mkdir()
                _fsync_dir(directory.parent)

    def _temp(self, index: int) -> tuple[Path, int]:
        root = self._ready(index)
        path = root / "tmp" / f"{secrets.token_hex(12)}.{os.getpid()}.part"
        return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    # ---- writing

    def put_file(self, source: str | os.PathLike[str] | BinaryIO) -> StoredObject:
        """Store a file (by path, or a binary stream read to its end) in both roots.

        Returns once both copies are durable. :class:`StorageFailed` names the root that
        failed; no temporary file is left behind (a copy already completed in the other root
        stays: it is named by its content, so it is harmless).
        """
        return self._put(_chunks(source))

    def put_bytes(self, data: bytes | bytearray | memoryview) -> StoredObject:
        """Store bytes already in memory, like :meth:`put_file`."""
        return self._put(_chunks(data))

    def put_chunks(self, chunks: Iterable[bytes]) -> StoredObject:
        """Store the concatenation of ``chunks`` (e.g. a download), like :meth:`put_file`."""
        return self._put(_chunks(chunks))

    def _put(self, chunks: Iterator[memoryview]) -> StoredObject:
        temps: list[Path] = []
        fds: list[int] = []  # open temporary files, in the order of temps
        try:
            for index in (0, 1):
                try:
                    path, fd = self._temp(index)
                except OSError as exc:
                    raise _failed(self.roots[index], exc) from exc
                temps.append(path)
                fds.append(fd)
            digest = hashlib.sha256()
            size = 0
            for chunk in chunks:  # errors of the source itself pass through unchanged
                digest.update(chunk)
                size += len(chunk)
                self._on_both(lambda i: _write_all(fds[i], chunk))  # noqa: B023 (waited for)
            self._on_both(lambda i: os.fsync(fds[i]))
            for index in (0, 1):
                fd, fds[index] = fds[index], -1
                os.close(fd)
            obj = StoredObject(sha256=digest.hexdigest(), size=size)
            buffers = (bytearray(CHUNK), bytearray(CHUNK))
            self._on_both(lambda i: self._place(obj, i, temps[i], buffers[i]))
            return obj
        finally:
            for fd in fds:
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            for path in temps:
                with contextlib.suppress(OSError):
                    path.unlink()  # gone already when it was renamed into place

    def _place(self, obj: StoredObject, index: int, temp: Path, buffer: bytearray) -> None:
        """Rename a complete, fsynced temporary copy into place, unless a good copy is there."""
        final = self.path(obj.sha256, index)
        if self._check(final, obj, buffer).state is CopyState.GOOD:
            return  # the temporary copy is removed by the caller
        self._ensure_parent(final)
        # atomic: a reader (or a concurrent put of the same object) sees the old file or the
        # new one, never a partial one; replacing a damaged copy repairs it
        temp.replace(final)
        _fsync_dir(final.parent)

    # ---- reading

    def _check(self, path: Path, obj: StoredObject, buffer: bytearray) -> _Check:
        try:
            if path.stat().st_size != obj.size:
                return _Check(CopyState.DAMAGED, 0)
            sha256, size = _hash_file(path, buffer)
        except FileNotFoundError:
            return _Check(CopyState.MISSING, 0)
        except OSError:
            return _Check(CopyState.DAMAGED, 0)  # unreadable: as bad as different
        if sha256 != obj.sha256 or size != obj.size:
            return _Check(CopyState.DAMAGED, size)
        return _Check(CopyState.GOOD, size)

    def read_verified(self, sha256: str) -> Iterator[bytes]:
        """The object's bytes in chunks, from the first root that has a copy (else the second).

        The hash is checked as the bytes go by: a copy that does not match raises
        :class:`DamagedObject` after its last chunk, so a caller must not act on the bytes
        before the iteration has ended. :meth:`copy_to` and :meth:`open` fall back to the
        other copy instead.
        """
        _check_hex(sha256)
        for index in (0, 1):
            path = self.path(sha256, index)
            try:
                handle = path.open("rb", buffering=0)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _failed(self.roots[index], exc, reading=True) from exc
            return self._stream(handle, sha256, index)
        raise _not_found(sha256)

    def _stream(self, handle: io.FileIO, sha256: str, index: int) -> Iterator[bytes]:
        digest = hashlib.sha256()
        with handle:
            _advise(handle.fileno(), getattr(os, "POSIX_FADV_SEQUENTIAL", 0))
            while True:
                try:
                    data = handle.read(CHUNK)
                except OSError as exc:
                    raise _failed(self.roots[index], exc, reading=True) from exc
                if not data:
                    break
                digest.update(data)
                yield data
        if digest.hexdigest() != sha256:
            raise _damaged(sha256, (index,))

    def open(self, sha256: str) -> BinaryIO:
        """An open file of a copy whose hash has just been checked (the first good one).

        The copy is hashed first, then the same open file is rewound and returned: a copy is
        only ever replaced by a rename, which leaves an open file's content as it was.
        """
        _check_hex(sha256)
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        present: list[int] = []
        for index in (0, 1):
            try:
                handle = self.path(sha256, index).open("rb")
            except FileNotFoundError:
                continue
            except OSError:
                present.append(index)
                continue
            present.append(index)
            try:
                digest = hashlib.sha256()
                while n := handle.readinto(view):
                    digest.update(view[:n])
                if digest.hexdigest() == sha256:
                    handle.seek(0)
                    return handle
            except OSError:
                pass
            handle.close()
        if not present:
            raise _not_found(sha256)
        raise _damaged(sha256, tuple(present))

    def verify_many(self, digests: Sequence[str]) -> list[bool]:
        """For each object, whether one of its copies has the recorded digest (the first
        copy, else the second): what :meth:`open` checks, without keeping the file open,
        with one buffer for all and plain file descriptors (sealing checks 100,000 small
        objects this way; per file, the system calls are most of the cost). A missing object
        is False like a damaged one: the audit says which."""
        view = memoryview(bytearray(CHUNK))
        roots = [os.fspath(root / "objects") for root in self.roots]
        results = []
        for sha256 in digests:
            _check_hex(sha256)
            ok = False
            for root in roots:
                try:
                    fd = os.open(f"{root}/{sha256[:2]}/{sha256[2:4]}/{sha256}", os.O_RDONLY)
                except OSError:
                    continue
                try:
                    digest = hashlib.sha256()
                    while n := os.readv(fd, [view]):
                        digest.update(view[:n])
                except OSError:
                    continue
                finally:
                    os.close(fd)
                if digest.hexdigest() == sha256:
                    ok = True
                    break
            results.append(ok)
        return results

    def copy_to(self, sha256: str, dest: str | os.PathLike[str]) -> StoredObject:
        """Write a verified copy of the object to ``dest`` (atomically: a temporary file beside
        it, renamed when its hash matches), from the second root when the first fails."""
        _check_hex(sha256)
        dest = Path(dest)
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        present: list[int] = []
        for index in (0, 1):
            try:
                source = self.path(sha256, index).open("rb", buffering=0)
            except FileNotFoundError:
                continue
            except OSError:
                present.append(index)
                continue
            present.append(index)
            temp = dest.with_name(f".{dest.name}.{secrets.token_hex(8)}.part")
            try:
                with source, temp.open("xb", buffering=0) as out:
                    digest = hashlib.sha256()
                    size = 0
                    while True:
                        try:
                            n = source.readinto(view)
                        except OSError:
                            break  # an unreadable copy: try the other one
                        if not n:
                            break
                        digest.update(view[:n])
                        _write_all(out.fileno(), view[:n])
                        size += n
                    if digest.hexdigest() != sha256:
                        continue
                    os.fsync(out.fileno())
                temp.replace(dest)
                _fsync_dir(dest.parent)
                return StoredObject(sha256=sha256, size=size)
            except OSError as exc:
                raise UsageError(
                    f"The copy could not be written to {dest}: {exc.strerror}.",
                    f"Không ghi được bản sao vào {dest}: {_reason_vi(exc)}.",
                ) from exc
            finally:
                with contextlib.suppress(OSError):
                    temp.unlink()
        if not present:
            raise _not_found(sha256)
        raise _damaged(sha256, tuple(present))

    def exists(self, sha256: str) -> tuple[bool, bool]:
        """Whether each root holds a file for the object (not whether it is intact)."""
        return (self.path(sha256, 0).is_file(), self.path(sha256, 1).is_file())

    def digests(self) -> Iterator[str]:
        """Every object with a file in either root, each once, in no particular order: to find
        what the catalog does not know (a put whose catalog row never came)."""
        seen: set[str] = set()
        for root in self.roots:
            with contextlib.suppress(FileNotFoundError):
                for first in os.scandir(root / "objects"):
                    for second in os.scandir(first.path):
                        for entry in os.scandir(second.path):
                            if _HEX.match(entry.name) and entry.name not in seen:
                                seen.add(entry.name)
                                yield entry.name

    # ---- disposal

    def delete(self, sha256: str) -> bool:
        """Remove both copies (a disposal the archivist approved; the catalog keeps the
        metadata). True when at least one copy was there. Both roots must be available, so
        that a disposal is never half done silently."""
        _check_hex(sha256)
        self._ready(0)
        self._ready(1)
        removed = False
        for index in (0, 1):
            path = self.path(sha256, index)
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _failed(self.roots[index], exc) from exc
            removed = True
            with contextlib.suppress(OSError):
                _fsync_dir(path.parent)
        return removed

    def clean_temporary(self, *, older_than: float = 3600.0) -> int:
        """Remove temporary files a killed process left behind (older than ``older_than``
        seconds, so that a write in progress is not disturbed); returns how many."""
        removed = 0
        limit = time.time() - older_than
        for root in self.roots:
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(root / "tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        if entry.name.endswith(".part") and entry.stat().st_mtime < limit:
                            Path(entry.path).unlink()
                            removed += 1
        return removed

    # ---- fixity

    def audit(
        self,
        objects: Iterable[StoredObject],
        *,
        repair: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditReport:
        """Re-hash both copies of each object against its recorded digest and size.

        A copy that is missing or different is repaired from the other copy when that one is
        good and ``repair`` is on; when neither is good, the object is reported unrecoverable
        and neither copy is touched. ``progress(objects_checked, bytes_hashed)`` is called
        after each object (``objects`` may be a generator, so no total is known here).
        """
        started = time.perf_counter()
        findings: list[Finding] = []
        checked = 0
        hashed = 0
        buffers = (bytearray(CHUNK), bytearray(CHUNK))
        pool = self._helper()
        for obj in objects:
            _check_hex(obj.sha256)
            # the copies are on different disks: reading and hashing them side by side (file
            # reads and hashlib release the GIL) takes about half the time of one after the other
            first = pool.submit(self._check, self.path(obj.sha256, 0), obj, buffers[0])
            second = self._check(self.path(obj.sha256, 1), obj, buffers[1])
            checks = (first.result(), second)
            checked += 1
            hashed += checks[0].hashed + checks[1].hashed
            finding, extra = self._judge(obj, checks, repair, buffers[0])
            hashed += extra
            if finding is not None:
                findings.append(finding)
            if progress is not None:
                progress(checked, hashed)
        return AuditReport(
            objects_checked=checked,
            bytes_hashed=hashed,
            seconds=time.perf_counter() - started,
            findings=tuple(findings),
        )

    def _judge(
        self, obj: StoredObject, checks: tuple[_Check, _Check], repair: bool, buffer: bytearray
    ) -> tuple[Finding | None, int]:
        good = [c.state is CopyState.GOOD for c in checks]
        if all(good):
            return None, 0
        if not any(good):
            return (
                Finding(
                    sha256=obj.sha256,
                    size=obj.size,
                    roots=(0, 1),
                    found=(checks[0].state, checks[1].state),
                    state=FindingState.UNRECOVERABLE,
                    en=(
                        f"No copy of {obj.sha256} matches its recorded digest "
                        f"({checks[0].state} in {self.roots[0]}, {checks[1].state} in "
                        f"{self.roots[1]}); neither copy was changed: an archivist must decide."
                    ),
                    vi=(
                        f"Không bản nào của {obj.sha256} khớp với mã băm đã ghi "
                        f"({_STATE_VI[checks[0].state]} ở {self.roots[0]}, "
                        f"{_STATE_VI[checks[1].state]} ở {self.roots[1]}); không bản nào bị "
                        "thay đổi: cần người lưu trữ quyết định."
                    ),
                ),
                0,
            )
        bad = good.index(False)
        found = checks[bad].state
        if not repair:
            return self._unrepaired(obj, bad, found, None), 0
        try:
            extra = self._copy_over(obj, 1 - bad, bad, buffer)
        except (StorageFailed, DamagedObject) as exc:
            return self._unrepaired(obj, bad, found, exc), 0
        return (
            Finding(
                sha256=obj.sha256,
                size=obj.size,
                roots=(bad,),
                found=(found,),
                state=FindingState.REPAIRED,
                en=(
                    f"The copy of {obj.sha256} in {self.roots[bad]} was {found}; it has been "
                    f"rewritten from the good copy in {self.roots[1 - bad]} and verified."
                ),
                vi=(
                    f"Bản của {obj.sha256} ở {self.roots[bad]} bị {_STATE_VI[found]}; đã được "
                    f"ghi lại từ bản tốt ở {self.roots[1 - bad]} và đã kiểm tra lại."
                ),
            ),
            extra,
        )

    def _unrepaired(
        self,
        obj: StoredObject,
        bad: int,
        found: CopyState,
        error: StorageFailed | DamagedObject | None,
    ) -> Finding:
        en = f"The copy of {obj.sha256} in {self.roots[bad]} is {found}"
        vi = f"Bản của {obj.sha256} ở {self.roots[bad]} bị {_STATE_VI[found]}"
        if error is None:
            en += "; it was not repaired (repair is off)."
            vi += "; chưa được sửa (không bật sửa chữa)."
        else:
            en += f"; the repair failed: {error.en}"
            vi += f"; sửa không thành công: {error.vi}"
        return Finding(
            sha256=obj.sha256,
            size=obj.size,
            roots=(bad,),
            found=(found,),
            state=FindingState.MISSING if found is CopyState.MISSING else FindingState.DAMAGED,
            en=en,
            vi=vi,
        )

    def _copy_over(self, obj: StoredObject, source: int, target: int, buffer: bytearray) -> int:
        """Replace the copy in ``target`` with the one in ``source``, which must match ``obj``;
        returns the bytes hashed. Raises StorageFailed or DamagedObject, touching nothing
        in ``target`` unless the new copy is complete and matches."""
        view = memoryview(buffer)
        source_path = self.path(obj.sha256, source)
        try:
            temp, fd = self._temp(target)
        except OSError as exc:
            raise _failed(self.roots[target], exc) from exc
        try:
            digest = hashlib.sha256()
            size = 0
            try:
                handle = source_path.open("rb", buffering=0)
            except OSError as exc:
                raise _failed(self.roots[source], exc, reading=True) from exc
            with handle:
                while True:
                    try:
                        n = handle.readinto(view)
                    except OSError as exc:
                        raise _failed(self.roots[source], exc, reading=True) from exc
                    if not n:
                        break
                    digest.update(view[:n])
                    size += n
                    try:
                        _write_all(fd, view[:n])
                    except OSError as exc:
                        raise _failed(self.roots[target], exc) from exc
            # the source is hashed again as it is copied: it must still be the good copy
            if digest.hexdigest() != obj.sha256 or size != obj.size:
                raise _damaged(obj.sha256, (source,))
            final = self.path(obj.sha256, target)
            try:
                os.fsync(fd)
                os.close(fd)
                fd = -1
                self._ensure_parent(final)
                temp.replace(final)
                _fsync_dir(final.parent)
            except OSError as exc:
                raise _failed(self.roots[target], exc) from exc
        finally:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                temp.unlink()
        after = self._check(final, obj, buffer)
        if after.state is not CopyState.GOOD:
            raise StorageFailed(
                f"The repaired copy in {self.roots[target]} does not verify after writing: "
                "the disk may be failing.",
                f"Bản vừa sửa ở {self.roots[target]} không khớp khi kiểm tra lại: ổ đĩa có thể "
                "đang hỏng.",
            )
        return size + after.hashed

    def repair(self, obj: StoredObject, from_root: int) -> Finding:
        """An archivist's decision: overwrite the other root's copy with the one in
        ``from_root`` (0 or 1), whatever state the other copy is in, but only when the
        ``from_root`` copy matches the recorded digest and size (else :class:`DamagedObject`
        and nothing is changed)."""
        if from_root not in (0, 1):
            raise UsageError(
                f"The source root must be 0 or 1, not {from_root}.",
                f"Nơi lưu trữ nguồn phải là 0 hoặc 1, không phải {from_root}.",
            )
        _check_hex(obj.sha256)
        target = 1 - from_root
        buffer = bytearray(CHUNK)
        source_check = self._check(self.path(obj.sha256, from_root), obj, buffer)
        if source_check.state is not CopyState.GOOD:
            raise _damaged(obj.sha256, (from_root,))
        found = self._check(self.path(obj.sha256, target), obj, buffer).state
        self._copy_over(obj, from_root, target, buffer)
        return Finding(
            sha256=obj.sha256,
            size=obj.size,
            roots=(target,),
            found=(found,),
            state=FindingState.REPAIRED,
            en=(
                f"By an archivist's decision the copy of {obj.sha256} in {self.roots[target]} "
                f"(found {found}) was rewritten from {self.roots[from_root]} and verified."
            ),
            vi=(
                f"Theo quyết định của người lưu trữ, bản của {obj.sha256} ở "
                f"{self.roots[target]} (khi kiểm tra: {_STATE_VI[found]}) đã được ghi lại từ "
                f"{self.roots[from_root]} và đã kiểm tra lại."
            ),
        )


_STATE_VI = {CopyState.GOOD: "tốt", CopyState.MISSING: "mất", CopyState.DAMAGED: "hỏng"}


def _check_hex(sha256: str) -> None:
    if not _HEX.match(sha256):
        raise UsageError(
            f"Not a SHA-256 digest in lower-case hex: {sha256!r}.",
            f"Không phải mã băm SHA-256 dạng hex chữ thường: {sha256!r}.",
        )


def _not_found(sha256: str) -> StorageFailed:
    return StorageFailed(
        f"No copy of {sha256} is in either storage root.",
        f"Không có bản nào của {sha256} ở cả hai nơi lưu trữ.",
    )


def _damaged(sha256: str, roots: tuple[int, ...]) -> DamagedObject:
    which = " and ".join(f"copy {i + 1}" for i in roots)
    which_vi = " và ".join(f"bản {i + 1}" for i in roots)
    return DamagedObject(
        f"The stored object {sha256} does not match its digest ({which}).",
        f"Tài liệu lưu trữ {sha256} không khớp với mã băm ({which_vi}).",
    )
