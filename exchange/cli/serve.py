"""``lienthong serve``: run the HTTP API (uvicorn)."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.i18n import Command, Text, vietnamese
from exchange.cli.node import config_option, run, settings


@click.command(cls=Command)
@config_option
@click.option(
    "--host",
    help=Text(
        "Address to listen on (default: the settings', 127.0.0.1).",
        "Địa chỉ lắng nghe (mặc định: theo cấu hình, 127.0.0.1).",
    ),
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help=Text("Port (default: the settings', 8730).", "Cổng (mặc định: theo cấu hình, 8730)."),
)
@vietnamese("Chạy dịch vụ HTTP; không chạy khi lược đồ cơ sở dữ liệu đã cũ.")
def serve(config_file: Path | None, host: str | None, port: int | None) -> None:
    """Run the HTTP API; refuses to start on an out-of-date database."""
    import uvicorn

    from exchange.api import create_app
    from exchange.db import open_engine, require_current_schema

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    node = settings(config_file, **overrides)

    async def check() -> None:
        async with open_engine(node.database) as engine:
            await require_current_schema(engine)

    run(check)  # before uvicorn, so the refusal is one line, not a failed lifespan
    if node.production:  # one process-wide switch: development parts refuse from now on
        from signing import enter_production_mode

        enter_production_mode()
    uvicorn.run(
        create_app(node),
        host=node.host,
        port=node.port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )
