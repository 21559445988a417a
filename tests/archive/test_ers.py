"""RFC 4998 evidence records (archive/ers.py): seals over trees of many sizes with the
development TSA over HTTP, tampering, both kinds of renewal, a time-travel run to 2045 with
three TSAs whose certificates expire one after another, and Bouncy Castle 1.72 as the second
opinion on every record we make."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from archive.errors import EvidenceInvalid, UsageError
from archive.ers import (
    EvidenceRecord,
    HashTreeRenewal,
    Judge,
    Seal,
    Timestamper,
    digest_file,
    renew_hash_tree,
    renew_timestamps,
    seal,
    timestamp_judge,
    verify,
)
from archive.hashtree import HashTree, hasher, root_of
from signing import HttpTimestamper
from signing.dev import DevPki, DevServices, Identity
from tests.archive.bouncycastle import BouncyCastle, compile_check
from validation import TrustAnchors

SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 100)
NOW = datetime.now(UTC).replace(microsecond=0)
LATER = datetime(2045, 1, 1, tzinfo=UTC)


def documents(n: int, tag: str = "") -> list[bytes]:
    return [f"Văn bản số {i}/{n}{tag} — bản lưu trữ.\n".encode() * (1 + i % 3) for i in range(n)]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@pytest.fixture(scope="session")
def bc(tmp_path_factory: pytest.TempPathFactory) -> BouncyCastle:
    return compile_check(tmp_path_factory.mktemp("ers-java"))


@pytest.fixture
async def dev_tsa(dev_services: DevServices, pki: DevPki) -> Iterator[Timestamper]:
    async with HttpTimestamper([dev_services.tsa_url]) as stamper:
        yield stamper.async_timestamp


def judge_for(*pkis: DevPki) -> Judge:
    return timestamp_judge(TrustAnchors({"public": tuple(p.root.asn1 for p in pkis)}))


def write_pairs(tmp: Path, records: list[bytes], docs: list[bytes]) -> list[tuple[Path, Path]]:
    pairs = []
    for i, (record, doc) in enumerate(zip(records, docs, strict=True)):
        (tmp / f"{i}.ers").write_bytes(record)
        (tmp / f"{i}.bin").write_bytes(doc)
        pairs.append((tmp / f"{i}.ers", tmp / f"{i}.bin"))
    return pairs


def bc_accepts_only_its_own(
    bc: BouncyCastle, tmp: Path, records: list[bytes], docs: list[bytes], at: datetime
) -> None:
    """BC accepts each record for its document and rejects it for the next document's bytes
    (and for the document with one byte changed)."""
    pairs = write_pairs(tmp, records, docs)
    assert bc.verdicts(pairs, at) == ["accepted"] * len(pairs)
    (tmp / "changed.bin").write_bytes(docs[0][:-1] + bytes([docs[0][-1] ^ 1]))
    wrong = [(pairs[i][0], pairs[(i + 1) % len(pairs)][1]) for i in range(len(pairs))]
    if len(pairs) == 1:
        wrong = []
    wrong.append((pairs[0][0], tmp / "changed.bin"))
    assert all(v.startswith("rejected") for v in bc.verdicts(wrong, at))


# -- the hash tree -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_tree_reduced_paths_lead_to_the_root(n: int) -> None:
    leaves = [sha256(d) for d in documents(n)]
    tree = HashTree.build(iter(leaves), "sha256")
    digest = hasher("sha256")
    for i, leaf in enumerate(leaves):
        reduced = tree.reduced(i)
        assert root_of(digest, reduced, leaf) == tree.root
        if n > 1:
            # the leaf alone first, then one sibling a level (binary)
            assert reduced[0] == [leaf] and all(len(lst) == 1 for lst in reduced)
    if n == 1:
        assert tree.root == leaves[0] and tree.reduced(0) == []
    # the root by the plain definition: pairs sorted and hashed, an odd node carried up
    level = leaves
    while len(level) > 1:
        nxt = [sha256(b"".join(sorted(level[i : i + 2]))) for i in range(0, len(level) - 1, 2)]
        level = nxt + (level[-1:] if len(level) % 2 else [])
    assert tree.root == level[0]


# -- sealing, DER, Bouncy Castle ----------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
async def test_seal_round_trip_and_bouncy_castle(
    n: int, dev_tsa: Timestamper, pki: DevPki, bc: BouncyCastle, tmp_path: Path
) -> None:
    calls: list[bytes] = []

    async def counting(digest: bytes, algorithm: str) -> cms.ContentInfo:
        calls.append(digest)
        return await dev_tsa(digest, algorithm)

    docs = documents(n)
    sealed = await seal((sha256(d) for d in docs), "sha256", counting)
    assert calls == [sealed.root] and len(sealed) == n
    records = list(sealed.records())
    # the hand-made DER is what asn1crypto makes of the RFC 4998 module
    for i in {0, n // 2, n - 1}:
        ats: dict[str, object] = {
            "digest_algorithm": {"algorithm": "sha256"},
            "time_stamp": cms.ContentInfo.load(sealed.token),
        }
        if n > 1:
            ats["reduced_hashtree"] = sealed.tree.reduced(i)
        expected = EvidenceRecord(
            {
                "version": 1,
                "digest_algorithms": [{"algorithm": "sha256"}],
                "archive_time_stamp_sequence": [[ats]],
            }
        ).dump()
        assert records[i] == expected
    judge = judge_for(pki)
    for i in {0, n - 1}:
        result = await verify(records[i], io.BytesIO(docs[i]), judge=judge)
        assert result.valid, result.findings
        assert result.proven_time == sealed.gen_time
        [check] = result.timestamps
        assert (check.chain, check.position, check.algorithm) == (1, 1, "sha256")
        assert check.judgment.indication == "TOTAL-PASSED"
    bc_accepts_only_its_own(bc, tmp_path, records, docs, NOW + timedelta(days=1))


async def test_document_as_path_and_as_digests(
    dev_tsa: Timestamper, pki: DevPki, tmp_path: Path
) -> None:
    docs = documents(3)
    sealed = await seal((sha256(d) for d in docs), "sha256", dev_tsa)
    path = tmp_path / "doc.bin"
    path.write_bytes(docs[1])
    assert digest_file(path) == sha256(docs[1])
    judge = judge_for(pki)
    assert (await verify(sealed.record(1), path, judge=judge)).valid
    by_digest = await verify(sealed.record(1), {"sha256": sha256(docs[1])}, judge=judge)
    assert by_digest.valid


# -- tampering ---------------------------------------------------------------------------------


@pytest.fixture
async def five(dev_tsa: Timestamper) -> tuple[Seal, list[bytes]]:
    docs = documents(5)
    return await seal((sha256(d) for d in docs), "sha256", dev_tsa), docs


async def test_other_document_fails(five: tuple[Seal, list[bytes]], pki: DevPki) -> None:
    sealed, docs = five
    result = await verify(sealed.record(0), io.BytesIO(docs[1]), judge=judge_for(pki))
    assert not result.valid and result.proven_time is None
    assert "ers.not_covered" in {f.code for f in result.findings}
    assert all(f.en and f.vi for f in result.findings)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


async def test_flipped_bytes_fail(five: tuple[Seal, list[bytes]], pki: DevPki) -> None:
    sealed, docs = five
    record = sealed.record(2)
    judge = judge_for(pki)
    sibling = sealed.tree.reduced(2)[1][0]
    mi = cms.ContentInfo.load(sealed.token)["content"]["encap_content_info"]["content"].parsed
    imprint = mi["message_imprint"]["hashed_message"].native
    targets = {
        "a sibling in the reduced tree": record.index(sibling) + 5,
        "the token's message imprint": record.index(imprint) + 3,
        "the token's signature": len(record) - 1,
    }
    for what, at in targets.items():
        result = await verify(_flip(record, at), io.BytesIO(docs[2]), judge=judge)
        assert not result.valid, what
    with pytest.raises(EvidenceInvalid) as info:
        await verify(record[:-40], io.BytesIO(docs[2]), judge=judge)
    assert info.value.vi and "RFC 4998" in info.value.en


async def test_removed_partial_hashtree_fails(
    five: tuple[Seal, list[bytes]], pki: DevPki, bc: BouncyCastle, tmp_path: Path
) -> None:
    sealed, docs = five
    judge = judge_for(pki)
    for drop in (0, -1):
        er = EvidenceRecord.load(sealed.record(0))
        ats = er["archive_time_stamp_sequence"][0][0]
        lists = [[h.native for h in lst] for lst in ats["reduced_hashtree"]]
        del lists[drop]
        broken = EvidenceRecord(
            {
                "version": 1,
                "digest_algorithms": [{"algorithm": "sha256"}],
                "archive_time_stamp_sequence": [
                    [
                        {
                            "digest_algorithm": {"algorithm": "sha256"},
                            "reduced_hashtree": lists,
                            "time_stamp": ats["time_stamp"],
                        }
                    ]
                ],
            }
        ).dump()
        result = await verify(broken, io.BytesIO(docs[0]), judge=judge)
        assert not result.valid
        (tmp_path / "broken.ers").write_bytes(broken)
        (tmp_path / "doc.bin").write_bytes(docs[0])
        assert not bc.accepts(
            tmp_path / "broken.ers", tmp_path / "doc.bin", NOW + timedelta(days=1)
        )


async def test_judge_checks_the_imprint_it_is_given(
    five: tuple[Seal, list[bytes]], pki: DevPki
) -> None:
    sealed, _ = five
    judge = judge_for(pki)
    assert (await judge(sealed.token, sealed.root, NOW + timedelta(hours=1))).passed
    wrong = await judge(sealed.token, sha256(b"other"), NOW + timedelta(hours=1))
    assert not wrong.passed
    assert (wrong.indication, wrong.sub_indication) == ("TOTAL-FAILED", "HASH_FAILURE")
    # a judge that trusts another root does not pass the token
    other = DevPki.generate("http://127.0.0.1:9", signers=())
    untrusted = await judge_for(other)(sealed.token, sealed.root, NOW + timedelta(hours=1))
    assert not untrusted.passed


async def test_one_algorithm_per_chain(
    dev_tsa: Timestamper, pki: DevPki, bc: BouncyCastle, tmp_path: Path
) -> None:
    docs = documents(1, "one")
    sealed = await seal([sha256(docs[0])], "sha256", dev_tsa)
    renewed = await renew_timestamps([sealed.record(0)], dev_tsa)
    [upgraded] = await renew_hash_tree(
        renewed, [hashlib.sha512(docs[0]).digest()], "sha512", dev_tsa
    )
    judge = judge_for(pki)
    assert (await verify(upgraded, io.BytesIO(docs[0]), judge=judge)).valid
    # a record handed back under another record's index is refused, not silently broken
    renewal = HashTreeRenewal("sha512")
    renewal.add(renewed[0], hashlib.sha512(docs[0]).digest())
    renewal.add(sealed.record(0), hashlib.sha512(docs[0]).digest())
    await renewal.run(dev_tsa)
    with pytest.raises(UsageError):
        renewal.renewed(1, renewed[0])
    assert (await verify(renewal.renewed(0, renewed[0]), io.BytesIO(docs[0]), judge=judge)).valid
    (tmp_path / "one").mkdir()
    bc_accepts_only_its_own(bc, tmp_path / "one", [upgraded], docs, NOW + timedelta(days=1))
    # the renewal in chain 1 claims SHA-512 while its chain is SHA-256
    er = EvidenceRecord.load(renewed[0])
    first, second = er["archive_time_stamp_sequence"][0]
    mixed = EvidenceRecord(
        {
            "version": 1,
            "digest_algorithms": er["digest_algorithms"],
            "archive_time_stamp_sequence": [
                [
                    first,
                    {
                        "digest_algorithm": {"algorithm": "sha512"},
                        "time_stamp": second["time_stamp"],
                    },
                ]
            ],
        }
    ).dump()
    result = await verify(mixed, io.BytesIO(docs[0]), judge=judge)
    assert not result.valid
    assert "ers.mixed_algorithms" in {f.code for f in result.findings}
    (tmp_path / "mixed.ers").write_bytes(mixed)
    (tmp_path / "doc.bin").write_bytes(docs[0])
    assert not bc.accepts(tmp_path / "mixed.ers", tmp_path / "doc.bin", NOW + timedelta(days=1))


async def test_record_without_digest_algorithm(
    dev_tsa: Timestamper, pki: DevPki, bc: BouncyCastle, tmp_path: Path
) -> None:
    """Bouncy Castle writes a one-document record with neither digestAlgorithm nor a reduced
    tree (the algorithm is the token's): we read, verify and renew such records too."""
    doc = documents(1, "bc")[0]
    token = await dev_tsa(sha256(doc), "sha256")
    record = EvidenceRecord(
        {
            "version": 1,
            "digest_algorithms": [{"algorithm": "sha256"}],
            "archive_time_stamp_sequence": [[{"time_stamp": token}]],
        }
    ).dump()
    judge = judge_for(pki)
    assert (await verify(record, io.BytesIO(doc), judge=judge)).valid
    [renewed] = await renew_timestamps([record], dev_tsa)
    result = await verify(renewed, io.BytesIO(doc), judge=judge)
    assert result.valid and len(result.timestamps) == 2
    for name, one in (("sealed", record), ("renewed", renewed)):
        (tmp_path / name).mkdir()
        bc_accepts_only_its_own(bc, tmp_path / name, [one], [doc], NOW + timedelta(1))


async def test_unsupported_algorithm_is_a_finding(dev_tsa: Timestamper, pki: DevPki) -> None:
    doc = documents(1, "sha1")[0]
    # SHA-1 on purpose: a record under an algorithm we no longer accept
    token = await dev_tsa(hashlib.sha1(doc).digest(), "sha1")  # noqa: S324
    record = EvidenceRecord(
        {
            "version": 1,
            "digest_algorithms": [{"algorithm": "sha1"}],
            "archive_time_stamp_sequence": [
                [{"digest_algorithm": {"algorithm": "sha1"}, "time_stamp": token}]
            ],
        }
    ).dump()
    result = await verify(record, io.BytesIO(doc), judge=judge_for(pki))
    assert not result.valid
    assert "ers.unsupported_algorithm" in {f.code for f in result.findings}
    assert not result.timestamps[0].covers


# -- renewal with the development TSA -----------------------------------------------------------


async def test_renewals_verify_and_bouncy_castle_accepts(
    dev_tsa: Timestamper, pki: DevPki, bc: BouncyCastle, tmp_path: Path
) -> None:
    first, second = documents(5, "a"), documents(3, "b")
    seal_a = await seal((sha256(d) for d in first), "sha256", dev_tsa)
    seal_b = await seal((sha256(d) for d in second), "sha256", dev_tsa)
    records = [*seal_a.records(), *seal_b.records()]
    docs = [*first, *second]
    calls: list[str] = []

    async def counting(digest: bytes, algorithm: str) -> cms.ContentInfo:
        calls.append(algorithm)
        return await dev_tsa(digest, algorithm)

    # two seals, one renewal call: a tree over the two last timestamps
    renewed = await renew_timestamps(records, counting)
    assert calls == ["sha256"]
    judge = judge_for(pki)
    for record, doc in zip(renewed, docs, strict=True):
        result = await verify(record, io.BytesIO(doc), judge=judge)
        assert result.valid, result.findings
        assert [(c.chain, c.position) for c in result.timestamps] == [(1, 1), (1, 2)]
        assert result.proven_time == result.timestamps[0].gen_time
    (tmp_path / "ts").mkdir()
    bc_accepts_only_its_own(bc, tmp_path / "ts", renewed, docs, NOW + timedelta(days=1))
    # hash-tree renewal under SHA-512, one call for all
    calls.clear()
    upgraded = await renew_hash_tree(
        renewed, [hashlib.sha512(d).digest() for d in docs], "sha512", counting
    )
    assert calls == ["sha512"]
    for record, doc in zip(upgraded, docs, strict=True):
        er = EvidenceRecord.load(record)
        assert [a["algorithm"].native for a in er["digest_algorithms"]] == ["sha256", "sha512"]
        result = await verify(record, io.BytesIO(doc), judge=judge)
        assert result.valid, result.findings
        assert [(c.chain, c.algorithm) for c in result.timestamps] == [
            (1, "sha256"),
            (1, "sha256"),
            (2, "sha512"),
        ]
    (tmp_path / "ht").mkdir()
    bc_accepts_only_its_own(bc, tmp_path / "ht", upgraded, docs, NOW + timedelta(days=1))
    # and once more: a timestamp renewal of the SHA-512 chain
    again = await renew_timestamps(upgraded[:2], counting)
    assert calls == ["sha512", "sha512"]
    for record, doc in zip(again, docs[:2], strict=True):
        assert (await verify(record, io.BytesIO(doc), judge=judge)).valid
    (tmp_path / "again").mkdir()
    bc_accepts_only_its_own(bc, tmp_path / "again", again, docs[:2], NOW + timedelta(days=1))
    # a swapped chain: the SHA-512 chain first
    er = EvidenceRecord.load(upgraded[0])
    chains = list(er["archive_time_stamp_sequence"])
    swapped = EvidenceRecord(
        {
            "version": 1,
            "digest_algorithms": er["digest_algorithms"],
            "archive_time_stamp_sequence": [chains[1], chains[0]],
        }
    ).dump()
    result = await verify(swapped, io.BytesIO(docs[0]), judge=judge)
    assert not result.valid
    (tmp_path / "swapped.ers").write_bytes(swapped)
    (tmp_path / "doc.bin").write_bytes(docs[0])
    assert not bc.accepts(tmp_path / "swapped.ers", tmp_path / "doc.bin", NOW + timedelta(days=1))


# -- time travel ---------------------------------------------------------------------------------


def _stamper(tsa: Identity, chain: list[x509.Certificate], at: datetime) -> Timestamper:
    certs = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
    stamper = DummyTimeStamper(
        tsa_cert=tsa.asn1,
        tsa_key=tsa.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs(certs),
        fixed_dt=at,
    )
    return stamper.async_timestamp  # type: ignore[no-any-return]


def _long_lived_tsa(pki: DevPki, until: datetime) -> Identity:
    """A TSA certificate from ``pki``'s root, valid until ``until`` (the development PKI's own
    TSA lives five years)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lienthong Test TSA 2031")])
        )
        .issuer_name(pki.root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.created - timedelta(days=30))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.root.key.public_key()),
            critical=False,
        )
        .sign(pki.root.key, hashes.SHA256())
    )
    return Identity(key, cert)


async def test_time_travel_to_2045(bc: BouncyCastle, tmp_path: Path) -> None:
    # TSA 1 expires 2027-06; TSA 2 (2027-2032) renews in 2027-03; TSA 3 (to 2046) re-hashes
    # under SHA-512 in 2031-06, while TSA 2 is still valid.
    pki1 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2022, 6, 1, tzinfo=UTC))
    pki2 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2027, 3, 1, tzinfo=UTC))
    pki3 = DevPki.generate("http://127.0.0.1:9", signers=(), now=datetime(2031, 6, 1, tzinfo=UTC))
    tsa3 = _long_lived_tsa(pki3, datetime(2046, 1, 1, tzinfo=UTC))
    assert pki1.tsa.cert.not_valid_after_utc.year == 2027
    ts1 = _stamper(pki1.tsa, [pki1.issuing.cert, pki1.root.cert], NOW)
    ts2 = _stamper(pki2.tsa, [pki2.issuing.cert, pki2.root.cert], datetime(2027, 3, 1, tzinfo=UTC))
    ts3 = _stamper(tsa3, [pki3.root.cert], datetime(2031, 6, 1, tzinfo=UTC))
    judge = judge_for(pki1, pki2, pki3)

    docs = documents(4, "tt")
    sealed = await seal((sha256(d) for d in docs), "sha256", ts1)
    records = list(sealed.records())
    renewed = await renew_timestamps(records, ts2)
    final = await renew_hash_tree(
        renewed, [hashlib.sha512(d).digest() for d in docs], "sha512", ts3
    )

    for record, doc in zip(final, docs, strict=True):
        result = await verify(record, io.BytesIO(doc), judge=judge, at=LATER)
        assert result.valid, result.findings
        assert result.proven_time == sealed.gen_time == NOW
        assert [c.judged_at for c in result.timestamps] == [
            datetime(2027, 3, 1, tzinfo=UTC),
            datetime(2031, 6, 1, tzinfo=UTC),
            LATER,
        ]
        assert all(c.judgment.passed for c in result.timestamps)
    bc_accepts_only_its_own(bc, tmp_path, final, docs, LATER)

    # without the timestamp renewal: TSA 1 had expired when the SHA-512 chain was made
    skipped = await renew_hash_tree(
        records, [hashlib.sha512(d).digest() for d in docs], "sha512", ts3
    )
    result = await verify(skipped[0], io.BytesIO(docs[0]), judge=judge, at=LATER)
    assert not result.valid and result.proven_time is None
    first = result.timestamps[0]
    assert first.covers and not first.judgment.passed
    assert "ers.timestamp_not_valid" in {f.code for f in result.findings}
    # without the hash-tree renewal: TSA 2's certificate has expired by 2045
    result = await verify(renewed[0], io.BytesIO(docs[0]), judge=judge, at=LATER)
    assert not result.valid
    assert [c.judgment.passed for c in result.timestamps] == [True, False]
    # the seal alone, judged in 2045
    assert not (await verify(records[0], io.BytesIO(docs[0]), judge=judge, at=LATER)).valid


# -- scale ---------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_100k_leaves(
    dev_tsa: Timestamper, pki: DevPki, capsys: pytest.CaptureFixture[str]
) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000)]
    start = time.perf_counter()
    tree = HashTree.build(leaves, "sha256")
    built = time.perf_counter() - start
    assert len(tree) == 100_000
    sealed = await seal(leaves, "sha256", dev_tsa)
    start = time.perf_counter()
    total = sum(len(r) for r in sealed.records())
    made = time.perf_counter() - start
    rate = len(sealed) / made
    with capsys.disabled():
        print(
            f"\nERS 100k leaves: tree {built:.3f} s; {rate:,.0f} records/s "
            f"(average {total / len(sealed):,.0f} bytes)"
        )
    assert rate > 2_000
    records = [sealed.record(i) for i in range(0, 100_000, 10)]
    start = time.perf_counter()
    renewed = await renew_timestamps(records, dev_tsa)
    renewing = time.perf_counter() - start
    with capsys.disabled():
        print(f"ERS timestamp renewal: {len(records) / renewing:,.0f} records/s")
    assert len(renewed) == len(records)
    doc = (100_000 - 1).to_bytes(4, "big")
    result = await verify(sealed.record(99_999), io.BytesIO(doc), judge=judge_for(pki))
    assert result.valid, result.findings
