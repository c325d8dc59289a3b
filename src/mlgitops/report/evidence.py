"""report.json `evidence`: is each metric's change real, and where does it hurt?

The per-row predictions that params.yaml `report.predictions` declares are read at the base and
at the head through DVC's file system (a base's DVC output comes from the cache or the remote,
as `report/data.py` reads data). Rows are paired on the id column; when both sides scored the
same rows (same ids, same labels) the intervals are paired, else unpaired and the note says
why. Status: paired, unpaired, undeclared (nothing declared: the note says what to declare) or
unavailable (declared but unreadable: the note says what failed). Nothing here raises for a bad
file; a missing `stats` extra does (exit 2, with the pip command).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path, PurePath
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.extras import require
from mlgitops.policy import MetricRule
from mlgitops.report import dvc_diff
from mlgitops.report.metrics import DIRECTION
from mlgitops.settings.report import PredictionsSettings, ReportSettings

logger = logging.getLogger(__name__)

UNDECLARED_NOTE = (
    "No per-row predictions declared, so no intervals: declare the evaluation rows' file in "
    "params.yaml `report.predictions` (path, id, label, score) to see whether each change is "
    "real (docs/pr-loop.md)."
)
_NO_ROWS = {"base": None, "head": None, "shared": None}


class UnavailableError(Exception):
    """Raised while reading or pairing declared predictions that cannot be compared; its
    message is the evidence's note."""


def build_evidence(
    repo: Any,
    revs: dvc_diff.Revisions,
    settings: ReportSettings,
    rules: list[MetricRule],
    metrics_full: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The `evidence` record of report.json (shape in docs/pr-loop.md)."""
    declared = settings.predictions
    boot = settings.bootstrap
    record: dict[str, Any] = {
        "status": "undeclared",
        "note": UNDECLARED_NOTE,
        "rows": dict(_NO_ROWS),
        "bootstrap": {
            "resamples": boot.resamples,
            "seed": boot.seed,
            "confidence": boot.confidence,
        },
        "metrics": {},
        "slices": [],
        "folded": [],
        "smallest_slice_rows": None,
        "worst_slice": None,
    }
    if declared is None:
        return record
    require("report", "stats")  # scipy: the intervals' quantiles, DeLong's normal tail
    started = time.perf_counter()
    try:
        record |= _compare(
            repo, revs, settings, declared, _metric_keys(declared, rules, metrics_full)
        )
    except (UnavailableError, UsageError) as error:
        logger.warning("report: no intervals: %s", error)
        record |= {"status": "unavailable", "note": f"No intervals: {error}"}
    logger.info("report: evidence %s in %.2f s", record["status"], time.perf_counter() - started)
    return record


def _metric_keys(
    declared: PredictionsSettings, rules: list[MetricRule], metrics_full: dict[str, dict[str, Any]]
) -> list[Any]:
    """The metrics file's `<split>.<statistic>` keys the statistics recompute, gated ones
    first (in the gate's order), then the others by name."""
    from mlgitops.report.evidence_records import MetricKey

    wanted = PurePath(declared.metrics_file).as_posix()
    keys = [
        key
        for path, entries in metrics_full.items()
        if PurePath(path).as_posix() == wanted
        for key in entries
    ]
    gated = [rule.metric for rule in rules if rule.metric in keys]
    prefix = f"{declared.split}."
    chosen = [
        MetricKey(key, key.removeprefix(prefix), declared.metrics_file)
        for key in dict.fromkeys([*gated, *sorted(keys)])  # DVC's order varies between runs
        if key.startswith(prefix) and key.removeprefix(prefix) in DIRECTION
    ]
    if not chosen:
        raise UnavailableError(
            f"{declared.metrics_file} has no `{prefix}<metric>` key the report can recompute "
            f"from (label, score) (known metrics: {', '.join(sorted(DIRECTION))})"
        )
    return chosen


def _compare(
    repo: Any,
    revs: dvc_diff.Revisions,
    settings: ReportSettings,
    declared: PredictionsSettings,
    metrics: list[Any],
) -> dict[str, Any]:
    from mlgitops.report.evidence_read import Workspace, pair_sides, read_predictions
    from mlgitops.report.evidence_records import compare
    from mlgitops.report.slices import compare_slices
    from mlgitops.report.stats import Bootstrap

    threshold = declared.threshold
    if isinstance(threshold, str):  # build.py looks a key up; a caller that did not, gets this
        raise UnavailableError(f"report.predictions.threshold `{threshold}` was not looked up")
    base_fs = dvc_diff.file_system(repo, revs.base_sha)
    base = read_predictions(base_fs, declared, settings.slices, side="base")
    # the workspace's file is on disk: no DVC index to build to read it
    local = Path(repo.root_dir) / declared.path
    workspace = revs.workspace and local.is_file()
    head_fs = Workspace(Path(repo.root_dir)) if workspace else None
    head_fs = head_fs or dvc_diff.file_system(repo, None if revs.workspace else revs.head_sha)
    head = read_predictions(head_fs, declared, settings.slices, side="head")
    comparison, rows, missing = pair_sides(base, head, declared, settings.slices)
    boot = settings.bootstrap
    bootstrap = Bootstrap(resamples=boot.resamples, seed=boot.seed, confidence=boot.confidence)
    records = compare(comparison, metrics, threshold=threshold, bootstrap=bootstrap)
    columns = [column for column in settings.slices if column not in missing]
    sliced = compare_slices(
        comparison,
        columns,
        metrics,
        min_rows=settings.min_slice_rows,
        threshold=threshold,
        bootstrap=bootstrap,
    )
    note = _note(comparison.paired, rows, declared, bootstrap)
    if missing:
        note += f" Slice column(s) {', '.join(missing)} not in {declared.path}: not sliced."
    return {
        "status": "paired" if comparison.paired else "unpaired",
        "note": note,
        "rows": rows,
        "metrics": records,
        **sliced,
    }


def _note(paired: bool, rows: dict[str, int], declared: PredictionsSettings, boot: Any) -> str:
    share = f"{boot.confidence:.0%} intervals from {boot.resamples:,} bootstrap resamples"
    if paired:
        return (
            f"Base and head scored the same {rows['shared']:,} rows ({declared.path}): paired "
            f"{share} (seed {boot.seed})."
        )
    return (
        f"Base and head scored different rows ({declared.path}: base {rows['base']:,}, head "
        f"{rows['head']:,}, {rows['shared']:,} shared; new data or a new split?), so each side is "
        f"resampled on its own: unpaired {share}, wider than a paired comparison's."
    )
