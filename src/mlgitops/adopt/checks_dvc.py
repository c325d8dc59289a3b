"""Doctor checks on DVC's state: dvc.lock committed and current, a default remote in git.

The report compares the base revision with the pull request from what git holds: dvc.lock
names the exact data, model and metrics of each revision, and CI restores them from the
default remote. Without a committed, current lock there is nothing to restore or compare.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import chdir, nullcontext
from pathlib import Path, PurePosixPath
from typing import Any

from mlgitops.adopt.context import Context
from mlgitops.adopt.findings import Finding

_GIT_TIMEOUT_SECONDS = 30
_LOCK_WHY = (
    "dvc.lock records the exact data, model and metrics each commit produced; without it in "
    "git, CI cannot restore a revision from the run-cache and the report has no base to "
    "compare with"
)


def check_lock_in_git(ctx: Context) -> Iterator[Finding]:
    """Each dvc.yaml with stages has its dvc.lock beside it, tracked by git."""
    locks = _locks(ctx)
    tracked = set(_git(ctx.root, "ls-files", "-z", "--", *locks).split("\0"))
    for lock in locks:
        if lock in tracked:
            continue
        if not (ctx.root / lock).exists():
            message = f"{lock} does not exist: the pipeline was never reproduced and committed"
            fix = "run `dvc repro`, then `git add " + lock + "` and commit it"
            yield Finding("lock-in-git", "error", lock, None, message, _LOCK_WHY, fix)
            continue
        ignored = ignored_file(ctx.root, lock)
        if ignored is not None:
            yield ignored
            continue
        message = f"{lock} is not committed to git"
        yield Finding("lock-in-git", "error", lock, None, message, _LOCK_WHY, f"`git add {lock}`")


def ignored_pipeline_files(root: Path) -> list[Finding]:
    """A finding per dvc.yaml or dvc.lock that git ignores (DVC refuses to read any of it)."""
    listed = _git(
        root,
        *("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--"),
        *(":(glob)**/dvc.lock", ":(glob)**/dvc.yaml"),
    )
    found = (ignored_file(root, rel) for rel in sorted(filter(None, listed.split("\0"))))
    return [finding for finding in found if finding is not None]


def ignored_file(root: Path, rel: str) -> Finding | None:
    """The .gitignore line hiding a dvc.lock or dvc.yaml from git, when one does (DVC itself
    then refuses to read the pipeline)."""
    ignored = _git(root, "check-ignore", "-v", "--", rel).strip()
    if not ignored:
        return None
    # "source:line:pattern<TAB>path": the rule that hides the file.
    source, line, pattern = ignored.split("\t", 1)[0].split(":", 2)
    source = Path(source).as_posix()
    return Finding(
        "lock-in-git",
        "error",
        source,
        int(line),
        f"{rel} is ignored by git ({source} line {line}: {pattern})",
        _LOCK_WHY,
        f"delete that line from {source}, then `git add {rel}` and commit it",
    )


def check_lock_current(ctx: Context) -> Iterator[Finding]:
    """`dvc status`: a stage whose command, params or dependencies differ from dvc.lock.

    Missing files are not staleness: a fresh clone has no data until `dvc pull`.
    """
    status, _ = _dvc_state(ctx)
    locks = set(_locks(ctx))
    stages = {stage.address: stage for stage in ctx.repository.stages}
    for address, changes in sorted(status.items()):
        stage = stages.get(address)
        reasons = _stale_reasons(changes)
        if stage is None or not reasons:
            continue
        lock = str(PurePosixPath(stage.dvcfile).with_name("dvc.lock"))
        if lock not in locks or not (ctx.root / lock).exists():
            continue  # a .dvc file's data, or no lock at all (check_lock_in_git says so)
        # The stage's entry in dvc.lock; a stage never locked points at its dvc.yaml entry.
        file, line = lock, ctx.line(lock, "stages", stage.name, exact=True)
        if line is None:
            file, line = stage.dvcfile, ctx.stage_line(stage)
        yield Finding(
            "lock-current",
            "error",
            file,
            line,
            f"stage '{address}' is not what {lock} records: {'; '.join(reasons)}",
            "the committed lock no longer describes the committed code, so CI re-runs the stage "
            "instead of restoring it, and the report compares with outputs nobody reproduced",
            f"run `dvc repro {address}` and commit {lock} with the change",
        )


def _dvc_state(ctx: Context) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """`dvc status` and the committed .dvc/config, from one DVC repository object (opening one
    and indexing the pipeline costs a few tenths of a second)."""
    if "dvc_state" not in ctx.cache:
        from dvc.repo import Repo

        # DVC names stages relative to the working directory: run from the root.
        with (
            chdir(ctx.root),
            nullcontext(ctx.dvc) if ctx.dvc else Repo(os.fspath(ctx.root)) as repo,
        ):
            ctx.cache["dvc_state"] = (repo.status(), dict(repo.config.load_one("repo")))
    state: tuple[dict[str, list[Any]], dict[str, Any]] = ctx.cache["dvc_state"]
    return state


def _locks(ctx: Context) -> list[str]:
    """The dvc.lock beside each dvc.yaml that has stages (.dvc files keep their own hashes)."""
    dvcfiles = {stage.dvcfile for stage in ctx.repository.stages}
    return sorted(
        str(PurePosixPath(dvcfile).with_name("dvc.lock"))
        for dvcfile in dvcfiles
        if PurePosixPath(dvcfile).name in ("dvc.yaml", "dvc.yml")
    )


def _stale_reasons(changes: list[Any]) -> list[str]:
    reasons: list[str] = []
    for change in changes:
        if change == "changed command":
            reasons.append("its command changed")
        if not isinstance(change, dict):
            continue
        for path, state in (change.get("changed deps") or {}).items():
            if isinstance(state, dict):  # a params file: {key: "modified" | "new" | "deleted"}
                keys = [key for key, value in state.items() if value in ("modified", "new")]
                reasons += [f"param {path}:{key} {state[key]}" for key in keys]
            elif state in ("modified", "new"):
                reasons.append(f"{path} {state}")
    return reasons


def check_default_remote(ctx: Context) -> Iterator[Finding]:
    """A default remote in .dvc/config (the committed config, the one CI reads)."""
    _, committed = _dvc_state(ctx)
    name = committed.get("core", {}).get("remote")
    why = (
        "CI reproduces with `dvc repro --pull` and pushes back to the default remote; without "
        "one it re-runs every stage on every pull request and cannot restore the base revision"
    )
    config = ".dvc/config"
    # Without any remote the PR loop still works (every stage runs in CI, `mlgitops init` says
    # so): a warning. A default that names no remote breaks every pull and push: an error.
    if not name:
        local = ctx.repository.default_remote  # from every config level, config.local too
        hint = (
            f" (only .dvc/config.local names '{local.name}', which git does not hold)"
            if local
            else ""
        )
        yield Finding(
            "default-remote",
            "warning",
            config,
            None,
            "no default DVC remote in .dvc/config" + hint,
            why,
            "`dvc remote add --default NAME URL` (e.g. s3://bucket/path), then commit "
            ".dvc/config; credentials go in CI secrets, never in the config",
        )
    elif name not in committed.get("remote", {}):
        yield Finding(
            "default-remote",
            "error",
            config,
            None,
            f"the default remote '{name}' is not defined in .dvc/config",
            why,
            f"`dvc remote add {name} URL` (or `dvc remote default` another one), commit "
            ".dvc/config",
        )


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT_SECONDS,
        check=False,
    )
    return done.stdout
