"""Recall between two real nodes: the sender asks (13); the recipient accepts while it has
not started work (15: its copy destroyed, the metadata kept) and refuses once it has (16)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from exchange import nodeauth
from exchange.edxml import (
    VIETNAM,
    Organ,
    ResponseFor,
    StatusCode,
    StatusMessage,
    build_message,
    sign_package,
)
from signing.dev.pki import DevPki
from tests.exchange.service.nodes import (
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


def test_a_recall_before_work_started_is_accepted_and_destroys_the_copy(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    with sender.client() as a, receiver.client() as b:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v văn bản sẽ lấy lại")
        wait_for(lambda: status_of(sender, a, doc_id) == "03", what="03 at the sender")
        [arrived] = incoming_list(receiver, b)
        package = arrived["package_sha256"]
        assert package in _blob_files(receiver)

        asked = a.post(
            f"/api/v1/documents/{doc_id}/recall",
            headers=sender.login(a, "vanthu"),
            json={"reason": "Văn bản ban hành nhầm"},
        )
        assert asked.status_code == 200, asked.text
        assert asked.json() == {"asked": [RECEIVER]}
        wait_for(lambda: status_of(sender, a, doc_id) == "15", what="15 at the sender")
        [view] = recipients(sender, a, doc_id)
        assert [e["status_code"] for e in view["timeline"]] == ["01", "03", "15"]

        [recalled] = incoming_list(receiver, b)
        assert recalled["state"] == "recalled"  # the metadata kept ...
        assert recalled["subject"] == "V/v văn bản sẽ lấy lại"
        assert recalled["arrival_number"] == 1
        files = {f["sha256"] for f in recalled["files"]}
        assert not ({package} | files) & _blob_files(receiver)  # ... the copy destroyed
        # asked again, the answer is the same and nothing changes
        again = a.post(
            f"/api/v1/documents/{doc_id}/recall", headers=sender.login(a, "vanthu"), json={}
        )
        assert again.status_code == 200


def test_a_recall_after_work_started_is_refused(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    with sender.client() as a, receiver.client() as b:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v văn bản đang xử lý")
        wait_for(lambda: status_of(sender, a, doc_id) == "03", what="03 at the sender")
        [arrived] = incoming_list(receiver, b)
        assigned = b.post(
            f"/api/v1/incoming/{arrived['id']}/status",
            headers=receiver.login(b, "vanthu"),
            json={"status_code": "04", "description": "Giao phòng Tổng hợp xử lý"},
        )
        assert assigned.status_code in (200, 201), assigned.text
        wait_for(lambda: status_of(sender, a, doc_id) == "04", what="04 at the sender")
        asked = a.post(
            f"/api/v1/documents/{doc_id}/recall", headers=sender.login(a, "vanthu"), json={}
        )
        assert asked.status_code == 200, asked.text
        wait_for(lambda: status_of(sender, a, doc_id) == "16", what="16 at the sender")
        [view] = recipients(sender, a, doc_id)
        assert "04" in view["timeline"][-1]["description"]
        [kept] = incoming_list(receiver, b)
        assert kept["state"] == "registered" and kept["package_sha256"] in _blob_files(receiver)


def test_an_answer_to_a_recall_nobody_asked_for_is_refused(
    nodes: tuple[Node, Node], sample_pdf: bytes, pki: DevPki
) -> None:
    """A recipient cannot put 15 (recalled) on the sender's timeline unasked; a status dated
    in the future does not stay the latest."""
    sender, receiver = nodes
    with sender.client() as a, receiver.client() as b:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v không ai đề nghị lấy lại")
        wait_for(lambda: status_of(sender, a, doc_id) == "03", what="03 at the sender")
        [arrived] = incoming_list(receiver, b)
        theirs = dev_key(pki, "agency-ec")

        def send(code: StatusCode, when: datetime) -> httpx.Response:
            message = StatusMessage(
                from_=Organ(organ_id=RECEIVER, organ_name="UBND tỉnh"),
                response_for=ResponseFor(organ_id=SENDER, document_id=arrived["document_id"]),
                status_code=code,
                timestamp=when.astimezone(VIETNAM).replace(microsecond=0),
                received_package_sha256=arrived["package_sha256"],
            )
            body = asyncio.run(sign_package(build_message(message), theirs))
            headers = asyncio.run(
                nodeauth.sign_request(theirs, sender=RECEIVER, recipient=SENDER, body=body)
            )
            return httpx.post(
                sender.url + nodeauth.MESSAGES_PATH, content=body, headers=headers, timeout=60
            )

        unasked = send(StatusCode.RECALL_ACCEPTED, datetime.now(UTC))
        assert unasked.status_code == 403 and unasked.json()["reason"] == "not_asked"
        future = send(StatusCode.IN_PROGRESS, datetime.now(UTC) + timedelta(days=365))
        assert future.status_code == 200, future.text
        later = send(StatusCode.COMPLETED, datetime.now(UTC) + timedelta(seconds=1))
        assert later.status_code == 200, later.text
        [view] = recipients(sender, a, doc_id)
        assert [e["status_code"] for e in view["timeline"]][-1] == "06"
        assert "15" not in [e["status_code"] for e in view["timeline"]]
