"""The incoming flow (flow 2) through its service functions, on SQLite and PostgreSQL: a valid
package is registered with the next arrival number; forged ones (package signature, PDF
signature, sender not in the directory, signed by another agency's key) and a document failing
the Decree 30 check are rejected with their reason; a malformed package leaves no record; the
same package twice is registered once; statuses 01/02/03 are stored; every step is audited."""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange import accounts, audit, directory, incoming
from exchange.accounts import Principal
from exchange.db import IncomingDocument, IncomingStatus, RegisterEntry
from exchange.db.models import AuditEntry
from exchange.edxml import (
    Attachment,
    Code,
    Edoc,
    EdxmlError,
    Limits,
    Organ,
    StatusMessage,
    build_edoc,
    build_signed,
    document_id_for,
    parse_package,
    verify_package,
)
from exchange.errors import NotFound, PayloadTooLarge
from exchange.incoming import Receiving
from exchange.service import Services
from signing import DevelopmentModeWarning, KeySigner
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, OPERATOR
from tests.exchange.test_edxml_parse import sample_edoc
from tests.plugin import Decree30Documents
from validation import TrustAnchors, ValidationPolicy

pytestmark = pytest.mark.db

SENDER = "000.00.00.H53"
"""The sample package's sender (Ủy ban nhân dân tỉnh Tây Ninh), signing with the dev PKI's
agency key."""
OTHER = "000.00.00.H54"
"""Another agency of the directory, whose key is the dev PKI's ``agency-ec``."""
STRANGER = "000.00.99.H99"
"""An agency the directory does not know."""


def key(pki: DevPki, name: str) -> KeySigner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        return pki.in_memory_key(name)


def receiving(pki_files: Path, status_key: KeySigner | None = None) -> Receiving:
    policy = ValidationPolicy(
        anchors=TrustAnchors.from_files({"public": [pki_files / "root.pem"]}), revocation="soft"
    )
    return Receiving(policy=policy, status_key=status_key)


def edoc(pdf: bytes, *, sender: str = SENDER, number: str = "125", to: str = AGENCY_A) -> Edoc:
    code = Code(number=number, notation="UBND-VP")
    issued = date(2026, 11, 30)
    base = sample_edoc()
    return replace(
        base,
        from_=replace(base.from_, organ_id=sender),
        to=(Organ(organ_id=to, organ_name="Sở Nội vụ tỉnh Thái Bình"),),
        document_id=document_id_for(sender, issued, code),
        code=code,
        attachments=(
            Attachment(
                content_id="1",
                name=f"{number}-UBND-VP.pdf",
                data=pdf,
                content_type="application/pdf",
                description="Công văn",
            ),
        ),
    )


def broken_pdf(pdf: bytes) -> bytes:
    """One byte of the first stream changed: covered by every signature's byte range."""
    at = pdf.index(b"stream\n") + 40
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


async def add_senders(svc: Services, pki: DevPki) -> None:
    async with svc.transaction() as session:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=SENDER,
                    name="Ủy ban nhân dân tỉnh Tây Ninh",
                    node_url="https://lienthong.tayninh.example.invalid",
                    certificates=(pki.signers["agency"].asn1.dump(),),
                ),
                directory.AgencySpec(
                    organ_id=OTHER,
                    name="Ủy ban nhân dân tỉnh Bình Dương",
                    node_url="https://lienthong.binhduong.example.invalid",
                    certificates=(pki.signers["agency-ec"].asn1.dump(),),
                ),
            ],
            actor=OPERATOR,
        )


async def clerk(svc: Services, organ_id: str = AGENCY_A) -> Principal:
    async with svc.transaction() as session:
        return await accounts.operator(session, organ_id, OPERATOR)


async def counts(svc: Services) -> tuple[int, int]:
    async with svc.transaction() as session:
        documents = await session.scalar(select(func.count()).select_from(IncomingDocument))
        numbers = await session.scalar(select(func.count()).select_from(RegisterEntry))
    return int(documents or 0), int(numbers or 0)


async def actions(svc: Services) -> list[str]:
    async with svc.transaction() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


@pytest.fixture
async def ready(services: Services, pki: DevPki) -> Services:
    await add_senders(services, pki)
    return services


async def test_valid_package_is_registered_with_the_next_arrival_number(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    package = await build_signed(edoc(decree30.final), key(pki, "agency"))
    view = await incoming.receive(
        ready, principal, package, receiving(pki_files, key(pki, "agency-ec"))
    )
    assert view.state == "registered", view.reason
    assert view.reason is None
    assert (view.arrival_number, view.arrival_year) == (1, 2026)
    assert view.sender == SENDER and view.agency == AGENCY_A
    assert view.package_indication == "TOTAL-PASSED"
    assert view.indication == "TOTAL-PASSED" and view.legal_valid is True
    assert view.package_sha256 == hashlib.sha256(package).hexdigest()
    assert [f.name for f in view.files] == ["125-UBND-VP.pdf"]
    assert view.files[0].sha256 == hashlib.sha256(decree30.final).hexdigest()
    assert await ready.blobs.exists(view.files[0].sha256)

    # the answers: 01 then 03, signed by the receiving agency's key, naming this package
    assert [s.status_code for s in view.statuses] == ["01", "03"]
    for status in view.statuses:
        assert status.signed
        data = b"".join([c async for c in ready.blobs.read(status.sha256)])
        message = parse_package(data).message
        assert isinstance(message, StatusMessage)
        assert message.status_code.value == status.status_code
        assert message.from_.organ_id == AGENCY_A
        assert message.received_package_sha256 == view.package_sha256
        verdict = await verify_package(data, receiving(pki_files).policy)
        assert verdict.passed, verdict.reasons
        assert verdict.signer_certificate == pki.signers["agency-ec"].asn1.dump()
    assert "số đến 1/2026" in view.statuses[1].description

    report = b"".join([c async for c in ready.blobs.read(view.report_sha256)])
    assert b'"TOTAL-PASSED"' in report and b"125-UBND-VP.pdf" in report
    evidence = b"".join([c async for c in ready.blobs.read(view.evidence_sha256)])
    assert b"certificates" in evidence

    second = await build_signed(edoc(decree30.final, number="126"), key(pki, "agency"))
    other = await incoming.receive(ready, principal, second, receiving(pki_files))
    assert other.arrival_number == 2
    assert [s.signed for s in other.statuses] == [False, False]
    logged = await actions(ready)
    assert logged.count("incoming.receive") == 2 and logged.count("incoming.register") == 2
    assert logged.count("register.number") == 2


@pytest.mark.parametrize(
    ("forgery", "code"),
    [
        ("package-signature", "incoming.package_signature"),
        ("pdf-signature", "incoming.document_signature"),
        ("legal-check", "incoming.legal_check"),
        ("sender-unknown", "incoming.sender_unknown"),
        ("other-agency", "incoming.signed_by_other_agency"),
        ("unlisted-certificate", "incoming.sender_certificate"),
    ],
)
async def test_forged_packages_are_rejected_with_their_reason(
    ready: Services,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
    forgery: str,
    code: str,
) -> None:
    principal = await clerk(ready)
    agency = key(pki, "agency")
    if forgery == "package-signature":
        signed = await build_signed(edoc(decree30.final), agency)
        # the subject changed after signing
        package = signed.replace("triển khai".encode(), "hủy bỏ".encode(), 1)
        assert package != signed
    elif forgery == "pdf-signature":
        package = await build_signed(edoc(broken_pdf(decree30.final)), agency)
    elif forgery == "legal-check":  # a personal signature without the agency's
        package = await build_signed(edoc(decree30.personal), agency)
    elif forgery == "sender-unknown":
        package = await build_signed(edoc(decree30.final, sender=STRANGER), agency)
    elif forgery == "other-agency":  # claims to be SENDER, signed with OTHER's key
        package = await build_signed(edoc(decree30.final), key(pki, "agency-ec"))
    else:  # a valid certificate of the PKI, but not one the directory lists for anybody
        package = await build_signed(edoc(decree30.final), key(pki, "personal"))

    view = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert view.state == "rejected"
    assert view.reason is not None and view.reason.code == code, view.reason
    assert view.reason.en and view.reason.vi and view.reason.en != view.reason.vi
    assert view.arrival_number is None
    assert [s.status_code for s in view.statuses] == ["01", "02"]
    data = b"".join([c async for c in ready.blobs.read(view.statuses[1].sha256)])
    message = parse_package(data).message
    assert isinstance(message, StatusMessage) and message.description == view.reason.vi
    assert await counts(ready) == (1, 0)  # recorded, but no arrival number taken
    assert "incoming.reject" in await actions(ready)
    if forgery == "other-agency":
        assert OTHER in view.reason.en
    if forgery == "pdf-signature":
        assert view.indication == "TOTAL-FAILED"


async def test_reasons_read_well(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    package = await build_signed(edoc(decree30.final, sender=STRANGER), key(pki, "agency"))
    view = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert view.reason is not None
    assert view.reason.en == f"the sending agency {STRANGER} is not in the agency directory"
    assert view.reason.vi == f"cơ quan gửi {STRANGER} không có trong danh bạ cơ quan"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<edXMLEnvelope><unclosed>", id="not-xml"),
        pytest.param(b"%PDF-1.7\n", id="a-pdf"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_malformed_package_is_a_coded_error_and_nothing_is_stored(
    ready: Services, pki_files: Path, data: bytes
) -> None:
    principal = await clerk(ready)
    with pytest.raises(EdxmlError) as raised:
        await incoming.receive(ready, principal, data, receiving(pki_files))
    assert raised.value.status == 422 and raised.value.exit_code == 65
    assert await counts(ready) == (0, 0)
    assert (await actions(ready))[-1] == "incoming.refuse"
    assert not await ready.blobs.exists(hashlib.sha256(data).hexdigest())  # nothing kept


async def test_a_refused_upload_stores_no_bytes(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    """Packages refused before judging (misaddressed, too large) leave no blob behind."""
    principal = await clerk(ready)
    blobs = ready.settings.blobs
    before = sorted(p for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else []
    elsewhere = await build_signed(edoc(decree30.final, to=AGENCY_B), key(pki, "agency"))
    with pytest.raises(EdxmlError):
        await incoming.receive(ready, principal, elsewhere, receiving(pki_files))
    small = replace(receiving(pki_files), limits=Limits(max_package_bytes=1000))
    with pytest.raises(PayloadTooLarge):
        await incoming.receive(ready, principal, elsewhere, small)
    after = sorted(p for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else []
    assert after == before


async def test_a_rejected_package_sent_again_is_judged_again(
    services: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    """The same bytes, refused for a reason that has since gone away (here: the sender was
    not yet in the directory; as well an unreachable revocation server), are registered
    when they come again; refused again for the same reason, they get the first answer."""
    principal = await clerk(services)
    ready = services
    package = await build_signed(edoc(decree30.final), key(pki, "agency"))
    first = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert first.state == "rejected" and first.reason is not None
    assert first.reason.code == "incoming.sender_unknown"
    again = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert again == first and await counts(ready) == (1, 0)

    await add_senders(ready, pki)
    registered = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert registered.state == "registered", registered.reason
    assert registered.arrival_number == 1
    assert registered.id != first.id and registered.package_sha256 == first.package_sha256
    # now it is registered: once, however often it comes
    assert await incoming.receive(ready, principal, package, receiving(pki_files)) == registered
    assert await counts(ready) == (2, 1)
    # the rejection is kept as it was
    async with ready.transaction() as session:
        kept = await incoming.get_incoming(session, principal, first.id)
    assert kept.state == "rejected" and kept.reason == first.reason


async def test_unsigned_or_misaddressed_packages(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    unsigned = await incoming.receive(
        ready, principal, build_edoc(edoc(decree30.final)), receiving(pki_files)
    )
    assert unsigned.reason is not None and unsigned.reason.code == "incoming.package_signature"

    elsewhere = await build_signed(edoc(decree30.final, to=AGENCY_B), key(pki, "agency"))
    with pytest.raises(EdxmlError, match=f"not addressed to {AGENCY_A}"):
        await incoming.receive(ready, principal, elsewhere, receiving(pki_files))
    assert await counts(ready) == (1, 0)


async def test_the_same_package_twice_is_registered_once(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    package = await build_signed(edoc(decree30.final), key(pki, "agency"))
    first = await incoming.receive(ready, principal, package, receiving(pki_files))
    again = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert again == first
    # the same DocumentId from the same sender, signed again (other bytes)
    resigned = await build_signed(edoc(decree30.final), key(pki, "agency"))
    resigned += b"\n"  # after the root element: other bytes, the same document
    assert hashlib.sha256(resigned).hexdigest() != first.package_sha256
    assert await incoming.receive(ready, principal, resigned, receiving(pki_files)) == first
    assert await counts(ready) == (1, 1)
    assert (await actions(ready)).count("incoming.repeat") == 2

    # another agency receiving the same package is another record, with its own number
    package_b = await build_signed(edoc(decree30.final, to=AGENCY_B), key(pki, "agency"))
    other = await incoming.receive(
        ready, await clerk(ready, AGENCY_B), package_b, receiving(pki_files)
    )
    assert other.agency == AGENCY_B and other.arrival_number == 1


async def test_concurrent_arrivals_get_distinct_consecutive_numbers(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    packages = [
        await build_signed(edoc(decree30.final, number=str(200 + n)), key(pki, "agency"))
        for n in range(4)
    ]
    # the same package four times at once, and four different ones
    same = await asyncio.gather(
        *(incoming.receive(ready, principal, packages[0], receiving(pki_files)) for _ in range(4))
    )
    assert all(view == same[0] for view in same)
    others = await asyncio.gather(
        *(incoming.receive(ready, principal, p, receiving(pki_files)) for p in packages[1:])
    )
    numbers = sorted(v.arrival_number or 0 for v in (same[0], *others))
    assert numbers == [1, 2, 3, 4]
    assert await counts(ready) == (4, 4)


async def test_another_agencys_document_is_not_found(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    package = await build_signed(edoc(decree30.final), key(pki, "agency"))
    view = await incoming.receive(ready, principal, package, receiving(pki_files))
    other = await clerk(ready, AGENCY_B)
    async with ready.transaction() as session:
        assert await incoming.list_incoming(session, other) == []
        assert [v.id for v in await incoming.list_incoming(session, principal)] == [view.id]
        with pytest.raises(NotFound) as theirs:
            await incoming.get_incoming(session, other, view.id)
        with pytest.raises(NotFound) as missing:
            await incoming.get_incoming(session, other, "aaaaaaaaaaaaaaaaaaaa")
    assert theirs.value.en == missing.value.en and theirs.value.vi == missing.value.vi


async def test_the_audit_chain_holds_after_receiving(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    package = await build_signed(edoc(decree30.final), key(pki, "agency"))
    await incoming.receive(ready, principal, package, receiving(pki_files))
    async with ready.transaction() as session:
        assert (await audit.verify(session)).intact
        statuses = await session.scalar(select(func.count()).select_from(IncomingStatus))
    assert statuses == 2


async def test_a_forgery_naming_a_document_id_does_not_stand_in_for_the_genuine_one(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    forged = await build_signed(edoc(decree30.final), key(pki, "agency-ec"))
    genuine = await build_signed(edoc(decree30.final), key(pki, "agency"))
    first = await incoming.receive(ready, principal, forged, receiving(pki_files))
    assert first.state == "rejected"
    real = await incoming.receive(ready, principal, genuine, receiving(pki_files))
    assert real.state == "registered" and real.arrival_number == 1
    assert real.document_id == first.document_id and real.id != first.id
    # now the DocumentId is the genuine document's: the forgery again is its own old answer
    assert await incoming.receive(ready, principal, forged, receiving(pki_files)) == first
    assert await incoming.receive(ready, principal, genuine + b"\n", receiving(pki_files)) == real
    assert await counts(ready) == (2, 1)
