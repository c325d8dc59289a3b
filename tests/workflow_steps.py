"""The shell steps of a GitHub Actions job, read from the workflow file itself.

Tests run the steps CI runs, not a copy of them, so the workflow and the tests cannot drift
apart. A step with an `id:` is returned when its work is shell: a `run:` block, or a local
composite action (`$/.github/actions/NAME` or `./.github/actions/NAME`), whose `run:` steps
are returned with their `inputs` resolved. Third-party actions (checkout, cache, upload) are
CI plumbing and are left out. Expressions are resolved only where they name `env.X` or
`inputs.X`; any other value (an event field, a hashFiles call) must be given by the test,
by the name the workflow binds it to, or reading the step raises `UnresolvedError`.

To run them as GitHub does: each `step.argv` in order, with `os.environ | step.env`; once a
step failed, only the steps with `runs_after_failure`; for a fork, none `skipped_for_forks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PR_WORKFLOW = WORKFLOWS / "pr.yml"
PR_JOB = "reproduce"
# What pr.yml runs for a pull request, in order; fetch-data is the example's own bootstrap.
LOOP_STEP_IDS = ("pull", "repro", "push", "report", "gate", "pr-json")
# The values pr.yml takes from GitHub in the job's `env:`; a test gives all four (RUN_URL may
# be empty: the report then names the artifact without a link).
PR_EVENT_ENV = ("BASE_SHA", "HEAD_SHA", "PR_NUMBER", "RUN_URL")
# GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_LOCAL_ACTION = re.compile(r"^(?:\$|\.)/(?P<path>.+)$")


class UnresolvedError(ValueError):
    """Raised when a step needs a value that only GitHub knows and the test did not give."""


@dataclass(frozen=True)
class ShellStep:
    """One `run:` block as CI runs it: its step id, script, environment and condition."""

    id: str
    script: str
    env: dict[str, str]
    condition: str | None
    continue_on_error: bool

    @property
    def argv(self) -> tuple[str, ...]:
        """The command GitHub runs for this block (`shell: bash`)."""
        return (*BASH, self.script)

    @property
    def runs_after_failure(self) -> bool:
        """True when the step still runs after an earlier step failed (`!cancelled()`)."""
        return any(word in (self.condition or "") for word in ("!cancelled()", "always()"))

    @property
    def skipped_for_forks(self) -> bool:
        """True when the step's `if:` leaves it out for pull requests from forks."""
        return "!github.event.pull_request.head.repo.fork" in (self.condition or "")


def load_yaml(path: Path) -> dict[str, Any]:
    """A workflow or action file as a mapping; YAML 1.1 reads the key `on` as True, undone here."""
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    if True in document:
        document["on"] = document.pop(True)
    return document


def shell_steps(
    workflow: Path,
    job: str,
    given: Mapping[str, str],
    *,
    ids: Iterable[str] | None = None,
    inputs: Mapping[str, str] | None = None,
) -> list[ShellStep]:
    """The shell steps of `job` in file order, only those in `ids` when given (all must exist).

    A reusable workflow's `${{ inputs.X }}` is its `workflow_call` input's default, or the
    value in `inputs` (what a caller's `with:` would give).
    """
    document = load_yaml(workflow)
    job_spec = document["jobs"][job]
    wanted = None if ids is None else list(ids)
    default_shell = (document.get("defaults") or {}).get("run", {}).get("shell")
    called = _call_inputs(document, inputs or {})
    env = _layer({}, document.get("env"), given, called)
    env = _layer(env, job_spec.get("env"), given, called)
    found: list[ShellStep] = []
    for step in job_spec["steps"]:
        step_id = step.get("id")
        if step_id is None or (wanted is not None and step_id not in wanted):
            continue
        found.extend(_expand(workflow, step, step_id, env, given, default_shell, called))
    if wanted is not None:
        missing = [name for name in wanted if name not in {step.id for step in found}]
        if missing:
            raise KeyError(f"{workflow.name} job {job} has no shell step with id {missing}")
    return found


def _expand(
    workflow: Path,
    step: Mapping[str, Any],
    step_id: str,
    outer_env: Mapping[str, str | None],
    given: Mapping[str, str],
    default_shell: str | None,
    called: Mapping[str, str | None],
) -> list[ShellStep]:
    """The `run:` blocks one workflow step stands for: itself, or its local composite action."""
    env = _layer(outer_env, step.get("env"), given, called)
    condition = step.get("if")
    keep_going = bool(step.get("continue-on-error", False))
    if "run" in step:
        _check_shell(step.get("shell", default_shell), workflow, step_id)
        return [_shell_step(step_id, step["run"], env, condition, keep_going)]
    local = _LOCAL_ACTION.match(str(step.get("uses", "")))
    if local is None:
        return []  # a third-party action: CI plumbing, not something a test runs
    action_file = _repo_root(workflow) / local["path"] / "action.yml"
    action = load_yaml(action_file)
    with_values = {
        name: _resolve(str(value), env, called) for name, value in (step.get("with") or {}).items()
    }
    inputs: dict[str, str | None] = {}
    for name, spec in (action.get("inputs") or {}).items():
        default = (spec or {}).get("default")
        inputs[name] = with_values.get(name, None if default is None else str(default))
    steps: list[ShellStep] = []
    for inner in action["runs"]["steps"]:
        if "run" not in inner:
            continue  # setup-python, cache: plumbing
        _check_shell(inner.get("shell"), action_file, step_id)
        # GitHub points GITHUB_ACTION_PATH at the action's own directory (its sibling files).
        inner_env = {**env, "GITHUB_ACTION_PATH": str(action_file.parent)}
        for name, value in (inner.get("env") or {}).items():
            inner_env[name] = (
                given[name] if name in given else _resolve(str(value), inner_env, inputs)
            )
        steps.append(_shell_step(step_id, inner["run"], inner_env, condition, keep_going))
    return steps


def _shell_step(
    step_id: str,
    script: str,
    env: Mapping[str, str | None],
    condition: str | None,
    keep_going: bool,
) -> ShellStep:
    """A ShellStep whose every variable is known, or UnresolvedError naming what to give."""
    unknown = sorted(name for name, value in env.items() if value is None)
    if unknown:
        raise UnresolvedError(
            f"step {step_id!r} needs {', '.join(unknown)}, which the workflow takes from GitHub;"
            " give them to shell_steps(given=...)"
        )
    return ShellStep(
        step_id, script, {k: v for k, v in env.items() if v is not None}, condition, keep_going
    )


def _layer(
    env: Mapping[str, str | None],
    layer: Mapping[str, Any] | None,
    given: Mapping[str, str],
    called: Mapping[str, str | None],
) -> dict[str, str | None]:
    """`env` with one more `env:` block on top; given values win over the workflow's."""
    merged = dict(env)
    for name, value in (layer or {}).items():
        merged[name] = given[name] if name in given else _resolve(str(value), merged, called)
    return merged


def _call_inputs(document: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str | None]:
    """A reusable workflow's inputs: the `workflow_call` defaults, then the values given."""
    trigger = document.get("on")
    call = trigger.get("workflow_call") if isinstance(trigger, Mapping) else None
    specs = (call or {}).get("inputs") or {}
    found: dict[str, str | None] = {}
    for name, spec in specs.items():
        default = (spec or {}).get("default")
        # GitHub renders a boolean input as true/false in an expression.
        found[name] = (
            None
            if default is None
            else str(default).lower()
            if isinstance(default, bool)
            else str(default)
        )
    unknown = set(values) - set(found)
    if unknown:
        raise KeyError(f"the workflow has no workflow_call input {sorted(unknown)}")
    return found | dict(values)


def _resolve(
    value: str, env: Mapping[str, str | None], inputs: Mapping[str, str | None]
) -> str | None:
    """`value` with `${{ env.X }}` and `${{ inputs.X }}` filled in; None if it holds another."""
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        context, _, name = match[1].partition(".")
        source = {"env": env, "inputs": inputs}.get(context)
        found = None if source is None else source.get(name)
        if found is None:
            unresolved = True
            return ""
        return found

    resolved = _EXPRESSION.sub(substitute, value)
    return None if unresolved else resolved


def _check_shell(shell: str | None, path: Path, step_id: str) -> None:
    """Refuses anything but bash: the steps must run here exactly as they run on GitHub."""
    if shell != "bash":
        raise ValueError(f"{path.name} step {step_id!r} runs with shell {shell!r}, not bash")


def _repo_root(workflow: Path) -> Path:
    """The repository a workflow file belongs to (it lives in .github/workflows/)."""
    return workflow.resolve().parents[2]
