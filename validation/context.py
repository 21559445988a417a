"""From a :class:`ValidationPolicy` to pyHanko's validation contexts, and back to findings.

Every format (PDF, CMS, RFC 3161, XML certificate paths) judges trust, revocation and
algorithms through the same contexts built here, so one policy means one behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ssl
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
import certifi
from asn1crypto import algos, crl, keys, ocsp, x509
from asn1crypto.core import Asn1Value
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.ltv.poe import POEManager
from pyhanko_certvalidator.policy_decl import (
    AlgorithmUsageConstraint,
    AlgorithmUsagePolicy,
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import (
    process_legacy_crl_input,
    process_legacy_ocsp_input,
)
from pyhanko_certvalidator.revinfo.manager import RevinfoManager

from validation.judgments import TIME_TOLERANCE, Scope, scope_digest
from validation.policy import ValidationPolicy
from validation.report import Finding


class AlgorithmPolicy(AlgorithmUsagePolicy):
    """TT 15/2025 App. I/II: no MD5 (or MD2), RSA ≥ 2048 bits, ECDSA ≥ 256 bits.

    SHA-1 passes here; the report carries a "weak algorithm" warning for it
    (:func:`algorithm_findings`). pyHanko's own ``DisallowWeakAlgorithmsPolicy`` knows no EC
    key sizes, hence this class.
    """

    def __init__(self, policy: ValidationPolicy) -> None:
        self.forbidden = policy.forbidden_digests
        self.min_rsa = policy.min_rsa_bits
        self.min_ec = policy.min_ec_bits

    def digest_algorithm_allowed(
        self, algo: algos.DigestAlgorithm, moment: datetime | None
    ) -> AlgorithmUsageConstraint:
        name = algo["algorithm"].native
        if name in self.forbidden:
            return AlgorithmUsageConstraint(False, failure_reason=f"digest {name} is forbidden")
        return AlgorithmUsageConstraint(True)

    def signature_algorithm_allowed(
        self,
        algo: algos.SignedDigestAlgorithm,
        moment: datetime | None,
        public_key: keys.PublicKeyInfo | None,
    ) -> AlgorithmUsageConstraint:
        try:
            digest = algo.hash_algo
        except ValueError:
            digest = None
        if digest in self.forbidden:
            return AlgorithmUsageConstraint(False, failure_reason=f"digest {digest} is forbidden")
        if public_key is not None:
            kind = public_key.algorithm
            # only RSA and EC sizes are asked for (asn1crypto cannot size EdDSA keys)
            bits = public_key.bit_size if kind in ("rsa", "rsassa_pss", "ec") else 0
            if kind in ("rsa", "rsassa_pss") and bits < self.min_rsa:
                return AlgorithmUsageConstraint(
                    False, failure_reason=f"RSA key of {bits} bits (< {self.min_rsa})"
                )
            if kind == "ec" and bits < self.min_ec:
                return AlgorithmUsageConstraint(
                    False, failure_reason=f"EC key of {bits} bits (< {self.min_ec})"
                )
        return AlgorithmUsageConstraint(True)


def validation_time(policy: ValidationPolicy) -> datetime:
    return policy.validation_time or datetime.now(UTC)


def revocation_policy(
    policy: ValidationPolicy,
    *,
    mode: Literal["hard", "soft"] | None = None,
    retroactive: bool = False,
) -> CertRevTrustPolicy:
    """``hard``: a certificate that names a CRL or OCSP source must have its status known;
    ``soft``: unknown status is accepted (and reported). ``mode`` overrides the policy's.

    ``retroactive``: revocation data issued after the moment of validation counts too (a CRL
    published after a timestamp still tells whether the certificate was revoked before it);
    for point-in-time validation at a proof of existence.
    """
    rule = (
        RevocationCheckingRule.CHECK_IF_DECLARED
        if (mode or policy.revocation) == "hard"
        else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    )
    return CertRevTrustPolicy(
        RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule),
        retroactive_revinfo=retroactive,
    )


def validation_context(
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None = None,
    other_certs: tuple[x509.Certificate, ...] = (),
    moment: datetime | None = None,
    crls: Iterable[crl.CertificateList] = (),
    ocsps: Iterable[ocsp.OCSPResponse] = (),
    revocation: Literal["hard", "soft"] | None = None,
    retroactive_revinfo: bool = False,
) -> ValidationContext:
    """A fresh context (they keep state: use one per signature).

    ``crls`` and ``ocsps`` (e.g. found in the document) come on top of the ones the caller
    supplied in the policy; ``revocation`` and ``retroactive_revinfo`` as in
    :func:`revocation_policy`.
    """
    return ValidationContext(
        trust_roots=list(policy.anchors.all()),
        other_certs=[*policy.extra_certificates, *other_certs],
        moment=moment or validation_time(policy),
        allow_fetching=fetchers is not None,
        fetchers=fetchers,
        crls=[*policy.crls, *crls],
        ocsps=[*policy.ocsp_responses, *ocsps],
        revinfo_policy=revocation_policy(policy, mode=revocation, retroactive=retroactive_revinfo),
        algorithm_usage_policy=AlgorithmPolicy(policy),
    )


_KNOWN_CERTIFICATES: OrderedDict[bytes, x509.Certificate] = OrderedDict()
_KNOWN_LOCK = threading.Lock()
KNOWN_CERTIFICATES_MAX = 512


def known_certificate(der: bytes, parsed: x509.Certificate) -> x509.Certificate:
    """The certificate object already used for these DER bytes by an earlier validation in
    this process, else ``parsed`` (remembered, least recently used first out).

    The issuing CAs, TSAs and OCSP responders of an agency's documents are the same from one
    document to the next; reusing one parsed object keeps its decoded fields and prepared names.
    Certificates are values: the same bytes are the same certificate.
    """
    with _KNOWN_LOCK:
        found = _KNOWN_CERTIFICATES.get(der)
        if found is not None:
            _KNOWN_CERTIFICATES.move_to_end(der)
            return found
        _KNOWN_CERTIFICATES[der] = parsed
        if len(_KNOWN_CERTIFICATES) > KNOWN_CERTIFICATES_MAX:
            _KNOWN_CERTIFICATES.popitem(last=False)
        return parsed


class ContextFactory:
    """Validation contexts for the signatures of one document, built cheaply.

    The trust anchors, the document's certificates and the revocation data (the document's
    and the caller's, parsed once) are prepared once; each :meth:`context` is a fresh context
    (its own certificate pool, moment, revocation rule and path cache) over them. Fetched
    revocation data is shared through the fetchers' own cache.
    """

    def __init__(
        self,
        policy: ValidationPolicy,
        *,
        fetchers: Fetchers | None = None,
        certs: Iterable[x509.Certificate] = (),
        crls: Iterable[crl.CertificateList] = (),
        ocsps: Iterable[ocsp.OCSPResponse] = (),
    ) -> None:
        self.policy = policy
        self.fetchers = fetchers
        self._trust = SimpleTrustManager.build(trust_roots=list(policy.anchors.all()))
        self._by_der: dict[bytes, x509.Certificate] = {}
        for cert in (*policy.extra_certificates, *self._trust.iter_certs()):
            self._by_der.setdefault(cert.dump(), cert)
        self._certs = tuple(
            dict.fromkeys([*(self.canonical(c) for c in certs), *self._by_der.values()])
        )
        self._crls = process_legacy_crl_input([*policy.crls, *crls])
        self._ocsps = process_legacy_ocsp_input([*policy.ocsp_responses, *ocsps])
        self._algorithms = AlgorithmPolicy(policy)
        self._shared: tuple[list[bytes], tuple[Asn1Value, ...]] | None = None

    def scope(
        self,
        cert: x509.Certificate,
        *,
        certs: Iterable[x509.Certificate] = (),
        usage: KeyUsageConstraints,
        revocation: Literal["hard", "soft"] | None = None,
        retroactive_revinfo: bool = False,
    ) -> Scope:
        """What a judgment of ``cert`` in an offline :meth:`context` with these arguments
        depends on, except the moment and the claimed signing time
        (:mod:`validation.judgments`)."""
        if self._shared is None:
            anchors = tuple(self._trust.iter_certs())
            crl_data = tuple(c.crl_data for c in self._crls)
            ocsp_data = tuple(o.ocsp_response_data for o in self._ocsps)
            algorithms = self._algorithms
            parts = [
                b"document context",
                b"anchors",
                *(c.dump() for c in anchors),
                b"pool",
                *(c.dump() for c in self._certs),
                b"crls",
                *(c.dump() for c in crl_data),
                b"ocsps",
                *(o.dump() for o in ocsp_data),
                b"algorithms",
                repr(
                    (sorted(algorithms.forbidden), algorithms.min_rsa, algorithms.min_ec)
                ).encode(),
            ]
            self._shared = (parts, (*anchors, *self._certs, *crl_data, *ocsp_data))
        shared_parts, shared_materials = self._shared
        own = tuple(self.canonical(c) for c in certs)
        rules = (
            revocation or self.policy.revocation,
            retroactive_revinfo,
            TIME_TOLERANCE.total_seconds(),
            _usage_key(usage),
        )
        digest = scope_digest(
            [
                b"certificate",
                cert.dump(),
                b"own",
                *(c.dump() for c in own),
                *shared_parts,
                b"rules",
                repr(rules).encode(),
            ]
        )
        return Scope(digest=digest, materials=(cert, *own, *shared_materials))

    def canonical(self, cert: x509.Certificate) -> x509.Certificate:
        """One object per certificate: a copy met again (in a signature, a timestamp, the
        DSS, or an earlier document: see :func:`known_certificate`) is replaced by the first
        one, so that it is parsed and its names prepared for comparison once (RFC 5280 string
        preparation is the slowest step of a validation in asn1crypto)."""
        der = cert.dump()
        found = self._by_der.get(der)
        if found is None:
            found = self._by_der[der] = known_certificate(der, cert)
        return found

    def context(
        self,
        *,
        certs: Iterable[x509.Certificate] = (),
        moment: datetime | None = None,
        online: bool = False,
        revocation: Literal["hard", "soft"] | None = None,
        retroactive_revinfo: bool = False,
    ) -> ValidationContext:
        """A fresh context. ``certs``: the signature's own certificates, which come first in
        its pool (the document's others after them); ``online`` fetches what is missing
        (ignored without fetchers)."""
        fetchers = self.fetchers if online else None
        registry = CertificateRegistry.build(
            [*(self.canonical(c) for c in certs), *self._certs],
            cert_fetcher=None if fetchers is None else fetchers.cert_fetcher,
        )
        manager = RevinfoManager(registry, POEManager(), self._crls, self._ocsps, fetchers=fetchers)
        return ValidationContext(
            trust_manager=self._trust,
            certificate_registry=registry,
            revinfo_manager=manager,
            moment=moment or validation_time(self.policy),
            time_tolerance=TIME_TOLERANCE,
            allow_fetching=fetchers is not None,
            revinfo_policy=revocation_policy(
                self.policy, mode=revocation, retroactive=retroactive_revinfo
            ),
            algorithm_usage_policy=self._algorithms,
        )


def offline_scope(
    policy: ValidationPolicy,
    cert: x509.Certificate,
    *,
    other_certs: Iterable[x509.Certificate] = (),
    usage: KeyUsageConstraints,
    retroactive_revinfo: bool = False,
) -> Scope:
    """What a judgment of ``cert`` in ``validation_context(policy, other_certs=...,
    retroactive_revinfo=...)`` without fetchers depends on, except the moment and the claimed
    signing time (:mod:`validation.judgments`)."""
    anchors = policy.anchors.all()
    pool = (*policy.extra_certificates, *other_certs)
    crls = tuple(crl.CertificateList.load(der) for der in policy.crls)
    ocsps = tuple(ocsp.OCSPResponse.load(der) for der in policy.ocsp_responses)
    algorithms = AlgorithmPolicy(policy)
    rules = (
        policy.revocation,
        retroactive_revinfo,
        TIME_TOLERANCE.total_seconds(),
        _usage_key(usage),
        (sorted(algorithms.forbidden), algorithms.min_rsa, algorithms.min_ec),
    )
    digest = scope_digest(
        [
            b"policy context",
            b"certificate",
            cert.dump(),
            b"anchors",
            *(c.dump() for c in anchors),
            b"pool",
            *(c.dump() for c in pool),
            b"crls",
            *policy.crls,
            b"ocsps",
            *policy.ocsp_responses,
            b"rules",
            repr(rules).encode(),
        ]
    )
    return Scope(digest=digest, materials=(cert, *anchors, *pool, *crls, *ocsps))


def _usage_key(usage: KeyUsageConstraints) -> tuple[tuple[str, object], ...]:
    """The key usage rules as a value that prints the same whatever the set order."""
    items: list[tuple[str, object]] = [("class", type(usage).__qualname__)]
    for item in dataclasses.fields(usage):
        value = getattr(usage, item.name)
        if isinstance(value, set | frozenset):
            value = tuple(sorted(map(str, value)))
        items.append((item.name, value))
    return tuple(items)


@contextlib.asynccontextmanager
async def fetching(
    policy: ValidationPolicy, injected: Fetchers | None = None
) -> AsyncIterator[Fetchers | None]:
    """Network fetchers for CRLs, OCSP and certificates, or ``None`` when offline: the
    caller's (``injected``, left open: they own it), else new ones for this block."""
    if policy.offline:
        yield None
        return
    if injected is not None:
        yield injected
        return
    async with fetcher_backend(policy.fetch_timeout) as fetchers:
        yield fetchers


def fetcher_backend(timeout: float) -> AIOHttpFetcherBackend:
    """pyhanko-certvalidator's aiohttp fetchers, as ``AIOHttpFetcherBackend(per_request_timeout=
    timeout)`` makes them, except that every session shares one TLS context
    (:func:`_tls_context`) instead of building its own. Use it as ``async with``."""
    return AIOHttpFetcherBackend(
        session=_SharedTlsSession(),  # type: ignore[arg-type]  # a LazySession, as its default
        per_request_timeout=timeout,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS settings pyhanko-certvalidator's fetchers build for each new session (certifi's
    roots, its ``_default_session``), built once and shared: loading the roots costs some
    25 ms of CPU, and every validation that may fetch opened a session of its own. A context
    is safe to share between sessions, threads and event loops; aiohttp does not change it."""
    return ssl.create_default_context(cafile=certifi.where())


class _SharedTlsSession(LazySession):
    """pyhanko-certvalidator's lazy session (made at the first fetch, closed with the
    backend, one per event loop as before), over the shared TLS context. Written by hand:
    the library takes either a ready session (which the caller must then close) or builds
    its own context for every session."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=_tls_context())
            )
        session: aiohttp.ClientSession = self._session
        return session


def algorithm_findings(
    policy: ValidationPolicy, digest_algorithm: str | None
) -> tuple[Finding, ...]:
    """Warnings for algorithms that pass but are weak (SHA-1)."""
    if digest_algorithm in policy.weak_digests:
        return (
            Finding(
                code="crypto.weak_digest",
                severity="warning",
                en=f"weak algorithm: the signature uses {digest_algorithm.upper()}",
                vi=f"thuật toán yếu: chữ ký dùng {digest_algorithm.upper()}",
            ),
        )
    return ()


@dataclass(frozen=True)
class _SignerKeyUsage(KeyUsageConstraints):
    """pyHanko's key usage check, except that a certificate without a keyUsage extension is
    unrestricted (RFC 5280 §4.2.1.3), as the signing room and the XML validator read it."""

    def _validate_key_usage_extension(self, key_usage_extension_value: Any, extra: Any) -> None:
        if key_usage_extension_value is None:
            return
        super()._validate_key_usage_extension(key_usage_extension_value, extra)  # type: ignore[no-untyped-call]


DOCUMENT_SIGNING_PURPOSES = frozenset(
    {
        "any_extended_key_usage",
        "email_protection",
        "client_auth",
        "microsoft_document_signing",
        "adobe_authentic_documents_trust",
        "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning, RFC 9336
    }
)
"""Extended key usages that fit signing documents. A certificate whose EKU names only other
purposes (a TSA's timeStamping, an OCSP responder's OCSPSigning, …) may not sign them."""

SIGNER_KEY_USAGE: KeyUsageConstraints = _SignerKeyUsage(
    key_usage=frozenset({"digital_signature", "non_repudiation"}), match_all_key_usages=False
)
"""TT 15/2025 App. II 1.4: a signer's certificate, if it restricts its key usage, allows
digitalSignature or nonRepudiation. Extended key usage is checked for every format at once by
:func:`validation.document.validate_bytes` (pyHanko's CMS path rebuilds these constraints
and would demand an EKU extension from every certificate)."""
