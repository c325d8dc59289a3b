"""Throwaway copies of the repository, and the commands a user runs in them.

A copy holds the git-tracked files as they are on disk (a fresh clone of the working tree),
its own git history, DVC cache and DVC remote. Commands run as subprocesses with an explicit
environment whose home, caches and config all live in the test's temporary directory, and
with the copy's own `src/` first on PYTHONPATH, so DVC's stages run the copy's code.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
_TIMEOUT_SECONDS = 600
_RAN = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)
_SKIPPED = re.compile(r"^Stage '([^']+)' didn't change, skipping", re.MULTILINE)


@dataclass(frozen=True)
class Result:
    """The outcome of one command: exit code and both output streams."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """The output with line wrapping undone (rich wraps messages at 80 columns)."""
        return " ".join(self.output.split())

    def __str__(self) -> str:
        """The whole story, for assertion messages."""
        return (
            f"$ {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


@dataclass(frozen=True)
class Repro(Result):
    """The outcome of `dvc repro`, with the stages it ran and the ones it skipped."""

    @property
    def ran(self) -> list[str]:
        return _RAN.findall(self.stdout)

    @property
    def skipped(self) -> list[str]:
        return _SKIPPED.findall(self.stdout)


@dataclass(frozen=True)
class Checkout:
    """A copy of the repository at `path`; its environment lives in `path.parent / 'env'`."""

    path: Path

    @property
    def env(self) -> dict[str, str]:
        side = self.path.parent / "env"
        return {
            "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(side / "home"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": str(self.path / "src"),
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(side / "dvc-site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(side / "dvc-global-config"),
            "DVC_SYSTEM_CONFIG_DIR": str(side / "dvc-system-config"),
            "MPLCONFIGDIR": str(side / "matplotlib"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> Result:
        completed = subprocess.run(
            args,
            cwd=self.path,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
        return Result(args, completed.returncode, completed.stdout, completed.stderr)

    def repro(self, *targets: str) -> Repro:
        result = self.run("dvc", "repro", *targets)
        return Repro(result.args, result.returncode, result.stdout, result.stderr)

    def fetch_data(self, *, extra_env: dict[str, str] | None = None) -> Result:
        return self.run("python", "-m", "churn.fetch_data", extra_env=extra_env)

    def digests(self, *relative: str) -> dict[str, str]:
        """sha256 of every file at or under the given paths (missing paths count as absent)."""
        found: dict[str, str] = {}
        for name in relative:
            root = self.path / name
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for file in files:
                found[file.relative_to(self.path).as_posix()] = sha256(file)
        return found

    def copy_to(self, destination: Path) -> Checkout:
        """The whole copy (git history, DVC cache, remote, outputs) at `destination`."""
        shutil.copytree(self.path, destination, symlinks=True)
        return Checkout(destination)


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def md5(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def _git(*args: str, cwd: Path) -> str:
    completed = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1"}
        | {"GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(cwd)},
        capture_output=True,
        check=True,
        timeout=_TIMEOUT_SECONDS,
    )
    return completed.stdout.decode()


def pipeline_outputs(dvc_yaml: Path) -> list[str]:
    """Every path a stage of `dvc_yaml` writes: outs, metrics and plots."""
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    paths = []
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                paths.extend([entry] if isinstance(entry, str) else list(entry))
    return paths


def clone_repository(destination: Path, *, source: Path = REPO_ROOT) -> Checkout:
    """A fresh clone of `source`'s working tree with no pipeline output at all.

    The tracked files are copied as they are on disk and committed; then every output that
    dvc.yaml declares is deleted, committed ones (metrics, plot data, the validation report)
    included, so `dvc repro` must run every stage. No DVC cache, no remote contents, no data.
    """
    tracked = _git("ls-files", "-z", cwd=source).split("\0")
    for name in filter(None, tracked):
        origin = source / name
        if origin.is_file():  # a tracked file deleted on disk stays deleted
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    _git("init", "--quiet", "--initial-branch=main", cwd=destination)
    _git("config", "user.name", "mlgitops tests", cwd=destination)
    _git("config", "user.email", "tests@mlgitops.invalid", cwd=destination)
    _git("add", "--all", cwd=destination)
    _git("commit", "--quiet", "--no-verify", "-m", "clone", cwd=destination)
    for name in pipeline_outputs(destination / "dvc.yaml"):
        output = destination / name
        if output.is_dir():
            shutil.rmtree(output)
        else:
            output.unlink(missing_ok=True)
    return Checkout(destination)


def committed(checkout: Checkout, name: str) -> bytes:
    """The bytes of `name` as the copy's last commit has them."""
    completed = subprocess.run(
        ["git", "show", f"HEAD:{name}"],
        cwd=checkout.path,
        env=checkout.env,
        capture_output=True,
        check=True,
        timeout=_TIMEOUT_SECONDS,
    )
    return completed.stdout


@dataclass(frozen=True)
class Golden:
    """A clone reproduced from nothing: fetch_data, then `dvc repro`; read it, never change it."""

    checkout: Checkout
    fetch: Result
    repro: Repro


def reproduce_from_nothing(destination: Path) -> Golden:
    """Clone into `destination`, fill the DVC remote, run the whole pipeline."""
    checkout = clone_repository(destination)
    fetch = checkout.fetch_data()
    assert fetch.returncode == 0, str(fetch)
    repro = checkout.repro()
    assert repro.returncode == 0, str(repro)
    return Golden(checkout, fetch, repro)
