"""How every plugin builds its typer app, so the commands look and behave alike."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from mlgitops.errors import MlgitopsError


def plugin_app(help_text: str) -> typer.Typer:
    """A single-command plugin: its `@app.callback(invoke_without_command=True)` is the command.

    No subcommand in the usage line, and tracebacks never print local variables (tokens).
    """
    return typer.Typer(help=help_text, subcommand_metavar="", pretty_exceptions_show_locals=False)


def run(app: typer.Typer) -> None:
    """Run a typer app as a program: an MlgitopsError becomes one message on stderr and its exit
    code (0 ok; 1 the check said no or a remote refused; 2 wrong input or usage; 3 drift)."""
    try:
        app()
    except MlgitopsError as error:
        # Not wrapped, not parsed as markup: messages hold paths and keys like customers[0].
        message = Text.assemble((type(error).__name__, "bold red"), ": ", str(error))
        Console(stderr=True).print(message, soft_wrap=True, highlight=False)
        sys.exit(error.exit_code)
