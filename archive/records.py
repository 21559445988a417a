"""Evidence records put together from the catalog: a document's archive timestamps in order,
each with the tree it was made over and the document's leaf there.

The DER is the one :mod:`archive.ers` writes (the same pieces, the same conventions, so
Bouncy Castle and :func:`archive.ers.verify` read both alike): chain 1 starts with the seal,
a timestamp renewal joins the chain it renews, a hash-tree renewal starts a new chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from archive.ers import _algorithm, _ats_der, _tlv
from archive.hashtree import HashTree

_SEQUENCE = 0x30
_VERSION = b"\x02\x01\x01"


@dataclass(frozen=True, slots=True)
class Part:
    """One archive timestamp of a document's record."""

    kind: str
    """``seal``, ``timestamp`` or ``hashtree`` (see :class:`archive.catalog.ArchiveStamp`)."""
    algorithm: str
    token: bytes
    tree: HashTree
    leaf: int


def _chains(parts: Sequence[Part]) -> tuple[list[list[bytes]], list[str]]:
    chains: list[list[bytes]] = []
    algorithms: list[str] = []
    for part in parts:
        if part.kind != "timestamp" or not chains:
            chains.append([])
            if part.algorithm not in algorithms:
                algorithms.append(part.algorithm)
        contents = bytes(_algorithm(part.algorithm).contents)
        reduced = part.tree.reduced(part.leaf)
        chains[-1].append(_ats_der(contents, reduced, part.token))
    return chains, algorithms


def sequence_der(parts: Sequence[Part]) -> bytes:
    """The DER ArchiveTimeStampSequence of ``parts`` (what a hash-tree renewal hashes)."""
    chains, _ = _chains(parts)
    return _tlv(_SEQUENCE, b"".join(_tlv(_SEQUENCE, b"".join(c)) for c in chains))


def record_der(parts: Sequence[Part]) -> bytes:
    """The DER EvidenceRecord of ``parts`` (in the order they were made)."""
    if not parts or parts[0].kind != "seal":
        raise ValueError("an evidence record starts with its seal")
    chains, algorithms = _chains(parts)
    sequence = _tlv(_SEQUENCE, b"".join(_tlv(_SEQUENCE, b"".join(c)) for c in chains))
    listed = _tlv(_SEQUENCE, b"".join(_algorithm(a).dump() for a in algorithms))
    return _tlv(_SEQUENCE, _VERSION + listed + sequence)


def renewal_leaf(parts: Sequence[Part], document_digest: bytes, algorithm: str) -> bytes:
    """RFC 4998 §5.2 hash-tree renewal: ``H'(H'(d) || H'(ArchiveTimeStampSequence))``,
    concatenated in that order, unsorted."""
    ha = hashlib.new(algorithm, sequence_der(parts)).digest()
    return hashlib.new(algorithm, document_digest + ha).digest()


def token_leaf(token: bytes, algorithm: str) -> bytes:
    """RFC 4998 §5.2 timestamp renewal: the digest of the whole DER ContentInfo of the
    previous timestamp, under its chain's algorithm."""
    return hashlib.new(algorithm, token).digest()
