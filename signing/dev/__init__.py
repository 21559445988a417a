"""Development-only parts of the signing room: a test PKI, a local TSA/OCSP/CRL server, SoftHSM2
tokens, artwork and the sample công văn.

Nothing here is for production: each part warns with its own
:class:`~validation.DevelopmentModeWarning` subclass when used, and the service refuses them in
production mode. Production code never imports this package (an import-linter contract keeps it
so); the demo, the benchmarks and the tests do.
"""
