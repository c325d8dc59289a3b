"""How every plugin builds its typer app, so the commands look and behave alike."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from mlgitops.errors import MlgitopsError

PARAMS = Path("params.yaml")  # every plugin's default: run from the repository root


def params_option(*sections: str) -> Any:
    """`--params FILE`, the same for every plugin; `sections` say which parts of it it reads."""
    names = [f"`{name}`" for name in sections]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    plural = "s" if len(names) > 1 else ""
    return typer.Option("--params", help=f"The params file whose {listed} section{plural} to use.")


def plugin_app(help_text: str) -> typer.Typer:
    """A single-command plugin: its `@app.callback(invoke_without_command=True)` is the command.

    No subcommand in the usage line, and tracebacks never print local variables (tokens).
    """
    return typer.Typer(
        help=help_text,
        subcommand_metavar="",
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
    )


def run(app: typer.Typer) -> None:
    """Run a typer app as a program: an MlgitopsError becomes one message on stderr and its exit
    code (0 ok; 1 the check said no or a remote refused; 2 wrong input or usage; 3 drift)."""
    try:
        app()
    except MlgitopsError as error:
        # Not wrapped, not parsed as markup: messages hold paths and keys like gate[0].
        message = Text.assemble((type(error).__name__, "bold red"), ": ", str(error))
        Console(stderr=True).print(message, soft_wrap=True, highlight=False)
        sys.exit(error.exit_code)
