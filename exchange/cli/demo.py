"""``lienthong demo``: the main job on the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

import click

from exchange.demo import run_demo_sync


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("LIENTHONG_DATA_DIR", "var/demo"),
    show_default="var/demo, or $LIENTHONG_DATA_DIR",
    help="Where the development PKI, tokens and outputs live (reused next time).",
)
def demo(data_dir: Path) -> None:
    """Chạy thử: ký một công văn mẫu / sign a sample công văn end to end (development only)."""

    def say(line: str) -> None:
        click.echo(f"• {line}", err=True)

    result = run_demo_sync(data_dir, say)
    click.echo("")
    click.echo(f"Văn bản đã ký / signed document: {result.output}")
    click.echo("")
    for n, sig in enumerate(result.signatures, start=1):
        verdict = "hợp lệ / valid" if sig.valid and sig.intact else "KHÔNG hợp lệ / NOT valid"
        click.echo(f"  #{n} {sig.field:<12} {sig.signer}")
        click.echo(
            f"      ký lúc / signed at {sig.signing_time}; {verdict}; "
            f"{'trusted (dev root)' if sig.trusted else 'untrusted'}; "
            f"{'timestamped' if sig.timestamped else 'no timestamp'}; "
            f"changes after it: {sig.modification}"
        )
    click.echo("")
    click.echo("Try next / thử tiếp:")
    for command in result.commands:
        click.echo(f"  {command}")
