"""The exchange room's errors: a stable code, a message in Vietnamese and English, an HTTP
status and an exit code.

Like the other rooms' errors, the message says what is wrong and what to do, without naming an
edge's options (a command-line flag, a form field): each edge says that itself. The HTTP API
turns these into RFC 9457 ``application/problem+json`` (``type`` is derived from the code); the
command line prints one line and exits with ``exit_code`` (the README's table).
"""

from __future__ import annotations

from typing import ClassVar


class ExchangeError(Exception):
    """Base of every error the exchange room raises on purpose."""

    code: ClassVar[str] = "exchange.error"
    status: ClassVar[int] = 500
    """The HTTP status this error is answered with."""
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


class BadRequest(ExchangeError):
    """The request or input is malformed or incomplete (a field missing or too long)."""

    code = "exchange.bad_request"
    status = 400
    exit_code = 64


class InputUnreadable(ExchangeError):
    """A file given to the service cannot be read or parsed (malformed XML, a broken PDF)."""

    code = "exchange.input_unreadable"
    status = 422
    exit_code = 65


class Unauthenticated(ExchangeError):
    """No valid credentials. The message never says which part was wrong."""

    code = "exchange.unauthenticated"
    status = 401
    exit_code = 77


class Forbidden(ExchangeError):
    """Authenticated, but the role does not allow this action in this agency."""

    code = "exchange.forbidden"
    status = 403
    exit_code = 77


class NotFound(ExchangeError):
    """Nothing with this identity exists *in the caller's agency*; another agency's objects are
    reported exactly like missing ones."""

    code = "exchange.not_found"
    status = 404
    exit_code = 66


class Conflict(ExchangeError):
    """The action does not fit the object's current state (already issued, duplicate name)."""

    code = "exchange.conflict"
    status = 409
    exit_code = 65


class TooManyAttempts(ExchangeError):
    """Login throttled: too many failed attempts for this account or address."""

    code = "exchange.too_many_attempts"
    status = 429
    exit_code = 77


class PayloadTooLarge(ExchangeError):
    code = "exchange.payload_too_large"
    status = 413
    exit_code = 65


class SchemaOutOfDate(ExchangeError):
    """The database schema is older (or newer) than this program's migrations."""

    code = "exchange.schema_out_of_date"
    status = 503
    exit_code = 78


class ConfigurationError(ExchangeError):
    """The settings are invalid (an unknown key, a value of the wrong type)."""

    code = "exchange.configuration"
    status = 500
    exit_code = 78


class StorageError(ExchangeError):
    """A blob or record could not be written (disk full, read-only)."""

    code = "exchange.storage"
    status = 507
    exit_code = 73


class AuditChainBroken(ExchangeError):
    """The audit log's hash chain does not hold: entries were edited or deleted."""

    code = "exchange.audit_chain_broken"
    status = 500
    exit_code = 65


class SigningFailed(ExchangeError):
    """A signature could not be made (no key configured, wrong PIN, token failure); the
    message is the signing room's."""

    code = "exchange.signing_failed"
    status = 422
    exit_code = 76


class NodeRefused(ExchangeError):
    """A request from another node that cannot be accepted: unsigned, signed by a key the
    directory does not give the sending agency, too old, replayed, or about something the
    sender has no say in. ``details['reason']`` holds a stable sub-code."""

    code = "exchange.node_refused"
    status = 403
    exit_code = 77
