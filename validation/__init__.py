"""The validation room: judging signatures and timestamps (PDF, XML, CMS, RFC 3161) and
whether a document is legally valid under Decree 30/2020.

A verdict is data (:class:`DocumentReport`); an exception (:class:`ValidationError`) means
the validation could not run. Other rooms import only the names below.
"""

from validation.document import detect_format, validate_bytes, validate_files
from validation.errors import (
    DevelopmentModeWarning,
    InputMissing,
    OutputNotWritable,
    PolicyError,
    ValidationError,
    os_reason,
)
from validation.evidence import write_evidence
from validation.files import atomic_output, atomic_write
from validation.legal import NUMBER_DATE_FIELDS, DocumentKind, legal_verdict
from validation.pagetext import TextRun, text_runs
from validation.policy import AgencyRule, TrustAnchors, ValidationPolicy, load_certificates
from validation.render import render_html, render_json, render_text
from validation.report import (
    SCHEMA,
    VIETNAM,
    DocumentReport,
    Evidence,
    Finding,
    LegalVerdict,
    Role,
    SignatureReport,
    Unparseable,
    people_time,
    report_json,
    reports_json,
)
from validation.tsp import validate_timestamp_imprint
from validation.xml import parse_untrusted_xml
from validation.xmlc14n import canonical as canonical_xml
from validation.xmlread import follow as element_at
from validation.xmlread import path_of as element_path
from validation.xmlrefs import unpinned_prefixes

__all__ = [
    "NUMBER_DATE_FIELDS",
    "SCHEMA",
    "VIETNAM",
    "AgencyRule",
    "DevelopmentModeWarning",
    "DocumentKind",
    "DocumentReport",
    "Evidence",
    "Finding",
    "InputMissing",
    "LegalVerdict",
    "OutputNotWritable",
    "PolicyError",
    "Role",
    "SignatureReport",
    "TextRun",
    "TrustAnchors",
    "Unparseable",
    "ValidationError",
    "ValidationPolicy",
    "atomic_output",
    "atomic_write",
    "canonical_xml",
    "detect_format",
    "element_at",
    "element_path",
    "legal_verdict",
    "load_certificates",
    "os_reason",
    "parse_untrusted_xml",
    "people_time",
    "render_html",
    "render_json",
    "render_text",
    "report_json",
    "reports_json",
    "text_runs",
    "unpinned_prefixes",
    "validate_bytes",
    "validate_files",
    "validate_timestamp_imprint",
    "write_evidence",
]
