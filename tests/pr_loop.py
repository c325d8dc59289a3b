"""The pull-request loop as CI runs it, in temporary directories: origin, base, PR runs, publisher.

- `make_origin`: a reproduced copy becomes the base on `main`, its DVC outputs and run-cache
  pushed (`dvc push --run-cache`, what the base branch's own CI run leaves behind), its history
  pushed to a bare git repository, the "origin".
- `develop`: a developer's clone of origin on a new branch; `push_commit` commits and pushes.
- `ci_run`: what pr.yml does for a pull request: a fresh full clone of origin at the PR head,
  the DVC remote restored, then the shell steps read from pr.yml itself, run as GitHub runs them
  (after a failure, only the steps marked `!cancelled()`).
- `publish`: what pr-comment.yml does with the run's artifact: its `validate` and `comment`
  steps, read from the workflow and its composite action, run on the default branch's checkout.

The DVC remote: pr.yml's embedded default is `.dvc-remote/` kept by actions/cache, scoped by
branch, so a PR's first run sees what the base branch's run saved, and later runs of the same PR
see their own. Here each PR gets a copy of the base's remote, and every CI clone of that PR has
`.dvc-remote` pointing at it (restore and save in one).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.checkout import Checkout, Repro, Result
from tests.workflow_steps import LOOP_STEP_IDS, PR_JOB, PR_WORKFLOW, WORKFLOWS, shell_steps

REPO = "octo/churn"
COMMENT_WORKFLOW = WORKFLOWS / "pr-comment.yml"
COMMENT_JOB = "publish"
# What pr.yml runs for a pull request, in order: the example's bootstrap, then the loop.
CI_STEP_IDS = ("fetch-data", *LOOP_STEP_IDS)
# The outputs the base branch commits after `dvc repro` (the rest is DVC-tracked).
COMMITTED_OUTPUTS = ("dvc.lock", "metrics.json", "plots", "reports")
REMOTE_DIR = ".dvc-remote"  # where .dvc/config's default remote points
_RESTORED = re.compile(r"^Stage '([^']+)' is cached - skipping run", re.MULTILINE)
_TIMEOUT_SECONDS = 600


class LoopError(AssertionError):
    """Raised when a setup command (git, dvc) fails: the scene is broken, not the feature."""


def _check(result: Result) -> Result:
    if result.returncode != 0:
        raise LoopError(str(result))
    return result


def git(checkout: Checkout, *args: str) -> str:
    """Runs git in `checkout`; its stdout, stripped."""
    return _check(checkout.run("git", *args)).stdout.strip()


@dataclass(frozen=True)
class Origin:
    """The bare git repository PRs are pushed to, and the base on its `main`."""

    bare: Path
    main: Checkout  # the base's working copy; also the publisher's default-branch checkout
    base_sha: str
    remote: Path  # the DVC remote as the base's run left it (data, outputs, run-cache)


def make_origin(reproduced: Checkout, root: Path) -> Origin:
    """Commits `reproduced`'s pipeline results on `main`, pushes the DVC side and the git side.

    `reproduced` is a copy the caller may give away (it becomes the base's working copy).
    """
    main = reproduced
    git(main, "add", *COMMITTED_OUTPUTS)
    # Empty when the committed outputs are already what the pipeline gives (they should be).
    git(main, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "Reproduce the pipeline")
    left = git(main, "status", "--porcelain")
    if left:
        raise LoopError(f"the base still has uncommitted changes after its commit:\n{left}")
    _check(main.run("dvc", "push", "--run-cache"))
    bare = root / "origin.git"
    _check(main.run("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)))
    git(main, "remote", "add", "origin", str(bare))
    git(main, "push", "--quiet", "origin", "main")
    return Origin(bare, main, git(main, "rev-parse", "HEAD"), main.path / REMOTE_DIR)


def pr_remote(origin: Origin, destination: Path) -> Path:
    """A PR's own DVC remote: what its first run restores from the base branch's cache."""
    shutil.copytree(origin.remote, destination, symlinks=True)
    return destination


def _clone(origin: Origin, destination: Path, branch: str, remote: Path) -> Checkout:
    """A full clone of origin at `branch` whose DVC remote is `remote`."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        ["git", "clone", "--quiet", "--branch", branch, str(origin.bare), str(destination)],
        env=origin.main.env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise LoopError(f"git clone {branch}: {completed.stderr}")
    (destination / REMOTE_DIR).symlink_to(remote, target_is_directory=True)
    return Checkout(destination)


def develop(origin: Origin, destination: Path, branch: str, remote: Path) -> Checkout:
    """A developer's clone of origin's `main` on a new `branch`, pushing DVC data to `remote`."""
    dev = _clone(origin, destination, "main", remote)
    git(dev, "config", "user.name", "A Developer")
    git(dev, "config", "user.email", "dev@mlgitops.invalid")
    git(dev, "checkout", "--quiet", "-b", branch)
    return dev


def push_commit(dev: Checkout, message: str, *paths: str) -> str:
    """Commits `paths` (all tracked changes when none) and pushes the branch; the new sha."""
    git(dev, "add", *(paths or ("--update",)))
    git(dev, "commit", "--quiet", "--no-verify", "-m", message)
    git(dev, "push", "--quiet", "origin", "HEAD")
    return git(dev, "rev-parse", "HEAD")


def set_param(path: Path, key: str, value: object) -> None:
    """Sets `key: value` on the one line of params.yaml that has `key` (comments kept)."""
    text, count = re.subn(
        rf"^(\s*{re.escape(key)}:\s*)[^#\n]*?(\s*(#.*)?)$",
        lambda found: f"{found[1]}{value}{found[2]}",
        path.read_text(),
        flags=re.MULTILINE,
    )
    if count != 1:
        raise LoopError(f"{path} has {count} lines with {key}:, expected one")
    path.write_text(text)


@dataclass(frozen=True)
class StepRun:
    """One shell step of the workflow and its outcome."""

    id: str
    result: Result
    seconds: float


@dataclass
class CiRun:
    """One run of pr.yml for a pull request: the CI clone and every step it ran, in order."""

    checkout: Checkout
    base_sha: str
    head_sha: str
    pr: int
    clone_seconds: float
    steps: list[StepRun] = field(default_factory=list)

    def step(self, step_id: str) -> Result:
        """The outcome of the step with this id (KeyError when it did not run)."""
        found = [run.result for run in self.steps if run.id == step_id]
        if len(found) != 1:
            raise KeyError(f"step {step_id!r} ran {len(found)} times: {[s.id for s in self.steps]}")
        return found[0]

    @property
    def ran(self) -> list[str]:
        return [run.id for run in self.steps]

    @property
    def repro(self) -> Repro:
        """`dvc repro` as the repro step captured it (both streams, through `tee`)."""
        result = self.step("repro")
        return Repro(result.args, result.returncode, result.stdout, result.stderr)

    @property
    def report_dir(self) -> Path:
        return self.checkout.path / "report"

    def seconds(self, step_id: str) -> float:
        return sum(run.seconds for run in self.steps if run.id == step_id)

    def __str__(self) -> str:
        """Every step's story, for assertion messages."""
        return "\n".join(f"[{run.id}, {run.seconds:.1f} s] {run.result}" for run in self.steps)

    def timings(self) -> str:
        """One line: seconds per step, for a slow run's log."""
        steps = " ".join(f"{run.id}={run.seconds:.1f}" for run in self.steps)
        return f"PR {self.pr} at {self.head_sha[:7]}: clone={self.clone_seconds:.1f} {steps}"


def restored(repro: Repro) -> list[str]:
    """The stages `dvc repro` restored from the run-cache instead of running them."""
    return _RESTORED.findall(repro.stdout)


def ci_run(
    origin: Origin,
    destination: Path,
    *,
    branch: str,
    pr: int,
    remote: Path,
    extra_env: dict[str, str] | None = None,
) -> CiRun:
    """pr.yml for PR `pr` at the head of `branch`: checkout, then its shell steps, as on GitHub."""
    started = time.perf_counter()
    checkout = _clone(origin, destination, branch, remote)
    head = git(checkout, "rev-parse", "HEAD")
    run = CiRun(checkout, origin.base_sha, head, pr, time.perf_counter() - started)
    given = {"BASE_SHA": origin.base_sha, "HEAD_SHA": head, "PR_NUMBER": str(pr), "RUN_URL": ""}
    failed = False
    for step in shell_steps(PR_WORKFLOW, PR_JOB, given, ids=CI_STEP_IDS):
        if failed and not step.runs_after_failure:
            continue
        started = time.perf_counter()
        result = _run_step(checkout, step.argv, step.id, {**(extra_env or {}), **step.env})
        run.steps.append(StepRun(step.id, result, time.perf_counter() - started))
        failed = failed or result.returncode != 0
    return run


def _run_step(
    checkout: Checkout, argv: tuple[str, ...], step_id: str, env: dict[str, str]
) -> Result:
    completed = subprocess.run(
        argv,
        cwd=checkout.path,
        env={**checkout.env, **env},
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    return Result(("step", step_id), completed.returncode, completed.stdout, completed.stderr)


def publish(
    origin: Origin,
    run: CiRun,
    *,
    api_url: str,
    token: str,
    workdir: Path,
) -> list[StepRun]:
    """pr-comment.yml for the finished `run`: download the artifact, validate it, comment.

    Runs on the default branch's checkout (origin.main), as the publisher does. Stops after a
    failed step; the caller checks each step's exit code.
    """
    artifact = workdir / "runner-temp" / "mlgitops-report"
    if artifact.exists():
        shutil.rmtree(artifact)
    shutil.copytree(run.report_dir, artifact)  # actions/download-artifact
    outputs = workdir / "github-output"
    outputs.write_text("")
    env = {"GITHUB_API_URL": api_url, "GITHUB_OUTPUT": str(outputs)}
    given = {
        "REPORT_DIR": str(artifact),
        "RUN_HEAD_SHA": run.head_sha,
        "EVENT_PR_NUMBER": str(run.pr),
    }
    done: list[StepRun] = []
    for step in shell_steps(COMMENT_WORKFLOW, COMMENT_JOB, given, ids=("validate",)):
        started = time.perf_counter()
        result = _run_step(origin.main, step.argv, step.id, {**env, **step.env})
        done.append(StepRun(step.id, result, time.perf_counter() - started))
        if result.returncode != 0:
            return done
    validated = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    given = {
        "GITHUB_TOKEN": token,
        "COMMENT_REPORT_DIR": str(artifact),
        "COMMENT_REPO": REPO,
        "COMMENT_PR": validated["pr"],
        "COMMENT_SHA": run.head_sha,
        # GitHub's record of the run: the stand-in's PRs come from this repository's `feature`
        "COMMENT_HEAD_REPO": REPO,
        "COMMENT_HEAD_REF": "feature",
    }
    for step in shell_steps(COMMENT_WORKFLOW, COMMENT_JOB, given, ids=("comment",)):
        started = time.perf_counter()
        result = _run_step(origin.main, step.argv, step.id, {**env, **step.env})
        done.append(StepRun(step.id, result, time.perf_counter() - started))
        if result.returncode != 0:
            return done
    return done
