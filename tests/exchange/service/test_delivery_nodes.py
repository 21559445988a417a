"""Delivery between two real nodes (two ``lienthong serve`` processes on 127.0.0.1, each with
its own database, key and directory): the package travels, is verified and registered, and the
signed statuses come back; a node that is down gets it once it is back; a forged or replayed
request is refused with its reason."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest

from exchange import nodeauth
from exchange.edxml import Organ, build_signed
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
from tests.exchange.test_edxml_parse import sample_edoc

pytestmark = [pytest.mark.db, pytest.mark.hsm, pytest.mark.slow]


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request: pytest.FixtureRequest, node_pair: Any) -> tuple[Node, Node]:
    return node_pair(request.param, request)  # type: ignore[no-any-return]


def test_a_document_travels_and_its_statuses_come_back(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    sender.start()
    receiver.start()
    with sender.client() as a, receiver.client() as b:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v liên thông văn bản")
        # 01 and 03 are two messages: either may arrive first
        wait_for(
            lambda: (
                [e["status_code"] for e in recipients(sender, a, doc_id)[0]["timeline"]]
                == ["01", "03"]
            ),
            what="statuses 01 and 03 at the sender",
        )
        [view] = recipients(sender, a, doc_id)
        assert view["recipient"] == RECEIVER and view["delivery"] == "delivered"
        assert view["route"] == "http" and view["attempts"] == 1
        assert [e["status_code"] for e in view["timeline"]] == ["01", "03"]
        assert "số đến 1/" in view["timeline"][1]["description"]
        [arrived] = incoming_list(receiver, b)
        assert arrived["state"] == "registered" and arrived["arrival_number"] == 1
        assert arrived["sender"] == SENDER and arrived["legal_valid"] is True


def test_a_receiver_that_is_down_gets_the_document_once_it_is_back(
    nodes: tuple[Node, Node], sample_pdf: bytes
) -> None:
    sender, receiver = nodes
    sender.start()
    with sender.client() as a:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v gửi khi nơi nhận tắt")
        wait_for(
            lambda: recipients(sender, a, doc_id)[0]["attempts"] >= 2,
            what="at least two failed attempts",
        )
        [view] = recipients(sender, a, doc_id)
        assert view["delivery"] == "pending" and "ConnectError" in view["last_error"]
        receiver.start()
        wait_for(lambda: status_of(sender, a, doc_id) == "03", what="status 03 after the retry")
        with receiver.client() as b:
            assert len(incoming_list(receiver, b)) == 1  # once


def test_forged_and_replayed_requests_are_refused(nodes: tuple[Node, Node], pki: DevPki) -> None:
    _, receiver = nodes
    receiver.start()
    ours, theirs = dev_key(pki, "agency"), dev_key(pki, "agency-ec")
    edoc = sample_edoc(
        from_=Organ(organ_id=SENDER, organ_name="Sở Tài chính"),
        to=(Organ(organ_id=RECEIVER, organ_name="UBND tỉnh"),),
        document_id=f"{SENDER},2026/11/30,125/UBND-VP",
    )
    body = asyncio.run(build_signed(edoc, ours))
    url = receiver.url + nodeauth.MESSAGES_PATH

    def post(headers: dict[str, str], content: bytes = body) -> httpx.Response:
        return httpx.post(url, content=content, headers=headers, timeout=60)

    unsigned = post({"Content-Type": "application/xml"})
    assert unsigned.status_code == 403 and unsigned.json()["reason"] == "unsigned"
    # signed by the receiver's own key while claiming to be the sender
    wrong = asyncio.run(nodeauth.sign_request(theirs, sender=SENDER, recipient=RECEIVER, body=body))
    assert post(wrong).json()["reason"] == "wrong_agency"
    good = asyncio.run(nodeauth.sign_request(ours, sender=SENDER, recipient=RECEIVER, body=body))
    tampered = post(good, body + b" ")
    assert tampered.status_code == 403 and tampered.json()["reason"] == "bad_signature"
    # an agency in the directory signing as itself while also naming another: refused
    # (one reader taking the first header and another the last would disagree)
    mine = asyncio.run(
        nodeauth.sign_request(theirs, sender=RECEIVER, recipient=RECEIVER, body=body)
    )
    doubled = [(k, v) for k, v in mine.items()] + [(nodeauth.FROM, SENDER)]
    twice = httpx.post(url, content=body, headers=doubled, timeout=60)
    assert twice.status_code == 403 and twice.json()["reason"] == "repeated_header"
    # a declared body over the limit is refused before it is read
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=30) as raw:
        lines = [f"POST {nodeauth.MESSAGES_PATH} HTTP/1.1", f"Host: 127.0.0.1:{receiver.port}"]
        lines += [f"{k}: {v}" for k, v in good.items()]
        lines += [f"Content-Length: {10**12}", "", ""]
        raw.sendall("\r\n".join(lines).encode())  # and not one byte of the body
        answer = raw.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    first = post(good)
    assert first.status_code == 200, first.text
    replayed = post(good)
    assert replayed.status_code == 403 and replayed.json()["reason"] == "replayed"
