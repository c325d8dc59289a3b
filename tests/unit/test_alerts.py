"""The monitoring files deploy/ ships: the Prometheus alert rules and the retraining CronWorkflow.

promtool cannot be installed with the project's tools (it ships in Debian's `prometheus`
package, not on PyPI), so the rule file is parsed and checked here with promql-parser (the
expressions' syntax and types), and additionally by `promtool check rules` / `promtool test
rules` when a promtool is on PATH. That the metrics the rules name are the ones the service
really exports is checked against a running service in tests/service/test_alert_metrics.py.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from hera.workflows import CronWorkflow

from mlgitops.deploy import monitoring
from mlgitops.errors import UsageError
from mlgitops.settings import RenderSettings, parse_settings
from tests.checkout import REPO_ROOT

SETTINGS: dict[str, Any] = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
ALERTS = SETTINGS["retrain"]["alerts"]
CRON = SETTINGS["retrain"]["cron"]
# The metrics the service exports (contract; checked against /metrics in tests/service).
SERVICE_METRICS = {
    "bentoml_service_request_total",
    "bentoml_service_request_duration_seconds_bucket",
    f"{SETTINGS['serving']['score']}_bucket",
    f"{SETTINGS['serving']['score']}_count",
}
PROMTOOL = shutil.which("promtool")


def _files(params: dict[str, Any]) -> dict[str, str]:
    return monitoring.files(parse_settings(RenderSettings, params))


def _rules(settings: dict[str, Any] = SETTINGS) -> list[dict[str, Any]]:
    text = _files(settings)[monitoring.ALERTS_FILE]
    document = yaml.safe_load(text)
    assert set(document) == {"groups"}
    (group,) = document["groups"]
    assert set(group) == {"name", "rules"}
    rules: list[dict[str, Any]] = group["rules"]
    return rules


def _selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, {label: value}) of every selector in the expression, parsed."""
    found: list[tuple[str, dict[str, str]]] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            labels = {matcher.name: matcher.value for matcher in node.matchers.matchers}
            found.append((str(node.name), labels))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def test_the_rules_cover_errors_latency_and_score_shift() -> None:
    rules = _rules()
    assert [rule["alert"] for rule in rules] == [
        "ChurnServiceErrorRate", "ChurnServiceLatencyP99", "ChurnServiceScoreShift",
    ]  # fmt: skip
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"]


def test_every_expression_parses_and_names_only_the_services_metrics() -> None:
    for rule in _rules():
        selectors = _selectors(rule["expr"])
        assert selectors, rule["expr"]
        for name, labels in selectors:
            assert name in SERVICE_METRICS, (rule["alert"], name)
            assert labels.get("job") == ALERTS["job"], (rule["alert"], labels)


def test_for_durations_are_prometheus_durations_from_params() -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    expected = {
        "ChurnServiceErrorRate": ALERTS["error_for"],
        "ChurnServiceLatencyP99": ALERTS["latency_for"],
        "ChurnServiceScoreShift": ALERTS["score_for"],
    }
    for alert, duration in expected.items():
        assert rules[alert]["for"] == duration
        assert promql_parser.parse_duration(rules[alert]["for"]).total_seconds() > 0


def test_the_thresholds_come_from_params() -> None:
    changed = copy.deepcopy(SETTINGS)
    changed["retrain"]["alerts"].update(
        error_rate=0.125, latency_p99_seconds=1.5, score_high=0.9, score_shift=0.3
    )
    rules = {rule["alert"]: rule["expr"] for rule in _rules(changed)}
    assert rules["ChurnServiceErrorRate"].endswith("> 0.125")
    assert rules["ChurnServiceLatencyP99"].startswith("histogram_quantile(0.99,")
    assert rules["ChurnServiceLatencyP99"].endswith("> 1.5")
    assert rules["ChurnServiceScoreShift"].endswith("> 0.3")
    bounds = {labels.get("le") for _, labels in _selectors(rules["ChurnServiceScoreShift"])}
    assert bounds == {"0.9", None}
    errors = _selectors(rules["ChurnServiceErrorRate"])
    assert errors[0][1]["http_response_code"] == "5.."  # the 5xx share


def test_the_service_name_score_metric_and_buckets_come_from_params() -> None:
    """Nothing of the example model is built in: another service and score render their own."""
    changed = copy.deepcopy(SETTINGS)
    changed["deploy"]["service"] = "fraud-api"
    changed["serving"] = {"score": "fraud_score", "score_buckets": [0.25, 0.5, 0.95]}
    changed["retrain"]["alerts"].update(score_high=0.95, job="fraud-api")
    (group,) = yaml.safe_load(_files(changed)[monitoring.ALERTS_FILE])["groups"]
    assert group["name"] == "fraud-api"
    rules = {rule["alert"]: rule for rule in group["rules"]}
    assert list(rules) == ["FraudApiErrorRate", "FraudApiLatencyP99", "FraudApiScoreShift"]
    assert {rule["labels"]["service"] for rule in rules.values()} == {"fraud-api"}
    selectors = _selectors(rules["FraudApiScoreShift"]["expr"])
    assert {name for name, _ in selectors} == {"fraud_score_bucket", "fraud_score_count"}
    assert {labels.get("le") for _, labels in selectors} == {"0.95", None}
    assert "churn" not in _files(changed)[monitoring.ALERTS_FILE].lower()


def test_score_high_must_be_one_of_the_services_buckets() -> None:
    changed = copy.deepcopy(SETTINGS)
    changed["serving"]["score_buckets"] = [0.5, 0.9]
    with pytest.raises(UsageError) as caught:
        _files(changed)
    assert str(caught.value) == (
        "params.yaml: retrain.alerts.score_high is 0.7, not a bound of the score's histogram: "
        "expected one of serving.score_buckets [0.5, 0.9]"
    )


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("error_for", "5 minutes", "retrain.alerts.error_for"),
        ("error_rate", -1, "retrain.alerts.error_rate"),
        ("score_high", 0.75, "retrain.alerts.score_high"),
        ("job", "", "retrain.alerts.job"),
    ],
)
def test_a_bad_alert_setting_is_named(key: str, value: Any, named: str) -> None:
    changed = copy.deepcopy(SETTINGS)
    changed["retrain"]["alerts"][key] = value
    with pytest.raises(UsageError, match=named.replace(".", r"\.")):
        _files(changed)


def test_promtool_accepts_the_rules_and_they_fire_on_bad_traffic(tmp_path: Path) -> None:
    if PROMTOOL is None:  # `make test` unpacks it; a missing checker must not pass silently
        pytest.fail("promtool is not on PATH: run `make test`, which unpacks it into .cache/tools")
    rules_file = tmp_path / "alerts.yaml"
    rules_file.write_text(_files(SETTINGS)[monitoring.ALERTS_FILE])
    checked = subprocess.run([str(PROMTOOL), "check", "rules", str(rules_file)],
                             capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    job = ALERTS["job"]
    # Half the requests fail and are slow; scores all jump above score_high after a week.
    series = [
        {"series": f'bentoml_service_request_total{{job="{job}",http_response_code="500"}}',
         "values": "0+60x60"},
        {"series": f'bentoml_service_request_total{{job="{job}",http_response_code="200"}}',
         "values": "0+60x60"},
        {"series": f'bentoml_service_request_duration_seconds_bucket{{job="{job}",le="0.1"}}',
         "values": "0+10x60"},
        {"series": f'bentoml_service_request_duration_seconds_bucket{{job="{job}",le="1.0"}}',
         "values": "0+20x60"},
        {"series": f'bentoml_service_request_duration_seconds_bucket{{job="{job}",le="+Inf"}}',
         "values": "0+120x60"},
    ]  # fmt: skip
    tests = {
        "rule_files": [str(rules_file)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "40m", "alertname": "ChurnServiceErrorRate",
                     "exp_alerts": [{"exp_labels": {"severity": "page", "service": "churn-service"},
                                     "exp_annotations": _annotations("ChurnServiceErrorRate")}]},
                    {"eval_time": "40m", "alertname": "ChurnServiceLatencyP99",
                     "exp_alerts": [{"exp_labels": {"severity": "page", "service": "churn-service"},
                                     "exp_annotations": _annotations("ChurnServiceLatencyP99")}]},
                    {"eval_time": "40m", "alertname": "ChurnServiceScoreShift", "exp_alerts": []},
                ],
            }
        ],
    }  # fmt: skip
    test_file = tmp_path / "alerts_test.yaml"
    test_file.write_text(yaml.safe_dump(tests))
    tested = subprocess.run([str(PROMTOOL), "test", "rules", str(test_file)],
                            capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _annotations(alert: str) -> dict[str, str]:
    (rule,) = [rule for rule in _rules() if rule["alert"] == alert]
    return dict(rule["annotations"])


# The CronWorkflow.


def _cron() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_files(SETTINGS)[monitoring.CRON_FILE])
    return loaded


def test_the_cron_workflow_loads_back_into_heras_model_unchanged() -> None:
    document = _cron()
    loaded = CronWorkflow.from_dict(copy.deepcopy(document))
    assert isinstance(loaded, CronWorkflow)
    assert loaded.to_dict() == document
    assert document["kind"] == "CronWorkflow" and document["metadata"]["name"] == CRON["name"]


def test_the_schedule_and_concurrency_come_from_params() -> None:
    spec = _cron()["spec"]
    assert spec["schedules"] == [CRON["schedule"]]
    assert spec["timezone"] == CRON["timezone"]
    assert spec["concurrencyPolicy"] == "Forbid"
    changed = copy.deepcopy(SETTINGS)
    changed["retrain"]["cron"]["schedule"] = "30 2 * * *"
    text = _files(changed)[monitoring.CRON_FILE]
    assert yaml.safe_load(text)["spec"]["schedules"] == ["30 2 * * *"]


def test_drift_runs_next_to_the_logs_then_retrain_pr_only_when_due() -> None:
    workflow = _cron()["spec"]["workflowSpec"]
    templates = {template["name"]: template for template in workflow["templates"]}
    steps = [step for group in templates[workflow["entrypoint"]]["steps"] for step in group]
    assert [step["name"] for step in steps] == ["drift", "retrain-pr"]
    assert steps[1]["when"] == "{{steps.drift.outputs.parameters.due}} == true"
    drift, retrain = templates["drift"], templates["retrain-pr"]
    (logs,) = drift["volumes"]
    assert logs["persistentVolumeClaim"] == {"claimName": CRON["logs_claim"], "readOnly": True}
    mounts = {mount["name"]: mount for mount in drift["container"]["volumeMounts"]}
    assert mounts[logs["name"]]["readOnly"] is True
    assert "--current /logs" in drift["container"]["args"][0]
    assert mounts[logs["name"]]["mountPath"] == "/logs"
    assert "mlgitops retrain-pr --drift /work/drift-report" in retrain["container"]["args"][0]
    labelled = {mount["name"]: mount for mount in retrain["container"]["volumeMounts"]}
    incoming = SETTINGS["retrain"]["incoming"]
    assert labelled["labelled"]["mountPath"] == f"/work/repo/{incoming}"
    for template in (drift, retrain):
        assert template["container"]["image"] == CRON["image"]
        assert template["container"]["envFrom"] == [{"secretRef": {"name": CRON["secret"]}}]
        assert "GITHUB_TOKEN" not in str(template["container"].get("env"))  # only from the Secret
    assert [claim["metadata"]["name"] for claim in workflow["volumeClaimTemplates"]] == ["work"]


@pytest.mark.parametrize("template", ["drift", "retrain-pr"])
def test_the_step_scripts_are_valid_bash(template: str, tmp_path: Path) -> None:
    workflow = _cron()["spec"]["workflowSpec"]
    (found,) = [t for t in workflow["templates"] if t["name"] == template]
    assert found["container"]["command"] == ["bash", "-c"]
    script = tmp_path / "step.sh"
    script.write_text(found["container"]["args"][0])
    checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True,
                             check=False, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("schedule", "every monday", "retrain.cron.schedule"),
        ("repo", "churn", "retrain.cron.repo"),
        ("secret", None, "retrain.cron.secret"),
    ],
)
def test_a_bad_cron_setting_is_named(key: str, value: Any, named: str) -> None:
    changed = copy.deepcopy(SETTINGS)
    changed["retrain"]["cron"][key] = value
    with pytest.raises(UsageError, match=named.replace(".", r"\.")):
        _files(changed)
