"""The plugins installed alone, as a team installs them into its own repository.

One fresh venv gets the `mlgitops` wheel built from this checkout, without any extra; then the
CLI starts, the example model and the heavy libraries are absent, `report` and `gate` (and
`init`, `doctor`) run on a small DVC repository made here, and a command whose extra is missing
says which one, exit 2.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.install import REPO_ROOT, Venv, install_plugins, wheel_packages
from tests.unit.mlgitops.report.repos import (
    PYTHON,
    DvcRepo,
    Run,
    command_env,
    train_script,
    write_csv_lines,
)

# Not in the base install: the example model, and what only the extras bring.
ABSENT = ["churn", "lightgbm", "sklearn", "bentoml", "hera", "scipy", "pyarrow", "pandera"]


# Each extra against the plugins it is for: every module of theirs imports, and so does what
# they import only inside functions (a missing package there fails at run time, not here).
EXTRAS = {
    "serve": (["mlgitops.serving", "mlgitops.build"], ["bentoml", "prometheus_client"]),
    "deploy": (["mlgitops.deploy"], ["hera.workflows"]),
    "drift": (["mlgitops.drift", "mlgitops.retrain"], ["scipy.stats", "pyarrow.parquet"]),
    "stats": (["mlgitops.report"], ["scipy.stats", "threadpoolctl"]),
}
_IMPORT_ALL = """
import importlib, pkgutil, sys
walked, _, plain = " ".join(sys.argv[1:]).partition(" -- ")
for name in walked.split():  # a package and every module under it
    module = importlib.import_module(name)
    for found in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        importlib.import_module(found.name)
for name in plain.split():
    importlib.import_module(name)
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("install")


@pytest.fixture(scope="module")
def plugins(work: Path) -> tuple[Venv, Path]:
    return install_plugins(work / "venv", work)


def _run(venv: Venv, repo: DvcRepo, *args: str) -> Run:
    """A command of the fresh venv, run in `repo` with that venv first on PATH."""
    env = {**repo.env, "PATH": f"{venv.bin}:{repo.env['PATH']}"}
    done = subprocess.run(
        list(args), cwd=repo.root, env=env, capture_output=True, text=True, timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _small_repo(root: Path) -> tuple[DvcRepo, str]:
    """A DVC-tracked CSV, a stage reading it with one params key, metrics and a plot; the
    head commit changes the data and the key. Returns the repository and the base sha."""
    repo = DvcRepo.create(root)
    plot = write_csv_lines(
        "plots/loss.csv", "step,loss", "[(i, round(p['lr'] / (i + 1), 4)) for i in range(10)]"
    )
    metrics = "{'acc': round(0.5 + p['lr'], 4), 'rows': len(open('data.csv').readlines())}"
    repo.write("train.py", train_script({"metrics.json": metrics}, *plot))
    repo.write("data.csv", "x,y\n1,0\n2,1\n")
    repo.add("data.csv")
    gate = [{"metric": "acc", "better": "higher", "at_least": 0.5}]
    repo.write_yaml("params.yaml", {"train": {"lr": 0.1}, "gate": gate})
    plots = [{"plots/loss.csv": {"cache": False, "x": "step", "y": "loss"}}]
    stage = {
        "cmd": f"{PYTHON} train.py",  # run by the test's own DVC, in process
        "deps": ["train.py", "data.csv"],
        "params": ["train.lr"],
        "metrics": [{"metrics.json": {"cache": False}}],
        "plots": plots,
    }
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base")
    repo.write("data.csv", "x,y\n1,0\n2,1\n3,1\n")
    repo.add("data.csv")
    repo.write_yaml("params.yaml", {"train": {"lr": 0.2}, "gate": gate})
    repo.repro()
    repo.commit("head")
    return repo, base


def test_the_wheel_holds_the_plugins_only(plugins: tuple[Venv, Path]) -> None:
    _, wheel = plugins
    assert {name for name in wheel_packages(wheel) if not name.endswith(".dist-info")} == {
        "mlgitops"
    }


def test_the_plugins_alone_report_and_gate_and_name_a_missing_extra(
    plugins: tuple[Venv, Path], tmp_path: Path
) -> None:
    venv, _ = plugins
    repo, base = _small_repo(tmp_path / "repo")

    shown = _run(venv, repo, "mlgitops", "--help")
    assert shown.returncode == 0, shown
    assert "report" in shown.stdout and "gate" in shown.stdout and "comment" in shown.stdout
    listed = " ".join(shown.stdout.split())  # click wraps the lines at the terminal's width
    assert "Roll an image out through the Argo deploy workflow (needs mlgitops[deploy])" in listed

    for module in ABSENT:
        imported = _run(venv, repo, str(venv.python), "-c", f"import {module}")
        assert imported.returncode == 1, f"{module} is importable in the plugins' venv"
        assert f"No module named '{module}'" in imported.stderr, imported

    # reusable-pr.yml's cluster step asks `mlgitops pipeline` in every caller's job, and
    # installs Hera only for one naming an Argo Server: without it, nothing to do, no error.
    idle = _run(venv, repo, "mlgitops", "pipeline", "--commit", base, "--repo", "r", "--image", "")
    assert idle.returncode == 0 and "has no pipeline section" in idle.stderr, idle

    out = tmp_path / "report" / "report.md"
    report = _run(venv, repo, "mlgitops", "report", "--base", base, "--out", str(out))
    assert report.returncode == 0, report
    data = json.loads(out.with_suffix(".json").read_text())
    acc = data["metrics"]["metrics.json"]["acc"]
    assert (acc["old"], acc["new"]) == (0.6, 0.7), data["metrics"]
    assert "acc" in out.read_text()
    assert sorted(path.name for path in (out.parent / "images").iterdir()) == ["loss.png"]
    (table,) = data["data"]  # read with pandas: rows counted on both sides
    assert (table["path"], table["old"]["rows"], table["new"]["rows"]) == ("data.csv", 2, 3)

    gate = _run(venv, repo, "mlgitops", "gate", "--report", str(out.with_suffix(".json")))
    assert gate.returncode == 0, gate
    assert "gate: passed" in gate.stderr + gate.stdout, gate

    # init and doctor are part of the plain install too: they run (doctor finds no remote).
    init = _run(venv, repo, "mlgitops", "init", "--dry-run", "--repo", "o/r", "--sha", "a" * 40)
    assert init.returncode == 0, init
    assert "mlgitops-pr.yml" in init.stdout, init
    doctor = _run(venv, repo, "mlgitops", "doctor", "--format", "json")
    assert doctor.returncode == 0, doctor  # no remote is a warning
    assert "default-remote" in [f["check"] for f in json.loads(doctor.stdout)["findings"]]

    for command, extra in [("deploy", "deploy"), ("render", "deploy"), ("drift", "drift")]:
        needs = _run(venv, repo, "mlgitops", command, "--help")
        assert needs.returncode == 2, needs
        hint = f'mlgitops {command}: needs the {extra} extra: pip install "mlgitops[{extra}]"'
        assert hint in needs.stderr, needs
        assert "Traceback" not in needs.stderr, needs


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_extra_brings_what_its_plugins_import(
    extra: str, plugins: tuple[Venv, Path], work: Path, tmp_path: Path
) -> None:
    packages, lazy = EXTRAS[extra]
    _, wheel = plugins
    venv, _ = install_plugins(work / f"venv-{extra}", work, (extra,), wheel=wheel)
    env = {k: v for k, v in command_env(tmp_path).items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(venv.python), "-c", _IMPORT_ALL, *packages, "--", *lazy],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"mlgitops[{extra}]: {done.stderr}"
    if extra == "deploy":  # and the command runs: deploy/ rendered from params.yaml + dvc.yaml
        for name in ("params.yaml", "dvc.yaml"):  # the pipeline's DAG comes from dvc.yaml
            shutil.copy(REPO_ROOT / name, tmp_path / name)
        subprocess.run(
            [str(venv.bin / "dvc"), "init", "--no-scm", "-q"],
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=True,
        )
        render = subprocess.run(
            [str(venv.bin / "mlgitops"), "render"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert render.returncode == 0, render.stderr
        for rendered in (tmp_path / "deploy").iterdir():
            assert rendered.read_text() == (REPO_ROOT / "deploy" / rendered.name).read_text()
