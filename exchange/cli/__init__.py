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

Start-up is kept cheap: importing the rooms takes most of a second, so this module imports
none of them and a command's module is imported only when that command runs
(:mod:`exchange.cli.lazy`). ``verify``, ``number`` and ``token`` import their rooms inside
the command functions, so that their ``--help`` and usage errors answer at once; ``sign``
(whose options list the signing room's levels and profiles) and ``demo`` import them with
the module. ``tests/exchange/test_cli_startup.py`` keeps it so.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import TYPE_CHECKING, TextIO, cast

import click

from exchange.cli.lazy import LazyCommand, LazyGroup

if TYPE_CHECKING:
    from signing import SigningError
    from validation import ValidationError

EXIT_USAGE = 64
EXIT_INTERNAL = 70


COMMANDS = {
    "demo": LazyCommand(
        module="exchange.cli.demo",
        attribute="demo",
        summary="Chạy thử: ký một công văn mẫu / sign a sample công văn end to end "
        "(development only).",
    ),
    "edxml": LazyCommand(
        module="exchange.cli.edxml",
        attribute="edxml",
        summary="Gói tin edXML / edXML packages (QCVN 102:2016): build, verify, inspect.",
    ),
    "number": LazyCommand(
        module="exchange.cli.number",
        attribute="number",
        summary="Số và ngày văn bản / number and date, filled after the personal signature.",
    ),
    "sign": LazyCommand(
        module="exchange.cli.sign",
        attribute="sign",
        summary="Ký số văn bản / sign documents (PDF: PAdES; XML: XMLDSig, XAdES).",
    ),
    "token": LazyCommand(
        module="exchange.cli.token", attribute="token", summary="Token / HSM (PKCS#11)."
    ),
    "verify": LazyCommand(
        module="exchange.cli.verify",
        attribute="verify",
        summary="Kiểm tra chữ ký số / validate signatures and the Decree 30 legal check.",
    ),
}
"""The commands, imported when used (see :mod:`exchange.cli.lazy`)."""


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    _show_development_warnings()


def _loaded(room: str, name: str) -> type | None:
    """The class ``name`` from a room's front door if that room is imported, else None.

    The rooms are not imported at start-up (most of a second for every command); a room that
    raised an error or a warning is imported by then, so its classes are looked up here.
    """
    value = getattr(sys.modules.get(room), name, None)
    return value if isinstance(value, type) else None


def _show_development_warnings() -> None:
    """Development-mode warnings are always shown, whatever ``-W`` or ``$PYTHONWARNINGS`` say.

    This runs after click has imported the command's module, so a command that can warn
    (``sign``, ``demo``) has brought the signing room in by now.
    """
    category = _loaded("signing", "DevelopmentModeWarning")
    if category is not None and issubclass(category, Warning):
        warnings.simplefilter("default", category)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    development = _loaded("signing", "DevelopmentModeWarning")
    kind = "development" if development and issubclass(category, development) else "warning"
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
    except KeyboardInterrupt:
        print("lienthong: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the one place where anything unexpected is caught
        room_error = _room_error(exc)
        if room_error is not None:
            print(f"lienthong: {_label(lang)}: {room_error.message(lang)}", file=sys.stderr)
            sys.exit(room_error.exit_code)
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


def _room_error(exc: Exception) -> SigningError | ValidationError | None:
    """``exc`` if it is a :class:`signing.SigningError` or a
    :class:`validation.ValidationError`, else None."""
    for room, name in (("signing", "SigningError"), ("validation", "ValidationError")):
        base = _loaded(room, name)
        if base is not None and isinstance(exc, base):
            return cast("SigningError | ValidationError", exc)
    return None
