"""What the node's commands (serve, db, user, directory, audit, API tokens) share: the
settings option, the operator's identity in the audit log, running a coroutine.

Nothing heavy is imported here, so that these commands' ``--help`` stays instant.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from exchange.cli.i18n import Text

if TYPE_CHECKING:
    from exchange.audit import Actor
    from exchange.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def config_option(func: F) -> F:
    """``--config FILE``: the TOML settings file (default ``$LIENTHONG_CONFIG``)."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=Text(
            "TOML settings file (default: $LIENTHONG_CONFIG; LIENTHONG_* variables win).",
            "Tệp cấu hình TOML (mặc định: $LIENTHONG_CONFIG; biến LIENTHONG_* được ưu tiên).",
        ),
    )(func)


def agency_option(func: F) -> F:
    return click.option(
        "--agency",
        "organ_id",
        required=True,
        metavar="ORGANID",
        help=Text(
            "The agency (OrganId) hosted on this node that the command acts for.",
            "Cơ quan (mã định danh OrganId) thuộc nút này mà lệnh làm việc cho.",
        ),
    )(func)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=Text("Output format.", "Định dạng kết quả."),
    )(func)


def settings(config_file: Path | None, **overrides: Any) -> Settings:
    from exchange.settings import load_settings

    return load_settings(config_file, **overrides)


def operator() -> Actor:
    """The person at the command line, as the audit log names them."""
    from exchange.audit import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(name=f"cli:{name}", origin="cli")


def run(make: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await make()

    return asyncio.run(main())
