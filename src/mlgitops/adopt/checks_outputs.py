"""Doctor checks on declared outputs: metrics and plots kept in git, gate metrics written.

The report reads the base revision's metrics and plots from git alone (`cache: false`); a
cached metrics file exists only in the DVC cache, which the base revision's CI run may never
have pushed. The gate judges metrics by name: a name no stage writes fails every pull request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from mlgitops.adopt.context import Context, relative_to
from mlgitops.adopt.findings import Finding
from mlgitops.adopt.repository import read_values
from mlgitops.errors import UsageError

_SECTIONS = {"metric": "metrics", "plot": "plots", "out": "outs"}


def check_cached_reports(ctx: Context) -> Iterator[Finding]:
    """Every metrics or plots file (stage-level, or top-level naming a stage's output) that DVC
    caches instead of git."""
    repo = ctx.repository
    stages = {stage.address: stage for stage in repo.stages}
    wanted: dict[tuple[str, str], str] = {}  # (stage, path) -> "metrics" | "plots"
    for metric in repo.metrics:
        if metric.cached and metric.stage is not None:
            wanted.setdefault((metric.stage, metric.path), "metrics")
    for plot in repo.plots:
        if plot.cached and plot.stage is not None:
            for file in plot.files:
                wanted.setdefault((plot.stage, file), "plots")
    for (address, path), kind in wanted.items():
        stage = stages[address]
        out = next((out for out in stage.outs if out.path == path and out.cached), None)
        if out is None:
            continue  # a top-level plot's other file, written uncached or by another stage
        section = _SECTIONS[out.kind]
        yield Finding(
            "cached-" + kind,
            "error",
            stage.dvcfile,
            ctx.output_line(stage, section, path),
            f"{path} is declared as {kind} of stage '{address}' but DVC caches it",
            f"the report reads the base revision's {kind} from git; a cached file is only in "
            "the DVC cache, so the comparison has no base and shows the file as new",
            f"set `cache: false` on it in {stage.dvcfile} (`- {relative_to(path, stage.wdir)}:`"
            f" then `cache: false`), run `dvc repro {address}` and commit the file with dvc.lock",
        )


def check_gate_metrics(ctx: Context, params: Path) -> Iterator[Finding]:
    """Each `gate:` rule's metric is a key of a metrics file some stage writes."""
    rel = params.as_posix()
    parsed = ctx.yaml(rel)
    if parsed is None or not isinstance(parsed.data, dict):
        return
    rules = parsed.data.get("gate")
    if not isinstance(rules, list):
        return
    written = {m.path: m for m in ctx.repository.metrics if m.stage is not None}
    values = {path: _read(ctx, path) for path in written}
    why = (
        "the gate finds each rule's metric in the report by name; a metric no stage writes is "
        "missing at head on every pull request, so the gate fails them all"
    )
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("metric"), str):
            continue  # `mlgitops gate` explains a malformed rule itself
        metric, file = rule["metric"], rule.get("file")
        line = parsed.line("gate", index, "metric")
        problem = _gate_problem(metric, file, values)
        if problem is not None:
            yield Finding("gate-metric", "error", rel, line, problem[0], why, problem[1])


def _gate_problem(
    metric: str, file: Any, values: dict[str, dict[str, object] | None]
) -> tuple[str, str] | None:
    """(message, fix) when the metric is not written; None when it is or cannot be known."""
    keys = ", ".join(f"`{path}`" for path in values) or "none"
    if isinstance(file, str):
        path = PurePosixPath(file).as_posix()
        if path not in values:
            return (
                f"gate metric {metric} names file {file}, which no stage declares as metrics "
                f"(declared: {keys})",
                f"declare {file} under a stage's `metrics:` in dvc.yaml, or fix `file:`",
            )
        found = values[path]
        if found is None or metric in found:
            return None  # not reproduced here yet: the pipeline's own run will say
        return (
            f"gate metric {metric} is not a key of {file} ({_some(found)})",
            f"write {metric} from the stage that writes {file}, or name an existing key",
        )
    if not values:
        return (
            f"gate metric {metric}: no stage declares a metrics file",
            "declare the stage's metrics file under `metrics:` with `cache: false` in dvc.yaml",
        )
    if any(found is None or metric in found for found in values.values()):
        return None
    seen = "; ".join(f"{path}: {_some(found or {})}" for path, found in values.items())
    return (
        f"gate metric {metric} is in none of the metrics files stages write ({seen})",
        "write it from the evaluating stage, or change the rule's `metric:` to a key "
        "`dvc metrics show` lists",
    )


def _read(ctx: Context, path: str) -> dict[str, object] | None:
    try:
        return read_values(ctx.root, path)
    except UsageError:
        return None  # unreadable: `dvc metrics show` and the report say why


def _some(found: dict[str, object]) -> str:
    names = sorted(found)
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"its keys: {shown}" if names else "it has no keys"
