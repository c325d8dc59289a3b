"""A real `bentoml serve` of the churn Bento on a free port, and what it prints.

The Bento is built by `mlgitops build` (what `make serve` runs) in a copy of the reproduced
repository, with BentoML's home, the request log and every cache in the test's temporary
directory; the server runs from another directory, so nothing reaches it from the checkout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.checkout import Checkout
from tests.processes import with_default_signals

START_SECONDS = 90  # a cold start is ~3 s; the machine may be busy with other work
LOG_KEY = "service-tests-key"


@dataclass(frozen=True)
class Built:
    """A Bento built from a reproduced checkout, and the environment to serve it in."""

    checkout: Checkout
    tag: str
    bento: Path  # the Bento's directory in the store
    env: dict[str, str]
    log_dir: Path  # MLGITOPS_REQUEST_LOG_DIR


@dataclass(frozen=True)
class Running:
    """A `bentoml serve` process and where it answers."""

    process: subprocess.Popen[bytes]
    url: str
    output: Path  # its stdout and stderr

    def text(self) -> str:
        return self.output.read_text(errors="replace")


def build(checkout: Checkout, side: Path) -> Built:
    """`mlgitops build` in the checkout, with BentoML's home under `side`."""
    log_dir = side / "request-logs"
    env = {
        **checkout.env,
        "BENTOML_HOME": str(side / "bentoml"),
        "BENTOML_DO_NOT_TRACK": "true",
        "UV_CACHE_DIR": str(side / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "MLGITOPS_REQUEST_LOG_DIR": str(log_dir),
        "MLGITOPS_REQUEST_LOG_KEY": LOG_KEY,
    }
    result = checkout.run("mlgitops", "build", extra_env=env)
    assert result.returncode == 0, str(result)
    tag = result.stdout.strip().splitlines()[-1]
    name, version = tag.split(":")
    bento = side / "bentoml" / "bentos" / name / version
    assert (bento / "bento.yaml").is_file(), str(result)
    serve_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    return Built(checkout, tag, bento, serve_env, log_dir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(target: str, built: Built, workdir: Path) -> Running:
    """`bentoml serve TARGET` (a tag or a Bento directory) on a free port, not waited for."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            with_default_signals(
                ["bentoml", "serve", target, "--host", "127.0.0.1", "--port", str(port)]
            ),
            cwd=workdir,
            env=built.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(process, f"http://127.0.0.1:{port}", output)


def status(url: str) -> int | None:
    """The status of GET url, None when nothing answers."""
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return None


def wait_until(running: Running, path: str, *, expected: int = 200) -> None:
    """Poll until GET path answers `expected`; fail with the server's output if it exits."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if status(running.url + path) == expected:
            return
        if running.process.poll() is not None:
            code = running.process.returncode
            raise AssertionError(f"bentoml serve exited {code}:\n{running.text()}")
        time.sleep(0.2)
    raise AssertionError(f"{path} never gave {expected} in {START_SECONDS} s:\n{running.text()}")


def stop(running: Running) -> None:
    """SIGTERM to the server's process group (the server and its workers), then wait; started
    by `start` with SIGTERM at its default, so it never waits on an inherited SIG_IGN."""
    if running.process.poll() is None:
        os.killpg(running.process.pid, 15)
        try:
            running.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(running.process.pid, 9)
            running.process.wait(timeout=30)
