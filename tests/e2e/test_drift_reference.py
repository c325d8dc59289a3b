"""The pipeline writes the drift reference: the training rows' features and the model's scores."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml

from churn import schema
from tests.checkout import Golden

pytestmark = pytest.mark.e2e


def test_evaluate_writes_the_training_rows_with_their_scores(golden: Golden) -> None:
    root = golden.checkout.path
    reference = pd.read_parquet(root / "data/reference.parquet")
    train = pd.read_parquet(root / "data/prepared/train.parquet")

    assert list(reference.columns) == [*schema.FEATURES, "churn_probability"]
    assert len(reference) == len(train)
    pd.testing.assert_frame_equal(
        reference[list(schema.FEATURES)], train[list(schema.FEATURES)].reset_index(drop=True)
    )
    booster = lgb.Booster(model_file=str(root / "models/model.txt"))
    np.testing.assert_allclose(
        reference["churn_probability"], booster.predict(train[list(schema.FEATURES)]), atol=1e-12
    )


def test_the_reference_is_a_dvc_output_of_evaluate(golden: Golden) -> None:
    """Tracked by DVC, so `dvc pull` brings the reference that belongs to the deployed model."""
    lock = yaml.safe_load((golden.checkout.path / "dvc.lock").read_text())
    outs = {out["path"] for out in lock["stages"]["evaluate"]["outs"]}
    assert "data/reference.parquet" in outs
    ignored = golden.checkout.run("git", "check-ignore", "data/reference.parquet")
    assert ignored.returncode == 0, str(ignored)  # never committed to git
