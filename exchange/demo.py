"""The demo: two nodes on one machine, a document from one agency to the other, end to end.

On the embedded defaults: a development PKI, SoftHSM2 tokens and a local TSA/OCSP/CRL server
(kept under the data directory and reused; development only, and each part says so), and two
lienthong nodes, Sở Tài chính and UBND tỉnh, each with its own data directory, SQLite
database, agency key and directory, started as ``lienthong serve`` processes on two loopback
ports. Over their HTTP API, as a clerk and a signer would: a công văn drafted at Sở Tài chính,
signed by its director (personal signature), issued (number, date, the agency's seal with a
timestamp) and sent; UBND tỉnh receives it, verifies it, registers it and sends back its
signed statuses (01 arrived, 03 registered). The demo then prints the sender's timeline and
the receiver's verification summary, stops the nodes it started and leaves their data in
this run's folder (``runs/<time>``, the newest also as ``latest``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from exchange import accounts, directory, registers
from exchange.accounts import Role
from exchange.audit import Actor
from exchange.db import open_engine, upgrade
from exchange.devtsa import serve_where_named
from exchange.errors import ExchangeError
from exchange.service import open_services
from exchange.settings import load_settings
from signing import VIETNAM, DevelopmentModeWarning, atomic_output, pkcs11_uri
from signing.dev import (
    DEV_PERSON,
    DevPki,
    SampleDocument,
    SignerSpec,
    SoftHsmHome,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
    softhsm_module,
)

Say = Callable[[str, str], None]
"""Tells the user what the demo is doing: the English line, then the Vietnamese one (the
caller picks one)."""

DEV_PIN = "123456"
DEV_SO_PIN = "12345678"
DEV_PORT = 8397
PASSWORD = "mật khẩu thử nghiệm 123"  # noqa: S105 (development users, printed)
"""The demo users' password (development only)."""
ACTOR = Actor(name="cli:demo", origin="cli")
STATUS_TIMEOUT = 90.0
"""Seconds to wait for status 03 at the sender."""
ARRIVED_GRACE = 10.0
"""Seconds to wait, once 03 is there, for the 01 that came after it."""
START_TIMEOUT = 45.0
"""Seconds for a node to answer after it was started."""
FINAL_NAME = "cong-van.pdf"
"""The issued document as the sender keeps it, in each run's folder."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    """One agency of the demo, on its own node."""

    organ_id: str
    name: str
    """As the directory names it."""
    legal_name: str
    """Its certificates' organisation."""
    slug: str
    """Its node's folder in the run's folder."""
    seal_label: str
    seal_signer: str
    """The agency certificate's name in the development PKI."""
    personal_label: str | None = None
    personal_signer: str | None = None


SENDER = Agency(
    organ_id="000.00.01.H53",
    name="Sở Tài chính",
    legal_name="Sở Tài chính tỉnh Thái Bình",
    slug="so-tai-chinh",
    seal_label="STC Seal",
    seal_signer="stc-agency",
    personal_label="STC Personal",
    personal_signer="stc-personal",
)
RECEIVER = Agency(
    organ_id="000.00.00.H53",
    name="UBND tỉnh",
    legal_name="Ủy ban nhân dân tỉnh Thái Bình",
    slug="ubnd-tinh",
    seal_label="UBND Seal",
    seal_signer="ubnd-agency",
)
AGENCIES = (SENDER, RECEIVER)

SIGNERS = (
    SignerSpec(
        name="stc-personal",
        kind="individual",
        common_name=DEV_PERSON,
        organisation=SENDER.legal_name,
    ),
    SignerSpec(
        name="stc-agency",
        kind="organisation",
        common_name=SENDER.legal_name,
        organisation=SENDER.legal_name,
    ),
    SignerSpec(
        name="ubnd-agency",
        kind="organisation",
        common_name=RECEIVER.legal_name,
        organisation=RECEIVER.legal_name,
        key="ec256",
    ),
)
"""The certificates the demo issues from its development PKI (once; a PKI made by an older
demo gets them the next time)."""

DOC = SampleDocument(
    agency="SỞ TÀI CHÍNH",
    notation_suffix="STC-VP",
    subject="V/v hướng dẫn lập dự toán ngân sách năm 2027",
    recipients=("Ủy ban nhân dân tỉnh",),
    body=(
        "Thực hiện Luật Ngân sách nhà nước và các văn bản hướng dẫn, Sở Tài chính báo cáo "
        "Ủy ban nhân dân tỉnh hướng dẫn lập dự toán ngân sách năm 2027 như sau:",
        "1. Các sở, ban, ngành và địa phương lập dự toán thu, chi ngân sách năm 2027 theo "
        "đúng biểu mẫu, gửi Sở Tài chính trước ngày 15 tháng 7 năm 2026.",
        "2. Văn bản gửi, nhận giữa các cơ quan được ký số bởi người có thẩm quyền và ký số "
        "của cơ quan, tổ chức theo quy định tại Nghị định số 30/2020/NĐ-CP.",
        "Sở Tài chính kính báo cáo Ủy ban nhân dân tỉnh xem xét, chỉ đạo./.",
    ),
    copies_to=("Như trên", "Giám đốc Sở (để b/c)", "Lưu: VT, NS"),
)


class DemoFailed(ExchangeError):
    """The demo did not get its document to status 03 at the sender."""

    code = "exchange.demo_failed"
    exit_code = 69


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeResult:
    organ_id: str
    name: str
    home: Path
    """The node's folder: lienthong.toml, serve.log, data/ (database, blobs, trust)."""
    config: Path
    database: Path
    log: Path
    url: str
    """Where it listened while the demo ran."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    """What a run did and left behind."""

    run_dir: Path
    """This run's folder under ``<data_dir>/runs``; ``<data_dir>/latest`` points to it."""
    data_dir: Path
    sender: NodeResult
    receiver: NodeResult
    document_id: str
    """The document's id at the sender."""
    output: Path
    """The issued document as the sender keeps it: ``<run_dir>/cong-van.pdf``."""
    recipient: dict[str, Any]
    """The sender's view of the recipient (``GET …/recipients``): delivery and timeline."""
    incoming: dict[str, Any]
    """The receiver's record of the document (``GET /api/v1/incoming``)."""
    elapsed: float
    """Seconds from the start of the run to status 03 at the sender."""


# -- what is created once and reused ---------------------------------------------------------


def _free_port() -> int:
    """A free port the system picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _claim_port(preferred: int) -> socket.socket:
    """A socket bound to ``preferred`` if nothing has it now, else to a port the system
    picks: held until the development services take the port, so that a demo starting at
    the same time with another data directory does not choose it too."""
    for port in (preferred, 0):
        claim = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            claim.bind(("127.0.0.1", port))
        except OSError:
            claim.close()
            continue
        return claim
    raise OSError("no free port on 127.0.0.1")


def _ensure_pki(directory: Path, say: Say) -> tuple[DevPki, socket.socket | None]:
    """The PKI, and when it is new the claim on its responder's port."""
    claim = None
    if (directory / "pki.json").exists():
        pki = DevPki.load(directory)
    else:
        say(
            f"creating a development PKI in {directory}",
            f"đang tạo hệ thống chứng thư số thử nghiệm trong {directory}",
        )
        # the certificates name where their OCSP responder and CRLs are: the port the
        # development services will listen on in every run with this PKI
        claim = _claim_port(DEV_PORT)
        port = claim.getsockname()[1]
        pki = DevPki.generate(f"http://127.0.0.1:{port}", signers=SIGNERS)
    missing = [spec for spec in SIGNERS if spec.name not in pki.signers]
    for spec in missing:
        pki.issue(spec)
    if missing or not (directory / "pki.json").exists():
        pki.save(directory)
    return pki, claim


def _tokens() -> Iterator[tuple[str, str, str]]:
    """(token label, key label, signer name) of every development token the demo uses."""
    for agency in AGENCIES:
        if agency.personal_label and agency.personal_signer:
            yield agency.personal_label, "signature", agency.personal_signer
        yield agency.seal_label, "seal", agency.seal_signer


def _ensure_tokens(home: SoftHsmHome, pki: DevPki, say: Say) -> None:
    home.ensure()
    for label, obj, signer in _tokens():
        if home.has_token(label):
            continue
        say(
            f"creating the SoftHSM2 token {label!r} (PIN {DEV_PIN}, development only)",
            f"đang tạo token SoftHSM2 {label!r} (PIN {DEV_PIN}, chỉ để thử nghiệm)",
        )
        home.create_token(label, pin=DEV_PIN, so_pin=DEV_SO_PIN)
        home.import_identity(
            label,
            pin=DEV_PIN,
            label=obj,
            key_id=b"\x01",
            identity=pki.signers[signer],
            chain=(pki.issuing, pki.root),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Setup:
    home: SoftHsmHome
    pki: DevPki
    module: str
    pin_file: Path
    pki_dir: Path
    art: Path
    runs_dir: Path
    claim: socket.socket | None
    """Holds the new PKI's responder port until the development services listen there."""


def _setup(data_dir: Path, say: Say) -> _Setup:
    """Everything that is created once and reused: PKI, tokens, PIN file, images."""
    data_dir.mkdir(parents=True, exist_ok=True)
    home = SoftHsmHome(data_dir / "softhsm")
    home.ensure()
    os.environ["SOFTHSM2_CONF"] = str(home.conf)
    pki_dir = data_dir / "pki"
    pki, claim = _ensure_pki(pki_dir, say)
    chain = pki_dir / "chain.cert.pem"
    if not chain.exists():
        chain.write_bytes(pki.chain_pem())
    _ensure_tokens(home, pki, say)
    pin_file = home.root / "pin"
    if not pin_file.exists():
        pin_file.write_text(DEV_PIN, encoding="utf-8")
        pin_file.chmod(0o600)
    art = data_dir / "art"
    art.mkdir(exist_ok=True)
    images: dict[str, tuple[str, Callable[[str], bytes]]] = {
        "signature.png": (DEV_PERSON, draw_signature_png),
        **{f"seal-{a.slug}.png": (a.legal_name.upper(), draw_seal_png) for a in AGENCIES},
    }
    for name, (text, draw) in images.items():
        if not (art / name).exists():
            (art / name).write_bytes(draw(text))
    runs_dir = data_dir / "runs"
    runs_dir.mkdir(exist_ok=True)
    return _Setup(
        home=home,
        pki=pki,
        module=softhsm_module(),
        pin_file=pin_file,
        pki_dir=pki_dir,
        art=art,
        runs_dir=runs_dir,
        claim=claim,
    )


# -- the two nodes ---------------------------------------------------------------------------


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(slots=True, kw_only=True)
class _Node:
    agency: Agency
    home: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.home / "lienthong.toml"

    @property
    def log(self) -> Path:
        return self.home / "serve.log"

    def result(self) -> NodeResult:
        return NodeResult(
            organ_id=self.agency.organ_id,
            name=self.agency.name,
            home=self.home,
            config=self.config,
            database=self.home / "data" / "lienthong.db",
            log=self.log,
            url=self.url,
        )


def _write_config(node: _Node, setup: _Setup, tsa_url: str) -> None:
    agency, home = node.agency, node.home
    trust = home / "data" / "trust"
    trust.mkdir(parents=True)
    shutil.copyfile(setup.pki_dir / "root.cert.pem", trust / "root.pem")
    module = setup.module
    lines = [
        "# lienthong node of the demo (development only: dev PKI, SoftHSM2 tokens, dev TSA)",
        f"data_dir = {_toml(str(home / 'data'))}",
        f"port = {node.port}",
        f"tsa_urls = [{_toml(tsa_url)}]",
        "delivery_first_delay_seconds = 0.2",
        "delivery_poll_seconds = 0.3",
    ]
    if agency.personal_label:
        lines += [
            "",
            f"[agencies.{_toml(agency.organ_id)}.signers.giamdoc]",
            f"key = {_toml(pkcs11_uri(agency.personal_label, 'signature', module))}",
            f"pin_file = {_toml(str(setup.pin_file))}",
            f"signature_image = {_toml(str(setup.art / 'signature.png'))}",
        ]
    lines += [
        "",
        f"[agencies.{_toml(agency.organ_id)}.seal]",
        f"key = {_toml(pkcs11_uri(agency.seal_label, 'seal', module))}",
        f"pin_file = {_toml(str(setup.pin_file))}",
        f"chain = {_toml(str(setup.pki_dir / 'chain.cert.pem'))}",
        f"seal_image = {_toml(str(setup.art / f'seal-{agency.slug}.png'))}",
    ]
    node.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(
        LIENTHONG_CONFIG=str(node.config),
        SOFTHSM2_CONF=str(setup.home.conf),
        PYTHONWARNINGS="ignore",
    )
    node.env = env


async def _prepare(node: _Node, other: _Node, certificates: dict[str, bytes]) -> None:
    """Schema, directory (itself and the other node), users vanthu/giamdoc, registers."""
    # the node's own file decides where its data is, whatever this shell's LIENTHONG_*
    # variables say (the nodes are started without them)
    settings = load_settings(
        node.config, data_dir=node.home / "data", database_url=None, blob_dir=None
    )
    async with open_engine(settings.database) as engine:
        await upgrade(engine)
    async with open_services(settings) as svc, svc.transaction() as session:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=n.agency.organ_id,
                    name=n.agency.name,
                    hosted=n is node,
                    node_url=n.url,
                    certificates=(certificates[n.agency.organ_id],),
                )
                for n in (node, other)
            ],
            actor=ACTOR,
        )
        admin = await accounts.operator(session, node.agency.organ_id, ACTOR)
        for name, role in (("vanthu", Role.CLERK), ("giamdoc", Role.SIGNER)):
            await accounts.add_user(
                session, admin, username=name, password=PASSWORD, roles=frozenset({role})
            )
        await registers.create_register(
            session, admin, code="DI", name="Sổ văn bản đi", kind="outgoing"
        )
        await registers.create_register(
            session, admin, code="DEN", name="Sổ văn bản đến", kind="incoming"
        )


def _start(node: _Node) -> None:
    with node.log.open("ab") as log:  # the child keeps its own copy
        node.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "exchange.cli", "serve", "--port", str(node.port)],
            cwd=node.home,
            env=node.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


async def _wait_until_up(node: _Node, client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            await client.get(f"{node.url}/api/v1/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            pass
        assert node.proc is not None  # noqa: S101
        if node.proc.poll() is not None or time.monotonic() > deadline:
            tail = node.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            last = tail[-1] if tail else ""
            raise DemoFailed(
                f"the node of {node.agency.name} did not start on {node.url} ({last}); "
                f"its log: {node.log}",
                f"nút của {node.agency.name} không khởi động được tại {node.url} ({last}); "
                f"nhật ký: {node.log}",
            )
        await asyncio.sleep(0.1)


def _stop(nodes: list[_Node]) -> None:
    """Terminate the nodes, wait for them; kill one that does not end."""
    running = [n.proc for n in nodes if n.proc is not None and n.proc.poll() is None]
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    for node in nodes:
        node.proc = None


# -- the flow over HTTP ----------------------------------------------------------------------


async def _call(
    client: httpx.AsyncClient, method: str, url: str, what: tuple[str, str], **kwargs: Any
) -> Any:
    response = await client.request(method, url, **kwargs)
    if response.status_code >= 400:
        try:
            detail = response.json().get("message") or response.text
        except ValueError:
            detail = response.text
        raise DemoFailed(
            f"{what[0]} failed: HTTP {response.status_code} {detail}",
            f"{what[1]} không thành công: HTTP {response.status_code} {detail}",
        )
    return response.json() if "json" in response.headers.get("content-type", "") else response


async def _login(client: httpx.AsyncClient, node: _Node, username: str) -> dict[str, str]:
    if username not in node.sessions:
        body = await _call(
            client,
            "POST",
            f"{node.url}/api/v1/login",
            (f"logging in as {username}", f"đăng nhập {username}"),
            json={"username": username, "password": PASSWORD},
        )
        node.sessions[username] = {"Authorization": f"Bearer {body['token']}"}
    return node.sessions[username]


def _at(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


async def _send(
    client: httpx.AsyncClient, sender: _Node, receiver: _Node, pdf: bytes, say: Say
) -> str:
    """Draft (clerk), sign (director), issue (clerk): the document's id at the sender."""
    clerk = await _login(client, sender, "vanthu")
    signer = await _login(client, sender, "giamdoc")
    meta = {
        "register": "DI",
        "type_name": "Công văn",
        "code_notation": DOC.notation_suffix,
        "subject": DOC.subject,
        "signer_position": DOC.position,
        "signer_full_name": DOC.signer_name,
        "recipients": [receiver.agency.organ_id],
    }
    say(
        f"{sender.agency.name}: the clerk (vanthu) drafts “{DOC.subject}” to "
        f"{receiver.agency.name}",
        f"{sender.agency.name}: văn thư (vanthu) soạn dự thảo “{DOC.subject}” gửi "
        f"{receiver.agency.name}",
    )
    created = await _call(
        client,
        "POST",
        f"{sender.url}/api/v1/documents",
        ("drafting", "tạo dự thảo"),
        headers=clerk,
        data={"metadata": json.dumps(meta, ensure_ascii=False)},
        files={"main": ("cong-van.pdf", pdf, "application/pdf")},
    )
    doc_id = str(created["id"])
    say(
        f"{sender.agency.name}: the director (giamdoc) signs it (personal signature, token "
        f"{sender.agency.personal_label!r})",
        f"{sender.agency.name}: giám đốc (giamdoc) ký số cá nhân (token "
        f"{sender.agency.personal_label!r})",
    )
    await _call(
        client,
        "POST",
        f"{sender.url}/api/v1/documents/{doc_id}/sign",
        ("the personal signature", "ký số cá nhân"),
        headers=signer,
    )
    say(
        f"{sender.agency.name}: the clerk issues it (number, date, the agency's seal with a "
        f"timestamp, token {sender.agency.seal_label!r}) and sends it",
        f"{sender.agency.name}: văn thư ban hành (cấp số, ngày, ký số của cơ quan kèm dấu thời "
        f"gian, token {sender.agency.seal_label!r}) và gửi đi",
    )
    await _call(
        client,
        "POST",
        f"{sender.url}/api/v1/documents/{doc_id}/issue",
        ("issuing", "ban hành"),
        headers=clerk,
    )
    return doc_id


async def _wait_for_registered(
    client: httpx.AsyncClient, sender: _Node, doc_id: str, say: Say
) -> dict[str, Any]:
    """Poll the sender's view of the recipient until status 03, telling each new status."""
    clerk = await _login(client, sender, "vanthu")
    url = f"{sender.url}/api/v1/documents/{doc_id}/recipients"
    started = time.monotonic()
    told: set[str] = set()
    registered_at: float | None = None
    last_progress = started
    while True:
        views = await _call(client, "GET", url, ("following", "theo dõi"), headers=clerk)
        view: dict[str, Any] = views[0] if views else {}
        for event in view.get("timeline", ()):
            key = f"{event['status_code']}@{event['stated_at']}"
            if key not in told:
                told.add(key)
                say(
                    f"{sender.agency.name} receives status {event['status_code']} "
                    f"({_at(event['stated_at'])}): {event['description']}",
                    f"{sender.agency.name} nhận trạng thái {event['status_code']} "
                    f"({_at(event['stated_at'])}): {event['description']}",
                )
        codes = {event["status_code"] for event in view.get("timeline", ())}
        if "03" in codes:
            # the receiver sends 01 and 03 as two messages, and 03 may come first: a moment
            # more for 01, so that the timeline shows both (03 alone is success all the same)
            registered_at = registered_at or time.monotonic()
            if "01" in codes or time.monotonic() - registered_at > ARRIVED_GRACE:
                return view
        waited = time.monotonic() - started
        if view.get("delivery") == "failed" or waited > STATUS_TIMEOUT:
            error = view.get("last_error") or "-"
            raise DemoFailed(
                f"the document did not reach status 03 at the sender in {waited:.0f} s "
                f"(delivery: {view.get('delivery')}, last status: {view.get('status_code')}, "
                f"last error: {error})",
                f"văn bản chưa đạt trạng thái 03 tại nơi gửi sau {waited:.0f} giây "
                f"(chuyển: {view.get('delivery')}, trạng thái gần nhất: "
                f"{view.get('status_code')}, lỗi gần nhất: {error})",
            )
        if time.monotonic() - last_progress >= 5:
            last_progress = time.monotonic()
            say(
                f"waiting for status 03 ({waited:.0f} s, delivery: {view.get('delivery')}, "
                f"attempts: {view.get('attempts')})",
                f"đang chờ trạng thái 03 ({waited:.0f} giây, chuyển: {view.get('delivery')}, "
                f"số lần gửi: {view.get('attempts')})",
            )
        await asyncio.sleep(0.3)


async def run_demo(data_dir: Path, say: Say) -> DemoResult:
    clock = time.monotonic()
    data_dir = await asyncio.to_thread(data_dir.resolve)
    setup = await asyncio.to_thread(_setup, data_dir, say)
    started = datetime.now(VIETNAM)
    run_dir = await asyncio.to_thread(_new_run_dir, setup.runs_dir, started)
    await asyncio.to_thread(_point_latest, data_dir, run_dir)
    say(f"this run's files go to {run_dir}", f"các tệp của lần chạy này nằm trong {run_dir}")
    nodes = [_Node(agency=a, home=run_dir / a.slug, port=_free_port()) for a in AGENCIES]
    sender, receiver = nodes
    certificates = {a.organ_id: setup.pki.signers[a.seal_signer].asn1.dump() for a in AGENCIES}
    if setup.claim is not None:
        setup.claim.close()  # the development services take the port now
    with serve_where_named(setup.pki, DEV_PORT) as services:
        for node in nodes:
            node.home.mkdir()
            await asyncio.to_thread(_write_config, node, setup, services.tsa_url)
        await _prepare(sender, receiver, certificates)
        await _prepare(receiver, sender, certificates)
        try:
            for node in nodes:
                say(
                    f"starting the node of {node.agency.name} ({node.agency.organ_id}) on "
                    f"{node.url}",
                    f"đang khởi động nút của {node.agency.name} ({node.agency.organ_id}) tại "
                    f"{node.url}",
                )
                _start(node)
            # the sample is written while the nodes start
            drafting = asyncio.create_task(asyncio.to_thread(make_sample_cong_van, DOC))
            async with httpx.AsyncClient(timeout=60) as client:
                for node in nodes:
                    await _wait_until_up(node, client)
                pdf = await drafting
                await asyncio.to_thread(_write, run_dir / "1-draft.pdf", pdf)
                doc_id = await _send(client, sender, receiver, pdf, say)
                view = await _wait_for_registered(client, sender, doc_id, say)
                elapsed = time.monotonic() - clock
                clerk = await _login(client, sender, "vanthu")
                issued = await client.get(
                    f"{sender.url}/api/v1/documents/{doc_id}/pdf", headers=clerk
                )
                output = run_dir / FINAL_NAME
                await asyncio.to_thread(_write, output, issued.content)
                arrived = await _call(
                    client,
                    "GET",
                    f"{receiver.url}/api/v1/incoming",
                    ("reading the incoming documents", "đọc văn bản đến"),
                    headers=await _login(client, receiver, "vanthu"),
                )
        finally:
            # also on a failure or Ctrl+C (the task is cancelled): no node is left running
            say("stopping both nodes", "đang dừng hai nút")
            _stop(nodes)
    mine = [a for a in arrived if a.get("sender") == SENDER.organ_id]
    return DemoResult(
        run_dir=run_dir,
        data_dir=data_dir,
        sender=sender.result(),
        receiver=receiver.result(),
        document_id=doc_id,
        output=output,
        recipient=view,
        incoming=mine[-1] if mine else {},
        elapsed=elapsed,
    )


def _new_run_dir(runs: Path, started: datetime) -> Path:
    """``runs/YYYYMMDD-HHMMSS`` (with a suffix if two runs start in the same second)."""
    base = f"{started:%Y%m%d-%H%M%S}"
    for n in range(100):
        path = runs / (base if n == 0 else f"{base}-{n}")
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(runs / base)


def _write(path: Path, data: bytes) -> None:
    with atomic_output(path) as out:
        out.write(data)


def _point_latest(data_dir: Path, run_dir: Path) -> None:
    """``latest`` beside ``runs``: a symbolic link to the newest run, replaced atomically."""
    link = data_dir / "latest"
    tmp = data_dir / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.relative_to(data_dir))
    tmp.replace(link)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo_sync(data_dir: Path, say: Say) -> DemoResult:
    """:func:`run_demo`; SIGTERM ends it as Ctrl+C does, so the nodes are stopped too."""
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("once", DevelopmentModeWarning)
            return asyncio.run(run_demo(data_dir, say))
    finally:
        signal.signal(signal.SIGTERM, previous)
