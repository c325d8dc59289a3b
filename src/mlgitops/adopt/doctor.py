"""`mlgitops doctor`: check a git+DVC repository against the convention the plugins rely on.

Each break is a Finding with its file and line, why it matters and the fix (docs/doctor.md).
Exit 0 when no error-level finding exists, 1 when one does, 2 when the directory is not the
root of a git+DVC repository with a pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mlgitops.adopt.checks_deps import check_undeclared_deps
from mlgitops.adopt.checks_dvc import (
    check_default_remote,
    check_lock_current,
    check_lock_in_git,
    ignored_pipeline_files,
)
from mlgitops.adopt.checks_outputs import check_cached_reports, check_gate_metrics
from mlgitops.adopt.checks_params import check_declared_params, check_read_params
from mlgitops.adopt.checks_workflows import check_workflows
from mlgitops.adopt.context import Context
from mlgitops.adopt.findings import Finding
from mlgitops.adopt.repository import open_repository, read_opened
from mlgitops.errors import CheckFailedError, UsageError
from mlgitops.plugin import PARAMS, params_option, plugin_app

SCHEMA_VERSION = 1

# (check id, what it checks): the ids findings carry, in the order they run.
CHECKS = (
    ("cached-metrics", "metrics files are `cache: false`, so the report reads the base from git"),
    ("cached-plots", "plots files are `cache: false`, for the same reason"),
    ("declared-params", "every param a stage declares exists in its params file"),
    ("undeclared-params", "every params key a stage's Python script visibly reads is declared"),
    ("undeclared-deps", "a stage's script, and files its source names, are in its deps"),
    ("lock-in-git", "dvc.lock is committed beside each dvc.yaml"),
    ("lock-current", "dvc.lock matches the committed commands, params and deps (dvc status)"),
    ("default-remote", "a default DVC remote is set in .dvc/config"),
    ("gate-metric", "each gate rule's metric is written by a stage"),
    ("action-pin", "workflows use actions by full commit sha, not by tag"),
    ("workflow-permissions", "workflow tokens get no more than the report needs"),
)


def diagnose(root: Path, params: Path = PARAMS) -> list[Finding]:
    """Every finding on the repository at `root`, by file and line; UsageError (exit 2) when
    it is not the root of a git+DVC repository with a pipeline. `params` holds the gate."""
    from dvc.exceptions import DvcException
    from dvc.repo import lock_repo

    root = root.resolve()
    # One DVC index for reading the pipeline and for `dvc status`: DVC drops its index when a
    # command takes the repository lock, unless the lock is already held (~0.2 s saved).
    with open_repository(root) as repo, lock_repo(repo):
        try:
            ctx = Context(root, read_opened(repo, root), dvc=repo)
            return _run_checks(ctx, params)
        except (UsageError, DvcException) as error:
            # DVC refuses a pipeline whose dvc.lock or dvc.yaml git ignores: say which line.
            ignored = ignored_pipeline_files(root)
            if not ignored:
                raise UsageError(f"DVC cannot read the pipeline of {root}: {error}") from None
            return [*ignored, *check_workflows(root)]


def _run_checks(ctx: Context, params: Path) -> list[Finding]:
    checks: list[Callable[[], Iterable[Finding]]] = [
        lambda: check_cached_reports(ctx),
        lambda: check_declared_params(ctx),
        lambda: check_read_params(ctx),
        lambda: check_undeclared_deps(ctx),
        lambda: check_lock_in_git(ctx),
        lambda: check_lock_current(ctx),
        lambda: check_default_remote(ctx),
        lambda: check_gate_metrics(ctx, params),
        lambda: check_workflows(ctx.root),
    ]
    findings = [finding for check in checks for finding in check()]
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.check))


def as_json(root: Path, findings: list[Finding]) -> dict[str, Any]:
    """The `--format json` document (docs/doctor.md describes its fields)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "root": str(root.resolve()),
        "checks": [name for name, _ in CHECKS],
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
        "findings": [finding.as_dict() for finding in findings],
    }


def as_text(findings: list[Finding]) -> str:
    """One block per finding: `file:line: severity [check] message`, then why and fix."""
    blocks = [
        f"{f.where}: {f.severity} [{f.check}] {f.message}\n    why: {f.why}\n    fix: {f.fix}"
        for f in findings
    ]
    return "\n".join(blocks) + ("\n" if blocks else "")


class Format(StrEnum):
    text = "text"
    json = "json"


app = plugin_app(
    "Check a git+DVC repository against the convention mlgitops relies on: each break with "
    "its file and line, why it matters and the fix. Exit 1 on an error-level finding."
)

_REPO_OPTION = typer.Option("--repo", help="The repository's root.")
_FORMAT_OPTION = typer.Option("--format", help="text, or json for tools (data on stdout).")


@app.callback(invoke_without_command=True)
def doctor(
    repo: Annotated[Path, _REPO_OPTION] = Path(),
    params: Annotated[Path, params_option("gate")] = PARAMS,
    output: Annotated[Format, _FORMAT_OPTION] = Format.text,
) -> None:
    """Exit 0 when the repository follows the convention; 1 with each break and its fix."""
    findings = diagnose(repo, params)
    if output is Format.json:
        typer.echo(json.dumps(as_json(repo, findings), indent=2))
    elif findings:
        typer.echo(as_text(findings), nl=False)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if errors:
        raise CheckFailedError(
            f"doctor: {errors} error(s) and {warnings} warning(s) in {repo.resolve()}; "
            "each says why it matters and how to fix it"
        )
    said = f" ({warnings} warning(s) above)" if warnings else ""
    Console(stderr=True).print(
        f"doctor: {repo.resolve()} follows the convention: {len(CHECKS)} checks{said}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
