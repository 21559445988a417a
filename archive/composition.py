"""The archive's record of a dossier's composition: which documents it holds, by name and
digest, after an ingest.

An evidence record proves one document's bytes; nothing in it says which dossier the
document belonged to or what else was there. So after every ingest that adds documents the
archive writes this small record (canonical JSON, one per version), catalogues it like a
document (``role = 'composition'``), and seals and renews it with them. An exported package
carries the latest one at ``metadata/preservation/composition.json`` with its evidence
record beside it (``.ers``); the offline check then proves that the package holds exactly
the documents the archive held for the dossier, under the same names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from archive.errors import PackageInvalid

FORMAT: Final = "lienthong-composition/1"
PATH: Final = "metadata/preservation/composition.json"
RECORD_PATH: Final = PATH + ".ers"
MAX_BYTES: Final = 256 * 1024**2
"""Larger is refused when read back (a dossier of 100,000 documents takes about 15 MB)."""


@dataclass(frozen=True, slots=True)
class Entry:
    ordinal: int
    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Composition:
    dossier: str
    """The dossier's code."""
    objid: str
    """Its information package's UUID (without ``urn:uuid:``)."""
    version: int
    made: datetime
    documents: tuple[Entry, ...]


def catalog_name(version: int) -> str:
    """The catalog name of a composition record (a slash: never a document's name)."""
    return f"composition/{version}"


def composition_bytes(
    dossier: str, objid: str, version: int, made: datetime, documents: Sequence[Entry]
) -> bytes:
    body = {
        "format": FORMAT,
        "dossier": dossier,
        "objid": objid,
        "version": version,
        "made": made.isoformat(),
        "documents": [
            {"ordinal": d.ordinal, "name": d.name, "sha256": d.sha256, "size": d.size}
            for d in sorted(documents, key=lambda d: d.ordinal)
        ],
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _invalid(detail: str) -> PackageInvalid:
    return PackageInvalid(
        f"the composition record is not readable: {detail}",
        f"bản ghi thành phần hồ sơ không đọc được: {detail}",
    )


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _invalid(f"{name} missing or not a {kind.__name__}")
    return value


def parse_composition(data: bytes) -> Composition:
    """The record, or :class:`PackageInvalid` for anything that is not one (strictly)."""
    if len(data) > MAX_BYTES:
        raise _invalid(f"larger than {MAX_BYTES} bytes")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise _invalid("a key occurs twice")
        return dict(pairs)

    try:
        body = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, PackageInvalid):
            raise
        raise _invalid(str(exc)) from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise _invalid(f"not a {FORMAT} record")
    try:
        made = datetime.fromisoformat(_field(body, "made", str))
    except ValueError as exc:
        raise _invalid("made is not a time") from exc
    entries = []
    for item in _field(body, "documents", list):
        if not isinstance(item, dict):
            raise _invalid("a document entry is not an object")
        entries.append(
            Entry(
                ordinal=_field(item, "ordinal", int),
                name=_field(item, "name", str),
                sha256=_field(item, "sha256", str),
                size=_field(item, "size", int),
            )
        )
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise _invalid("a document name occurs twice")
    return Composition(
        dossier=_field(body, "dossier", str),
        objid=_field(body, "objid", str),
        version=_field(body, "version", int),
        made=made,
        documents=tuple(entries),
    )


__all__ = [
    "FORMAT",
    "PATH",
    "RECORD_PATH",
    "Composition",
    "Entry",
    "catalog_name",
    "composition_bytes",
    "parse_composition",
]
