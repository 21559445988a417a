"""Opening inputs with the room's errors; outputs are written with the validation room's
:func:`~validation.atomic_output` (re-exported here), the one home of atomic writes."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from signing.errors import InputNotFound, InputUnreadable
from validation import atomic_output as atomic_output
from validation import os_reason


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
