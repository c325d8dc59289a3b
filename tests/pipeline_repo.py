"""A small git+DVC repository whose pipeline has `foreach` and `matrix` stages and parallel
branches, for the tests of the Argo DAG (tests/unit/pipeline, tests/e2e/test_pipeline_dag.py).

    data/raw.txt (dvc add) -> prepare -> feature@a, feature@b (foreach)     -> train -> evaluate
                                      -> grid@1-x, grid@2-x (matrix k, m)   -^      -> summary
                           -> audit (a branch of its own)

`summary` is in a dvc.yaml of its own, extra/dvc.yaml (its paths relative to extra/).

Each stage is a line of Python (step.py) writing deterministic bytes, so a run takes DVC's time
only. Its DVC remote is a local directory; commands run with a home of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

VENV_BIN = Path(sys.executable).parent
TIMEOUT = 120

STEP = '''\
"""The test pipeline's stages: each reads its inputs and writes deterministic bytes."""
import hashlib, json, pathlib, sys
import yaml

def digest(*paths):
    return hashlib.sha256(b"".join(pathlib.Path(p).read_bytes() for p in paths)).hexdigest()

def write(path, text):
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(path).write_text(text)

params = yaml.safe_load(pathlib.Path("params.yaml").read_text())
step, args = sys.argv[1], sys.argv[2:]
if step == "prepare":
    write("data/prep.txt", pathlib.Path("data/raw.txt").read_text().upper())
elif step == "audit":
    write("reports/audit.txt", f"{len(pathlib.Path('data/raw.txt').read_text())}\\n")
elif step == "feature":
    write(f"data/feat/{args[0]}.txt", digest("data/prep.txt") + args[0] + "\\n")
elif step == "grid":
    k, m = args
    offset = params["grid"]["offset"]
    write(f"data/grid/{k}-{m}.txt", f"{digest('data/prep.txt')} {int(k) + offset} {m}\\n")
elif step == "train":
    inputs = sorted(str(p) for p in pathlib.Path("data").glob("*/*.txt"))
    seed = hashlib.sha256(digest(*inputs).encode()).digest()
    pathlib.Path("models").mkdir(exist_ok=True)
    pathlib.Path("models/model.bin").write_bytes(seed * 64)
elif step == "evaluate":
    score = int(digest("models/model.bin")[:8], 16) / 16**8
    write("metrics.json", json.dumps({"score": round(score, 6)}) + "\\n")
'''

FEATURES = ["a", "b"]
GRID: dict[str, list[Any]] = {"k": [1, 2], "m": ["x"]}


def dvc_yaml() -> dict[str, Any]:
    grid_outs = [f"data/grid/{k}-{m}.txt" for k in GRID["k"] for m in GRID["m"]]
    return {
        "stages": {
            "prepare": {
                "cmd": "python step.py prepare",
                "deps": ["step.py", "data/raw.txt"],
                "outs": ["data/prep.txt"],
            },
            "audit": {
                "cmd": "python step.py audit",
                "deps": ["step.py", "data/raw.txt"],
                "outs": ["reports/audit.txt"],
            },
            "feature": {
                "foreach": FEATURES,
                "do": {
                    "cmd": "python step.py feature ${item}",
                    "deps": ["step.py", "data/prep.txt"],
                    "outs": ["data/feat/${item}.txt"],
                },
            },
            "grid": {
                "matrix": GRID,
                "cmd": "python step.py grid ${item.k} ${item.m}",
                "deps": ["step.py", "data/prep.txt"],
                "params": ["grid.offset"],
                "outs": ["data/grid/${item.k}-${item.m}.txt"],
            },
            "train": {
                "cmd": "python step.py train",
                "deps": ["step.py", *(f"data/feat/{f}.txt" for f in FEATURES), *grid_outs],
                "outs": ["models/model.bin"],
                "meta": {"cluster": {"cpu": "2", "memory": "1Gi"}},
            },
            "evaluate": {
                "cmd": "python step.py evaluate",
                "deps": ["step.py", "models/model.bin"],
                "metrics": [{"metrics.json": {"cache": False}}],
            },
        }
    }


# A second dvc.yaml, in a subdirectory: its stage reads the model written by the first.
EXTRA = {
    "stages": {
        "summary": {
            "cmd": "python -c \"import hashlib, pathlib; pathlib.Path('summary.txt').write_text("
            "hashlib.sha256(pathlib.Path('../models/model.bin').read_bytes()).hexdigest())\"",
            "deps": ["../models/model.bin"],
            "outs": ["summary.txt"],
        }
    }
}

PIPELINE = {
    "run_on": "runner",
    "namespace": "ml",
    "service_account": "mlgitops-pipeline",
    "remote_secret": "dvc-remote",
    "run_as_user": 1000,
    "retries": 2,
    "timeout_seconds": 3600,
    "resources": {"cpu": "500m", "memory": "512Mi"},
    "poll_seconds": 1,
}


def environment(home: Path) -> dict[str, str]:
    """A child's environment: the venv's tools first, its own home and DVC config dirs."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "LC_ALL": "C.UTF-8",
    }


def run(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT
    )
    if check:
        assert done.returncode == 0, f"$ {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def make(root: Path, env: dict[str, str], *, remote: Path, offset: int = 1) -> None:
    """The repository at `root` (committed, its data pushed to `remote`), pipeline not run."""
    root.mkdir(parents=True)
    run("git", "init", "--quiet", "--initial-branch=main", cwd=root, env=env)
    run("dvc", "init", "--quiet", cwd=root, env=env)
    run("dvc", "remote", "add", "--default", "shared", str(remote), cwd=root, env=env)
    (root / "step.py").write_text(STEP)
    (root / "data").mkdir()
    (root / "data" / "raw.txt").write_text("".join(f"row {i}\n" for i in range(50)))
    params = {"grid": {"offset": offset}, "pipeline": PIPELINE}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml(), sort_keys=False))
    (root / "extra").mkdir()
    (root / "extra" / "dvc.yaml").write_text(yaml.safe_dump(EXTRA, sort_keys=False))
    run("dvc", "add", "--quiet", "data/raw.txt", cwd=root, env=env)
    run("dvc", "push", "--quiet", cwd=root, env=env)
    run("git", "add", "-A", cwd=root, env=env)
    run("git", "commit", "--quiet", "-m", "pipeline", cwd=root, env=env)


def commit_all(root: Path, env: dict[str, str], message: str) -> str:
    run("git", "add", "-A", cwd=root, env=env)
    run("git", "commit", "--quiet", "-m", message, cwd=root, env=env)
    return run("git", "rev-parse", "HEAD", cwd=root, env=env).stdout.strip()


def dag_edges(root: Path, env: dict[str, str]) -> set[tuple[str, str]]:
    """`dvc dag --dot`'s edges (upstream, downstream) between pipeline stages (no .dvc files)."""
    import re

    dot = run("dvc", "dag", "--dot", cwd=root, env=env).stdout
    edges = {(a, b) for a, b in re.findall(r'"([^"]+)"\s*->\s*"([^"]+)"', dot)}
    return {(a, b) for a, b in edges if not a.endswith(".dvc") and not b.endswith(".dvc")}
