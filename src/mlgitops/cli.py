"""The `mlgitops` command: one subcommand per plugin, and the one place errors become exit codes.

Exit codes: 0 ok; 1 the check said no or a remote refused; 2 wrong input or usage; 3 drift.
"""

from __future__ import annotations

import typer

from mlgitops import __version__
from mlgitops.extras import mount
from mlgitops.plugin import run

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


# One plugin per line: subcommand, the module whose `app` it is (under mlgitops.), the extra it
# needs (None: the base install), the line `mlgitops --help` shows. A plugin whose extra is
# missing is not imported; its stand-in says which extra to install (mlgitops.extras).
_COMMANDS = [
    ("report", "report", None, "Compare two revisions of a DVC repository: the PR report."),
    ("gate", "gate", None, "Apply the quality policy to a report: exit 1 when it breaks."),
    ("init", "adopt.init_command", None, "Adopt mlgitops in a git+DVC repo: workflows, a gate."),
    ("doctor", "adopt.doctor", None, "Check a repository against the convention: file, line, fix."),
    ("comment", "publish.command", None, "Publish the report as one comment per pull request."),
    ("build", "build", "serve", "Build the model service's Bento: pins from uv.lock, labels."),
    ("smoke", "smoke", None, "Smoke-test a running model service with real requests."),
    ("deploy", "deploy.command", "deploy", "Roll an image out through the Argo deploy workflow."),
    (
        "render",
        "deploy.render_command",
        "deploy",
        "Render deploy/ (Argo workflows, RBAC, alerts) from params.",
    ),
    ("drift", "drift.command", "drift", "Compare logged requests with the training reference."),
    (
        "retrain-pr",
        "retrain.command",
        "drift",
        "Open the retraining pull request when drift makes it due.",
    ),
    ("history", "history.command", None, "The delivery record: metrics per merge, deploys."),
    ("pipeline", "pipeline.command", None, "Reproduce the DVC pipeline on Argo (a DAG)."),
]
for _name, _module, _extra, _line in _COMMANDS:
    mount(app, _name, f"mlgitops.{_module}", _extra, _line)


def main() -> None:
    run(app)
