"""The caller's registers and their numbers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from exchange import registers
from exchange.accounts import Role
from exchange.api.deps import Caller, Svc
from exchange.registers import Number, RegisterView

router = APIRouter(prefix="/api/v1/registers", tags=["registers"])
READERS = (Role.CLERK, Role.ARCHIVIST, Role.ADMIN)


class NewRegister(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(max_length=30)
    name: str = Field(max_length=200)
    kind: str = Field(pattern="^(outgoing|incoming)$")


class NumberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    notation: str | None = Field(default=None, max_length=30)
    subject: str = Field(default="", max_length=500)


class NumberView(BaseModel):
    register_code: str
    year: int
    number: int
    notation: str | None
    text: str
    issued_at: str

    @classmethod
    def of(cls, number: Number) -> NumberView:
        return cls(
            register_code=number.register,
            year=number.year,
            number=number.number,
            notation=number.notation,
            text=number.text,
            issued_at=number.issued_at.isoformat(),
        )


@router.get("", response_model=list[RegisterView])
async def list_registers(caller: Caller, svc: Svc) -> list[RegisterView]:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await registers.list_registers(session, caller)


@router.post("", response_model=RegisterView, status_code=201)
async def create_register(body: NewRegister, caller: Caller, svc: Svc) -> RegisterView:
    caller.require(Role.ADMIN)
    async with svc.transaction() as session:
        return await registers.create_register(
            session, caller, code=body.code, name=body.name, kind=body.kind
        )


@router.get("/{code}", response_model=RegisterView)
async def get_register(code: str, caller: Caller, svc: Svc) -> RegisterView:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return await registers.get_register(session, caller, code)


@router.get("/{code}/numbers", response_model=list[NumberView])
async def list_numbers(
    code: str, caller: Caller, svc: Svc, year: int | None = None
) -> list[NumberView]:
    caller.require(*READERS)
    async with svc.transaction(read_only=True) as session:
        return [NumberView.of(n) for n in await registers.entries(session, caller, code, year=year)]


@router.post("/{code}/numbers", response_model=NumberView, status_code=201)
async def take_number(code: str, body: NumberRequest, caller: Caller, svc: Svc) -> NumberView:
    """The register's next number (a clerk's act; the outgoing flow takes it the same way)."""
    caller.require(Role.CLERK)
    async with svc.transaction() as session:
        number = await registers.allocate(
            session, caller, register=code, notation=body.notation, subject=body.subject
        )
    return NumberView.of(number)
