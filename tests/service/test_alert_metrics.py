"""The alert rules deploy/ ships name metrics and labels the real service exports.

The rules (src/mlgitops/deploy/monitoring.py, rendered from params.yaml) are parsed with
promql-parser; every selector's metric must be a sample name of a real `bentoml serve`'s
/metrics after it answered requests, with every label the rule filters on (`job` is added by
Prometheus when it scrapes), and the histogram bound the score rule uses must be a real bucket.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from typing import Any

import httpx
import pandas as pd
import promql_parser
import yaml
from prometheus_client.parser import text_string_to_metric_families

from mlgitops.deploy import monitoring
from mlgitops.settings import RenderSettings, parse_settings
from tests.checkout import REPO_ROOT, Golden
from tests.service.server import Running

SCRAPE_LABELS = {"job", "instance"}  # set by Prometheus, not by the service


def _selectors() -> list[tuple[str, str, dict[str, str]]]:
    settings = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    rendered = monitoring.files(parse_settings(RenderSettings, settings))
    rules = yaml.safe_load(rendered[monitoring.ALERTS_FILE])["groups"][0]["rules"]
    found: list[tuple[str, str, dict[str, str]]] = []
    for rule in rules:

        def visit(node: Any, alert: str = rule["alert"]) -> bool:
            if isinstance(node, promql_parser.VectorSelector):
                labels = {matcher.name: matcher.value for matcher in node.matchers.matchers}
                found.append((alert, str(node.name), labels))
            return True

        promql_parser.walk(promql_parser.parse(rule["expr"]), visit)
    return found


def _exported(url: str) -> dict[str, dict[str, set[str]]]:
    """sample name -> label name -> the values seen, from /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    samples: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = samples[sample.name]
            for key, value in sample.labels.items():
                labels[key].add(value)
    return samples


def _customers(golden: Golden, rows: int) -> list[dict[str, Any]]:
    raw = pd.read_csv(golden.checkout.path / "data" / "raw" / "telco_churn.csv", nrows=rows)
    records = raw.drop(columns=["churn"]).to_dict("records")
    return [
        {str(k): None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in records
    ]


def test_every_metric_and_label_the_alerts_use_is_exported(served: Running, golden: Golden) -> None:
    answer = httpx.post(
        f"{served.url}/predict", json={"customers": _customers(golden, 3)}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    wanted = _selectors()
    assert {name for _, name, _ in wanted} >= {"churn_probability_bucket"}
    deadline = time.monotonic() + 10  # metrics are written just after the response
    missing: list[str] = []
    while True:
        exported = _exported(served.url)
        missing = []
        for alert, name, labels in wanted:
            if name not in exported:
                missing.append(f"{alert}: {name} not in /metrics")
                continue
            for label, value in labels.items():
                if label in SCRAPE_LABELS:
                    continue
                if label not in exported[name]:
                    missing.append(f"{alert}: {name} has no label {label}")
                elif label == "le" and value not in exported[name]["le"]:
                    missing.append(f"{alert}: {name} has no bucket le={value}")
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert missing == [], "\n".join(missing) + f"\nexported: {sorted(exported)}"
