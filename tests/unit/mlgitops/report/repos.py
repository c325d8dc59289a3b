"""Small real DVC repositories in a temporary directory: git, `dvc init`, stages, commits.

Stages run through DVC's own `Repo.reproduce` in process (no CLI start-up per call; DVC's API
resolves paths against the working directory, so calls run inside the repository); their
commands run the test's Python, so they need nothing but the locked environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable


def command_env(home: Path) -> dict[str, str]:
    """The environment of a command a user runs: the locked tools first on PATH, quiet DVC."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "DVC_", "PYTEST_"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        DVC_NO_ANALYTICS="1",
        MPLCONFIGDIR=str(home / "matplotlib"),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return env


@dataclass(frozen=True)
class Run:
    """A finished command: exit code and both streams."""

    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class DvcRepo:
    """A git + DVC repository under `root`, built step by step by a test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = command_env(root.parent)

    @classmethod
    def create(cls, root: Path) -> DvcRepo:
        """`git init` and `dvc init`, with DVC's state kept inside the test's directory."""
        from dvc.repo import Repo

        root.mkdir(parents=True, exist_ok=True)
        repo = cls(root)
        repo.git("init", "--quiet", "--initial-branch=main")
        Repo.init(str(root)).close()
        with (root / ".dvc" / "config").open("a") as config:
            config.write(f"[core]\n    site_cache_dir = {root.parent / 'dvc-site-cache'}\n")
        return repo

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def write_yaml(self, path: str, data: Any) -> Path:
        return self.write(path, yaml.safe_dump(data, sort_keys=False))

    def write_json(self, path: str, data: Any) -> Path:
        return self.write(path, json.dumps(data))

    def repro(self) -> None:
        """`dvc repro` of the whole pipeline."""
        from dvc.repo import Repo

        with chdir(self.root), Repo(str(self.root)) as repo:
            repo.reproduce()

    def add(self, path: str) -> None:
        """`dvc add PATH`: track a data file through a .dvc pointer."""
        from dvc.repo import Repo

        with chdir(self.root), Repo(str(self.root)) as repo:
            repo.add([path])

    def commit(self, message: str) -> str:
        """Commit everything git sees; the new commit's sha."""
        self.git("add", "-A")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def run(self, *args: str) -> Run:
        """A command as a user runs it in the repository (`mlgitops ...`, `dvc ...`)."""
        done = subprocess.run(
            list(args), cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300
        )
        return Run(done.returncode, done.stdout, done.stderr)


def train_script(metrics: dict[str, str], *extra: str) -> str:
    """A stage script: reads `train` of params.yaml as `p`, writes each metrics file from a
    Python expression, then runs the `extra` lines (plots, models)."""
    lines = [
        "import csv, json, pathlib, yaml",
        "p = yaml.safe_load(open('params.yaml'))['train']",
    ]
    for path, expression in metrics.items():
        lines.append(f"pathlib.Path({path!r}).parent.mkdir(parents=True, exist_ok=True)")
        dump = "yaml.safe_dump" if path.endswith((".yaml", ".yml")) else "json.dumps"
        lines.append(f"pathlib.Path({path!r}).write_text({dump}({expression}))")
    return "\n".join([*lines, *extra]) + "\n"


def write_csv_lines(path: str, header: str, rows: str) -> list[str]:
    """Script lines writing a CSV at `path` from a header and a list-of-rows expression."""
    return [
        f"pathlib.Path({path!r}).parent.mkdir(parents=True, exist_ok=True)",
        f"with open({path!r}, 'w', newline='') as handle:",
        "    writer = csv.writer(handle)",
        f"    writer.writerow({header!r}.split(','))",
        f"    writer.writerows({rows})",
    ]


@dataclass(frozen=True)
class Layout:
    """A repository with a base commit and a head (a commit, or None for the workspace)."""

    repo: DvcRepo
    base: str
    head: str | None

    @property
    def revs(self) -> list[str]:
        """The revisions as `dvc metrics diff` takes them."""
        return [self.base] if self.head is None else [self.base, self.head]

    @property
    def report_args(self) -> list[str]:
        return ["--base", self.base] + ([] if self.head is None else ["--head", self.head])


def _stage(cmd_args: str, **fields: Any) -> dict[str, Any]:
    return {"cmd": f"{PYTHON} {cmd_args}", **fields}


_ACC = "{'acc': round(0.5 + p['lr'], 4), 'loss': round(1 - p['lr'], 4)}"
_PLOT_LINES = [
    *write_csv_lines(
        "plots/loss.csv", "step,loss", "[(i, round((1 - p['lr']) / (i + 1), 4)) for i in range(20)]"
    ),
    *write_csv_lines(
        "plots/confusion.csv",
        "actual,predicted",
        "[(i % 2, (i % 2) if i % 10 >= p['lr'] * 20 else 1 - i % 2) for i in range(40)]",
    ),
    *write_csv_lines(
        "plots/importance.csv",
        "feature,gain",
        "[(name, round(gain * (1 + p['lr']), 2)) for name, gain in"
        " [('age', 5.0), ('plan', 3.0), ('region', 1.0)]]",
    ),
]


def stage_flat(root: Path) -> Layout:
    """Metrics declared on the stage, flat keys, three plots, a gate on acc; head is a commit."""
    repo = DvcRepo.create(root)
    repo.write("train.py", train_script({"metrics.json": _ACC}, *_PLOT_LINES))
    params: dict[str, Any] = {
        "train": {"lr": 0.1, "depth": 3},
        "gate": [{"metric": "acc", "better": "higher", "at_least": 0.5}],
    }
    repo.write_yaml("params.yaml", params)
    plots = [
        {"plots/loss.csv": {"cache": False, "x": "step", "y": "loss", "template": "linear"}},
        {
            "plots/confusion.csv": {
                "cache": False,
                "x": "predicted",
                "y": "actual",
                "template": "confusion",
                "title": "Confusion",
            }
        },
        {
            "plots/importance.csv": {
                "cache": False,
                "x": "gain",
                "y": "feature",
                "template": "bar_horizontal_sorted",
            }
        },
    ]
    stage = _stage(
        "train.py",
        deps=["train.py"],
        params=["train.lr", "train.depth"],
        metrics=[{"metrics.json": {"cache": False}}],
        plots=plots,
    )
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base")
    params["train"]["lr"] = 0.2
    repo.write_yaml("params.yaml", params)
    repo.repro()
    repo.commit("head: lr 0.2")
    return Layout(repo, base, "HEAD")


def top_level_nested(root: Path) -> Layout:
    """Metrics declared top-level in dvc.yaml, nested keys; head is the workspace."""
    repo = DvcRepo.create(root)
    scores = (
        "{'test': {'auc': round(0.7 + p['lr'], 4), 'by_class': {'a': p['lr'], 'b': 0.5}},"
        " 'train': {'auc': 0.9}}"
    )
    repo.write("evaluate.py", train_script({"eval/scores.json": scores}))
    params: dict[str, Any] = {
        "train": {"lr": 0.1},
        "gate": [{"metric": "test.auc", "better": "higher"}],
    }
    repo.write_yaml("params.yaml", params)
    stage = _stage("evaluate.py", deps=["evaluate.py"], params=["train"])
    stage["outs"] = [{"eval/scores.json": {"cache": False}}]
    repo.write_yaml("dvc.yaml", {"metrics": ["eval/scores.json"], "stages": {"evaluate": stage}})
    repo.repro()
    base = repo.commit("base")
    params["train"]["lr"] = 0.05
    repo.write_yaml("params.yaml", params)
    repo.repro()
    return Layout(repo, base, None)


def two_files(root: Path) -> Layout:
    """Two metric files (JSON and YAML) that share a key; the gate names one by `file`."""
    repo = DvcRepo.create(root)
    metrics = {
        "metrics.json": _ACC,
        "eval/extra.yaml": "{'acc': round(0.4 + p['lr'], 4), 'rows': 100}",
    }
    repo.write("train.py", train_script(metrics))
    params: dict[str, Any] = {
        "train": {"lr": 0.1},
        "gate": [{"metric": "acc", "file": "eval/extra.yaml", "better": "higher"}],
    }
    repo.write_yaml("params.yaml", params)
    stage = _stage(
        "train.py",
        deps=["train.py"],
        params=["train.lr"],
        metrics=[{"metrics.json": {"cache": False}}, {"eval/extra.yaml": {"cache": False}}],
    )
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base")
    params["train"]["lr"] = 0.3
    repo.write_yaml("params.yaml", params)
    repo.repro()
    repo.commit("head")
    return Layout(repo, base, "HEAD")


def base_without_metrics(root: Path) -> Layout:
    """The base declares no metrics yet; the head declares and writes them (workspace)."""
    repo = DvcRepo.create(root)
    repo.write("train.py", train_script({}, "pathlib.Path('model.txt').write_text(str(p))"))
    repo.write_yaml("params.yaml", {"train": {"lr": 0.1}})
    stage = _stage("train.py", deps=["train.py"], params=["train.lr"], outs=["model.txt"])
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base: no metrics")
    repo.write(
        "train.py",
        train_script({"metrics.json": _ACC}, "pathlib.Path('model.txt').write_text(str(p))"),
    )
    stage["metrics"] = [{"metrics.json": {"cache": False}}]
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    return Layout(repo, base, None)


def missing_at_base(root: Path) -> Layout:
    """The base declares metrics.json but never produced it; the head does (a commit)."""
    repo = DvcRepo.create(root)
    repo.write("train.py", train_script({"metrics.json": _ACC}))
    repo.write_yaml("params.yaml", {"train": {"lr": 0.1}})
    stage = _stage(
        "train.py",
        deps=["train.py"],
        params=["train.lr"],
        metrics=[{"metrics.json": {"cache": False}}],
    )
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    base = repo.commit("base: declared, not run")
    repo.repro()
    repo.commit("head: run")
    return Layout(repo, base, "HEAD")


def deleted_at_head(root: Path) -> Layout:
    """The base has metrics.json; in the head's workspace it was deleted."""
    repo = DvcRepo.create(root)
    repo.write("train.py", train_script({"metrics.json": _ACC}))
    repo.write_yaml("params.yaml", {"train": {"lr": 0.1}})
    stage = _stage(
        "train.py",
        deps=["train.py"],
        params=["train.lr"],
        metrics=[{"metrics.json": {"cache": False}}],
    )
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base")
    (root / "metrics.json").unlink()
    return Layout(repo, base, None)
