"""Drift on real traffic: customers scored by a real `bentoml serve`, read back from its log.

Each seed sends one /predict batch of customers drawn from the data's test split (the model
never trained on them); the request log the service writes is split by seed (customer ids
are hashed with the test server's known key) and compared with the pipeline's reference
(data/reference.parquet: the training rows and their scores, written by the evaluate stage).
Unshifted traffic must not call for retraining (at most one false alarm in 20 seeds); shifted
traffic (monthly charges up 30%, contracts moved to month-to-month) must, naming both.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from churn import schema
from mlgitops.drift import DriftPolicy, load_policy, run_drift
from mlgitops.serving.requestlog import hash_id
from tests.checkout import VENV_BIN
from tests.service.server import LOG_KEY, Built, Running

pytestmark = pytest.mark.e2e

SEEDS = 20
SHIFTED_SEEDS = 3
ROWS = 600  # per seed: above drift.min_rows (500), one request each
LOG_WAIT_SECONDS = 30


def _customers(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Raw rows as a client sends them: JSON values, a blank total_charges as null."""
    return [
        {str(k): None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}
        for row in frame.drop(columns=[schema.LABEL]).to_dict("records")
    ]


def _shift(batch: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Monthly charges up 30%; 60% of the customers moved to month-to-month contracts."""
    shifted = batch.copy()
    shifted["monthly_charges"] = (shifted["monthly_charges"] * 1.3).round(2)
    moved = rng.random(len(shifted)) < 0.6
    shifted.loc[moved, "contract"] = "Month-to-month"
    return shifted


@pytest.fixture(scope="module")
def traffic(built: Built, served: Running, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sends every seed's batch, waits for the log, and splits it: one directory per batch."""
    root = built.checkout.path
    test_ids = set(pd.read_parquet(root / "data/prepared/test.parquet")[schema.ID].astype(str))
    raw = pd.read_csv(root / "data/raw/telco_churn.csv")
    pool = raw[raw[schema.ID].astype(str).isin(test_ids)].reset_index(drop=True)
    owner: dict[str, str] = {}
    with httpx.Client(base_url=served.url, timeout=60) as client:
        for name, seed, shifted in [
            *((f"plain-{s}", s, False) for s in range(SEEDS)),
            *((f"shifted-{s}", 1000 + s, True) for s in range(SHIFTED_SEEDS)),
        ]:
            rng = np.random.default_rng(seed)
            batch = pool.iloc[rng.integers(0, len(pool), ROWS)].reset_index(drop=True)
            if shifted:
                batch = _shift(batch, rng)
            batch[schema.ID] = [f"drift-{name}-{i}" for i in range(ROWS)]
            response = client.post("/predict", json={"customers": _customers(batch)})
            assert response.status_code == 200, response.text
            owner.update({hash_id(LOG_KEY.encode(), cid): name for cid in batch[schema.ID]})
    split = tmp_path_factory.mktemp("traffic")
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:  # the service writes its log after answering, from a background thread
        lines: dict[str, list[str]] = {}
        for path in sorted(built.log_dir.glob("requests-worker*.jsonl*")):
            for line in path.read_text().splitlines():
                sender = owner.get(json.loads(line)["customer_id_hmac"])
                if sender is not None:
                    lines.setdefault(sender, []).append(line)
        if sum(map(len, lines.values())) == len(owner) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sum(map(len, lines.values())) == len(owner), "the service did not log every customer"
    for name, logged in lines.items():
        folder = split / name
        folder.mkdir()
        (folder / "requests-worker1.jsonl").write_text("\n".join(logged) + "\n")
    return split


@pytest.fixture(scope="module")
def policy(built: Built) -> DriftPolicy:
    return load_policy(built.checkout.path / "params.yaml")


def test_unshifted_traffic_does_not_call_for_retraining(
    traffic: Path, built: Built, policy: DriftPolicy, tmp_path: Path
) -> None:
    reference = built.checkout.path / "data/reference.parquet"
    alarms = {}
    for seed in range(SEEDS):
        result = run_drift(
            reference_path=reference,
            current=traffic / f"plain-{seed}",
            out=tmp_path / str(seed),
            policy=policy,
        )
        assert result.judged and result.rows == ROWS
        if result.retraining_due:
            alarms[seed] = result.drifted
    assert len(alarms) <= 1, alarms


def test_shifted_traffic_is_caught_and_names_the_shifted_features(
    traffic: Path, built: Built, policy: DriftPolicy, tmp_path: Path
) -> None:
    reference = built.checkout.path / "data/reference.parquet"
    for seed in range(1, SHIFTED_SEEDS):
        result = run_drift(
            reference_path=reference,
            current=traffic / f"shifted-{seed}",
            out=tmp_path / str(seed),
            policy=policy,
        )
        assert result.retraining_due, result.drifted
        inputs = [f.name for f in result.features if f.drifted and f.kind != "score"]
        assert sorted(inputs) == ["contract", "monthly_charges"], result.drifted


def test_the_command_exits_3_on_shifted_traffic_with_its_report(
    traffic: Path, built: Built, tmp_path: Path
) -> None:
    """The real CLI, run in the reproduced repository as the scheduled job runs it."""
    root = built.checkout.path
    out = tmp_path / "report"
    command = [str(VENV_BIN / "mlgitops"), "drift", "--reference", "data/reference.parquet"]
    result = subprocess.run(
        [*command, "--current", str(traffic / "shifted-0"), "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl")},
        check=False,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    report = json.loads((out / "drift.json").read_text())
    assert report["retraining_due"] is True and report["rows"] == ROWS
    assert {"contract", "monthly_charges"} <= set(report["drifted"])
    assert set(report["drifted"]) <= {"contract", "monthly_charges", "churn_probability"}
    assert report["features"]["churn_probability"]["kind"] == "score"
    markdown = (out / "drift.md").read_text()
    for name in ("contract", "monthly_charges"):
        assert (out / report["features"][name]["image"]).read_bytes().startswith(b"\x89PNG")
        assert f"![{name}: reference vs current]({name}.png)" in markdown
