"""RFC 4998 §4.2 hash trees over many leaf digests, kept small enough for 100,000+ leaves.

Written by hand: no maintained Python library builds RFC 4998 trees (``pyasn1-alt-modules``
has the ASN.1 module only). The tree is binary: each pair of nodes is sorted ascending
(unsigned, bytewise) and their concatenation hashed; a node left alone at the end of a level
is carried up unchanged, and a one-leaf tree is its leaf. That is how Bouncy Castle 1.72
(``org.bouncycastle.tsp.ers.BinaryTreeRootCalculator``) builds and checks trees, and
RFC 4998 allows any grouping, so records made here verify there.

Each level is one flat ``bytearray`` of fixed-size digests (not a list of ``bytes``), so a
tree costs about two digests per leaf and a few Python objects in all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from archive.errors import UsageError

CHUNK = 1 << 20

_SIZES = {
    "sha224": 28,
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
    "sha3_224": 28,
    "sha3_256": 32,
    "sha3_384": 48,
    "sha3_512": 64,
}
"""The digest algorithms an evidence record may use, by their asn1crypto (and hashlib)
names, with their digest sizes."""
SUPPORTED = tuple(_SIZES)


def digest_size(algorithm: str) -> int:
    """The size of ``algorithm``'s digests; :class:`UsageError` for an unknown algorithm."""
    try:
        return _SIZES[algorithm]
    except KeyError:
        raise UsageError(
            f"unsupported digest algorithm {algorithm!r} (use one of {', '.join(_SIZES)})",
            f"thuật toán băm {algorithm!r} không được hỗ trợ (dùng một trong {', '.join(_SIZES)})",
        ) from None


def hasher(algorithm: str) -> Callable[[bytes], bytes]:
    """``data -> digest`` under ``algorithm`` (the constructor looked up once: the tree
    calls it once per node)."""
    digest_size(algorithm)
    ctor = getattr(hashlib, algorithm)

    def digest(data: bytes) -> bytes:
        return bytes(ctor(data).digest())

    return digest


def digest_stream(stream: IO[bytes], algorithms: Iterable[str]) -> dict[str, bytes]:
    """Digests of everything left in ``stream`` under each algorithm, in one pass of 1 MiB
    chunks (never the whole file in memory)."""
    hashes = {a: hashlib.new(a) for a in algorithms if digest_size(a)}
    while chunk := stream.read(CHUNK):
        for h in hashes.values():
            h.update(chunk)
    return {a: h.digest() for a, h in hashes.items()}


def group_hash(digest: Callable[[bytes], bytes], values: Iterable[bytes]) -> bytes:
    """RFC 4998 §4.2: sort the values ascending (unsigned bytewise; a shorter prefix first,
    as Python compares ``bytes``), concatenate, hash."""
    return digest(b"".join(sorted(values)))


@dataclass(frozen=True, slots=True)
class HashTree:
    """A built tree: ``levels[0]`` holds the leaves in the order given, the last level the
    root; each level is a flat ``bytearray`` of ``size``-byte digests."""

    algorithm: str
    size: int
    levels: tuple[bytearray, ...]

    @classmethod
    def build(cls, leaves: Iterable[bytes], algorithm: str) -> HashTree:
        """The tree over ``leaves`` (digests under ``algorithm``, at least one)."""
        size = digest_size(algorithm)
        digest = hasher(algorithm)
        level = bytearray()
        for leaf in leaves:
            if len(leaf) != size:
                raise UsageError(
                    f"a leaf of {len(leaf)} bytes is not a {algorithm} digest ({size} bytes)",
                    f"một lá {len(leaf)} byte không phải giá trị băm {algorithm} ({size} byte)",
                )
            level += leaf
        if not level:
            raise UsageError(
                "a hash tree needs at least one leaf", "cây băm cần ít nhất một giá trị lá"
            )
        levels = [level]
        while len(level) > size:
            flat = bytes(level)
            count = len(flat) // size
            upper = bytearray()
            for i in range(0, (count - 1) * size, 2 * size):
                a = flat[i : i + size]
                b = flat[i + size : i + 2 * size]
                upper += digest(a + b) if a <= b else digest(b + a)
            if count % 2:  # the odd node is carried up unchanged (as Bouncy Castle does)
                upper += flat[(count - 1) * size :]
            levels.append(upper)
            level = upper
        return cls(algorithm=algorithm, size=size, levels=tuple(levels))

    def __len__(self) -> int:
        return len(self.levels[0]) // self.size

    @property
    def root(self) -> bytes:
        return bytes(self.levels[-1])

    def leaf(self, index: int) -> bytes:
        return self._node(0, index)

    def _node(self, level: int, index: int) -> bytes:
        s = self.size
        return bytes(self.levels[level][index * s : (index + 1) * s])

    def reduced(self, index: int) -> list[list[bytes]]:
        """The reduced hash tree (RFC 4998 §4.2) of leaf ``index``: the PartialHashtree
        lists, the first holding the leaf alone, each next one its sibling one level up; a
        level where the node has no sibling (carried up alone) adds no list. A one-leaf tree
        has none: its root is the leaf.

        RFC 4998 also allows the leaf and its sibling in the first list, but a verifier then
        finds the sibling's hash there too, and the record proves the sibling document as
        well (Bouncy Castle accepts it for either): the leaf alone, as Bouncy Castle's
        generator writes it, binds the record to its own document only."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        if len(self.levels) == 1:
            return []
        lists: list[list[bytes]] = [[self._node(0, index)]]
        i = index
        for depth in range(len(self.levels) - 1):
            sibling = i ^ 1
            if sibling < len(self.levels[depth]) // self.size:
                lists.append([self._node(depth, sibling)])
            i //= 2
        return lists


def root_of(digest: Callable[[bytes], bytes], reduced: list[list[bytes]], start: bytes) -> bytes:
    """The root a reduced hash tree leads to from ``start`` (RFC 4998 §4.3): ``start`` must be
    in the first list (checked by the caller); hash the sorted first list (a single value is
    carried up unhashed), add the result to the next list, hash that sorted, and so on."""
    if not reduced:
        return start
    first = reduced[0]
    node = first[0] if len(first) == 1 else group_hash(digest, first)
    for values in reduced[1:]:
        node = group_hash(digest, [*values, node])
    return node
