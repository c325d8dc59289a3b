"""Fresh virtual environments with the plugins alone, or with the whole lock, from this checkout.

The versions are uv.lock's (given as constraints), the packages come from this checkout's uv
cache (hard links: seconds, and no download when the cache holds them). The plugins are built
into a wheel first, as `pip install ./` or `pip install git+...` would, so what is installed is
exactly what the `mlgitops` distribution declares.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_TIMEOUT = 300  # seconds for any one step; a step that takes longer is broken, not slow


def uv_env() -> dict[str, str]:
    """The environment uv runs in: this checkout's cache, no interpreter downloads."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.setdefault("UV_CACHE_DIR", str(REPO_ROOT / ".cache" / "uv"))
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def uv() -> str:
    """The locked uv, beside this Python (a dev dependency), else the one on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv is not installed: run `make setup`")
    return found


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=uv_env(),
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Venv:
    """A virtual environment under `root`."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def size(self) -> int:
        """Bytes of the regular files in it (symbolic links not followed, each file once)."""
        seen: set[tuple[int, int]] = set()
        for folder, _, files in os.walk(self.root):
            for name in files:
                status = Path(folder, name).lstat()
                if stat.S_ISREG(status.st_mode):
                    seen.add((status.st_ino, status.st_size))
        return sum(size for _, size in seen)


def empty_venv(root: Path) -> Venv:
    """`python -m venv` without pip (uv installs into it; pip would be 15 MB nobody uses)."""
    base = getattr(sys, "_base_executable", sys.executable)
    _run(base, "-m", "venv", "--without-pip", root)
    return Venv(root)


def lock_constraints(path: Path) -> Path:
    """Every package of uv.lock at its locked version, as a constraints file."""
    _run(
        *(uv(), "export", "--frozen", "--all-extras", "--all-groups", "--no-emit-project"),
        *("--no-hashes", "--no-header", "--no-annotate", "--project", REPO_ROOT),
        *("--output-file", path),
    )
    return path


def build_wheel(out_dir: Path) -> Path:
    """The `mlgitops` wheel built from this checkout (as pip would build it)."""
    _run(uv(), "build", "--wheel", "--out-dir", out_dir, REPO_ROOT)
    (wheel,) = out_dir.glob("mlgitops-*.whl")
    return wheel


def wheel_packages(wheel: Path) -> set[str]:
    """The top-level names a wheel installs (packages and their .dist-info)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name.split("/", 1)[0] for name in archive.namelist()}


def install_plugins(
    root: Path, work: Path, extras: tuple[str, ...] = (), *, wheel: Path | None = None
) -> tuple[Venv, Path]:
    """A fresh venv with the `mlgitops` wheel and `extras` (none: the plugins alone) at the
    lock's versions; the wheel (built into `work` unless given)."""
    work.mkdir(parents=True, exist_ok=True)
    venv = empty_venv(root)
    constraints = work / "constraints.txt"
    if not constraints.exists():
        lock_constraints(constraints)
    wheel = wheel or build_wheel(work / "dist")
    chosen = f"[{','.join(extras)}]" if extras else ""
    requirement = f"mlgitops{chosen} @ {wheel.as_uri()}"
    _run(uv(), "pip", "install", "--python", venv.python, "-c", constraints, requirement)
    return venv, wheel


def install_lock(root: Path, work: Path, wheel: Path) -> Venv:
    """A fresh venv with everything uv.lock holds (every extra and group, as `make setup`
    installs it) and the wheel, installed the same way as the plugins so the sizes compare."""
    venv = empty_venv(root)
    constraints = work / "constraints.txt"
    if not constraints.exists():
        lock_constraints(constraints)
    _run(uv(), "pip", "install", "--python", venv.python, "-r", constraints)
    _run(uv(), "pip", "install", "--python", venv.python, "--no-deps", wheel)
    return venv
