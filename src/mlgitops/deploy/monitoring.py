"""The in-cluster retraining check (an Argo CronWorkflow) and the service's Prometheus alert rules,
rendered into deploy/ from params.yaml's `retrain:` section (`retrain.cron`, `retrain.alerts`),
`deploy.service` and `serving` (the score's histogram).

The CronWorkflow runs where the request logs are (their volume mounted read-only): step `drift`
clones the repository, pulls the DVC data and runs `mlgitops drift`; step `retrain-pr` runs only
when retraining is due. The token and the DVC remote's credentials come from one Secret.
"""

from __future__ import annotations

import re
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

from mlgitops.deploy.manifests import HEADER
from mlgitops.settings import RenderSettings
from mlgitops.settings.deploy import RenderedRetrain

CRON_FILE = "retrain-cron.yaml"
ALERTS_FILE = "alerts.yaml"
WORK = "/work"  # the workflow's own volume: the clone and the drift report, shared by both steps
CLONE = f"{WORK}/repo"
DRIFT_DIR = f"{WORK}/drift-report"
LOGS = "/logs"
DUE_FILE = "/tmp/due"  # "true" or "false": the drift step's output parameter

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


def cron_workflow(retrain: RenderedRetrain) -> CronWorkflow:
    """The scheduled check: drift next to the logs, then the retraining PR when it is due."""
    cron = retrain.cron
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
        mount_path=f"{CLONE}/{retrain.incoming.as_posix()}",
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

        def step(name: str, script: str, volume: Volume | ExistingVolume, **more: Any) -> Container:
            return Container(
                name=name,
                image=cron.image,
                command=["bash", "-c"],
                args=[script],
                env=env,
                env_from=secrets,
                volumes=[work, volume],
                **more,
            )

        due = Parameter(name="due", value_from=m.ValueFrom(path=DUE_FILE))
        drift = step("drift", DRIFT_SCRIPT, logs, outputs=[due])
        retrain_pr = step("retrain-pr", RETRAIN_SCRIPT, labelled)
        with Steps(name="check"):
            drift(name="drift")
            retrain_pr(name="retrain-pr", when="{{steps.drift.outputs.parameters.due}} == true")
    return cron_wf


def alert_rules(settings: RenderSettings) -> dict[str, Any]:
    """A Prometheus rule file over the service's /metrics: the service's name from
    deploy.service, its score histogram from `serving`, thresholds from retrain.alerts."""
    a, service, score = settings.retrain.alerts, settings.deploy.service, settings.serving.score
    prefix = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", service))
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
    bound = repr(float(a.score_high))  # as prometheus_client writes `le`: 0.7, 1.0

    def high_share(window: str) -> str:
        # share of scores above score_high: 1 - (count at or below the bound) / (all)
        return (
            f'(1 - sum(increase({score}_bucket{{{job},le="{bound}"}}[{window}]))'
            f" / sum(increase({score}_count{{{job}}}[{window}])))"
        )

    shift = f"abs({high_share('1h')} - {high_share('7d')}) > {a.score_shift:g}"
    rules = [
        (f"{prefix}ErrorRate", errors, a.error_for, "page",
         f"more than {a.error_rate:.0%} of {service} requests answer 5xx"),
        (f"{prefix}LatencyP99", latency, a.latency_for, "page",
         f"{service} p99 latency above {a.latency_p99_seconds:g} s"),
        (f"{prefix}ScoreShift", shift, a.score_for, "ticket",
         f"share of {score} above {a.score_high:g} moved more than "
         f"{a.score_shift * 100:g} points against the last 7 days: check drift"),
    ]  # fmt: skip
    return {
        "groups": [
            {
                "name": service,
                "rules": [
                    {
                        "alert": alert,
                        "expr": expr,
                        "for": duration,
                        "labels": {"severity": severity, "service": service},
                        "annotations": {"summary": summary, "runbook": "docs/retrain.md#alerts"},
                    }
                    for alert, expr, duration, severity, summary in rules
                ],
            }
        ]
    }


def files(settings: RenderSettings) -> dict[str, str]:
    """File name under deploy/ -> its text: the CronWorkflow and the alert rules."""
    return {
        CRON_FILE: HEADER + cron_workflow(settings.retrain).to_yaml(),
        ALERTS_FILE: HEADER + yaml.safe_dump(alert_rules(settings), sort_keys=False, width=1000),
    }
