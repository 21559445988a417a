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

Both are views of the same file, and a file that changes while it is judged would let them
disagree: :func:`mapped` notes the file's identity (device, inode, size, modification and
change times) when it opens it, and :func:`unchanged` tells whether it still is the same
when the verdict is ready.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
    """For our own readers."""
    stream: BinaryIO
    """For pyHanko's reader (positioned by it)."""
    identity: tuple[int, ...]


def _identity(handle: BinaryIO) -> tuple[int, ...]:
    info = os.fstat(handle.fileno())
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@contextlib.contextmanager
def mapped(path: Path) -> Iterator[MappedPdf | None]:
    """The file mapped and open, or ``None`` when it cannot be mapped (empty, not a regular
    file): then read it whole. Raises ``OSError`` when it cannot be opened."""
    with path.open("rb") as handle:
        identity = _identity(handle)
        try:
            view = MappedFile(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            yield None
            return
        try:
            yield MappedPdf(data=view, stream=handle, identity=identity)
        finally:
            with contextlib.suppress(BufferError):  # still exported: freed with its last user
                view.close()


def unchanged(pdf: MappedPdf) -> bool:
    """Whether the file is still the one that was opened (nothing wrote to it since)."""
    try:
        return _identity(pdf.stream) == pdf.identity and len(pdf.data) == pdf.identity[2]
    except (OSError, ValueError):
        return False
