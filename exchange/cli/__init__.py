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

from exchange.cli.i18n import (
    Text,
    install,
    language,
    language_of,
    pick,
    set_language,
    translate,
)
from exchange.cli.lazy import LazyCommand, LazyGroup

if TYPE_CHECKING:
    from archive import ArchiveError
    from exchange.errors import ExchangeError
    from signing import SigningError
    from validation import ValidationError

EXIT_USAGE = 64
EXIT_INTERNAL = 70


COMMANDS = {
    "archive": LazyCommand(
        module="exchange.cli.archive",
        attribute="archive",
        summary=Text(
            "The archive: ingest dossiers, seal them under archive timestamps, renew the "
            "evidence, audit both copies, export and verify TT 05/2025 packages.",
            "Kho lưu trữ: nộp lưu hồ sơ, niêm phong bằng dấu thời gian lưu trữ, gia hạn bằng "
            "chứng, kiểm tra hai bản lưu, xuất và kiểm tra gói tin TT 05/2025.",
        ),
    ),
    "audit": LazyCommand(
        module="exchange.cli.audit",
        attribute="audit",
        summary=Text(
            "The audit log: check its hash chain.",
            "Nhật ký hệ thống: kiểm tra chuỗi băm.",
        ),
    ),
    "db": LazyCommand(
        module="exchange.cli.db",
        attribute="db",
        summary=Text(
            "The database: apply migrations, show the schema revision.",
            "Cơ sở dữ liệu: áp dụng các bản chuyển đổi, xem phiên bản lược đồ.",
        ),
    ),
    "demo": LazyCommand(
        module="exchange.cli.demo",
        attribute="demo",
        summary=Text(
            "Two nodes on this machine send a sample công văn end to end (development only).",
            "Chạy thử: hai nút trên máy này gửi một công văn mẫu từ đầu đến cuối "
            "(chỉ để phát triển).",
        ),
    ),
    "directory": LazyCommand(
        module="exchange.cli.directory",
        attribute="directory",
        summary=Text(
            "The agency directory: add, import, export, list.",
            "Danh bạ cơ quan: thêm, nhập, xuất, liệt kê.",
        ),
    ),
    "dossier": LazyCommand(
        module="exchange.cli.dossier",
        attribute="dossier",
        summary=Text(
            "The agency's dossiers: open one, file outgoing and incoming documents into it, "
            "close it into the archive.",
            "Hồ sơ của cơ quan: lập hồ sơ, đưa văn bản đi và đến vào hồ sơ, đóng hồ sơ và nộp "
            "vào kho lưu trữ.",
        ),
    ),
    "edxml": LazyCommand(
        module="exchange.cli.edxml",
        attribute="edxml",
        summary=Text(
            "edXML packages (QCVN 102:2016): build, verify, inspect.",
            "Gói tin edXML (QCVN 102:2016): tạo, kiểm tra, xem.",
        ),
    ),
    "document": LazyCommand(
        module="exchange.cli.document",
        attribute="document",
        summary=Text(
            "Outgoing documents: draft, personal signature, issue, edXML package.",
            "Văn bản đi: dự thảo, ký số cá nhân, ban hành, gói tin edXML.",
        ),
    ),
    "incoming": LazyCommand(
        module="exchange.cli.incoming",
        attribute="incoming",
        summary=Text(
            "Incoming documents: receive an edXML package, list, tell the sender how the work "
            "goes.",
            "Văn bản đến: tiếp nhận gói tin edXML, liệt kê, báo trạng thái xử lý cho cơ quan gửi.",
        ),
    ),
    "number": LazyCommand(
        module="exchange.cli.number",
        attribute="number",
        summary=Text(
            "Number and date of a document, filled after the personal signature.",
            "Số và ngày văn bản, điền sau chữ ký cá nhân.",
        ),
    ),
    "serve": LazyCommand(
        module="exchange.cli.serve",
        attribute="serve",
        summary=Text(
            "Run the HTTP API; refuses to start on an out-of-date database.",
            "Chạy dịch vụ HTTP; không chạy khi lược đồ cơ sở dữ liệu đã cũ.",
        ),
    ),
    "sign": LazyCommand(
        module="exchange.cli.sign",
        attribute="sign",
        summary=Text(
            "Sign documents (PDF: PAdES; XML: XMLDSig, XAdES).",
            "Ký số văn bản (PDF: PAdES; XML: XMLDSig, XAdES).",
        ),
    ),
    "worker": LazyCommand(
        module="exchange.cli.worker",
        attribute="worker",
        summary=Text(
            "Deliver the outbox (packages, status messages) to the recipient agencies, with "
            "retries, until stopped (Ctrl+C, SIGTERM).",
            "Gửi các thông điệp trong hộp thư đi (gói tin, thông điệp trạng thái) đến cơ quan "
            "nhận, có thử lại, cho đến khi dừng (Ctrl+C, SIGTERM).",
        ),
    ),
    "token": LazyCommand(
        module="exchange.cli.token",
        attribute="token",
        summary=Text(
            "What a token or HSM holds (PKCS#11); issue, revoke: API tokens for machines.",
            "Token, HSM và những gì trong đó (PKCS#11); issue, revoke: mã truy cập API cho máy.",
        ),
    ),
    "user": LazyCommand(
        module="exchange.cli.user",
        attribute="user",
        summary=Text(
            "Users of an agency: add, list, disable.",
            "Người dùng của một cơ quan: thêm, liệt kê, khóa.",
        ),
    ),
    "verify": LazyCommand(
        module="exchange.cli.verify",
        attribute="verify",
        summary=Text(
            "Validate signatures and the Decree 30 legal check.",
            "Kiểm tra chữ ký số và giá trị pháp lý theo Nghị định 30.",
        ),
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
    default=None,
    show_default="vi | $LIENTHONG_LANG",
    help=Text("Language of messages and help.", "Ngôn ngữ của thông báo và trợ giúp."),
)
@click.pass_context
def cli(ctx: click.Context, lang: str | None) -> None:
    """lienthong: signing, validation and exchange of official electronic documents."""
    chosen = lang or language()
    set_language(chosen)
    ctx.obj = {"lang": chosen}
    _show_development_warnings()


cli.help = Text(
    "lienthong: signing, validation and exchange of official electronic documents "
    "(Decree 30/2020).",
    "lienthong: ký số, kiểm tra và liên thông văn bản điện tử (Nghị định 30/2020).",
)


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
    if development and issubclass(category, development):
        kind = pick("development", "phát triển")
    else:
        kind = pick("warning", "cảnh báo")
    # a warning raised with both languages (``.en``/``.vi``, like the rooms' errors)
    text = getattr(message, pick("en", "vi"), None)
    print(f"lienthong: {kind}: {text if isinstance(text, str) else message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and maps every failure to one line and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = language_of(args)
    set_language(lang)
    install()
    # pyHanko and fontTools log layout remarks that mean nothing to a clerk
    for noisy in ("pyhanko", "pyhanko_certvalidator", "fontTools", "signxml"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    warnings.showwarning = _show_warning
    try:
        cli.main(args=args, prog_name="lienthong", standalone_mode=False)
    except click.exceptions.Abort:
        print(f"lienthong: {pick('aborted', 'đã hủy')}", file=sys.stderr)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        print(f"lienthong: {_label(lang)}: {_usage_line(exc)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print(f"lienthong: {pick('interrupted', 'bị ngắt')}", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the one place where anything unexpected is caught
        room_error = _room_error(exc)
        if room_error is not None:
            line = room_error.message(lang) + _option_hint(room_error)
            print(f"lienthong: {_label(lang)}: {line}", file=sys.stderr)
            sys.exit(room_error.exit_code)
        if os.environ.get("LIENTHONG_DEBUG"):
            raise
        # a library's own words stay out of the Vietnamese line (English keeps them)
        detail = pick(f"{type(exc).__name__}: {exc}", type(exc).__name__)
        print(
            f"lienthong: {pick('internal error', 'lỗi nội bộ')}: {detail} "
            + pick(
                "(set LIENTHONG_DEBUG=1 for details)", "(đặt LIENTHONG_DEBUG=1 để xem chi tiết)"
            ),
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)


def _label(lang: str) -> str:
    return "lỗi" if lang == "vi" else "error"


def _usage_line(exc: click.ClickException) -> str:
    """click's usage error as one line, with where to read how the command is used."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is None or not ctx.help_option_names:
        return message
    hint = translate("Try '{command} {option}' for help.").format(
        command=ctx.command_path, option=ctx.help_option_names[0]
    )
    return f"{message} {hint}"


OPTION_HINTS = {
    "timestamp_authority": "--tsa URL",
    "title": "--title TITLE",
    "pin": "--pin-env NAME | --pin-file PATH",
    "image": "--image PNG",
    "text_lines": "--text",
    "placement": "--box",
    "root_certificate": "--chain PEM | --trust PEM",
    "signed_data": "--data FILE",
}
"""What a room's error says is missing (its ``needs`` detail) → the options that give it
here. The rooms never name an edge's options: behind the HTTP API they would read wrong."""


def _option_hint(error: SigningError | ValidationError | ExchangeError | ArchiveError) -> str:
    needs = getattr(error, "details", {}).get("needs")
    option = OPTION_HINTS.get(needs) if isinstance(needs, str) else None
    return "" if option is None else f" ({pick('option', 'tùy chọn')} {option})"


def _room_error(
    exc: Exception,
) -> SigningError | ValidationError | ExchangeError | ArchiveError | None:
    """``exc`` if it is a :class:`signing.SigningError`, a
    :class:`validation.ValidationError` or an :class:`exchange.errors.ExchangeError`, else
    None."""
    for room, name in (
        ("archive", "ArchiveError"),
        ("signing", "SigningError"),
        ("validation", "ValidationError"),
        ("exchange.errors", "ExchangeError"),
    ):
        base = _loaded(room, name)
        if base is not None and isinstance(exc, base):
            return cast("SigningError | ValidationError | ExchangeError | ArchiveError", exc)
    return None
