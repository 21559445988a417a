"""The exchange room's database: one metadata, the models, engines and transactions."""

from exchange.db.base import NAMING, Base, UtcDateTime, metadata
from exchange.db.delivery_models import DocumentStatus, NodeNonce, OutboxMessage
from exchange.db.dossier_models import Dossier, DossierItem
from exchange.db.engine import open_engine, sessions, transaction
from exchange.db.incoming_models import IncomingAttachment, IncomingDocument, IncomingStatus
from exchange.db.migrate import SchemaState, require_current_schema, schema_state, upgrade
from exchange.db.models import (
    Agency,
    AgencyCertificate,
    ApiToken,
    AuditEntry,
    Document,
    DocumentAttachment,
    LoginThrottle,
    Register,
    RegisterEntry,
    StoredFile,
    User,
)

__all__ = [
    "NAMING",
    "Agency",
    "AgencyCertificate",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Document",
    "DocumentAttachment",
    "DocumentStatus",
    "Dossier",
    "DossierItem",
    "IncomingAttachment",
    "IncomingDocument",
    "IncomingStatus",
    "LoginThrottle",
    "NodeNonce",
    "OutboxMessage",
    "Register",
    "RegisterEntry",
    "SchemaState",
    "StoredFile",
    "User",
    "UtcDateTime",
    "metadata",
    "open_engine",
    "require_current_schema",
    "schema_state",
    "sessions",
    "transaction",
    "upgrade",
]
