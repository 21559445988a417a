"""``lienthong audit``: the audit log."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.i18n import Group, language, pick, vietnamese
from exchange.cli.node import config_option, run, settings


@click.group(cls=Group)
@vietnamese("Nhật ký hệ thống: kiểm tra chuỗi băm.")
def audit() -> None:
    """The audit log: check its hash chain."""


@audit.command("verify")
@config_option
@vietnamese("Kiểm tra rằng không mục nhật ký nào bị sửa hay xóa.")
def audit_verify(config_file: Path | None) -> None:
    """Check that no audit entry was edited or deleted."""
    from exchange import audit as log
    from exchange.errors import AuditChainBroken
    from exchange.service import open_services

    node = settings(config_file)

    async def go() -> log.ChainReport:
        async with open_services(node) as svc, svc.transaction() as session:
            return await log.verify(session)

    report = run(go)
    for problem in report.problems:
        click.echo(f"{pick('entry', 'mục')} {problem.seq}: {problem.message(language())}")
    if not report.intact:
        raise AuditChainBroken(
            f"The audit log was tampered with ({len(report.problems)} problem(s)).",
            f"Nhật ký đã bị can thiệp ({len(report.problems)} vấn đề).",
        )
    click.echo(
        pick(
            f"audit log intact: {report.entries} entries, head {report.head}",
            f"nhật ký nguyên vẹn: {report.entries} mục, mã băm cuối {report.head}",
        )
    )
