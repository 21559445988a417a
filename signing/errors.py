"""The signing room's errors: a stable code, a message in Vietnamese and English, an exit code.

A clerk must be able to act on the message; the code is for programs. Exit codes follow
BSD sysexits where one fits, and are documented in the README.
"""

from __future__ import annotations

from typing import ClassVar

# An output that cannot be written is the same failure in every room: one class, the
# validation room's (where the one atomic writer lives), re-exported here.
from validation import OutputNotWritable as OutputNotWritable


class SigningError(Exception):
    """Base of every error the signing room raises on purpose."""

    code: ClassVar[str] = "signing.error"
    exit_code: ClassVar[int] = 70

    def __init__(self, en: str, vi: str | None = None, **details: str) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en
        self.details = details

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en

    def __str__(self) -> str:
        return self.en


class UsageError(SigningError):
    code = "signing.usage"
    exit_code = 64


class InputUnreadable(SigningError):
    """The document to sign cannot be read or parsed (malformed, encrypted)."""

    code = "signing.input_unreadable"
    exit_code = 65


class InputNotFound(SigningError):
    code = "signing.input_not_found"
    exit_code = 66


class ServiceUnavailable(SigningError):
    """A timestamp authority, OCSP responder or CRL server could not be used."""

    code = "signing.service_unavailable"
    exit_code = 69


class PinIncorrect(SigningError):
    code = "signing.pin_incorrect"
    exit_code = 77


class PinLocked(SigningError):
    code = "signing.pin_locked"
    exit_code = 77


class PinMissing(SigningError):
    code = "signing.pin_missing"
    exit_code = 77


class TokenNotFound(SigningError):
    code = "signing.token_not_found"
    exit_code = 78


class KeyNotFound(SigningError):
    code = "signing.key_not_found"
    exit_code = 78


class CertificateNotFound(SigningError):
    code = "signing.certificate_not_found"
    exit_code = 78


class ModuleNotLoadable(SigningError):
    code = "signing.module_not_loadable"
    exit_code = 78


class CertificateUnusable(SigningError):
    """Expired, not yet valid, or without a key usage that allows signing."""

    code = "signing.certificate_unusable"
    exit_code = 79


class PlacementError(SigningError):
    """Where to put a visible signature could not be worked out."""

    code = "signing.placement"
    exit_code = 65


class TokenError(SigningError):
    """Any other failure of the token or its PKCS#11 module."""

    code = "signing.token_error"
    exit_code = 76
