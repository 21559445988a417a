"""What can be wrong with an edXML package, each with the element path it concerns.

The validation codes mirror the prefixes the national axis's validators use (QCVN 102:2016,
``standards/edxml.md`` §6.1): ``N.`` a required element is missing, ``R.`` a value is out of
range or too long, ``M.`` a value is not one the code list allows, ``T.`` a value has the wrong
type or format. The path names the element from ``MessageHeader``, ``TraceHeaderList``,
``edXMLManifest`` or ``AttachmentEncoded`` down, e.g. ``N.MessageHeader.To``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar, Literal

from exchange.errors import InputUnreadable, PayloadTooLarge

Rule = Literal["N", "R", "M", "T"]


class EdxmlError(InputUnreadable):
    """An edXML package or status message that cannot be read or used as it is.

    ``path`` is the element concerned (dotted, from the header part down), ``rule`` the
    validation prefix; ``label`` is both, e.g. ``N.MessageHeader.To``. The message starts with
    the label so that one line says where the problem is.
    """

    code: ClassVar[str] = "edxml.invalid"
    rule: ClassVar[Rule | None] = None

    def __init__(self, path: str, en: str, vi: str) -> None:
        self.path = path
        self.detail_en = en
        self.detail_vi = vi
        label = self.label_for(path)
        prefix = f"{label}: " if label else ""
        super().__init__(f"{prefix}{en}", f"{prefix}{vi}", path=path)

    @classmethod
    def label_for(cls, path: str) -> str:
        """``N.MessageHeader.To``; empty for the file as a whole (no element to name)."""
        if cls.rule is None or not path:
            return path
        return f"{cls.rule}.{path}"

    @property
    def label(self) -> str:
        return self.label_for(self.path)

    def within(self, prefix: str) -> EdxmlError:
        """The same error, its path under ``prefix`` (the element that holds the one named)."""
        path = f"{prefix}.{self.path}" if self.path else prefix
        return type(self)(path, self.detail_en, self.detail_vi)


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Errors raised in the block name their element under ``prefix``: a model object knows
    its own fields (``OrganId``), the reader knows where the object sits (``MessageHeader.To``)."""
    try:
        yield
    except EdxmlError as exc:
        raise exc.within(prefix) from None


class EdxmlMissing(EdxmlError):
    """``N.``: a required element is missing or empty."""

    code = "edxml.missing"
    rule = "N"


class EdxmlOutOfRange(EdxmlError):
    """``R.``: a value is longer than its field allows, or outside its range."""

    code = "edxml.out_of_range"
    rule = "R"


class EdxmlBadValue(EdxmlError):
    """``M.``: a value the code list does not have, or that contradicts another."""

    code = "edxml.bad_value"
    rule = "M"


class EdxmlBadFormat(EdxmlError):
    """``T.``: a value of the wrong type or format (a date, a number, base64)."""

    code = "edxml.bad_format"
    rule = "T"


class EdxmlUnreadable(EdxmlError):
    """The file is not well-formed XML, declares a DTD, or is not an edXML package at all."""

    code = "edxml.unreadable"


class EdxmlTooDeep(EdxmlUnreadable):
    """The elements are nested deeper than the reader allows (libxml2's limit of 256 without
    ``huge_tree``): no edXML package comes near it, so the file is refused as hostile."""

    code = "edxml.too_deep"


class AttachmentUnsafe(EdxmlError):
    """An attachment is refused for safety: a name that could escape a directory, a ZIP whose
    decompression ratio gives it away as a bomb, an encrypted ZIP member."""

    code = "edxml.attachment_unsafe"
    rule = "M"


class AttachmentTooLarge(EdxmlError, PayloadTooLarge):
    """An attachment, or all of them together, exceed the limits the reader was given."""

    code = "edxml.attachment_too_large"
    rule = "R"
    status = PayloadTooLarge.status


__all__ = [
    "AttachmentTooLarge",
    "AttachmentUnsafe",
    "EdxmlBadFormat",
    "EdxmlBadValue",
    "EdxmlError",
    "EdxmlMissing",
    "EdxmlOutOfRange",
    "EdxmlTooDeep",
    "EdxmlUnreadable",
    "Rule",
    "within",
]
