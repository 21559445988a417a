"""Registers (sổ đăng ký) and their yearly numbering.

A register's sequence starts at 1 on 1 January, Vietnam time (Art. 15(1) for outgoing
numbers, Art. 22(2) for arrival numbers). A number is taken inside the transaction of the use
case that needs it: the register row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
transactions hold the database lock from their start), the number is read and the counter
moved on, and both are committed with the document. A request that fails rolls the counter
back with everything else, so a failure leaves no hole, and two requests never get the same
number. Number and notation are also unique per agency and year in the database itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import audit
from exchange.accounts import Principal
from exchange.db.models import Register, RegisterEntry
from exchange.errors import BadRequest, Conflict, NotFound

VIETNAM = timezone(timedelta(hours=7), "ICT")
KINDS = ("outgoing", "incoming")
_CODE = re.compile(r"^[0-9A-Za-z._-]{1,30}$")


def vietnam_year(moment: datetime) -> int:
    """The year ``moment`` falls in, Vietnam time (the numbering year)."""
    return moment.astimezone(VIETNAM).year


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterView:
    code: str
    name: str
    kind: str
    year: int
    next_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    """A number given out by a register."""

    register: str
    year: int
    number: int
    notation: str | None
    issued_at: datetime

    @property
    def number_text(self) -> str:
        """The number as Decree 30 writes an outgoing one (Art. 15(1): from 01): two digits at
        least, no other leading zero (``01``, ``12``, ``178``); an arrival number as it is."""
        return f"{self.number:02d}" if self.notation else str(self.number)

    @property
    def text(self) -> str:
        """``12/QĐ-UBND`` (or just ``12`` for an arrival number)."""
        return f"{self.number_text}/{self.notation}" if self.notation else self.number_text


def _view(register: Register) -> RegisterView:
    return RegisterView(
        code=register.code,
        name=register.name,
        kind=register.kind,
        year=register.year,
        next_number=register.next_number,
    )


async def create_register(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    name: str,
    kind: str,
    now: datetime | None = None,
) -> RegisterView:
    if not _CODE.match(code):
        raise BadRequest(
            "A register code has 1 to 30 of A-Z, a-z, 0-9, '.', '_' and '-'.",
            "Mã sổ gồm 1 đến 30 ký tự A-Z, a-z, 0-9, '.', '_' và '-'.",
        )
    if kind not in KINDS:
        raise BadRequest(
            "A register is either outgoing or incoming.", "Sổ phải là sổ văn bản đi hoặc đến."
        )
    if not name.strip() or len(name) > 200:
        raise BadRequest(
            "A register needs a name of at most 200 characters.",
            "Sổ cần một tên dài tối đa 200 ký tự.",
        )
    existing = await session.scalar(
        select(Register.id).where(Register.agency_id == principal.agency_id, Register.code == code)
    )
    if existing is not None:
        raise Conflict(f"The register {code} exists already.", f"Sổ {code} đã có.")
    moment = now or datetime.now(UTC)
    register = Register(
        agency_id=principal.agency_id,
        code=code,
        name=name.strip(),
        kind=kind,
        year=vietnam_year(moment),
        next_number=1,
        created_at=moment,
    )
    session.add(register)
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="register.create",
        agency=principal.organ_id,
        details={"register": code, "kind": kind},
    )
    return _view(register)


async def list_registers(session: AsyncSession, principal: Principal) -> list[RegisterView]:
    rows = await session.scalars(
        select(Register).where(Register.agency_id == principal.agency_id).order_by(Register.code)
    )
    return [_view(r) for r in rows]


async def _register(
    session: AsyncSession, principal: Principal, code: str, *, lock: bool
) -> Register:
    query = select(Register).where(Register.agency_id == principal.agency_id, Register.code == code)
    if lock:
        query = query.with_for_update()
    register = await session.scalar(query)
    if register is None:
        raise NotFound("No such register.", "Không có sổ này.")
    return register


async def get_register(session: AsyncSession, principal: Principal, code: str) -> RegisterView:
    return _view(await _register(session, principal, code, lock=False))


def check_notation(notation: str) -> str:
    value = notation.strip()
    if not value or len(value) > 30 or "/" in value or any(c.isspace() for c in value):
        raise BadRequest(
            "The notation (ký hiệu) needs 1 to 30 characters, without '/' or spaces.",
            "Ký hiệu văn bản cần 1 đến 30 ký tự, không có '/' hay khoảng trắng.",
        )
    return value


async def allocate(
    session: AsyncSession,
    principal: Principal,
    *,
    register: str,
    notation: str | None = None,
    subject: str = "",
    now: datetime | None = None,
) -> Number:
    """The register's next number, in ``session``'s transaction (see the module docstring)."""
    row = await _register(session, principal, register, lock=True)
    if row.kind == "outgoing":
        if notation is None:
            raise BadRequest(
                "An outgoing number needs its notation (ký hiệu).",
                "Số văn bản đi cần có ký hiệu.",
            )
        notation = check_notation(notation)
    elif notation is not None:
        raise BadRequest("An arrival number has no notation.", "Số đến không có ký hiệu.")
    if len(subject) > 500:
        raise BadRequest(
            "The subject is longer than 500 characters.", "Trích yếu dài quá 500 ký tự."
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    year = vietnam_year(moment)
    if year < row.year:
        raise Conflict(
            f"The register is numbering {row.year} already; the clock says {year}.",
            f"Sổ đang đánh số năm {row.year}; đồng hồ hệ thống lại là năm {year}.",
        )
    if year > row.year:  # the first number of a new year is 1
        row.year, row.next_number = year, 1
    number = row.next_number
    row.next_number = number + 1
    entry = RegisterEntry(
        register_id=row.id,
        agency_id=principal.agency_id,
        year=year,
        number=number,
        notation=notation,
        issued_at=moment,
        subject=subject,
        created_by=principal.actor.name,
    )
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"The number {number}/{notation} is used already this year.",
            f"Số {number}/{notation} đã được dùng trong năm nay.",
        ) from exc
    result = Number(
        register=row.code, year=year, number=number, notation=notation, issued_at=moment
    )
    await audit.record(
        session,
        actor=principal.actor,
        action="register.number",
        agency=principal.organ_id,
        document=result.text,
        details={"register": row.code, "year": year},
    )
    return result


async def entries(
    session: AsyncSession, principal: Principal, register: str, *, year: int | None = None
) -> list[Number]:
    row = await _register(session, principal, register, lock=False)
    query = select(RegisterEntry).where(
        RegisterEntry.register_id == row.id, RegisterEntry.agency_id == principal.agency_id
    )
    if year is not None:
        query = query.where(RegisterEntry.year == year)
    rows = await session.scalars(query.order_by(RegisterEntry.year, RegisterEntry.number))
    return [
        Number(
            register=row.code,
            year=e.year,
            number=e.number,
            notation=e.notation,
            issued_at=e.issued_at,
        )
        for e in rows
    ]
