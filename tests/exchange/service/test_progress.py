"""The later statuses of an incoming document (04 assigned, 05 in progress, 06 done) through
the HTTP API, on SQLite and PostgreSQL: each one is stored, signed with the agency's key,
shown with the document and put in the outbox for the sender; they only move forward (a step
may be skipped); a rejected document gets none; another agency's document answers like a
missing one; only a clerk or a signer reports them; the command line does the same; and
between two real nodes the sender's timeline shows 01, 03, 04, 05, 06."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from exchange import incoming
from exchange.accounts import Role
from exchange.db.delivery_models import OutboxMessage
from exchange.db.incoming_models import IncomingDocument
from exchange.db.models import AuditEntry
from exchange.edxml import StatusMessage, build_signed, parse_package, verify_package
from exchange.service import Services
from exchange.settings import AgencyConfig, SealKey, Settings
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, AGENCY_B, Seed, bearer
from tests.exchange.service.nodes import (
    RECEIVER,
    Node,
    incoming_list,
    issue_document,
    recipients,
    status_of,
    wait_for,
)
from tests.exchange.service.test_incoming import SENDER, clerk, edoc, key, receiving
from tests.exchange.service.test_incoming_api import prepare
from tests.plugin import PROJECT_ROOT, Decree30Documents

pytestmark = [
    pytest.mark.db,
    # agency A's seal key is a PKCS#12 file here (a token's key would not warn)
    pytest.mark.filterwarnings("ignore::signing.FileKeyWarning"),
]

REPORT = frozenset({Role.CLERK, Role.SIGNER})
SEAL = "agency-ec"
"""The dev PKI identity the receiving agency (A) seals its status messages with."""


@pytest.fixture
def settings(database_url: str, tmp_path: Path, pki: DevPki, seal_png: bytes) -> Settings:
    """The node of the API tests, with a seal key (PKCS#12) for agency A."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "a.p12").write_bytes(pki.pkcs12(SEAL, b"mat-khau"))
    (keys / "pin").write_text("mat-khau\n")
    (keys / "dau.png").write_bytes(seal_png)
    seal = SealKey(key=str(keys / "a.p12"), pin_file=keys / "pin", seal_image=keys / "dau.png")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        delivery_worker=False,
        agencies={AGENCY_A: AgencyConfig(seal=seal)},
    )


@pytest.fixture
async def node(app: FastAPI, settings: Settings, pki: DevPki, pki_files: Path) -> Services:
    await prepare(app, settings, pki, pki_files)
    services = app.state.services
    assert isinstance(services, Services)
    return services


async def received(
    svc: Services, pki: DevPki, pki_files: Path, pdf: bytes, *, forged: bool = False
) -> incoming.IncomingView:
    """A package from SENDER received for A (forged: signed with another agency's key)."""
    package = await build_signed(edoc(pdf), key(pki, "agency-ec" if forged else "agency"))
    view = await incoming.receive(svc, await clerk(svc), package, receiving(pki_files))
    assert view.state == ("rejected" if forged else "registered"), view.reason
    return view


@pytest.fixture
async def registered(
    node: Services, pki: DevPki, pki_files: Path, decree30: Decree30Documents
) -> incoming.IncomingView:
    return await received(node, pki, pki_files, decree30.final)


async def post(
    client: httpx.AsyncClient, token: str, incoming_id: str, code: str, **extra: Any
) -> httpx.Response:
    lang = extra.pop("lang", "vi")
    return await client.post(
        f"/api/v1/incoming/{incoming_id}/status",
        headers=bearer(token),
        json={"status_code": code, **extra},
        params={"lang": lang},
    )


async def outbox_rows(svc: Services) -> list[tuple[str, str, str | None, str, int | None]]:
    async with svc.transaction(read_only=True) as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "status").order_by(OutboxMessage.id)
        )
        return [
            (r.to_organ_id, r.kind, r.status_code, r.payload_sha256, r.incoming_id) for r in rows
        ]


async def incoming_row_id(svc: Services, public_id: str) -> int:
    async with svc.transaction(read_only=True) as session:
        found = await session.scalar(
            select(IncomingDocument.id).where(IncomingDocument.public_id == public_id)
        )
    assert found is not None
    return found


async def audited(svc: Services, action: str) -> list[AuditEntry]:
    async with svc.transaction(read_only=True) as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


async def test_04_05_06_are_stored_signed_shown_and_queued_for_the_sender(
    node: Services,
    client: httpx.AsyncClient,
    seeded: Seed,
    registered: incoming.IncomingView,
    pki: DevPki,
    pki_files: Path,
) -> None:
    token = seeded.tokens[(AGENCY_A, Role.CLERK)]
    descriptions = {"04": "Giao phòng Tổng hợp xử lý", "05": "", "06": "Đã trả lời bằng văn bản"}
    bodies = []
    for code, description in descriptions.items():
        answer = await post(client, token, registered.id, code, description=description)
        assert answer.status_code == 200, answer.text
        bodies.append(answer.json())
    assert [[s["status_code"] for s in b["statuses"]] for b in bodies] == [
        ["01", "03", "04"],
        ["01", "03", "04", "05"],
        ["01", "03", "04", "05", "06"],
    ]
    shown = await client.get(f"/api/v1/incoming/{registered.id}", headers=bearer(token))
    assert shown.json() == bodies[-1]

    statuses = {s["status_code"]: s for s in bodies[-1]["statuses"]}
    for code, description in descriptions.items():
        status = statuses[code]
        assert status["signed"] is True
        # an empty description says the status's name
        assert status["description"] == (description or "Đang xử lý")
        data = b"".join([c async for c in node.blobs.read(status["sha256"])])
        assert hashlib.sha256(data).hexdigest() == status["sha256"]
        message = parse_package(data).message
        assert isinstance(message, StatusMessage)
        assert message.status_code.value == code
        assert message.from_.organ_id == AGENCY_A
        assert message.response_for.organ_id == SENDER
        assert message.response_for.document_id == registered.document_id
        assert message.received_package_sha256 == registered.package_sha256
        assert message.description == status["description"]
        verdict = await verify_package(data, receiving(pki_files).policy)
        assert verdict.passed, verdict.reasons
        assert verdict.signer_certificate == pki.signers[SEAL].asn1.dump()

    # one outbox row each, for the sender, naming the document
    row_id = await incoming_row_id(node, registered.id)
    assert await outbox_rows(node) == [
        (SENDER, "status", code, statuses[code]["sha256"], row_id) for code in descriptions
    ]
    lines = await audited(node, "incoming.status")
    assert [line.document for line in lines] == [f"incoming:{registered.id}"] * 3
    assert [line.actor for line in lines] == ["token:robot-clerk"] * 3


async def test_only_forward_a_step_may_be_skipped_none_repeated_none_back(
    node: Services, client: httpx.AsyncClient, seeded: Seed, registered: incoming.IncomingView
) -> None:
    token = seeded.tokens[(AGENCY_A, Role.CLERK)]
    skipped = await post(client, token, registered.id, "05")  # 04 skipped
    assert skipped.status_code == 200, skipped.text

    again = await post(client, token, registered.id, "05", lang="en")
    assert again.status_code == 409
    assert again.json()["code"] == "exchange.conflict"
    assert "already in progress (05)" in again.json()["detail"]
    back = await post(client, token, registered.id, "04", lang="en")
    assert back.status_code == 409
    assert "cannot go back to assigned (04)" in back.json()["detail"]
    back_vi = await post(client, token, registered.id, "04")
    assert back_vi.status_code == 409
    assert "không thể quay lại trạng thái phân công (04)" in back_vi.json()["detail"]

    done = await post(client, token, registered.id, "06")
    assert done.status_code == 200, done.text
    for code in ("04", "05", "06"):
        after = await post(client, token, registered.id, code)
        assert after.status_code == 409, code

    for code in ("01", "02", "03", "07", "13", "x"):
        wrong = await post(client, token, registered.id, code, lang="en")
        assert wrong.status_code == 400, code
        assert "must be 04 (assigned), 05 (in progress) or 06 (done)" in wrong.json()["detail"]
    too_long = await post(client, token, registered.id, "06", description="x" * 1001)
    assert too_long.status_code == 400

    # what was refused left nothing behind
    assert [r[2] for r in await outbox_rows(node)] == ["05", "06"]
    assert len(await audited(node, "incoming.status")) == 2
    shown = await client.get(f"/api/v1/incoming/{registered.id}", headers=bearer(token))
    assert [s["status_code"] for s in shown.json()["statuses"]] == ["01", "03", "05", "06"]


async def test_the_same_status_at_the_same_moment_is_given_once(
    node: Services, client: httpx.AsyncClient, seeded: Seed, registered: incoming.IncomingView
) -> None:
    token = seeded.tokens[(AGENCY_A, Role.CLERK)]
    answers = await asyncio.gather(
        *(post(client, token, registered.id, "04", lang="en") for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    # the later ones waited for the first (the row lock) and were told why
    for refused in (a for a in answers if a.status_code == 409):
        assert "already assigned (04)" in refused.json()["detail"]
    assert [r[2] for r in await outbox_rows(node)] == ["04"]
    assert len(await audited(node, "incoming.status")) == 1


async def test_a_rejected_document_gets_no_later_status(
    node: Services,
    client: httpx.AsyncClient,
    seeded: Seed,
    pki: DevPki,
    pki_files: Path,
    decree30: Decree30Documents,
) -> None:
    rejected = await received(node, pki, pki_files, decree30.final, forged=True)
    token = seeded.tokens[(AGENCY_A, Role.CLERK)]
    for code in ("04", "05", "06"):
        for lang in ("en", "vi"):
            answer = await post(client, token, rejected.id, code, lang=lang)
            assert answer.status_code == 409, answer.text
            assert answer.json()["detail"] == (
                "Only a registered incoming document is assigned, in progress or done; "
                "this one is rejected."
                if lang == "en"
                else "Chỉ văn bản đến đã vào sổ mới được phân công, xử lý hoặc hoàn thành; "
                "văn bản này đã bị từ chối."
            )
    assert await outbox_rows(node) == []
    assert await audited(node, "incoming.status") == []


async def test_another_agencys_incoming_answers_like_a_missing_one(
    node: Services, client: httpx.AsyncClient, seeded: Seed, registered: incoming.IncomingView
) -> None:
    b_clerk = seeded.tokens[(AGENCY_B, Role.CLERK)]
    for lang in ("vi", "en"):
        theirs = await post(client, b_clerk, registered.id, "04", lang=lang)
        missing = await post(client, b_clerk, "aaaaaaaaaaaaaaaaaaaa", "04", lang=lang)
        assert theirs.status_code == missing.status_code == 404

        def strip(r: httpx.Response) -> dict[str, Any]:
            return {k: v for k, v in r.json().items() if k != "instance"}

        assert strip(theirs) == strip(missing)
    assert await outbox_rows(node) == []


async def test_roles(
    node: Services, client: httpx.AsyncClient, seeded: Seed, registered: incoming.IncomingView
) -> None:
    for role in Role:
        if role in REPORT:
            continue
        answer = await post(client, seeded.tokens[(AGENCY_A, role)], registered.id, "04")
        assert answer.status_code == 403, role
        assert answer.json()["code"] == "exchange.forbidden"
    anonymous = await client.post(
        f"/api/v1/incoming/{registered.id}/status", json={"status_code": "04"}
    )
    assert anonymous.status_code == 401
    assert await outbox_rows(node) == []
    signer = await post(client, seeded.tokens[(AGENCY_A, Role.SIGNER)], registered.id, "04")
    assert signer.status_code == 200, signer.text
    clerk_ = await post(client, seeded.tokens[(AGENCY_A, Role.CLERK)], registered.id, "06")
    assert clerk_.status_code == 200, clerk_.text
    assert [r[2] for r in await outbox_rows(node)] == ["04", "06"]


# -- the command line ---------------------------------------------------------------------------


def lienthong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        timeout=300,
    )


async def test_the_command_line_reports_as_a_user_of_the_agency(
    node: Services, settings: Settings, seeded: Seed, registered: incoming.IncomingView
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(
        LIENTHONG_DATA_DIR=str(settings.data_dir),
        LIENTHONG_DATABASE_URL=str(settings.database_url),
        LIENTHONG_LANG="vi",
    )
    user = seeded.username(AGENCY_A, Role.SIGNER)
    args = ("incoming", "status", "--agency", AGENCY_A, registered.id)
    given = lienthong(env, *args, "04", "--description", "Giao phòng Tổng hợp", "--user", user)
    assert given.returncode == 0, given.stderr
    assert "đã vào sổ" in given.stdout
    assert "04 Giao phòng Tổng hợp (chưa ký)" in given.stdout  # no seal key in this config

    back = lienthong(env, "--lang", "en", *args, "04")
    assert back.returncode == 65, back.stdout
    assert "already assigned (04)" in back.stderr
    archivist = seeded.username(AGENCY_A, Role.ARCHIVIST)
    refused = lienthong(env, *args, "05", "--user", archivist)
    assert refused.returncode == 77 and "vai trò" in refused.stderr

    done = lienthong(env, "--lang", "en", *args, "06")  # the node's operator
    assert done.returncode == 0, done.stderr
    assert "06 Hoàn thành (unsigned)" in done.stdout
    assert [r[2] for r in await outbox_rows(node)] == ["04", "06"]
    actors = [line.actor for line in await audited(node, "incoming.status")]
    assert actors[0] == f"user:{user}" and actors[1].startswith("cli:")


# -- two real nodes -----------------------------------------------------------------------------


@pytest.fixture
def nodes(node_pair: Any) -> tuple[Node, Node]:
    """Two nodes on SQLite (the API tests above cover PostgreSQL)."""
    return node_pair("sqlite")  # type: ignore[no-any-return]


@pytest.mark.hsm
@pytest.mark.slow
def test_the_senders_node_records_04_05_06(nodes: tuple[Node, Node], sample_pdf: bytes) -> None:
    sender, receiver = nodes
    sender.start()
    receiver.start()
    with sender.client() as a, receiver.client() as b:
        doc_id = issue_document(sender, a, sample_pdf, RECEIVER, "V/v báo tình hình xử lý")
        wait_for(lambda: status_of(sender, a, doc_id) == "03", what="status 03 at the sender")
        [arrived] = incoming_list(receiver, b)
        vanthu = receiver.login(b, "vanthu")
        for code in ("04", "05", "06"):
            answer = b.post(
                f"/api/v1/incoming/{arrived['id']}/status",
                headers=vanthu,
                json={"status_code": code, "description": f"Bước {code}"},
            )
            assert answer.status_code == 200, answer.text
        wait_for(lambda: status_of(sender, a, doc_id) == "06", what="status 06 at the sender")
        [view] = recipients(sender, a, doc_id)
        assert [e["status_code"] for e in view["timeline"]] == ["01", "03", "04", "05", "06"]
        assert [e["description"] for e in view["timeline"][2:]] == ["Bước 04", "Bước 05", "Bước 06"]
