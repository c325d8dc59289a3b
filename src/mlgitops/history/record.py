"""The delivery record of a branch: metrics at each merge, the events, the measures, the gaps.

`build_record` gathers; `record_json` is the `--format json` document (schema_version 1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlgitops.errors import NotFoundError
from mlgitops.history.commits import branch_commits, first_commit_times
from mlgitops.history.github import Deployment, HistoryClient, Pull
from mlgitops.history.measures import Measure, Window, delivery_measures
from mlgitops.history.metrics import Point, declared_metrics, metrics_at
from mlgitops.history.settings import HistorySettings

logger = logging.getLogger(__name__)


@dataclass
class Record:
    branch: str
    window: Window
    points: list[Point]
    metrics: list[str]  # the names charted, in order
    releases: dict[str, str] = field(default_factory=dict)  # sha -> "success"|"rolled back"|...
    retraining: set[str] = field(default_factory=set)  # merge shas of retraining PRs
    pulls: dict[str, int] = field(default_factory=dict)  # merge sha -> PR number
    measures: list[Measure] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # one line each: what could not be read


def build_record(
    root: Path,
    settings: HistorySettings,
    window: Window,
    *,
    branch: str,
    client: HistoryClient | None,
    repo: str | None,
) -> Record:
    """Reads git, DVC and (when `client`) GitHub; what cannot be read is listed in `missing`."""
    everything = branch_commits(root, branch, until=window.until)
    shown = [commit for commit in everything if window.holds(commit.committed)]
    files = declared_metrics(root)
    points = metrics_at(root, shown, files)
    names = sorted({name for point in points for name in point.values})
    wanted = [n for n in settings.metrics if n in names] if settings.metrics else names
    record = Record(branch, window, points, wanted)
    if not files:
        record.missing.append("metrics: dvc.yaml declares no metrics file")
    unknown = [n for n in settings.metrics if n not in names]
    if unknown and points:
        record.missing.append(
            f"metrics: no commit in the window has {', '.join(unknown)} (params.yaml "
            f"history.metrics); present: {', '.join(names) or 'none'}"
        )
    lacking = [p for p in points if p.missing]
    if lacking:
        record.missing.append(
            f"metrics: {len(lacking)} of {len(points)} commits have no readable metrics "
            "(shown as gaps, not zeros)"
        )
    pulls: list[Pull] | None = None
    deployments: list[Deployment] | None = None
    drift: list[tuple[datetime, bool]] | None = None
    why = "no GitHub repository given (--repo): PRs, deployments and drift checks not read"
    if client is not None and repo is not None:  # a refusal is an error, not a gap (exit 1)
        pulls = client.list_all_pulls(repo, since=window.since)
        deployments = client.list_deployments(repo, settings.environment, since=window.since)
        drift = _drift(client, repo, settings, window)
    if pulls is None or deployments is None:
        record.missing.append(f"delivery: {why}")
    else:
        if not deployments:
            record.missing.append(
                f"delivery: no deployments to '{settings.environment}' recorded in GitHub; "
                "release.yml records each release (docs/history.md)"
            )
        _events(record, pulls, deployments, settings)
    first_times = first_commit_times(root, everything) if pulls else {}
    record.measures = delivery_measures(
        window,
        everything,
        pulls,
        deployments,
        first_commit=lambda commit: first_times.get(commit.sha),
        labels={
            "gate_label": settings.gate_label,
            "retrain_label": settings.retrain_label,
            "drift_workflow": settings.drift_workflow,
            "drift_job": settings.drift_job,
        },
        drift=drift,
        missing_github="not measured: GitHub was not read (see Missing above)",
    )
    return record


def _drift(
    client: HistoryClient, repo: str, settings: HistorySettings, window: Window
) -> list[tuple[datetime, bool]] | None:
    """The drift checks' runs; None when the workflow does not exist (a repository without)."""
    try:
        return client.drift_checks(repo, settings.drift_workflow, settings.drift_job, window.since)
    except NotFoundError:
        return None


def _events(
    record: Record, pulls: list[Pull], deployments: list[Deployment], settings: HistorySettings
) -> None:
    for pull in pulls:
        if pull.merge_sha:
            record.pulls[pull.merge_sha] = pull.number
            if settings.retrain_label in pull.labels:
                record.retraining.add(pull.merge_sha)
    for deployment in deployments:
        outcome = deployment.outcome
        if outcome is None:
            state = "no status"
        elif outcome.rolled_back:
            state = "rolled back"
        else:
            state = outcome.state
        record.releases[deployment.sha] = state


def record_json(record: Record) -> dict[str, Any]:
    """The record as JSON: null where a value is missing, with the reason beside it."""
    return {
        "schema_version": 1,
        "branch": record.branch,
        "window": {"since": _iso(record.window.since), "until": _iso(record.window.until)},
        "metrics": record.metrics,
        "merges": [
            {
                "sha": point.commit.sha,
                "at": _iso(point.commit.committed),
                "subject": point.commit.subject,
                "pr": record.pulls.get(point.commit.sha),
                "metrics": {name: point.values.get(name) for name in record.metrics},
                "missing": point.missing,
                "release": record.releases.get(point.commit.sha),
                "retraining": point.commit.sha in record.retraining,
            }
            for point in record.points
        ],
        "measures": {
            m.name: {
                "value": m.value,
                "unit": m.unit,
                "count": m.count,
                "definition": m.definition,
                "note": m.note,
                "details": m.details,
            }
            for m in record.measures
        },
        "missing": record.missing,
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
