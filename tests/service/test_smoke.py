"""`mlgitops smoke`, run as the deploy workflow runs it, against real `bentoml serve` processes.

It passes against the Bento built from the reproduced repository (the package's one server),
and fails, naming the golden customers and the model, against a Bento that serves another
model: trained with other parameters, with a card of its own that is consistent, so the
server starts and says ready, exactly the case a smoke test after a deploy is there to catch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightgbm as lgb
import pandas as pd
import pytest

from churn import schema
from churn.encode import Encoder
from tests.checkout import sha256
from tests.service.server import Built, Running, start, stop, wait_until

pytestmark = pytest.mark.e2e

MLGITOPS = str(Path(sys.executable).parent / "mlgitops")
# The latency check is exercised against stand-ins (tests/unit/mlgitops/test_smoke.py); here
# the bound only has to survive a machine busy with other tests.
GENEROUS_P99_MS = "2000"


def _smoke(url: str, card: Path) -> subprocess.CompletedProcess[str]:
    argv = [MLGITOPS, "smoke", "--url", url, "--card", str(card), "--requests", "20"]
    return subprocess.run(
        [*argv, "--max-p99-ms", GENEROUS_P99_MS],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},  # rich wraps the table at the terminal width
        check=False,
        timeout=120,
    )


def test_smoke_passes_against_the_served_bento(built: Built, served: Running) -> None:
    result = _smoke(served.url, built.bento / "src/models/card.json")

    assert result.returncode == 0, result.stderr
    assert f"smoke: passed, all 10 checks hold against {served.url}" in result.stderr
    for check in ("livez", "readyz", "golden 4", "model sha256", "bad request (no female)"):
        assert check in result.stderr
    assert result.stdout == ""


def _other_model(built: Built, bento: Path) -> None:
    """Train another model (other parameters) into the Bento copy, with a card that matches it."""
    root = built.checkout.path
    frame = pd.read_parquet(root / "data/prepared/train.parquet")
    dataset = lgb.Dataset(frame[list(schema.FEATURES)], label=frame[schema.LABEL])
    params = {"objective": "binary", "num_leaves": 4, "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, dataset, num_boost_round=20)
    model = bento / "src/models/model.txt"
    booster.save_model(str(model))
    card_path = bento / "src/models/card.json"
    card: dict[str, Any] = json.loads(card_path.read_text())
    encoder = Encoder.from_card(card)
    cases = card["golden"]["cases"]
    inputs = [case["input"] for case in cases]
    rows = encoder.encode_columns({c: [x[c] for x in inputs] for c in encoder.features})
    for case, probability in zip(cases, booster.predict(rows), strict=True):
        case["expected"]["churn_probability"] = float(probability)
        if "churn" in case["expected"]:
            case["expected"]["churn"] = bool(probability >= card["threshold"])
    card["model"]["sha256"] = sha256(model)
    card_path.write_text(json.dumps(card))


def test_smoke_fails_against_a_bento_serving_another_model(built: Built, tmp_path: Path) -> None:
    bento = tmp_path / "bento"
    shutil.copytree(built.bento, bento)
    _other_model(built, bento)
    running = start(str(bento), built, tmp_path / "run")
    try:
        wait_until(running, "/readyz")  # consistent with its own card: it starts and is ready
        result = _smoke(running.url, built.bento / "src/models/card.json")
    finally:
        stop(running)

    assert result.returncode == 1, result.stderr
    assert f"against {running.url}:" in result.stderr
    failed = result.stderr.split("checks failed against", 1)[1]
    assert "golden 0: churn_probability: got" in failed and "the card says" in failed
    assert "model sha256: served" in failed
    for passing in ("livez:", "readyz:", "bad request", "latency:"):
        assert passing not in failed
