"""The `mlgitops` command: one subcommand per plugin, mounted here with `add_typer`."""

from __future__ import annotations

import typer

from mlgitops import __version__

app = typer.Typer(
    name="mlgitops",
    help="CI plugins for DVC repositories: report, gate, comment, deploy, drift.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mlgitops {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """CI plugins for DVC repositories."""


def main() -> None:
    app()
