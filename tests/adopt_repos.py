"""Small git+DVC repositories of different layouts, built for real in a test's directory.

Each layout is a dict of files (path -> text); `make_repo` runs `git init`, `dvc init`, writes
them, adds a local DVC remote at `.dvc-remote` (a sibling directory, outside git) and commits.
The stage commands are real Python one-liners, so `dvc repro` runs them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from textwrap import dedent

_TIMEOUT_SECONDS = 120

# A script writing a metrics JSON from params: `python write.py OUT KEY=VALUE...` (values as
# floats), the one program every layout's stages run.
WRITE_PY = dedent(
    """\
    import json, pathlib, sys
    out = pathlib.Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {}
    for pair in sys.argv[2:]:
        key, value = pair.split("=")
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = float(value)
    out.write_text(json.dumps(data, indent=2) + "\\n")
    """
)

# A plot's data: `python curve.py OUT` writes a two-column CSV (fpr, tpr).
CURVE_PY = dedent(
    """\
    import pathlib, sys
    rows = ["fpr,tpr"] + [f"{x / 4},{min(1.0, x / 3)}" for x in range(5)]
    pathlib.Path(sys.argv[1]).write_text("\\n".join(rows) + "\\n")
    """
)

# Nested: the metrics and plots come from a dvc.yaml in a subdirectory, YAML params.
NESTED = {
    "write.py": WRITE_PY,
    "curve.py": CURVE_PY,
    "params.yaml": "prepare:\n  rows: 100\n",
    "dvc.yaml": dedent(
        """\
        stages:
          prepare:
            cmd: python write.py data/prepared.json rows=100
            deps: [write.py]
            params: [prepare.rows]
            outs: [data/prepared.json]
        """
    ),
    "evaluation/params.yaml": "evaluate:\n  threshold: 0.5\n",
    "evaluation/dvc.yaml": dedent(
        """\
        stages:
          evaluate:
            cmd: >-
              python ../write.py scores.json test.roc_auc=0.81 test.log_loss=0.42 rows=100
              && python ../curve.py roc.csv
            deps: [../write.py, ../curve.py, ../data/prepared.json]
            params: [evaluate.threshold]
            metrics:
              - scores.json:
                  cache: false
            plots:
              - roc.csv:
                  cache: false
                  x: fpr
                  y: tpr
        """
    ),
}

# foreach stages, JSON params, metrics without plots (top-level `metrics:` of a file a
# stage writes uncached).
FOREACH = {
    "write.py": WRITE_PY,
    "params.json": '{"fit": {"folds": 2, "alpha": 0.1}}\n',
    "dvc.yaml": dedent(
        """\
        stages:
          fold:
            foreach: [a, b]
            do:
              cmd: python write.py folds/${item}.json accuracy=0.9
              deps: [write.py]
              params:
                - params.json:
                    - fit.alpha
              outs: ["folds/${item}.json"]
          summary:
            cmd: python write.py summary.json accuracy=0.9 rmse=1.5 latency_ms=12
            deps: [write.py, folds/a.json, folds/b.json]
            params:
              - params.json:
                  - fit.folds
            outs:
              - summary.json:
                  cache: false
        metrics:
          - summary.json
        """
    ),
}

# Old style: a stage-level `metrics:` block with the default (cached) flag, TOML params.
OLD_STYLE = {
    "write.py": WRITE_PY,
    "params.toml": "[train]\nlr = 0.1\n",
    "dvc.yaml": dedent(
        """\
        stages:
          train:
            cmd: python write.py metrics.json f1=0.7 mape=0.2 r2=0.5
            deps: [write.py]
            params:
              - params.toml:
                  - train.lr
            metrics:
              - metrics.json
        """
    ),
}

LAYOUTS = {"nested": NESTED, "foreach": FOREACH, "old-style": OLD_STYLE}


def run(*argv: str, cwd: Path) -> str:
    """Runs a command in `cwd` with a git identity and no user config; its stdout."""
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "DVC_NO_ANALYTICS": "1",
    }
    completed = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {completed.returncode}\n{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


def make_repo(path: Path, files: dict[str, str], *, dvc: bool = True) -> Path:
    """A committed git (+DVC unless `dvc` is False) repository at `path` holding `files`."""
    path.mkdir(parents=True, exist_ok=True)
    run("git", "init", "--quiet", "--initial-branch=main", cwd=path)
    if dvc:
        run("dvc", "init", "--quiet", cwd=path)
        remote = path.parent / f"{path.name}-remote"
        run("dvc", "remote", "add", "--default", "local", os.fspath(remote), cwd=path)
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    run("git", "add", "--all", cwd=path)
    run("git", "commit", "--quiet", "--no-verify", "-m", "initial", cwd=path)
    return path


def reproduce(path: Path) -> None:
    """`dvc repro`, `dvc push`, and a commit of what the pipeline wrote for git (dvc.lock, the
    uncached metrics): the state a team's default branch is in."""
    run("dvc", "repro", "--all-pipelines", "--quiet", cwd=path)
    run("dvc", "push", "--quiet", cwd=path)
    run("git", "add", "--all", cwd=path)
    run("git", "commit", "--quiet", "--no-verify", "-m", "reproduce", cwd=path)
