"""Development-only parts of the signing room: a test PKI, a local TSA/OCSP/CRL server, SoftHSM2
tokens, artwork and the sample công văn.

Nothing here is for production: each part warns with its own
:class:`~validation.DevelopmentModeWarning` subclass when used, and the service refuses them in
production mode. Production code never imports this package (an import-linter contract keeps it
so); the demo, the benchmarks and the tests do.
"""

from signing.dev.assets import (
    DevAssetsWarning,
    SampleDocument,
    SampleLayout,
    draw_seal_png,
    draw_signature_png,
    make_sample_cong_van,
    make_sample_cong_van_with_layout,
)
from signing.dev.pki import (
    DEFAULT_SIGNERS,
    DEV_ORG,
    DEV_PERSON,
    REVOCATION_VALIDITY,
    DevPki,
    DevPkiWarning,
    Identity,
    InMemoryKeyWarning,
    SignerSpec,
)
from signing.dev.services import DevServices, DevServicesWarning, serve_dev_services
from signing.dev.token import DevTokenWarning, SoftHsmHome, softhsm_module

__all__ = [
    "DEFAULT_SIGNERS",
    "DEV_ORG",
    "DEV_PERSON",
    "REVOCATION_VALIDITY",
    "DevAssetsWarning",
    "DevPki",
    "DevPkiWarning",
    "DevServices",
    "DevServicesWarning",
    "DevTokenWarning",
    "Identity",
    "InMemoryKeyWarning",
    "SampleDocument",
    "SampleLayout",
    "SignerSpec",
    "SoftHsmHome",
    "draw_seal_png",
    "draw_signature_png",
    "make_sample_cong_van",
    "make_sample_cong_van_with_layout",
    "serve_dev_services",
    "softhsm_module",
]
