"""Options shared by several command groups (key, PIN, chain)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from exchange.cli.i18n import Text, pick

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
            help=Text(
                "PKCS#11 URI (RFC 7512), e.g. 'pkcs11:token=Agency;object=seal"
                "?module-path=/usr/lib/softhsm/libsofthsm2.so', or a PKCS#12 file (.p12/.pfx).",
                "URI PKCS#11 (RFC 7512), ví dụ 'pkcs11:token=Agency;object=seal"
                "?module-path=/usr/lib/softhsm/libsofthsm2.so', hoặc tệp PKCS#12 (.p12/.pfx).",
            ),
        ),
        click.option(
            "--chain",
            type=click.Path(dir_okay=False, path_type=Path),
            help=Text(
                "PEM file with CA certificates to complete the signer's chain.",
                "Tệp PEM chứa chứng thư CA để bổ sung chuỗi chứng thư của người ký.",
            ),
        ),
        click.option(
            "--pin-env",
            metavar="NAME",
            help=Text(
                "Read the PIN (or PKCS#12 password) from this environment variable.",
                "Đọc mã PIN (hoặc mật khẩu PKCS#12) từ biến môi trường này.",
            ),
        ),
        click.option(
            "--pin-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help=Text(
                "Read the PIN (or PKCS#12 password) from this file (first line).",
                "Đọc mã PIN (hoặc mật khẩu PKCS#12) từ tệp này (dòng đầu).",
            ),
        ),
        click.option(
            "--pss",
            is_flag=True,
            help=Text(
                "RSA keys: sign with RSASSA-PSS (TT 15 prefers it) instead of PKCS#1 v1.5.",
                "Khóa RSA: ký bằng RSASSA-PSS (TT 15 khuyến nghị) thay cho PKCS#1 v1.5.",
            ),
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def pin_options(pin_env: str | None, pin_file: Path | None) -> PinOptions:
    """PIN from the environment, a file, or (on a terminal) a hidden prompt."""
    from signing import PinOptions

    def prompt() -> str:
        value: str = click.prompt(pick("PIN", "Mã PIN"), hide_input=True, err=True)
        return value

    interactive = sys.stdin is not None and sys.stdin.isatty()
    return PinOptions(env=pin_env, file=pin_file, prompt=prompt if interactive else None)
