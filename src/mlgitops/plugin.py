"""How every plugin builds its typer app, so the commands look and behave alike."""

from __future__ import annotations

import typer


def plugin_app(help_text: str) -> typer.Typer:
    """A single-command plugin: its `@app.callback(invoke_without_command=True)` is the command.

    No subcommand in the usage line, and tracebacks never print local variables (tokens).
    """
    return typer.Typer(help=help_text, subcommand_metavar="", pretty_exceptions_show_locals=False)
