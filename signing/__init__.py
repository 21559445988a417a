"""The signing room: PAdES and XML signatures with keys behind one async protocol.

Other rooms import only the names below.
"""

from signing.appearance import (
    VIETNAM,
    Anchor,
    AppearanceSpec,
    ExistingField,
    PageBox,
    Profile,
    vietnam_time,
)
from signing.errors import (
    CertificateNotFound,
    CertificateUnusable,
    InputNotFound,
    InputUnreadable,
    KeyNotFound,
    OutputNotWritable,
    PinIncorrect,
    PinLocked,
    PinMissing,
    PlacementError,
    ServiceUnavailable,
    SigningError,
    TokenError,
    TokenNotFound,
    UsageError,
)
from signing.external import SigningRequest, finish_pdf, prepare_pdf
from signing.files import atomic_output
from signing.keys import (
    DevelopmentModeWarning,
    FileKeyWarning,
    InMemoryKey,
    KeySigner,
    load_pkcs12,
)
from signing.keysource import PinOptions, load_certificates, open_key
from signing.mode import (
    DevelopmentPartRefused,
    development_part,
    enter_production_mode,
    production_mode,
)
from signing.numbering import (
    DEFAULT_FIELDS,
    TextFieldSpec,
    add_text_fields,
    add_text_fields_file,
    decree30_date_parts,
    fill_text_fields,
    fill_text_fields_file,
)
from signing.pades import (
    Level,
    PadesSigner,
    PadesSpec,
    SignedPdf,
    add_validation_data,
    extend_to_lta,
    sign_pdf_files,
)
from signing.pkcs11 import DEFAULT_MODULE as DEFAULT_PKCS11_MODULE
from signing.pkcs11 import PinSource, Pkcs11Config, open_pkcs11_key, parse_pkcs11_uri, pkcs11_uri
from signing.pkcs11 import list_tokens as list_tokens
from signing.tsa import HttpTimestamper
from signing.xml import XmlSignatureSpec, sign_xml, sign_xml_file

__all__ = [
    "DEFAULT_FIELDS",
    "DEFAULT_PKCS11_MODULE",
    "VIETNAM",
    "Anchor",
    "AppearanceSpec",
    "CertificateNotFound",
    "CertificateUnusable",
    "DevelopmentModeWarning",
    "DevelopmentPartRefused",
    "ExistingField",
    "FileKeyWarning",
    "HttpTimestamper",
    "InMemoryKey",
    "InputNotFound",
    "InputUnreadable",
    "KeyNotFound",
    "KeySigner",
    "Level",
    "OutputNotWritable",
    "PadesSigner",
    "PadesSpec",
    "PageBox",
    "PinIncorrect",
    "PinLocked",
    "PinMissing",
    "PinOptions",
    "PinSource",
    "Pkcs11Config",
    "PlacementError",
    "Profile",
    "ServiceUnavailable",
    "SignedPdf",
    "SigningError",
    "SigningRequest",
    "TextFieldSpec",
    "TokenError",
    "TokenNotFound",
    "UsageError",
    "XmlSignatureSpec",
    "add_text_fields",
    "add_text_fields_file",
    "add_validation_data",
    "atomic_output",
    "decree30_date_parts",
    "development_part",
    "enter_production_mode",
    "extend_to_lta",
    "fill_text_fields",
    "fill_text_fields_file",
    "finish_pdf",
    "list_tokens",
    "load_certificates",
    "load_pkcs12",
    "open_key",
    "open_pkcs11_key",
    "parse_pkcs11_uri",
    "pkcs11_uri",
    "prepare_pdf",
    "production_mode",
    "sign_pdf_files",
    "sign_xml",
    "sign_xml_file",
    "vietnam_time",
]
