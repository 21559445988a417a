"""The archive room: keeping closed dossiers provably valid for decades.

Ingest (validated again, taken to long-term form), two-copy content-addressed storage with a
fixity audit, RFC 4998 evidence records (sealing under one archive timestamp, timestamp and
hash-tree renewal), retention, and TT 05/2025 information packages that prove themselves
offline. Other rooms import only the names below.
"""

from archive.catalog import NAMING, UtcDateTime
from archive.catalog import metadata as catalog_metadata
from archive.errors import (
    ArchiveError,
    DamagedObject,
    EvidenceInvalid,
    InputMissing,
    PackageInvalid,
    StorageFailed,
    UsageError,
)
from archive.exporting import export_package
from archive.package import StatusChange
from archive.service import (
    ALGORITHM_SUNSETS,
    RENEWAL_MARGIN,
    Archive,
    Disposal,
    DossierSummary,
    IngestedDocument,
    IngestResult,
    RenewalStep,
    SealResult,
    Submission,
    audit,
    dispose,
    dossier_fields,
    dossier_summary,
    evidence_record,
    evidence_records,
    ingest,
    ingest_submissions,
    last_audit,
    plan_renewal,
    renew,
    seal,
)
from archive.store import AuditReport, TwoCopyStore
from archive.verifying import DocumentProof, PackageVerdict, verify_package

__all__ = [
    "ALGORITHM_SUNSETS",
    "NAMING",
    "RENEWAL_MARGIN",
    "Archive",
    "ArchiveError",
    "AuditReport",
    "DamagedObject",
    "Disposal",
    "DocumentProof",
    "DossierSummary",
    "EvidenceInvalid",
    "IngestResult",
    "IngestedDocument",
    "InputMissing",
    "PackageInvalid",
    "PackageVerdict",
    "RenewalStep",
    "SealResult",
    "StatusChange",
    "StorageFailed",
    "Submission",
    "TwoCopyStore",
    "UsageError",
    "UtcDateTime",
    "audit",
    "catalog_metadata",
    "dispose",
    "dossier_fields",
    "dossier_summary",
    "evidence_record",
    "evidence_records",
    "export_package",
    "ingest",
    "ingest_submissions",
    "last_audit",
    "plan_renewal",
    "renew",
    "seal",
    "verify_package",
]
