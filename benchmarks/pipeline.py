"""Benchmark: the churn pipeline under `dvc repro` against the same job in one Python process.

For each size it builds a throw-away copy of the repository (the git-tracked files as they are in
the working tree, committed in a fresh git repository), puts a synthetic raw table of that many
rows in place of the real one and measures, in the same run:

- the one-process job by hand (`benchmarks/one_process.py`: imports, read, clean, fit, predict),
  from interpreter start to exit, and raw fit+predict inside it;
- `dvc repro` with its five stages: each stage process's wall time (from the kernel's start time
  to its exit), split with the stage's own `timings:` line; DVC's own time is the rest;
- a `dvc repro` with nothing to do, and one after a training param changed (which must re-run
  only train_params, train and evaluate);
- pandera's validation calls (the raw and the prepared schema) against fit time.

Tables go to stdout as Markdown, progress to stderr.

    python benchmarks/pipeline.py --rows 100000 1000000 [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
ONE_PROCESS_SCRIPT = Path(__file__).resolve().with_name("one_process.py")
STAGES = ("prepare", "validate", "train_params", "train", "evaluate")
RAW_PATH = Path("data/raw/telco_churn.csv")
PREPARED_PATHS = (Path("data/prepared/train.parquet"), Path("data/prepared/test.parquet"))

TARGET_REPRO_RATIO = 1.5  # `dvc repro` at most this many times the one-process job
TARGET_PANDERA_SHARE = 0.10  # pandera's calls under this share of fit time
TARGET_NOOP_SECONDS = 2.0  # a `dvc repro` with nothing to do

_RUNNING = re.compile(r"^Running stage '([^']+)'")
_TIMINGS = re.compile(r"timings: stage=(\S+) (.*)$")
_PHASE = re.compile(r"(\w+)=([0-9.]+)s")
_STARTED = time.monotonic()


class BenchmarkError(Exception):
    """Raised when a measured command fails or the copy does not behave as the pipeline should."""


def _say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def _boot_clock() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _started_at(pid: int) -> float:
    """When the process started, on the boot-time clock (the kernel counts in clock ticks)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")


# --- the repository copy and its data --------------------------------------------------------


def _run(args: Sequence[str], *, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchmarkError(
            f"`{' '.join(args)}` failed in {cwd} with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def environment(copy: Path, bytecode: Path) -> dict[str, str]:
    """What `make` sets for the stages, with the copy's own `src` first on the import path.

    Compiled bytecode goes to `bytecode` (filled by warm_up), so every process imports from
    cached bytecode as in a normal environment, even where PYTHONDONTWRITEBYTECODE is set
    (container images often set it) or the environment's own caches are incomplete.
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    env["MPLCONFIGDIR"] = str(ROOT / ".cache" / "matplotlib")
    env["PYTHONPATH"] = str(copy / "src")
    env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPROFILEIMPORTTIME"):
        env.pop(name, None)
    return env


def copy_repository(destination: Path, env: dict[str, str]) -> None:
    """The git-tracked files of ROOT as they are in the working tree, committed in a new repo."""
    listed = _run(["git", "ls-files", "-z"], cwd=ROOT, env=env)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree stays deleted
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # DVC's per-repository state goes inside the copy, not to /var/tmp.
    (destination / ".dvc" / "config.local").write_text(
        f"[core]\n    site_cache_dir = {destination / '.dvc' / 'site-cache'}\n"
    )
    _run(["git", "init", "-q", "-b", "main"], cwd=destination, env=env)
    _run(["git", "config", "user.name", "benchmark"], cwd=destination, env=env)
    _run(["git", "config", "user.email", "benchmark@localhost"], cwd=destination, env=env)
    _run(["git", "add", "-A"], cwd=destination, env=env)
    _run(["git", "commit", "-q", "-m", "copy of the working tree"], cwd=destination, env=env)


def synthetic_table(source: pd.DataFrame, rows: int, *, seed: int) -> pd.DataFrame:
    """`rows` customers drawn from `source`, with fresh unique ids and small numeric jitter.

    Tenure moves by at most a month and never to or from 0 (a blank total charge is only valid
    at tenure 0); charges move by at most 3%. Everything stays inside schema.raw_schema's ranges.
    """
    from churn import schema

    rng = np.random.default_rng(seed)
    frame = source.iloc[rng.integers(0, len(source), size=rows)].reset_index(drop=True)
    frame[schema.ID] = pd.Series([f"S{number:09d}" for number in range(1, rows + 1)])
    tenure = frame["tenure"].to_numpy()
    high = int(schema.NUMERIC_RANGES["tenure"][1])
    moved = np.clip(tenure + rng.integers(-1, 2, size=rows), 1, high)
    frame["tenure"] = np.where(tenure > 0, moved, 0)
    for column in ("monthly_charges", "total_charges"):
        factor = rng.uniform(0.97, 1.03, size=rows)
        frame[column] = (frame[column] * factor).round(2)  # a blank stays blank
    return frame[list(schema.RAW_COLUMNS)]


def warm_up(env: dict[str, str]) -> None:
    """Import everything once: bytecode compiled and files in the page cache for both sides."""
    modules = (
        "lightgbm, pandera.pandas, sklearn.metrics, sklearn.calibration, matplotlib.pyplot, "
        "pyarrow.parquet, dvc.cli, dvc.repo, churn.prepare, churn.validate, churn.train, "
        "churn.evaluate"
    )
    _run(["python", "-c", f"import {modules}"], cwd=ROOT, env=env)
    _run(["dvc", "version"], cwd=ROOT, env=env)


class CpuMeter:
    """CPU-seconds other processes used while a measurement ran: a disturbed run shows it.

    The machine's busy time minus this process's and its waited-for children's.
    """

    def __init__(self) -> None:
        self.other = 0.0
        self._start = (0.0, 0.0)

    @staticmethod
    def _now() -> tuple[float, float]:
        cpu = psutil.cpu_times()
        busy = sum(
            getattr(cpu, name, 0.0)
            for name in ("user", "nice", "system", "irq", "softirq", "steal")
        )
        own = os.times()
        return busy, own.user + own.system + own.children_user + own.children_system

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own = self._now()
        self.other = max(0.0, (busy - self._start[0]) - (own - self._start[1]))


QUIET_CORES = 0.15  # other processes' load under which a measurement may start
DISTURBED_SHARE = 0.05  # a run during which others took more of the machine is not trusted


def _disturbed(other_cpu: float, seconds: float) -> bool:
    return other_cpu > DISTURBED_SHARE * (os.cpu_count() or 1) * seconds


def wait_until_quiet(max_wait: float) -> None:
    """Wait up to `max_wait` s until other processes use under QUIET_CORES of a core for 2 s."""
    deadline = time.monotonic() + max_wait
    told = False
    while time.monotonic() < deadline:
        with CpuMeter() as meter:
            time.sleep(2.0)
        if meter.other < 2.0 * QUIET_CORES:
            return
        if not told:
            _say(f"waiting for a quiet machine: others use {meter.other / 2.0:.1f} cores")
            told = True
    _say("the machine stayed busy; measuring anyway (see 'other processes' below)")


# --- dvc repro, stage by stage ------------------------------------------------------------------


@dataclass
class StageRun:
    """One stage process: its wall time as the kernel saw it and its own `timings:` line."""

    name: str
    started: float | None = None  # boot-time clock
    ended: float | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        if self.started is None or self.ended is None:
            return sum(self.timings.values())  # the watcher missed it: the inside view
        return self.ended - self.started

    def phase(self, *names: str) -> float:
        return sum(self.timings.get(name, 0.0) for name in names)

    @property
    def untimed(self) -> float:
        """Interpreter exit and whatever ran outside the stage's phases."""
        return self.wall - sum(self.timings.values())


@dataclass
class ReproRun:
    seconds: float
    stages: dict[str, StageRun]
    output: str
    other_cpu: float = 0.0

    @property
    def disturbed(self) -> bool:
        return _disturbed(self.other_cpu, self.seconds)

    @property
    def stage_seconds(self) -> float:
        return sum(stage.wall for stage in self.stages.values())

    @property
    def dvc_seconds(self) -> float:
        return self.seconds - self.stage_seconds


def _stage_commands(copy: Path) -> dict[str, str]:
    stages = yaml.safe_load((copy / "dvc.yaml").read_text())["stages"]
    return {name: str(stage["cmd"]) for name, stage in stages.items()}


def _watch_stage(dvc_pid: int, command: str, run: StageRun) -> None:
    """Find the stage's process under `dvc repro`, then wait for its exit on a pidfd."""
    deadline = time.monotonic() + 30.0
    pid = None
    while pid is None and time.monotonic() < deadline:
        try:
            children = psutil.Process(dvc_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            try:
                if command in " ".join(child.cmdline()):
                    pid = child.pid
                    break
            except psutil.Error:
                continue
        else:
            time.sleep(0.002)
    if pid is None:
        return
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        run.started = _started_at(pid)
        select.select([handle], [], [])
        run.ended = _boot_clock()
    finally:
        os.close(handle)


def run_repro(copy: Path, env: dict[str, str], *, max_wait: float) -> ReproRun:
    """`dvc repro` in the copy, timed as a whole and per stage process."""
    commands = _stage_commands(copy)
    stages: dict[str, StageRun] = {}
    watchers: list[threading.Thread] = []
    lines: list[str] = []
    wait_until_quiet(max_wait)
    meter = CpuMeter().__enter__()
    started = _boot_clock()
    process = subprocess.Popen(
        ["dvc", "repro"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if match := _RUNNING.match(line):
            run = stages.setdefault(match[1], StageRun(match[1]))
            watcher = threading.Thread(
                target=_watch_stage, args=(process.pid, commands[run.name], run), daemon=True
            )
            watcher.start()
            watchers.append(watcher)
        elif match := _TIMINGS.search(line):
            timings = {name: float(value) for name, value in _PHASE.findall(match[2])}
            stages.setdefault(match[1], StageRun(match[1])).timings = timings
    returncode = process.wait()
    seconds = _boot_clock() - started
    meter.__exit__()
    for watcher in watchers:
        watcher.join(timeout=5.0)
    output = "".join(lines)
    if returncode != 0:
        raise BenchmarkError(f"dvc repro failed with exit code {returncode}:\n{output}")
    return ReproRun(seconds=seconds, stages=stages, output=output, other_cpu=meter.other)


def change_train_param(copy: Path, env: dict[str, str]) -> None:
    """A new LightGBM seed in params.yaml: the kind of edit a person makes between runs."""
    path = copy / "params.yaml"
    text, count = re.subn(
        r"(?m)^(train:\n(?:[ \t].*\n|\n)*?[ \t]+seed:[ \t]*)(\d+)",
        lambda match: f"{match[1]}{int(match[2]) + 1}",
        path.read_text(),
        count=1,
    )
    if count != 1:
        raise BenchmarkError(f"{path} has no train.seed to change")
    path.write_text(text)
    _run(["git", "commit", "-q", "-am", "train.seed + 1"], cwd=copy, env=env)


# --- the one-process job and pandera -----------------------------------------------------------


@dataclass
class OneProcessRun:
    seconds: float  # the whole process, interpreter start to exit
    inside: dict[str, float]  # imports, read, clean, fit, predict
    other_cpu: float = 0.0

    @property
    def disturbed(self) -> bool:
        return _disturbed(self.other_cpu, self.seconds)

    @property
    def fit_predict(self) -> float:
        return self.inside["fit"] + self.inside["predict"]


def run_one_process(copy: Path, env: dict[str, str], *, max_wait: float) -> OneProcessRun:
    wait_until_quiet(max_wait)
    with CpuMeter() as meter:
        started = _boot_clock()
        output = _run(["python", str(ONE_PROCESS_SCRIPT)], cwd=copy, env=env)
        seconds = _boot_clock() - started
    inside = json.loads(output.strip().splitlines()[-1])["seconds"]
    return OneProcessRun(
        seconds=seconds, inside={k: float(v) for k, v in inside.items()}, other_cpu=meter.other
    )


def time_pandera(copy: Path) -> dict[str, float]:
    """Seconds of the validate stage's two pandera calls, made here on the same files."""
    import pandera.pandas  # noqa: F401  (imported before the clock starts)

    from churn import schema
    from churn.io import load_params, read_raw

    params = load_params("validate", copy / "params.yaml")
    bounds = {key: params[key] for key in ("label_rate_min", "label_rate_max")}
    raw = read_raw(copy / RAW_PATH)
    prepared = pd.concat([pd.read_parquet(copy / path) for path in PREPARED_PATHS])
    seconds = {}
    for name, frame, make_schema in (
        ("raw", raw, schema.raw_schema),
        ("prepared", prepared.reset_index(drop=True), schema.prepared_schema),
    ):
        started = time.perf_counter()
        make_schema(**bounds).validate(frame, lazy=True)
        seconds[name] = time.perf_counter() - started
    return seconds


# --- one size, end to end -----------------------------------------------------------------------


@dataclass
class Trial:
    """One fresh copy of the repository, measured once."""

    one_process: OneProcessRun
    repro: ReproRun
    noop: ReproRun
    param_change: ReproRun
    pandera: dict[str, float]
    test_roc_auc: float


@dataclass
class Result:
    """The fastest of the trials, measurement by measurement (noise only ever adds time).

    Runs that other processes disturbed count only when no undisturbed run exists.
    """

    rows: int
    csv_bytes: int
    trials: list[Trial]

    @property
    def one_process(self) -> OneProcessRun:
        runs = [trial.one_process for trial in self.trials]
        return min([run for run in runs if not run.disturbed] or runs, key=lambda r: r.seconds)

    def _fastest(self, kind: str) -> ReproRun:
        runs: list[ReproRun] = [getattr(trial, kind) for trial in self.trials]
        return min([run for run in runs if not run.disturbed] or runs, key=lambda r: r.seconds)

    @property
    def complete(self) -> bool:
        """Every measurement has at least one undisturbed run."""
        return not any(run.disturbed for run in self._reported())

    @property
    def repro(self) -> ReproRun:
        return self._fastest("repro")

    @property
    def noop(self) -> ReproRun:
        return self._fastest("noop")

    @property
    def param_change(self) -> ReproRun:
        return self._fastest("param_change")

    @property
    def pandera(self) -> dict[str, float]:
        return {
            name: min(trial.pandera[name] for trial in self.trials)
            for name in self.trials[0].pandera
        }

    def _reported(self) -> list[OneProcessRun | ReproRun]:
        return [self.one_process, self.repro, self.noop, self.param_change]

    @property
    def other_cpu(self) -> float:
        """CPU-seconds of other processes during the measurements reported."""
        return sum(run.other_cpu for run in self._reported())

    @property
    def reported_seconds(self) -> float:
        return sum(run.seconds for run in self._reported())


def run_trial(copy: Path, csv: Path, *, bytecode: Path, label: str, max_wait: float) -> Trial:
    env = environment(copy, bytecode)
    _say(f"{label}: copying the repository to {copy}")
    copy_repository(copy, env)
    shutil.copyfile(csv, copy / RAW_PATH)
    _run(["dvc", "add", "-q", str(RAW_PATH)], cwd=copy, env=env)
    _run(["git", "add", f"{RAW_PATH}.dvc"], cwd=copy, env=env)
    _run(["git", "commit", "-q", "-m", "a synthetic raw table"], cwd=copy, env=env)
    _run(["python", "-m", "compileall", "-q", "src"], cwd=copy, env=env)
    _say(f"{label}: dvc repro")
    repro = run_repro(copy, env, max_wait=max_wait)
    if list(repro.stages) != list(STAGES):
        raise BenchmarkError(f"dvc repro ran {list(repro.stages)}, not {list(STAGES)}")
    metrics = json.loads((copy / "metrics.json").read_text())
    _say(f"{label}: dvc repro with nothing to do")
    noop = run_repro(copy, env, max_wait=max_wait)
    if noop.stages:
        raise BenchmarkError(f"a second dvc repro re-ran {list(noop.stages)}")
    _say(f"{label}: the one-process job")
    one_process = run_one_process(copy, env, max_wait=max_wait)
    _say(f"{label}: pandera's calls, in this process")
    wait_until_quiet(max_wait)
    pandera = time_pandera(copy)
    _say(f"{label}: dvc repro after a train param change")
    change_train_param(copy, env)
    param_change = run_repro(copy, env, max_wait=max_wait)
    return Trial(
        one_process=one_process,
        repro=repro,
        noop=noop,
        param_change=param_change,
        pandera=pandera,
        test_roc_auc=float(metrics["test"]["roc_auc"]),
    )


def measure(
    rows: int,
    source: pd.DataFrame,
    *,
    workspace: Path,
    seed: int,
    repeat: int,
    keep: bool,
    max_wait: float,
) -> Result:
    """`repeat` trials on one synthetic table of `rows` rows, each in a fresh copy."""
    csv = workspace / f"telco_churn_{rows}.csv"
    _say(f"{rows:,} rows: writing the synthetic table")
    synthetic_table(source, rows, seed=seed).to_csv(csv, index=False)
    result = Result(rows=rows, csv_bytes=csv.stat().st_size, trials=[])
    # At least `repeat` trials; up to twice as many while a measurement has only disturbed runs.
    number = 0
    while number < repeat or (not result.complete and number < 2 * repeat):
        number += 1
        copy = workspace / f"repo-{rows}-{number}"
        try:
            result.trials.append(
                run_trial(
                    copy,
                    csv,
                    bytecode=workspace / "bytecode",
                    label=f"{rows:,} rows, trial {number} (at least {repeat})",
                    max_wait=max_wait,
                )
            )
        finally:
            if not keep:
                shutil.rmtree(copy, ignore_errors=True)
    if not keep:
        csv.unlink()
    return result


# --- tables --------------------------------------------------------------------------------------


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (width + 1) + ("-" if i == 0 else ":") for i, width in enumerate(widths))
        + "|"
    )
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _s(seconds: float) -> str:
    return f"{seconds:.2f}"


def stage_table(repro: ReproRun) -> str:
    header = ["stage", "start-up+imports", "read", "work", "write", "exit, untimed", "process"]
    columns: list[tuple[str, ...]] = [("startup", "imports"), ("read",), ("work",), ("write",)]
    rows = []
    for name in STAGES:
        stage = repro.stages[name]
        parts = [stage.phase(*names) for names in columns]
        rows.append([name, *map(_s, parts), _s(stage.untimed), _s(stage.wall)])
    total = [sum(repro.stages[name].phase(*names) for name in STAGES) for names in columns]
    untimed = sum(repro.stages[name].untimed for name in STAGES)
    rows.append(["all stages", *map(_s, total), _s(untimed), _s(repro.stage_seconds)])
    rows.append(["DVC itself", "", "", "", "", "", _s(repro.dvc_seconds)])
    rows.append(["`dvc repro`", "", "", "", "", "", _s(repro.seconds)])
    return _markdown(header, rows)


def summary_table(result: Result) -> str:
    one = result.one_process
    base, fit_predict = one.seconds, one.fit_predict
    repro = result.repro

    def row(label: str, seconds: float) -> list[str]:
        return [label, _s(seconds), f"{seconds / base:.2f}x", f"{seconds / fit_predict:.2f}x"]

    stages = repro.stages.values()
    ran = ", ".join(result.param_change.stages)
    inside = one.inside
    return _markdown(
        ["", "seconds", "x one-process job", "x fit+predict"],
        [
            row("one-process job, interpreter start to exit", base),
            row(
                f"- inside: imports {_s(inside['imports'])}, read {_s(inside['read'])}, "
                f"clean+split {_s(inside['clean'])}",
                inside["imports"] + inside["read"] + inside["clean"],
            ),
            row("- raw fit+predict", fit_predict),
            row("`dvc repro`, five stages", repro.seconds),
            row("- stage start-up and imports", sum(s.phase("startup", "imports") for s in stages)),
            row("- stage reading and writing", sum(s.phase("read", "write") for s in stages)),
            row("- stage work", sum(s.phase("work") for s in stages)),
            row("- stage exit, untimed", sum(s.untimed for s in stages)),
            row("- DVC itself", repro.dvc_seconds),
            row("`dvc repro`, nothing to do", result.noop.seconds),
            row(f"`dvc repro` after train.seed changed (ran {ran})", result.param_change.seconds),
            row("pandera: raw + prepared validate", sum(result.pandera.values())),
        ],
    )


def targets_table(result: Result) -> str:
    ratio = result.repro.seconds / result.one_process.seconds
    share = sum(result.pandera.values()) / result.one_process.inside["fit"]
    ran = list(result.param_change.stages)

    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    return _markdown(
        ["target", "measured", ""],
        [
            [
                f"`dvc repro` at most {TARGET_REPRO_RATIO}x the one-process job",
                f"{ratio:.2f}x",
                verdict(ratio <= TARGET_REPRO_RATIO),
            ],
            [
                f"pandera's calls under {TARGET_PANDERA_SHARE:.0%} of fit "
                f"(raw {_s(result.pandera['raw'])} s, prepared {_s(result.pandera['prepared'])} s, "
                f"fit {_s(result.one_process.inside['fit'])} s)",
                f"{share:.1%}",
                verdict(share < TARGET_PANDERA_SHARE),
            ],
            [
                f"no-op `dvc repro` under {TARGET_NOOP_SECONDS:.0f} s",
                f"{_s(result.noop.seconds)} s",
                verdict(result.noop.seconds < TARGET_NOOP_SECONDS),
            ],
            [
                "a train param change re-runs only train_params, train and evaluate",
                ", ".join(ran),
                verdict(ran == ["train_params", "train", "evaluate"]),
            ],
        ],
    )


def _trial_seconds(runs: Sequence[OneProcessRun | ReproRun]) -> str:
    return ", ".join(_s(run.seconds) + ("*" if run.disturbed else "") for run in runs)


def report(result: Result) -> str:
    cores = os.cpu_count() or 1
    disturbed = result.other_cpu / (cores * result.reported_seconds)
    trials = result.trials
    auc = ", ".join(f"{trial.test_roc_auc:.4f}" for trial in trials)
    return "\n\n".join(
        [
            f"### {result.rows:,} rows ({result.csv_bytes / 1e6:.0f} MB of CSV)",
            summary_table(result),
            stage_table(result.repro),
            targets_table(result),
            f"Fastest undisturbed run of {len(trials)} trials per measurement; every trial: "
            f"`dvc repro` {_trial_seconds([t.repro for t in trials])} s, one-process job "
            f"{_trial_seconds([t.one_process for t in trials])} s (* disturbed: other "
            f"processes took over {DISTURBED_SHARE:.0%} of the machine). "
            f"Test ROC AUC of the pipeline: {auc}. "
            f"Other processes used {result.other_cpu:.1f} CPU-seconds during the reported "
            f"runs ({disturbed:.1%} of the {cores} cores)"
            + ("." if result.complete else ": **disturbed, run again on a quieter machine**."),
        ]
    )


def machine() -> str:
    import lightgbm

    return (
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"pandas {pd.__version__}, LightGBM {lightgbm.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="table sizes"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic table")
    parser.add_argument(
        "--repeat", type=int, default=1, help="trials per size; the fastest of each is reported"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=300.0,
        help="seconds to wait for other processes to go quiet before each measurement",
    )
    args = parser.parse_args(argv)

    from churn.fetch_data import export_source

    workspace = Path(tempfile.mkdtemp(prefix="churn-benchmark-"))
    try:
        _say("exporting the real table as the source of synthetic rows")
        source = export_source()
        _say("warming up: compiling bytecode, filling the page cache")
        warm_up(environment(ROOT, workspace / "bytecode"))
        print(f"Machine: {machine()}\n", flush=True)
        for rows in args.rows:
            result = measure(
                rows,
                source,
                workspace=workspace,
                seed=args.seed,
                repeat=args.repeat,
                keep=args.keep,
                max_wait=args.max_wait,
            )
            print(report(result) + "\n", flush=True)
    except BenchmarkError as error:
        print(f"benchmark: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            _say(f"kept {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
