"""Exchange service throughput against the signing and validation work it is made of.

Run from the repository root::

    python -m benchmarks.exchange                   # 5 rounds x 4 documents, SQLite
    python -m benchmarks.exchange --quick           # 2 rounds x 2 documents
    python -m benchmarks.exchange --database-url postgresql://postgres@127.0.0.1:5432/bench
    python -m benchmarks.exchange --profile 25      # and where the service's time goes

It prints, in one run:

1. documents issued per second by the service (``exchange.documents``: the clerk's draft, the
   personal signature with the signer's server-side key, then the number from the register,
   the agency seal at B-LT on the main document and every attachment, and the signed edXML
   package), beside the rate of the signing-room calls the service makes for the same
   document (``add_text_fields``, a personal ``PadesSigner`` signature at B-T,
   ``fill_text_fields``, the seal at B-LT with ``add_validation_data``, the attachments'
   seals, ``build_signed``): their ratio is the service's overhead (database, blob store,
   audit log, checks);
2. packages received and verified per second by the service (``exchange.incoming.receive``:
   stored, parsed, package signature and every PDF validated, report and evidence stored,
   registered with an arrival number), beside ``parse_package`` + ``verify_package`` +
   ``validation.validate_bytes`` of every attached PDF of equivalent packages: the service
   receives the packages it issued in 1, the library those its own calls made (the validator
   remembers certificate judgments keyed by the revocation data a document embeds, so the
   same package judged by both would favour whichever side came second).

Both sides use the same keys (a SoftHSM2 token created in a temporary directory, opened by
PKCS#11 URI for every operation, as the service does), the same local development timestamp
authority and OCSP/CRL server, and the same validation policy (the dev root trusted,
revocation from the documents' embedded data, offline). Contenders run round by round in
turn (service, library, service, …) so that a slow patch of the machine costs both alike;
ratios are given as the minimum and the median of the per-round ratios. The target is
printed beside the figures; a missed target prints ``MISSED`` but the exit code stays 0.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

# Run as a script, ``benchmarks/`` heads sys.path and this very file would shadow the
# ``exchange`` package: put the repository root in front of it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchange import accounts, directory, documents, incoming, registers
from exchange.accounts import Principal, Role
from exchange.audit import Actor
from exchange.db import open_engine, upgrade
from exchange.edxml import (
    Attachment,
    Bussiness,
    BussinessDocType,
    Code,
    DocumentType,
    Edoc,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    SignerInfo,
    StaffInfo,
    TraceHeader,
    TraceHeaderList,
    build_signed,
    document_id_for,
    parse_package,
    verify_package,
)
from exchange.service import Services, open_services
from exchange.settings import AgencyConfig, SealKey, Settings, SignerKey
from signing import (
    VIETNAM,
    Anchor,
    AppearanceSpec,
    DevelopmentModeWarning,
    Level,
    PadesSigner,
    PadesSpec,
    PinOptions,
    Profile,
    add_text_fields,
    add_validation_data,
    decree30_date_parts,
    fill_text_fields,
    open_key,
)
from signing.dev.assets import (
    SampleDocument,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
)
from signing.dev.pki import DEV_ORG, DEV_PERSON, DevPki
from signing.dev.services import serve_dev_services
from signing.dev.token import SoftHsmHome, softhsm_module
from signing.pkcs11 import pkcs11_uri
from validation import TrustAnchors, ValidationPolicy, validate_bytes
from validation.judgments import judgments  # the benchmark's own fairness, not an API

SENDER = "000.00.01.H01"
RECEIVER = "000.00.02.H02"
SIGNER = "nguyen-thi-giang"
OPERATOR = Actor(name="cli:benchmark", origin="cli")
NOTATION = "SNV-VP"
DOC = SampleDocument()

SOFTHSM_LABEL = "LienthongBenchX"
TOKEN_PIN = "246810"  # noqa: S105
TOKEN_SO_PIN = "13579111"  # noqa: S105
PIN_ENV = "LIENTHONG_BENCH_TOKEN_PIN"

MAX_OVERHEAD = 0.50
"""The service adds at most 50 % on top of the library work (rate ratio >= 1 / 1.5)."""


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    """Per-round rates of the service and of the library, rounds taken in turn."""

    service: tuple[float, ...]
    library: tuple[float, ...]
    per_round: int

    @property
    def slowdowns(self) -> list[float]:
        """Library rate / service rate, per round: 1.5 means the service takes 50 % longer."""
        return [lib / svc for svc, lib in zip(self.service, self.library, strict=True)]

    def line(self, label: str) -> str:
        svc, lib = statistics.median(self.service), statistics.median(self.library)
        slow = self.slowdowns
        worst, middle = max(slow), statistics.median(slow)
        status = "ok" if middle <= 1 + MAX_OVERHEAD else "MISSED"
        return (
            f"{label}: service {svc:.2f}/s ({1000 / svc:.0f} ms), library {lib:.2f}/s "
            f"({1000 / lib:.0f} ms); service time / library time: min {min(slow):.2f} median "
            f"{middle:.2f} max {worst:.2f} ({len(slow)}x{self.per_round}); "
            f"target <= {1 + MAX_OVERHEAD:.2f}: {status}"
        )


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


Once = Callable[[], Awaitable[None]]


async def interleaved(
    service: Once,
    library: Once,
    per_round: int,
    rounds: int,
    warmup: int,
    before_each: Callable[[], None] | None = None,
) -> Pair:
    """Rates of the two loops, their timed rounds taken in turn, the order alternating from
    round to round (S L, L S, S L, …): the validator's judgment cache favours whichever side
    goes second (packages made within the same second carry the same revocation answers), and
    alternating spreads that over both."""
    for _ in range(warmup):
        await service()
        await library()
    rates: dict[str, list[float]] = {"service": [], "library": []}
    contenders = (("service", service), ("library", library))
    for number in range(rounds):
        for name, once in contenders if number % 2 == 0 else contenders[::-1]:
            start = time.perf_counter()
            for _ in range(per_round):
                if before_each is not None:
                    before_each()
                await once()
            rates[name].append(per_round / (time.perf_counter() - start))
    return Pair(tuple(rates["service"]), tuple(rates["library"]), per_round)


# -- the node -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    settings: Settings
    personal_uri: str
    agency_uri: str
    chain: Path
    policy: ValidationPolicy
    pki: DevPki


def make_token(pki: DevPki, workdir: Path) -> tuple[str, str]:
    """A SoftHSM2 token holding the personal and the agency key; ``SOFTHSM2_CONF`` is set
    before anything loads the module."""
    home = SoftHsmHome(workdir / "softhsm")
    home.create_token(SOFTHSM_LABEL, pin=TOKEN_PIN, so_pin=TOKEN_SO_PIN)
    for n, name in enumerate(("personal", "agency"), start=1):
        home.import_identity(
            SOFTHSM_LABEL,
            pin=TOKEN_PIN,
            label=name,
            key_id=bytes([n]),
            identity=pki.signers[name],
            chain=(pki.issuing, pki.root),
        )
    os.environ["SOFTHSM2_CONF"] = str(home.conf)
    os.environ[PIN_ENV] = TOKEN_PIN
    module = softhsm_module()
    return pkcs11_uri(SOFTHSM_LABEL, "personal", module), pkcs11_uri(
        SOFTHSM_LABEL, "agency", module
    )


def make_node(pki: DevPki, tsa_url: str, workdir: Path, database_url: str | None) -> Node:
    personal_uri, agency_uri = make_token(pki, workdir)
    signature = workdir / "chu-ky.png"
    signature.write_bytes(draw_signature_png(DEV_PERSON))
    seal = workdir / "con-dau.png"
    seal.write_bytes(draw_seal_png(DEV_ORG.upper()))
    chain = workdir / "chain.pem"
    chain.write_bytes(pki.chain_pem())
    root = workdir / "root.pem"
    root.write_bytes(pki.root.cert_pem())
    settings = Settings(
        data_dir=workdir / "data",
        database_url=database_url,
        tsa_urls=(tsa_url,),
        agencies={
            SENDER: AgencyConfig(
                seal=SealKey(key=agency_uri, pin_env=PIN_ENV, chain=chain, seal_image=seal),
                signers={
                    SIGNER: SignerKey(key=personal_uri, pin_env=PIN_ENV, signature_image=signature)
                },
            )
        },
    )
    policy = ValidationPolicy(
        anchors=TrustAnchors.from_files({"public": [root]}), revocation="soft", offline=True
    )
    return Node(settings, personal_uri, agency_uri, chain, policy, pki)


@dataclass(frozen=True, slots=True)
class People:
    clerk: Principal
    signer: Principal
    receiver: Principal


async def seed(node: Node) -> People:
    """Migrate the database; the sending and the receiving agency, their registers and the
    signer (a person: the personal signature is theirs)."""
    async with open_engine(node.settings.database) as engine:
        await upgrade(engine)
    async with open_services(node.settings) as svc, svc.transaction() as session:
        await directory.save(
            session,
            [
                directory.AgencySpec(
                    organ_id=SENDER,
                    name="Sở Nội vụ tỉnh Thái Bình",
                    hosted=True,
                    certificates=(node.pki.signers["agency"].asn1.dump(),),
                ),
                directory.AgencySpec(
                    organ_id=RECEIVER, name="Sở Tài chính tỉnh Thái Bình", hosted=True
                ),
            ],
            actor=OPERATOR,
        )
        clerk = await accounts.operator(session, SENDER, OPERATOR)
        receiver = await accounts.operator(session, RECEIVER, OPERATOR)
        await registers.create_register(
            session, clerk, code="DI", name="Sổ văn bản đi", kind="outgoing"
        )
        await registers.create_register(
            session, receiver, code="DEN", name="Sổ văn bản đến", kind="incoming"
        )
        user = await accounts.add_user(
            session,
            clerk,
            username=SIGNER,
            password="mật khẩu đủ dài 123",  # noqa: S106 - nobody logs in
            roles=frozenset({Role.SIGNER}),
            full_name=DOC.signer_name,
        )
    signer = Principal(
        agency_id=clerk.agency_id,
        organ_id=SENDER,
        roles=frozenset({Role.SIGNER}),
        actor=Actor(name=f"user:{SIGNER}", origin="cli"),
        user_id=user.id,
        username=SIGNER,
    )
    return People(clerk=clerk, signer=signer, receiver=receiver)


def metadata() -> documents.OutgoingMetadata:
    return documents.OutgoingMetadata.parse(
        {
            "register": "DI",
            "type_name": "Công văn",
            "code_notation": NOTATION,
            "subject": DOC.subject,
            "signer_position": DOC.position,
            "signer_full_name": DOC.signer_name,
            "recipients": [RECEIVER],
            "priority": 1,
            "page_amount": 1,
        }
    )


# -- 1. issuing -------------------------------------------------------------------------------


async def _blob(svc: Services, sha256: str) -> bytes:
    return b"".join([chunk async for chunk in svc.blobs.read(sha256)])


def service_issue(
    svc: Services, people: People, pdf: bytes, attachments: Sequence[bytes], out: list[bytes]
) -> Once:
    settings = svc.settings
    meta = metadata()

    async def once() -> None:
        async with svc.transaction() as session:
            view = await documents.create_draft(
                session,
                svc.blobs,
                people.clerk,
                metadata=meta,
                main=documents.Upload(
                    filename="cong-van.pdf", media_type="application/pdf", data=pdf
                ),
                attachments=[
                    documents.Upload(
                        filename=f"phu-luc-{i}.pdf", media_type="application/pdf", data=data
                    )
                    for i, data in enumerate(attachments, 1)
                ],
                max_size=settings.max_upload_bytes,
            )
        key = documents.server_key(settings.agencies, people.signer)
        await documents.sign_personal(
            svc, people.signer, view.id, key=key, tsa_urls=settings.tsa_urls
        )
        seal = documents.seal_of(settings.agencies, people.clerk)
        issued = await documents.issue(
            svc, people.clerk, view.id, seal=seal, tsa_urls=settings.tsa_urls
        )
        assert issued.package_sha256 is not None
        out.append(await _blob(svc, issued.package_sha256))

    return once


def _edoc(number: int, day: date, main: bytes, attachments: Sequence[bytes]) -> Edoc:
    """What the service's package says (From/To, DocumentId, Code, App. VI, TraceHeader)."""
    sender = Organ(organ_id=SENDER, organ_name="Sở Nội vụ tỉnh Thái Bình")
    code = Code(number=f"{number:02d}", notation=NOTATION)
    names = [f"{number:02d}-{NOTATION}.pdf", *(f"phu-luc-{i}.pdf" for i in range(1, 99))]
    return Edoc(
        from_=sender,
        to=(Organ(organ_id=RECEIVER, organ_name="Sở Tài chính tỉnh Thái Bình"),),
        document_id=document_id_for(SENDER, day, code),
        code=code,
        subject=DOC.subject,
        promulgation=PromulgationInfo(date=day),
        document_type=DocumentType(type=1, type_name="Công văn"),
        signer=SignerInfo(full_name=DOC.signer_name, position=DOC.position),
        other_info=OtherInfo(priority=Priority(1)),
        trace=TraceHeaderList(
            headers=(TraceHeader(organ_id=SENDER, timestamp=datetime.now(VIETNAM)),),
            bussiness=Bussiness(
                doc_type=BussinessDocType.NEW,
                staff_info=StaffInfo(department="Văn thư", staff="benchmark"),
            ),
        ),
        attachments=tuple(
            Attachment(content_id=str(i), name=name, data=data, content_type="application/pdf")
            for i, (name, data) in enumerate(zip(names, [main, *attachments], strict=False), 1)
        ),
    )


def library_issue(node: Node, pdf: bytes, attachments: Sequence[bytes], out: list[bytes]) -> Once:
    """The signing-room calls of draft + sign + issue, with the same keys, images and TSA."""
    settings = node.settings
    agency = settings.agencies[SENDER]
    assert agency.seal is not None
    signature_png = agency.signers[SIGNER].signature_image.read_bytes()
    seal_png = agency.seal.seal_image.read_bytes()
    tsa = settings.tsa_urls
    pins = PinOptions(env=PIN_ENV)
    personal = PadesSpec(
        level=Level.B_T,
        tsa_urls=tsa,
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=signature_png,
            placement=Anchor(text=DOC.signer_name, above=DOC.position),
        ),
    )
    main_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=tsa,
        appearance=AppearanceSpec(
            profile=Profile.AGENCY,
            image_png=seal_png,
            seal_diameter_mm=agency.seal.seal_diameter_mm,
        ),
    )
    counter = iter(range(1, 1_000_000))

    async def once() -> None:
        number = next(counter)
        day = datetime.now(VIETNAM).date()
        drafted = await asyncio.to_thread(add_text_fields, pdf)
        async with open_key(node.personal_uri, pins) as key:
            signed, _ = await PadesSigner(key, personal).sign_bytes(drafted)
        filled = await asyncio.to_thread(
            fill_text_fields, signed, {"so": f"{number:02d}", **decree30_date_parts(day)}
        )
        attachment_spec = PadesSpec(
            level=Level.B_LT,
            tsa_urls=tsa,
            appearance=AppearanceSpec(
                profile=Profile.ATTACHMENT, text_lines=(f"{number:02d}/{NOTATION}",)
            ),
        )
        async with open_key(node.agency_uri, pins, chain=node.chain) as key:
            sealed, _ = await PadesSigner(key, main_spec).sign_bytes(filled)
            roots = [c for c in key.chain if c.self_signed != "no"]
            sealed = await add_validation_data(sealed, trust_roots=roots)
            sealed_attachments = [
                (await PadesSigner(key, attachment_spec).sign_bytes(data))[0]
                for data in attachments
            ]
            out.append(await build_signed(_edoc(number, day, sealed, sealed_attachments), key))

    return once


# -- 2. receiving -----------------------------------------------------------------------------


def service_receive(
    svc: Services, people: People, node: Node, packages: list[bytes], states: list[str]
) -> Once:
    receiving = incoming.Receiving(policy=node.policy)
    queue = iter(packages)

    async def once() -> None:
        view = await incoming.receive(svc, people.receiver, next(queue), receiving)
        states.append(f"{view.state} ({view.indication})")

    return once


def library_receive(node: Node, packages: list[bytes], verdicts: list[str]) -> Once:
    """The validation calls of receiving: parse, then the package signature and every
    attached PDF judged concurrently (as the service does)."""
    queue = iter(packages)

    async def once() -> None:
        data = next(queue)
        parsed = await asyncio.to_thread(parse_package, data)
        edoc = parsed.message
        assert isinstance(edoc, Edoc)
        package, reports = await asyncio.gather(
            verify_package(data, node.policy),
            asyncio.gather(
                *(
                    validate_bytes(
                        a.data, node.policy, name=a.name, kind="main" if i == 0 else "attachment"
                    )
                    for i, a in enumerate(edoc.attachments)
                )
            ),
        )
        judged = [package.report, *reports]
        verdicts.append(", ".join(r.indication.name for r in judged))

    return once


# -- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Results:
    issuing: Pair
    receiving: Pair
    states: tuple[str, ...]
    verdicts: tuple[str, ...]
    profile: str


def _top(profiler: cProfile.Profile, limit: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


async def measure(node: Node, args: argparse.Namespace) -> Results:
    pdf = make_sample_cong_van()
    attachments = [make_sample_cong_van()] * args.attachments
    people = await seed(node)
    packages: list[bytes] = []
    library_packages: list[bytes] = []
    states: list[str] = []
    verdicts: list[str] = []
    profile = ""
    async with open_services(node.settings) as svc:
        _progress(f"issuing, interleaved: {args.rounds} x {args.iterations}")
        issuing = await interleaved(
            service_issue(svc, people, pdf, attachments, packages),
            library_issue(node, pdf, attachments, library_packages),
            args.iterations,
            args.rounds,
            args.warmup,
        )
        _progress(f"receiving {len(packages)} packages, interleaved")
        receiving = await interleaved(
            service_receive(svc, people, node, list(packages), states),
            # its own packages: the validator remembers certificate judgments keyed by the
            # revocation data a document embeds, so the same package judged twice would
            # favour whichever side came second
            library_receive(node, library_packages, verdicts),
            args.iterations,
            args.rounds,
            args.warmup,
            # and each package is judged with an empty cache: the packages of both sides were
            # made at the same moments and carry the same revocation answers, so a warm cache
            # would give one side the other's work (and rounds would differ by luck)
            before_each=judgments.clear,
        )
        if args.profile:
            _progress(f"profiling the service: {args.iterations} issued, then received")
            extra: list[bytes] = []
            issue_once = service_issue(svc, people, pdf, attachments, extra)
            issuing_profile = cProfile.Profile()
            for _ in range(args.iterations):
                issuing_profile.enable()
                await issue_once()
                issuing_profile.disable()
            receive_once = service_receive(svc, people, node, extra, [])
            receiving_profile = cProfile.Profile()
            for _ in extra:
                receiving_profile.enable()
                await receive_once()
                receiving_profile.disable()
            profile = (
                f"-- where the service's issuing time goes (this thread only) --\n"
                f"{_top(issuing_profile, args.profile)}"
                f"-- where the service's receiving time goes (this thread only) --\n"
                f"{_top(receiving_profile, args.profile)}"
            )
    return Results(issuing, receiving, tuple(states), tuple(verdicts), profile)


def _backend(url: str | None) -> str:
    if url is None:
        return "SQLite (temporary data directory)"
    return "PostgreSQL" if url.startswith("postgres") else "SQLite (given URL)"


def run(args: argparse.Namespace) -> int:
    print(
        f"lienthong exchange benchmark: {os.cpu_count()} CPUs; {args.rounds} round(s) x "
        f"{args.iterations} document(s), {args.attachments} attachment(s) each, warm-up "
        f"{args.warmup}; database {_backend(args.database_url)}"
    )
    with (
        warnings.catch_warnings(),
        tempfile.TemporaryDirectory(prefix="lienthong-bench-x-") as tmp,
    ):
        warnings.simplefilter("ignore", DevelopmentModeWarning)
        # pyHanko's layout engine logs a rounding remark for every seal box: noise here
        logging.getLogger("pyhanko.pdf_utils.layout").setLevel(logging.ERROR)
        with serve_dev_services() as services:
            pki = DevPki.generate(services.url)
            services.attach(pki)
            node = make_node(pki, services.tsa_url, Path(tmp), args.database_url)
            results = asyncio.run(measure(node, args))
    print(
        f"documents received: {sorted(set(results.states))}; by the library: "
        f"{sorted(set(results.verdicts))}"
    )
    print(results.issuing.line("1 documents issued (sign + number + seal + package)"))
    print(results.receiving.line("2 packages received and verified"))
    if results.profile:
        print()
        print(results.profile)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.exchange", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds x 2 documents")
    parser.add_argument("--iterations", type=int, help="documents per timed round (4; quick 2)")
    parser.add_argument("--rounds", type=int, help="timed rounds, taken in turn (5; quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed documents first (1)")
    parser.add_argument(
        "--attachments", type=int, default=1, help="separate attachments per document (1)"
    )
    parser.add_argument(
        "--database-url",
        help="an empty database to migrate and use (postgresql://…); default: SQLite in a "
        "temporary data directory",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the service: top N functions"
    )
    args = parser.parse_args(argv)
    if args.iterations is None:
        args.iterations = 2 if args.quick else 4
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.iterations < 1 or args.rounds < 1 or args.warmup < 0 or args.attachments < 0:
        parser.error(
            "--iterations and --rounds must be positive, --warmup and --attachments not negative"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
