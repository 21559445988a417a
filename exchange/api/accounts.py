"""Login, the caller, users and API tokens of the caller's agency."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from exchange import accounts
from exchange.accounts import IssuedToken, Role, Session, UserView
from exchange.api.deps import Caller, Svc, origin

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginRequest(_Strict):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class Me(_Strict):
    organ_id: str
    actor: str
    roles: list[str]


class NewUser(_Strict):
    username: str = Field(max_length=64)
    password: str = Field(min_length=1, max_length=1000)
    full_name: str = Field(default="", max_length=100)
    roles: list[Role] = Field(min_length=1)


class NewToken(_Strict):
    name: str = Field(max_length=100)
    roles: list[Role] = Field(min_length=1)
    expires_at: datetime | None = None


@router.post("/login", response_model=Session)
async def login(body: LoginRequest, request: Request, svc: Svc) -> Session:
    """Trade a user name and password for a session token."""
    return await accounts.login(
        svc.sessions,
        username=body.username,
        password=body.password,
        origin=origin(request),
        policy=svc.login_policy,
    )


@router.post("/logout", status_code=204)
async def logout(caller: Caller, svc: Svc) -> Response:
    async with svc.transaction() as session:
        await accounts.logout(session, caller)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
async def me(caller: Caller) -> Me:
    return Me(
        organ_id=caller.organ_id,
        actor=caller.actor.name,
        roles=sorted(r.value for r in caller.roles),
    )


@router.get("/users", response_model=list[UserView])
async def list_users(caller: Caller, svc: Svc) -> list[UserView]:
    caller.require(Role.ADMIN)
    async with svc.transaction(read_only=True) as session:
        return await accounts.list_users(session, caller)


@router.post("/users", response_model=UserView, status_code=201)
async def add_user(body: NewUser, caller: Caller, svc: Svc) -> UserView:
    caller.require(Role.ADMIN)
    async with svc.transaction() as session:
        return await accounts.add_user(
            session,
            caller,
            username=body.username,
            password=body.password,
            roles=frozenset(body.roles),
            full_name=body.full_name,
        )


@router.get("/users/{username}", response_model=UserView)
async def get_user(username: str, caller: Caller, svc: Svc) -> UserView:
    caller.require(Role.ADMIN)
    async with svc.transaction(read_only=True) as session:
        return await accounts.get_user(session, caller, username)


@router.post("/users/{username}/disable", response_model=UserView)
async def disable_user(username: str, caller: Caller, svc: Svc) -> UserView:
    caller.require(Role.ADMIN)
    async with svc.transaction() as session:
        return await accounts.disable_user(session, caller, username)


@router.post("/tokens", response_model=IssuedToken, status_code=201)
async def issue_token(body: NewToken, caller: Caller, svc: Svc) -> IssuedToken:
    """An API token for a machine; the secret is in this answer only."""
    caller.require(Role.ADMIN)
    async with svc.transaction() as session:
        return await accounts.issue_token(
            session, caller, name=body.name, roles=frozenset(body.roles), expires_at=body.expires_at
        )


@router.delete("/tokens/{public_id}", status_code=204)
async def revoke_token(public_id: str, caller: Caller, svc: Svc) -> Response:
    caller.require(Role.ADMIN)
    async with svc.transaction() as session:
        await accounts.revoke_token(session, caller, public_id)
    return Response(status_code=204)
