"""`mlgitops init`: put an existing git+DVC repository on the pull-request loop.

Run at the repository's root. Prints what it found, what it wrote (with --dry-run: the diffs it
would write, writing nothing) and the next step.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from mlgitops.adopt import init_texts
from mlgitops.adopt.init import Plan, apply, plan_init
from mlgitops.plugin import plugin_app

app = plugin_app("Set up mlgitops in an existing git+DVC repository: two workflows, a gate.")


@app.callback(invoke_without_command=True)
def init(
    root: Annotated[
        Path, typer.Option("--root", help="The repository's root (default: here).")
    ] = Path(),
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo",
            help="OWNER/NAME of the GitHub repository holding mlgitops's reusable workflows."
            " Default: where the installed mlgitops came from (pip's record of a git install,"
            " or the origin of an editable checkout).",
        ),
    ] = None,
    sha: Annotated[
        str | None,
        typer.Option(
            "--sha",
            help="The full commit sha of that repository the workflows are pinned to. Default:"
            " the installed mlgitops's own git revision, when known.",
        ),
    ] = None,
    setup: Annotated[
        str | None,
        typer.Option(
            "--setup-command",
            help="How CI installs this repository's own dependencies. Default: pip install -r"
            " requirements.txt (when there is one) plus DVC's plugin for the default remote.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the files and diffs; write nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite workflows someone has edited.")
    ] = False,
) -> None:
    """Write the caller workflows, a gate policy in params.yaml and report/ in .gitignore."""
    plan = plan_init(root, repo=repo, sha=sha, setup=setup, force=force)
    if dry_run:
        for change in plan.changes:
            if change.action in ("create", "update", "append"):
                typer.echo(change.diff(), nl=False)
    else:
        apply(plan)
    typer.echo("\n".join(summary(plan, dry_run=dry_run)))


def summary(plan: Plan, *, dry_run: bool) -> list[str]:
    """A few lines: what the repository declares, the gate, the files, the next step."""
    repository = plan.repository
    remote = repository.default_remote
    lines = [
        f"found: {len(repository.stages)} stage(s) in {', '.join(repository.dvcfiles)};"
        f" metrics {_names(metric.path for metric in repository.metrics)};"
        f" plots {_names(plot.name for plot in repository.plots)};"
        f" params {_names(params.path for params in repository.params_files)};"
        f" remote {f'{remote.name} ({remote.url})' if remote else 'none (every stage runs in CI)'}",
    ]
    if remote and init_texts.remote_scheme(remote.url) is None:
        lines.append(
            f"note: the default remote {remote.name} is a local directory, which GitHub's runners"
            " cannot reach, so CI restores nothing from it; `dvc remote add -d NAME"
            " s3://BUCKET/PATH` (or gs://, azure://) shares outputs and the run-cache"
        )
    gate = plan.gate
    kept_gate = any(c.path == "params.yaml" and c.note.startswith("already") for c in plan.changes)
    if gate.rules and not kept_gate:
        rules = ", ".join(f"{rule.metric} ({rule.better})" for rule in gate.rules)
        lines.append(f"gate: {rules}")
    if gate.ungated and not kept_gate:
        lines.append(f"reported, not gated (the name says no direction): {', '.join(gate.ungated)}")
    if gate.unread:
        lines.append(
            f"not in the workspace, so not read: {', '.join(gate.unread)}"
            " (run `dvc repro` or `dvc pull`, then init again)"
        )
    verb = "would write" if dry_run else "wrote"
    written = [
        f"{c.path} ({c.note})" for c in plan.changes if c.action not in ("unchanged", "kept")
    ]
    lines.append(f"{verb}: {', '.join(written)}" if written else "nothing to change")
    lines += [f"kept {c.path}: {c.note}" for c in plan.changes if c.action == "kept"]
    setup = plan.setup or (
        "none found (no requirements.txt): if the stages need packages, run init again with"
        " --setup-command 'pip install ...'"
    )
    lines.append(f"pinned to {plan.pin.repo}@{plan.pin.sha}; CI setup: {setup}")
    lines.append(
        "next: commit these files and merge them into the default branch first (GitHub runs"
        " mlgitops-comment from there), then push a branch and open a pull request: the"
        " comment appears when its mlgitops-pr run has finished."
    )
    return lines


def _names(items: Iterable[str]) -> str:
    names = list(items)
    return ", ".join(names) if names else "none"
