"""Keeping records provably valid for decades: ingest, fixity, evidence renewal (later issue)."""

__all__: list[str] = []
