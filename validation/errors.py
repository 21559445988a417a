"""The validation room's errors. A verdict is data (a report); these mean we could not judge."""

from __future__ import annotations

from typing import ClassVar


class ValidationError(Exception):
    """Validation could not run (bad configuration, unreadable trust anchors, …)."""

    code: ClassVar[str] = "validation.error"
    exit_code: ClassVar[int] = 70

    def __init__(self, en: str, vi: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en


class PolicyError(ValidationError):
    """The validation policy or its trust anchors cannot be used."""

    code = "validation.policy"
    exit_code = 64


class InputMissing(ValidationError):
    code = "validation.input_missing"
    exit_code = 66


class OutputNotWritable(ValidationError):
    """A report or its evidence cannot be written (directory missing, disk full)."""

    code = "validation.output_not_writable"
    exit_code = 73


class DevelopmentModeWarning(UserWarning):
    """A development-only part is in use (the development PKI, TSA, tokens, artwork, a key
    generated in this process…): fine for a demo or a test, never for documents that
    count. Each part warns with its own subclass; in production mode they are refused
    instead. Defined in the lowest room so that every room can mark its own."""

    def __init__(self, en: str, vi: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en
