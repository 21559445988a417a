"""A click group that imports a command's module only when that command is used.

The rooms behind the commands (pyHanko, lxml, fonts, images, the demo) take most of a second
to import; ``lienthong --help`` needs none of them and ``lienthong verify`` needs only the
validation room. So the top-level group knows its commands by name, module and summary, and
imports a command's module when click resolves that name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from exchange.cli.i18n import Command, Group, accept_lang_everywhere


@dataclass(frozen=True, slots=True, kw_only=True)
class LazyCommand:
    """Where a command lives, and what the group's help says about it."""

    module: str
    """The module that defines the command, e.g. ``exchange.cli.verify``."""
    attribute: str
    """The command's name in that module."""
    summary: str
    """The first paragraph of the command's help; the group's ``--help`` lists it (shortened
    as click shortens it) without importing the module. A test keeps it equal to the real
    one."""


class LazyGroup(Group):
    """A command group (help in the reader's language) whose commands are imported on first
    use."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self.load(cmd_name)
        return command

    def load(self, name: str) -> click.Command:
        """Import the command ``name`` (once) and register it."""
        spec = self.lazy_commands[name]
        command = getattr(importlib.import_module(spec.module), spec.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec.module}.{spec.attribute} is not a click command")
        accept_lang_everywhere(command)
        self.add_command(command, name)
        return command

    def placeholder(self, name: str) -> click.Command:
        """What the group's help shows for ``name``: the command if it is loaded already,
        otherwise a stand-in with its summary."""
        loaded = self.commands.get(name)
        if loaded is not None:
            return loaded
        return Command(name, help=self.lazy_commands[name].summary)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, over stand-ins: the same rows, nothing imported
        listing = Group(
            self.name, commands={n: self.placeholder(n) for n in self.list_commands(ctx)}
        )
        listing.format_commands(ctx, formatter)
