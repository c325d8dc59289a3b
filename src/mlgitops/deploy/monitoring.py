"""The in-cluster retraining check (an Argo CronWorkflow) and the service's Prometheus alert rules,
rendered into deploy/ from params.yaml's `retrain:` section (`retrain.cron`, `retrain.alerts`).

The CronWorkflow runs where the request logs are (their volume mounted read-only): step `drift`
clones the repository, pulls the DVC data and runs `mlgitops drift`; step `retrain-pr` runs only
when retraining is due. The token and the DVC remote's credentials come from one Secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml
from hera.workflows import (
    Container,
    CronWorkflow,
    Env,
    ExistingVolume,
    Parameter,
    SecretEnvFrom,
    Steps,
    Volume,
)
from hera.workflows import models as m

from mlgitops.errors import UsageError

CRON_FILE = "retrain-cron.yaml"
ALERTS_FILE = "alerts.yaml"
HEADER = (
    "# Rendered from params.yaml by `make render` (python -m mlgitops.deploy.render); "
    "do not edit.\n"
)
WORK = "/work"  # the workflow's own volume: the clone and the drift report, shared by both steps
CLONE = f"{WORK}/repo"
DRIFT_DIR = f"{WORK}/drift-report"
LOGS = "/logs"
DUE_FILE = "/tmp/due"  # "true" or "false": the drift step's output parameter
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")  # Prometheus's duration syntax
_CRON = re.compile(r"^(\S+\s+){4}\S+$")

# The token reaches git through the environment only (never a URL or .git/config).
_GIT_AUTH = """\
set -euo pipefail
basic=$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 -w0)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.https://github.com/.extraheader"
export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"
"""

DRIFT_SCRIPT = (
    _GIT_AUTH
    + f"""\
rm -rf {CLONE} {DRIFT_DIR}
git clone --quiet "https://github.com/$REPO.git" {CLONE}
cd {CLONE}
dvc pull --quiet
status=0
mlgitops drift --reference "$REFERENCE" --current {LOGS} --out {DRIFT_DIR} || status=$?
case "$status" in
  0) echo false > {DUE_FILE} ;;
  3) echo true > {DUE_FILE} ;;  # retraining due: the next step's work, not a failure
  *) exit "$status" ;;
esac
"""
)

RETRAIN_SCRIPT = (
    _GIT_AUTH
    + f"""\
cd {CLONE}
mlgitops retrain-pr --drift {DRIFT_DIR} --repo "$REPO"
"""
)


@dataclass(frozen=True)
class CronSettings:
    """retrain.cron, and retrain.incoming (mounted where retrain-pr looks for it)."""

    name: str
    schedule: str
    timezone: str
    image: str
    repo: str
    logs_claim: str
    reference: str
    incoming_claim: str
    incoming: str
    secret: str

    @classmethod
    def from_params(cls, settings: Mapping[str, Any]) -> CronSettings:
        retrain = _section(settings, "retrain")
        cron = _section(retrain, "cron", "retrain.")
        values = {key: _text(cron, key, "retrain.cron") for key in _CRON_KEYS}
        if not _CRON.match(values["schedule"]):
            raise UsageError(
                f"params.yaml: retrain.cron.schedule {values['schedule']!r} is not a cron line "
                "of five fields"
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", values["repo"]):
            raise UsageError(f"params.yaml: retrain.cron.repo {values['repo']!r} is not OWNER/NAME")
        incoming = PurePosixPath(_text(retrain, "incoming", "retrain"))
        if incoming.is_absolute() or ".." in incoming.parts:
            raise UsageError(
                f"params.yaml: retrain.incoming {incoming} must be inside the repository for the "
                "CronWorkflow (it mounts the labelled data there)"
            )
        return cls(**values, incoming=incoming.as_posix())


_CRON_KEYS = (
    "name", "schedule", "timezone", "image", "repo", "logs_claim", "reference",
    "incoming_claim", "secret",
)  # fmt: skip


@dataclass(frozen=True)
class AlertSettings:
    """retrain.alerts: the thresholds of the service's alert rules."""

    job: str
    error_rate: float
    error_for: str
    latency_p99_seconds: float
    latency_for: str
    score_high: float
    score_shift: float
    score_for: str

    @classmethod
    def from_params(cls, settings: Mapping[str, Any]) -> AlertSettings:
        alerts = _section(_section(settings, "retrain"), "alerts", "retrain.")
        high = _positive(alerts, "score_high")
        if high not in SCORE_BUCKETS:
            raise UsageError(
                f"params.yaml: retrain.alerts.score_high {high} must be a bucket bound of "
                f"churn_probability: one of {list(SCORE_BUCKETS)}"
            )
        return cls(
            job=_text(alerts, "job", "retrain.alerts"),
            error_rate=_positive(alerts, "error_rate"),
            error_for=_duration(alerts, "error_for"),
            latency_p99_seconds=_positive(alerts, "latency_p99_seconds"),
            latency_for=_duration(alerts, "latency_for"),
            score_high=high,
            score_shift=_positive(alerts, "score_shift"),
            score_for=_duration(alerts, "score_for"),
        )


def _duration(alerts: Mapping[str, Any], key: str) -> str:
    value = _text(alerts, key, "retrain.alerts")
    if not _DURATION.match(value):
        raise UsageError(
            f"params.yaml: retrain.alerts.{key} {value!r} is not a Prometheus duration "
            "(like 5m, 1h30m)"
        )
    return value


def _positive(alerts: Mapping[str, Any], key: str) -> float:
    value = alerts.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UsageError(
            f"params.yaml: retrain.alerts.{key} must be a positive number, found {value!r}"
        )
    return float(value)


# The service's churn_probability histogram buckets (src/churn/service.py): 0.1 ... 1.0.
SCORE_BUCKETS = tuple(round(i / 10, 1) for i in range(1, 11))


def _section(parent: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, Mapping) or not value:
        raise UsageError(f"params.yaml has no `{where}{key}:` section (docs/retrain.md)")
    return value


def _text(section: Mapping[str, Any], key: str, where: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"params.yaml: {where}.{key} must be a non-empty string, found {value!r}")
    return value.strip()


def cron_workflow(settings: Mapping[str, Any]) -> CronWorkflow:
    """The scheduled check: drift next to the logs, then the retraining PR when it is due."""
    cron = CronSettings.from_params(settings)
    env = [
        Env(name="REPO", value=cron.repo),
        Env(name="REFERENCE", value=cron.reference),
        Env(name="PYTHONPATH", value=f"{CLONE}/src"),  # the pipeline's stages run the clone's code
        Env(name="DVC_NO_ANALYTICS", value="1"),
        Env(name="GIT_AUTHOR_NAME", value="mlgitops retrain"),
        Env(name="GIT_AUTHOR_EMAIL", value="retrain@mlgitops.invalid"),
        Env(name="GIT_COMMITTER_NAME", value="mlgitops retrain"),
        Env(name="GIT_COMMITTER_EMAIL", value="retrain@mlgitops.invalid"),
    ]
    secrets = [SecretEnvFrom(name=cron.secret)]  # GITHUB_TOKEN and the DVC remote's keys
    work = Volume(name="work", size="5Gi", mount_path=WORK, access_modes=["ReadWriteOnce"])
    logs = ExistingVolume(
        name="request-logs", claim_name=cron.logs_claim, mount_path=LOGS, read_only=True
    )
    labelled = ExistingVolume(
        name="labelled",
        claim_name=cron.incoming_claim,
        mount_path=f"{CLONE}/{cron.incoming}",
        read_only=True,
    )
    with CronWorkflow(
        name=cron.name,
        schedules=[cron.schedule],
        timezone=cron.timezone,
        concurrency_policy="Forbid",  # a slow run is never overlapped by the next
        starting_deadline_seconds=3600,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=3,
        entrypoint="check",
        labels={"app.kubernetes.io/part-of": "mlgitops", "mlgitops/job": "retrain"},
    ) as cron_wf:
        drift = Container(
            name="drift",
            image=cron.image,
            command=["bash", "-c"],
            args=[DRIFT_SCRIPT],
            env=env,
            env_from=secrets,
            volumes=[work, logs],
            outputs=[Parameter(name="due", value_from=m.ValueFrom(path=DUE_FILE))],
        )
        retrain = Container(
            name="retrain-pr",
            image=cron.image,
            command=["bash", "-c"],
            args=[RETRAIN_SCRIPT],
            env=env,
            env_from=secrets,
            volumes=[work, labelled],
        )
        with Steps(name="check"):
            drift(name="drift")
            retrain(name="retrain-pr", when="{{steps.drift.outputs.parameters.due}} == true")
    return cron_wf


def _rule(alert: str, expr: str, duration: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": alert,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "service": "churn-service"},
        "annotations": {"summary": summary, "runbook": "docs/retrain.md#alerts"},
    }


def alert_rules(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A Prometheus rule file over the service's /metrics (thresholds from retrain.alerts)."""
    a = AlertSettings.from_params(settings)
    job = f'job="{a.job}"'
    errors = (
        f'sum(rate(bentoml_service_request_total{{{job},http_response_code=~"5.."}}[5m]))'
        f" / sum(rate(bentoml_service_request_total{{{job}}}[5m])) > {a.error_rate:g}"
    )
    latency = (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(bentoml_service_request_duration_seconds_bucket{{{job}}}[5m]))) "
        f"> {a.latency_p99_seconds:g}"
    )

    bound = repr(a.score_high)  # as prometheus_client writes `le`: 0.7, 1.0

    def high_share(window: str) -> str:
        # share of scores above score_high: 1 - (count at or below the bound) / (all)
        return (
            f'(1 - sum(increase(churn_probability_bucket{{{job},le="{bound}"}}[{window}]))'
            f" / sum(increase(churn_probability_count{{{job}}}[{window}])))"
        )

    shift = f"abs({high_share('1h')} - {high_share('7d')}) > {a.score_shift:g}"
    rules = [
        _rule("ChurnServiceErrorRate", errors, a.error_for, "page",
              f"more than {a.error_rate:.0%} of churn-service requests answer 5xx"),
        _rule("ChurnServiceLatencyP99", latency, a.latency_for, "page",
              f"churn-service p99 latency above {a.latency_p99_seconds:g} s"),
        _rule("ChurnScoreShift", shift, a.score_for, "ticket",
              f"share of churn scores above {a.score_high:g} moved more than "
              f"{a.score_shift * 100:g} points against the last 7 days: check drift"),
    ]  # fmt: skip
    return {"groups": [{"name": "churn-service", "rules": rules}]}


def files(settings: Mapping[str, Any]) -> dict[str, str]:
    """File name under deploy/ -> its text, from the whole params.yaml (`settings`)."""
    return {
        CRON_FILE: HEADER + cron_workflow(settings).to_yaml(),
        ALERTS_FILE: HEADER + yaml.safe_dump(alert_rules(settings), sort_keys=False, width=1000),
    }
