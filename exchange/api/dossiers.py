"""The agency's dossiers: open one, file documents into it, close it into the archive."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from archive import ArchiveError, StorageFailed
from exchange import dossiers
from exchange.api.deps import Caller, Svc
from exchange.archiving import open_archive
from exchange.dossiers import DossierView
from exchange.errors import Conflict, ExchangeError, SigningFailed, StorageError
from signing import ServiceUnavailable, SigningError


class ArchiveUnavailable(ExchangeError):
    """A service the archive needs (its timestamp authority, a CRL or OCSP server) did not
    answer: nothing was closed; try again later."""

    code = "exchange.service_unavailable"
    status = 503
    exit_code = 69


router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])


class NewDossier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    notation: str = Field(max_length=20, description="FileNotation; the code is OrganId.Year.it")
    title: str = Field(max_length=500)
    year: int | None = Field(default=None, description="FileCatalog (default: this year)")
    maintenance: str = Field(default="01", max_length=30)
    rights: str = Field(default="01", max_length=30)
    language: str = Field(default="01", max_length=2)
    creator: str = Field(default="", max_length=30)
    description: str = Field(default="", max_length=500)


class NewItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    outgoing: str | None = Field(default=None, max_length=40)
    incoming: str | None = Field(default=None, max_length=40)


class ArchivedFile(BaseModel):
    name: str
    sha256: str
    indication: str
    augmented: bool
    already: bool


class ClosedDossier(BaseModel):
    dossier: DossierView
    archived: list[ArchivedFile]
    destroyed: list[int] = Field(
        default=[],
        description="Ordinals of incoming documents whose copy was destroyed (recall, "
        "revocation): only their metadata, report, evidence and statuses were archived",
    )


@router.get("", response_model=list[DossierView])
async def list_dossiers(caller: Caller, svc: Svc) -> list[DossierView]:
    async with svc.transaction(read_only=True) as session:
        return await dossiers.list_dossiers(session, caller)


@router.post("", response_model=DossierView, status_code=201)
async def create_dossier(body: NewDossier, caller: Caller, svc: Svc) -> DossierView:
    async with svc.transaction() as session:
        return await dossiers.create_dossier(session, caller, **body.model_dump())


@router.get("/{code}", response_model=DossierView)
async def show_dossier(code: str, caller: Caller, svc: Svc) -> DossierView:
    async with svc.transaction(read_only=True) as session:
        return await dossiers.show_dossier(session, caller, code)


@router.post("/{code}/items", response_model=DossierView, status_code=201)
async def add_item(code: str, body: NewItem, caller: Caller, svc: Svc) -> DossierView:
    async with svc.transaction() as session:
        return await dossiers.add_document(
            session, caller, code, outgoing=body.outgoing, incoming=body.incoming
        )


@router.delete("/{code}/items/{ordinal}", response_model=DossierView)
async def remove_item(code: str, ordinal: int, caller: Caller, svc: Svc) -> DossierView:
    async with svc.transaction() as session:
        return await dossiers.remove_document(session, caller, code, ordinal)


@router.post("/{code}/close", response_model=ClosedDossier)
async def close_dossier(code: str, caller: Caller, svc: Svc) -> ClosedDossier:
    """Close the dossier into the archive (it may take a while: every file is validated
    again and taken to long-term form). An archive error leaves it open."""
    await dossiers.closable(svc, caller, code)
    try:
        async with open_archive(svc.settings) as archive:
            closed = await dossiers.close_dossier(svc, caller, code, archive)
    except StorageFailed as exc:
        raise StorageError(exc.en, exc.vi) from exc
    except ServiceUnavailable as exc:  # the TSA (or a CRL/OCSP server) did not answer
        raise ArchiveUnavailable(exc.en, exc.vi) from exc
    except SigningError as exc:
        raise SigningFailed(exc.en, exc.vi) from exc
    except ArchiveError as exc:
        raise Conflict(exc.en, exc.vi) from exc
    return ClosedDossier(
        dossier=closed.dossier,
        archived=[
            ArchivedFile(
                name=d.name,
                sha256=d.sha256,
                indication=d.indication,
                augmented=d.augmented,
                already=d.already,
            )
            for d in closed.archived.documents
        ],
        destroyed=[item.ordinal for item in closed.destroyed],
    )
