"""PAdES validation: a verdict on every signature and document timestamp of a PDF.

Each signature is judged in the ETSI EN 319 102-1 vocabulary, with pyHanko's enums; pyHanko
and pyhanko-certvalidator do the PDF, CMS and X.509 work, this module chooses the time, the
revocation sources and the verdict. The steps, and what each failure becomes:

1. **Format.** The signature dictionary and its CMS must be readable and of a kind we verify:
   ``/Sig`` with ``adbe.pkcs7.detached`` or ``ETSI.CAdES.detached``, ``/DocTimeStamp`` with
   ``ETSI.RFC3161``; a detached CMS carries no content of its own. Otherwise
   TOTAL-FAILED / ``FORMAT_FAILURE`` (ETSI: "the cryptographic verification building block is
   unable to process it").
2. **Coverage and later changes.** The ``/ByteRange`` must cover the whole revision it signs
   (pyHanko's coverage ``ENTIRE_FILE`` or ``ENTIRE_REVISION``; a range that skips bytes, is not
   contiguous around ``/Contents`` or stops short of the revision's end is ``UNCLEAR`` or
   ``CONTIGUOUS_BLOCK_FROM_START``). What later revisions changed is classified by pyHanko's
   difference analysis: ``NONE``, ``LTA_UPDATES`` (DSS, document timestamps),
   ``FORM_FILLING``, ``ANNOTATIONS`` (allowed unless the signature's DocMDP forbids them) or
   ``OTHER``. Bad coverage, ``OTHER``, or more than DocMDP allows is TOTAL-FAILED /
   ``FORMAT_FAILURE``: the signed bytes may be intact, but the document a reader sees is not
   the one that was signed. Bytes after the last ``%%EOF`` line other than whitespace (an
   update appended without its own ``%%EOF``, which lenient readers apply and pyHanko's reader
   does not see) fail every signature the same way; line ends and NUL padding do not.
   Incremental saving, shadow hide/replace, universal signature forgery and signature
   wrapping attacks all end here (or in step 1). We follow the EU DSS
   validator, whose PDF format checks (byte range, DocMDP, undefined changes) fail with
   ``FORMAT_FAILURE``; ``HASH_FAILURE`` keeps its ETSI meaning of step 3.
3. **Integrity and signature value.** TOTAL-FAILED / ``HASH_FAILURE`` when the digest of the
   byte range differs from the signed one (a byte flipped in the signed range);
   ``SIG_CRYPTO_FAILURE`` when the signature value does not verify with the certificate's key
   (a damaged CMS blob). ``NO_SIGNING_CERTIFICATE_FOUND`` (INDETERMINATE) when the CMS does not
   carry the certificate its attributes name.
4. **Algorithms** (:class:`validation.context.AlgorithmPolicy`): MD5, RSA < 2048 bits or EC
   < 256 bits give INDETERMINATE / ``CRYPTO_CONSTRAINTS_FAILURE`` (``_NO_POE`` when a policy
   bans an algorithm only from a date on); SHA-1 passes with a warning.
5. **Time.** A claimed signing time (``/M``, ``signingTime``) is reported and never used. The
   best signature time is the earliest proof of existence: a valid signature timestamp, else a
   valid document timestamp of a later revision, else the validation time. A signature
   timestamp is itself judged at the time its own proof of existence (a later document
   timestamp) gives, else at the validation time; older document timestamps likewise at the
   time of the next one (PAdES B-LTA). A signature timestamp that is broken (issued for other
   data, a signature value that does not verify, unreadable) makes the signature fail the same
   way (``HASH_FAILURE``, …), as pyHanko's validation with time does: the container was
   tampered with. One that is intact but not trusted (unknown TSA, revocation unknown) proves
   nothing and is set aside with a warning, as ETSI does with unusable tokens; so is one dated
   after the validation time.
6. **Certificate at the best signature time**: path to a configured anchor, validity, key usage
   (``digitalSignature`` or ``nonRepudiation``; time-stamping for a TSA) and revocation, with
   revocation data from the document (DSS, CMS ``revocation-info-archival``) and the caller's
   files first, then fetched online unless the policy is offline, then, in ``soft`` mode, an
   unknown status accepted (and reported). Revocation data issued after the best signature time
   counts (a later CRL still says whether the certificate was revoked before).

   ============================================  ===============================================
   certificate problem                           indication / sub-indication
   ============================================  ===============================================
   no path to a trust anchor                     INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
   expired at the best signature time            INDETERMINATE / OUT_OF_BOUNDS_NO_POE
   not yet valid at the best signature time      TOTAL-FAILED / NOT_YET_VALID
   revoked before the best signature time        INDETERMINATE / REVOKED_NO_POE (CA:
                                                 REVOKED_CA_NO_POE); TOTAL-FAILED / REVOKED when
                                                 a content timestamp proves signing after it
   expired before a content timestamp            INDETERMINATE / EXPIRED
   revocation status unknown or stale (hard)     INDETERMINATE / TRY_LATER
   key usage does not allow signing              INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
   algorithm in the chain not accepted           INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE
   anything else in the path                     INDETERMINATE / CERTIFICATE_CHAIN_GENERAL_FAILURE
   seed value constraint of the field violated   INDETERMINATE / SIG_CONSTRAINTS_FAILURE
   ============================================  ===============================================

   When several problems apply, a TOTAL-FAILED one wins over an INDETERMINATE one, and among
   equals the earlier step wins.

Files that cannot be parsed (strict mode), or that are encrypted with a password we do not
have, raise :class:`~validation.report.Unparseable`.

Why not pyHanko's ``ades_lta_validation``: it gives a signature without a timestamp (B-B)
INDETERMINATE / ``SIG_CONSTRAINTS_FAILURE``, and each call re-analyses every signature of the
document; the building blocks it uses (difference analysis, CMS checks, certificate paths with
point-in-time revocation) are the ones used here, once per signature, with the same
sub-indications.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from asn1crypto import cms, tsp, x509
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.general import (
    find_cms_attribute_iter,
)
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    report_seed_value_validation,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import Fetchers

from validation.certificates import (
    NO_CHAIN,
    PathVerdict,
    judge_certificate,
    no_timestamp,
    revocation_unknown_accepted,
)
from validation.cms import later_than_validation
from validation.context import (
    SIGNER_KEY_USAGE,
    ContextFactory,
    algorithm_findings,
    fetching,
    validation_time,
)
from validation.hexstrings import install_fast_hex_strings
from validation.judgments import judgments
from validation.pdfcoverage import byte_coverage, structure_findings
from validation.pdfcrypto import (
    Crypto,
    check_crypto,
)
from validation.pdfhistory import (
    Change,
    ChangeKind,
    History,
    Rect,
    content_boxes,
    read_history,
    text_reader,
)
from validation.pdfmask import Placed, seal_images
from validation.pdfpaths import install_targeted_paths
from validation.pdfread import (
    BAD_INPUT,
    Entry,
    Revinfo,
    cms_revinfo,
    make_finding,
    make_problem,
    open_pdf,
    read_dss,
    signature_entries,
    trailing_bytes,
    why,
)
from validation.pdfstructure import Structure, read_structure
from validation.pdftokens import install_fast_tokens
from validation.policy import ValidationPolicy
from validation.report import (
    CertificateInfo,
    Evidence,
    Finding,
    Outcome,
    RevisionUpdate,
    RevocationInfo,
    Role,
    SignatureReport,
    SubIndication,
    TimestampInfo,
)

if TYPE_CHECKING:  # pypdf only when page text is looked for
    from pypdf import PdfReader

__all__ = ["validate_pdf"]

install_fast_hex_strings()
install_fast_tokens()
install_targeted_paths()

TSA_KEY_USAGE = KeyUsageConstraints(extd_key_usage={"time_stamping"})

OVER_TEXT = 0.35
"""A later signature's widget "covers" a run of text when it hides this share of the run's
height, over :data:`OVER_TEXT_WIDTH` points of its width (or this share of a short run)."""
OVER_TEXT_WIDTH = 3.0
"""Less than a digit's width (a 13 pt "7" is about 6.5 pt): a narrow box over one character
(a digit, a minus sign, a decimal point) covers signed content."""
SIGNATURE_BLOCK_LINES = 40.0
"""How far above and below a personal signature its block's lines (position, name) reach."""
SEAL_PROBES = (24, 6)
"""Points across and up a line of the signature block where the seal's pixels are looked at."""
SEAL_HIDES = 0.5
"""The seal hides a line of its block when it is opaque at this share of the points over it:
a stamp's ring and words cross the name line; a ground of its own paints it out."""


_GRID = 0.5
"""Points per column when later widgets are judged together."""


def _columns(box: Rect, rects: list[Rect]) -> list[float] | None:
    """For each column of ``box`` (``_GRID`` wide), the share of its height the union of
    ``rects`` covers; ``None`` when no rect meets the box."""
    bx0, by0, bx1, by1 = box
    if not (bx1 > bx0 and by1 > by0) or not all(math.isfinite(v) for v in box):
        return None
    meeting = [
        r for r in rects if min(r[2], bx1) > max(r[0], bx0) and min(r[3], by1) > max(r[1], by0)
    ]
    if not meeting:
        return None
    count = min(4000, max(1, math.ceil((bx1 - bx0) / _GRID)))
    step = (bx1 - bx0) / count
    shares = []
    for n in range(count):
        cx0, cx1 = bx0 + n * step, bx0 + (n + 1) * step
        spans = sorted(
            (max(r[1], by0), min(r[3], by1))
            for r in meeting
            if min(r[2], cx1) - max(r[0], cx0) >= 0.5 * step
        )
        covered, top = 0.0, by0
        for start, end in spans:
            start = max(start, top)
            if end > start:
                covered += end - start
                top = end
        shares.append(covered / (by1 - by0))
    return shares


def _line_hidden(box: Rect, rects: list[Rect]) -> bool:
    """Whether the union of ``rects`` hides a character of the line ``box``: a third of its
    height over 3 pt of its width (or a third of a short run)."""
    shares = _columns(box, rects)
    if shares is None:
        return False
    step = (box[2] - box[0]) / len(shares)
    need = min(OVER_TEXT_WIDTH, OVER_TEXT * (box[2] - box[0]))
    run = 0.0
    for share in shares:
        run = run + step if share >= OVER_TEXT else 0.0
        if run >= need - 1e-9:
            return True
    return False


def _area_hidden(box: Rect, rects: list[Rect]) -> float:
    """The share of ``box`` the union of ``rects`` covers."""
    shares = _columns(box, rects)
    return 0.0 if shares is None else sum(shares) / len(shares)


_UNBOUNDED = 8 | 16
"""Annotation flags NoZoom and NoRotate: the appearance is drawn about a corner of its box,
unscaled or unrotated, so on a rotated page it paints outside the box."""
SEAL_MAX = 50 / 25.4 * 72
"""The largest seal told apart as the Decree 30 agency seal (50 mm; real seals are ~36-42)."""

ALLOWED_MODIFICATIONS = {
    ModificationLevel.NONE: None,
    # pyHanko's level also admits a new document information dictionary or XMP metadata
    ModificationLevel.LTA_UPDATES: (
        "validation data, document timestamps or metadata (document information, XMP)",
        "dữ liệu phục vụ kiểm tra, dấu thời gian văn bản hoặc siêu dữ liệu (thông tin tài liệu, "
        "XMP)",
    ),
    ModificationLevel.FORM_FILLING: ("form filling", "điền biểu mẫu"),
    ModificationLevel.ANNOTATIONS: ("annotations", "chú thích"),
}


@dataclass(slots=True)
class _Document:
    """Everything read from the file before any signature is judged (all of it synchronous,
    CPU-bound work: it runs in a worker thread)."""

    structure: Structure
    entries: list[Entry]
    tail: int
    dss: Revinfo
    findings: list[Finding]
    history: History


def _read_document(data: bytes, stream: BinaryIO | None) -> _Document:
    structure = read_structure(data)
    reader = open_pdf(data, structure, stream)
    entries = signature_entries(reader, len(data))
    tail = trailing_bytes(data)
    dss, findings = read_dss(reader)
    if dss.certs or dss.crls or dss.ocsps:
        findings.append(
            make_finding(
                "pdf.dss",
                f"the file carries validation data (DSS): {len(dss.certs)} certificates, "
                f"{len(dss.crls)} CRLs, {len(dss.ocsps)} OCSP responses",
                f"tệp có kèm dữ liệu phục vụ kiểm tra (DSS): {len(dss.certs)} chứng thư số, "
                f"{len(dss.crls)} CRL, {len(dss.ocsps)} phản hồi OCSP",
                "info",
            )
        )
    if not entries:
        findings.append(
            make_finding(
                "pdf.unsigned",
                "the PDF carries no signature and no document timestamp",
                "tệp PDF không có chữ ký số hay dấu thời gian nào",
                "info",
            )
        )
    revisions = [e.revision for e in entries if e.signature is not None and e.revision >= 0]
    history = read_history(reader, structure, min(revisions)) if revisions else History()
    return _Document(structure, entries, tail, dss, findings, history)


async def validate_pdf(
    data: bytes,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None = None,
    stream: BinaryIO | None = None,
) -> Outcome:
    """Judge every signature and document timestamp in ``data``.

    Safe to run concurrently: parsing, the change analysis and the cryptographic checks run in
    worker threads (:func:`asyncio.to_thread`), one step of one document at a time; only the
    certificate paths (which may fetch revocation data) run on the event loop. ``fetchers``:
    the caller's (tests pin them), else made from the policy for this call. ``stream``: the
    open file that ``data`` maps (:mod:`validation.mapped`), for pyHanko's reader.

    Raises :class:`Unparseable` when the file cannot be read as a PDF (strict parsing) or is
    encrypted with a password we do not have; everything else, forgeries included, is a verdict.
    """
    document = await asyncio.to_thread(_read_document, data, stream)
    async with fetching(policy, fetchers) as live:
        judge = _Judge(policy, live, data=data, document=document)
        reports = await judge.all(document.entries)
    return Outcome(
        signatures=tuple(reports),
        findings=tuple(document.findings),
        evidence=judge.evidence(),
        updates=judge.updates(),
    )


# -- certificates -----------------------------------------------------------------------------


def _declares_revocation(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.crl_distribution_points or cert.ocsp_urls)
    except BAD_INPUT:
        return True


def _mentions(cert: x509.Certificate, revinfo: Revinfo) -> bool:
    """Whether ``revinfo`` holds a CRL from the certificate's issuer or an OCSP answer about
    it (a cheap test, for naming the source; the validator decides what is used)."""
    try:
        issuer = cert.issuer
        serial = cert.serial_number
        if any(item["tbs_cert_list"]["issuer"] == issuer for item in revinfo.crls):
            return True
        for resp in revinfo.ocsps:
            body = resp["response_bytes"]["response"].parsed
            for single in body["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial:
                    return True
    except BAD_INPUT:
        return False
    return False


# -- the judge --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Stamp:
    """A timestamp token's verdict."""

    time: datetime | None
    tsa: x509.Certificate | None
    crypto: Crypto
    problems: list[tuple[SubIndication, Finding]] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    trust: PathVerdict | None = None
    imprint_algorithm: str | None = None

    @property
    def sub(self) -> SubIndication | None:
        return _worst(self.problems)

    @property
    def reason(self) -> Finding:
        """The finding behind :attr:`sub`."""
        sub = self.sub
        return next((f for s, f in self.problems if s is sub), NO_CHAIN)

    @property
    def passed(self) -> bool:
        return not self.problems and self.time is not None


class _Judge:
    """Judges the signatures of one document; collects the evidence on the way."""

    def __init__(
        self,
        policy: ValidationPolicy,
        fetchers: Fetchers | None,
        *,
        data: bytes,
        document: _Document,
    ) -> None:
        entries = document.entries
        dss = document.dss
        self.policy = policy
        self.tail = document.tail
        self.data = data
        self.structure = document.structure
        self.ambiguities = structure_findings(document.structure)
        self.by_revision: dict[int, Entry] = {
            e.revision: e for e in entries if e.signature is not None and e.revision >= 0
        }
        self.history = document.history
        self._text: dict[int, tuple[list[Rect], list[Rect], list[Rect]]] = {}
        self._pages: PdfReader | None = None  # pypdf's, for the text a widget may cover
        # widget number -> the see-through images it places (None: not drawn as a seal is)
        self._see_through: dict[int, list[Placed] | None] = {}
        self.fetchers = fetchers
        self.when = validation_time(policy)
        # All validation data the document carries (DSS, CMS revocation-info-archival), shared
        # by every signature: one certificate pool, one set of revocation data.
        embedded = dss
        for entry in entries:
            if entry.signature is not None:
                with contextlib.suppress(*BAD_INPUT):
                    embedded = embedded + cms_revinfo(entry.signature.signer_info)
        self.embedded = embedded
        self.contexts = ContextFactory(
            policy,
            fetchers=fetchers,
            certs=embedded.certs,
            crls=embedded.crls,
            ocsps=embedded.ocsps,
        )
        self._certs: list[bytes] = [c.dump() for c in embedded.certs]
        self._crls: list[bytes] = [c.dump() for c in embedded.crls]
        self._ocsps: list[bytes] = [o.dump() for o in embedded.ocsps]
        self._tokens: list[bytes] = []

    def updates(self) -> tuple[RevisionUpdate, ...]:
        by_revision: dict[int, list[tuple[str, str]]] = {}
        for change in self.history.changes:
            by_revision.setdefault(change.revision, []).append((change.kind, change.name))
        return tuple(
            RevisionUpdate(revision=r, changes=tuple(c)) for r, c in sorted(by_revision.items())
        )

    def evidence(self) -> Evidence:
        return Evidence().merge(
            Evidence(
                certificates=tuple(self._certs),
                crls=tuple(self._crls),
                ocsp_responses=tuple(self._ocsps),
                timestamp_tokens=tuple(self._tokens),
            )
        )

    async def all(self, entries: Sequence[Entry]) -> list[SignatureReport]:
        """Document timestamps newest first (each is proof of existence for everything before
        it, including the older timestamps), then the signatures."""
        reports: dict[int, SignatureReport] = {}
        proofs: list[tuple[int, datetime]] = []  # (revision, time) of valid document timestamps
        horizon: datetime | None = None
        for index in sorted(
            (i for i, e in enumerate(entries) if e.timestamp and e.problem is None),
            key=lambda i: -entries[i].revision,
        ):
            entry = entries[index]
            judged_at = min(horizon, self.when) if horizon else self.when
            report, proof = await self.document_timestamp(entry, judged_at)
            reports[index] = report
            if proof is not None:
                proofs.append((entry.revision, proof))
                horizon = proof
        for index, entry in enumerate(entries):
            if index in reports:
                continue
            if entry.signature is None or entry.problem is not None:
                reports[index] = self.unusable(entry)
                continue
            later = [t for rev, t in proofs if rev > entry.revision]
            reports[index] = await self.signature(entry, min(later) if later else None)
        return [reports[i] for i in range(len(entries))]

    # -- one report each ----------------------------------------------------------------------

    def unusable(self, entry: Entry) -> SignatureReport:
        problem = entry.problem or make_finding(
            "pdf.signature_unreadable", "the signature cannot be read", "không đọc được chữ ký"
        )
        signer = None
        if entry.signature is not None:
            with contextlib.suppress(*BAD_INPUT):
                cert = entry.signature.signer_cert
                signer = CertificateInfo.of(
                    cert, is_organisation=self.policy.agency_rule.is_organisation(cert)
                )
        return SignatureReport(
            id=entry.name,
            kind="document-timestamp" if entry.timestamp else "signature",
            indication=AdESFailure.FORMAT_FAILURE.status,
            sub_indication=AdESFailure.FORMAT_FAILURE,
            role=Role.TIMESTAMP if entry.timestamp else Role.UNKNOWN,
            signer=signer,
            findings=(problem,),
            revision=entry.revision if entry.revision >= 0 else None,
        )

    async def signature(self, entry: Entry, proof: datetime | None) -> SignatureReport:
        embedded = entry.signature
        if embedded is None:
            return self.unusable(entry)
        policy = self.policy
        findings: list[Finding] = []
        problems: list[tuple[SubIndication, Finding]] = []
        self._tokens_of(embedded)

        coverage, modification = await asyncio.to_thread(
            self._integrity, embedded, problems, findings
        )
        crypto = await asyncio.to_thread(self._signature_crypto, embedded, problems)
        problems.extend(crypto.problems)
        cert = crypto.cert
        self._keep_certs(crypto)
        is_org = cert is not None and policy.agency_rule.is_organisation(cert)
        findings.extend(algorithm_findings(policy, crypto.digest_algorithm))

        claimed = None
        try:
            claimed = embedded.self_reported_timestamp
        except BAD_INPUT:
            findings.append(
                make_finding(
                    "pdf.bad_signing_time",
                    "the claimed signing time (/M) cannot be read",
                    "không đọc được thời điểm ký tự khai (/M)",
                    "warning",
                )
            )

        # Time: the signature timestamp, judged at its own proof of existence.
        judged_at = min(proof, self.when) if proof else self.when
        stamp = await self._signature_timestamp(embedded, judged_at, findings, problems)
        best = judged_at
        if stamp is not None and stamp.passed and stamp.time is not None:
            if stamp.time <= judged_at:
                best = stamp.time
            else:
                findings.append(later_than_validation(stamp.time))
        elif stamp is None:
            findings.append(no_timestamp(later_document_timestamp=proof is not None))

        trust = None
        if crypto.sound and cert is not None:
            trust = await self._judge(
                cert, crypto.other_certs, best, SIGNER_KEY_USAGE, policy.revocation, claimed
            )
            if trust.sub is not None and trust.finding is not None:
                problems.append((trust.sub, trust.finding))
            elif trust.finding is not None:
                findings.append(trust.finding)
            self._refine_with_content_timestamps(embedded, cert, trust, problems)
            seed = self._seed_values(embedded, trust, stamp)
            if seed is not None:
                problems.append((AdESIndeterminate.SIG_CONSTRAINTS_FAILURE, seed))

        sub = _worst(problems)
        findings = [f for _, f in problems] + findings
        return SignatureReport(
            id=entry.name,
            kind="signature",
            indication=sub.status if sub is not None else AdESStatus.PASSED,
            sub_indication=sub,
            role=Role.AGENCY if is_org else Role.PERSONAL if cert is not None else Role.UNKNOWN,
            signer=None if cert is None else CertificateInfo.of(cert, is_organisation=is_org),
            claimed_signing_time=claimed,
            timestamp=None
            if stamp is None or stamp.time is None
            else TimestampInfo(
                time=stamp.time,
                tsa=_name(stamp.tsa),
                valid=stamp.passed,
                kind="signature-timestamp",
            ),
            best_signature_time=best,
            integrity=crypto.intact,
            signature_valid=crypto.valid,
            certificate_valid_at_signing_time=_valid_at(cert, best, trust),
            trusted=None if trust is None else trust.chained,
            trust_anchor=_anchor_name(trust),
            trust_purpose=_anchor_purpose(policy, trust),
            revocation=RevocationInfo() if trust is None else trust.revocation,
            modification=modification,
            coverage=coverage,
            digest_algorithm=crypto.digest_algorithm,
            signature_algorithm=crypto.signature_algorithm,
            findings=tuple(findings),
            revision=entry.revision,
        )

    async def document_timestamp(
        self, entry: Entry, judged_at: datetime
    ) -> tuple[SignatureReport, datetime | None]:
        """The report, and the time the timestamp proves (when it passes)."""
        embedded = entry.signature
        if embedded is None:
            return self.unusable(entry), None
        findings: list[Finding] = []
        problems: list[tuple[SubIndication, Finding]] = []
        coverage, modification = await asyncio.to_thread(
            self._integrity, embedded, problems, findings
        )
        with contextlib.suppress(*BAD_INPUT):
            self._tokens.append(bytes(embedded.pkcs7_content))

        def imprint(algorithm: str) -> bytes:
            return bytes(embedded.compute_digest(algorithm))

        stamp = await self._timestamp(embedded.signed_data, imprint, judged_at)
        problems.extend(stamp.problems)
        findings.extend(stamp.notes)
        sub = _worst(problems)
        tsa = stamp.tsa
        passed = sub is None
        proof = stamp.time if passed and stamp.time is not None else None
        if proof is not None and proof > judged_at:
            findings.append(later_than_validation(proof))
            proof = None
        trust = stamp.trust
        report = SignatureReport(
            id=entry.name,
            kind="document-timestamp",
            indication=sub.status if sub is not None else AdESStatus.PASSED,
            sub_indication=sub,
            role=Role.TIMESTAMP,
            signer=None
            if tsa is None
            else CertificateInfo.of(
                tsa, is_organisation=self.policy.agency_rule.is_organisation(tsa)
            ),
            timestamp=None
            if stamp.time is None
            else TimestampInfo(
                time=stamp.time, tsa=_name(tsa), valid=stamp.passed, kind="document-timestamp"
            ),
            best_signature_time=stamp.time if proof is not None else judged_at,
            integrity=stamp.crypto.intact,
            signature_valid=stamp.crypto.valid,
            certificate_valid_at_signing_time=_valid_at(tsa, judged_at, trust),
            trusted=None if trust is None else trust.chained,
            trust_anchor=_anchor_name(trust),
            trust_purpose=_anchor_purpose(self.policy, trust),
            revocation=RevocationInfo() if trust is None else trust.revocation,
            modification=modification,
            coverage=coverage,
            digest_algorithm=stamp.imprint_algorithm,
            signature_algorithm=stamp.crypto.signature_algorithm,
            findings=tuple([f for _, f in problems] + findings),
            revision=entry.revision,
        )
        return report, proof

    # -- steps --------------------------------------------------------------------------------

    def _signature_crypto(
        self, embedded: EmbeddedPdfSignature, problems: list[tuple[SubIndication, Finding]]
    ) -> Crypto:
        try:
            digest = embedded.compute_digest()
        except BAD_INPUT as exc:
            problems.append((AdESFailure.FORMAT_FAILURE, _byte_range_unreadable(exc)))
            return Crypto()
        return check_crypto(
            embedded.signed_data, digest, "data", self.policy, self.contexts.canonical
        )

    def _integrity(
        self,
        embedded: EmbeddedPdfSignature,
        problems: list[tuple[SubIndication, Finding]],
        findings: list[Finding],
    ) -> tuple[str | None, str | None]:
        entry_revision = int(embedded.signed_revision)
        """Coverage of the byte range and the changes after the signed revision."""
        if self.tail:
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.trailing_bytes",
                    f"{self.tail} bytes follow the end of the file's last revision "
                    "(after %%EOF): no signature covers them, and some readers would show "
                    "them",
                    f"có {self.tail} byte nằm sau điểm kết thúc phiên bản cuối của tệp "
                    "(sau %%EOF): không chữ ký nào bao phủ chúng, một số phần mềm đọc vẫn "
                    "hiển thị chúng",
                )
            )
        problems.extend((AdESFailure.FORMAT_FAILURE, f) for f in self.ambiguities)
        by_bytes = byte_coverage(self.data, self.structure, embedded)
        problems.extend((AdESFailure.FORMAT_FAILURE, f) for f in by_bytes.problems)
        try:
            embedded.compute_integrity_info()
            if (
                embedded.coverage == SignatureCoverageLevel.ENTIRE_FILE
                and by_bytes.revision is not None
                and not by_bytes.whole_file
            ):
                # pyHanko was fooled into "covers the whole file": every byte after the
                # signed revision still goes through the change analysis
                embedded.coverage = SignatureCoverageLevel.ENTIRE_REVISION
                embedded.diff_result = DEFAULT_DIFF_POLICY.review_file(
                    embedded.reader,
                    by_bytes.revision,
                    field_mdp_spec=embedded.fieldmdp,
                    doc_mdp=embedded.docmdp_level,
                )
            summary = embedded.summarise_integrity_info()
        except RecursionError:
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    "the changes made after signing cannot be analysed (objects nested too deeply)",
                    "không phân tích được các thay đổi sau khi ký (cấu trúc lồng quá sâu)",
                )
            )
            return None, None
        except BAD_INPUT as exc:
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    f"the changes made after signing cannot be analysed: {why(exc)}",
                    f"không phân tích được các thay đổi sau khi ký: {why(exc)}",
                )
            )
            return None, None
        coverage_level: SignatureCoverageLevel | None = summary.get("coverage")
        coverage = None if coverage_level is None else coverage_level.name
        if coverage_level is None or coverage_level < SignatureCoverageLevel.ENTIRE_REVISION:
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.coverage",
                    "the signature's /ByteRange does not cover the whole revision it signs "
                    f"(coverage {coverage}): bytes of the file are outside the signature",
                    "/ByteRange của chữ ký không bao phủ toàn bộ phiên bản tệp đã ký "
                    f"(mức {coverage}): có phần của tệp nằm ngoài chữ ký",
                )
            )
        diff = summary.get("diff_result")
        if isinstance(diff, DiffResult):
            level = diff.modification_level
        elif diff is None:
            level = None
        else:  # SuspiciousModification
            level = ModificationLevel.OTHER
        modification = None if level is None else level.name
        covered = coverage_level is not None and coverage_level >= (
            SignatureCoverageLevel.ENTIRE_REVISION
        )
        if level is not None and covered and not summary.get("docmdp_ok"):
            detail = "" if isinstance(diff, DiffResult) or diff is None else f": {why(diff)}"
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modified_after_signing",
                    f"the document was changed after this signature in a way that is not "
                    f"allowed (modification level {modification}){detail}",
                    "văn bản đã bị sửa đổi sau khi ký theo cách không được phép "
                    f"(mức thay đổi {modification})",
                )
            )
        elif level is not None and ALLOWED_MODIFICATIONS.get(level):
            en, vi = ALLOWED_MODIFICATIONS[level] or ("", "")
            findings.append(
                make_finding(
                    "pdf.allowed_changes",
                    f"after this signature the file received {en} only (allowed)",
                    f"sau chữ ký này tệp chỉ được bổ sung {vi} (được phép)",
                    "info",
                )
            )
        if level is not None and covered:
            signed_at = by_bytes.revision if by_bytes.revision is not None else entry_revision
            overlay_problems, overlay_notes = self._overlays(signed_at)
            problems.extend(overlay_problems)
            findings.extend(overlay_notes)
        return coverage, modification

    def _author(self, revision: int) -> tuple[str, str]:
        entry = self.by_revision.get(revision)
        if entry is None:
            return (
                f"revision {revision}, an update nobody signed",
                f"phiên bản {revision}, bản cập nhật không có chữ ký",
            )
        return (
            f"revision {revision}, made with {entry.name}",
            f"phiên bản {revision}, tạo cùng {entry.name}",
        )

    def _is_organisation(self, revision: int) -> bool:
        entry = self.by_revision.get(revision)
        if entry is None or entry.signature is None or entry.timestamp:
            return False
        try:
            cert = entry.signature.signer_cert
        except BAD_INPUT:
            return False
        return self.policy.agency_rule.is_organisation(cert)

    def _seal_on(self, change: Change) -> Rect | None:
        """Decree 30 App. I: the agency signature's seal, at its real size, vertically centred
        over the left third of an earlier personal signature on the same page, and drawn as a
        seal is (an image that lets what is under it show); the personal signature's box, or
        ``None`` when ``change`` is no such seal."""
        if change.rect is None or not self._is_organisation(change.revision):
            return None
        if not self._see_through_image(change.ref):
            return None  # text, painted areas or an opaque picture: no seal
        sx0, sy0, sx1, sy1 = change.rect
        width, height = sx1 - sx0, sy1 - sy0
        if not (0 < width <= SEAL_MAX and 0 < height <= SEAL_MAX):
            return None  # a seal has its real size: Decree 30 seals are at most ~42 mm
        if max(width, height) > 1.3 * min(width, height):
            return None  # round (or square): a long box is not a seal
        for other in self.history.changes:
            if (
                other.kind != "signature"
                or other.revision >= change.revision
                or other.page != change.page
                or other.rect is None
                or self._is_organisation(other.revision)
            ):
                continue
            px0, py0, px1, py1 = other.rect
            overlap_x = min(sx1, px1) - max(sx0, px0)
            overlap_y = min(sy1, py1) - max(sy0, py0)
            centre = (sx0 + sx1) / 2
            middle = (sy0 + sy1) / 2
            if (
                overlap_x > 0
                and overlap_y > 0
                and overlap_x <= 0.5 * (px1 - px0)
                and centre < px0 + (px1 - px0) / 3
                and py0 - height / 4 <= middle <= py1 + height / 4
            ):
                return other.rect
        return None

    def _over_text(
        self,
        change: Change,
        block: Rect | None = None,
        *,
        images: bool = True,
        signed: int | None = None,
    ) -> bool:
        """Whether ``change``'s widget hides text of its page; with ``block`` (a personal
        signature's box), the signature block's own lines (the position above it, the name
        below, in its column) may be covered, as the seal does, and nothing else. With
        ``signed`` (a revision), also the widgets and annotations visible when it was
        signed: filled fields, the signature's own appearance (the seal over ``block``
        apart)."""
        if change.rect is None or change.page is None:
            return False
        texts, pictures, drawn = self._boxes(change.page)
        x0, y0, x1, y1 = change.rect

        def covers(box: Rect) -> bool:
            bx0, by0, bx1, by1 = box
            width = min(x1, bx1) - max(x0, bx0)
            height = min(y1, by1) - max(y0, by0)
            # most of the line's height, over a few characters' width: a box grazing the
            # tops or bottoms of a line (estimated glyph boxes are generous) is no cover
            return height >= OVER_TEXT * (by1 - by0) and width >= min(
                OVER_TEXT_WIDTH, OVER_TEXT * (bx1 - bx0)
            )

        def in_block(box: Rect) -> bool:
            if block is None:
                return False
            px0, py0, px1, py1 = block
            return (
                box[0] >= px0 - (px1 - px0) / 2
                and box[1] >= py0 - SIGNATURE_BLOCK_LINES
                and box[3] <= py1 + SIGNATURE_BLOCK_LINES
            )

        def over_image(box: Rect) -> bool:
            width = min(x1, box[2]) - max(x0, box[0])
            height = min(y1, box[3]) - max(y0, box[1])
            area = (x1 - x0) * (y1 - y0)
            image = (box[2] - box[0]) * (box[3] - box[1])
            # a fifth of the widget on an image, or half of a small image (a QR code, a
            # logo, a handwritten mark) under a large widget
            return (
                width > 0
                and height > 0
                and area > 0
                and (width * height >= 0.2 * area or width * height >= 0.5 * image)
            )

        if any(
            covers(box) and (not in_block(box) or self._seal_hides(change, box)) for box in texts
        ):
            return True
        if signed is not None:
            for page, box, ref in self.history.shown.get(signed, ()):
                # not the widget itself (a field prepared when signed, signed later)
                if page == change.page and ref != change.ref and box != block and covers(box):
                    return True
        # a drawn path (a tick, a figure) half under a later signature's widget
        if block is None and signed is not None:
            for box in drawn:
                width = min(x1, box[2]) - max(x0, box[0])
                height = min(y1, box[3]) - max(y0, box[1])
                if width > 0 and height > 0:
                    area = (box[2] - box[0]) * (box[3] - box[1])
                    if width * height >= 0.5 * area:
                        return True
        # a painted image (a scanned page): covering a fifth of the widget's area with it is
        # covering signed content. Not for the seal: on a scan, the signature block is part of
        # the image, and the seal's size and place are already bounded
        return images and block is None and any(over_image(box) for box in pictures)

    def _overlays(self, revision: int) -> tuple[list[tuple[SubIndication, Finding]], list[Finding]]:
        """What later revisions painted over the page (see :mod:`validation.pdfhistory`)."""
        problems: list[tuple[SubIndication, Finding]] = []
        notes: list[Finding] = []
        if self.history.unreadable is not None:
            detail = self.history.unreadable
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "pdf.modification_unknown",
                    f"what the later revisions show cannot be analysed: {detail}",
                    f"không phân tích được nội dung hiển thị của các phiên bản sau: {detail}",
                )
            )
            return problems, notes
        # the first change of each field's value after this signature: a refill then means
        # the value this signature signed was changed
        first_value: dict[str, ChangeKind] = {}
        for change in sorted(self.history.after(revision), key=lambda c: c.revision):
            who_en, who_vi = self._author(change.revision)
            name = change.name
            signed_value_changed = False
            if change.kind in ("fill", "refill", "large-fill"):
                signed_value_changed = first_value.setdefault(name, change.kind) == "refill"
            unverifiable = change.kind in ("signature", "timestamp") and (
                change.revision not in self.by_revision
                or self.by_revision[change.revision].problem is not None
            )
            if change.kind == "unsigned-field" or unverifiable:
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.unsigned_field_overlay",
                        f"after this signature, an unsigned signature field with its own "
                        f"appearance was added or changed ({name}; {who_en}): it can hide or "
                        "replace what was signed",
                        f"sau chữ ký này có ô chữ ký chưa ký mang hình hiển thị riêng được thêm "
                        f"hoặc sửa ({name}; {who_vi}): nó có thể che hoặc thay nội dung đã ký",
                    )
                )
            elif change.kind == "appearance":
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.appearance_replaced",
                        f"after this signature, the appearance of field {name} changed while "
                        f"its value did not ({who_en}): what is shown is not what was filled in",
                        f"sau chữ ký này, hình hiển thị của ô {name} bị thay đổi trong khi giá "
                        f"trị không đổi ({who_vi}): nội dung hiển thị không phải nội dung đã điền",
                    )
                )
            elif change.kind == "revealed":
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.annotation_revealed",
                        f"after this signature, a hidden {name} was made visible ({who_en})",
                        f"sau chữ ký này, một {name} đang ẩn đã bị cho hiện ra ({who_vi})",
                    )
                )
            elif change.kind == "hidden":
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.annotation_hidden",
                        f"after this signature, {name}, visible when signed, was hidden or "
                        f"taken off the page ({who_en}): what was signed no longer shows",
                        f"sau chữ ký này, {name} đang hiển thị khi ký đã bị ẩn hoặc gỡ khỏi "
                        f"trang ({who_vi}): nội dung đã ký không còn hiện ra",
                    )
                )
            elif signed_value_changed:
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.field_refilled",
                        f"after this signature, field {name}, which had a value when signed, "
                        f"was filled in again ({who_en}): the signed value was replaced",
                        f"sau chữ ký này, ô {name} đã có giá trị khi ký bị điền lại "
                        f"({who_vi}): giá trị đã ký bị thay thế",
                    )
                )
            elif change.kind == "form-defaults":
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.form_defaults_changed",
                        f"after this signature, the form's {name} changed ({who_en}): viewers "
                        "would redraw the fields differently from what was signed",
                        f"sau chữ ký này, {name} của biểu mẫu bị thay đổi ({who_vi}): phần mềm "
                        "xem sẽ vẽ lại các ô khác với nội dung đã ký",
                    )
                )
            elif change.kind == "timestamp":
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.timestamp_appearance",
                        f"a document timestamp added after this signature has a visible "
                        f"appearance ({name}; {who_en}): a timestamp paints nothing",
                        f"dấu thời gian văn bản thêm sau chữ ký này có hình hiển thị ({name}; "
                        f"{who_vi}): dấu thời gian không được vẽ gì lên văn bản",
                    )
                )
            elif change.kind == "signature" and change.flags & _UNBOUNDED:
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.signature_over_content",
                        f"a later signature's appearance ({name}; {who_en}) is drawn unrotated "
                        "or unzoomed (NoRotate/NoZoom): it can paint outside its box, over what "
                        "this signature signed",
                        f"hình hiển thị của chữ ký sau ({name}; {who_vi}) được vẽ không xoay "
                        "hoặc không thu phóng (NoRotate/NoZoom): nó có thể vẽ ra ngoài khung, "
                        "lên nội dung mà chữ ký này đã ký",
                    )
                )
            elif change.kind == "signature" and self._over_text(
                change, self._seal_on(change), signed=revision
            ):
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.signature_over_content",
                        f"the appearance of a later signature ({name}; {who_en}) covers text of "
                        "the page this signature signed",
                        f"hình hiển thị của chữ ký sau ({name}; {who_vi}) che lên chữ của trang "
                        "mà chữ ký này đã ký",
                    )
                )
            elif change.kind in ("fill", "refill", "large-fill") and self._over_text(
                change,
                images=False,  # a scanned form's fields lie on the scan
            ):
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.field_over_content",
                        f"after this signature, field {name} was filled in where its box covers "
                        f"text of the signed page ({who_en}): the filled value can hide or "
                        "replace what was signed",
                        f"sau chữ ký này, ô {name} được điền tại vị trí che lên chữ của trang đã "
                        f"ký ({who_vi}): giá trị điền vào có thể che hoặc thay nội dung đã ký",
                    )
                )
            elif change.kind in ("fill", "refill", "large-fill") and (
                change.kind == "large-fill" or change.large
            ):
                over = self._over_text(change)  # a scanned image under it
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.field_large_fill",
                        f"after this signature, field {name} was filled with more than a number "
                        "or a date (a box or a text too large, or an appearance that draws "
                        f"something other than its value; {who_en})"
                        + (": it covers the scanned page" if over else "")
                        + ": content added after signing",
                        f"sau chữ ký này, ô {name} được điền nhiều hơn một số hay một ngày tháng "
                        "(khung hoặc nội dung quá lớn, hoặc hình hiển thị khác với giá trị đã "
                        f"điền; {who_vi})"
                        + (": nó che lên trang scan đã ký" if over else "")
                        + ": nội dung được thêm sau khi ký",
                    )
                )
            elif change.kind == "annotation":
                notes.append(
                    make_finding(
                        "pdf.annotation_added",
                        f"after this signature, an annotation {name} was added or changed "
                        f"({who_en})",
                        f"sau chữ ký này, một chú thích {name} được thêm hoặc sửa ({who_vi})",
                        "warning",
                    )
                )
        if not any(f.code == "pdf.signature_over_content" for _, f in problems):
            together = self._covered_together(revision)
            if together is not None:
                problems.append(
                    make_problem(
                        AdESFailure.FORMAT_FAILURE,
                        "pdf.signature_over_content",
                        f"the appearances of later signatures ({together}) together cover text "
                        "of the page this signature signed",
                        f"hình hiển thị của các chữ ký sau ({together}) cùng nhau che lên chữ "
                        "của trang mà chữ ký này đã ký",
                    )
                )
        return problems, notes

    def _covered_together(self, revision: int) -> str | None:
        """The names of later signatures (not the Decree 30 seal) whose widgets, none enough
        alone, together cover a character (bands stacked, or strips side by side), half of a
        drawn path or image, or a widget visible when this signature was made."""
        later = [
            c
            for c in self.history.after(revision)
            if c.kind == "signature"
            and c.rect is not None
            and c.page is not None
            and self._seal_on(c) is None
        ]
        for page in sorted({c.page for c in later if c.page is not None}):
            here = [c for c in later if c.page == page]
            rects = [c.rect for c in here if c.rect is not None]
            if len(rects) < 2:
                continue
            texts, pictures, drawn = self._boxes(page)
            widgets = [
                box
                for shown_page, box, ref in self.history.shown.get(revision, ())
                if shown_page == page and ref not in {c.ref for c in here}
            ]
            hidden = any(_line_hidden(box, rects) for box in (*texts, *widgets)) or any(
                _area_hidden(box, rects) >= 0.5 for box in (*drawn, *pictures)
            )
            if hidden:
                return ", ".join(sorted({c.name for c in here}))
        return None

    def _see_through_image(self, ref: int | None) -> bool:
        """Whether the widget ``ref``'s appearance only places images whose masks let the
        ground through (a seal's transparent background): no text, no painted paths."""
        return self._seal_look(ref) is not None

    def _seal_look(self, ref: int | None) -> list[Placed] | None:
        """The see-through images the widget ``ref``'s appearance places (read once)."""
        if ref is None:
            return None
        if ref not in self._see_through:
            self._see_through[ref] = self._read_see_through(ref)
        return self._see_through[ref]

    def _read_see_through(self, ref: int) -> list[Placed] | None:
        try:
            if self._pages is None:
                self._pages = text_reader(self.data)
            widget: Any = self._pages.get_object(ref)
            if not hasattr(widget, "get"):
                return None
            look = widget["/AP"]["/N"].get_object()
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            rect = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            return seal_images(look, rect) if hasattr(look, "get") else None
        except BAD_INPUT:
            return None
        except Exception:  # hostile objects: no seal
            return None

    def _seal_hides(self, change: Change, box: Rect) -> bool:
        """Whether the seal ``change`` paints opaque pixels over most of the text ``box`` (a
        line of the signature block it may lie over only where its ground is transparent):
        points spread over the part of the line under the widget, each hidden where any of
        the seal's images is opaque there."""
        placed = self._seal_look(change.ref)
        if placed is None or change.rect is None:
            return True
        x0, y0 = max(box[0], change.rect[0]), max(box[1], change.rect[1])
        x1, y1 = min(box[2], change.rect[2]), min(box[3], change.rect[3])
        if not (x1 > x0 and y1 > y0):
            return False
        columns, rows = SEAL_PROBES
        hidden = sum(
            1
            for i in range(columns)
            for j in range(rows)
            if not all(
                p.clear_at(x0 + (i + 0.5) * (x1 - x0) / columns, y0 + (j + 0.5) * (y1 - y0) / rows)
                for p in placed
            )
        )
        return hidden >= SEAL_HIDES * columns * rows

    def _boxes(self, page: int) -> tuple[list[Rect], list[Rect], list[Rect]]:
        """The page's text and image boxes (read once)."""
        if page not in self._text:
            try:
                if self._pages is None:
                    self._pages = text_reader(self.data)
                self._text[page] = content_boxes(self._pages, page)
            except BAD_INPUT:
                everywhere = (float("-inf"), float("-inf"), float("inf"), float("inf"))
                self._text[page] = ([everywhere], [], [])
        return self._text[page]

    async def _signature_timestamp(
        self,
        embedded: EmbeddedPdfSignature,
        judged_at: datetime,
        findings: list[Finding],
        problems: list[tuple[SubIndication, Finding]],
    ) -> _Stamp | None:
        """The first signature timestamp that passes, else the last one's verdict.

        A token that is broken (issued for other data, a signature value that does not verify,
        unreadable) means the signature container was tampered with: the signature fails the
        same way, as in pyHanko's validation with time. A token that is intact but cannot be
        trusted (unknown TSA, revocation unknown, …) proves nothing and is set aside, as
        ETSI EN 319 102-1 §5.5 does with unusable tokens: the signature is judged without it.
        """
        try:
            signer_info = embedded.signer_info
            tokens = list(generic_cms.extract_tst_data_iter(signer_info, signed=False))
        except BAD_INPUT as exc:
            problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "time.timestamp_unreadable",
                    f"the signature timestamp cannot be read: {why(exc)}",
                    f"không đọc được dấu thời gian của chữ ký: {why(exc)}",
                )
            )
            return None
        stamp = None
        for token in tokens:
            stamp = await self._timestamp(
                token, generic_cms.message_imprint_checker(signer_info), judged_at
            )
            if stamp.passed:
                findings.extend(stamp.notes)
                return stamp
        if stamp is not None and stamp.sub is not None:
            first = stamp.reason
            if isinstance(stamp.sub, AdESFailure):
                problems.append(
                    (
                        stamp.sub,
                        Finding(
                            code=first.code,
                            en=f"the signature timestamp is forged or damaged: {first.en}",
                            vi=f"dấu thời gian của chữ ký bị giả mạo hoặc hư hỏng: {first.vi}",
                        ),
                    )
                )
            else:
                findings.append(
                    Finding(
                        code="time.timestamp_unusable",
                        severity="warning",
                        en="the signature timestamp cannot be verified and is not used as "
                        f"proof of the signing time: {first.en}",
                        vi="không kiểm tra được dấu thời gian của chữ ký nên không dùng làm bằng "
                        f"chứng về thời điểm ký: {first.vi}",
                    )
                )
        return stamp

    async def _timestamp(
        self,
        token: cms.SignedData,
        imprint: Callable[[str], bytes],
        judged_at: datetime,
    ) -> _Stamp:
        """An RFC 3161 token: its signature, its imprint, its TSA at ``judged_at``."""
        policy = self.policy
        try:
            tst_info = token["encap_content_info"]["content"].parsed
            if not isinstance(tst_info, tsp.TSTInfo):
                raise TypeError("the token does not hold a TSTInfo")
            gen_time: datetime = tst_info["gen_time"].native
            imprint_algorithm = str(
                tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native
            )
            hashed = bytes(tst_info["message_imprint"]["hashed_message"].native)
        except BAD_INPUT as exc:
            finding = make_finding(
                "time.timestamp_unreadable",
                f"the timestamp token cannot be read: {why(exc)}",
                f"không đọc được dấu thời gian: {why(exc)}",
            )
            return _Stamp(None, None, Crypto(), [(AdESFailure.FORMAT_FAILURE, finding)])
        crypto = await asyncio.to_thread(
            check_crypto, token, None, "tst_info", policy, self.contexts.canonical
        )
        self._keep_certs(crypto)
        problems = list(crypto.problems)
        stamp = _Stamp(gen_time, crypto.cert, crypto, problems, imprint_algorithm=imprint_algorithm)
        try:
            expected = imprint(imprint_algorithm)
        except BAD_INPUT:
            expected = None
        if expected is None or expected != hashed:
            problems.insert(
                0,
                (
                    AdESFailure.HASH_FAILURE,
                    make_finding(
                        "time.imprint_mismatch",
                        "the timestamp was issued for other data (its message imprint does "
                        "not match)",
                        "dấu thời gian được cấp cho dữ liệu khác (giá trị băm không khớp)",
                    ),
                ),
            )
        elif imprint_algorithm in policy.forbidden_digests:
            problems.append(
                make_problem(
                    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                    "crypto.not_accepted",
                    f"algorithm not accepted: the timestamp imprint uses {imprint_algorithm}",
                    f"thuật toán không được chấp nhận: dấu thời gian dùng {imprint_algorithm}",
                )
            )
        stamp.notes.extend(algorithm_findings(policy, imprint_algorithm))
        if not problems and crypto.cert is not None:
            trust = await self._judge(
                crypto.cert,
                crypto.other_certs,
                judged_at,
                TSA_KEY_USAGE,
                policy.revocation,
            )
            stamp.trust = trust
            if trust.sub is not None and trust.finding is not None:
                problems.append((trust.sub, trust.finding))
            elif trust.finding is not None:
                stamp.notes.append(trust.finding)
        return stamp

    async def _judge(
        self,
        cert: x509.Certificate,
        other_certs: tuple[x509.Certificate, ...],
        moment: datetime,
        usage: KeyUsageConstraints,
        mode: Literal["hard", "soft"],
        claimed: datetime | None = None,
    ) -> PathVerdict:
        """The certificate at ``moment``, its revocation status from the document and the
        caller's files first, then online, then (soft mode) unknown accepted. A fresh context
        for each attempt; most documents need only the first."""
        online = self.fetchers is not None
        attempts: list[tuple[bool, Literal["hard", "soft"]]] = [(False, "hard")]
        if online:
            attempts.append((True, "hard"))
        if mode == "soft":
            attempts.append((online, "soft"))
        trust = PathVerdict(None, None, None, RevocationInfo())
        for fetch, rule in attempts:
            trust = await self._judge_once(
                cert, other_certs, moment, usage, rule, claimed, online=fetch
            )
            if trust.sub is not AdESIndeterminate.TRY_LATER or (fetch, rule) == attempts[-1]:
                trust.revocation = self._revocation(cert, trust, fetch, rule)
                break
        if trust.context is not None and self.fetchers is not None:
            self._keep_fetched(trust.context)
        if trust.path is not None:
            with contextlib.suppress(*BAD_INPUT):
                self._certs.extend(c.dump() for c in trust.path.iter_certs(include_root=True))
        return trust

    async def _judge_once(
        self,
        cert: x509.Certificate,
        other_certs: tuple[x509.Certificate, ...],
        moment: datetime,
        usage: KeyUsageConstraints,
        rule: Literal["hard", "soft"],
        claimed: datetime | None,
        *,
        online: bool,
    ) -> PathVerdict:
        """One attempt; an offline one may come from the process's judgment cache."""
        scope = None
        if not online:
            scope = self.contexts.scope(
                cert,
                certs=other_certs,
                usage=usage,
                revocation=rule,
                retroactive_revinfo=True,
            )
            known = judgments.get(scope, moment, claimed)
            if known is not None:
                return known
        context = self.contexts.context(
            certs=other_certs,
            moment=moment,
            online=online,
            revocation=rule,
            retroactive_revinfo=True,
        )
        trust = await judge_certificate(cert, context, usage, moment, claimed=claimed)
        if scope is not None:
            judgments.put(scope, moment, trust, claimed)
        trust.context = context
        return trust

    def _revocation(
        self,
        cert: x509.Certificate,
        trust: PathVerdict,
        fetched: bool,
        rule: Literal["hard", "soft"],
    ) -> RevocationInfo:
        if fetched:
            source: Literal["embedded", "supplied", "online"] | None = "online"
        elif _mentions(cert, self.embedded):
            source = "embedded"
        elif self.policy.crls or self.policy.ocsp_responses:
            source = "supplied"
        else:
            source = None
        if trust.revocation.status == "revoked":
            return RevocationInfo(status="revoked", source=source, detail=trust.revocation.detail)
        if trust.sub is not None:
            return trust.revocation
        if not _declares_revocation(cert):
            return RevocationInfo(
                status="not-checked",
                detail="the certificate names no CRL or OCSP service",
            )
        if rule == "soft":
            trust.finding = revocation_unknown_accepted(None)
            return RevocationInfo(
                status="unknown",
                source=None,
                detail="no usable revocation data; accepted by the soft revocation policy",
            )
        return RevocationInfo(status="good", source=source)

    def _refine_with_content_timestamps(
        self,
        embedded: EmbeddedPdfSignature,
        cert: x509.Certificate,
        trust: PathVerdict,
        problems: list[tuple[SubIndication, Finding]],
    ) -> None:
        """A valid content timestamp proves the signature was made after its time: revoked or
        expired before that is a certainty (ETSI EN 319 102-1 §5.3.4)."""
        if trust.sub not in (
            AdESIndeterminate.REVOKED_NO_POE,
            AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        ):
            return
        try:
            tokens = list(generic_cms.extract_tst_data_iter(embedded.signer_info, signed=True))
        except BAD_INPUT:
            return
        for token in tokens:
            try:
                tst_info = token["encap_content_info"]["content"].parsed
                not_before: datetime = tst_info["gen_time"].native
            except BAD_INPUT:
                continue
            if trust.sub is AdESIndeterminate.REVOKED_NO_POE and trust.revoked_at is not None:
                if not_before >= trust.revoked_at:
                    problems.append(
                        make_problem(
                            AdESFailure.REVOKED,
                            "cert.revoked_before_signing",
                            f"a content timestamp proves the signature was made after "
                            f"{not_before.isoformat()}, when the certificate was already "
                            "revoked",
                            "dấu thời gian nội dung chứng minh chữ ký được tạo sau "
                            f"{not_before.isoformat()}, khi chứng thư số đã bị thu hồi",
                        )
                    )
                    return
            elif not_before >= cert.not_valid_after:
                problems.append(
                    make_problem(
                        AdESIndeterminate.EXPIRED,
                        "cert.expired_before_signing",
                        "a content timestamp proves the signature was made after the "
                        "certificate expired",
                        "dấu thời gian nội dung chứng minh chữ ký được tạo sau khi chứng thư "
                        "số hết hạn",
                    )
                )
                return

    def _seed_values(
        self, embedded: EmbeddedPdfSignature, trust: PathVerdict, stamp: _Stamp | None
    ) -> Finding | None:
        try:
            if embedded.seed_value_spec is None or trust.path is None:
                return None
            result = report_seed_value_validation(
                embedded, trust.path, timestamp_found=stamp is not None and stamp.passed
            )
            error = result.get("seed_value_constraint_error")
        except BAD_INPUT as exc:
            error = exc
        if error is None:
            return None
        return make_finding(
            "pdf.seed_value",
            f"the signature does not meet its field's constraints (seed value): {why(error)}",
            f"chữ ký không đáp ứng ràng buộc của trường chữ ký (seed value): {why(error)}",
        )

    # -- evidence -----------------------------------------------------------------------------

    def _tokens_of(self, embedded: EmbeddedPdfSignature) -> None:
        with contextlib.suppress(*BAD_INPUT):
            for attr in find_cms_attribute_iter(
                embedded.signer_info["unsigned_attrs"], "signature_time_stamp_token"
            ):
                self._tokens.append(attr.dump())

    def _keep_certs(self, crypto: Crypto) -> None:
        with contextlib.suppress(*BAD_INPUT):
            if crypto.cert is not None:
                self._certs.append(crypto.cert.dump())
            self._certs.extend(c.dump() for c in crypto.other_certs)

    def _keep_fetched(self, context: ValidationContext) -> None:
        with contextlib.suppress(*BAD_INPUT):
            self._crls.extend(c.dump() for c in context.crls)
            self._ocsps.extend(o.dump() for o in context.ocsps)


def _worst(problems: Sequence[tuple[SubIndication, Finding]]) -> SubIndication | None:
    """A TOTAL-FAILED sub-indication wins over an INDETERMINATE one; the first among equals."""
    failed = [s for s, _ in problems if isinstance(s, AdESFailure)]
    if failed:
        return failed[0]
    return problems[0][0] if problems else None


def _byte_range_unreadable(exc: Exception) -> Finding:
    return make_finding(
        "pdf.byte_range",
        f"the signature's /ByteRange cannot be used: {why(exc)}",
        f"không dùng được /ByteRange của chữ ký: {why(exc)}",
    )


def _name(cert: x509.Certificate | None) -> str:
    if cert is None:
        return ""
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[0] if cn else None
    return str(cn or cert.subject.human_friendly)


def _valid_at(
    cert: x509.Certificate | None, when: datetime, trust: PathVerdict | None
) -> bool | None:
    if cert is None:
        return None
    try:
        inside = cert.not_valid_before <= when <= cert.not_valid_after
    except BAD_INPUT:
        return None
    revoked = trust is not None and trust.revoked_at is not None and trust.revoked_at <= when
    return inside and not revoked


def _anchor_name(trust: PathVerdict | None) -> str | None:
    if trust is None or not trust.chained:
        return None
    anchor = trust.anchor
    return None if anchor is None else str(anchor.subject.human_friendly)


def _anchor_purpose(policy: ValidationPolicy, trust: PathVerdict | None) -> str | None:
    if trust is None or not trust.chained or trust.anchor is None:
        return None
    return policy.anchors.purpose_of(trust.anchor)
