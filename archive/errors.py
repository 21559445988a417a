"""The archive room's errors: each carries the message in English and in Vietnamese."""

from __future__ import annotations


class ArchiveError(Exception):
    """Something the archive could not do; ``en``/``vi`` say what, for a person."""

    code = "archive.error"

    def __init__(self, en: str, vi: str) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi

    def text(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


class UsageError(ArchiveError):
    """The request itself is wrong (a missing dossier, a bad option)."""

    code = "archive.usage"


class StorageFailed(ArchiveError):
    """A storage root could not be written or read (full disk, missing mount)."""

    code = "archive.storage"


class DamagedObject(ArchiveError):
    """A stored copy does not match its recorded digest."""

    code = "archive.damaged"


class EvidenceInvalid(ArchiveError):
    """An evidence record is malformed or does not prove what it should."""

    code = "archive.evidence"


class PackageInvalid(ArchiveError):
    """An information package is malformed, incomplete or tampered with."""

    code = "archive.package"
