"""What DVC itself says about two revisions: metrics, params, data and status, through its API.

The `metrics` and `params` dictionaries are built exactly as `dvc metrics diff --json` and
`dvc params diff --json` build theirs (dvc/commands/metrics.py, params.py): the API's `diff`
result, with paths made relative to the working directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.report.data import Inputs

logger = logging.getLogger(__name__)

WORKSPACE = "workspace"

Diff = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Revisions:
    """The two sides of the comparison: names as given, and the commits they resolve to."""

    base: str
    base_sha: str
    head: str
    head_sha: str

    @property
    def workspace(self) -> bool:
        """True when the head is the working tree, not a commit."""
        return self.head == WORKSPACE


@dataclass(frozen=True)
class MetricsDiff:
    """A metrics or params diff as the CLI prints it, the complete one, and load errors."""

    diff: Diff
    full: Diff
    errors: list[dict[str, str]]


@contextmanager
def open_repo(path: Path | None = None) -> Iterator[Any]:
    """The DVC repository at or above `path` (default: the working directory).

    Raises UsageError when there is none, or when it has no git history to compare.
    """
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    where = path or Path.cwd()
    try:
        repo = Repo(str(path) if path else None)
    except NotDvcRepoError as error:
        raise UsageError(
            f"report: {where} is not inside a DVC repository; "
            "run from the repository root, or set one up with `git init && dvc init`"
        ) from error
    try:
        from dvc.scm import NoSCM

        if isinstance(repo.scm, NoSCM) or repo.scm.no_commits:
            raise UsageError(
                f"report: {repo.root_dir} has no git commits to compare; "
                "commit the base revision first (`git add` and `git commit`)"
            )
        yield repo
    finally:
        repo.close()


def resolve_revisions(repo: Any, base: str, head: str | None) -> Revisions:
    """Resolve `base` and `head` (None: the workspace) to commits; unknown ones are UsageErrors."""
    head_name = head or WORKSPACE
    base_sha = _resolve(repo, base)
    head_sha = _resolve(repo, "HEAD") if head_name == WORKSPACE else _resolve(repo, head_name)
    return Revisions(base=base, base_sha=base_sha, head=head_name, head_sha=head_sha)


def _resolve(repo: Any, rev: str) -> str:
    from dvc.scm import RevError, resolve_rev
    from scmrepo.exceptions import SCMError

    try:
        return str(resolve_rev(repo.scm, rev))
    except (RevError, SCMError) as error:
        raise UsageError(
            f"report: unknown revision '{rev}' ({error}); fetch it first "
            f"(`git fetch origin {rev}`, or check out with full history: fetch-depth: 0) "
            "or pass a branch, tag or commit that exists"
        ) from error


def diff_metrics(repo: Any, revs: Revisions, *, all_: bool) -> MetricsDiff:
    """`dvc metrics diff --json [--all] BASE [HEAD]`, plus the complete diff and load errors."""
    result = repo.metrics.diff(a_rev=revs.base, b_rev=revs.head, all=True)
    return _shape(repo, result, all_=all_)


def diff_params(repo: Any, revs: Revisions, *, all_: bool) -> MetricsDiff:
    """`dvc params diff --json [--all] BASE [HEAD]`, plus the complete diff and load errors."""
    result = repo.params.diff(a_rev=revs.base, b_rev=revs.head, all=True)
    return _shape(repo, result, all_=all_)


def _shape(repo: Any, result: dict[str, Any], *, all_: bool) -> MetricsDiff:
    """Relative paths as the CLI gives them; without `all_`, only the entries that changed.

    DVC's own filter (`_diff_vals` without `with_unchanged`) drops exactly the entries whose
    old and new values are equal, so one call with `all=True` serves both forms.
    """
    start = os.path.relpath(Path.cwd(), repo.root_dir)
    full: Diff = {
        os.path.relpath(path, start): entries for path, entries in result.get("diff", {}).items()
    }
    diff = full if all_ else _changed_only(full)
    return MetricsDiff(diff=diff, full=full, errors=_errors(result.get("errors", {}), start))


def _changed_only(full: Diff) -> Diff:
    changed: Diff = {}
    for path, entries in full.items():
        kept = {key: value for key, value in entries.items() if value["old"] != value["new"]}
        if kept:
            changed[path] = kept
    return changed


def _errors(errors: dict[str, Any], start: str) -> list[dict[str, str]]:
    """DVC's `errors` (per revision: one exception, or one per file) as flat records."""
    records: list[dict[str, str]] = []
    for rev, error in errors.items():
        if isinstance(error, dict):
            records += [
                {"rev": rev, "path": os.path.relpath(path, start), "error": _describe(file_err)}
                for path, file_err in error.items()
            ]
        elif error:
            # the whole revision failed: no one file to name (report.json keeps paths strings)
            records.append({"rev": rev, "path": "", "error": _describe(error)})
    return records


def _describe(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "file not found"
    return f"{type(error).__name__}: {error}"


def diff_data(repo: Any, revs: Revisions) -> dict[str, list[dict[str, Any]]]:
    """`dvc diff --json BASE [HEAD]`: DVC-tracked paths added, deleted, modified, renamed."""
    result: dict[str, list[dict[str, Any]]] = repo.diff(
        a_rev=revs.base, b_rev=None if revs.workspace else revs.head
    )
    return result


def workspace_status(repo: Any, revs: Revisions) -> dict[str, Any]:
    """`dvc status --json`, for a workspace head only: what is not reproduced or committed."""
    if not revs.workspace:
        return {}
    status: dict[str, Any] = repo.status()
    return status


def input_roots(repo: Any, revs: Revisions) -> Inputs:
    """Where inputs live at base or head: `.dvc`-tracked data, stage deps, stage outputs."""
    inputs = _roots(repo)
    with repo.switch(revs.base_sha):
        inputs = inputs.merge(_roots(repo))
    if not revs.workspace:
        with repo.switch(revs.head_sha):
            inputs = inputs.merge(_roots(repo))
    return inputs


def _roots(repo: Any) -> Inputs:
    from dvc.dependency.param import ParamsDependency

    sources: set[str] = set()
    deps: set[str] = set()
    produced: set[str] = set()
    for stage in repo.index.stages:
        for dep in stage.deps:
            if not isinstance(dep, ParamsDependency) and dep.fs_path:
                deps.add(_relative(repo, dep.fs_path))
        outs = {_relative(repo, out.fs_path) for out in stage.outs}
        if stage.is_data_source:
            sources |= outs
        else:
            produced |= outs
    return Inputs(sources=frozenset(sources), deps=frozenset(deps), produced=frozenset(produced))


def file_system(repo: Any, rev_sha: str | None) -> Any:
    """DVC's file system at a commit (None: the workspace): git files and DVC-tracked data."""
    from dvc.fs import DVCFileSystem

    return DVCFileSystem(repo=repo.root_dir, rev=rev_sha)


def _relative(repo: Any, path: str) -> str:
    return Path(os.path.relpath(path, repo.root_dir)).as_posix()


def read_text_at(repo: Any, rev_sha: str | None, path: str) -> str | None:
    """A git-tracked file's text at a commit (None: the workspace); None when absent."""
    if rev_sha is None:
        local = Path(repo.root_dir) / path
        return local.read_text() if local.exists() else None
    prefix = os.path.relpath(repo.root_dir, repo.scm.root_dir)
    full = path if prefix == "." else f"{Path(prefix).as_posix()}/{path}"
    fs = repo.scm.get_fs(rev_sha)
    try:
        with fs.open(full, mode="r") as handle:
            text: str = handle.read()
    except FileNotFoundError:
        return None
    return text


def lock_files(repo: Any) -> list[str]:
    """Repo-relative `dvc.lock` paths of the pipelines DVC knows at the head."""
    from dvc.stage import PipelineStage

    paths = {"dvc.lock"}
    for stage in repo.index.stages:
        if isinstance(stage, PipelineStage):
            yaml_path = Path(_relative(repo, stage.dvcfile.path))
            paths.add((yaml_path.parent / "dvc.lock").as_posix())
    return sorted(paths)
