"""Writing output files so that no half-written file is ever left behind."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from signing.errors import InputNotFound, InputUnreadable, OutputNotWritable
from validation import os_reason


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path``; renamed over it only when the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise _output_error(path, exc) from exc
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
        raise _output_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _output_error(path: Path, exc: OSError) -> OutputNotWritable:
    if exc.errno == errno.ENOSPC:
        return OutputNotWritable(
            f"the disk is full: cannot write {path}", f"đĩa đầy: không ghi được {path}"
        )
    en, vi = os_reason(exc)
    return OutputNotWritable(f"cannot write {path}: {en}", f"không ghi được {path}: {vi}")


def open_input(path: Path) -> BinaryIO:
    """Open a document for reading, with the room's errors."""
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise InputNotFound(f"{path} does not exist", f"không có tệp {path}") from exc
    except IsADirectoryError as exc:
        raise InputUnreadable(f"{path} is a directory", f"{path} là thư mục") from exc
    except OSError as exc:
        en, vi = os_reason(exc)
        raise InputUnreadable(f"cannot read {path}: {en}", f"không đọc được {path}: {vi}") from exc
