"""The `mlgitops` command: one subcommand per plugin, and the one place errors become exit codes.

Exit codes: 0 ok; 1 the check said no or a remote refused; 2 wrong input or usage; 3 drift.
"""

from __future__ import annotations

import typer

from mlgitops import __version__, gate, smoke
from mlgitops.deploy import command as deploy
from mlgitops.drift import command as drift
from mlgitops.plugin import run
from mlgitops.publish import command as comment
from mlgitops.report import app as report_app
from mlgitops.retrain import command as retrain

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


# One `typer.Typer` per plugin, named after its subcommand.
app.add_typer(report_app, name="report")
app.add_typer(gate.app, name="gate")
app.add_typer(comment.app, name="comment")
app.add_typer(smoke.app, name="smoke")
app.add_typer(deploy.app, name="deploy")
app.add_typer(drift.app, name="drift")
app.add_typer(retrain.app, name="retrain-pr")


def main() -> None:
    run(app)
