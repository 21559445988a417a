"""Vietnamese by default, English with ``--lang en``: help texts and click's own messages.

The language is known before click builds a help page or a usage error: :func:`main` reads
``--lang`` (anywhere on the command line) or ``$LIENTHONG_LANG`` first. Help texts are
written in both languages where they are defined (:class:`Text`: its string value is the
English text, so click and Python treat it as any help string) and chosen when a page is
formatted (:class:`Command`, :class:`Group`, :class:`Formatter`), so one process can show
both.

click translates its own messages ("Usage:", "Error: Missing option '--key'.", "No such
option", "Invalid value for …") through :func:`gettext.gettext`, bound to ``_`` in each of its
modules, and ships no catalogue. :func:`install` rebinds those names to :func:`translate`,
whose catalogue is :data:`CLICK_VI` below: the stdlib's gettext would need compiled ``.mo``
files and the process's locale, and lienthong's language is its own option.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click

LANGUAGES = ("vi", "en")
_current: list[str] = []


def default_language() -> str:
    """``$LIENTHONG_LANG`` when it names a language, else Vietnamese."""
    value = os.environ.get("LIENTHONG_LANG", "vi")
    return value if value in LANGUAGES else "vi"


def language() -> str:
    """The language of this run (see :func:`set_language`)."""
    return _current[-1] if _current else default_language()


def set_language(lang: str) -> None:
    _current[:] = [lang if lang in LANGUAGES else "vi"]


def language_of(argv: Sequence[str]) -> str:
    """``--lang en`` / ``--lang=en`` anywhere on the command line (the top-level option or
    ``verify``'s), else :func:`default_language`."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
            return value if value in LANGUAGES else "vi"
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGUAGES else "vi"
    return default_language()


T = TypeVar("T")


def pick(en: T, vi: T) -> T:
    """``vi`` or ``en``, in the language of this run."""
    return vi if language() == "vi" else en


_VI: dict[str, str] = {}
"""English help text (as click cleans it) → Vietnamese, filled by :class:`Text`."""


class Text(str):
    """A help text in both languages. Its value is the English text."""

    vi: str

    def __new__(cls, en: str, vi: str) -> Text:
        text = super().__new__(cls, en)
        text.vi = vi
        _VI[inspect.cleandoc(en)] = inspect.cleandoc(vi)
        return text


F = TypeVar("F", bound=Callable[..., Any])


def vietnamese(text: str) -> Callable[[F], F]:
    """The Vietnamese of a command's help, whose English is the function's docstring (put
    it between ``@click.command`` and the function)."""

    def register(func: F) -> F:
        if func.__doc__ is None:
            raise TypeError(f"{func.__name__} has no docstring to translate")
        _VI[inspect.cleandoc(func.__doc__)] = inspect.cleandoc(text)
        return func

    return register


def localize(text: str) -> str:
    """A help text (or click message) in the language of this run."""
    if language() == "en":
        return text
    if isinstance(text, Text):
        return text.vi
    cleaned = inspect.cleandoc(text)
    return _VI.get(cleaned) or CLICK_VI.get(cleaned) or text


def has_vietnamese(text: str) -> bool:
    """Whether ``text`` has a Vietnamese version (for the test that walks every command)."""
    cleaned = inspect.cleandoc(text)
    return isinstance(text, Text) or cleaned in _VI or cleaned in CLICK_VI


# -- click's own messages --------------------------------------------------------------------

CLICK_VI: dict[str, str] = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Positional arguments": "Đối số",
    "Show this message and exit.": "Hiện trợ giúp này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "default: {default}": "mặc định: {default}",
    "required": "bắt buộc",
    "env var: {var}": "biến môi trường: {var}",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem '{command} {option}' để biết cách dùng.",
    "Aborted!": "Đã hủy!",
    "Missing argument": "Thiếu đối số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing command.": "Thiếu lệnh.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Did you mean {possibility}?": "Có phải là {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Có phải là một trong: {possibilities}?)",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Got unexpected extra argument ({args})": "Thừa đối số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa đối số ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Đối số {name!r} nhận {nargs} giá trị.",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "{value!r} is not {choice}.": "{value!r} không phải {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không phải một trong {choices}.",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "{value!r} does not match the formats {formats}.": (
        "{value!r} không đúng dạng nào trong {formats}."
    ),
    "{value!r} is not a valid {number_type}.": "{value!r} không phải một số hợp lệ.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} không phải giá trị đúng/sai. Nhận: {states}"
    ),
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là một tệp.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là một thư mục.",
    "{name} {filename!r} is not readable.": "Không đọc được {name} {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được {name} {filename!r}.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "unknown error": "lỗi không rõ",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai giá trị đã nhập không khớp.",
    "Error: invalid input": "Lỗi: giá trị không hợp lệ",
}
"""click's message ids (click 8.5) → Vietnamese. An id missing here stays English, and so do
the words click turns into metavars (``FILE``, ``PATH``, ``TEXT``), which are placeholders
like our own (``NAME``, ``KEY``)."""

_AT_FORMAT_TIME = {"Show this message and exit."}
"""Ids click translates once and keeps (the help option is built once per command): they
are translated when the page is formatted instead, so a later run in the same process can
use the other language."""


def translate(message: str) -> str:
    """click's ``gettext``: its message in the language of this run."""
    if language() == "en" or message in _AT_FORMAT_TIME:
        return message
    return CLICK_VI.get(message, message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """click's ``ngettext``."""
    return translate(singular if n == 1 else plural)


_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
)


def install() -> None:
    """Route click's messages through :func:`translate` (idempotent)."""
    for name in _CLICK_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = translate_plural  # type: ignore[attr-defined]


# -- help pages ------------------------------------------------------------------------------

_EXTRA = re.compile(r"^(?P<text>.*?)(?P<extra>\s+\[[^\[\]]*\])?$", re.DOTALL)
"""An option's help row: its text, then click's "[default: …; required]"."""


class Formatter(click.HelpFormatter):
    """click's help formatter, writing help texts in the language of this run."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if language() == "vi":
            args = args.replace("[OPTIONS]", "[TÙY_CHỌN]").replace("COMMAND", "LỆNH")
            args = args.replace("[ARGS]", "[ĐỐI_SỐ]")
        super().write_usage(prog, args, prefix)

    def write_text(self, text: str) -> None:
        super().write_text(localize(text))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        localized = [(term, _row_help(text)) for term, text in rows]
        super().write_dl(localized, col_max, col_spacing)


def _row_help(help_text: str) -> str:
    match = _EXTRA.match(help_text)
    if match is None or language() == "en":
        return help_text
    return localize(match["text"]) + (match["extra"] or "")


class Context(click.Context):
    formatter_class = Formatter


def _short_help(command: click.Command, limit: int) -> str:
    """click shortens a long help to its first sentence: shorten the reader's language."""
    return click.Command(
        command.name,
        help=None if command.help is None else localize(command.help),
        short_help=None if command.short_help is None else localize(command.short_help),
    ).get_short_help_str(limit)


class Command(click.Command):
    """A command whose help is written in the language of this run."""

    context_class = Context

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


class Group(click.Group):
    """A command group whose help, and its subcommands' (made with :class:`Command`), is
    written in the language of this run."""

    context_class = Context
    command_class = Command
    group_class = type

    def get_short_help_str(self, limit: int = 45) -> str:
        return _short_help(self, limit)


# -- --lang on every command -----------------------------------------------------------------

LANG_HELP = Text(
    "Language of messages and help (also before the command: lienthong --lang en …).",
    "Ngôn ngữ của thông báo và trợ giúp (cũng đặt được trước lệnh: lienthong --lang en …).",
)


def accept_lang_everywhere(command: click.Command) -> None:
    """Give ``command`` (and, for a group, every subcommand) a ``--lang`` option when it has
    none, so that ``lienthong demo --lang en`` works like ``lienthong --lang en demo``.
    :func:`language_of` has read the language from the command line already; the option
    only has to be accepted."""
    if not any(isinstance(p, click.Option) and "--lang" in p.opts for p in command.params):
        command.params.append(
            click.Option(
                ["--lang"],
                type=click.Choice(list(LANGUAGES)),
                expose_value=False,
                help=LANG_HELP,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_lang_everywhere(sub)
