"""A PDF judged from its path without being read into memory.

A 200 MB PDF read whole costs 200 MB of memory before anything is judged, and every copy
(``io.BytesIO`` over it, slices of it) as much again. From a path, two views of the one file
are used instead:

* our own readers (the strict structure reader, the coverage and trailing-bytes checks) get a
  read-only memory map (:class:`MappedFile`): they look only at cross-reference data, object
  headers and the ends of streams, so only those pages are ever loaded;
* pyHanko's reader gets the open file: it reads the objects it parses, and hashes each
  signature's byte range in small chunks through ``readinto``, so the file's bytes pass
  through the page cache, not through the process's memory.

Both are views of one private snapshot of the file, not of the file itself: a map of a file
that another process truncates kills the reader (SIGBUS) when it touches a page past the new
end, and a file rewritten while it is judged would let the two views, or two moments of one
view, disagree. So :func:`mapped` first copies the file, in the kernel (``sendfile``), into an
unnamed temporary file that no other process can open, write or truncate, and maps that.
It notes the file's identity (device, inode, size, modification and change times) before the
copy; :func:`unchanged` tells whether the file still is the same when the verdict is ready
(a file changed during the copy gave a snapshot that may be no version of it at all).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

__all__ = ["MappedFile", "MappedPdf", "mapped", "unchanged"]


class MappedFile(mmap.mmap):
    """A read-only memory map with the one method of ``bytes`` the PDF readers use beyond
    what ``mmap`` has (indexing, slicing to ``bytes``, ``len``, ``find``, ``rfind``, regular
    expressions)."""

    def startswith(self, prefix: bytes, start: int = 0) -> bool:
        """``bytes.startswith`` for one prefix and a non-negative start."""
        return start <= len(self) and self[start : start + len(prefix)] == prefix


@dataclass(frozen=True, slots=True)
class MappedPdf:
    data: MappedFile
    """For our own readers: a map of the snapshot."""
    stream: BinaryIO
    """For pyHanko's reader (positioned by it): the snapshot, open."""
    source: BinaryIO
    """The file itself, open, to tell whether it changed."""
    identity: tuple[int, ...]
    """The file's identity before it was copied."""


def _identity(handle: BinaryIO) -> tuple[int, ...]:
    info = os.fstat(handle.fileno())
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _copy(source: BinaryIO, target: BinaryIO, size: int) -> None:
    """``size`` bytes of ``source`` into ``target``, copied by the kernel."""
    offset = 0
    while offset < size:
        sent = os.sendfile(target.fileno(), source.fileno(), offset, size - offset)
        if sent == 0:  # the file became shorter while it was copied
            raise ValueError("file shrank while copied")
        offset += sent
    target.flush()


@contextlib.contextmanager
def mapped(path: Path) -> Iterator[MappedPdf | None]:
    """A private snapshot of the file, mapped and open, or ``None`` when there is none to be
    had (empty, not a regular file, no room for the snapshot): then read it whole. Raises
    ``OSError`` when the file cannot be opened."""
    with path.open("rb") as source:
        identity = _identity(source)
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode) or identity[2] == 0:
            yield None
            return
        try:
            # unnamed (O_TMPFILE): only this process has it; closed by the "with" below
            snapshot = tempfile.TemporaryFile()  # noqa: SIM115
        except OSError:
            yield None
            return
        with snapshot:
            try:
                _copy(source, cast(BinaryIO, snapshot), identity[2])
                view = MappedFile(snapshot.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):
                yield None
                return
            try:
                yield MappedPdf(
                    data=view,
                    stream=cast(BinaryIO, snapshot),
                    source=source,
                    identity=identity,
                )
            finally:
                with contextlib.suppress(BufferError):  # still exported: freed with its last user
                    view.close()


def unchanged(pdf: MappedPdf) -> bool:
    """Whether the file is still the one that was copied (nothing wrote to it since it was
    opened), so that the verdict on the snapshot is a verdict on the file."""
    try:
        return _identity(pdf.source) == pdf.identity and len(pdf.data) == pdf.identity[2]
    except (OSError, ValueError):
        return False
