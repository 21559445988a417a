"""RFC 3161 timestamps (.tsr): tokens from the development TSA over HTTP, tokens made to break
the rules (wrong data, wrong TSA certificate, back-dated, MD5), and the ``tsp/`` rows of the
shared corpus. ``openssl ts -verify`` is the second opinion."""

from __future__ import annotations

import csv
import hashlib
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import pem, tsp
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.dev.pki import DevPki, Identity
from signing.dev.services import DevServices
from tests.plugin import corpus_available, corpus_dir, corpus_params
from tests.validation.test_cms import make_twin, with_certificates
from validation.document import detect_format, validate_bytes
from validation.policy import TrustAnchors, ValidationPolicy, load_certificates
from validation.report import INDICATION_NAMES, Role, SignatureReport, Unparseable, people_time
from validation.tsp import TimeStampResp, is_timestamp_reply, validate_timestamp

DATA = "Biên bản họp ngày 28/11/2026 — bản lưu.\n".encode()


def _policy(pki: DevPki, **kw: Any) -> ValidationPolicy:
    return replace(ValidationPolicy(anchors=TrustAnchors({"public": (pki.root.asn1,)})), **kw)


def _offline(pki: DevPki, **kw: Any) -> ValidationPolicy:
    return _policy(pki, offline=True, crls=(pki.crl("issuing"), pki.crl("root")), **kw)


def _one(signatures: tuple[SignatureReport, ...]) -> SignatureReport:
    [sig] = signatures
    return sig


def _codes(sig: SignatureReport) -> set[str]:
    return {f.code for f in sig.findings}


def request_token(dev_services: DevServices, tmp_path: Path, data: bytes = DATA) -> bytes:
    """A reply of the development TSA, asked the way any client asks: openssl's query over
    HTTP."""
    (tmp_path / "data").write_bytes(data)
    subprocess.run(
        [
            "openssl",
            "ts",
            "-query",
            "-data",
            str(tmp_path / "data"),
            "-sha256",
            "-cert",
            "-out",
            str(tmp_path / "q.tsq"),
        ],
        check=True,
        capture_output=True,
    )
    resp = httpx.post(
        dev_services.tsa_url,
        content=(tmp_path / "q.tsq").read_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        timeout=10,
    )
    resp.raise_for_status()
    return resp.content


def openssl_ts_verify(
    tmp_path: Path,
    reply: bytes,
    data: bytes,
    ca_file: Path,
    *,
    untrusted: Path | None = None,
    at: datetime | None = None,
    token: bool = False,
) -> bool:
    (tmp_path / "verify.tsr").write_bytes(reply)
    (tmp_path / "verify.data").write_bytes(data)
    proc = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-in",
            str(tmp_path / "verify.tsr"),
            *(("-token_in",) if token else ()),
            "-data",
            str(tmp_path / "verify.data"),
            "-CAfile",
            str(ca_file),
            *(("-untrusted", str(untrusted)) if untrusted else ()),
            *(("-attime", str(int(at.timestamp()))) if at else ()),
        ],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0 and b"Verification: OK" in proc.stdout


def dummy_reply(
    tsa: Identity,
    pki: DevPki,
    data: bytes = DATA,
    *,
    md: str = "sha256",
    at: datetime | None = None,
) -> bytes:
    """A reply signed in-process by ``tsa`` (any key, any time): for the rule-breaking cases."""
    stamper = DummyTimeStamper(
        tsa_cert=tsa.asn1,
        tsa_key=tsa.asn1_key,
        certs_to_embed=SimpleCertificateStore.from_certs([pki.issuing.asn1, pki.root.asn1]),
        fixed_dt=at,
    )
    _, req = stamper.request_cms(hashlib.new(md, data).digest(), md)
    return bytes(stamper.request_tsa_response(req).dump())


# -- the development TSA ------------------------------------------------------------------------


async def test_dev_tsa_reply_passes(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    reply = request_token(dev_services, tmp_path)
    assert detect_format(reply) == "tsr"
    outcome = await validate_timestamp(reply, _policy(pki), detached_data=DATA)
    s = _one(outcome.signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.PASSED, None), s.findings
    assert (s.id, s.kind, s.role) == ("timestamp-1", "timestamp-token", Role.TIMESTAMP)
    assert s.timestamp is not None and s.timestamp.valid
    assert s.timestamp.kind == "content-timestamp"
    assert abs(s.timestamp.time - datetime.now(UTC)) < timedelta(minutes=1)
    assert "Lienthong Dev TSA" in s.timestamp.tsa
    assert s.signer is not None and s.signer.common_name == "Lienthong Dev TSA"
    assert (s.integrity, s.signature_valid, s.trusted) == (True, True, True)
    assert s.trust_purpose == "public"
    assert s.revocation.status == "good" and s.revocation.source == "online"
    assert s.digest_algorithm == "sha256"
    assert len(outcome.evidence.timestamp_tokens) == 1
    assert pki.tsa.asn1.dump() in outcome.evidence.certificates
    assert openssl_ts_verify(tmp_path, reply, DATA, pki_files / "root.pem")
    report = await validate_bytes(reply, _policy(pki), name="x.tsr", detached_data=DATA)
    assert report.indication is AdESStatus.PASSED
    assert not report.legal.valid  # a timestamp is not a signature of anybody


async def test_wrong_data_is_hash_failure(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    reply = request_token(dev_services, tmp_path)
    other = DATA.replace(b"28/11", b"29/11")
    s = _one((await validate_timestamp(reply, _offline(pki), detached_data=other)).signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)
    assert s.integrity is False and "tsp.imprint_mismatch" in _codes(s)
    assert s.timestamp is not None and not s.timestamp.valid
    assert not openssl_ts_verify(tmp_path, reply, other, pki_files / "root.pem")


async def test_without_data_the_imprint_is_not_checked(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    reply = request_token(dev_services, tmp_path)
    report = await validate_bytes(reply, _offline(pki), name="x.tsr")
    s = _one(report.signatures)
    assert (report.indication, report.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
    )
    assert s.integrity is None and s.signature_valid is True and s.trusted is True
    assert "tsp.data_missing" in _codes(s)
    [missing] = [f for f in s.findings if f.code == "tsp.data_missing"]
    assert "imprint" in missing.en and "imprint" in missing.vi


async def test_bare_token(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    reply = request_token(dev_services, tmp_path)
    (tmp_path / "reply.tsr").write_bytes(reply)
    subprocess.run(
        [
            "openssl",
            "ts",
            "-reply",
            "-in",
            str(tmp_path / "reply.tsr"),
            "-token_out",
            "-out",
            str(tmp_path / "token.der"),
        ],
        check=True,
        capture_output=True,
    )
    token = (tmp_path / "token.der").read_bytes()
    assert detect_format(token) == "tsr"
    report = await validate_bytes(token, _offline(pki), name="t.der", detached_data=DATA)
    assert report.indication is AdESStatus.PASSED, report.signatures[0].findings
    assert openssl_ts_verify(tmp_path, token, DATA, pki_files / "root.pem", token=True)


async def test_offline_makes_no_request(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    reply = request_token(dev_services, tmp_path)
    before = len(dev_services.requests)
    supplied = _one((await validate_timestamp(reply, _offline(pki), detached_data=DATA)).signatures)
    assert supplied.passed, supplied.findings
    assert supplied.revocation.status == "good" and supplied.revocation.source == "supplied"
    hard = _one(
        (await validate_timestamp(reply, _policy(pki, offline=True), detached_data=DATA)).signatures
    )
    assert hard.indication is AdESStatus.INDETERMINATE
    assert hard.revocation.status == "unknown"
    soft = _one(
        (
            await validate_timestamp(
                reply, _policy(pki, offline=True, revocation="soft"), detached_data=DATA
            )
        ).signatures
    )
    assert soft.passed and "cert.revocation_unknown_accepted" in _codes(soft)
    assert len(dev_services.requests) == before


# -- replies that break the rules --------------------------------------------------------------


def _refusal() -> bytes:
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": ["unsupported algorithm"],
            "fail_info": tsp.PKIFailureInfo({"bad_alg"}),
        }
    )
    return bytes(TimeStampResp({"status": status}).dump())


async def test_refused_reply_holds_no_timestamp(pki: DevPki) -> None:
    refusal = _refusal()
    assert is_timestamp_reply(refusal)
    outcome = await validate_timestamp(refusal, _offline(pki), detached_data=DATA)
    assert outcome.signatures == ()  # the document: INDETERMINATE / SIGNED_DATA_NOT_FOUND
    [finding] = outcome.findings
    assert finding.code == "tsp.refused" and "bad_alg" in finding.en
    assert "từ chối" in finding.vi


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x30\x00",
        b"\x30\x03\x02\x01\x00",
        TimeStampResp({"status": {"status": "granted"}}).dump(),  # granted, no token
        b"plain text",
    ],
)
async def test_unparseable(pki: DevPki, garbage: bytes) -> None:
    with pytest.raises(Unparseable) as info:
        await validate_timestamp(garbage, _offline(pki), detached_data=DATA)
    assert info.value.finding.code == "tsp.unparseable"


async def test_damaged_reply_is_sig_crypto_failure(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    reply = tsp.TimeStampResp.load(request_token(dev_services, tmp_path))
    signer_info = reply["time_stamp_token"]["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[10] ^= 0x80
    signer_info["signature"] = bytes(value)
    damaged = reply.dump(force=True)
    s = _one((await validate_timestamp(damaged, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.FAILED,
        AdESFailure.SIG_CRYPTO_FAILURE,
    )


async def test_tsa_without_time_stamping_usage(pki: DevPki) -> None:
    """A token signed by an ordinary signer's key: RFC 3161 §2.3 wants the critical
    timeStamping extended key usage."""
    reply = dummy_reply(pki.signers["agency"], pki)
    s = _one((await validate_timestamp(reply, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
    )
    assert "tsp.tsa_key_usage" in _codes(s)


async def test_backdated_token_is_not_yet_valid(pki: DevPki) -> None:
    """A genTime before the TSA certificate existed: the TSA key signed a lie."""
    not_before = pki.tsa.asn1["tbs_certificate"]["validity"]["not_before"].native
    reply = dummy_reply(pki.tsa, pki, at=not_before - timedelta(days=1))
    s = _one((await validate_timestamp(reply, _offline(pki), detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.NOT_YET_VALID)
    assert "tsp.time_outside_certificate" in _codes(s)


async def test_expired_tsa_without_later_proof(pki: DevPki) -> None:
    reply = dummy_reply(pki.tsa, pki)
    not_after = pki.tsa.asn1["tbs_certificate"]["validity"]["not_after"].native
    policy = _policy(
        pki, offline=True, revocation="soft", validation_time=not_after + timedelta(days=1)
    )
    s = _one((await validate_timestamp(reply, policy, detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    )
    # judged while the TSA certificate was valid, the same token passes
    earlier = replace(policy, validation_time=not_after - timedelta(days=1))
    assert _one((await validate_timestamp(reply, earlier, detached_data=DATA)).signatures).passed


async def test_md5_imprint_is_not_acceptable(pki: DevPki) -> None:
    reply = dummy_reply(pki.tsa, pki, md="md5")
    s = _one((await validate_timestamp(reply, _offline(pki), detached_data=DATA)).signatures)
    assert s.indication is AdESStatus.INDETERMINATE
    assert s.sub_indication is AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE


async def test_sha1_imprint_passes_with_a_warning(pki: DevPki) -> None:
    reply = dummy_reply(pki.tsa, pki, md="sha1")
    s = _one((await validate_timestamp(reply, _offline(pki), detached_data=DATA)).signatures)
    assert s.passed, s.findings
    assert "crypto.weak_digest" in _codes(s)


# -- the shared corpus -------------------------------------------------------------------------

_CLASSES = {
    AdESStatus.PASSED: "VALID",
    AdESStatus.FAILED: "INVALID",
    AdESStatus.INDETERMINATE: "INDETERMINATE",
}
# What each row must say beyond its class, where the class alone is not the whole story.
_EXPECTED_SUB: dict[str, AdESFailure | AdESIndeterminate] = {
    "sigstage/response-invalid-signature.tsr": AdESFailure.SIG_CRYPTO_FAILURE,
    "sigstage/response-sha256.tsr+hellO.bin": AdESFailure.HASH_FAILURE,
    "sigstage/response-no-embedded-cert.tsr+ts_root.pem": (
        AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
    ),
    "sigstore.mock/response-expired.tsr@2026": AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
}


def _tsp_rows() -> list[dict[str, str]]:
    # the same place as the ``corpus`` fixture; parametrize needs the rows before fixtures
    if not corpus_available():
        return []
    root = corpus_dir()
    with (root / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["path"].startswith("tsp/")]


def _row_id(row: dict[str, str]) -> str:
    data = row["notes"].split()[0].removeprefix("data=").rstrip(".").rsplit("/", 1)[-1]
    anchor = row["trust_anchor"].rsplit("/", 1)[-1]
    path = row["path"].removeprefix("tsp/rfc3161-client/")
    return f"{path}+{data}+{anchor}@{row['validation_time'][:4]}"


def _sub_for(key: str) -> AdESFailure | AdESIndeterminate | None:
    path, data, anchor_at = key.split("+")
    anchor, year = anchor_at.split("@")
    for probe in (f"{path}+{data}", f"{path}+{anchor}", f"{path}@{year}", path):
        if probe in _EXPECTED_SUB:
            return _EXPECTED_SUB[probe]
    return None


TSP_ROWS = _tsp_rows()


@pytest.mark.parametrize("row", corpus_params(TSP_ROWS, _row_id))
async def test_corpus_row(row: dict[str, str], corpus: Path, tmp_path: Path) -> None:
    """Each ``tsp/`` row as the README says: its anchors (every certificate in the files),
    its pinned time, offline, soft revocation, over the data named in its notes; and
    ``openssl ts -verify`` with the same anchors and time reaches the same pass/fail."""
    anchors = [corpus / p for p in row["trust_anchor"].split(";") if p]
    certs = tuple(c for path in anchors for c in load_certificates(path))
    when = datetime.fromisoformat(row["validation_time"].replace("Z", "+00:00"))
    policy = ValidationPolicy(
        anchors=TrustAnchors({"corpus": certs}),
        validation_time=when,
        offline=True,
        revocation="soft",
    )
    data_path = corpus / row["notes"].split()[0].removeprefix("data=").rstrip(".")
    reply = (corpus / row["path"]).read_bytes()
    data = data_path.read_bytes()
    report = await validate_bytes(reply, policy, name=row["path"], detached_data=data)
    s = _one(report.signatures)
    assert _CLASSES[report.indication] == row["expected"], (
        INDICATION_NAMES[report.indication],
        report.sub_indication,
        s.findings,
    )
    expected_sub = _sub_for(_row_id(row))
    if expected_sub is not None:
        assert report.sub_indication is expected_sub
    if "injected-certs" in row["path"]:
        # GHSA-3xxc-pwj6-jgrj: the TSA is the SignerInfo's certificate, not a name in the bag
        assert s.signer is not None and s.signer.common_name == "Test TSA Timestamping"
        assert s.timestamp is not None and "Spoofed" not in s.timestamp.tsa
    # the second opinion, configured as the manifest's notes say
    bundle = "ts_chain.pem" in row["trust_anchor"]
    ca_file = tmp_path / "anchors.pem"
    ca_file.write_bytes(b"".join(_pem(path) for path in anchors))
    opinion = openssl_ts_verify(
        tmp_path, reply, data, ca_file, untrusted=ca_file if bundle else None, at=when
    )
    assert opinion == (report.indication is AdESStatus.PASSED)


def _pem(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.lstrip().startswith(b"-----"):
        return raw if raw.endswith(b"\n") else raw + b"\n"
    return bytes(pem.armor("CERTIFICATE", raw))


# -- a timestamp later than the validation time (external audit) -----------------------------


async def test_token_after_the_validation_time_proves_nothing(
    pki: DevPki, dev_services: DevServices, tmp_path: Path
) -> None:
    """Judged at a pinned time before its own time, a token (fine in every other respect)
    did not exist yet: it proves nothing then, and says why in both languages."""
    reply = request_token(dev_services, tmp_path)
    gen_time = (
        tsp.TimeStampResp.load(reply)["time_stamp_token"]["content"]["encap_content_info"][
            "content"
        ]
        .parsed["gen_time"]
        .native
    )
    when = gen_time - timedelta(minutes=10)
    crls = (pki.crl("issuing", now=when), pki.crl("root", now=when))
    policy = _policy(pki, offline=True, crls=crls, validation_time=when)
    report = await validate_bytes(reply, policy, name="late.tsr", detached_data=DATA)
    s = _one(report.signatures)
    assert (s.indication, s.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_POE,
    ), s.findings
    assert (report.indication, report.sub_indication) == (
        AdESStatus.INDETERMINATE,
        AdESIndeterminate.NO_POE,
    )
    assert s.timestamp is not None and s.timestamp.time == gen_time and not s.timestamp.valid
    assert (s.integrity, s.signature_valid, s.trusted) == (True, True, True)
    [late] = [f for f in s.findings if f.code == "time.after_validation_time"]
    stamp = people_time(gen_time)
    assert late.en == (
        f"the timestamp ({stamp}) is later than the validation time: it is not used as proof"
    )
    assert late.vi == (
        f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm bằng chứng"
    )
    assert late.severity == "error"
    assert "tsp.no_poe" not in _codes(s)
    # the same token, judged after its time, passes
    after = _policy(pki, offline=True, crls=crls, validation_time=gen_time + timedelta(minutes=1))
    assert _one((await validate_timestamp(reply, after, detached_data=DATA)).signatures).passed


async def test_late_and_wrong_token_says_both(pki: DevPki) -> None:
    """A token over other data and later than the validation time: the imprint failure is
    the verdict, the time is reported as well."""
    at = datetime.now(UTC).replace(microsecond=0)
    reply = dummy_reply(pki.tsa, pki, DATA + b"x", at=at)
    when = at - timedelta(minutes=10)
    crls = (pki.crl("issuing", now=when), pki.crl("root", now=when))
    policy = _policy(pki, offline=True, crls=crls, validation_time=when)
    s = _one((await validate_timestamp(reply, policy, detached_data=DATA)).signatures)
    assert (s.indication, s.sub_indication) == (AdESStatus.FAILED, AdESFailure.HASH_FAILURE)
    assert {"tsp.imprint_mismatch", "time.after_validation_time"} <= _codes(s)


# -- a twin of the TSA certificate (external audit) -------------------------------------------


async def test_a_twin_of_the_tsa_certificate_changes_nothing(
    pki: DevPki, dev_services: DevServices, pki_files: Path, tmp_path: Path
) -> None:
    """A certificate with the TSA's issuer and serial number but another key, added to the
    token's certificates after the real one: the TSA certificate is the one the signing-
    certificate attribute names and whose key verifies the token; openssl agrees."""
    reply = tsp.TimeStampResp.load(request_token(dev_services, tmp_path))
    token = reply["time_stamp_token"]
    certs = [c.chosen for c in token["content"]["certificates"]]
    assert certs[0].dump() == pki.tsa.asn1.dump()
    twin = make_twin(pki, pki.tsa)
    planted = with_certificates(token.dump(), [*certs, twin])
    outcome = await validate_timestamp(planted, _offline(pki), detached_data=DATA)
    s = _one(outcome.signatures)
    assert s.passed, s.findings
    assert s.signer is not None and s.signer.sha256 == pki.tsa.asn1.sha256.hex()
    assert twin.dump() not in outcome.evidence.certificates
    assert openssl_ts_verify(tmp_path, planted, DATA, pki_files / "root.pem", token=True)
    # the twin alone is not the TSA
    alone = with_certificates(token.dump(), [twin, *certs[1:]])
    s = _one((await validate_timestamp(alone, _offline(pki), detached_data=DATA)).signatures)
    assert s.indication is not AdESStatus.PASSED
    assert not openssl_ts_verify(tmp_path, alone, DATA, pki_files / "root.pem", token=True)
