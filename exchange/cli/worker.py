"""``lienthong worker``: deliver the outbox until stopped."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from exchange.cli.i18n import Command, Text, pick, vietnamese
from exchange.cli.node import config_option, run, settings


@click.command(cls=Command)
@config_option
@click.option(
    "--once",
    is_flag=True,
    help=Text("Deliver what is due now, then stop.", "Gửi những gì đến hạn rồi dừng."),
)
@vietnamese(
    "Gửi các thông điệp trong hộp thư đi (gói tin, thông điệp trạng thái) đến cơ quan nhận, "
    "có thử lại, cho đến khi dừng (Ctrl+C, SIGTERM). Nhiều tiến trình có thể chạy cùng một "
    "cơ sở dữ liệu PostgreSQL: không thông điệp nào được gửi hai lần cùng lúc. Tiến trình "
    "này cũng gia hạn bằng chứng lưu trữ và kiểm tra hai bản lưu theo lịch "
    "(archive_schedule_hours, archive_audit_days)."
)
def worker(config_file: Path | None, once: bool) -> None:
    """Deliver the outbox (packages, status messages) to the recipient agencies, with retries,
    until stopped (Ctrl+C, SIGTERM). Several processes may share one PostgreSQL database: no
    message is delivered twice at once. It also renews the archive's evidence and audits its
    two copies on their schedule (archive_schedule_hours, archive_audit_days)."""
    from exchange import archiving, delivery, outbox
    from exchange.service import open_services

    node = settings(config_file)
    if node.production:
        from signing import enter_production_mode

        enter_production_mode()
        from archive import TwoCopyStore

        # fail at once, not at the first archive round a day later: two copies on one device
        # are refused in production (exit 78)
        archiving.check_media(node, TwoCopyStore(*node.archive_copies))

    async def main() -> int:
        async with open_services(node) as svc, delivery.Worker(svc, outbox.policy_of(node)) as work:
            if once:
                total = 0
                while handled := await work.run_once():
                    total += handled
                return total
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            click.echo(pick("delivering; Ctrl+C stops", "đang gửi; Ctrl+C để dừng"), err=True)
            # the archive's renewals and fixity audits run on the same worker, on their own
            # timetable (archive_schedule_hours)
            archive_jobs = asyncio.create_task(archiving.schedule(node, stop))
            try:
                await work.run(stop)
            finally:
                stop.set()
                await archive_jobs
            return 0

    handled = run(main)
    if once:
        click.echo(pick(f"{handled} message(s) handled", f"đã xử lý {handled} thông điệp"))
