"""``lienthong demo``: the main job on the embedded default."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import click

from exchange.cli.i18n import Command, Text, pick, vietnamese
from exchange.demo import DemoResult, run_demo_sync
from validation import render_text

PIN_VARIABLE = "LIENTHONG_DEMO_PIN"


@click.command(cls=Command)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("LIENTHONG_DATA_DIR", "var/demo"),
    show_default="var/demo | $LIENTHONG_DATA_DIR",
    help=Text(
        "Where the development PKI, tokens and outputs live (reused next time).",
        "Nơi giữ PKI, token phát triển và các kết quả (dùng lại lần sau).",
    ),
)
@click.pass_context
@vietnamese("Chạy thử: ký một công văn mẫu từ đầu đến cuối (chỉ để phát triển).")
def demo(ctx: click.Context, /, data_dir: Path) -> None:
    """Sign a sample công văn end to end (development only)."""

    def say(en: str, vi: str) -> None:
        click.echo(f"• {pick(en, vi)}", err=True)

    lang = ctx.obj["lang"]
    result = run_demo_sync(data_dir, say)
    click.echo("")
    click.echo(
        pick(f"This run's folder: {result.run_dir}", f"Thư mục của lần chạy: {result.run_dir}")
    )
    click.echo(pick(f"Signed document: {result.output}", f"Văn bản đã ký: {result.output}"))
    click.echo("")
    click.echo(render_text([result.report], lang))
    click.echo("")
    click.echo(
        pick("Try next (the lines run as printed):", "Thử tiếp (các dòng chạy được như in):")
    )
    for command in try_next(result, program()):
        click.echo(f"  {command}")


def program() -> str:
    """How to call this program from any directory: ``lienthong`` when that name on PATH is
    this program, else the full path of the script beside the running interpreter
    (``…/.venv/bin/lienthong``: ``scripts/demo`` changes directory, so a relative path
    would not hold in the caller's shell)."""
    script = Path(sys.executable).parent / "lienthong"
    on_path = shutil.which("lienthong")
    if on_path is not None and (not script.exists() or Path(on_path).samefile(script)):
        return "lienthong"
    return shlex.quote(str(script)) if script.exists() else "lienthong"


def try_next(result: DemoResult, prog: str) -> tuple[str, ...]:
    """Shell lines that run as printed (the demo's tokens, PIN and files)."""
    q = shlex.quote
    tried = result.run_dir / "try-signed.pdf"
    return (
        f"export SOFTHSM2_CONF={q(str(result.softhsm_conf))}",
        f"export {PIN_VARIABLE}={q(result.pin)}   # "
        + pick("the development tokens' PIN", "mã PIN của các token thử nghiệm"),
        f"{prog} token list --module {q(result.module)}",
        f"{prog} sign pdf {q(str(result.run_dir / '1-draft.pdf'))} -o {q(str(tried))} "
        f"--key {q(result.agency_key)} --pin-env {PIN_VARIABLE}",
        f"{prog} verify {q(str(result.output))} --trust {q(str(result.trust_root))} --offline",
    )
