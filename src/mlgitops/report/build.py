"""Put the report together: DVC's diffs, the plots, data, stages, headline and pipeline outcome.

`build_report` returns the report.json data (schema_version 1, see docs/pr-loop.md);
`write_report` writes the report directory: the chosen format, report.json beside a
markdown file, images/ and the interactive plots page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.params import read_params
from mlgitops.policy import MetricRule
from mlgitops.report import data as data_changes
from mlgitops.report import dvc_diff, plot_collect, stages
from mlgitops.report.evidence import build_evidence
from mlgitops.report.gap import GAP_WIDENING
from mlgitops.report.headline import build_headline
from mlgitops.report.markdown import render_markdown
from mlgitops.report.pipeline import read_repro_log
from mlgitops.report.plots import image_name, render_plot
from mlgitops.settings import GatePolicy, parse_settings
from mlgitops.settings.report import ReportSettings

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
INTERACTIVE_PAGE = "interactive/index.html"


@dataclass(frozen=True)
class ReportRequest:
    """What to compare and where to put pictures; `images_dir` None draws none."""

    base: str
    head: str | None = None
    all: bool = False
    params: Path = Path("params.yaml")
    repro_log: Path | None = None
    images_dir: Path | None = None


def build_report(request: ReportRequest, repo_path: Path | None = None) -> dict[str, Any]:
    """The report of `request` for the DVC repository at `repo_path` (default: the cwd).

    Raises UsageError for an unknown revision, a directory outside a DVC repository, an
    unreadable repro log or a malformed gate policy.
    """
    pipeline = read_repro_log(request.repro_log)
    loaded = read_params(request.params) if request.params.is_file() else {}
    rules = _policy(loaded, request.params)
    settings = _report_settings(loaded, request.params)
    with dvc_diff.open_repo(repo_path) as repo:
        revs = dvc_diff.resolve_revisions(repo, request.base, request.head)
        logger.info("report: %s (%s) against %s", revs.head, revs.head_sha[:7], revs.base)
        metrics = dvc_diff.diff_metrics(repo, revs, all_=request.all)
        params = dvc_diff.diff_params(repo, revs, all_=request.all)
        plots = _plots(repo, revs, request.images_dir)
        data = _data(repo, revs)
        changed = _stages(repo, revs)
        evidence = build_evidence(repo, revs, settings, rules, metrics.full)
    return {
        "schema_version": SCHEMA_VERSION,
        "base": {"rev": revs.base, "sha": revs.base_sha},
        "head": {"rev": revs.head, "sha": revs.head_sha, "workspace": revs.workspace},
        "metrics": _by_name(metrics.diff),
        "params": _by_name(params.diff),
        "metrics_errors": metrics.errors,
        "headline": build_headline(rules, metrics.full),
        "plots": plots,
        "data": data,
        "stages": changed,
        "pipeline": pipeline,
        "evidence": evidence,
    }


def _by_name(diff: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Files and keys by name: DVC's order varies between runs, report.json must not."""
    return {path: dict(sorted(diff[path].items())) for path in sorted(diff)}


def _policy(loaded: dict[str, Any], params: Path) -> list[MetricRule]:
    """The gate rules for the headline; a repository without a policy gets no headline."""
    if "gate" not in loaded:
        logger.info("report: no headline, %s has no 'gate' section", params)
        return []
    return parse_settings(GatePolicy, loaded, source=str(params), section="gate").root


def _report_settings(loaded: dict[str, Any], params: Path) -> ReportSettings:
    """params.yaml `report`; without it, every default (and no predictions declared)."""
    if "report" not in loaded:
        return ReportSettings()
    settings = parse_settings(ReportSettings, loaded, source=str(params), section="report")
    if settings.predictions is None:
        return settings
    declared = settings.predictions.resolved(loaded, str(params))
    return settings.model_copy(update={"predictions": declared})


def _plots(repo: Any, revs: dvc_diff.Revisions, images_dir: Path | None) -> list[dict[str, Any]]:
    plots, renderers = plot_collect.collect_plots(repo, revs)
    taken: set[str] = set()
    records = []
    for plot in plots:
        image = None
        if images_dir is not None:
            name = image_name(plot.id, taken)
            render_plot(plot, images_dir / name)
            image = f"{images_dir.name}/{name}"
        records.append({"id": plot.id, "title": plot.title, "image": image})
    if images_dir is not None and renderers:
        plot_collect.write_interactive(renderers, images_dir.parent / INTERACTIVE_PAGE)
    return records


def _data(repo: Any, revs: dvc_diff.Revisions) -> list[dict[str, Any]]:
    entries = data_changes.changed_inputs(
        dvc_diff.diff_data(repo, revs), dvc_diff.input_roots(repo, revs)
    )
    if not entries:
        return []
    base_fs = dvc_diff.file_system(repo, revs.base_sha)
    head_fs = dvc_diff.file_system(repo, None if revs.workspace else revs.head_sha)
    return data_changes.describe_changes(entries, base_fs, head_fs)


def _stages(repo: Any, revs: dvc_diff.Revisions) -> list[dict[str, Any]]:
    base_lock: dict[str, dict[str, Any]] = {}
    head_lock: dict[str, dict[str, Any]] = {}
    head_sha = None if revs.workspace else revs.head_sha
    for lock in dvc_diff.lock_files(repo):
        base_lock |= stages.parse_lock(dvc_diff.read_text_at(repo, revs.base_sha, lock), lock)
        head_lock |= stages.parse_lock(dvc_diff.read_text_at(repo, head_sha, lock), lock)
    return stages.changed_stages(base_lock, head_lock, dvc_diff.workspace_status(repo, revs))


def write_report(
    report: dict[str, Any],
    out: Path,
    fmt: str,
    *,
    artifact_url: str | None = None,
    gap_widening: float = GAP_WIDENING,
) -> list[Path]:
    """Write `report` to `out` in `fmt` (md also writes the .json beside it); the files written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out]
    if fmt == "json":
        out.write_text(to_json(report))
        return written
    out.write_text(render_markdown(report, artifact_url=artifact_url, gap_widening=gap_widening))
    data_path = out.with_suffix(".json")
    if data_path != out:
        data_path.write_text(to_json(report))
        written.append(data_path)
    return written


def to_json(report: dict[str, Any]) -> str:
    """report.json text: indented, NaN kept as DVC's `--json` keeps it."""
    return json.dumps(report, indent=2, allow_nan=True) + "\n"
