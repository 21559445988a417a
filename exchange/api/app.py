"""The app factory: everything the HTTP API needs is built from the settings it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from exchange import delivery, outbox
from exchange.accounts import prepare_logins
from exchange.api import (
    accounts,
    audit,
    directory,
    documents,
    dossiers,
    files,
    incoming,
    node,
    problems,
    registers,
)
from exchange.service import open_services
from exchange.settings import Settings

API_VERSION = "1"


def create_app(settings: Settings) -> FastAPI:
    """The lienthong API of ``settings``. The database is opened (and its schema checked)
    when the application starts, and closed when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_logins()  # the dummy password hash, before the first login
        async with open_services(settings) as services:
            app.state.services = services
            if not settings.delivery_worker:
                yield
                return
            async with delivery.running(services, outbox.policy_of(settings)):
                yield

    app = FastAPI(
        title="lienthong",
        summary="Liên thông văn bản điện tử: issue, sign, send and receive official documents.",
        version=API_VERSION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    problems.install(app)
    for module in (
        accounts,
        registers,
        files,
        documents,
        incoming,
        dossiers,
        directory,
        audit,
        node,
    ):
        app.include_router(module.router)
    return app
