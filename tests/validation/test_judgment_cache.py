"""The certificate judgments kept across documents (validation/judgments.py): the same signer
again is a hit, another time bucket, trust set, policy or revocation data is a miss, and a
revocation is never masked by a "good" remembered from before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

from signing import XmlSignatureSpec, sign_xml
from signing.dev.pki import DevPki
from signing.dev.services import DevServices
from tests.validation.test_pdf import codes, crls_at, fresh_signer, only, sign, trusting
from validation import TrustAnchors, ValidationPolicy, validate_bytes
from validation.certificates import PathVerdict
from validation.judgments import (
    TIME_TOLERANCE,
    JudgmentCache,
    Scope,
    _Entry,
    boundaries,
    judgments,
)
from validation.pdf import validate_pdf
from validation.report import RevocationInfo


def _counts() -> tuple[int, int]:
    return judgments.hits, judgments.misses


def _quiet_moment(pki: DevPki) -> datetime:
    """A moment hours away from every revocation date of the session's CRL (other tests
    revoke their signers around now, and every date of a CRL bounds the time buckets)."""
    now = datetime.now(UTC).replace(microsecond=0)
    for hours in range(3, 24 * 20):
        moment = now - timedelta(hours=hours)
        if all(abs(moment - when) > timedelta(hours=2) for when in pki.revoked.values()):
            return moment
    raise AssertionError("no quiet moment")


async def test_the_same_signer_in_another_document_is_a_hit(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    name = fresh_signer(pki, "cache-hit")
    first = await sign(pki, dev_services, sample_pdf, key=name)
    now = _quiet_moment(pki)
    # another document, signed (by its own clock) at another time
    second = await sign(
        pki,
        dev_services,
        sample_pdf + b"\n% another document\n",
        key=name,
        clock=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30),
    )
    crls = crls_at(pki, now)
    policy = trusting(pki, offline=True, crls=crls, validation_time=now)
    hits, misses = _counts()
    report = only(await validate_pdf(first, policy))
    assert report.indication is AdESStatus.PASSED, report.findings
    assert _counts() == (hits, misses + 1)  # judged, and remembered
    # another document of the same signer, a minute later: the same bucket
    later = trusting(pki, offline=True, crls=crls, validation_time=now + timedelta(minutes=1))
    again = only(await validate_pdf(second, later))
    assert _counts() == (hits + 1, misses + 1)
    assert again.indication is AdESStatus.PASSED
    assert again.revocation == report.revocation
    assert again.trust_anchor == report.trust_anchor
    assert again.best_signature_time == now + timedelta(minutes=1)
    assert again.claimed_signing_time != report.claimed_signing_time


async def test_another_trust_set_or_policy_is_a_miss(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    name = fresh_signer(pki, "cache-miss")
    signed = await sign(pki, dev_services, sample_pdf, key=name)
    now = datetime.now(UTC).replace(microsecond=0)
    crls = crls_at(pki, now)
    policy = trusting(pki, offline=True, crls=crls, validation_time=now)
    assert only(await validate_pdf(signed, policy)).indication is AdESStatus.PASSED
    variants = {
        "trust set": ValidationPolicy(
            anchors=TrustAnchors({"public": (pki.root.asn1,), "other": (pki.issuing.asn1,)}),
            offline=True,
            crls=crls,
            validation_time=now,
        ),
        "algorithms": trusting(
            pki,
            offline=True,
            crls=crls,
            validation_time=now,
            forbidden_digests=frozenset({"md2", "md5", "sha1"}),
        ),
        "revocation data": trusting(
            pki, offline=True, crls=crls_at(pki, now - timedelta(minutes=1)), validation_time=now
        ),
    }
    for label, variant in variants.items():
        hits, misses = _counts()
        report = only(await validate_pdf(signed, variant))
        assert judgments.hits == hits, label
        assert judgments.misses > misses, label
        if label == "trust set":
            # the issuing CA as an anchor gives another path, and here another verdict
            assert report.indication is not AdESStatus.PASSED
        else:
            assert report.indication is AdESStatus.PASSED, (label, report.findings)


async def test_a_revocation_is_never_masked(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """Good before the revocation date (remembered), revoked after it with the very same
    CRL: the revocation date bounds the bucket. And a newer CRL is other revocation data."""
    name = fresh_signer(pki, "cache-revoked")
    signed = await sign(pki, dev_services, sample_pdf, key=name)
    now = datetime.now(UTC).replace(microsecond=0)
    revoked_at = now + timedelta(minutes=10)
    pki.revoke(name, at=revoked_at)
    crls = crls_at(pki, now)  # already lists the coming revocation

    def at(moment: datetime) -> object:
        return trusting(pki, offline=True, crls=crls, validation_time=moment)

    before = only(await validate_pdf(signed, at(revoked_at - timedelta(minutes=5))))
    assert before.indication is AdESStatus.PASSED, before.findings
    assert only(await validate_pdf(signed, at(revoked_at - timedelta(minutes=4)))).indication is (
        AdESStatus.PASSED
    )
    messages = set()
    for minutes in (1, 2, 1):
        moment = revoked_at + timedelta(minutes=minutes)
        after = only(await validate_pdf(signed, at(moment)))
        assert after.sub_indication is AdESIndeterminate.REVOKED_NO_POE
        assert after.revocation.status == "revoked"
        messages.add(next(f.en for f in after.findings if f.code == "cert.revoked"))
    # a failure is remembered for its exact moment only (its message names that moment)
    assert len(messages) == 2
    # right at the revocation date a CRL entry does not count yet (the validator's rule for
    # CRLs: revoked strictly before the moment); a microsecond later it does
    assert only(await validate_pdf(signed, at(revoked_at))).indication is AdESStatus.PASSED
    just_after = only(await validate_pdf(signed, at(revoked_at + timedelta(microseconds=1))))
    assert just_after.sub_indication is AdESIndeterminate.REVOKED_NO_POE
    # a good remembered with the old CRL never answers for a newer one that says revoked
    other = fresh_signer(pki, "cache-revoked-later")
    signed_other = await sign(pki, dev_services, sample_pdf, key=other)
    old_crls = crls_at(pki, now)
    policy = trusting(pki, offline=True, crls=old_crls, validation_time=now)
    assert only(await validate_pdf(signed_other, policy)).indication is AdESStatus.PASSED
    pki.revoke(other, at=now - timedelta(minutes=1))
    newer = trusting(pki, offline=True, crls=crls_at(pki, now), validation_time=now)
    report = only(await validate_pdf(signed_other, newer))
    # (signed, by its own clock, after the revocation: TOTAL-FAILED / REVOKED)
    assert report.indication is AdESStatus.FAILED
    assert report.revocation.status == "revoked"
    assert "cert.revoked" in codes(report)


def test_buckets_split_at_every_boundary(pki: DevPki) -> None:
    cert = pki.root.asn1
    points = boundaries([cert], TIME_TOLERANCE)
    start = cert.not_valid_before
    assert {start - TIME_TOLERANCE, start, start + TIME_TOLERANCE} <= set(points)
    entry = _Entry(points)
    inside = start + timedelta(hours=2)
    assert entry.bucket(inside) == entry.bucket(inside + timedelta(minutes=3))
    assert entry.bucket(start) != entry.bucket(start + timedelta(microseconds=1))
    assert entry.bucket(start) != entry.bucket(start - timedelta(microseconds=1))
    assert entry.bucket(start - timedelta(microseconds=1)) != entry.bucket(
        start + timedelta(microseconds=1)
    )


def test_the_cache_is_bounded() -> None:
    cache = JudgmentCache(max_scopes=3)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(5):
        scope = Scope(digest=bytes([i]) * 32, materials=())
        cache.put(scope, moment, PathVerdict(None, None, None, RevocationInfo()))
    assert len(cache) == 3
    assert cache.get(Scope(digest=bytes([0]) * 32, materials=()), moment) is None
    assert cache.get(Scope(digest=bytes([4]) * 32, materials=()), moment) is not None


async def test_a_remembered_revocation_keeps_each_documents_claimed_time(
    pki: DevPki, dev_services: DevServices, sample_pdf: bytes
) -> None:
    """One revoked signer, one CRL, one moment: a document that claims to be signed before the
    revocation is REVOKED_NO_POE, one that claims a time after it is TOTAL-FAILED / REVOKED,
    whichever of them was judged first."""
    name = fresh_signer(pki, "cache-claimed")
    now = datetime.now(UTC).replace(microsecond=0)
    pki.revoke(name, at=now - timedelta(hours=1))
    early = await sign(pki, dev_services, sample_pdf, key=name, clock=now - timedelta(hours=2))
    late = await sign(pki, dev_services, sample_pdf, key=name, clock=now - timedelta(minutes=5))
    policy = trusting(pki, offline=True, crls=crls_at(pki, now), validation_time=now)
    for _ in range(2):
        assert only(await validate_pdf(early, policy)).sub_indication is (
            AdESIndeterminate.REVOKED_NO_POE
        )
        assert only(await validate_pdf(late, policy)).sub_indication is AdESFailure.REVOKED


async def test_xml_signatures_share_the_judgments_and_never_mask_a_revocation(
    pki: DevPki,
) -> None:
    name = fresh_signer(pki, "cache-xml")
    document = b"<?xml version='1.0' encoding='UTF-8'?><vb><so>12</so></vb>"
    signed = await sign_xml(document, pki.in_memory_key(name), XmlSignatureSpec())
    now = _quiet_moment(pki)
    revoked_at = now + timedelta(minutes=10)
    pki.revoke(name, at=revoked_at)
    crls = crls_at(pki, now)

    def at(moment: datetime) -> ValidationPolicy:
        return trusting(pki, offline=True, crls=crls, validation_time=moment)

    hits, misses = _counts()
    first = await validate_bytes(signed, at(now))
    assert first.indication is AdESStatus.PASSED, first.signatures[0].findings
    assert _counts() == (hits, misses + 1)
    again = await validate_bytes(signed, at(now + timedelta(minutes=1)))
    assert again.indication is AdESStatus.PASSED
    assert _counts() == (hits + 1, misses + 1)
    after = await validate_bytes(signed, at(revoked_at + timedelta(minutes=1)))
    assert after.signatures[0].sub_indication is AdESIndeterminate.REVOKED_NO_POE
    assert after.signatures[0].revocation.status == "revoked"
    assert _counts()[1] == misses + 2  # another bucket: judged again
