"""Seconds `mlgitops doctor` takes on this repository (issue 16: under 3 s).

Each run is the installed command in a child process, as CI's pre-commit hook runs it: in the
working tree (DVC's hash cache warm), and in a fresh `git clone` of HEAD, whose first run has
no DVC state yet (it hashes every dependency git holds). Prints a markdown table and the load
average, since the 2 cores here are shared.

    .venv/bin/python benchmarks/doctor.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLGITOPS = str(Path(sys.executable).with_name("mlgitops"))
_TIMEOUT_SECONDS = 60


def _time_doctor(root: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [MLGITOPS, "doctor"], cwd=root, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"mlgitops doctor exited {done.returncode} in {root}:\n{done.stderr!r}")
    return seconds


def _row(name: str, seconds: list[float]) -> str:
    cells = (min(seconds), statistics.median(seconds), max(seconds))
    return f"| {name} | {len(seconds)} | " + " | ".join(f"{value:.2f}" for value in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    before = os.getloadavg()[0]
    working = [_time_doctor(ROOT) for _ in range(runs)]
    with tempfile.TemporaryDirectory() as temporary:
        clone = Path(temporary) / "clone"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
            check=True,
            timeout=_TIMEOUT_SECONDS,
        )
        first = [_time_doctor(clone)]
        again = [_time_doctor(clone) for _ in range(runs - 1)]
    print("| where | runs | min s | median s | max s |")
    print("|---|---:|---:|---:|---:|")
    print(_row("working tree", working))
    print(_row("fresh clone, first run", first))
    print(_row("fresh clone, later runs", again))
    print(f"\n1-minute load average {before:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
