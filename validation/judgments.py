"""Certificate judgments remembered across documents.

A receiving agency sees the same signers, CAs and timestamp authorities again and again, with
the same CRLs until they are reissued. Building and validating a certificate path (with its
revocation check) is the dearest step of judging a signature after the change analysis, and
its outcome depends only on what goes into it: the certificate, the pool it is chained from,
the trust anchors, the revocation data, the rules (revocation mode, algorithms, key usage,
retroactive revocation data) and the moment judged (and, for a revoked certificate, the
signer's claimed signing time, which decides between REVOKED_NO_POE and REVOKED).

:class:`JudgmentCache` keeps :class:`~validation.certificates.PathVerdict` objects under a
:class:`Scope`, a digest of every one of those inputs except the moment, and then by moment:

* a verdict that found nothing wrong is reused for any moment in the same *time bucket*: the
  open interval between two consecutive *boundaries*, or a boundary itself. The boundaries are
  every date written anywhere in the certificates, CRLs and OCSP responses of the scope
  (validity, thisUpdate, nextUpdate, producedAt, revocation and invalidity dates, the
  certificates OCSP responses carry), each shifted by the validator's time tolerance both ways
  and by the 30 minutes pyhanko-certvalidator gives an OCSP answer without nextUpdate. Every
  time comparison the validator makes (its default freshness rule, which is the one
  :func:`validation.context.revocation_policy` builds) is between the moment and one of those
  boundaries, so two moments of one bucket compare the same way with each of them, and the
  validator cannot tell them apart;
* any other verdict (revoked, expired, unknown status, ...) is reused only for the exact same
  moment and claimed signing time (its message names them). A revocation is never masked:
  the revocation date is a boundary, so a "good" judged before it lies in another bucket than
  a moment after it, and other revocation data (a newer CRL) is another scope.

Only judgments made without network access are kept: what a fetch returns changes with the
time of the fetch. The cache is bounded (least recently used scopes go first) and safe to use
from several threads.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import core

from validation.certificates import PathVerdict

__all__ = [
    "OCSP_WITHOUT_NEXT_UPDATE",
    "TIME_TOLERANCE",
    "JudgmentCache",
    "Scope",
    "judgments",
]

TIME_TOLERANCE = timedelta(seconds=1)
"""The clock tolerance every validation context is built with (pyhanko-certvalidator's
default, passed explicitly so that the boundaries here use the same one)."""

OCSP_WITHOUT_NEXT_UPDATE = timedelta(minutes=30)
"""How long pyhanko-certvalidator considers revocation data without nextUpdate fresh
(``FRESHNESS_FALLBACK_VALIDITY_DEFAULT``)."""

SCOPES_MAX = 256
MOMENTS_PER_SCOPE = 64


@dataclass(frozen=True, slots=True)
class Scope:
    """Everything a certificate judgment depends on, except the moment."""

    digest: bytes
    """SHA-256 over the certificate, the pool (in order), the anchors, the revocation data and
    the rules."""
    materials: tuple[core.Asn1Value, ...] = field(compare=False, hash=False, repr=False)
    """The certificates, CRLs and OCSP responses whose dates bound the time buckets."""


def scope_digest(parts: Iterable[bytes]) -> bytes:
    """A digest of ``parts`` that no other sequence of parts shares (each is length-prefixed)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _dates(value: Any) -> Iterator[datetime]:
    """Every date in the decoded (``.native``) form of an ASN.1 value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, datetime):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def boundaries(materials: Iterable[core.Asn1Value], tolerance: timedelta) -> list[datetime]:
    """The sorted moments at which some comparison of the validator may change its answer.

    Raises whatever asn1crypto raises on a value it cannot decode (then nothing is cached)."""
    points: set[datetime] = set()
    for value in materials:
        for day in _dates(value.native):
            for shift in (timedelta(0), OCSP_WITHOUT_NEXT_UPDATE):
                for slack in (-tolerance, timedelta(0), tolerance):
                    points.add(day + shift + slack)
    return sorted(points)


@dataclass(slots=True)
class _Entry:
    boundaries: list[datetime]
    by_bucket: OrderedDict[tuple[str, int], PathVerdict] = field(default_factory=OrderedDict)
    by_moment: OrderedDict[tuple[datetime, datetime | None], PathVerdict] = field(
        default_factory=OrderedDict
    )

    def bucket(self, moment: datetime) -> tuple[str, int]:
        index = bisect.bisect_left(self.boundaries, moment)
        if index < len(self.boundaries) and self.boundaries[index] == moment:
            return ("at", index)
        return ("between", index)


class JudgmentCache:
    """Bounded, thread-safe store of certificate judgments (see the module docstring)."""

    def __init__(self, max_scopes: int = SCOPES_MAX) -> None:
        self.max_scopes = max_scopes
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self, scope: Scope, moment: datetime, claimed: datetime | None = None
    ) -> PathVerdict | None:
        """A copy of the judgment for ``moment`` in ``scope`` (``claimed``: the signer's
        claimed signing time), if one is known."""
        with self._lock:
            entry = self._entries.get(scope.digest)
            found = None
            if entry is not None:
                self._entries.move_to_end(scope.digest)
                found = entry.by_moment.get((moment, claimed)) or entry.by_bucket.get(
                    entry.bucket(moment)
                )
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
        return replace(found, context=None)

    def put(
        self,
        scope: Scope,
        moment: datetime,
        verdict: PathVerdict,
        claimed: datetime | None = None,
    ) -> None:
        """Remember ``verdict``, judged at ``moment`` in ``scope`` without network access.

        A verdict without fault holds for any claimed signing time: the judge reads that time
        only to refine a revocation."""
        kept = replace(verdict, context=None)
        with self._lock:
            entry = self._entries.get(scope.digest)
        if entry is None:
            try:
                entry = _Entry(boundaries(scope.materials, TIME_TOLERANCE))
            except Exception:  # an undecodable date: do not cache this scope
                return
        with self._lock:
            entry = self._entries.setdefault(scope.digest, entry)
            self._entries.move_to_end(scope.digest)
            _bounded_put(entry.by_moment, (moment, claimed), kept)
            if verdict.sub is None and verdict.finding is None:
                _bounded_put(entry.by_bucket, entry.bucket(moment), kept)
            while len(self._entries) > self.max_scopes:
                self._entries.popitem(last=False)


def _bounded_put(table: OrderedDict[Any, PathVerdict], key: Any, verdict: PathVerdict) -> None:
    table[key] = verdict
    table.move_to_end(key)
    while len(table) > MOMENTS_PER_SCOPE:
        table.popitem(last=False)


judgments = JudgmentCache()
"""The process's cache, shared by every validation in it."""
