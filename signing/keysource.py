"""Naming a key: a PKCS#11 URI (RFC 7512) or a PKCS#12 file, and where its PIN comes from."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

from asn1crypto import x509

import validation
from signing.errors import InputNotFound, InputUnreadable, PinMissing, UsageError
from signing.keys import KeySigner, load_pkcs12
from signing.pkcs11 import DEFAULT_MODULE, PinSource, open_pkcs11_key, parse_pkcs11_uri
from validation import os_reason


@dataclass(frozen=True, slots=True, kw_only=True)
class PinOptions:
    """Where the PIN (or PKCS#12 password) comes from; at most one of the two."""

    env: str | None = None
    file: Path | None = None
    prompt: PinSource | None = None
    """Asked only if neither ``env`` nor ``file`` is given and the key needs a PIN."""

    def source(self) -> PinSource | None:
        if self.env is not None and self.file is not None:
            raise UsageError(
                "the PIN comes from one place: an environment variable or a file, not both",
                "mã PIN chỉ lấy từ một nguồn: biến môi trường hoặc tệp, không cả hai",
            )
        if self.env is not None:
            name = self.env

            def from_env() -> str:
                value = os.environ.get(name)
                if not value:
                    raise PinMissing(
                        f"the environment variable {name} holding the PIN is not set",
                        f"biến môi trường {name} chứa mã PIN chưa được đặt",
                    )
                return value

            return from_env
        if self.file is not None:
            path = self.file

            def from_file() -> str:
                try:
                    return path.read_text(encoding="utf-8").rstrip("\r\n")
                except OSError as exc:
                    en, vi = os_reason(exc)
                    raise PinMissing(
                        f"cannot read the PIN file {path}: {en}",
                        f"không đọc được tệp mã PIN {path}: {vi}",
                    ) from exc

            return from_file
        return self.prompt


def load_certificates(path: Path) -> list[x509.Certificate]:
    """All certificates in a PEM (or single DER) file: read by the validation room's one
    certificate reader, its failures told as this room's errors (a chain given for signing
    is an input, not a trust anchor)."""
    if not path.exists():
        raise InputNotFound(f"{path} does not exist", f"không có tệp {path}")
    try:
        return list(validation.load_certificates(path))
    except validation.PolicyError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):
            en, vi = os_reason(cause)
            raise InputUnreadable(
                f"cannot read {path}: {en}", f"không đọc được {path}: {vi}"
            ) from exc
        raise InputUnreadable(
            f"{path} holds no readable certificate", f"{path} không chứa chứng thư số đọc được"
        ) from exc


@contextlib.asynccontextmanager
async def open_key(
    reference: str,
    pins: PinOptions,
    *,
    chain: Path | None = None,
    pss: bool = False,
    default_module: str = DEFAULT_MODULE,
) -> AsyncIterator[KeySigner]:
    """Open the key named by ``reference`` for the duration of the block (one login)."""
    extra = load_certificates(chain) if chain is not None else []
    if reference.startswith("pkcs11:"):
        config = replace(parse_pkcs11_uri(reference, default_module=default_module), pss=pss)
        pin_source = pins.source()
        if config.pin_file is not None and pin_source is None:
            pin_source = PinOptions(file=Path(config.pin_file)).source()
        async with open_pkcs11_key(config, pin_source, extra_chain=extra) as key:
            yield key
        return
    path = Path(reference)
    if path.suffix.lower() not in (".p12", ".pfx"):
        raise UsageError(
            f"the key must be a PKCS#11 URI (pkcs11:…) or a PKCS#12 file (.p12/.pfx), "
            f"not {reference!r}",
            f"khóa phải là URI PKCS#11 (pkcs11:…) hoặc tệp PKCS#12 (.p12/.pfx), "
            f"không phải {reference!r}",
        )
    source = pins.source()
    password = source().encode() if source is not None else None
    file_key = load_pkcs12(path, password, pss=pss)
    yield file_key.with_more_certificates(extra) if extra else file_key
