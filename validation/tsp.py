"""RFC 3161 timestamps as files (``.tsr``): a TimeStampResp, or a bare timestamp token, over
data that comes separately.

The reply's status must be ``granted`` (or ``grantedWithMods``); the token is then judged like
any CMS signer (:func:`validation.cms.judge_timestamp_token`), at the validation time: the
TSA's signature, its certificate path to a trust anchor with the critical timeStamping
extended key usage (RFC 3161 §2.3), revocation, algorithms, and the message imprint against the
data. A timestamp carries no proof of its own existence, so an expired TSA certificate makes it
INDETERMINATE/OUT_OF_BOUNDS_NO_POE unless the validation time is pinned to when it was valid;
and a token whose time is after the validation time did not exist then and proves nothing:
INDETERMINATE/NO_POE (finding ``time.after_validation_time``).
"""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import cms, core, tsp
from pyhanko_certvalidator.fetchers.api import Fetchers

from validation.cms import digest, judge_timestamp_token, load_signed_data, tst_info_of
from validation.context import fetching
from validation.policy import ValidationPolicy
from validation.report import Finding, Outcome, Unparseable

_GRANTED = frozenset({"granted", "granted_with_mods"})


class TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 3161 §2.4.2 ``TimeStampResp``, whose token is OPTIONAL (absent when the TSA
    refuses); asn1crypto's ``tsp.TimeStampResp`` makes it mandatory and cannot read a
    refusal."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def is_timestamp_reply(data: bytes) -> bool:
    """Whether ``data`` is a DER TimeStampResp, granted or refused (for format detection)."""
    try:
        TimeStampResp.load(data, strict=True)["status"]["status"].native  # noqa: B018
    except Exception:
        return False
    return True


def load_token(data: bytes) -> tuple[cms.ContentInfo | None, tuple[Finding, ...]]:
    """The token in a TimeStampResp or a bare token (DER), or ``None`` with the reason when
    the TSA refused; :class:`Unparseable` for anything else."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        is_content_info = info["content_type"].native == "signed_data"
    except Exception:  # asn1crypto parses lazily; hostile bytes fail in many ways
        is_content_info = False
    if is_content_info:
        load_signed_data(data, what_en="timestamp token", what_vi="dấu thời gian")
        return _checked(info), ()
    try:
        resp = TimeStampResp.load(data, strict=True)
        resp.native  # noqa: B018 - parse everything now, fail here
    except Exception as exc:
        raise _unparseable(
            "not an RFC 3161 reply or token", "không phải dấu thời gian RFC 3161"
        ) from exc
    status_info = resp["status"]
    status = status_info["status"].native
    if status not in _GRANTED:
        text = "; ".join(status_info["status_string"].native or [])
        fail = sorted(status_info["fail_info"].native or [])
        why = ", ".join(filter(None, [text, *fail])) or "no reason given"
        return None, (
            Finding(
                code="tsp.refused",
                en=f"the timestamp authority refused the request ({status}: {why}): the reply "
                "holds no timestamp",
                vi=f"đơn vị cấp dấu thời gian đã từ chối yêu cầu ({status}: {why}): phản hồi "
                "không chứa dấu thời gian",
            ),
        )
    token = resp["time_stamp_token"]
    if isinstance(token, core.Void):
        raise _unparseable(
            "the reply says granted but holds no token",
            "phản hồi báo đã cấp nhưng không chứa dấu thời gian",
        )
    return _checked(token), ()


def _checked(token: cms.ContentInfo) -> cms.ContentInfo:
    try:
        if token["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed_data = token["content"]
        tst_info_of(signed_data)
        if len(signed_data["signer_infos"]) != 1:
            raise ValueError("a token has exactly one signer")
    except Exception as exc:
        raise _unparseable(f"not a timestamp token ({exc})", "không phải dấu thời gian") from exc
    return token


def _unparseable(en: str, vi: str) -> Unparseable:
    return Unparseable(
        Finding(
            code="tsp.unparseable",
            en=f"cannot read the timestamp: {en}",
            vi=f"không đọc được dấu thời gian: {vi}",
        )
    )


async def validate_timestamp(
    data: bytes,
    policy: ValidationPolicy,
    *,
    detached_data: bytes | None,
    fetchers: Fetchers | None = None,
) -> Outcome:
    """Validate an RFC 3161 reply or token over ``detached_data`` (one report,
    ``timestamp-1``, kind ``timestamp-token``). Without the data the message imprint cannot be
    checked: INDETERMINATE/SIGNED_DATA_NOT_FOUND at best."""
    token, findings = load_token(data)
    if token is None:
        return Outcome(findings=findings)
    imprint: Callable[[str], bytes] | None = None
    if detached_data is not None:
        content = detached_data

        def imprint(algorithm: str) -> bytes:
            return digest(content, algorithm)

    async with fetching(policy, fetchers) as fetchers:
        outcome = await judge_timestamp_token(
            token,
            policy,
            fetchers=fetchers,
            imprint=imprint,
            kind="content-timestamp",
            id="timestamp-1",
        )
    return Outcome(signatures=(outcome.report,), findings=findings, evidence=outcome.evidence)


async def validate_timestamp_imprint(
    token_der: bytes,
    policy: ValidationPolicy,
    *,
    imprint: bytes,
    fetchers: Fetchers | None = None,
) -> Outcome:
    """Validate an RFC 3161 reply or token whose message imprint must equal ``imprint``, a
    digest the caller computed under the token's own algorithm (an archive timestamp over a
    hash-tree root: the data itself is not at hand). One report, ``timestamp-1``, as
    :func:`validate_timestamp`."""
    token, findings = load_token(token_der)
    if token is None:
        return Outcome(findings=findings)
    info = tst_info_of(token["content"])
    token_algorithm = str(info["message_imprint"]["hash_algorithm"]["algorithm"].native)

    def given(algorithm: str) -> bytes:
        # the digest is known under one algorithm only; any other cannot be matched
        if algorithm != token_algorithm:
            raise ValueError(f"no digest under {algorithm}")
        return imprint

    async with fetching(policy, fetchers) as fetchers:
        outcome = await judge_timestamp_token(
            token,
            policy,
            fetchers=fetchers,
            imprint=given,
            kind="content-timestamp",
            id="timestamp-1",
        )
    return Outcome(signatures=(outcome.report,), findings=findings, evidence=outcome.evidence)
