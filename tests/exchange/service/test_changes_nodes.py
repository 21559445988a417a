"""Update, replacement and revocation of a sent document between two real nodes
(BussinessDocType 2, 3, 1): the recipient answers an update or a replacement with 15 or 16
and a revocation with 03 (its copy destroyed, the metadata kept) or 02; a forged change
changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from exchange import changes, directory, nodeauth
from exchange.edxml import Edoc, Organ, build_signed, parse_package
from exchange.service import open_services
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import OPERATOR
from tests.exchange.service.nodes import (
    DOC,
    RECEIVER,
    SENDER,
    Node,
    incoming_list,
    issue_document,
    recipients,
    status_of,
    wait_for,
)
from tests.exchange.service.test_incoming import key as dev_key

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]

THIRD = "000.00.02.H53"  # Sở Xây dựng: in the receiver's directory, on no node
THIRD_KEY = "personal-ec"


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request: pytest.FixtureRequest, node_pair: Any) -> tuple[Node, Node]:
    sender, receiver = node_pair(request.param, request)
    sender.start()
    receiver.start()
    return sender, receiver


def _blob_files(node: Node) -> set[str]:
    root = node.home / "data" / "blobs"
    return {
        p.name for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts
    }


def _signed_draft(node: Node, client: httpx.Client, pdf: bytes, subject: str) -> str:
    """A draft to the receiver, personally signed (server key), not issued."""
    meta = {
        "register": "DI",
        "type_name": "Công văn",
        "code_notation": "STC-VP",
        "subject": subject,
        "signer_position": DOC.position,
        "signer_full_name": DOC.signer_name,
        "recipients": [RECEIVER],
    }
    created = client.post(
        "/api/v1/documents",
        headers=node.login(client, "vanthu"),
        data={"metadata": json.dumps(meta)},
        files={"main": ("cong-van.pdf", pdf, "application/pdf")},
    )
    assert created.status_code == 201, created.text
    doc_id = str(created.json()["id"])
    signed = client.post(f"/api/v1/documents/{doc_id}/sign", headers=node.login(client, "giamdoc"))
    assert signed.status_code == 200, signed.text
    return doc_id


def _answers(node: Node, client: httpx.Client, doc_id: str) -> list[tuple[str, str | None]]:
    [view] = recipients(node, client, doc_id)
    return [(e["status_code"], e["change"]) for e in view["timeline"]]


def _document(node: Node, client: httpx.Client, doc_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/documents/{doc_id}", headers=node.login(client, "vanthu"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_an_update_then_a_replacement_are_accepted(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    with sender.client() as a, receiver.client() as b:
        clerk = sender.login(a, "vanthu")
        first = issue_document(sender, a, sample_pdf, RECEIVER, "V/v kế hoạch năm 2027")
        wait_for(lambda: status_of(sender, a, first) == "03", what="03 at the sender")
        original = _document(sender, a, first)

        corrected = _signed_draft(sender, a, sample_pdf, "V/v kế hoạch công tác năm 2027")
        updated = a.post(
            f"/api/v1/documents/{first}/update",
            headers=clerk,
            json={"by": corrected, "reason": "Sửa trích yếu"},
        )
        assert updated.status_code == 200, updated.text
        update = updated.json()
        assert update["state"] == "issued" and update["change_type"] == 2
        assert update["supersedes"] == first
        # the same document corrected: its number and date stay
        for key in ("code_number", "issued_date", "code_notation"):
            assert update["metadata"][key] == original["metadata"][key]
        assert _document(sender, a, first)["state"] == "updated"
        assert _document(sender, a, first)["superseded_by"] == corrected
        wait_for(lambda: ("15", "update") in _answers(sender, a, first), what="15 for the update")

        [copy, newer] = incoming_list(receiver, b)
        assert copy["state"] == "updated"
        assert newer["doc_type"] == 2 and newer["changes"] == copy["id"]
        assert newer["state"] == "registered" and newer["arrival_number"] == 2
        assert newer["document_id"] == copy["document_id"]  # an update keeps the DocumentId
        assert newer["subject"] == "V/v kế hoạch công tác năm 2027"

        # the updated document cannot be changed again; its update can be replaced
        replacement = _signed_draft(sender, a, sample_pdf, "V/v kế hoạch năm 2027 (thay thế)")
        again = a.post(f"/api/v1/documents/{first}/update", headers=clerk, json={"by": replacement})
        assert again.status_code == 409, again.text
        assert "cập nhật" in again.json()["detail"] or "updated" in again.text
        replaced = a.post(
            f"/api/v1/documents/{corrected}/replace", headers=clerk, json={"by": replacement}
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["change_type"] == 3
        assert replaced.json()["metadata"]["code_number"] != original["metadata"]["code_number"]
        assert _document(sender, a, corrected)["state"] == "replaced"
        # the original's timeline shows the answers to what changed it, each named
        wait_for(
            lambda: ("15", "replace") in _answers(sender, a, first), what="15 for the replacement"
        )
        [view] = recipients(sender, a, first)
        documents = {e["document"] for e in view["timeline"]}
        assert documents == {first, corrected, replacement}

        [copy, newer, newest] = incoming_list(receiver, b)
        assert newer["state"] == "replaced"
        assert newest["doc_type"] == 3 and newest["changes"] == newer["id"]
        assert newest["state"] == "registered" and newest["arrival_number"] == 3
        assert newest["document_id"] != copy["document_id"]


def test_an_update_after_work_started_is_refused(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    with sender.client() as a, receiver.client() as b:
        first = issue_document(sender, a, sample_pdf, RECEIVER, "V/v văn bản đang xử lý")
        wait_for(lambda: status_of(sender, a, first) == "03", what="03 at the sender")
        [arrived] = incoming_list(receiver, b)
        assigned = b.post(
            f"/api/v1/incoming/{arrived['id']}/status",
            headers=receiver.login(b, "vanthu"),
            json={"status_code": "04", "description": "Giao phòng Tổng hợp xử lý"},
        )
        assert assigned.status_code in (200, 201), assigned.text
        wait_for(lambda: status_of(sender, a, first) == "04", what="04 at the sender")

        corrected = _signed_draft(sender, a, sample_pdf, "V/v văn bản đang xử lý (sửa)")
        updated = a.post(
            f"/api/v1/documents/{first}/update",
            headers=sender.login(a, "vanthu"),
            json={"by": corrected},
        )
        assert updated.status_code == 200, updated.text
        wait_for(lambda: ("16", "update") in _answers(sender, a, first), what="16 at the sender")
        [view] = recipients(sender, a, first)
        refusal = view["timeline"][-1]
        assert refusal["status_code"] == "16" and "04" in refusal["description"]

        [kept, refused] = incoming_list(receiver, b)
        assert kept["state"] == "registered" and kept["package_sha256"] in _blob_files(receiver)
        assert refused["state"] == "rejected" and refused["changes"] == kept["id"]
        assert refused["reason"]["code"] == "incoming.change_work_started"
        assert refused["arrival_number"] is None


def _post_as_third(receiver: Node, body: bytes, pki: DevPki) -> httpx.Response:
    headers = asyncio.run(
        nodeauth.sign_request(dev_key(pki, THIRD_KEY), sender=THIRD, recipient=RECEIVER, body=body)
    )
    return httpx.post(
        receiver.url + nodeauth.MESSAGES_PATH, content=body, headers=headers, timeout=60
    )


async def _add_third(receiver: Node, pki: DevPki) -> None:
    async with open_services(receiver.settings) as svc, svc.transaction() as session:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=THIRD,
                    name="Sở Xây dựng",
                    certificates=(pki.signers[THIRD_KEY].asn1.dump(),),
                )
            ],
            actor=OPERATOR,
        )


def test_a_revocation_is_accepted_and_a_forged_one_refused(
    nodes: tuple[Node, Node], sample_pdf: bytes, pki: DevPki
) -> None:
    sender, receiver = nodes
    asyncio.run(_add_third(receiver, pki))
    with sender.client() as a, receiver.client() as b:
        clerk = sender.login(a, "vanthu")
        first = issue_document(sender, a, sample_pdf, RECEIVER, "V/v văn bản sẽ thu hồi")
        wait_for(lambda: status_of(sender, a, first) == "03", what="03 at the sender")
        [arrived] = incoming_list(receiver, b)
        copy_blobs = {arrived["package_sha256"], *(f["sha256"] for f in arrived["files"])}
        assert copy_blobs <= _blob_files(receiver)

        # a third agency revokes the sender's document: genuinely its own package, naming a
        # DocumentId it never sent
        package = a.get(f"/api/v1/documents/{first}/package", headers=clerk).content
        edoc = parse_package(package).message
        assert isinstance(edoc, Edoc)
        moment = datetime.now(UTC).replace(microsecond=0)
        revocation = changes._revocation(edoc, THIRD, "Thu hồi giả mạo", moment)
        assert revocation.trace.bussiness is not None
        assert revocation.trace.bussiness.document_id == arrived["document_id"]
        theirs = dataclasses.replace(
            revocation,
            from_=Organ(organ_id=THIRD, organ_name="Sở Xây dựng"),
            document_id=edoc.document_id.replace(SENDER, THIRD, 1),  # its own form (§6.1)
        )
        third_key = dev_key(pki, THIRD_KEY)
        forged = _post_as_third(receiver, asyncio.run(build_signed(theirs, third_key)), pki)
        assert forged.status_code == 200, forged.text
        assert forged.json()["state"] == "rejected"
        # ... and one that claims to be the sender's, sent by the third agency
        as_sender = changes._revocation(edoc, SENDER, "Thu hồi giả mạo", moment)
        claimed = _post_as_third(receiver, asyncio.run(build_signed(as_sender, third_key)), pki)
        assert claimed.status_code == 403 and claimed.json()["reason"] == "not_the_sender"

        [untouched, refusal] = incoming_list(receiver, b)
        assert untouched["id"] == arrived["id"] and untouched["state"] == "registered"
        assert copy_blobs <= _blob_files(receiver)
        assert refusal["doc_type"] == 1 and refusal["sender"] == THIRD
        assert refusal["state"] == "rejected" and refusal["changes"] is None
        assert refusal["reason"]["code"] == "incoming.change_unknown_document"
        assert [s["status_code"] for s in refusal["statuses"]] == ["02"]

        missing = a.post(f"/api/v1/documents/{first}/revoke", headers=clerk, json={"reason": " "})
        assert missing.status_code == 400, missing.text
        revoked = a.post(
            f"/api/v1/documents/{first}/revoke",
            headers=clerk,
            json={"reason": "Văn bản ban hành sai thẩm quyền"},
        )
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["state"] == "revoked" and revoked.json()["revoked_at"]
        wait_for(lambda: ("03", "revoke") in _answers(sender, a, first), what="03 for revoking")
        assert _answers(sender, a, first) == [("01", None), ("03", None), ("03", "revoke")]
        # frozen: no recall, no second revocation
        recall = a.post(f"/api/v1/documents/{first}/recall", headers=clerk, json={})
        assert recall.status_code == 409
        twice = a.post(f"/api/v1/documents/{first}/revoke", headers=clerk, json={"reason": "x"})
        assert twice.status_code == 409

        [destroyed, _, notice] = incoming_list(receiver, b)
        assert destroyed["state"] == "revoked"  # the metadata kept ...
        assert destroyed["subject"] == "V/v văn bản sẽ thu hồi"
        assert destroyed["arrival_number"] == 1
        assert not copy_blobs & _blob_files(receiver)  # ... the copy destroyed
        assert notice["doc_type"] == 1 and notice["changes"] == destroyed["id"]
        assert notice["files"] == [] and notice["arrival_number"] is None
        assert [s["status_code"] for s in notice["statuses"]] == ["03"]
