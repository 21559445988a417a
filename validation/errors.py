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
