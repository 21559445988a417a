"""Vietnamese by default, English with ``--lang en``: help pages, click's usage errors, the
rooms' messages, OS messages; and the exit codes the README's table promises."""

from __future__ import annotations

import ast
import inspect
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

import signing.errors
import validation.errors
from exchange.cli import COMMANDS, cli
from exchange.cli.i18n import (
    CLICK_VI,
    Formatter,
    has_vietnamese,
    install,
    set_language,
    translate,
)
from signing.dev.pki import DevPki
from tests.plugin import PROJECT_ROOT, Decree30Documents, SoftHsmToken, run_cli

VI = {"LIENTHONG_LANG": "vi"}
PIN_ENV = {"TOKEN_PIN": "246810"}


def _commands(
    command: click.Command, path: str = "lienthong"
) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            sub = command.get_command(click.Context(command), name)
            assert sub is not None
            yield from _commands(sub, f"{path} {name}")


def test_every_help_text_has_vietnamese() -> None:
    for name in COMMANDS:
        cli.load(name)
    missing = []
    for path, command in _commands(cli):
        if command.help is None or not has_vietnamese(command.help):
            missing.append(path)
        for param in command.params:
            text = getattr(param, "help", None)
            if text and not has_vietnamese(text):
                missing.append(f"{path} {param.name}")
    assert missing == []


def test_every_command_accepts_lang() -> None:
    """``lienthong demo --lang en`` works like ``lienthong --lang en demo``: every command
    takes ``--lang``."""
    for name in COMMANDS:
        cli.load(name)
    without = [
        path
        for path, command in _commands(cli)
        if not any(isinstance(p, click.Option) and "--lang" in p.opts for p in command.params)
    ]
    assert without == []


@pytest.mark.parametrize(
    "args", [["demo", "--lang", "en", "--nope"], ["db", "upgrade", "--lang", "en", "--nope"]]
)
def test_lang_after_the_command(args: list[str]) -> None:
    result = run_cli(*args, env=VI)
    assert result.code == 64
    assert result.err.startswith("lienthong: error: No such option '--nope'"), result.err


def test_both_languages_in_one_process() -> None:
    """The page is written in the language of the run, whichever was used before."""
    install()  # as main() does
    command = cli.load("verify")
    pages = {}
    for lang in ("vi", "en", "vi"):
        set_language(lang)
        ctx = command.make_context("verify", ["x.pdf"], resilient_parsing=True)
        pages[lang] = command.get_help(ctx)
    set_language("en")
    assert isinstance(command.make_context("v", ["x.pdf"]).make_formatter(), Formatter)
    assert "Cách dùng:" in pages["vi"] and "Không tải gì qua mạng." in pages["vi"]
    assert "Hiện trợ giúp này rồi thoát." in pages["vi"]
    assert "Usage:" in pages["en"] and "Never fetch anything over the network." in pages["en"]
    assert "Show this message and exit." in pages["en"]
    assert "Never fetch" not in pages["vi"]


@pytest.mark.parametrize(
    "args", [["--help"], ["sign", "pdf", "--help"], ["verify", "-h"], ["token", "list", "-h"]]
)
def test_help_pages(args: list[str]) -> None:
    vi = run_cli(*args, env=VI)
    assert vi.code == 0, vi.err
    assert vi.out.startswith("Cách dùng: lienthong") and "Tùy chọn:" in vi.out
    assert "Usage:" not in vi.out and "Options:" not in vi.out
    en = run_cli("--lang", "en", *args, env=VI)
    assert en.out.startswith("Usage: lienthong") and "Options:" in en.out
    assert "Tùy chọn:" not in en.out
    assert run_cli(*args).out == en.out  # LIENTHONG_LANG=en is the same as --lang en


@pytest.mark.parametrize(
    ("args", "vi", "en"),
    [
        (
            ["sign", "pdf", "a.pdf", "-o", "b.pdf"],
            "Thiếu tùy chọn '--key'.",
            "Missing option '--key'.",
        ),
        (["verify", "a.pdf", "--formt", "json"], "Không có tùy chọn '--formt'.", "No such option"),
        (
            ["verify", "a.pdf", "--revocation", "maybe"],
            "Giá trị không hợp lệ cho '--revocation': 'maybe' không phải một trong",
            "Invalid value for '--revocation'",
        ),
        (["verify"], "Thiếu đối số 'FILES...'.", "Missing argument 'FILES...'."),
        (
            ["verify", "a.pdf", "--at", "hôm qua"],
            "--at phải là thời điểm theo ISO 8601",
            "--at must",
        ),
        (["nope"], "Không có lệnh 'nope'.", "No such command 'nope'."),
    ],
)
def test_usage_errors_are_one_line_in_the_language(args: list[str], vi: str, en: str) -> None:
    result = run_cli(*args, env=VI)
    assert result.code == 64
    [line] = result.err.splitlines()
    assert line.startswith("lienthong: lỗi: ") and vi in line, line
    assert "Xem 'lienthong" in line and "Error" not in line and "Usage" not in line
    english = run_cli(*args)
    [line] = english.err.splitlines()
    assert line.startswith("lienthong: error: ") and en in line, line
    assert "for help." in line


NEVER_SHOWN = (
    "DeprecationWarning",  # nothing of ours is deprecated
    "Could not determine",  # mistakes in declaring options, not in using them
    "defined twice",
    "declaration",
    "Did you mean to declare",
    "same flag",
    "Choice(",  # a repr
    "(dynamic)",
    "Value must be an iterable.",
    "{len_type}",  # tuple types, UUIDs, executables: not used
    "Takes {nargs}",
    "UUID",
    "start character",
    "is not executable",
    "deprecated",
)
PLACEHOLDERS = {"file", "directory", "path"}
"""Words click makes metavars of (FILE, PATH): placeholders, left as they are."""
"""click message ids no lienthong command can show."""


def test_click_catalogue_is_complete_for_what_we_show() -> None:
    """Every message id click 8.5 uses for help and usage errors has a Vietnamese text."""
    source = Path(inspect.getfile(click.core)).parent
    ids = set()
    for name in ("core.py", "exceptions.py", "parser.py", "types.py", "formatting.py"):
        for node in ast.walk(ast.parse((source / name).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "ngettext"):
                ids.update(a.value for a in node.args if isinstance(a, ast.Constant))
    needed = {i for i in ids if not any(part in i for part in NEVER_SHOWN)}
    assert sorted(needed - set(CLICK_VI) - PLACEHOLDERS) == []
    set_language("vi")
    assert translate("Missing option") == "Thiếu tùy chọn"
    set_language("en")
    assert translate("Missing option") == "Missing option"


def test_verify_missing_file_exits_66_in_vietnamese(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pdf"
    result = run_cli("verify", str(missing), "--format", "json", env=VI)
    assert result.code == 66, result.err
    assert result.out == ""
    assert result.err.strip() == f"lienthong: lỗi: không có tệp {missing}"
    english = run_cli("verify", str(missing))
    assert english.code == 66 and f"no such file: {missing}" in english.err


def test_os_messages_are_translated(tmp_path: Path) -> None:
    folder = tmp_path / "a-directory.pdf"
    folder.mkdir()
    result = run_cli("verify", str(folder), env=VI)
    assert result.code == 1
    assert "không đọc được tệp: là một thư mục" in result.out
    assert "Is a directory" not in result.out + result.err
    english = run_cli("verify", str(folder))
    assert "cannot read the file: Is a directory" in english.out


def test_sign_batch_summary_in_vietnamese(pki: DevPki, sample_pdf: bytes, tmp_path: Path) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"secret"))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sample_pdf)
    bad.write_bytes(b"%PDF-1.7\n\x00 not really\n")
    out = tmp_path / "out"
    out.mkdir()
    args = ["sign", "pdf", str(good), str(bad), "-o", str(out), "--key", str(p12)]
    result = run_cli(*args, "--pin-env", "P", env={**VI, "P": "secret"})
    assert result.code == 1, result.err
    assert f"đã ký 1 trên 2 văn bản vào {out}" in result.out
    assert f"lienthong: cảnh báo: ký bằng khóa đọc từ tệp {p12}" in result.err
    [failure] = [line for line in result.err.splitlines() if "bad.pdf" in line]
    assert failure == f"lienthong: {bad}: tệp PDF không đọc được", failure
    english = run_cli(*args, "--pin-env", "P", env={"P": "secret"})
    assert f"signed 1 of 2 documents into {out}" in english.out
    assert "not a readable PDF: " in english.err  # English keeps the library's words


def token_slot(listing: str) -> str:
    """The slot number of the first token in an English listing."""
    return listing.split("slot ", 1)[1].split(":", 1)[0]


@pytest.mark.hsm
def test_token_list_after_login(token: SoftHsmToken) -> None:
    logged_in = run_cli(
        "token", "list", "--module", token.module, "--pin-env", "TOKEN_PIN", env=PIN_ENV
    )
    assert logged_in.code == 0, logged_in.err
    assert "PIN needed" not in logged_in.out and "; logged in" in logged_in.out
    anonymous = run_cli("token", "list", "--module", token.module)
    assert "; PIN needed" in anonymous.out and "logged in" not in anonymous.out
    vi = run_cli(
        "token", "list", "--module", token.module, "--pin-env", "TOKEN_PIN", env={**VI, **PIN_ENV}
    )
    assert "; đã đăng nhập" in vi.out and "cần mã PIN" not in vi.out
    assert f"khe {token_slot(logged_in.out)}: token '{token.label}' số sê-ri" in vi.out
    assert "  khóa bí mật     'personal'" in vi.out and "private key" not in vi.out


# -- the rooms' messages ---------------------------------------------------------------------


def _error_names() -> set[str]:
    names = set()
    for base in (signing.errors.SigningError, validation.errors.ValidationError):
        stack = [base]
        while stack:
            cls = stack.pop()
            names.add(cls.__name__)
            stack.extend(cls.__subclasses__())
    return names


def _raised_messages() -> Iterator[tuple[str, ast.Call]]:
    names = _error_names()
    for room in ("signing", "validation", "exchange/cli"):
        for path in sorted((PROJECT_ROOT / room).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "click":
                    continue  # click's own UsageError: the edge's text, chosen with pick()
                if name in names and (node.args or node.keywords):
                    yield f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}", node


def _vi_argument(call: ast.Call) -> ast.expr | None:
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "vi"), None)


def test_every_room_error_has_a_vietnamese_message() -> None:
    missing = [where for where, call in _raised_messages() if _vi_argument(call) is None]
    assert missing == []


def test_vietnamese_messages_carry_no_library_or_os_text() -> None:
    """``{exc}`` or ``{exc.strerror}`` inside a Vietnamese text puts English into it."""
    raw = []
    for where, call in _raised_messages():
        vi = _vi_argument(call)
        for node in ast.walk(vi) if vi is not None else ():
            if isinstance(node, ast.FormattedValue) and not (
                isinstance(node.value, ast.Attribute) and node.value.attr == "__name__"
            ):  # an exception's class name is a code, not words
                names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                attrs = {n.attr for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
                if "exc" in names or attrs & {"strerror", "failure_msg"}:
                    raw.append(where)
    assert raw == []


def test_room_messages_name_no_command_line_flag() -> None:
    flagged = []
    for where, call in _raised_messages():
        if where.startswith("exchange/"):
            continue  # the command line names its own options
        for node in ast.walk(call):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and any(
                    word.startswith("--") and word[2:3].isalpha() for word in node.value.split()
                )
            ):
                flagged.append(f"{where}: {node.value}")
    assert flagged == []


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "{missing}"],
        ["verify", "{doc}", "--trust", "{missing}"],
        ["verify", "{doc}", "--crl", "{missing}"],
        ["verify", "{doc}", "--ocsp", "{missing}"],
        ["verify", "{doc}", "--data", "{missing}"],
        ["sign", "pdf", "{missing}", "-o", "{out}", "--key", "{p12}", "--pin-env", "P"],
        ["sign", "pdf", "{doc}", "-o", "{out}", "--key", "{missing_p12}"],
        ["sign", "finish", "{doc}", "--signature", "{missing}", "-o", "{out}"],
        ["sign", "prepare", "{doc}", "--cert", "{missing}", "--state", "{out}"],
        ["number", "add-fields", "{missing}", "-o", "{out}"],
        ["number", "fill", "{missing}", "-o", "{out}", "--number", "1"],
    ],
    ids=lambda args: " ".join(a for a in args if not a.startswith("{")),
)
def test_a_missing_input_exits_66_in_every_command(
    args: list[str], pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    """The README's exit-code table: 66 when an input file does not exist."""
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"secret"))
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(sample_pdf)
    missing = tmp_path / ("nope.p12" if "{missing_p12}" in args else "nope.bin")
    names = {
        "{missing}": missing,
        "{missing_p12}": missing,
        "{doc}": doc,
        "{out}": tmp_path / "out.pdf",
        "{p12}": p12,
    }
    argv = [str(names.get(a, a)) for a in args]
    result = run_cli(*argv, env={**VI, "P": "secret"})
    assert result.code == 66, result.err
    [line] = [x for x in result.err.splitlines() if "cảnh báo" not in x]  # the PKCS#12 warning
    assert line.startswith("lienthong: lỗi: ") and str(missing) in line, line
    assert "No such file" not in line
    assert not (tmp_path / "out.pdf").exists()


def test_the_command_line_names_its_own_option(
    pki: DevPki, sample_pdf: bytes, tmp_path: Path
) -> None:
    """The signing room says what is missing; the command line adds which option gives it."""
    p12 = tmp_path / "key.p12"
    p12.write_bytes(pki.pkcs12("personal", b"secret"))
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(sample_pdf)
    args = ["sign", "pdf", str(doc), "-o", str(tmp_path / "o.pdf"), "--key", str(p12)]
    args += ["--pin-env", "P", "--level", "B-T"]
    vi = run_cli(*args, env={**VI, "P": "secret"})
    assert vi.code == 64
    assert "lienthong: lỗi: mức B-T cần máy chủ cấp dấu thời gian (tùy chọn --tsa URL)" in vi.err
    en = run_cli(*args, env={"P": "secret"})
    assert "level B-T needs a timestamp authority (option --tsa URL)" in en.err


def test_verify_report_on_a_real_document_reads_vietnamese(
    decree30: Decree30Documents, pki_files: Path, tmp_path: Path
) -> None:
    doc = tmp_path / "cong-van.pdf"
    doc.write_bytes(decree30.final)
    args = ["verify", str(doc), "--trust", str(pki_files / "root.pem"), "--offline"]
    result = run_cli(*args, env=VI)
    assert result.code == 2, result.err  # offline, no revocation data: cannot be determined
    text = result.out
    assert "không có chữ ký số hợp lệ của" in text
    assert "Giá trị pháp lý" in text and "Thời điểm kiểm tra: " in text
    assert "(GMT+7)" in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "no ISO 8601 for people"
    for label in ("Common Name", "Organization", "Country"):
        assert label not in text
    findings = [line.strip() for line in text.splitlines() if line.strip()[:1] in "✗⚠·"]
    # each finding once per block: the same line may appear for two signatures, not twice
    # in a row for one
    assert all(a != b for a, b in itertools.pairwise(findings))
    verdicts = ("hợp lệ", "không hợp lệ", "chưa xác định được")
    for line in text.splitlines():
        if "không có chữ ký số hợp lệ của" in line:  # the legal reason: one word per signature
            for item in line.split(": ", 1)[1].split(", "):
                signature, word = item.split(" ", 1)
                assert signature in ("personal-1", "agency-1") and word in verdicts, line
