"""`mlgitops drift`: the logged requests against the training reference, with a verdict.

Exit 0 no drift (or not enough rows to judge), 3 retraining due, 2 bad input (reference or
logs unreadable, lines broken, columns missing).
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from mlgitops.drift.policy import DriftPolicy, load_policy
from mlgitops.errors import DriftFoundError, UsageError
from mlgitops.plugin import PARAMS, params_option, plugin_app

if TYPE_CHECKING:
    from mlgitops.drift.compare import DriftResult

_PROGRESS_BYTES = 64 * 1024 * 1024  # below this a bar would only flicker


def run_drift(
    *,
    reference_path: Path,
    current: Path,
    out: Path,
    policy: DriftPolicy,
    console: Console | None = None,
) -> DriftResult:
    """Compares, writes DIR/drift.json, drift.md and a PNG per drifted column; returns the result.

    Raises UsageError for bad input; never DriftFoundError (the command decides the exit).
    """
    # Imported here: pandas, scipy and numpy cost every other `mlgitops` command over a second.
    from mlgitops.drift.compare import compare
    from mlgitops.drift.logs import LogReader, log_files
    from mlgitops.drift.plots import image_name, save_plot
    from mlgitops.drift.reference import load_reference
    from mlgitops.drift.report import to_json, to_markdown

    console = console or Console(stderr=True, quiet=True)
    reference = load_reference(reference_path, policy)
    files = log_files(current)
    reader = LogReader(
        files,
        types={spec.name: spec.value_type for spec in reference.features},
        categorical=frozenset(s.name for s in reference.features if s.kind == "categorical"),
        score=reference.score.name if reference.score is not None else None,
        chunk_rows=policy.chunk_rows,
        ignore=frozenset(policy.ignore),
    )
    total = sum(path.stat().st_size for path in files)
    started = time.perf_counter()
    with _progress(console, total) as advance, _gc_paused():
        result = compare(reference, reader.chunks(advance), policy)
    if reader.bad_count:
        shown = "\n".join(f"  {bad}" for bad in reader.bad)
        raise UsageError(
            f"drift: {reader.bad_count} bad line(s) in the request log; the first:\n{shown}\n"
            "fix or remove them (each line is one JSON object with `inputs` and `outputs`)"
        )
    console.print(
        f"drift: compared {result.rows:,} rows from {len(files)} file(s) in "
        f"{time.perf_counter() - started:.1f} s",
        highlight=False,
        markup=False,
    )
    images = {
        feature.name: image_name(feature.name) for feature in result.features if feature.drifted
    }
    data = to_json(result, policy, reference=reference_path, current=files, images=images)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for feature in result.features:
            if feature.drifted:
                save_plot(feature, out)
        (out / "drift.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        (out / "drift.md").write_text(to_markdown(result, policy, images=images), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"drift: cannot write the report to {out} ({error}); pass --out") from None
    return result


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while reading: parsing makes millions of short-lived dicts
    and no cycles, and the collector's passes over them cost a third of the time (measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _progress(console: Console, total: int) -> Iterator[Callable[[int], None]]:
    """A byte progress bar on a terminal for big inputs; elsewhere a no-op."""
    if not console.is_terminal or total < _PROGRESS_BYTES:
        yield lambda _: None
        return
    columns = (
        "{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("reading request logs", total=total)
        yield lambda size: progress.advance(task, size)


app = plugin_app(
    "Compare logged requests with the training reference: exit 0 no drift, 3 retraining due, "
    "2 bad input."
)


@app.callback(invoke_without_command=True)
def drift(
    reference: Annotated[
        Path,
        typer.Option("--reference", help="Training rows (CSV or Parquet), with the score column."),
    ],
    current: Annotated[
        Path,
        typer.Option(
            "--current", help="A request log, or a directory of requests-worker*.jsonl* files."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Where drift.json, drift.md and the pictures go.")
    ] = Path("drift-report"),
    params: Annotated[Path, params_option("drift")] = PARAMS,
) -> None:
    """Compare logged requests with the training reference."""
    console = Console(stderr=True)
    policy = load_policy(params)
    result = run_drift(
        reference_path=reference, current=current, out=out, policy=policy, console=console
    )
    where = f"report in {out}/drift.md"
    if not result.judged:
        console.print(
            f"drift: not enough rows ({result.rows:,} < drift.min_rows "
            f"{policy.min_rows:,}); {where}",
            highlight=False,
            markup=False,
        )
        return
    if result.retraining_due:
        raise DriftFoundError(
            f"drift: retraining due; drifted: {', '.join(result.drifted)}; {where}"
        )
    console.print(
        f"drift: no drift over {result.rows:,} rows; {where}", highlight=False, markup=False
    )
