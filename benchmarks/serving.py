"""Benchmark: the churn service under wrk against two baselines, and bulk scoring in rows/s.

It starts each server itself, on a free port, with BentoML's home in a temporary directory, from
the model in models/ (`make run` writes it), and measures in the same run:

- requests/s, p50, p99 and non-2xx answers of single-customer POSTs driven by `wrk` (a Lua
  script, benchmarks/wrk_post.lua, cycles through real customers) at 1, 8 and 32 connections,
  each for --seconds after a --warmup at the same concurrency, for:
  ours: the service as shipped, `bentoml build` then `bentoml serve` of the bento, validation on;
  baseline A: the usual way, a BentoML service as its docs show it, a DataFrame per batch,
  batchable (benchmarks/baselines/dataframe_service.py);
  baseline B: the limit, a hand-written FastAPI app on one uvicorn worker with the same array
  encoder and no validation (benchmarks/baselines/array_app.py);
  before: ours as it was at --before (default 76916e1, before the serving runtime moved into
  mlgitops), built from `git archive` of that revision in the temporary directory
  (benchmarks/serving_before.py) and served with the same model;
- rows/s for --rows customers: `booster.predict` in process on a frame built beforehand, our
  JSON list endpoint (/predict, in requests of at most the service's limit) and our file
  endpoint (/predict_file, Parquet and CSV), each the fastest of --repeat (5) after one warm-up; the
  service's answers must equal the booster's to 1e-9 (for `before` too);
- with `before` and `ours` both served: a table of now against before, each figure the best of
  --rounds (the servers take turns, forwards then backwards, so a busy minute hits both).

The server's own CPU time per request comes from its processes' counters; the CPU others used
on the machine during each run is reported, since a shared machine skews everything. Tables go
to stdout as Markdown, progress to stderr. Not part of `make test`; it needs `wrk`.

    .venv/bin/python -m benchmarks.serving [--seconds 15] [--warmup 5] [--connections 1 8 32]
    .venv/bin/python -m benchmarks.serving --servers ours --connections   # rows/s only
    .venv/bin/python -m benchmarks.serving --servers before ours --rounds 2   # now vs before
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
from benchmarks import serving_before
from benchmarks.pipeline import CpuMeter, wait_until_quiet

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "wrk_post.lua"
BASELINES = HERE / "baselines"
MODEL_DIR = ROOT / "models"
RAW_CSV = ROOT / "data" / "raw" / "telco_churn.csv"

SERVERS = ("ours", "a", "b", "before")
LABELS = {
    "ours": "ours (BentoML, as shipped)",
    "before": "ours before the move (BentoML, as shipped then)",
    "a": "baseline A (BentoML docs: DataFrame, batchable)",
    "b": "baseline B (FastAPI, 1 worker, no validation)",
}
VARIANT_PREFIX = "variant:"
VARIANT_ENV = "CHURN_BENCH_VARIANT"  # benchmarks/serving_variants.py reads it
BODIES = 500  # distinct customers wrk cycles through
READY_SECONDS = 180.0
WRK_TIMEOUT = "10s"  # an answer slower than this counts as a socket timeout

# Targets (2 cores, load generator included).
AT_32_VS_A = 2.0
AT_32_VS_B = 0.5
P99_MS_AT_32 = 100.0
P99_MS_AT_1 = 20.0
FILE_VS_IN_PROCESS = 0.5
LIST_VS_IN_PROCESS = 0.25

_STARTED = time.monotonic()


class BenchmarkError(Exception):
    """Raised when a server does not start, wrk fails, or an answer is wrong."""


def _say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --- servers ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["BENTOML_HOME"] = str(home / "bentoml")
    env["BENTOML_DO_NOT_TRACK"] = "true"
    env["CHURN_MODEL_PATH"] = str(MODEL_DIR / "model.txt")
    env["CHURN_MODEL_DIR"] = str(MODEL_DIR)
    env["MLGITOPS_REQUEST_LOG_DIR"] = str(home / "request-log")
    env["CHURN_REQUEST_LOG_DIR"] = str(home / "request-log-before")  # its name before the move
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def build_bento(env: dict[str, str]) -> str:
    """The Bento as `make serve` builds it (mlgitops build); returns its tag."""
    result = subprocess.run(
        ["mlgitops", "build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return _tag(result, "the Bento")


def build_before(env: dict[str, str], work: Path, revision: str) -> str:
    """The Bento of `revision` (benchmarks/serving_before.py), serving the current model."""
    try:
        tree = serving_before.checkout(ROOT, revision, work / "before")
    except subprocess.CalledProcessError as error:
        raise BenchmarkError(f"git archive {revision} failed: {error.stderr!r}") from None
    return _tag(serving_before.build(tree, env), f"the Bento of {revision}")


def _tag(result: subprocess.CompletedProcess[str], what: str) -> str:
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or ":" not in lines[-1]:
        raise BenchmarkError(f"building {what} failed:\n{result.stdout}{result.stderr}")
    return lines[-1]


def server_command(name: str, *, port: int, bentos: dict[str, str]) -> list[str]:
    """The command line that serves `name` on `port` (run from the repository root)."""
    where = ["--port", str(port), "--host", "127.0.0.1"]
    if name in ("ours", "before"):
        return ["bentoml", "serve", bentos[name], *where]
    if name.startswith(VARIANT_PREFIX):
        return ["bentoml", "serve", "benchmarks.serving_variants:ChurnService", *where]
    if name == "a":
        target = "dataframe_service:ChurnDataFrame"
        return ["bentoml", "serve", target, "--working-dir", str(BASELINES), *where]
    if name == "b":
        return ["uvicorn", "array_app:app", "--app-dir", str(BASELINES), "--no-access-log", *where]
    raise ValueError(name)


def server_label(name: str) -> str:
    if name.startswith(VARIANT_PREFIX):
        return f"ours from source, {name.removeprefix(VARIANT_PREFIX)}"
    return LABELS[name]


@dataclass
class Server:
    """A running server: its process group, its URL and where its log goes."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time of the server's processes so far (the launcher and every worker)."""
        total = 0.0
        try:
            root = psutil.Process(self.process.pid)
            for process in [root, *root.children(recursive=True)]:
                with_children = process.cpu_times()
                total += with_children.user + with_children.system
        except psutil.NoSuchProcess:
            pass
        return total

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@contextmanager
def serving(
    name: str, *, env: dict[str, str], logs: Path, bentos: dict[str, str]
) -> Iterator[Server]:
    """Starts the server, waits until /readyz says 200, and stops its process group after."""
    port = _free_port()
    argv = server_command(name, port=port, bentos=bentos)
    if name.startswith(VARIANT_PREFIX):
        env = {**env, VARIANT_ENV: name.removeprefix(VARIANT_PREFIX)}
    log = logs / f"{name.replace('/', '_')}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_SECONDS
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchmarkError(
                    f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                if client.get(f"{server.url}/readyz").status_code == httpx.codes.OK:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise BenchmarkError(
        f"{server.name} not ready after {READY_SECONDS:.0f} s:\n{server.log_tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (started with it), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        process.wait(timeout=10)


# --- wrk ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """One wrk run against one server at one concurrency."""

    server: str
    connections: int
    requests: int
    seconds: float
    statuses: dict[int, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float
    server_cpu_seconds: float
    other_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def ok_rate(self) -> float:
        """2xx answers per second."""
        ok = sum(count for status, count in self.statuses.items() if 200 <= status < 300)
        return ok / self.seconds

    @property
    def failed(self) -> int:
        """Answers that were not 2xx, and requests that got no answer at all."""
        bad = sum(count for status, count in self.statuses.items() if not 200 <= status < 300)
        return bad + self.socket_errors

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_seconds / max(1, self.requests)


def check_wrk() -> str:
    """wrk's version line; BenchmarkError saying how to install it when it is missing."""
    if shutil.which("wrk") is None:
        raise BenchmarkError(
            "wrk is not installed: `apt-get install wrk` (Debian, Ubuntu) or `brew install wrk` "
            "(macOS), then run again"
        )
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0].strip()


def run_wrk(url: str, *, connections: int, seconds: float, bodies: Path) -> dict[str, Any]:
    """One wrk run; the JSON summary the Lua script's done() prints."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    argv += ["--timeout", WRK_TIMEOUT, "-s", str(LUA_SCRIPT), f"{url}/predict", "--", str(bodies)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            summary: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
            return summary
    raise BenchmarkError(f"wrk gave no summary:\n{result.stdout}{result.stderr}")


def measure_load(
    server: Server,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    bodies: Path,
    max_wait: float,
) -> LoadResult:
    """A warm-up run at the same concurrency, then the measured one."""
    wait_until_quiet(max_wait)
    if warmup > 0:
        run_wrk(server.url, connections=connections, seconds=warmup, bodies=bodies)
    cpu_before = server.cpu_seconds()
    with CpuMeter() as meter:
        summary = run_wrk(server.url, connections=connections, seconds=seconds, bodies=bodies)
    server_cpu = server.cpu_seconds() - cpu_before
    errors = summary["errors"]
    latency = summary["latency_us"]
    result = LoadResult(
        server=server.name,
        connections=connections,
        requests=int(summary["requests"]),
        seconds=summary["duration_us"] / 1e6,
        statuses={int(status): int(count) for status, count in summary["statuses"].items()},
        socket_errors=sum(int(errors[kind]) for kind in ("connect", "read", "write", "timeout")),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        server_cpu_seconds=server_cpu,
        # CpuMeter counts the server as "other" (not our child): take it back out.
        other_cpu_seconds=max(0.0, meter.other - server_cpu),
    )
    _say(
        f"{server.name} c={connections}: {result.rate:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.failed} failed {result.statuses}"
    )
    return result


# --- customers and bulk scoring -----------------------------------------------------------------


def load_customers(rows: int) -> list[dict[str, Any]]:
    """`rows` customers as a client sends them: the raw table's rows, repeated with fresh ids."""
    from churn import schema

    raw = pd.read_csv(RAW_CSV).drop(columns=[schema.LABEL])
    records = raw.to_dict("records")
    customers = []
    for number in range(rows):
        record = dict(records[number % len(records)])
        record[schema.ID] = f"{record[schema.ID]}-{number // len(records)}"
        customers.append({str(k): _plain(v) for k, v in record.items()})
    return customers


def _plain(value: Any) -> Any:
    """JSON's own types: a blank number is null, numpy scalars become Python's."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def write_bodies(customers: Sequence[dict[str, Any]], path: Path) -> None:
    """One /predict body per line, one customer each, for the Lua script."""
    lines = (json.dumps({"customers": [customer]}) for customer in customers[:BODIES])
    path.write_text("\n".join(lines) + "\n")


def _fastest(run: Any, repeat: int) -> tuple[float, Any]:
    """Seconds of the fastest of `repeat` calls after one warm-up, and that call's result."""
    run()
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, result = elapsed, value
    return best, result


def in_process_rows(customers: list[dict[str, Any]], *, repeat: int) -> tuple[float, np.ndarray]:
    """Rows/s of `booster.predict` on a frame built beforehand (prepare.clean), and its answer."""
    import lightgbm as lgb

    from churn import schema
    from churn.prepare import clean

    booster = lgb.Booster(model_file=str(MODEL_DIR / "model.txt"))
    frame = clean(pd.DataFrame.from_records(customers))[list(schema.FEATURES)]
    seconds, probabilities = _fastest(lambda: booster.predict(frame), repeat)
    return len(customers) / seconds, np.asarray(probabilities)


def json_list_rows(
    url: str, customers: list[dict[str, Any]], expected: np.ndarray, limit: int, *, repeat: int
) -> float:
    """Rows/s through POST /predict in requests of at most `limit` customers, one connection."""
    chunks = [customers[i : i + limit] for i in range(0, len(customers), limit)]
    bodies = [json.dumps({"customers": chunk}).encode() for chunk in chunks]
    headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=url, timeout=120.0) as client:

        def run() -> list[httpx.Response]:
            return [client.post("/predict", content=body, headers=headers) for body in bodies]

        seconds, responses = _fastest(run, repeat)
    got = [p["churn_probability"] for r in responses for p in _ok(r, "/predict")]
    _check_same(np.asarray(got), expected, "/predict")
    return len(customers) / seconds


def file_rows(
    url: str, customers: list[dict[str, Any]], expected: np.ndarray, kind: str, *, repeat: int
) -> float:
    """Rows/s through POST /predict_file with the customers as one Parquet or CSV upload."""
    frame = pd.DataFrame.from_records(customers)
    buffer = io.BytesIO()
    if kind == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        frame.to_csv(buffer, index=False)
    content = buffer.getvalue()
    with httpx.Client(base_url=url, timeout=120.0) as client:

        def run() -> httpx.Response:
            files = {"file": (f"customers.{kind}", content, "application/octet-stream")}
            return client.post("/predict_file", files=files)

        seconds, response = _fastest(run, repeat)
    body = _ok(response, f"/predict_file ({kind})")
    got = body["churn_probability"] if isinstance(body, dict) else body
    _check_same(np.asarray(got), expected, f"/predict_file ({kind})")
    return len(customers) / seconds


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code != httpx.codes.OK:
        raise BenchmarkError(f"{what} answered {response.status_code}: {response.text[:500]}")
    return response.json()


def _check_same(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=0, atol=1e-9):
        worst = np.max(np.abs(got - expected)) if got.shape == expected.shape else got.shape
        raise BenchmarkError(f"{what}: answers differ from the booster's ({worst})")


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything one run measured."""

    load: list[LoadResult] = field(default_factory=list)
    rows: dict[str, float] = field(default_factory=dict)  # the best of the rounds
    row_runs: dict[str, list[float]] = field(default_factory=dict)  # each round's
    settings: dict[str, str] = field(default_factory=dict)

    def find(self, server: str, connections: int) -> LoadResult | None:
        for result in self.load:
            if result.server == server and result.connections == connections:
                return result
        return None


def load_table(report: Report) -> str:
    lines = [
        "| server | connections | requests/s | 2xx/s | p50 ms | p99 ms | non-2xx "
        "| server CPU ms/req | others' CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in report.load:
        failed = str(result.failed)
        if result.failed:
            kinds = [f"{s}: {n}" for s, n in sorted(result.statuses.items()) if s >= 300]
            kinds += [f"socket: {result.socket_errors}"] if result.socket_errors else []
            failed += f" ({', '.join(kinds)}; {100 * result.failed / result.requests:.1f}%)"
        lines.append(
            f"| {server_label(result.server)} | {result.connections} | {result.rate:,.0f} "
            f"| {result.ok_rate:,.0f} "
            f"| {result.p50_ms:.1f} | {result.p99_ms:.1f} | {failed} "
            f"| {result.cpu_ms_per_request:.2f} | {result.other_cpu_seconds:.1f} |"
        )
    return "\n".join(lines)


def rows_table(report: Report) -> str:
    base = report.rows.get("in-process")
    lines = ["| path | rows/s | against in-process |", "|---|---:|---:|"]
    for name, rate in report.rows.items():
        share = f"{rate / base:.2f}x" if base else ""
        lines.append(f"| {name} | {rate:,.0f} | {share} |")
    return "\n".join(lines)


def targets_table(report: Report, *, top: int, bottom: int) -> str:
    rows = ["| target | measured | met |", "|---|---|---|"]

    def add(target: str, measured: str, met: bool | None) -> None:
        rows.append(
            f"| {target} | {measured} | {'-' if met is None else 'yes' if met else '**no**'} |"
        )

    ours, a, b = (report.find(name, top) for name in ("ours", "a", "b"))
    if ours and a:
        ratio = ours.rate / a.rate
        add(
            f"{top} connections: >= {AT_32_VS_A:g}x baseline A",
            f"{ratio:.2f}x",
            ratio >= AT_32_VS_A,
        )
    if ours and b:
        ratio = ours.rate / b.rate
        add(
            f"{top} connections: >= {AT_32_VS_B:g}x baseline B",
            f"{ratio:.2f}x",
            ratio >= AT_32_VS_B,
        )
    if ours:
        add(
            f"{top} connections: p99 < {P99_MS_AT_32:g} ms",
            f"{ours.p99_ms:.1f} ms",
            ours.p99_ms < P99_MS_AT_32,
        )
        add(f"{top} connections: zero non-2xx", str(ours.failed), ours.failed == 0)
    low = report.find("ours", bottom)
    if low:
        add(
            f"{bottom} connection: p99 < {P99_MS_AT_1:g} ms",
            f"{low.p99_ms:.1f} ms",
            low.p99_ms < P99_MS_AT_1,
        )
    base = report.rows.get("in-process")
    for name, share in (
        ("/predict_file (Parquet)", FILE_VS_IN_PROCESS),
        ("/predict (JSON list)", LIST_VS_IN_PROCESS),
    ):
        if base and name in report.rows:
            ratio = report.rows[name] / base
            add(f"{name} >= {share:g}x in-process rows/s", f"{ratio:.2f}x", ratio >= share)
    return "\n".join(rows)


def before_table(report: Report, revision: str) -> str:
    """Now against before, each the best of the rounds: requests/s (higher is better), p99 and
    the server's CPU per request (lower), rows/s (higher)."""
    lines = [
        f"| measure | before ({revision}) | now | now/before | each round, before; now |",
        "|---|---:|---:|---:|---|",
    ]
    connections = sorted({result.connections for result in report.load})
    for count in connections:
        runs = {
            name: [r for r in report.load if r.server == name and r.connections == count]
            for name in ("before", "ours")
        }
        if not all(runs.values()):
            continue
        then, now = (max(r.rate for r in runs[n]) for n in ("before", "ours"))
        each = _each([r.rate for r in runs["before"]], [r.rate for r in runs["ours"]], ",.0f")
        lines.append(
            f"| {count} conn: requests/s | {then:,.0f} | {now:,.0f} | {now / then:.2f}x | {each} |"
        )
        then, now = (min(r.p99_ms for r in runs[n]) for n in ("before", "ours"))
        each = _each([r.p99_ms for r in runs["before"]], [r.p99_ms for r in runs["ours"]], ".1f")
        lines.append(
            f"| {count} conn: p99 ms | {then:.1f} | {now:.1f} | {now / then:.2f}x | {each} |"
        )
        # the server's own CPU per request moves least with what else runs on the machine
        then, now = (min(r.cpu_ms_per_request for r in runs[n]) for n in ("before", "ours"))
        each = _each(
            [r.cpu_ms_per_request for r in runs["before"]],
            [r.cpu_ms_per_request for r in runs["ours"]],
            ".2f",
        )
        lines.append(
            f"| {count} conn: server CPU ms/req | {then:.2f} | {now:.2f} | {now / then:.2f}x "
            f"| {each} |"
        )
    for path, now in report.rows.items():
        then = report.rows.get(f"before: {path}", 0.0)
        if then:
            each = _each(report.row_runs[f"before: {path}"], report.row_runs[path], ",.0f")
            lines.append(
                f"| {path}: rows/s | {then:,.0f} | {now:,.0f} | {now / then:.2f}x | {each} |"
            )
    return "\n".join(lines)


def _each(before: list[float], now: list[float], spec: str) -> str:
    return (
        f"{', '.join(format(v, spec) for v in before)}; {', '.join(format(v, spec) for v in now)}"
    )


def service_settings() -> dict[str, str]:
    """The shipped service's batching settings, read from its class (not restated here)."""
    from churn.service import ChurnService

    service: Any = ChurnService  # bentoml's decorator is untyped
    api = service.apis["predict"]
    return {
        "batchable": str(api.batchable),
        "max_batch_size": str(api.max_batch_size),
        "max_latency_ms": str(api.max_latency_ms),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per run")
    parser.add_argument(
        "--connections",
        type=int,
        nargs="*",
        default=[1, 8, 32],
        help="wrk runs at these concurrencies; none (a bare --connections): rows/s only",
    )
    parser.add_argument("--servers", nargs="*", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--rows", type=int, default=10_000, help="customers for rows/s")
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rows/s: the fastest of this many calls after a warm-up (a shared machine "
        "disturbs some of them)",
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        default=[],
        metavar="CHANGES",
        help="also serve ours from source with these settings changed, e.g. no-tracing,omp-1 "
        "(benchmarks/serving_variants.py lists them)",
    )
    parser.add_argument(
        "--before",
        default=serving_before.DEFAULT_REVISION,
        metavar="REVISION",
        help="the git revision the server `before` is built from",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="serve and measure every server this many times, taking turns; tables keep each "
        "run, the comparison the best of them",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=60.0,
        help="seconds to wait for a quiet machine before each run (others' CPU is reported)",
    )
    args = parser.parse_args(argv)
    try:
        wrk_version = check_wrk()
        for needed in (MODEL_DIR / "model.txt", MODEL_DIR / "card.json", RAW_CSV):
            if not needed.is_file():
                raise BenchmarkError(f"{needed} is missing; run `make run` first")
        report = run(args, wrk_version)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    top, bottom = max(args.connections, default=0), min(args.connections, default=0)
    print(
        "\n\n".join(
            [
                "; ".join(f"{key} {value}" for key, value in report.settings.items()),
                load_table(report),
                rows_table(report),
                targets_table(report, top=top, bottom=bottom),
                *([before_table(report, args.before)] if "before" in args.servers else []),
            ]
        )
    )
    return 0


def measure_server(
    server: Server,
    args: argparse.Namespace,
    report: Report,
    bodies: Path,
    customers: list[dict[str, Any]],
    expected: np.ndarray,
) -> None:
    """The wrk runs, and for ours (now and before) the bulk rows/s, the best of rounds kept."""
    from churn.request import MAX_CUSTOMERS

    for connections in args.connections:
        report.load.append(
            measure_load(
                server,
                connections=connections,
                seconds=args.seconds,
                warmup=args.warmup,
                bodies=bodies,
                max_wait=args.max_wait,
            )
        )
    if server.name not in ("ours", "before"):
        return
    wait_until_quiet(args.max_wait)
    # again next to the service's rows/s, the faster kept: the ratios are against the best the
    # machine did in this run
    again, _ = in_process_rows(customers, repeat=args.repeat)
    report.rows["in-process"] = max(report.rows["in-process"], again)
    prefix = "before: " if server.name == "before" else ""
    rates = {
        "/predict (JSON list)": json_list_rows(
            server.url, customers, expected, MAX_CUSTOMERS, repeat=args.repeat
        )
    }
    for kind in ("parquet", "csv"):
        path = f"/predict_file ({'Parquet' if kind == 'parquet' else 'CSV'})"
        rates[path] = file_rows(server.url, customers, expected, kind, repeat=args.repeat)
    for path, rate in rates.items():
        report.rows[prefix + path] = max(report.rows.get(prefix + path, 0.0), rate)
        report.row_runs.setdefault(prefix + path, []).append(rate)
    _say(f"rows/s: {report.rows}")


def run(args: argparse.Namespace, wrk_version: str) -> Report:
    report = Report()
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    env = _environment(work)
    try:
        customers = load_customers(args.rows)
        bodies = work / "bodies.jsonl"
        write_bodies(customers, bodies)
        rate, expected = in_process_rows(customers, repeat=args.repeat)
        report.rows["in-process"] = rate
        _say(f"in-process booster.predict: {rate:,.0f} rows/s")
        bentos: dict[str, str] = {}
        if "ours" in args.servers:
            _say("bentoml build")
            bentos["ours"] = build_bento(env)
            _say(f"built {bentos['ours']}")
        if "before" in args.servers:
            _say(f"bentoml build of {args.before}")
            bentos["before"] = build_before(env, work, args.before)
            _say(f"built {bentos['before']}")
        names = [*args.servers, *(VARIANT_PREFIX + v for v in args.variants)]
        for turn in range(args.rounds):
            # in turn forwards and backwards (before, ours, ours, before): a busy spell of the
            # machine's falls on both sides alike
            for name in names if turn % 2 == 0 else names[::-1]:
                _say(f"starting {server_label(name)}")
                with serving(name, env=env, logs=work, bentos=bentos) as server:
                    measure_server(server, args, report, bodies, customers, expected)
    finally:
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report.settings = {
        "CPython": platform.python_version(),
        "BentoML": metadata.version("bentoml"),
        "LightGBM": metadata.version("lightgbm"),
        "wrk": wrk_version.split(" Copyright")[0].removeprefix("wrk "),
        "cores": str(os.cpu_count()),
        "load average before/after": f"{load_before:.1f}/{os.getloadavg()[0]:.1f}",
        **(
            {"ours": ", ".join(f"{k}={v}" for k, v in service_settings().items())}
            if "ours" in args.servers
            else {}
        ),
        **({"before": args.before} if "before" in args.servers else {}),
        "seconds per run": f"{args.seconds:g} after {args.warmup:g} warm-up",
        "rounds": str(args.rounds),
    }
    return report


if __name__ == "__main__":
    sys.exit(main())
