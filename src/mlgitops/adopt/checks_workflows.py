"""Doctor checks on GitHub workflows and composite actions: pinned actions, least permissions.

A tag can be moved to other code after review (tj-actions/changed-files, March 2025); a full
commit sha cannot. The job that runs a pull request's code gets a read-only token: what the
report needs is to read the repository (and, for a cloud remote, an OIDC token); publishing
the comment is a separate job that never runs that code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlgitops.adopt.findings import Finding, Severity
from mlgitops.adopt.yamlmarks import YamlFile

_SHA = re.compile(r"[0-9a-f]{40}")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_LEVELS = {"none": 0, "read": 1, "write": 2}
_SCOPES = [
    *("actions", "attestations", "checks", "contents", "deployments", "discussions"),
    *("id-token", "issues", "models", "packages", "pages", "pull-requests"),
    *("repository-projects", "security-events", "statuses"),
]
# What each kind of job needs at most. Reproduce, report and gate read the repository and its
# workflow artifacts; a cloud DVC remote may take an OIDC token (id-token: write mints one, it
# writes nothing to the repository). Publishing edits the comment and pushes the images branch.
REPORT_SCOPES = {
    "contents": "read",
    "actions": "read",
    "pull-requests": "read",
    "id-token": "write",
}
PUBLISH_SCOPES = {"contents": "write", "actions": "read", "pull-requests": "write"}
_PR_TRIGGERS = ("pull_request", "pull_request_target")
# What a job runs: the CLI, this repository's composite actions, or its reusable workflows.
# A step's `uses:` ends at `@`, or at the space joining it to the next step's text.
_REPORT_STEP = re.compile(
    r"mlgitops\s+(report|gate)\b|/actions/(report|gate)(@|\s|$)|/workflows/reusable-pr\.ya?ml@"
)
_PUBLISH_STEP = re.compile(
    r"mlgitops\s+comment\b|/actions/comment(@|\s|$)|/workflows/reusable-comment\.ya?ml@"
)
_PIN_WHY = (
    "a tag or branch can be moved to other code after your review, and that code runs with "
    "this job's token and secrets; a full commit sha cannot change"
)


def workflow_files(root: Path) -> list[Path]:
    """The workflows and composite actions under .github/, in a stable order."""
    github = root / ".github"
    found = [*github.glob("workflows/*.yml"), *github.glob("workflows/*.yaml")]
    found += [*github.glob("actions/**/action.yml"), *github.glob("actions/**/action.yaml")]
    return sorted(found)


def check_workflows(root: Path) -> Iterator[Finding]:
    """Every finding on every workflow and composite action of the repository."""
    for path in workflow_files(root):
        parsed = YamlFile.read(path)
        if parsed is None or not isinstance(parsed.data, dict):
            continue  # actionlint and check-jsonschema say why a workflow does not parse
        rel = path.relative_to(root).as_posix()
        yield from _pins(parsed, rel)
        if "workflows" in path.parent.name:
            yield from _permissions(parsed, rel)


def _uses(data: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(key path, value) of every `uses:` in a workflow (jobs and steps) or composite action."""
    runs = data.get("runs")
    if isinstance(runs, dict):
        for index, step in enumerate(runs.get("steps") or []):
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                yield ("runs", "steps", index, "uses"), step["uses"]
    for name, job in _jobs(data):
        if isinstance(job.get("uses"), str):
            yield ("jobs", name, "uses"), job["uses"]
        for index, step in enumerate(job.get("steps") or []):
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                yield ("jobs", name, "steps", index, "uses"), step["uses"]


def _jobs(data: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        for name, job in jobs.items():
            if isinstance(job, dict):
                yield str(name), job


def _pins(parsed: YamlFile, rel: str) -> Iterator[Finding]:
    for keys, uses in _uses(parsed.data):
        line = parsed.line(*keys)
        if uses.startswith("docker://"):
            if not _DIGEST.search(uses):
                fix = "pin the image by digest: docker://IMAGE@sha256:<digest> # tag"
                yield Finding(
                    "action-pin",
                    "warning",
                    rel,
                    line,
                    f"{uses} runs a container image by tag",
                    _PIN_WHY,
                    fix,
                )
            continue
        name, at, ref = uses.partition("@")
        if not at:
            continue  # a local action (./.github/actions/x) is reviewed with the repository
        if not _SHA.fullmatch(ref):
            fix = (
                f"pin it: uses: {name}@<the 40-hex commit sha of {ref}> # {ref} "
                "(Dependabot and Renovate keep such pins up to date)"
            )
            message = f"{uses} is used by tag or branch '{ref}', not a full commit sha"
            yield Finding("action-pin", "error", rel, line, message, _PIN_WHY, fix)


def _triggers(data: Mapping[Any, Any]) -> set[str]:
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on:` key as True
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(item) for item in on}
    return {str(key) for key in on} if isinstance(on, dict) else set()


def _permissions(parsed: YamlFile, rel: str) -> Iterator[Finding]:
    data = parsed.data
    triggers = _triggers(data)
    top = data.get("permissions")
    for name, job in _jobs(data):
        at: tuple[str, ...] = ("jobs", name, "permissions")
        granted = job.get("permissions")
        if "permissions" not in job:
            at, granted = ("permissions",), top
        need, kind = _needs(job, triggers)
        # Outside the report's loop (release, docs, lint) least privilege is advice: a warning.
        severity: Severity = "error" if need is not None else "warning"
        if granted is None and "permissions" not in data and "permissions" not in job:
            if triggers != {"workflow_call"}:  # a called workflow gets its caller's token
                yield _unset(parsed, rel, name, severity)
            continue
        if need is None:
            if granted == "write-all":
                yield _excess(parsed, rel, name, at, "write-all", "this job", None, severity)
            continue
        for scope, level in _expand(granted).items():
            if _LEVELS[level] > _LEVELS[need.get(scope, "none")]:
                where = (*at, scope) if isinstance(granted, dict) else at
                yield _excess(parsed, rel, name, where, f"{scope}: {level}", kind, need)


def _needs(job: Mapping[str, Any], triggers: set[str]) -> tuple[dict[str, str] | None, str]:
    """The most a job needs, by what it runs: publishing the comment, or reproducing and
    reporting (also any job of a pull-request workflow, which runs the PR's code)."""
    steps = [step for step in job.get("steps") or [] if isinstance(step, dict)]
    text = " ".join(str(step.get(key, "")) for step in [job, *steps] for key in ("run", "uses"))
    if _PUBLISH_STEP.search(text) and not triggers & set(_PR_TRIGGERS):
        return PUBLISH_SCOPES, "the job publishing the report comment"
    if _REPORT_STEP.search(text) or triggers & set(_PR_TRIGGERS):
        return REPORT_SCOPES, "a job that runs the pull request's code and reports"
    return None, ""


def _expand(granted: Any) -> dict[str, str]:
    if granted in ("read-all", "write-all"):
        return dict.fromkeys(_SCOPES, str(granted).removesuffix("-all"))
    if isinstance(granted, dict):
        return {str(k): str(v) for k, v in granted.items() if str(v) in _LEVELS}
    return {}


def _unset(parsed: YamlFile, rel: str, job: str, severity: Severity) -> Finding:
    return Finding(
        "workflow-permissions",
        severity,
        rel,
        parsed.line("jobs", job),
        f"job '{job}' does not say which permissions its token has",
        "without a `permissions:` block the token gets the repository's default, which is "
        "read and write on everything in many repositories and organisations",
        "add `permissions: {}` at the top of the workflow and give each job only the scopes it "
        "uses, e.g. `permissions: {contents: read}`",
    )


def _excess(
    parsed: YamlFile,
    rel: str,
    job: str,
    keys: tuple[str, ...],
    grant: str,
    kind: str,
    need: dict[str, str] | None,
    severity: Severity = "error",
) -> Finding:
    allowed = ", ".join(f"{k}: {v}" for k, v in sorted((need or {}).items())) or "named scopes"
    return Finding(
        "workflow-permissions",
        severity,
        rel,
        parsed.line(*keys),
        f"job '{job}' grants {grant}, more than {kind} needs ({allowed})",
        "a token that can write lets a compromised step or a malicious pull request push code, "
        "edit releases or approve itself; the report needs none of that",
        f"grant at most {allowed} to job '{job}' (job-level `permissions:`), and publish the "
        "comment from a separate workflow_run job that never checks out the PR's code",
    )
