"""Content-addressed blob store: a file's name is the SHA-256 of its bytes.

A blob is streamed to a temporary file in the store's own directory (so the final rename is
atomic), hashed as it is written, fsynced, renamed to ``sha256/ab/cd/<hex>`` and its
directory fsynced. Only then does :meth:`BlobStore.put` return, so a caller that writes the
blob first and its database row second never has a row pointing at a partial file; a failed
write removes its temporary file. :class:`BlobStore` is the small interface an object store
can implement instead of :class:`FileBlobStore`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from exchange.errors import NotFound, PayloadTooLarge, StorageError

CHUNK = 1 << 20
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobRef:
    """A blob that is completely written."""

    sha256: str
    """Lower-case hex SHA-256 of the content: the blob's name."""
    size: int


class BlobStore(Protocol):
    """What the services need from a store of immutable blobs."""

    async def put(self, chunks: AsyncIterable[bytes], *, max_size: int | None = None) -> BlobRef:
        """Store the bytes (streamed); return once they are durable."""
        ...

    async def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``."""
        ...

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        """The blob's bytes, in chunks; :class:`NotFound` if there is none."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    async def delete(self, sha256: str, *, unless_written_after: datetime) -> bool:
        """Remove a blob no row names any more (a destroyed copy); kept (False) when it was
        written again after ``unless_written_after``: a writer racing with the deletion
        is about to name it."""
        ...


def _storage_error(exc: OSError) -> StorageError:
    reason = exc.strerror or type(exc).__name__
    return StorageError(
        f"The file could not be stored: {reason}.", f"Không lưu được tệp: {reason}.", reason=reason
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore:
    """Blobs as files under ``root`` (the data directory's ``blobs``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _HEX.match(sha256):
            raise NotFound("No such file.", "Không có tệp này.")
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def _open_temp(self) -> tuple[Path, IO[bytes]]:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        path = tmp_dir / f"{secrets.token_hex(16)}.part"
        return path, path.open("xb")

    def _commit(self, temp: Path, handle: IO[bytes], sha256: str) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # same content already stored: the temporary copy is not needed
            temp.unlink()
            with contextlib.suppress(FileNotFoundError):
                os.utime(final)  # written again: a deletion racing with this keeps it
            return
        temp.replace(final)
        _fsync_dir(final.parent)

    @staticmethod
    def _discard(temp: Path, handle: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            handle.close()
        with contextlib.suppress(OSError):
            temp.unlink()

    async def put(self, chunks: AsyncIterable[bytes], *, max_size: int | None = None) -> BlobRef:
        try:
            temp, handle = await asyncio.to_thread(self._open_temp)
        except OSError as exc:
            raise _storage_error(exc) from exc
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in chunks:  # the source's own errors pass through unchanged
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise PayloadTooLarge(
                        f"The file is larger than the {max_size} bytes allowed.",
                        f"Tệp lớn hơn mức cho phép ({max_size} byte).",
                    )
                digest.update(chunk)
                try:
                    await asyncio.to_thread(handle.write, chunk)
                except OSError as exc:
                    raise _storage_error(exc) from exc
            sha256 = digest.hexdigest()
            try:
                await asyncio.to_thread(self._commit, temp, handle, sha256)
            except OSError as exc:
                raise _storage_error(exc) from exc
        except BaseException:
            await asyncio.to_thread(self._discard, temp, handle)
            raise
        return BlobRef(sha256=sha256, size=size)

    def _put_bytes(self, data: bytes) -> BlobRef:
        sha256 = hashlib.sha256(data).hexdigest()
        temp, handle = self._open_temp()
        try:
            handle.write(data)
            self._commit(temp, handle, sha256)
        except BaseException:
            self._discard(temp, handle)
            raise
        return BlobRef(sha256=sha256, size=len(data))

    async def put_bytes(self, data: bytes) -> BlobRef:
        # in memory already: hashed, written, fsynced and renamed in one trip to a thread, so
        # several blobs written concurrently (asyncio.gather) have their fsyncs in flight at once
        try:
            return await asyncio.to_thread(self._put_bytes, data)
        except OSError as exc:
            raise _storage_error(exc) from exc

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        path = self.path(sha256)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise NotFound("No such file.", "Không có tệp này.") from exc
        except OSError as exc:
            raise _storage_error(exc) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def read_bytes(self, sha256: str) -> bytes:
        return b"".join([chunk async for chunk in self.read(sha256)])

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path(sha256).is_file)

    def _delete(self, sha256: str, unless_written_after: datetime) -> bool:
        path = self.path(sha256)
        try:
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            return False
        if written > unless_written_after:
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)
        return True

    async def delete(self, sha256: str, *, unless_written_after: datetime) -> bool:
        try:
            return await asyncio.to_thread(self._delete, sha256, unless_written_after)
        except OSError as exc:
            raise _storage_error(exc) from exc
