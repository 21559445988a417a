"""Delivery between two nodes, end to end, against the signing and validation work it is made of.

Run from the repository root::

    python -m benchmarks.delivery                   # 4 rounds x 8 documents over 4 registers
    python -m benchmarks.delivery --quick           # 2 rounds x 4 documents over 2 registers
    python -m benchmarks.delivery --lanes 1         # one register: issues strictly one by one
    python -m benchmarks.delivery --profile 25      # and where each node's event loop spends

Two real nodes run as ``lienthong serve`` processes on 127.0.0.1 (each with its own data
directory, SQLite database, directory and delivery worker, ``delivery_poll_seconds`` from
``--poll``, 0.5 by default: a worker is woken at once by what its own process enqueues, which is
every message of this benchmark, so the poll is only its fallback):
node A hosts the sending agency, node B the receiving one. Each node has its own SoftHSM2
token (A: the signer's personal key and A's seal; B: B's seal), so no two processes share a
token's login. The development TSA and OCSP/CRL server run in this process, as in
``benchmarks.exchange``; both nodes judge with the policy they are configured with (the dev
root trusted, revocation checked).

It prints, in one run:

1. documents delivered per second, end to end: each document is drafted, signed (the
   signer's server key, B-T) and issued (number, seal at B-LT with validation data, signed
   edXML package) on A over its HTTP API; A's worker sends the package to B (a request signed
   with A's key); B verifies the package and both PDF signatures, registers it and answers
   with two signed status messages (01 received, 03 registered), which B's worker sends back
   and A checks and records. A round is timed from its first draft request to the moment A
   recorded the last 03 (the ``received_at`` A's database gives the status). One document
   carries two PDF signatures, a package signature and two signed statuses, no attachment;
2. the latency of each document, from its issue request to the 03 recorded at A (and from its
   draft request), as the 50th and 99th percentile over every timed document;
3. beside them, the library's cost of the same documents, in this process, one document at a
   time: ``benchmarks.exchange.library_issue`` (personal B-T, seal B-LT, ``add_validation_data``,
   ``build_signed``), ``benchmarks.exchange.library_receive`` of the package
   (``parse_package``, ``verify_package``, ``validate_bytes`` of the PDF) with node B's own
   policy, two status messages built and signed with B's key, and both verified with A's
   policy. Its ratio to the delivery says what the delivery machinery (HTTP, node request
   signatures, databases, blob stores, outboxes, workers, audit) adds.

What is honest about the concurrency: issues of one register take turns (the register row
lock, held while the document is sealed, so that a failure leaves no hole in the numbering),
so one register cannot show a node's throughput; the documents of a round are issued by
``--lanes`` clerks at once, each with a register of its own, one document after another,
none waiting for its deliveries. On SQLite every writing transaction takes the database
lock, so the sealing of one issue still holds back every other write on node A (the other
registers' issues, the statuses coming back, the worker's claims): this is what the node
does, and is measured as it is. The delivery side runs in three processes (A, B, this one)
on two cores while the library runs in one, one document after another: the ratio
"delivery time / library time" per document may therefore fall below 1 although the
machinery adds work; the latency beside the library's time per document shows the cost for
one document.

Contenders run round by round in turn (delivery, library, delivery, …) so that a slow patch
of the machine costs both alike; ratios are given as the minimum and the median of the
per-round ratios. The targets are printed beside the figures; a missed target prints
``MISSED`` but the exit code stays 0. ``--profile N`` runs each node under cProfile for the
whole run (start-up and warm-up included; the event loop's thread only, not the worker
threads that sign and validate) and prints its top N functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import func, select

from benchmarks import exchange as bench
from exchange import accounts, directory, incoming, registers
from exchange.accounts import Role
from exchange.audit import Actor
from exchange.db import (
    Document,
    DocumentStatus,
    IncomingDocument,
    OutboxMessage,
    open_engine,
    upgrade,
)
from exchange.edxml import (
    Edoc,
    Organ,
    StatusCode,
    build_message,
    parse_package,
    sign_package,
    status_for,
    verify_package,
)
from exchange.service import Services, open_services
from exchange.settings import Settings, load_settings
from signing import DevelopmentModeWarning, PinOptions, open_key
from signing.dev.assets import draw_seal_png, draw_signature_png, make_sample_cong_van
from signing.dev.pki import DEFAULT_SIGNERS, DEV_ORG, DEV_PERSON, DevPki, SignerSpec
from signing.dev.services import serve_dev_services
from signing.dev.token import SoftHsmHome, softhsm_module
from signing.pkcs11 import pkcs11_uri

ROOT = Path(__file__).resolve().parents[1]
SENDER, RECEIVER, SIGNER = bench.SENDER, bench.RECEIVER, bench.SIGNER
SENDER_NAME = "Sở Nội vụ tỉnh Thái Bình"
RECEIVER_NAME = "Sở Tài chính tỉnh Thái Bình"
CLERK = "van-thu"
PASSWORD = "mật khẩu đủ dài 123"  # noqa: S105 - a throw-away node
OPERATOR = Actor(name="cli:benchmark", origin="cli")
PIN_ENV = bench.PIN_ENV
TOKEN_PIN, TOKEN_SO_PIN = bench.TOKEN_PIN, bench.TOKEN_SO_PIN
B_SEAL = SignerSpec(name="agency-b", kind="organisation", common_name=RECEIVER_NAME)

MIN_RATE = 10.0
"""Documents delivered per second, end to end, at least."""
MAX_SLOWDOWN = 2.0
"""The delivery machinery at most doubles the library's cost."""


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process so far, all its threads (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- the two nodes ----------------------------------------------------------------------------


@dataclass
class NodeProcess:
    """One ``lienthong serve`` process and what it is configured with."""

    name: str
    organ_id: str
    home: Path
    port: int
    env: dict[str, str]
    profile: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.home / "lienthong.toml"

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)

    def start(self) -> None:
        command = [sys.executable]
        if self.profile is not None:
            command += ["-m", "cProfile", "-o", str(self.profile)]
        command += ["-m", "exchange.cli", "serve", "--port", str(self.port)]
        with (self.home / "serve.log").open("ab") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)  # noqa: S603
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/api/v1/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"node {self.name} did not start: {(self.home / 'serve.log').read_text()}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # uvicorn shuts down gracefully on either, then raises the signal again: SIGTERM
            # would end a profiled process before cProfile writes, SIGINT lets it write
            self.proc.send_signal(signal.SIGINT if self.profile else signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@dataclass(frozen=True, slots=True)
class Keys:
    personal: str
    seal_a: str
    seal_b: str
    chain: Path


def make_tokens(pki: DevPki, workdir: Path) -> Keys:
    """Token A (personal, agency seal) and token B (B's seal): one per node process."""
    home = SoftHsmHome(workdir / "softhsm")
    module = softhsm_module()
    uris: dict[str, str] = {}
    for label, names in (
        ("LienthongBenchA", ("personal", "agency")),
        ("LienthongBenchB", ("agency-b",)),
    ):
        home.create_token(label, pin=TOKEN_PIN, so_pin=TOKEN_SO_PIN)
        for n, name in enumerate(names, start=1):
            home.import_identity(
                label,
                pin=TOKEN_PIN,
                label=name,
                key_id=bytes([n]),
                identity=pki.signers[name],
                chain=(pki.issuing, pki.root),
            )
            uris[name] = pkcs11_uri(label, name, module)
    os.environ["SOFTHSM2_CONF"] = str(home.conf)
    os.environ[PIN_ENV] = TOKEN_PIN
    chain = workdir / "chain.pem"
    chain.write_bytes(pki.chain_pem())
    return Keys(uris["personal"], uris["agency"], uris["agency-b"], chain)


def make_nodes(
    pki: DevPki, keys: Keys, tsa_url: str, workdir: Path, *, profile: bool, poll: float = 0.5
) -> tuple[NodeProcess, NodeProcess]:
    signature = workdir / "chu-ky.png"
    signature.write_bytes(draw_signature_png(DEV_PERSON))
    seal = workdir / "con-dau.png"
    seal.write_bytes(draw_seal_png(DEV_ORG.upper()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env[PIN_ENV] = TOKEN_PIN
    nodes = []
    for name, organ_id, seal_key in (("A", SENDER, keys.seal_a), ("B", RECEIVER, keys.seal_b)):
        home = workdir / name.lower()
        trust = home / "data" / "trust"
        trust.mkdir(parents=True)
        (trust / "root.pem").write_bytes(pki.root.cert_pem())
        lines = [
            f'data_dir = "{home / "data"}"',
            f'tsa_urls = ["{tsa_url}"]',
            "delivery_first_delay_seconds = 0.3",
            f"delivery_poll_seconds = {poll}",
        ]
        if organ_id == SENDER:
            lines += [
                f'[agencies."{organ_id}".signers."{SIGNER}"]',
                f'key = "{keys.personal}"',
                f'pin_env = "{PIN_ENV}"',
                f'signature_image = "{signature}"',
            ]
        lines += [
            f'[agencies."{organ_id}".seal]',
            f'key = "{seal_key}"',
            f'pin_env = "{PIN_ENV}"',
            f'chain = "{keys.chain}"',
            f'seal_image = "{seal}"',
        ]
        (home / "lienthong.toml").write_text("\n".join(lines) + "\n")
        node = NodeProcess(
            name=name,
            organ_id=organ_id,
            home=home,
            port=_free_port(),
            env={**env, "LIENTHONG_CONFIG": str(home / "lienthong.toml")},
            profile=home / "serve.prof" if profile else None,
        )
        nodes.append(node)
    return nodes[0], nodes[1]


async def prepare(a: NodeProcess, b: NodeProcess, pki: DevPki, lanes: int) -> None:
    """Migrate both databases; each node's directory knows both agencies (node URL and seal
    certificate); A has a clerk, the signer and one outgoing register per lane, B an
    incoming register."""
    certificates = {
        SENDER: pki.signers["agency"].asn1.dump(),
        RECEIVER: pki.signers["agency-b"].asn1.dump(),
    }
    names = {SENDER: SENDER_NAME, RECEIVER: RECEIVER_NAME}
    for node, other in ((a, b), (b, a)):
        settings = node.settings
        async with open_engine(settings.database) as engine:
            await upgrade(engine)
        async with open_services(settings) as svc, svc.transaction() as session:
            await directory.save(
                session,
                [
                    directory.AgencySpec(
                        organ_id=o.organ_id,
                        name=names[o.organ_id],
                        hosted=o is node,
                        node_url=o.url,
                        certificates=(certificates[o.organ_id],),
                    )
                    for o in (node, other)
                ],
                actor=OPERATOR,
            )
            admin = await accounts.operator(session, node.organ_id, OPERATOR)
            if node is b:
                await registers.create_register(
                    session, admin, code="DEN", name="Sổ văn bản đến", kind="incoming"
                )
                continue
            for username, role, full_name in (
                (CLERK, Role.CLERK, "Văn thư"),
                (SIGNER, Role.SIGNER, bench.DOC.signer_name),
            ):
                await accounts.add_user(
                    session,
                    admin,
                    username=username,
                    password=PASSWORD,
                    roles=frozenset({role}),
                    full_name=full_name,
                )
            for lane in range(1, lanes + 1):
                await registers.create_register(
                    session, admin, code=f"DI{lane}", name=f"Sổ văn bản đi {lane}", kind="outgoing"
                )


# -- 1. the delivery, end to end ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivered:
    """One document's times (wall clock, seconds): asked for its draft, its personal signature
    and its issue; issued (the answer); the package delivered (B answered A's worker: B has
    verified and registered it by then); 03 recorded at A."""

    drafted: float
    signing: float
    issuing: float
    issued: float
    sent: float
    answered: float


@dataclass
class Sender:
    """Node A's HTTP API (a clerk's and the signer's session) and its database."""

    client: httpx.AsyncClient
    svc: Services
    pdf: bytes
    clerk: dict[str, str] = field(default_factory=dict)
    signer: dict[str, str] = field(default_factory=dict)

    async def login(self) -> None:
        for username, headers in ((CLERK, self.clerk), (SIGNER, self.signer)):
            response = await self.client.post(
                "/api/v1/login", json={"username": username, "password": PASSWORD}
            )
            response.raise_for_status()
            headers["Authorization"] = f"Bearer {response.json()['token']}"

    async def issue(self, register: str, n: int) -> tuple[str, tuple[float, float, float, float]]:
        """Draft, sign and issue one document from ``register``: its id and the times of the
        draft, sign and issue requests and of the issue's answer."""
        meta: dict[str, Any] = {
            "register": register,
            "type_name": "Công văn",
            "code_notation": f"{bench.NOTATION}{register}",  # unique per agency and year
            "subject": f"{bench.DOC.subject} ({n})",
            "signer_position": bench.DOC.position,
            "signer_full_name": bench.DOC.signer_name,
            "recipients": [RECEIVER],
        }
        drafted = time.time()
        created = await self.client.post(
            "/api/v1/documents",
            headers=self.clerk,
            data={"metadata": json.dumps(meta)},
            files={"main": ("cong-van.pdf", self.pdf, "application/pdf")},
        )
        _check(created, 201)
        doc_id = str(created.json()["id"])
        signing = time.time()
        _check(await self.client.post(f"/api/v1/documents/{doc_id}/sign", headers=self.signer))
        issuing = time.time()
        _check(await self.client.post(f"/api/v1/documents/{doc_id}/issue", headers=self.clerk))
        return doc_id, (drafted, signing, issuing, time.time())

    async def answered(self, ids: set[str]) -> dict[str, tuple[float, float]]:
        """The documents of ``ids`` whose 03 A has recorded: when their package was delivered
        and when the 03 was recorded."""
        async with self.svc.transaction(read_only=True) as session:
            rows = await session.execute(
                select(Document.public_id, OutboxMessage.delivered_at, DocumentStatus.received_at)
                .join(Document, Document.id == DocumentStatus.document_id)
                .join(
                    OutboxMessage,
                    (OutboxMessage.document_id == Document.id) & (OutboxMessage.kind == "edoc"),
                )
                .where(DocumentStatus.status_code == "03", Document.public_id.in_(ids))
            )
            return {
                public_id: (sent.timestamp() if sent else math.nan, at.timestamp())
                for public_id, sent, at in rows
            }


def _check(response: httpx.Response, status: int = 200) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:500]}")


async def deliver(sender: Sender, count: int, lanes: int, patience: float) -> list[Delivered]:
    """``count`` documents issued by ``lanes`` clerks at once (one register each, one document
    after another), until A has recorded every 03."""
    started: dict[str, tuple[float, float, float, float]] = {}
    numbers = iter(range(count))

    async def lane(register: str) -> None:
        for n in numbers:
            doc_id, times = await sender.issue(register, n)
            started[doc_id] = times

    issuing = asyncio.gather(*(lane(f"DI{i}") for i in range(1, min(lanes, count) + 1)))
    answered: dict[str, tuple[float, float]] = {}
    deadline = time.monotonic() + patience
    while not issuing.done() or len(answered) < len(started):
        # the times come from A's database (received_at), not from this loop: looking less
        # often only ends the round a little later, and keeps this process's reads (which
        # share the two cores) from weighing on the nodes
        await asyncio.sleep(0.2)
        waiting = set(started) - set(answered)
        if waiting:
            answered.update(await sender.answered(waiting))
        if time.monotonic() > deadline:
            issuing.cancel()
            raise RuntimeError(f"{len(started) - len(answered)} document(s) got no 03 in time")
    await issuing
    return [Delivered(*started[i], *answered[i]) for i in started]


# -- 2. the library ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Library:
    """What the library does for one document, one call after another."""

    issue: bench.Once
    receive: bench.Once
    packages: list[bytes]
    verdicts: list[str]


def library(
    a: NodeProcess, b: NodeProcess, pki: DevPki, keys: Keys, pdf: bytes
) -> tuple[Library, Callable[[], Awaitable[float]], list[str]]:
    """The library's issue (personal B-T, seal B-LT, validation data, package), B's
    validation of the package with B's policy, two statuses signed with B's key and verified
    with A's policy; returns the loop of one document (its seconds) and the verdicts."""
    settings_a = a.settings
    policy_b = incoming.trust_policy(b.settings.data_dir, RECEIVER)
    policy_a = incoming.trust_policy(settings_a.data_dir, SENDER)
    node = bench.Node(settings_a, keys.personal, keys.seal_a, keys.chain, policy_b, pki)
    packages: list[bytes] = []
    verdicts: list[str] = []
    issue = bench.library_issue(node, pdf, [], packages)
    receive = bench.library_receive(node, packages, verdicts)
    statuses: list[str] = []
    us = Organ(organ_id=RECEIVER, organ_name=RECEIVER_NAME)

    async def answer(data: bytes, seal: Any) -> None:
        parsed = await asyncio.to_thread(parse_package, data)
        assert isinstance(parsed.message, Edoc)
        for code in (StatusCode.DELIVERED, StatusCode.REGISTERED):
            message = build_message(status_for(parsed, sender=us, code=code))
            signed = await sign_package(message, seal)
            verdict = await verify_package(signed, policy_a, name="status.edxml")
            statuses.append(f"{code.value} {verdict.indication.name}")

    async def once() -> float:
        start = time.perf_counter()
        await issue()
        await receive()
        async with open_key(keys.seal_b, PinOptions(env=PIN_ENV), chain=keys.chain) as seal:
            await answer(packages[-1], seal)
        return time.perf_counter() - start

    return Library(issue, receive, packages, verdicts), once, statuses


# -- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Results:
    rates: tuple[float, ...]
    library_rates: tuple[float, ...]
    per_round: int
    documents: tuple[Delivered, ...]
    library_seconds: tuple[float, ...]
    verdicts: tuple[str, ...]
    statuses: tuple[str, ...]
    registered: int
    cpu: dict[str, float]
    """CPU seconds a document: node A, node B and this process while delivering; this
    process while the library works."""


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def measure(
    a: NodeProcess, b: NodeProcess, pki: DevPki, keys: Keys, args: argparse.Namespace
) -> Results:
    pdf = make_sample_cong_van()
    lib, library_once, statuses = library(a, b, pki, keys, pdf)
    patience = 60 + 30 * args.iterations
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=120) as client,
        open_services(a.settings) as svc,
    ):
        sender = Sender(client, svc, pdf)
        await sender.login()
        _progress(f"warm-up: {args.warmup} document(s) each side")
        if args.warmup:
            await deliver(sender, args.warmup, args.lanes, patience)
            for _ in range(args.warmup):
                await library_once()
        rates: list[float] = []
        library_rates: list[float] = []
        documents: list[Delivered] = []
        library_seconds: list[float] = []
        pids = {"A": _pid(a), "B": _pid(b), "this process": None}
        cpu = dict.fromkeys([*pids, "library"], 0.0)
        for r in range(1, args.rounds + 1):
            before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
            start = time.time()
            delivered = await deliver(sender, args.iterations, args.lanes, patience)
            for name, pid in pids.items():
                cpu[name] += _cpu_seconds(pid) - before[name]
            # from the first draft request to the last 03 A recorded
            elapsed = max(d.answered for d in delivered) - start
            rates.append(len(delivered) / elapsed)
            documents.extend(delivered)
            before_library = _cpu_seconds()
            seconds = [await library_once() for _ in range(args.iterations)]
            cpu["library"] += _cpu_seconds() - before_library
            library_seconds.extend(seconds)
            library_rates.append(len(seconds) / sum(seconds))
            _progress(
                f"round {r}/{args.rounds}: delivery {rates[-1]:.2f}/s, library "
                f"{library_rates[-1]:.2f}/s"
            )
    async with open_services(b.settings) as svc_b, svc_b.transaction(read_only=True) as session:
        registered = await session.scalar(
            select(func.count())
            .select_from(IncomingDocument)
            .where(IncomingDocument.state == "registered")
        )
    return Results(
        tuple(rates),
        tuple(library_rates),
        args.iterations,
        tuple(documents),
        tuple(library_seconds),
        tuple(lib.verdicts),
        tuple(statuses),
        int(registered or 0),
        {name: value / len(documents) for name, value in cpu.items()},
    )


def _pid(node: NodeProcess) -> int:
    assert node.proc is not None
    return node.proc.pid


def report(results: Results, args: argparse.Namespace) -> None:
    docs = results.documents
    issue_latency = [d.answered - d.issuing for d in docs]
    draft_latency = [d.answered - d.drafted for d in docs]
    rate, lib = statistics.median(results.rates), statistics.median(results.library_rates)
    slow = [lr / r for r, lr in zip(results.rates, results.library_rates, strict=True)]
    lib_ms = 1000 * statistics.median(results.library_seconds)
    expected = args.warmup + args.rounds * args.iterations
    print(
        f"registered at B: {results.registered} of {expected}; library verdicts: "
        f"{sorted(set(results.verdicts))}, statuses {sorted(set(results.statuses))}"
    )
    status = "ok" if rate >= MIN_RATE else "MISSED"
    print(
        f"1 documents delivered end to end (A issues, B verifies and registers, 03 back at A): "
        f"median {rate:.2f}/s (min {min(results.rates):.2f}, max {max(results.rates):.2f}; "
        f"{len(results.rates)}x{results.per_round}, {args.lanes} register(s) at once); "
        f"target >= {MIN_RATE:.0f}/s: {status}"
    )
    print(
        f"2 latency, issue request to 03 at A: p50 {1000 * _percentile(issue_latency, 50):.0f} ms, "
        f"p99 {1000 * _percentile(issue_latency, 99):.0f} ms; from the draft request: p50 "
        f"{1000 * _percentile(draft_latency, 50):.0f} ms, p99 "
        f"{1000 * _percentile(draft_latency, 99):.0f} ms ({len(docs)} documents)"
    )
    stages = (
        ("draft request", [d.signing - d.drafted for d in docs]),
        ("personal signature", [d.issuing - d.signing for d in docs]),
        ("issue (number, seal, package)", [d.issued - d.issuing for d in docs]),
        (
            "issued to delivered (A's worker, B verifies and registers)",
            [d.sent - d.issued for d in docs],
        ),
        ("delivered to 03 recorded at A", [d.answered - d.sent for d in docs]),
    )
    print(
        "  where a document's time goes (median ms): "
        + "; ".join(f"{name} {1000 * statistics.median(values):.0f}" for name, values in stages)
    )
    delivery_cpu = sum(v for k, v in results.cpu.items() if k != "library")
    print(
        "  CPU a document while delivering: "
        + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in results.cpu.items() if k != "library")
        + f" (total {1000 * delivery_cpu:.0f} ms); the library's "
        f"{1000 * results.cpu['library']:.0f} ms: {delivery_cpu / results.cpu['library']:.2f}x"
    )
    middle = statistics.median(slow)
    status = "ok" if middle <= MAX_SLOWDOWN else "MISSED"
    print(
        f"3 library, one document at a time (sign + validate + 2 statuses signed and checked): "
        f"median {lib:.2f}/s ({lib_ms:.0f} ms a document); delivery time / library time per "
        f"document: min {min(slow):.2f} median {middle:.2f} max {max(slow):.2f}; target <= "
        f"{MAX_SLOWDOWN:.2f}: {status}; one document's latency (draft to 03, p50) / library "
        f"time: {1000 * _percentile(draft_latency, 50) / lib_ms:.2f}"
    )


def profiles(nodes: Sequence[NodeProcess], limit: int) -> None:
    for node in nodes:
        if node.profile is None or not node.profile.is_file():
            print(f"-- node {node.name}: no profile written --")
            continue
        print(f"-- where node {node.name}'s event loop thread spends (the whole run) --")
        stats = pstats.Stats(str(node.profile), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("cumulative").print_stats(limit)


def run(args: argparse.Namespace) -> int:
    print(
        f"lienthong delivery benchmark: {os.cpu_count()} CPUs; {args.rounds} round(s) x "
        f"{args.iterations} document(s) over {args.lanes} register(s), warm-up {args.warmup}; "
        f"two nodes on SQLite, worker poll {args.poll} s; load average at start "
        f"{os.getloadavg()[0]:.2f} (other work on the machine slows every figure but the CPU)"
    )
    with (
        warnings.catch_warnings(),
        tempfile.TemporaryDirectory(prefix="lienthong-bench-d-") as tmp,
    ):
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        logging.getLogger("pyhanko.pdf_utils.layout").setLevel(logging.ERROR)
        workdir = Path(tmp)
        with serve_dev_services() as services:
            pki = DevPki.generate(services.url, signers=(*DEFAULT_SIGNERS, B_SEAL))
            services.attach(pki)
            keys = make_tokens(pki, workdir)
            a, b = make_nodes(
                pki, keys, services.tsa_url, workdir, profile=bool(args.profile), poll=args.poll
            )
            asyncio.run(prepare(a, b, pki, args.lanes))
            try:
                _progress("starting nodes A and B")
                a.start()
                b.start()
                results = asyncio.run(measure(a, b, pki, keys, args))
            finally:
                a.stop()
                b.stop()
                if args.keep_logs:
                    for node in (a, b):
                        shutil.copy(node.home / "serve.log", f"delivery-{node.name}.log")
        report(results, args)
        if args.profile:  # before the temporary directory goes
            print()
            profiles((a, b), args.profile)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.delivery", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 rounds x 4 documents, 2 registers"
    )
    parser.add_argument("--iterations", type=int, help="documents per timed round (8; quick 4)")
    parser.add_argument("--rounds", type=int, help="timed rounds, taken in turn (4; quick 2)")
    parser.add_argument("--lanes", type=int, help="registers issuing at once (4; quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed documents first (1)")
    parser.add_argument(
        "--poll", type=float, default=0.5, help="the nodes' delivery_poll_seconds (0.5)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile both nodes: top N functions"
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="copy the nodes' logs to delivery-{A,B}.log"
    )
    args = parser.parse_args(argv)
    if args.iterations is None:
        args.iterations = 4 if args.quick else 8
    if args.rounds is None:
        args.rounds = 2 if args.quick else 4
    if args.lanes is None:
        args.lanes = 2 if args.quick else 4
    if args.iterations < 1 or args.rounds < 1 or args.lanes < 1 or args.warmup < 0:
        parser.error("--iterations, --rounds and --lanes must be positive, --warmup not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
