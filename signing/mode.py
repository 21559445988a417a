"""Development or production: whether the development-only parts may run.

Development parts (:mod:`signing.dev`: the test PKI, the local TSA/OCSP/CRL server, SoftHSM2
tokens, artwork and the sample document, keys generated in this process) call
:func:`development_part` when they are used: it warns with the part's own
:class:`~validation.DevelopmentModeWarning` subclass, or, in production mode, refuses with
:class:`DevelopmentPartRefused`. Production mode is on when ``LIENTHONG_MODE=production`` is
set, or once the service has called :func:`enter_production_mode` (its settings say so).
"""

from __future__ import annotations

import os
import threading
import warnings

from signing.errors import SigningError
from validation import DevelopmentModeWarning

MODE_VARIABLE = "LIENTHONG_MODE"
MODES = ("development", "production")

_lock = threading.Lock()
_production = False


class DevelopmentPartRefused(SigningError):
    """A development-only part was asked for while the service runs in production mode."""

    code = "signing.development_part_refused"
    exit_code = 64


def enter_production_mode() -> None:
    """From now on, in this process, every development part refuses to run. There is no way
    back: a process that served production documents does not turn into a demo."""
    global _production  # one process-wide switch, set once at start-up
    with _lock:
        _production = True


def production_mode() -> bool:
    """True once :func:`enter_production_mode` ran, or with ``LIENTHONG_MODE=production``.

    :raises DevelopmentPartRefused: ``LIENTHONG_MODE`` holds something else than a mode (a
        typo must not quietly mean development).
    """
    if _production:
        return True
    value = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if value and value not in MODES:
        raise DevelopmentPartRefused(
            f"{MODE_VARIABLE} is {value!r}: it must be 'development' or 'production'",
            f"{MODE_VARIABLE} có giá trị {value!r}: chỉ được là 'development' hoặc 'production'",
        )
    return value == "production"


def development_part(
    category: type[DevelopmentModeWarning], en: str, vi: str, *, stacklevel: int = 3
) -> None:
    """Say that the part described by ``en``/``vi`` is development-only (a warning of
    ``category``), or refuse it in production mode."""
    if production_mode():
        raise DevelopmentPartRefused(
            f"refused in production mode: {en}",
            f"bị từ chối ở chế độ vận hành chính thức (production): {vi}",
        )
    warnings.warn(category(en, vi), stacklevel=stacklevel)
