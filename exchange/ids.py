"""Public identifiers: what the API, the command line and the audit log call a row.

Rows keep integer keys inside the database, but those count every agency's rows on the node:
shown to an agency, the gaps between its own numbers would tell it how much the others do.
A public identifier is random instead (100 bits, lower-case base32: 20 characters), so it
says nothing about any other row.
"""

from __future__ import annotations

import base64
import re
import secrets

PUBLIC_ID_LENGTH = 20
_PATTERN = re.compile(r"^[a-z2-7]{20}$")


def new_public_id() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()[:PUBLIC_ID_LENGTH]


def is_public_id(value: str) -> bool:
    """True when ``value`` has the form of a public identifier (so a lookup can be skipped)."""
    return bool(_PATTERN.match(value))
