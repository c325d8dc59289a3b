"""The `mlgitops` command: one subcommand per plugin, and the one place errors become exit codes.

Exit codes: 0 ok; 1 the check said no or a remote refused; 2 wrong input or usage; 3 drift.
"""

from __future__ import annotations

import typer

from mlgitops import __version__, build, gate, smoke
from mlgitops.deploy import command as deploy
from mlgitops.deploy import render_command as render
from mlgitops.drift import command as drift
from mlgitops.plugin import run
from mlgitops.publish import command as comment
from mlgitops.report import app as report_app
from mlgitops.retrain import command as retrain

app = typer.Typer(
    name="mlgitops",
    help="CI plugins for DVC repositories: one command per plugin.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help shows every flag as <bool>
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


# One `typer.Typer` per plugin, named after its subcommand, with the line `mlgitops --help` shows.
_COMMANDS = [
    ("report", report_app, "Compare two revisions of a DVC repository: the PR report."),
    ("gate", gate.app, "Apply the quality policy to a report: exit 1 when it breaks."),
    ("comment", comment.app, "Publish the report as one comment per pull request."),
    ("build", build.app, "Build the model service's Bento: pins from uv.lock, labels."),
    ("smoke", smoke.app, "Smoke-test a running model service with real requests."),
    ("deploy", deploy.app, "Roll an image out through the Argo deploy workflow."),
    ("render", render.app, "Render deploy/ (Argo workflows, RBAC, alerts) from params."),
    ("drift", drift.app, "Compare logged requests with the training reference."),
    ("retrain-pr", retrain.app, "Open the retraining pull request when drift makes it due."),
]
for _name, _plugin, _line in _COMMANDS:
    app.add_typer(_plugin, name=_name, short_help=_line)


def main() -> None:
    run(app)
