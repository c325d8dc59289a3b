"""Benchmark: paired bootstrap intervals for 10 metrics (mlgitops.report.stats) at scale.

For each row count it draws a synthetic evaluation set (0/1 labels, 27% positive; a base
score that separates them, and a head score that is the base plus a little noise, so the
deltas are small as in a real PR) and measures, each in a fresh child process so that its
peak RSS is its own:

- ours: `paired_bootstrap` with all 10 metrics (ROC AUC, average precision, log loss, Brier,
  accuracy, precision, recall, F1 at 0.5, RMSE, MAE), --resamples resamples, default options
  (Poisson draws from 50,000 rows, 96 MiB blocks), with --workers threads;
- the baseline, in the same run: the naive loop, one `rng.integers` index draw per resample
  and scikit-learn's 10 metrics on base and head for each, timed over a few resamples and
  extrapolated to --resamples (the ratio's denominator).

Targets (issue 17): 100,000 rows under 2 s, 1,000,000 rows under 20 s, memory bounded. The
table goes to stdout as Markdown, progress to stderr.

    .venv/bin/python -m benchmarks.report_stats [--rows 100000 1000000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
METRICS = [
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "rmse",
    "mae",
]
TARGETS = {100_000: 2.0, 1_000_000: 20.0}  # seconds
_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def evaluation_rows(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.27).astype(np.float64)
    base = 1 / (1 + np.exp(-(2.0 * label - 1.2 + rng.normal(0, 1.3, rows))))
    head = np.clip(base + rng.normal(0, 0.01, rows), 1e-6, 1 - 1e-6)
    return label, base, head


def naive_seconds_per_resample(
    label: np.ndarray, base: np.ndarray, head: np.ndarray, resamples: int, seed: int
) -> float:
    """The loop the statistics replace: draw indices, call scikit-learn per metric and side."""
    from sklearn import metrics as sk

    def all_metrics(y: np.ndarray, score: np.ndarray) -> list[float]:
        flagged = score >= 0.5
        return [
            sk.roc_auc_score(y, score),
            sk.average_precision_score(y, score),
            sk.log_loss(y, score, labels=[0, 1]),
            sk.brier_score_loss(y, score),
            sk.accuracy_score(y, flagged),
            sk.precision_score(y, flagged, zero_division=0.0),
            sk.recall_score(y, flagged, zero_division=0.0),
            sk.f1_score(y, flagged, zero_division=0.0),
            sk.root_mean_squared_error(y, score),
            sk.mean_absolute_error(y, score),
        ]

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(resamples):
        rows = rng.integers(0, len(label), len(label))
        y = label[rows]
        np.subtract(all_metrics(y, head[rows]), all_metrics(y, base[rows]))
    return (time.perf_counter() - started) / resamples


def child(rows: int, resamples: int, workers: int, naive: int, seed: int) -> dict[str, Any]:
    """One measurement in this process: ours, then the naive loop."""
    from mlgitops.report.stats import Bootstrap, paired_bootstrap

    label, base, head = evaluation_rows(rows, seed)
    data_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    options = Bootstrap(resamples=resamples, seed=seed, workers=workers)
    started = time.perf_counter()
    changes = paired_bootstrap(label, base, head, metrics=METRICS, bootstrap=options)
    seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    auc = next(change for change in changes if change.metric == "roc_auc")
    return {
        "seconds": seconds,
        "peak_rss_mib": peak_rss,
        "data_rss_mib": data_rss,
        "naive_per_resample": naive_seconds_per_resample(label, base, head, naive, seed),
        "auc_delta": [auc.delta, auc.delta_interval.low, auc.delta_interval.high],
        "verdicts": {change.metric: change.verdict for change in changes},
    }


def measure(rows: int, resamples: int, workers: int, naive: int, seed: int) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "benchmarks.report_stats", "--child", str(rows),
        "--resamples", str(resamples), "--workers", str(workers), "--naive", str(naive),
        "--seed", str(seed),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def table(results: list[tuple[int, int, int, dict[str, Any]]], resamples: int) -> str:
    lines = [
        "| rows | workers | seconds | target | met | peak RSS (MiB) "
        "| before it: imports, data (MiB) | naive sklearn loop, s (from N resamples) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rows, workers, naive, result in results:
        target = TARGETS.get(rows)
        naive_total = result["naive_per_resample"] * resamples
        met = "" if target is None else ("yes" if result["seconds"] < target else "no")
        lines.append(
            f"| {rows:,} | {workers} | **{result['seconds']:.1f}** | "
            f"{'' if target is None else f'< {target:g} s'} | {met} | "
            f"{result['peak_rss_mib']:.0f} | {result['data_rss_mib']:.0f} | "
            f"{naive_total:,.0f} ({naive}) | {naive_total / result['seconds']:,.0f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--resamples", type=int, default=2_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--naive", type=int, default=None, help="naive resamples to time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        result = child(args.child, args.resamples, args.workers[0], args.naive or 2, args.seed)
        print(json.dumps(result))
        return
    load_before = os.getloadavg()[0]
    results = []
    for rows in args.rows:
        naive = args.naive or max(2, 500_000 // rows)  # a few seconds of the naive loop
        for workers in args.workers:
            say(f"{rows:,} rows, {args.resamples} resamples, {workers} worker(s)")
            result = measure(rows, args.resamples, workers, naive, args.seed)
            say(f"  {result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB")
            results.append((rows, workers, naive, result))
    load_after = os.getloadavg()[0]
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("numpy", "scipy"))
    print(
        f"{len(METRICS)} metrics ({', '.join(METRICS)}), {args.resamples} paired resamples; "
        f"CPython {platform.python_version()}, {versions}, {os.cpu_count()} cores "
        f"(shared with other jobs), 1-minute load average {load_before:.1f} before and "
        f"{load_after:.1f} after.\n"
    )
    print(table(results, args.resamples))
    for rows, workers, _, result in results:
        low, high = result["auc_delta"][1:]
        print(
            f"\n{rows:,} rows, {workers} worker(s): ROC AUC delta {result['auc_delta'][0]:+.5f} "
            f"(95% CI {low:+.5f} to {high:+.5f}); verdicts: "
            + ", ".join(f"{name} {verdict}" for name, verdict in result["verdicts"].items())
        )


if __name__ == "__main__":
    main()
