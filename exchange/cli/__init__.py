"""The ``lienthong`` command-line program: one module per command group.

Errors become one line on stderr and an exit code, in one place (:func:`main`):

== =====================================================================================
0  success
1  some documents of a batch failed (each reported on its own line)
2  lienthong verify: some document is INDETERMINATE (3: passes but fails the legal check)
64 usage error (bad options or arguments)
65 a document cannot be read or used (malformed, encrypted, placement impossible)
66 an input file does not exist
69 a service did not answer (timestamp authority, OCSP responder, CRL server)
70 internal error
73 an output file cannot be written (read-only directory, disk full)
76 the token or its PKCS#11 module failed
77 PIN wrong, missing or locked
78 token, key or certificate not found; PKCS#11 module not loadable
79 the certificate may not sign now (expired, not yet valid, wrong key usage, revoked)
== =====================================================================================
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import TextIO

import click

from exchange.cli.demo import demo
from exchange.cli.number import number
from exchange.cli.sign import sign
from exchange.cli.token import token
from exchange.cli.verify import verify
from signing import DevelopmentModeWarning, SigningError
from validation import ValidationError

EXIT_USAGE = 64
EXIT_INTERNAL = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=lambda: os.environ.get("LIENTHONG_LANG", "vi"),
    show_default="vi, or $LIENTHONG_LANG",
    help="Language of messages.",
)
@click.pass_context
def cli(ctx: click.Context, lang: str) -> None:
    """lienthong: ký số, kiểm tra và liên thông văn bản điện tử.

    Signing, validation and exchange of official electronic documents (Decree 30/2020).
    """
    ctx.obj = {"lang": lang}


cli.add_command(sign)
cli.add_command(token)
cli.add_command(number)
cli.add_command(demo)
cli.add_command(verify)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    kind = "development" if issubclass(category, DevelopmentModeWarning) else "warning"
    print(f"lienthong: {kind}: {message}", file=sys.stderr)


def _language(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
    return os.environ.get("LIENTHONG_LANG", "vi")


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and maps every failure to one line and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = _language(args)
    # pyHanko and fontTools log layout remarks that mean nothing to a clerk
    for noisy in ("pyhanko", "pyhanko_certvalidator", "fontTools", "signxml"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    warnings.showwarning = _show_warning
    warnings.simplefilter("default", DevelopmentModeWarning)
    try:
        cli.main(args=args, prog_name="lienthong", standalone_mode=False)
    except click.exceptions.Abort:
        print("lienthong: aborted", file=sys.stderr)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except (SigningError, ValidationError) as exc:
        print(f"lienthong: {_label(lang)}: {exc.message(lang)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("lienthong: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the one place where anything unexpected is caught
        if os.environ.get("LIENTHONG_DEBUG"):
            raise
        print(
            f"lienthong: internal error: {type(exc).__name__}: {exc} "
            "(set LIENTHONG_DEBUG=1 for details)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)


def _label(lang: str) -> str:
    return "lỗi" if lang == "vi" else "error"
