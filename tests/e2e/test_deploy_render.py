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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.deploy.manifests import BENTO_SRC
from tests.checkout import REPO_ROOT, VENV_BIN, Golden
from tests.processes import with_default_signals
from tests.service.server import Built, Running, build, free_port, stop, wait_until

pytestmark = pytest.mark.e2e

SMOKE_MODULES = ("__init__", "smoke", "errors", "plugin")


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def test_render_as_a_user_runs_it_writes_what_is_committed(tmp_path: Path) -> None:
    mlgitops = str(Path(sys.executable).with_name("mlgitops"))
    result = _run(mlgitops, "render", "--out", str(tmp_path / "deploy"), cwd=REPO_ROOT)
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
    assert "mlgitops render" in result.stdout
    assert "make render" in _run("make", "help", cwd=REPO_ROOT).stdout


@pytest.fixture(scope="module")
def bento(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Bento built by `mlgitops build` from the repository's bentofile.yaml."""
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
    result = _run(sys.executable, "-m", "mlgitops.build", cwd=root, env=env)
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


# The Deployment's pod for real, as far as this machine can: the Bento served by `bentoml serve`
# (the image's entrypoint) with the rendered container's env, in a mount namespace whose root
# filesystem is read-only but for the rendered emptyDir mounts; then the rendered smoke step's
# command, from the Bento's src/ and also on a read-only root, against it. Only the Service's
# DNS name is replaced by the local address.


_PATH = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"


def _deployment_manifest() -> dict[str, Any]:
    workflow = yaml.safe_load((REPO_ROOT / "deploy" / "workflow-template.yaml").read_text())
    for template in workflow["spec"]["templates"]:
        manifest = yaml.safe_load(template.get("resource", {}).get("manifest", "kind: none"))
        if manifest["kind"] == "Deployment":
            return dict(manifest)
    raise AssertionError("the workflow applies no Deployment")


def _read_only_root(writable: dict[str, Path], workdir: Path, command: list[str]) -> list[str]:
    """argv running `command` in `workdir` on a read-only root where only `writable` (mount path
    -> host directory) can be written, as an emptyDir is in the pod."""
    keep = [REPO_ROOT, Path(sys.executable).resolve(), workdir]
    lines, covered = ["set -euo pipefail", "mount --make-rprivate /"], []
    for target, source in writable.items():
        path = Path(target)
        # An emptyDir on /tmp hides a checkout (and its .venv) under /tmp: show them through it.
        hidden = [kept for kept in keep if kept.is_relative_to(path)]
        for kept in hidden:
            inside = source / kept.relative_to(path)
            if kept.is_dir():
                lines.append(f"mkdir -p {inside}")
            else:
                lines.append(f"mkdir -p {inside.parent} && touch {inside}")
            lines.append(f"mount --bind {kept} {inside}")
        if not path.is_dir():  # no mount point on this machine: a read-only tmpfs on its parent
            parent = next(p for p in path.parents if p.is_dir())
            assert parent != Path("/") and not any(k.is_relative_to(parent) for k in keep)
            if parent not in covered:
                lines.append(f"mount -t tmpfs tmpfs {parent}")
                covered.append(parent)
            lines.append(f"mkdir -p {path}")
        lines.append(f"mount {'--rbind' if hidden else '--bind'} {source} {path}")
    lines += [f"mount -o remount,ro {parent}" for parent in covered]
    lines += ["mount -o remount,bind,ro /", f"cd {workdir}", 'exec "$@"']
    unshare = ["unshare", "--mount", "--fork"]
    if os.geteuid() != 0:
        unshare.insert(1, "--map-root-user")
    return [*unshare, "bash", "-c", "\n".join(lines), "pod", *command]


def _scratch(root: Path, names: list[str]) -> dict[str, Path]:
    folders = {}
    for name in names:
        folders[name] = root / name
        folders[name].mkdir(parents=True)
    return folders


@pytest.fixture(scope="module")
def pod(golden: Golden) -> Iterator[tuple[str, Built, dict[str, Path]]]:
    """The real Bento served under the rendered Deployment's container spec.

    Built outside /tmp, in /var/tmp: the pod gets its own /tmp, which hides the host's.
    """
    side = Path(tempfile.mkdtemp(prefix="mlgitops-test-pod-", dir="/var/tmp"))
    try:
        yield from _serve_pod(golden, side)
    finally:
        shutil.rmtree(side, ignore_errors=True)


def _serve_pod(golden: Golden, side: Path) -> Iterator[tuple[str, Built, dict[str, Path]]]:
    built = build(golden.checkout.copy_to(side / "repo"), side)
    (container,) = _deployment_manifest()["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    scratch = _scratch(side / "empty-dirs", list(mounts))
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env |= {"PATH": _PATH, "HOME": str(side / "no-home"), "BENTOML_DO_NOT_TRACK": "1"}
    port = free_port()
    serve = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
    serve += ["bentoml", "serve", str(built.bento), "--host", "127.0.0.1", "--port", str(port)]
    argv = _read_only_root({mounts[name]: scratch[name] for name in mounts}, built.bento, serve)
    output = side / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            with_default_signals(argv),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(process, f"http://127.0.0.1:{port}", output)
    try:
        wait_until(running, "/readyz")
        yield running.url, built, {mounts[name]: scratch[name] for name in mounts}
    finally:
        stop(running)


def test_the_pod_serves_and_passes_the_rendered_smoke_step_on_a_read_only_root(
    pod: tuple[str, Built, dict[str, Path]], tmp_path: Path
) -> None:
    url, built, empty_dirs = pod
    workflow = yaml.safe_load((REPO_ROOT / "deploy" / "workflow-template.yaml").read_text())
    (smoke,) = [t for t in workflow["spec"]["templates"] if t["name"] == "smoke"]
    container = smoke["container"]
    args = list(container["args"])
    args[args.index("--url") + 1] = url  # the Service's DNS name does not resolve here
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    env |= {"PATH": _PATH, "HOME": str(tmp_path / "no-home")}
    command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *container["command"], *args]
    mounts = {m["mountPath"]: tmp_path / m["name"] for m in container.get("volumeMounts", [])}
    for folder in mounts.values():
        folder.mkdir()
    argv = _read_only_root(mounts, built.bento / "src", command)  # BENTO_SRC in the image
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke: passed" in result.stderr, result.stderr
    # The service wrote its request log into the emptyDir the Deployment gives it.
    (container,) = _deployment_manifest()["spec"]["template"]["spec"]["containers"]
    log_dir = {e["name"]: e.get("value") for e in container["env"]}["MLGITOPS_REQUEST_LOG_DIR"]
    assert list(empty_dirs[log_dir].glob("requests-worker*.jsonl"))
