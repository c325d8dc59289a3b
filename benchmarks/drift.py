"""Benchmark: `mlgitops drift` on big request logs against a plain pandas load-and-compute.

For each size it writes that many request-log lines (the service's format, in size-rotated
files of two workers, values drawn from the pipeline's reference with some jitter) under a
temporary directory, then measures, in the same run and on the same files:

- ours: `mlgitops drift --reference data/reference.parquet --current DIR` (a subprocess);
- the baseline: one subprocess that loads every file with `pd.read_json(lines=True)`, takes the
  `inputs` and `outputs` columns apart and computes the same PSIs (the same reference-quantile
  bins) with pandas. Its address space is capped (RLIMIT_AS), so a load that does not fit
  reports "out of memory at N GiB" instead of taking the machine down.

Wall time and peak RSS (the child's own max RSS from wait4) per run; a Markdown table to stdout,
progress to stderr. The logs are deleted afterwards unless --keep.

    python benchmarks/drift.py --rows 1000000 10000000 [--baseline-cap-gib 16] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data/reference.parquet"
PARAMS = ROOT / "params.yaml"
SCORE = "churn_probability"
BLOCKS = 16  # distinct blocks of lines, written round-robin: values vary, generation stays fast
BLOCK_ROWS = 10_000
FILE_BYTES = 50 * 1024 * 1024  # the service's default rotation size
WORKERS = 2
OUT_OF_MEMORY = 86  # the baseline's exit code when its load hit the memory cap
_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def _blocks(reference: pd.DataFrame, rng: np.random.Generator) -> list[bytes]:
    """BLOCKS blocks of BLOCK_ROWS log lines, customers drawn from the reference and jittered."""
    features = [column for column in reference.columns if column != SCORE]
    blocks = []
    for _ in range(BLOCKS):
        rows = reference.iloc[rng.integers(0, len(reference), BLOCK_ROWS)].reset_index(drop=True)
        jitter = rng.normal(1.0, 0.02, BLOCK_ROWS)
        rows["monthly_charges"] = (rows["monthly_charges"] * jitter).round(2)
        lines = []
        for record in rows.to_dict("records"):
            inputs = {name: _plain(record[name]) for name in features}
            score = float(record[SCORE])
            line = {
                "time": "2026-11-23T13:05:01.123+00:00",
                "endpoint": "predict",
                "customer_id_hmac": "9f2c" * 16,
                "model_sha256": "a1b7" * 16,
                "inputs": inputs,
                "outputs": {SCORE: score, "churn": score >= 0.5},
            }
            lines.append(orjson.dumps(line))
        blocks.append(b"\n".join(lines) + b"\n")
    return blocks


def _plain(value: object) -> object:
    """A JSON value as the service logs it: ints for flags and tenure, text for levels."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value if isinstance(value, int | float | str) else str(value)


def write_logs(folder: Path, rows: int, reference: pd.DataFrame) -> int:
    """`rows` log lines in rotated files of WORKERS workers; returns the bytes written."""
    folder.mkdir(parents=True)
    blocks = _blocks(reference, np.random.default_rng(rows))
    per_worker = [rows // WORKERS + (1 if w < rows % WORKERS else 0) for w in range(WORKERS)]
    written = 0
    for worker, count in enumerate(per_worker, start=1):
        files: list[Path] = []
        handle = None
        size = 0
        left = count
        block = 0
        while left:
            if handle is None or size >= FILE_BYTES:
                if handle is not None:
                    handle.close()
                path = folder / f"requests-worker{worker}.jsonl.part{len(files)}"
                files.append(path)
                handle = path.open("wb")
                size = 0
            data = blocks[block % BLOCKS]
            block += 1
            if left < BLOCK_ROWS:
                data = b"".join(data.splitlines(keepends=True)[:left])
            handle.write(data)
            size += len(data)
            written += len(data)
            left -= min(left, BLOCK_ROWS)
        if handle is not None:
            handle.close()
        # Name them as RotatingFileHandler does: the newest is .jsonl, older ones .jsonl.1, ...
        for age, path in enumerate(reversed(files)):
            suffix = "" if age == 0 else f".{age}"
            path.rename(folder / f"requests-worker{worker}.jsonl{suffix}")
    return written


@dataclass(frozen=True)
class Run:
    """One measured subprocess."""

    name: str
    rows: int
    seconds: float
    peak_mib: float
    outcome: str  # "ok", "drift", or why it failed
    stdout: str

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.outcome in ("ok", "drift") else None


def measure(name: str, rows: int, command: Sequence[str], *, cap_bytes: int | None = None) -> Run:
    """Runs `command`, returns its wall time and its own peak RSS (wait4's ru_maxrss)."""

    def limit() -> None:
        if cap_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    env = {**os.environ, "MPLCONFIGDIR": str(ROOT / ".cache/matplotlib")}
    start = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, preexec_fn=limit
    ) as process:
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        stdout = process.stdout.read().decode() if process.stdout else ""
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    if code == OUT_OF_MEMORY and cap_bytes is not None:
        outcome = f"out of memory at {cap_bytes / 2**30:g} GiB"
    elif code < 0 and cap_bytes is not None:  # a C extension that did not check its malloc
        outcome = f"killed by signal {-code} under the {cap_bytes / 2**30:g} GiB cap"
    elif code == 0:
        outcome = "ok"
    elif code == 3:
        outcome = "drift"
    else:
        outcome = f"exit {code}: {(stderr or stdout).strip()[-300:]}"
    say(f"{name} at {rows:,} rows: {seconds:.1f} s, peak {peak:,.0f} MiB, {outcome}")
    return Run(name, rows, seconds, peak, outcome, stdout)


def baseline(folder: Path, reference_path: Path, bins: int, epsilon: float) -> None:
    """The plain pandas way: load everything, then compute each column's PSI. Prints them."""
    try:
        frames = [
            pd.read_json(path, lines=True)
            for path in sorted(folder.iterdir())
            if path.name.startswith("requests-worker")
        ]
        logs = pd.concat(frames, ignore_index=True)
        del frames
        inputs = pd.DataFrame(logs["inputs"].tolist())
        inputs[SCORE] = [outputs[SCORE] for outputs in logs["outputs"]]
    except (MemoryError, ValueError) as error:
        # ujson, under pandas, says "Could not reserve memory block" as a ValueError.
        if isinstance(error, MemoryError) or "memory" in str(error).lower():
            sys.exit(OUT_OF_MEMORY)
        raise
    reference = pd.read_parquet(reference_path)
    psis = {}
    for name in reference.columns:
        ref, cur = reference[name], inputs[name]
        if pd.api.types.is_numeric_dtype(ref) and ref.nunique() > 10:
            cuts = np.unique(
                np.quantile(ref.dropna(), np.arange(1, bins) / bins, method="inverted_cdf")
            )
            cuts = cuts[cuts < ref.max()]
            edges = [-np.inf, *cuts, np.inf]
            ref_share = pd.cut(ref, edges).value_counts(normalize=True, sort=False)
            cur_share = pd.cut(cur, edges).value_counts(normalize=True, sort=False)
        else:
            ref_share = ref.astype(str).value_counts(normalize=True)
            cur_share = cur.astype(str).value_counts(normalize=True)
            ref_share, cur_share = ref_share.align(cur_share, fill_value=0.0)
        r = np.maximum(ref_share.to_numpy(), epsilon)
        c = np.maximum(cur_share.to_numpy(), epsilon)
        psis[name] = float(np.sum((c - r) * np.log(c / r)))
    print(orjson.dumps(psis).decode())


def _check_same_psis(report: Path, base: Run) -> None:
    """Both ways must give the same PSIs, or the comparison of their speed means nothing."""
    if base.outcome != "ok" or not report.is_file():
        return
    ours = {
        name: entry["psi"] for name, entry in orjson.loads(report.read_bytes())["features"].items()
    }
    theirs = orjson.loads(base.stdout.strip().splitlines()[-1])
    worst = max(abs(ours[name] - theirs[name]) for name in ours)
    say(f"largest PSI difference between mlgitops drift and pandas: {worst:.2g}")
    if worst > 1e-5:
        raise SystemExit(f"PSIs differ: ours {ours}, pandas {theirs}")


def _ratio(ours: float | None, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}x" if ours and theirs else "-"


def table(runs: list[Run]) -> str:
    lines = [
        "| Rows | Tool | Seconds | Rows/s | Peak RSS (MiB) | Outcome | Speed vs pandas |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for rows in sorted({run.rows for run in runs}):
        at = {run.name: run for run in runs if run.rows == rows}
        base = at.get("pandas")
        for run in at.values():
            speed = run.rows_per_second
            ratio = _ratio(speed, base.rows_per_second if base else None)
            seconds = f"{run.seconds:.1f}" if speed is not None else "-"
            lines.append(
                f"| {rows:,} | {run.name} | {seconds} | "
                f"{f'{speed:,.0f}' if speed else '-'} | {run.peak_mib:,.0f} | {run.outcome} | "
                f"{ratio if run.name != 'pandas' else ''} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--baseline-cap-gib", type=float, default=16.0)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Where the logs go (a temp dir)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the generated logs.")
    parser.add_argument("--baseline-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = __import__("yaml").safe_load(PARAMS.read_text())["drift"]
    if args.baseline_worker is not None:
        baseline(args.baseline_worker, REFERENCE, params["bins"], params["epsilon"])
        return
    if not REFERENCE.is_file():
        sys.exit(f"{REFERENCE} not found: run `dvc repro` first (the evaluate stage writes it)")
    reference = pd.read_parquet(REFERENCE)
    workdir = Path(tempfile.mkdtemp(prefix="drift-bench-", dir=args.workdir))
    cap = int(args.baseline_cap_gib * 2**30)
    runs: list[Run] = []
    try:
        for rows in args.rows:
            logs = workdir / f"logs-{rows}"
            started = time.perf_counter()
            size = write_logs(logs, rows, reference)
            took = time.perf_counter() - started
            say(f"wrote {rows:,} lines ({size / 2**30:.2f} GiB) in {took:.1f} s")
            report = workdir / f"report-{rows}"
            ours = [str(Path(sys.executable).with_name("mlgitops")), "drift"]
            ours += ["--reference", str(REFERENCE), "--current", str(logs), "--out", str(report)]
            runs.append(measure("mlgitops drift", rows, ours))
            pandas = [sys.executable, __file__, "--baseline-worker", str(logs)]
            runs.append(measure("pandas", rows, pandas, cap_bytes=cap))
            _check_same_psis(report / "drift.json", runs[-1])
            if not args.keep:
                shutil.rmtree(logs)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(runs))


if __name__ == "__main__":
    main()
