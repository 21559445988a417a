"""RFC 4998 Evidence Record Syntax (ERS): making, renewing and verifying DER evidence records.

Written by hand on asn1crypto: no maintained Python library makes evidence records (there are
ASN.1 modules only, ``pyasn1-alt-modules`` rfc4998), and Bouncy Castle (Java) and DSS (which
only validates) are the implementations to agree with. Bouncy Castle 1.72's
``org.bouncycastle.tsp.ers`` is the second opinion in the tests; where RFC 4998 leaves a
choice, this module takes Bouncy Castle's:

- binary trees, an odd node carried up unchanged (:mod:`archive.hashtree`);
- a one-leaf tree has no ``reducedHashtree`` (its leaf is the timestamped digest);
- ``digestAlgorithm`` is written in every ArchiveTimeStamp, the same encoding throughout a
  chain (Bouncy Castle compares the AlgorithmIdentifiers of a chain for equality);
- timestamp renewal hashes the whole DER ContentInfo of the previous timestamp, hash-tree
  renewal hashes ``H'(H'(d) || H'(ArchiveTimeStampSequence))``, concatenated unsorted.

The hot path (one record per document of a seal) assembles DER by hand from pieces that
asn1crypto encoded once; the tests check the bytes against the asn1crypto classes below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from asn1crypto import algos, cms, core, tsp

from archive.errors import EvidenceInvalid, UsageError
from archive.hashtree import (
    SUPPORTED,
    HashTree,
    digest_size,
    digest_stream,
    hasher,
    root_of,
)
from validation import Finding, TrustAnchors, ValidationPolicy, validate_timestamp_imprint

Timestamper = Callable[[bytes, str], Awaitable[cms.ContentInfo]]
"""``(digest, algorithm) -> RFC 3161 token``: pyHanko's ``TimeStamper.async_timestamp``
(``signing.HttpTimestamper`` in production)."""

# -- the ASN.1 module (RFC 4998 §3, DEFINITIONS IMPLICIT TAGS) ---------------------------------


class PartialHashtree(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.OctetString


class ReducedHashtree(core.SequenceOf):  # type: ignore[misc]
    _child_spec = PartialHashtree


class ArchiveTimeStamp(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("digest_algorithm", algos.DigestAlgorithm, {"implicit": 0, "optional": True}),
        ("attributes", cms.CMSAttributes, {"implicit": 1, "optional": True}),
        ("reduced_hashtree", ReducedHashtree, {"implicit": 2, "optional": True}),
        ("time_stamp", cms.ContentInfo),
    ]


class ArchiveTimeStampChain(core.SequenceOf):  # type: ignore[misc]
    _child_spec = ArchiveTimeStamp


class ArchiveTimeStampSequence(core.SequenceOf):  # type: ignore[misc]
    _child_spec = ArchiveTimeStampChain


class DigestAlgorithms(core.SequenceOf):  # type: ignore[misc]
    _child_spec = algos.DigestAlgorithm


class CryptoInfos(core.SequenceOf):  # type: ignore[misc]
    _child_spec = cms.CMSAttribute


class EncryptionInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("encryption_info_type", core.ObjectIdentifier),
        ("encryption_info_value", core.Any),
    ]


class EvidenceRecord(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("digest_algorithms", DigestAlgorithms),
        ("crypto_infos", CryptoInfos, {"implicit": 0, "optional": True}),
        ("encryption_info", EncryptionInfo, {"implicit": 1, "optional": True}),
        ("archive_time_stamp_sequence", ArchiveTimeStampSequence),
    ]


# -- DER by hand (the hot path) ------------------------------------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


_SEQUENCE, _OCTETS, _ALGORITHM_TAG, _TREE_TAG = 0x30, 0x04, 0xA0, 0xA2
_VERSION = b"\x02\x01\x01"


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The TLVs between ``start`` and ``end`` as ``(tag, offset, content offset, end)``:
    definite lengths only (DER), single-byte tags (all RFC 4998 uses); ValueError otherwise."""
    items = []
    i = start
    while i < end:
        if end - i < 2:
            raise ValueError("truncated")
        tag, first = der[i], der[i + 1]
        if tag & 0x1F == 0x1F:
            raise ValueError("a multi-byte tag")
        if first < 0x80:
            length, head = first, 2
        else:
            count = first & 0x7F
            if count == 0 or count > 4:
                raise ValueError("an indefinite or huge length")
            length, head = int.from_bytes(der[i + 2 : i + 2 + count], "big"), 2 + count
        if i + head + length > end:
            raise ValueError("truncated")
        items.append((tag, i, i + head, i + head + length))
        i += head + length
    return items


def _reduced_der(lists: Sequence[Sequence[bytes]]) -> bytes:
    """``[2] IMPLICIT SEQUENCE OF PartialHashtree`` (nothing for a tree-less ATS)."""
    if not lists:
        return b""
    return _tlv(
        _TREE_TAG,
        b"".join(_tlv(_SEQUENCE, b"".join(_tlv(_OCTETS, h) for h in lst)) for lst in lists),
    )


def _ats_der(
    algorithm_contents: bytes | None, lists: Sequence[Sequence[bytes]], token: bytes
) -> bytes:
    head = b"" if algorithm_contents is None else _tlv(_ALGORITHM_TAG, algorithm_contents)
    return _tlv(_SEQUENCE, head + _reduced_der(lists) + token)


def _algorithm(name: str) -> algos.DigestAlgorithm:
    digest_size(name)
    return algos.DigestAlgorithm({"algorithm": name})


def digest_file(source: Path | str | IO[bytes], algorithm: str = "sha256") -> bytes:
    """The digest of a file (a path or an open binary stream, read from where it is), in 1 MiB
    chunks."""
    return digest_document(source, (algorithm,))[algorithm]


def digest_document(source: Path | str | IO[bytes], algorithms: Iterable[str]) -> dict[str, bytes]:
    """A file's digests under several algorithms in one streamed pass."""
    if isinstance(source, str | Path):
        try:
            with Path(source).open("rb") as stream:
                return digest_stream(stream, algorithms)
        except OSError as exc:
            raise UsageError(
                f"cannot read {source}: {exc.strerror or exc}",
                f"không đọc được {source}: {exc.strerror or exc}",
            ) from exc
    return digest_stream(source, algorithms)


# -- tokens ------------------------------------------------------------------------------------


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    content = token["content"]
    info = content["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("not a TSTInfo")
    return info


def _imprint(token: cms.ContentInfo) -> tuple[str, bytes]:
    mi = _tst_info(token)["message_imprint"]
    return str(mi["hash_algorithm"]["algorithm"].native), bytes(mi["hashed_message"].native)


def _gen_time(token: cms.ContentInfo) -> datetime:
    value: datetime = _tst_info(token)["gen_time"].native
    return value


async def _stamp(timestamp: Timestamper, digest: bytes, algorithm: str) -> tuple[bytes, datetime]:
    """One timestamp over ``digest``; the TSA must have stamped exactly that."""
    token = await timestamp(digest, algorithm)
    try:
        der = bytes(token.dump())
        token = cms.ContentInfo.load(der)
        got_algorithm, got = _imprint(token)
        when = _gen_time(token)
    except Exception as exc:  # asn1crypto parses lazily: a bad token fails in many ways
        raise EvidenceInvalid(
            f"the timestamp authority's answer is not an RFC 3161 token ({exc})",
            "phản hồi của đơn vị cấp dấu thời gian không phải dấu thời gian RFC 3161",
        ) from exc
    if (got_algorithm, got) != (algorithm, digest):
        raise EvidenceInvalid(
            "the timestamp authority stamped another digest than the one asked",
            "đơn vị cấp dấu thời gian đã đóng dấu một giá trị băm khác với giá trị được yêu cầu",
        )
    return der, when


# -- sealing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seal:
    """One archive timestamp over a hash tree of documents, and the evidence record of each
    document (made on demand: a record holds the whole token, and 100,000 of them need not
    sit in memory together)."""

    tree: HashTree
    token: bytes
    """The archive timestamp (DER ContentInfo)."""
    gen_time: datetime
    _algorithm_contents: bytes = field(repr=False)
    _prefix: bytes = field(repr=False)

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def algorithm(self) -> str:
        return self.tree.algorithm

    def __len__(self) -> int:
        return len(self.tree)

    def record(self, index: int) -> bytes:
        """The DER EvidenceRecord of leaf ``index``."""
        ats = _ats_der(self._algorithm_contents, self.tree.reduced(index), self.token)
        chains = _tlv(_SEQUENCE, _tlv(_SEQUENCE, ats))
        return _tlv(_SEQUENCE, self._prefix + chains)

    def records(self) -> Iterator[bytes]:
        """Every leaf's record, in leaf order."""
        for index in range(len(self.tree)):
            yield self.record(index)


async def seal(leaves: Iterable[bytes], algorithm: str, timestamp: Timestamper) -> Seal:
    """Build the hash tree over ``leaves`` (documents' digests under ``algorithm``) and have
    its root timestamped: one call to ``timestamp`` whatever the number of leaves."""
    tree = HashTree.build(leaves, algorithm)
    token, when = await _stamp(timestamp, tree.root, algorithm)
    alg = _algorithm(algorithm)
    prefix = _VERSION + _tlv(_SEQUENCE, alg.dump())
    return Seal(tree, token, when, bytes(alg.contents), prefix)


# -- reading records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ats:
    der: bytes
    algorithm: str
    algorithm_contents: bytes | None
    reduced: list[list[bytes]]
    token: bytes
    imprint_algorithm: str
    imprint: bytes
    gen_time: datetime


@dataclass(frozen=True, slots=True)
class _Record:
    record: EvidenceRecord
    chains: list[list[_Ats]]
    chain_ders: list[bytes]
    digest_algorithms: list[str]


def _unreadable(detail: object) -> EvidenceInvalid:
    return EvidenceInvalid(
        f"not a readable RFC 4998 evidence record ({detail})",
        f"không đọc được bản ghi bằng chứng RFC 4998 ({detail})",
    )


def _read(der: bytes) -> _Record:
    try:
        record = EvidenceRecord.load(der, strict=True)
        version = record["version"].native
        names = [str(a["algorithm"].native) for a in record["digest_algorithms"]]
        chains: list[list[_Ats]] = []
        chain_ders: list[bytes] = []
        for chain in record["archive_time_stamp_sequence"]:
            chain_ders.append(bytes(chain.dump()))
            items: list[_Ats] = []
            for ats in chain:
                token = ats["time_stamp"]
                if token["content_type"].native != "signed_data":
                    raise ValueError("a timeStamp that is not SignedData")
                imprint_algorithm, imprint = _imprint(token)
                declared = ats["digest_algorithm"]
                has_declared = not isinstance(declared, core.Void)
                tree = ats["reduced_hashtree"]
                reduced = (
                    []
                    if isinstance(tree, core.Void)
                    else [[bytes(h.native) for h in lst] for lst in tree]
                )
                items.append(
                    _Ats(
                        der=bytes(ats.dump()),
                        algorithm=str(declared["algorithm"].native)
                        if has_declared
                        else imprint_algorithm,
                        algorithm_contents=bytes(declared.contents) if has_declared else None,
                        reduced=reduced,
                        token=bytes(token.dump()),
                        imprint_algorithm=imprint_algorithm,
                        imprint=imprint,
                        gen_time=_gen_time(token),
                    )
                )
            if not items:
                raise ValueError("an empty ArchiveTimeStampChain")
            chains.append(items)
    except EvidenceInvalid:
        raise
    except Exception as exc:  # asn1crypto parses lazily: bad bytes fail in many ways
        raise _unreadable(exc) from exc
    if version != 1:
        raise _unreadable(f"version {version}, not 1")
    if not chains:
        raise _unreadable("no ArchiveTimeStampChain")
    return _Record(record, chains, chain_ders, names)


def _head(parsed: _Record, new_algorithm: str | None = None) -> bytes:
    """The record's fields before its ArchiveTimeStampSequence, ``new_algorithm`` added to
    its digestAlgorithms."""
    record = parsed.record
    algorithms = record["digest_algorithms"]
    algorithms_der = bytes(algorithms.dump())
    if new_algorithm is not None and new_algorithm not in parsed.digest_algorithms:
        algorithms_der = _tlv(
            _SEQUENCE, bytes(algorithms.contents or b"") + _algorithm(new_algorithm).dump()
        )
    parts = [bytes(record["version"].dump()), algorithms_der]
    for name in ("crypto_infos", "encryption_info"):
        value = record[name]
        if not isinstance(value, core.Void):
            parts.append(bytes(value.dump()))
    return b"".join(parts)


def _assemble(
    parsed: _Record, chain_ders: Sequence[bytes], new_algorithm: str | None = None
) -> bytes:
    head = _head(parsed, new_algorithm)
    return _tlv(_SEQUENCE, head + _tlv(_SEQUENCE, b"".join(chain_ders)))


def _sequence_digest(parsed: _Record, chains: int, algorithm: str) -> bytes:
    """``ha``: the digest of the DER ArchiveTimeStampSequence of the first ``chains`` chains."""
    return hashlib.new(algorithm, _tlv(_SEQUENCE, b"".join(parsed.chain_ders[:chains]))).digest()


# -- renewal -----------------------------------------------------------------------------------


class TimestampRenewal:
    """RFC 4998 §5.2 timestamp renewal of many records: a new archive timestamp over the whole
    DER ContentInfo of each record's last timestamp, hashed with its chain's own algorithm,
    appended to the chain. Records that share a last timestamp share one renewal; different
    last timestamps go into one hash tree per algorithm (one timestamp call each).

    Two passes keep memory flat in the number of records: :meth:`add` every record, :meth:`run`
    once, then :meth:`renewed` every record."""

    def __init__(self) -> None:
        self._leaves: dict[str, dict[bytes, int]] = {}
        self._done: dict[str, tuple[HashTree, bytes]] = {}
        self._names: dict[bytes, str] = {}

    def _last_chain(self, record: bytes) -> tuple[str, bytes, bytes | None, list[bytes]]:
        """The newest chain's algorithm, the digest of its last timestamp, its
        ``digestAlgorithm`` contents, and the record cut around that chain: ``[before the
        sequence's contents, the earlier chains, the chain's contents]``.

        Walked by hand over the DER (a renewal touches every record twice; asn1crypto reads
        one in about 0.6 ms, this in a few µs); a record this cannot walk, or whose chain does
        not name its algorithm, is read in full (and refused if unreadable)."""
        contents: bytes | None
        try:
            [(outer, _, body, end)] = _children(record, 0, len(record))
            fields = _children(record, body, end)
            seq_tag, seq_at, seq_body, seq_end = fields[-1]
            chains = _children(record, seq_body, seq_end)
            chain_tag, chain_at, chain_body, chain_end = chains[-1]
            atss = _children(record, chain_body, chain_end)
            first = _children(record, atss[0][2], atss[0][3])
            last = _children(record, atss[-1][2], atss[-1][3])
            if (outer, seq_tag, chain_tag, first[0][0]) != (
                _SEQUENCE,
                _SEQUENCE,
                _SEQUENCE,
                _ALGORITHM_TAG,
            ):
                raise ValueError("not the expected shape")
            contents = record[first[0][2] : first[0][3]]
            name = self._names.get(contents)
            if name is None:
                name = str(
                    algos.DigestAlgorithm.load(_tlv(_SEQUENCE, contents))["algorithm"].native
                )
                digest_size(name)
                self._names[contents] = name
            token = record[last[-1][1] : last[-1][3]]
            cut = [record[body:seq_at], record[seq_body:chain_at], record[chain_body:chain_end]]
        except (ValueError, IndexError, UsageError):
            parsed = _read(record)
            chain = parsed.chains[-1]
            name, contents, token = chain[0].algorithm, chain[0].algorithm_contents, chain[-1].token
            digest_size(name)
            cut = [
                _head(parsed),
                b"".join(parsed.chain_ders[:-1]),
                b"".join(a.der for a in chain),
            ]
        return name, hashlib.new(name, token).digest(), contents, cut

    def add(self, record: bytes) -> None:
        algorithm, leaf, _, _ = self._last_chain(record)
        leaves = self._leaves.setdefault(algorithm, {})
        leaves.setdefault(leaf, len(leaves))

    async def run(self, timestamp: Timestamper) -> None:
        for algorithm, leaves in self._leaves.items():
            tree = HashTree.build(leaves, algorithm)
            token, _ = await _stamp(timestamp, tree.root, algorithm)
            self._done[algorithm] = (tree, token)

    def renewed(self, record: bytes) -> bytes:
        algorithm, leaf, contents, (head, earlier, chain) = self._last_chain(record)
        try:
            tree, token = self._done[algorithm]
            index = self._leaves[algorithm][leaf]
        except KeyError:
            raise UsageError(
                "this record was not part of the renewal (add it, then run)",
                "bản ghi này không nằm trong lần gia hạn (thêm nó rồi chạy lại)",
            ) from None
        ats = _ats_der(contents, tree.reduced(index), token)
        chains = _tlv(_SEQUENCE, earlier + _tlv(_SEQUENCE, chain + ats))
        return _tlv(_SEQUENCE, head + chains)


async def renew_timestamps(records: Sequence[bytes], timestamp: Timestamper) -> list[bytes]:
    """Timestamp renewal of ``records`` (see :class:`TimestampRenewal`), in their order."""
    renewal = TimestampRenewal()
    for record in records:
        renewal.add(record)
    await renewal.run(timestamp)
    return [renewal.renewed(record) for record in records]


class HashTreeRenewal:
    """RFC 4998 §5.2 hash-tree renewal under a new algorithm H': for each record,
    ``ha = H'(DER ArchiveTimeStampSequence)`` and the leaf ``H'(H'(d) || ha)`` (concatenated in
    that order, unsorted); one tree over every leaf, one timestamp, and each record gets a new
    chain whose first archive timestamp holds its reduced tree. ``H'(d)`` comes from the caller
    (who streams the document: :func:`digest_file`).

    :meth:`add` each record with its document's digest (the index it returns names it),
    :meth:`run` once, then :meth:`renewed` each record by its index."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._size = digest_size(algorithm)
        self._digest = hasher(algorithm)
        self._leaves = bytearray()
        # each record's ha: renewed() refuses a record given under another's index (its new
        # chain would prove nothing)
        self._sequences = bytearray()
        self._done: tuple[HashTree, bytes] | None = None

    def add(self, record: bytes, document_digest: bytes) -> int:
        if len(document_digest) != self._size:
            raise UsageError(
                f"the document digest is not a {self.algorithm} digest",
                f"giá trị băm của văn bản không phải giá trị băm {self.algorithm}",
            )
        parsed = _read(record)
        ha = _sequence_digest(parsed, len(parsed.chains), self.algorithm)
        self._leaves += self._digest(document_digest + ha)
        self._sequences += ha
        return len(self._leaves) // self._size - 1

    async def run(self, timestamp: Timestamper) -> None:
        size = self._size
        leaves = (bytes(self._leaves[i : i + size]) for i in range(0, len(self._leaves), size))
        tree = HashTree.build(leaves, self.algorithm)
        token, _ = await _stamp(timestamp, tree.root, self.algorithm)
        self._done = (tree, token)

    def renewed(self, index: int, record: bytes) -> bytes:
        if self._done is None:
            raise UsageError("the renewal has not run yet", "lần gia hạn chưa được thực hiện")
        tree, token = self._done
        parsed = _read(record)
        ha = _sequence_digest(parsed, len(parsed.chains), self.algorithm)
        if ha != self._sequences[index * self._size : (index + 1) * self._size]:
            raise UsageError(
                f"record {index} of the renewal is not this record",
                f"bản ghi số {index} của lần gia hạn không phải bản ghi này",
            )
        alg = _algorithm(self.algorithm)
        ats = _ats_der(bytes(alg.contents), tree.reduced(index), token)
        return _assemble(parsed, [*parsed.chain_ders, _tlv(_SEQUENCE, ats)], self.algorithm)


async def renew_hash_tree(
    records: Sequence[bytes],
    document_digests: Sequence[bytes],
    algorithm: str,
    timestamp: Timestamper,
) -> list[bytes]:
    """Hash-tree renewal of ``records`` under ``algorithm`` (see :class:`HashTreeRenewal`);
    ``document_digests[i]`` is the digest of ``records[i]``'s document under ``algorithm``."""
    if len(records) != len(document_digests):
        raise UsageError(
            "one document digest is needed per record",
            "mỗi bản ghi cần đúng một giá trị băm của văn bản",
        )
    renewal = HashTreeRenewal(algorithm)
    indexes = [renewal.add(r, d) for r, d in zip(records, document_digests, strict=True)]
    await renewal.run(timestamp)
    return [renewal.renewed(i, r) for i, r in zip(indexes, records, strict=True)]


# -- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenJudgment:
    """The verdict on one timestamp token at one time (ETSI EN 319 102-1 terms)."""

    passed: bool
    indication: str
    """``TOTAL-PASSED``, ``TOTAL-FAILED`` or ``INDETERMINATE``."""
    sub_indication: str | None = None
    reasons: tuple[Finding, ...] = ()


Judge = Callable[[bytes, bytes, datetime], Awaitable[TokenJudgment]]
"""``(token DER, the digest it must carry, when) -> verdict``: is the token valid at that
time? :func:`timestamp_judge` makes the usual one."""

_INDICATIONS = {"PASSED": "TOTAL-PASSED", "FAILED": "TOTAL-FAILED"}


def timestamp_judge(
    anchors: TrustAnchors,
    *,
    revocation: Literal["hard", "soft"] = "soft",
    crls: tuple[bytes, ...] = (),
    ocsp_responses: tuple[bytes, ...] = (),
) -> Judge:
    """The validation room's RFC 3161 judgment, offline, at the given time, trusting
    ``anchors``. Revocation is ``soft`` by default: decades later no CRL or OCSP responder of
    an expired TSA answers, and a record carries none."""

    async def judge(token: bytes, imprint: bytes, when: datetime) -> TokenJudgment:
        policy = ValidationPolicy(
            anchors=anchors,
            validation_time=when,
            offline=True,
            revocation=revocation,
            crls=crls,
            ocsp_responses=ocsp_responses,
        )
        outcome = await validate_timestamp_imprint(token, policy, imprint=imprint)
        if not outcome.signatures:
            return TokenJudgment(
                passed=False, indication="INDETERMINATE", reasons=tuple(outcome.findings)
            )
        [report] = outcome.signatures
        name = report.indication.name
        return TokenJudgment(
            passed=report.passed,
            indication=_INDICATIONS.get(name, name),
            sub_indication=None if report.sub_indication is None else report.sub_indication.name,
            reasons=tuple(f for f in report.findings if f.severity == "error"),
        )

    return judge


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampCheck:
    """One archive timestamp of a record, as verified."""

    chain: int
    """1-based chain number."""
    position: int
    """1-based position in its chain."""
    algorithm: str
    gen_time: datetime
    covers: bool
    """Its hash tree leads from what it must cover to its message imprint."""
    judged_at: datetime
    """The time it had to be valid at: the next archive timestamp's, or the verification
    time for the last."""
    judgment: TokenJudgment

    @property
    def passed(self) -> bool:
        return self.covers and self.judgment.passed


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """What an evidence record proves about a document. A failed check is data here."""

    valid: bool
    at: datetime
    proven_time: datetime | None
    """When the document provably existed (the first archive timestamp's time); ``None``
    unless the record is valid."""
    timestamps: tuple[TimestampCheck, ...]
    findings: tuple[Finding, ...]


Document = Path | str | IO[bytes] | Mapping[str, bytes]
"""A document to verify against: a path, a binary stream, or its digests by algorithm."""


def _finding(code: str, en: str, vi: str) -> Finding:
    return Finding(code=f"ers.{code}", en=en, vi=vi)


def _covers(digest: Callable[[bytes], bytes], ats: _Ats, leaf: bytes) -> tuple[bool, bytes]:
    """Whether ``leaf`` leads to ``ats``'s imprint, and the root it leads to."""
    if not ats.reduced:
        return leaf == ats.imprint, leaf
    if leaf not in ats.reduced[0]:
        return False, root_of(digest, ats.reduced, leaf)
    root = root_of(digest, ats.reduced, leaf)
    return root == ats.imprint, root


async def verify(
    record: bytes,
    document: Document,
    *,
    judge: Judge,
    at: datetime | None = None,
) -> Verification:
    """Verify an evidence record for ``document`` at ``at`` (default: now), offline.

    Chain 1's first archive timestamp must cover ``H(d)`` through its reduced tree; every later
    one in a chain must cover the DER of the previous timestamp; each later chain's first must
    cover ``H'(H'(d) || H'(all previous chains))``; one algorithm per chain, and the token's
    imprint under it. Each token is judged at the next one's time (the last at ``at``).
    :class:`EvidenceInvalid` only for bytes that are not an evidence record."""
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise UsageError(
            "the verification time must carry a time zone",
            "thời điểm kiểm tra phải có múi giờ",
        )
    parsed = _read(record)
    findings: list[Finding] = []
    used = list(dict.fromkeys(chain[0].algorithm for chain in parsed.chains))
    algorithms = [name for name in used if name in SUPPORTED]
    for name in used:
        if name not in SUPPORTED:
            findings.append(
                _finding(
                    "unsupported_algorithm",
                    f"a chain uses the digest algorithm {name}, which is not supported "
                    f"(supported: {', '.join(SUPPORTED)})",
                    f"một chuỗi dấu thời gian dùng thuật toán băm {name}, không được hỗ trợ "
                    f"(hỗ trợ: {', '.join(SUPPORTED)})",
                )
            )
    if isinstance(document, Mapping):
        digests = dict(document)
        missing = [a for a in algorithms if a not in digests]
        if missing:
            raise UsageError(
                f"the document's {', '.join(missing)} digest is needed",
                f"cần giá trị băm {', '.join(missing)} của văn bản",
            )
    else:
        digests = digest_document(document, algorithms)
    for name in algorithms:
        if name not in parsed.digest_algorithms:
            findings.append(
                _finding(
                    "algorithm_not_listed",
                    f"the record's digestAlgorithms does not list {name}, which a chain uses",
                    f"danh sách digestAlgorithms của bản ghi không có {name}, "
                    "thuật toán một chuỗi dấu thời gian dùng",
                )
            )
    flat: list[tuple[int, int, _Ats, bool]] = []
    for c, chain in enumerate(parsed.chains):
        algorithm = chain[0].algorithm
        if algorithm not in SUPPORTED:
            flat.extend((c, p, ats, False) for p, ats in enumerate(chain))
            continue
        digest = hasher(algorithm)
        for p, ats in enumerate(chain):
            label_en = f"archive timestamp {c + 1}.{p + 1}"
            label_vi = f"dấu thời gian lưu trữ {c + 1}.{p + 1}"
            if ats.algorithm != algorithm or ats.imprint_algorithm != algorithm:
                findings.append(
                    _finding(
                        "mixed_algorithms",
                        f"{label_en} uses {ats.algorithm}/{ats.imprint_algorithm}, "
                        f"not its chain's {algorithm}",
                        f"{label_vi} dùng {ats.algorithm}/{ats.imprint_algorithm}, "
                        f"không phải {algorithm} của chuỗi",
                    )
                )
                flat.append((c, p, ats, False))
                continue
            if p > 0:
                leaf = digest(chain[p - 1].token)
                what_en, what_vi = "the previous timestamp", "dấu thời gian trước đó"
            elif c == 0:
                leaf = digests[algorithm]
                what_en, what_vi = "the document", "văn bản"
            else:
                ha = _sequence_digest(parsed, c, algorithm)
                leaf = digest(digests[algorithm] + ha)
                what_en, what_vi = (
                    "the document and the earlier chains",
                    "văn bản và các chuỗi trước",
                )
            ok, _ = _covers(digest, ats, leaf)
            if not ok:
                findings.append(
                    _finding(
                        "not_covered",
                        f"{label_en} does not cover {what_en}: its hash tree does not lead "
                        "to the timestamped digest",
                        f"{label_vi} không bao phủ {what_vi}: cây băm không dẫn tới giá trị "
                        "được đóng dấu thời gian",
                    )
                )
            flat.append((c, p, ats, ok))
    checks: list[TimestampCheck] = []
    previous: datetime | None = None
    for n, (c, p, ats, ok) in enumerate(flat):
        judged_at = flat[n + 1][2].gen_time if n + 1 < len(flat) else when
        label_en = f"archive timestamp {c + 1}.{p + 1}"
        label_vi = f"dấu thời gian lưu trữ {c + 1}.{p + 1}"
        if previous is not None and ats.gen_time < previous:
            findings.append(
                _finding(
                    "out_of_order",
                    f"{label_en} is dated before the one it renews",
                    f"{label_vi} có thời điểm sớm hơn dấu thời gian mà nó gia hạn",
                )
            )
            ok = False
        if ats.gen_time > when:
            findings.append(
                _finding(
                    "after_verification_time",
                    f"{label_en} was made after the verification time: it proves nothing then",
                    f"{label_vi} được tạo sau thời điểm kiểm tra: khi đó nó chưa chứng minh gì",
                )
            )
            ok = False
        previous = ats.gen_time
        judgment = await judge(ats.token, ats.imprint, judged_at)
        if not judgment.passed:
            findings.append(
                _finding(
                    "timestamp_not_valid",
                    f"{label_en} ({ats.gen_time.isoformat()}) was not valid on "
                    f"{judged_at.isoformat()}: {judgment.indication}"
                    + "".join(f"; {r.en}" for r in judgment.reasons),
                    f"{label_vi} ({ats.gen_time.isoformat()}) không hợp lệ vào "
                    f"{judged_at.isoformat()}: {judgment.indication}"
                    + "".join(f"; {r.vi}" for r in judgment.reasons),
                )
            )
        checks.append(
            TimestampCheck(
                chain=c + 1,
                position=p + 1,
                algorithm=ats.algorithm,
                gen_time=ats.gen_time,
                covers=ok,
                judged_at=judged_at,
                judgment=judgment,
            )
        )
    valid = not findings and all(check.passed for check in checks)
    return Verification(
        valid=valid,
        at=when,
        proven_time=checks[0].gen_time if valid else None,
        timestamps=tuple(checks),
        findings=tuple(findings),
    )
