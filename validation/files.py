"""Writing output files so that no half-written file is ever left behind: the one home of
this for every room (the signing room's outputs, the verification reports, the evidence)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from validation.errors import OutputNotWritable, os_reason

__all__ = ["atomic_output", "atomic_write"]


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path``, flushed to disk and renamed over ``path`` only when
    the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was.

    :raises OutputNotWritable: the directory is missing or read-only, the disk is full, …
    """
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise output_error(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """``path`` holds ``data``, all of it or (on error) whatever it held before."""
    with atomic_output(path) as out:
        out.write(data)


def output_error(path: Path, exc: OSError) -> OutputNotWritable:
    """The one-line error for an output that cannot be written."""
    if exc.errno == errno.ENOSPC:
        return OutputNotWritable(
            f"the disk is full: cannot write {path}", f"đĩa đầy: không ghi được {path}"
        )
    en, vi = os_reason(exc)
    return OutputNotWritable(f"cannot write {path}: {en}", f"không ghi được {path}: {vi}")
