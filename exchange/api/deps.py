"""What every route gets from the request: the services, the caller, where it comes from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from exchange.accounts import Principal, authenticate, unauthenticated
from exchange.service import Services

_bearer = HTTPBearer(auto_error=False, description="A token from /api/v1/login or an API token")


def services(request: Request) -> Services:
    svc = request.app.state.services
    assert isinstance(svc, Services)  # noqa: S101 (set by the lifespan)
    return svc


def origin(request: Request) -> str:
    """The client's address, as the audit log records it."""
    return request.client.host if request.client else "unknown"


async def principal(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated()
    async with svc.transaction(read_only=True) as session:
        return await authenticate(session, credentials.credentials, origin=origin(request))


Svc = Annotated[Services, Depends(services)]
Caller = Annotated[Principal, Depends(principal)]
