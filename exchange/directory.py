"""The agency directory: who an agency is (as edXML's From/To carry it), how to reach it,
and the certificates it signs its packages and documents with.

Records are parsed once at the border into :class:`AgencySpec` (the OrganId pattern of
QCVN 102 §1.8, App. VI / edXML lengths, a node URL or an e-mail address) and exchanged as
JSON or CSV. An import replaces the named agencies' entries and certificates and leaves the
others alone.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import audit
from exchange.db.models import Agency, AgencyCertificate
from exchange.errors import BadRequest, NotFound

ORGAN_ID = re.compile(r"^[0-9A-Z.]{1,35}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

TEXT_FIELDS: dict[str, int] = {
    "name": 200,
    "organization_in_charge": 200,
    "address": 500,
    "email": 100,
    "telephone": 20,
    "fax": 20,
    "website": 200,
}
"""Contact fields and their longest length (edXML OrganName, OrganizationInCharge, OrganAdd,
Email, Telephone, Fax, Website)."""
CSV_COLUMNS = ("organ_id", *TEXT_FIELDS, "node_url", "mail_address", "hosted", "certificates")


def _bad(en: str, vi: str, where: str) -> BadRequest:
    return BadRequest(f"{where}: {en}", f"{where}: {vi}")


def check_organ_id(value: str, where: str = "OrganId") -> str:
    if not ORGAN_ID.match(value):
        raise _bad(
            f"the agency code {value!r} is not a valid OrganId (1 to 35 of 0-9, A-Z and '.')",
            f"mã định danh {value!r} không hợp lệ (1 đến 35 ký tự 0-9, A-Z và '.')",
            where,
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencySpec:
    """One directory entry, checked."""

    organ_id: str
    name: str
    organization_in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""
    node_url: str | None = None
    """The agency's lienthong node (``https://…``), when it has one."""
    mail_address: str | None = None
    """Where its documents go by e-mail, for mail-only agencies."""
    hosted: bool = False
    """The agency's users, registers and documents live on this node."""
    certificates: tuple[bytes, ...] = field(default=())
    """DER certificates the agency signs with."""

    @classmethod
    def parse(cls, record: Mapping[str, Any], where: str) -> AgencySpec:
        """Check a record from JSON, CSV or the command line."""
        known = {*CSV_COLUMNS}
        unknown = sorted(set(record) - known)
        if unknown:
            raise _bad(
                f"unknown field {unknown[0]!r}", f"trường không hợp lệ {unknown[0]!r}", where
            )
        organ_id = check_organ_id(str(record.get("organ_id") or ""), where)
        texts: dict[str, str] = {}
        for name, longest in TEXT_FIELDS.items():
            value = str(record.get(name) or "").strip()
            if len(value) > longest:
                raise _bad(
                    f"{name} is longer than {longest} characters",
                    f"{name} dài quá {longest} ký tự",
                    where,
                )
            texts[name] = value
        if not texts["name"]:
            raise _bad("the agency name is missing", "thiếu tên cơ quan", where)
        if texts["email"] and not _EMAIL.match(texts["email"]):
            raise _bad("the e-mail address is invalid", "địa chỉ thư điện tử không hợp lệ", where)
        node_url = str(record.get("node_url") or "").strip() or None
        if node_url and (not node_url.startswith(("https://", "http://")) or len(node_url) > 500):
            raise _bad(
                "the node URL must be an http(s) URL", "địa chỉ nút phải là URL http(s)", where
            )
        mail = str(record.get("mail_address") or "").strip() or None
        if mail and (not _EMAIL.match(mail) or len(mail) > 254):
            raise _bad(
                "the delivery e-mail address is invalid",
                "địa chỉ thư điện tử nhận văn bản không hợp lệ",
                where,
            )
        hosted = record.get("hosted", False)
        if isinstance(hosted, str):
            hosted = hosted.strip().lower() in ("1", "true", "yes")
        if not hosted and not node_url and not mail:
            raise _bad(
                "an agency of another node needs its node URL or a delivery e-mail address",
                "cơ quan ở nút khác cần có địa chỉ nút hoặc địa chỉ thư điện tử nhận văn bản",
                where,
            )
        return cls(
            organ_id=organ_id,
            **texts,
            node_url=node_url,
            mail_address=mail,
            hosted=bool(hosted),
            certificates=_parse_certificates(record.get("certificates"), where),
        )

    def to_record(self) -> dict[str, Any]:
        """The JSON form (certificates as PEM)."""
        record: dict[str, Any] = {"organ_id": self.organ_id}
        record.update({name: getattr(self, name) for name in TEXT_FIELDS})
        record.update(node_url=self.node_url, mail_address=self.mail_address, hosted=self.hosted)
        record["certificates"] = [_pem(der) for der in self.certificates]
        return record


def _pem(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _parse_certificates(value: Any, where: str) -> tuple[bytes, ...]:
    """PEM blocks (a list, or one string), or base64 DER separated by spaces (CSV)."""
    if not value:
        return ()
    items = value if isinstance(value, list) else [value]
    ders: list[bytes] = []
    for item in items:
        if not isinstance(item, str):
            raise _bad("a certificate must be text", "chứng thư số phải ở dạng văn bản", where)
        try:
            if "-----BEGIN" in item:
                certs = x509.load_pem_x509_certificates(item.encode())
            else:
                certs = [x509.load_der_x509_certificate(base64.b64decode(p)) for p in item.split()]
        except ValueError as exc:
            raise _bad(
                "a certificate cannot be read", "không đọc được chứng thư số", where
            ) from exc
        ders.extend(cert.public_bytes(encoding=Encoding.DER) for cert in certs)
    return tuple(ders)


# -- files -------------------------------------------------------------------------------


def read_json(data: str) -> list[AgencySpec]:
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"The directory file is not valid JSON (line {exc.lineno}).",
            f"Tệp danh bạ không phải JSON hợp lệ (dòng {exc.lineno}).",
        ) from exc
    records = parsed.get("agencies") if isinstance(parsed, dict) else parsed
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadRequest(
            "The directory file must hold a list of agencies.",
            "Tệp danh bạ phải chứa danh sách cơ quan.",
        )
    return _unique([AgencySpec.parse(r, f"agency {i + 1}") for i, r in enumerate(records)])


def read_csv(data: str) -> list[AgencySpec]:
    reader = csv.DictReader(io.StringIO(data))
    if not reader.fieldnames or "organ_id" not in reader.fieldnames:
        raise BadRequest(
            "The directory file has no organ_id column.", "Tệp danh bạ thiếu cột organ_id."
        )
    specs = []
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row:
            raise _bad("too many fields", "thừa trường", where)
        specs.append(AgencySpec.parse({k: v for k, v in row.items() if v != ""}, where))
    return _unique(specs)


def _unique(specs: list[AgencySpec]) -> list[AgencySpec]:
    seen: set[str] = set()
    for spec in specs:
        if spec.organ_id in seen:
            raise BadRequest(
                f"The agency {spec.organ_id} appears twice.",
                f"Cơ quan {spec.organ_id} xuất hiện hai lần.",
            )
        seen.add(spec.organ_id)
    return specs


def write_json(specs: Iterable[AgencySpec]) -> str:
    records = [spec.to_record() for spec in specs]
    return json.dumps({"agencies": records}, ensure_ascii=False, indent=2) + "\n"


def write_csv(specs: Iterable[AgencySpec]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for spec in specs:
        record = spec.to_record()
        record["hosted"] = "true" if spec.hosted else "false"
        record["node_url"] = spec.node_url or ""
        record["mail_address"] = spec.mail_address or ""
        record["certificates"] = " ".join(base64.b64encode(d).decode() for d in spec.certificates)
        writer.writerow(record)
    return out.getvalue()


# -- the database --------------------------------------------------------------------------


def _spec(agency: Agency, certificates: Sequence[AgencyCertificate]) -> AgencySpec:
    return AgencySpec(
        organ_id=agency.organ_id,
        **{name: getattr(agency, name) for name in TEXT_FIELDS},
        node_url=agency.node_url,
        mail_address=agency.mail_address,
        hosted=agency.hosted,
        certificates=tuple(c.der for c in certificates),
    )


async def save(
    session: AsyncSession, specs: Sequence[AgencySpec], *, actor: audit.Actor
) -> list[Agency]:
    """Insert or replace the entries (and their certificates) of ``specs``."""
    now = datetime.now(UTC)
    saved = []
    for spec in specs:
        agency = await session.scalar(select(Agency).where(Agency.organ_id == spec.organ_id))
        created = agency is None
        if agency is None:
            agency = Agency(organ_id=spec.organ_id, created_at=now)
            session.add(agency)
        for name in TEXT_FIELDS:
            setattr(agency, name, getattr(spec, name))
        agency.node_url, agency.mail_address = spec.node_url, spec.mail_address
        agency.hosted, agency.updated_at = spec.hosted, now
        await session.flush()
        await session.execute(
            delete(AgencyCertificate).where(AgencyCertificate.agency_id == agency.id)
        )
        for der in dict.fromkeys(spec.certificates):
            cert = x509.load_der_x509_certificate(der)
            session.add(
                AgencyCertificate(
                    agency_id=agency.id,
                    sha256=hashlib.sha256(der).hexdigest(),
                    der=der,
                    subject=cert.subject.rfc4514_string()[:1000],
                    not_after=cert.not_valid_after_utc,
                )
            )
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="directory.add" if created else "directory.update",
            agency=spec.organ_id,
            details={"certificates": len(spec.certificates), "hosted": spec.hosted},
        )
        saved.append(agency)
    return saved


async def entries(session: AsyncSession) -> list[AgencySpec]:
    """The whole directory, ordered by OrganId."""
    agencies = (await session.scalars(select(Agency).order_by(Agency.organ_id))).all()
    certs = (await session.scalars(select(AgencyCertificate).order_by(AgencyCertificate.id))).all()
    by_agency: dict[int, list[AgencyCertificate]] = {}
    for cert in certs:
        by_agency.setdefault(cert.agency_id, []).append(cert)
    return [_spec(a, by_agency.get(a.id, [])) for a in agencies]


async def entry(session: AsyncSession, organ_id: str) -> AgencySpec:
    agency = await session.scalar(select(Agency).where(Agency.organ_id == organ_id))
    if agency is None:
        raise NotFound(
            f"No agency {organ_id} in the directory.", f"Không có cơ quan {organ_id} trong danh bạ."
        )
    certs = (
        await session.scalars(
            select(AgencyCertificate)
            .where(AgencyCertificate.agency_id == agency.id)
            .order_by(AgencyCertificate.id)
        )
    ).all()
    return _spec(agency, certs)


async def hosted_agency(session: AsyncSession, organ_id: str) -> Agency:
    """The agency ``organ_id`` if this node hosts it."""
    agency = await session.scalar(
        select(Agency).where(Agency.organ_id == organ_id, Agency.hosted.is_(True))
    )
    if agency is None:
        raise NotFound(
            f"This node hosts no agency {organ_id}.", f"Nút này không phục vụ cơ quan {organ_id}."
        )
    return agency
