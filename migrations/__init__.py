"""Alembic revisions for every room's tables (none yet: the signing room keeps no state)."""
