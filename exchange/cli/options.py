"""Options shared by several command groups (key, PIN, chain)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from signing import PinOptions

F = TypeVar("F", bound=Callable[..., Any])


def default_module() -> str:
    from signing import DEFAULT_PKCS11_MODULE

    return os.environ.get("LIENTHONG_PKCS11_MODULE", DEFAULT_PKCS11_MODULE)


def key_options(func: F) -> F:
    """``--key``, ``--chain``, ``--pin-env``, ``--pin-file``, ``--pss``."""
    decorators = [
        click.option(
            "--key",
            "key_ref",
            required=True,
            metavar="KEY",
            help="PKCS#11 URI (RFC 7512), e.g. 'pkcs11:token=Agency;object=seal"
            "?module-path=/usr/lib/softhsm/libsofthsm2.so', or a PKCS#12 file (.p12/.pfx).",
        ),
        click.option(
            "--chain",
            type=click.Path(dir_okay=False, path_type=Path),
            help="PEM file with CA certificates to complete the signer's chain.",
        ),
        click.option(
            "--pin-env",
            metavar="NAME",
            help="Read the PIN (or PKCS#12 password) from this environment variable.",
        ),
        click.option(
            "--pin-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Read the PIN (or PKCS#12 password) from this file (first line).",
        ),
        click.option(
            "--pss",
            is_flag=True,
            help="RSA keys: sign with RSASSA-PSS (TT 15 prefers it) instead of PKCS#1 v1.5.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def pin_options(pin_env: str | None, pin_file: Path | None) -> PinOptions:
    """PIN from the environment, a file, or (on a terminal) a hidden prompt."""
    from signing import PinOptions

    def prompt() -> str:
        value: str = click.prompt("PIN", hide_input=True, err=True)
        return value

    interactive = sys.stdin is not None and sys.stdin.isatty()
    return PinOptions(env=pin_env, file=pin_file, prompt=prompt if interactive else None)
