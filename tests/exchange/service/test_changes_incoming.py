"""Receiving a revocation, an update or a replacement (BussinessDocType 1, 2, 3) through the
incoming flow itself, on SQLite and PostgreSQL: the answers (03/02, 15/16), the links between
copies, the dedupe keys (an update keeps its DocumentId), and forged changes that change
nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from exchange import incoming
from exchange.edxml import (
    Bussiness,
    BussinessDocType,
    Code,
    DocumentUpdate,
    Edoc,
    Organ,
    Replacement,
    StatusCode,
    TraceHeaderList,
    build_signed,
    document_id_for,
    parse_package,
)
from exchange.edxml import StatusMessage as Status
from exchange.service import Services
from signing.dev.pki import DevPki
from tests.exchange.service.test_incoming import (
    OTHER,
    SENDER,
    clerk,
    counts,
    edoc,
    key,
    ready,
    receiving,
)
from tests.plugin import Decree30Documents

pytestmark = pytest.mark.db
__all__ = ["ready"]


def _change(base: Edoc, doc_type: BussinessDocType, **bussiness: object) -> Edoc:
    staff = base.trace.bussiness.staff_info if base.trace.bussiness else None
    return replace(
        base,
        trace=TraceHeaderList(
            headers=base.trace.headers,
            bussiness=Bussiness(
                doc_type=doc_type,
                staff_info=staff,
                **bussiness,  # type: ignore[arg-type]
            ),
        ),
    )


async def _answer(svc: Services, sha256: str) -> Status:
    data = b"".join([c async for c in svc.blobs.read(sha256)])
    message = parse_package(data).message
    assert isinstance(message, Status)
    return message


async def test_a_revocation_is_answered_03_and_destroys_the_copy(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    original = edoc(decree30.final)
    first = await incoming.receive(
        ready, principal, await build_signed(original, key(pki, "agency")), receiving(pki_files)
    )
    assert first.state == "registered"
    revocation = await build_signed(
        _change(
            replace(original, attachments=()),
            BussinessDocType.REVOKE,
            document_id=original.document_id,
            reason="Ban hành sai thẩm quyền",
        ),
        key(pki, "agency"),
    )
    notice = await incoming.receive(ready, principal, revocation, receiving(pki_files))
    assert notice.state == "registered" and notice.doc_type == 1 and notice.changes == first.id
    assert notice.arrival_number is None  # a notice, not a document: no arrival number
    assert [s.status_code for s in notice.statuses] == ["03"]
    answer = await _answer(ready, notice.statuses[0].sha256)
    assert answer.status_code == StatusCode.REGISTERED
    assert answer.response_for.document_id == original.document_id
    assert answer.received_package_sha256 == notice.package_sha256

    async with ready.transaction() as session:
        destroyed = await incoming.get_incoming(session, principal, first.id)
    assert destroyed.state == "revoked" and destroyed.arrival_number == 1
    assert destroyed.subject == original.subject  # the metadata kept, the copy gone
    assert not await ready.blobs.exists(first.package_sha256)
    assert not await ready.blobs.exists(first.files[0].sha256)
    # the same revocation again is answered as before; another one is refused (02)
    assert await incoming.receive(ready, principal, revocation, receiving(pki_files)) == notice
    later = await build_signed(
        _change(
            replace(original, attachments=()),
            BussinessDocType.REVOKE,
            document_id=original.document_id,
            reason="Thu hồi lần nữa",
        ),
        key(pki, "agency"),
    )
    again = await incoming.receive(ready, principal, later, receiving(pki_files))
    assert again.state == "rejected" and again.reason is not None
    assert again.reason.code == "incoming.change_not_current"
    assert [s.status_code for s in again.statuses] == ["02"]


async def test_an_update_keeps_the_document_id_and_takes_its_place(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    original = edoc(decree30.final)
    genuine = await build_signed(original, key(pki, "agency"))
    first = await incoming.receive(ready, principal, genuine, receiving(pki_files))
    corrected = _change(
        replace(original, subject="V/v triển khai kế hoạch (đính chính)"),
        BussinessDocType.UPDATE,
        document_id=original.document_id,
        update=DocumentUpdate(document_info=True, document_receiver=False),
    )
    package = await build_signed(corrected, key(pki, "agency"))
    update = await incoming.receive(ready, principal, package, receiving(pki_files))
    assert update.state == "registered", update.reason
    assert update.doc_type == 2 and update.changes == first.id and update.arrival_number == 2
    assert update.document_id == first.document_id
    assert [s.status_code for s in update.statuses] == ["15"]
    assert "số đến 2/" in update.statuses[0].description
    # the same bytes again: the same answer; the original package again: its own first answer
    assert await incoming.receive(ready, principal, package, receiving(pki_files)) == update
    repeat = await incoming.receive(ready, principal, genuine, receiving(pki_files))
    assert repeat.id == first.id and repeat.state == "updated"
    assert await counts(ready) == (2, 2)

    # the update is the current copy: a replacement names its DocumentId and is accepted
    code = Code(number="140", notation="UBND-VP")
    assert original.promulgation.date is not None
    new_id = document_id_for(SENDER, original.promulgation.date, code)
    replacing = _change(
        replace(original, code=code, document_id=new_id, subject="V/v kế hoạch (thay thế)"),
        BussinessDocType.REPLACE,
        document_id=original.document_id,
        replacements=(Replacement(document_id=original.document_id),),
    )
    replaced = await incoming.receive(
        ready, principal, await build_signed(replacing, key(pki, "agency")), receiving(pki_files)
    )
    assert replaced.state == "registered" and replaced.changes == update.id
    assert [s.status_code for s in replaced.statuses] == ["15"]
    async with ready.transaction() as session:
        assert (await incoming.get_incoming(session, principal, update.id)).state == "replaced"


async def test_forged_changes_change_nothing(
    ready: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> None:
    principal = await clerk(ready)
    original = edoc(decree30.final)
    first = await incoming.receive(
        ready, principal, await build_signed(original, key(pki, "agency")), receiving(pki_files)
    )
    # a revocation "from the sender" signed with another agency's key
    wrong_key = await build_signed(
        _change(
            replace(original, attachments=()),
            BussinessDocType.REVOKE,
            document_id=original.document_id,
        ),
        key(pki, "agency-ec"),
    )
    refused = await incoming.receive(ready, principal, wrong_key, receiving(pki_files))
    assert refused.state == "rejected" and refused.changes is None
    assert refused.reason is not None
    assert refused.reason.code == "incoming.signed_by_other_agency"
    assert [s.status_code for s in refused.statuses] == ["02"]
    # another agency, genuinely itself, updating the sender's document
    theirs = replace(
        original,
        from_=Organ(organ_id=OTHER, organ_name="Ủy ban nhân dân tỉnh Bình Dương"),
        document_id=original.document_id.replace(SENDER, OTHER, 1),
    )
    update = _change(
        theirs,
        BussinessDocType.UPDATE,
        document_id=original.document_id,
        update=DocumentUpdate(document_info=True, document_receiver=False),
    )
    foreign = await incoming.receive(
        ready, principal, await build_signed(update, key(pki, "agency-ec")), receiving(pki_files)
    )
    assert foreign.state == "rejected" and foreign.changes is None
    assert foreign.reason is not None  # it carries the sender's sealed file, not its own
    assert foreign.reason.code == "incoming.sealed_by_other_agency"
    assert [s.status_code for s in foreign.statuses] == ["16"]
    # ... and revoking it (a revocation carries no file to give it away)
    revocation = _change(
        replace(theirs, attachments=()),
        BussinessDocType.REVOKE,
        document_id=original.document_id,
    )
    unknown = await incoming.receive(
        ready,
        principal,
        await build_signed(revocation, key(pki, "agency-ec")),
        receiving(pki_files),
    )
    assert unknown.state == "rejected" and unknown.changes is None
    assert unknown.reason is not None
    assert unknown.reason.code == "incoming.change_unknown_document"
    assert [s.status_code for s in unknown.statuses] == ["02"]

    async with ready.transaction() as session:
        kept = await incoming.get_incoming(session, principal, first.id)
    assert kept.state == "registered" and kept.arrival_number == 1
    assert await ready.blobs.exists(first.package_sha256)
    assert await counts(ready) == (4, 1)  # recorded, and no number taken
