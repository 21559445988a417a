"""``lienthong demo``: the main job on the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

import click

from exchange.demo import run_demo_sync
from validation import render_text


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("LIENTHONG_DATA_DIR", "var/demo"),
    show_default="var/demo, or $LIENTHONG_DATA_DIR",
    help="Where the development PKI, tokens and outputs live (reused next time).",
)
@click.pass_context
def demo(ctx: click.Context, /, data_dir: Path) -> None:
    """Chạy thử: ký một công văn mẫu / sign a sample công văn end to end (development only)."""

    def say(line: str) -> None:
        click.echo(f"• {line}", err=True)

    lang = ctx.obj["lang"]
    result = run_demo_sync(data_dir, say)
    click.echo("")
    click.echo(f"Văn bản đã ký / signed document: {result.output}")
    click.echo("")
    click.echo(render_text([result.report], lang))
    click.echo("")
    click.echo("Try next / thử tiếp:")
    for command in result.commands:
        click.echo(f"  {command}")
