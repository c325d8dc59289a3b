"""Training at scale: the train stage in one process against lightgbm.dask on a LocalCluster.

A synthetic prepared training table (Parquet, 1,000,000-row groups) shaped like the real one:
rows drawn from the real prepared training split, fresh unique ids, tenure moved by at most a
month (never to or from 0), charges by at most 3%. Each side runs in a fresh process, the
stage's own code path, timed from its start to the model text:

- single: `pd.read_parquet` of the stage's columns and `churn.train.train` (num_threads from
  params.yaml, 2 here);
- dask: `churn.train_dask.dask_client` (a LocalCluster of train_backend.dask.workers processes
  of threads_per_worker threads) and `churn.train.fit_on_dask`, which streams the table to the
  workers part by part, fits with lightgbm.dask and gathers the card's figures.

Peak memory is each process's VmHWM (Linux's high-water mark of its resident set), read
before it exits: for dask the largest of the client (which also runs the scheduler), the
nannies and the workers. Both models are scored on the real test split, as a check that the
two fits are the same kind of model. Other processes' CPU time during each run is reported.

    nice python benchmarks/dask_train.py --rows 10000000 [--rounds N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
GROUP_ROWS = 1_000_000
RUN_SECONDS = 3600  # one side's run, at most


def _peak_rss(pid: int) -> int:
    """The process's peak resident set in bytes (VmHWM), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _source() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real prepared training and test splits, as the prepare stage makes them."""
    from churn.fetch_data import export_source
    from churn.io import load_params
    from churn.prepare import clean, split

    prepare = load_params("prepare", ROOT / "params.yaml")
    train, test = split(
        clean(export_source()), test_fraction=prepare["test_fraction"], salt=prepare["split_salt"]
    )
    return train, test


def write_table(path: Path, source: pd.DataFrame, rows: int, *, seed: int = 0) -> None:
    """`rows` synthetic prepared rows at `path`, written a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from churn import schema

    rng = np.random.default_rng(seed)
    high = int(schema.NUMERIC_RANGES["tenure"][1])
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, GROUP_ROWS):
        count = min(GROUP_ROWS, rows - start)
        frame = source.iloc[rng.integers(0, len(source), size=count)].reset_index(drop=True)
        frame[schema.ID] = [f"S{n:09d}" for n in range(start + 1, start + count + 1)]
        tenure = frame["tenure"].to_numpy()
        moved = np.clip(tenure + rng.integers(-1, 2, size=count), 1, high)
        frame["tenure"] = np.where(tenure > 0, moved, 0)
        for column in ("monthly_charges", "total_charges"):
            frame[column] = (frame[column] * rng.uniform(0.97, 1.03, size=count)).round(2)
        table = pa.Table.from_pandas(frame[list(schema.PREPARED_COLUMNS)], preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=GROUP_ROWS)
    assert writer is not None
    writer.close()


def _params(rounds: int | None) -> dict[str, Any]:
    from churn.io import load_params
    from churn.train_params import resolve

    params = resolve(load_params("train", ROOT / "params.yaml"))
    if rounds is not None:
        params["num_boost_round"] = rounds
    return params


def run_single(table: Path, rounds: int | None, model: Path) -> dict[str, Any]:
    from churn import schema
    from churn.train import train

    params = _params(rounds)
    started = time.perf_counter()
    frame = pd.read_parquet(table, columns=[schema.ID, *schema.FEATURES, schema.LABEL])
    model.write_text(train(frame, params).model_to_string())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss": {"process": _peak_rss(os.getpid())}}


def run_dask(table: Path, rounds: int | None, model: Path) -> dict[str, Any]:
    import logging

    from churn.train import fit_on_dask
    from churn.train_dask import dask_client
    from churn.train_params import read_backend

    logging.getLogger("distributed").setLevel(logging.WARNING)
    phases: list[str] = []  # the stage's own log line: sending the parts, then the fit

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            phases.append(record.getMessage())

    logging.getLogger("churn.train").addHandler(Keep())
    logging.getLogger("churn.train").setLevel(logging.INFO)
    settings = read_backend(ROOT / "params.yaml").model_copy(update={"backend": "dask"}).dask
    assert settings is not None
    params = _params(rounds)
    started = time.perf_counter()
    with dask_client(settings, address=None) as client:
        up = time.perf_counter() - started
        text, _, _ = fit_on_dask(client, settings, params, table)
        model.write_text(text)
        seconds = time.perf_counter() - started
        workers = client.run(os.getpid)
        # A LocalCluster's nannies live in this process; elsewhere they are the workers' parents.
        nannies = {psutil.Process(pid).ppid() for pid in workers.values()} - {os.getpid()}
        peaks = {
            "client and scheduler": _peak_rss(os.getpid()),
            **{f"worker {pid}": _peak_rss(pid) for pid in workers.values()},
            **{f"nanny {pid}": _peak_rss(pid) for pid in nannies},
        }
    return {"seconds": seconds, "cluster_start": up, "phases": phases, "peak_rss": peaks}


def _other_cpu() -> float:
    """CPU-seconds used on the machine so far, less this process's and its children's."""
    cpu = psutil.cpu_times()
    busy = sum(getattr(cpu, n, 0.0) for n in ("user", "nice", "system", "irq", "softirq"))
    own = os.times()
    return busy - (own.user + own.system + own.children_user + own.children_system)


def measure(side: str, table: Path, rounds: int | None, work: Path) -> dict[str, Any]:
    """One side in a fresh process, with the share of the machine others used meanwhile."""
    command = [sys.executable, __file__, "--side", side, "--table", str(table)]
    command += ["--model", str(work / f"{side}.txt")]
    command += ["--rounds", str(rounds)] if rounds is not None else []
    before, started = _other_cpu(), time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_SECONDS, check=True, cwd=ROOT
    )
    wall = time.perf_counter() - started
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    result["others_share"] = (_other_cpu() - before) / ((os.cpu_count() or 1) * wall)
    return result


def _auc(model: Path, test: pd.DataFrame) -> float:
    from sklearn.metrics import roc_auc_score

    from churn import schema
    from churn.model import load_booster, predict

    return float(roc_auc_score(test[schema.LABEL], predict(load_booster(model), test)))


def report(rows: int, results: dict[str, dict[str, Any]], aucs: dict[str, float]) -> str:
    single, dask = results["single"], results["dask"]
    gib = 1024**3
    single_peak = max(single["peak_rss"].values())
    dask_peak = max(dask["peak_rss"].values())
    largest = max(dask["peak_rss"], key=lambda name: dask["peak_rss"][name])
    lines = [
        f"{rows:,} rows, {json.dumps(results['params'])}",
        "",
        "| | single process | Dask LocalCluster | Dask / single |",
        "|---|---:|---:|---:|",
        f"| train, read to model text (s) | {single['seconds']:.1f} | {dask['seconds']:.1f} "
        f"| {dask['seconds'] / single['seconds']:.2f}x |",
        f"| - of which cluster start (s) | | {dask['cluster_start']:.1f} | |",
        f"| whole process (s) | {single['process_seconds']:.1f} "
        f"| {dask['process_seconds']:.1f} "
        f"| {dask['process_seconds'] / single['process_seconds']:.2f}x |",
        f"| peak RSS of the largest process (GiB) | {single_peak / gib:.2f} "
        f"| {dask_peak / gib:.2f} ({largest.split()[0]}) | {dask_peak / single_peak:.2f}x |",
        f"| test ROC AUC (real test split) | {aucs['single']:.4f} | {aucs['dask']:.4f} | |",
        f"| others' share of the machine | {single['others_share']:.0%} "
        f"| {dask['others_share']:.0%} | |",
        "",
        "Dask processes' peak RSS (GiB): "
        + ", ".join(f"{name} {value / gib:.2f}" for name, value in dask["peak_rss"].items()),
        *dask["phases"],
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=None, help="default: params.yaml's")
    parser.add_argument("--keep", type=Path, default=None, help="write the table and models here")
    parser.add_argument("--side", choices=["single", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:  # one side, in its own process
        run = run_single if args.side == "single" else run_dask
        print(json.dumps(run(args.table, args.rounds, args.model)))
        return
    with tempfile.TemporaryDirectory(prefix="dask-train-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        source, test = _source()
        table = work / "train.parquet"
        started = time.perf_counter()
        write_table(table, source, args.rows)
        print(f"table: {args.rows:,} rows, {table.stat().st_size / 1e6:.0f} MB, "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
        results: dict[str, Any] = {"params": {"rounds": _params(args.rounds)["num_boost_round"]}}
        for side in ("single", "dask"):
            results[side] = measure(side, table, args.rounds, work)
            print(f"{side}: {json.dumps(results[side])}", file=sys.stderr)
        aucs = {side: _auc(work / f"{side}.txt", test) for side in ("single", "dask")}
        print(report(args.rows, results, aucs))
        print(json.dumps({"rows": args.rows, **results, "test_roc_auc": aucs}))


if __name__ == "__main__":
    main()
