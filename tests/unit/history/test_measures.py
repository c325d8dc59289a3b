"""Edges of the delivery measures, on hand-made records: what is not there yet is said, never
counted as zero. (The full scripted history is tests/e2e/test_history.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

from mlgitops.history.commits import Commit
from mlgitops.history.github import Deployment, Pull, Status
from mlgitops.history.measures import Measure, Window, delivery_measures

LABELS = {"gate_label": "gate-failed", "retrain_label": "retraining",
          "drift_workflow": "retrain.yml", "drift_job": "retraining PR"}  # fmt: skip
WINDOW = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC))


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


COMMITS = [Commit(f"{n:040x}", ("p", "q"), _at(n + 1, 12), f"merge {n}") for n in range(3)]


def _measures(deployments: list[Deployment], pulls: list[Pull]) -> dict[str, Measure]:
    found = delivery_measures(
        WINDOW, COMMITS, pulls, deployments,
        first_commit=lambda commit: _at(1, 0), labels=LABELS, drift=[],
    )  # fmt: skip
    return {m.name: m for m in found}


def test_a_failure_not_yet_restored_and_a_pr_not_yet_serving_are_said() -> None:
    status = Status("failure", _at(3, 14), "rolled back: step smoke failed")
    failed = Deployment(1, COMMITS[2].sha, "production", _at(3, 13), (status,))
    pull = Pull(7, "change", _at(3, 1), _at(3, 12), COMMITS[2].sha, frozenset())
    measures = _measures([failed], [pull])
    restore = measures["time_to_restore_hours"]
    assert restore.value is None and restore.details == ["#1 (0000000) not restored yet"]
    lead = measures["lead_time_hours"]
    assert lead.value is None and lead.details == ["#7 not serving yet"]
    assert measures["change_failure_rate"].value == 1.0
    assert measures["rollbacks"].value == 1.0
    assert measures["deployment_frequency"].value == 0.0  # measured: none succeeded
    assert measures["drift_found"].value is None
    assert "no run of retrain.yml" in measures["drift_found"].note


def test_without_deployments_nothing_about_them_is_a_number() -> None:
    measures = _measures([], [])
    for name in ("deployment_frequency", "lead_time_hours", "change_failure_rate",
                 "time_to_restore_hours", "rollbacks"):  # fmt: skip
        assert measures[name].value is None
        assert "no deployments recorded in GitHub" in measures[name].note
    assert measures["gate_stopped"].value == 0.0  # PRs were read: none was labelled
