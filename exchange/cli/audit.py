"""``lienthong audit``: the audit log."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.node import config_option, run, settings


@click.group()
def audit() -> None:
    """Nhật ký / the audit log: check its hash chain."""


@audit.command("verify")
@config_option
def audit_verify(config_file: Path | None) -> None:
    """Kiểm tra nhật ký / check that no audit entry was edited or deleted."""
    from exchange import audit as log
    from exchange.errors import AuditChainBroken
    from exchange.service import open_services

    node = settings(config_file)
    lang = click.get_current_context().find_root().obj.get("lang", "vi")

    async def go() -> log.ChainReport:
        async with open_services(node) as svc, svc.transaction() as session:
            return await log.verify(session)

    report = run(go)
    for problem in report.problems:
        click.echo(f"entry {problem.seq}: {problem.message(lang)}")
    if not report.intact:
        raise AuditChainBroken(
            f"The audit log was tampered with ({len(report.problems)} problem(s)).",
            f"Nhật ký đã bị can thiệp ({len(report.problems)} vấn đề).",
        )
    click.echo(f"audit log intact: {report.entries} entries, head {report.head}")
