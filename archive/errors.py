"""The archive room's errors: a stable code, the message in Vietnamese and English, an exit
code (BSD sysexits where one fits, as in the other rooms; documented in the README)."""

from __future__ import annotations

from typing import ClassVar


class ArchiveError(Exception):
    """Something the archive could not do; ``en``/``vi`` say what, for a person."""

    code: ClassVar[str] = "archive.error"
    exit_code: ClassVar[int] = 70

    def __init__(self, en: str, vi: str, **details: str) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi
        self.details = details

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en

    def text(self, lang: str = "vi") -> str:
        return self.message(lang)

    def __str__(self) -> str:
        return self.en


class UsageError(ArchiveError):
    """The request itself is wrong (a missing dossier, a bad option)."""

    code = "archive.usage"
    exit_code = 64


class InputMissing(UsageError):
    """A file to ingest or a package to verify does not exist."""

    code = "archive.input_missing"
    exit_code = 66


class StorageFailed(ArchiveError):
    """A storage root could not be written or read (full disk, missing mount)."""

    code = "archive.storage"
    exit_code = 74


class DamagedObject(ArchiveError):
    """A stored copy does not match its recorded digest."""

    code = "archive.damaged"
    exit_code = 74


class EvidenceInvalid(ArchiveError):
    """An evidence record is malformed or does not prove what it should."""

    code = "archive.evidence"
    exit_code = 65


class PackageInvalid(ArchiveError):
    """An information package is malformed, incomplete or tampered with."""

    code = "archive.package"
    exit_code = 65
