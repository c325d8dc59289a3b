"""deploy/ as a user renders it, and the Bento the workflow smoke-tests from.

The deploy workflow runs `mlgitops smoke` inside the very image it deploys, so the Bento must
carry the smoke module and its dependencies; a Bento is built here from the repository's own
bentofile.yaml (placeholder model files: the build does not read them) and the rendered smoke
step's command is run from its src/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlgitops.deploy.manifests import BENTO_SRC
from tests.checkout import REPO_ROOT, VENV_BIN

pytestmark = pytest.mark.e2e

SMOKE_MODULES = ("__init__", "smoke", "errors", "plugin")


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def test_render_as_a_user_runs_it_writes_what_is_committed(tmp_path: Path) -> None:
    result = _run(
        sys.executable,
        "-m",
        "mlgitops.deploy.render",
        "--out",
        str(tmp_path / "deploy"),
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    written = {p.relative_to(tmp_path / "deploy") for p in (tmp_path / "deploy").rglob("*")}
    committed = {p.relative_to(REPO_ROOT / "deploy") for p in (REPO_ROOT / "deploy").rglob("*")}
    assert written == committed
    for name in written:
        assert (tmp_path / "deploy" / name).read_bytes() == (
            REPO_ROOT / "deploy" / name
        ).read_bytes()
    assert "rendered" in result.stderr


def test_make_render_is_a_documented_target() -> None:
    result = _run("make", "-n", "render", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert "python -m mlgitops.deploy.render" in result.stdout
    assert "make render" in _run("make", "help", cwd=REPO_ROOT).stdout


@pytest.fixture(scope="module")
def bento(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Bento built by churn.build_bento from the repository's bentofile.yaml."""
    root = tmp_path_factory.mktemp("bento-build")
    for name in ("bentofile.yaml", "params.yaml", "pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "models").mkdir()
    (root / "models" / "model.txt").write_text("placeholder: the build only copies it\n")
    card = {"model": {"sha256": "0" * 64}, "git": {"revision": None}}
    (root / "models" / "card.json").write_text(json.dumps(card))
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "BENTOML_HOME": str(root / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "true",
        "UV_CACHE_DIR": str(REPO_ROOT / ".cache" / "uv"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    result = _run(sys.executable, "-m", "churn.build_bento", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    name, version = result.stdout.strip().split(":")
    return root / "bentoml" / "bentos" / name / version


def test_the_bento_carries_the_smoke_test(bento: Path) -> None:
    for module in SMOKE_MODULES:
        assert (bento / "src" / "mlgitops" / f"{module}.py").is_file(), module
    assert not (bento / "src" / "mlgitops" / "cli.py").exists()  # the smoke test alone


def test_the_bento_installs_what_the_smoke_test_imports(bento: Path) -> None:
    requirements = (bento / "env" / "python" / "requirements.txt").read_text().splitlines()
    names = {line.split("==")[0].lower() for line in requirements if "==" in line}
    missing = {"typer", "rich", "httpx"} - names
    assert not missing, f"add {sorted(missing)} to pyproject.toml's `serve` dependency group"


def test_the_rendered_smoke_command_runs_from_the_bentos_src(bento: Path) -> None:
    workflow = yaml.safe_load((REPO_ROOT / "deploy" / "workflow-template.yaml").read_text())
    (smoke,) = [t for t in workflow["spec"]["templates"] if t["name"] == "smoke"]
    container = smoke["container"]
    assert container["workingDir"] == BENTO_SRC
    command = [sys.executable if part == "python" else part for part in container["command"]]
    src = bento / "src"  # what the image has at BENTO_SRC
    result = _run(*command, "--help", cwd=src)
    assert result.returncode == 0, result.stderr
    assert "--url" in result.stdout and "--card" in result.stdout, (
        f"`{' '.join(container['command'])} --help` printed {result.stdout!r}: smoke.py needs "
        "an `if __name__ == '__main__':` that runs its app"
    )
    where = _run(sys.executable, "-c", "import mlgitops.smoke as m; print(m.__file__)", cwd=src)
    assert Path(where.stdout.strip()).is_relative_to(src), where.stdout  # the Bento's copy
    assert (src / container["args"][container["args"].index("--card") + 1]).is_file()
