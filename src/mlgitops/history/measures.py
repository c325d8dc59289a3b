"""The delivery measures over a window, each with its one-line definition.

Computed from GitHub's record (pull requests, deployments and their statuses) and git (which
commits a deployment carried, when a PR's first commit was made). A measure with nothing to
stand on has `value` None and says what is missing: never a zero that was not measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mlgitops.history.commits import Commit
from mlgitops.history.github import Deployment, Pull

DEFINITIONS = {
    "deployment_frequency": "successful deployments per week: deployments whose final status "
    "is success, set in the window, divided by the window's weeks",
    "lead_time_hours": "median hours from a merged PR's first commit to the first successful "
    "deployment of a commit that contains its merge",
    "change_failure_rate": "share of the window's deployments with an outcome whose final status "
    "is failure or error (a rollback is a failure)",
    "time_to_restore_hours": "median hours from a failed deployment's failure status to the next "
    "successful deployment's success status",
    "rollbacks": "deployments whose failure status says the release was rolled back",
    "gate_stopped": "PRs opened in the window that the quality gate failed at least once "
    "(labelled {gate_label})",
    "retraining_opened": "retraining PRs (labelled {retrain_label}) opened in the window",
    "retraining_merged": "retraining PRs merged in the window",
    "drift_found": "drift checks (runs of {drift_workflow}) in the window that found drift: "
    "its job '{drift_job}', which runs only then, ran",
}
UNITS = {
    "deployment_frequency": "per week",
    "lead_time_hours": "h",
    "change_failure_rate": "",
    "time_to_restore_hours": "h",
}


@dataclass
class Measure:
    name: str
    definition: str
    value: float | None
    unit: str = ""
    count: int | None = None  # how many events it stands on
    note: str = ""  # what is missing, or what was left out
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.since <= moment <= self.until

    @property
    def weeks(self) -> float:
        return (self.until - self.since).total_seconds() / (7 * 86400)


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def delivery_measures(
    window: Window,
    commits: Sequence[Commit],
    pulls: Sequence[Pull] | None,
    deployments: Sequence[Deployment] | None,
    *,
    first_commit: Callable[[Commit], datetime | None],
    labels: dict[str, str],
    drift: Sequence[tuple[datetime, bool]] | None = None,
    missing_github: str = "",
) -> list[Measure]:
    """Every measure; `pulls`/`deployments` None when GitHub was not asked (`missing_github`);
    `labels` fill the definitions (gate_label, retrain_label, drift_workflow, drift_job)."""
    defs = {k: v.format(**labels) for k, v in DEFINITIONS.items()}
    measures = {name: Measure(name, text, None, UNITS.get(name, "")) for name, text in defs.items()}
    if deployments is None or pulls is None:
        for measure in measures.values():
            measure.note = missing_github
        return list(measures.values())
    _deploy_measures(measures, window, commits, pulls, deployments, first_commit)
    _pull_measures(measures, window, pulls, labels["gate_label"], labels["retrain_label"])
    checks = [found for at, found in drift or [] if window.holds(at)]
    drift_found = measures["drift_found"]
    if checks:
        drift_found.value, drift_found.count = float(sum(checks)), len(checks)
        drift_found.note = f"{sum(checks)} of {len(checks)} checks"
    else:
        drift_found.note = f"no run of {labels['drift_workflow']} in the window"
    return list(measures.values())


def _deploy_measures(
    measures: dict[str, Measure],
    window: Window,
    commits: Sequence[Commit],
    pulls: Sequence[Pull],
    deployments: Sequence[Deployment],
    first_commit: Callable[[Commit], datetime | None],
) -> None:
    if not deployments:
        for name in ("deployment_frequency", "lead_time_hours", "change_failure_rate",
                     "time_to_restore_hours", "rollbacks"):  # fmt: skip
            measures[name].note = "no deployments recorded in GitHub (release.yml records them)"
        return
    in_window = [d for d in deployments if window.holds(d.created)]
    silent = [d for d in in_window if d.outcome is None]
    decided = [d for d in in_window if d.outcome is not None]
    no_outcome = (
        f"{len(silent)} deployment(s) without a final status left out: "
        + ", ".join(f"#{d.id} ({d.sha[:7]})" for d in silent)
        if silent
        else ""
    )
    successes = [d for d in deployments if d.outcome is not None and d.outcome.state == "success"]
    ok_in_window = [d for d in successes if window.holds(d.outcome.at if d.outcome else None)]
    frequency = measures["deployment_frequency"]
    frequency.count, frequency.value = len(ok_in_window), round(len(ok_in_window) / window.weeks, 3)
    failures = [d for d in decided if d.outcome is not None and d.outcome.state != "success"]
    rate = measures["change_failure_rate"]
    rate.note = no_outcome
    rate.count = len(decided)
    rate.value = round(len(failures) / len(decided), 3) if decided else None
    if not decided:
        rate.note = "no deployment in the window has an outcome; " + no_outcome
    rollbacks = measures["rollbacks"]
    rollbacks.value = float(sum(1 for d in decided if d.outcome and d.outcome.rolled_back))
    rate.details = [_said(d) for d in failures]
    rollbacks.details = [_said(d) for d in failures if d.outcome and d.outcome.rolled_back]
    rollbacks.note = no_outcome
    _restore(measures["time_to_restore_hours"], failures, successes)
    _lead_time(measures["lead_time_hours"], window, commits, pulls, successes, first_commit)


def _said(deployment: Deployment) -> str:
    said = deployment.outcome.description if deployment.outcome else ""
    return f"#{deployment.id} {deployment.sha[:7]}: {said}"


def _restore(measure: Measure, failures: list[Deployment], successes: list[Deployment]) -> None:
    spans, open_ = [], []
    for failed in failures:
        assert failed.outcome is not None
        broke = failed.outcome.at
        later = [d.outcome.at for d in successes if d.outcome is not None and d.outcome.at > broke]
        if later:
            spans.append(_hours(broke, min(later)))
        else:
            open_.append(f"#{failed.id} ({failed.sha[:7]}) not restored yet")
    measure.count = len(spans)
    measure.value = round(statistics.median(spans), 2) if spans else None
    measure.details = [f"{h} h" for h in spans] + open_
    if not failures:
        measure.note = "no failed deployment in the window"


def _lead_time(
    measure: Measure,
    window: Window,
    commits: Sequence[Commit],
    pulls: Sequence[Pull],
    successes: list[Deployment],
    first_commit: Callable[[Commit], datetime | None],
) -> None:
    index = {commit.sha: position for position, commit in enumerate(commits)}
    served = sorted(
        ((d.outcome.at, index[d.sha]) for d in successes if d.outcome and d.sha in index),
    )
    spans, waiting = [], []
    for pull in pulls:
        if not window.holds(pull.merged) or pull.merge_sha not in index:
            continue
        at = index[pull.merge_sha]
        first = first_commit(commits[at]) or pull.created
        serving = [moment for moment, position in served if position >= at and moment >= first]
        if serving:
            spans.append(_hours(first, serving[0]))
        else:
            waiting.append(f"#{pull.number} not serving yet")
    measure.count = len(spans)
    measure.value = round(statistics.median(spans), 2) if spans else None
    measure.details = waiting
    if not spans:
        measure.note = "no merged PR in the window reached a successful deployment"


def _pull_measures(
    measures: dict[str, Measure],
    window: Window,
    pulls: Sequence[Pull],
    gate_label: str,
    retrain_label: str,
) -> None:
    def numbers(chosen: list[Pull]) -> list[str]:
        return [f"#{p.number} {p.title}" for p in chosen]

    stopped = [p for p in pulls if window.holds(p.created) and gate_label in p.labels]
    opened = [p for p in pulls if window.holds(p.created) and retrain_label in p.labels]
    merged = [p for p in pulls if window.holds(p.merged) and retrain_label in p.labels]
    for name, chosen in (("gate_stopped", stopped), ("retraining_opened", opened),
                         ("retraining_merged", merged)):  # fmt: skip
        measures[name].value = float(len(chosen))
        measures[name].count = len(chosen)
        measures[name].details = numbers(chosen)
