"""Training on Dask: a real LocalCluster of two worker processes fits the real prepared data.

The model must be as good as the single-process one (test ROC AUC within 0.01), the same file
every time it is fitted with the same settings, and serve through the service class as it is.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest
import yaml
from distributed import Client
from pydantic import TypeAdapter
from sklearn.metrics import roc_auc_score

from churn import schema
from churn.io import load_params
from churn.model import load_booster, predict
from churn.prepare import clean, split
from churn.request import Customers
from churn.train import fit_on_dask, golden_customers, model_card, request_fields, train
from churn.train_dask import cluster_shape, dask_client
from churn.train_params import resolve
from mlgitops.settings import parse_settings
from mlgitops.settings.compute import DaskSettings, TrainBackendSettings
from tests.checkout import REPO_ROOT

pytestmark = pytest.mark.e2e

AUC_TOLERANCE = 0.01  # the bound between Dask and single-process test ROC AUC
SUBPROCESS_SECONDS = 120


def _params() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    return loaded


def _dask_settings() -> DaskSettings:
    section = copy.deepcopy(_params()["train_backend"])
    section["backend"] = "dask"
    parsed = parse_settings(
        TrainBackendSettings, {"train_backend": section}, section="train_backend"
    )
    assert parsed.dask is not None
    return parsed.dask


@dataclass(frozen=True)
class Fitted:
    root: Path  # models/, params.yaml and the prepared tables, as the service's ROOT
    test: pd.DataFrame
    single: Any  # lightgbm.Booster fitted in this process
    dask_text: str  # the model file lightgbm.dask gave
    labels: pd.DataFrame
    candidates: pd.DataFrame
    train_frame: pd.DataFrame


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """The stage's LocalCluster: two worker processes of one thread (params.yaml), closed after
    the module; every wait on it is bounded by train_backend.dask.timeout_seconds."""
    settings = _dask_settings()
    assert (settings.workers, settings.threads_per_worker) == (2, 1)
    with dask_client(settings, address=None) as running:
        yield running


@pytest.fixture(scope="module")
def fitted(client: Client, good_raw_csv: bytes, tmp_path_factory: pytest.TempPathFactory) -> Fitted:
    root = tmp_path_factory.mktemp("dask-train")
    prepare = load_params("prepare", REPO_ROOT / "params.yaml")
    train_frame, test = split(
        clean(pd.read_csv(io.BytesIO(good_raw_csv))),
        test_fraction=prepare["test_fraction"],
        salt=prepare["split_salt"],
    )
    path = root / "train.parquet"
    train_frame.to_parquet(path, index=False)
    params = resolve(load_params("train", REPO_ROOT / "params.yaml"))
    text, labels, candidates = fit_on_dask(client, _dask_settings(), params, path)
    (root / "models").mkdir()
    (root / "models/model.txt").write_text(text)
    (root / "raw.csv").write_bytes(good_raw_csv)
    card = model_card(
        model_path=root / "models/model.txt",
        frame=labels,
        params=params,
        threshold=float(load_params("evaluate", REPO_ROOT / "params.yaml")["threshold"]),
        raw_path=root / "raw.csv",
        lock_path=REPO_ROOT / "uv.lock",
    )
    card["training"] = cluster_shape(client, _dask_settings(), address=None)
    card["golden"] = golden_customers(candidates, root / "models/model.txt", threshold=0.5)
    (root / "models/card.json").write_text(json.dumps(card, indent=2) + "\n")
    (root / "params.yaml").write_bytes((REPO_ROOT / "params.yaml").read_bytes())
    single = train(train_frame, params)
    return Fitted(root, test, single, text, labels, candidates, train_frame)


def _auc(booster: Any, frame: pd.DataFrame) -> float:
    return float(roc_auc_score(frame[schema.LABEL], predict(booster, frame)))


def test_the_dask_model_is_as_good_as_the_single_process_one(fitted: Fitted) -> None:
    dask_model = load_booster(fitted.root / "models/model.txt")
    single, on_dask = _auc(fitted.single, fitted.test), _auc(dask_model, fitted.test)
    assert abs(single - on_dask) <= AUC_TOLERANCE, (single, on_dask)
    assert on_dask > 0.8, on_dask  # a real model, not two equally broken ones
    assert dask_model.num_trees() == fitted.single.num_trees()
    assert "[tree_learner: data]" in fitted.dask_text  # LightGBM's distributed learner ran
    assert "[num_machines: 2]" in fitted.dask_text


def test_two_worker_processes_of_one_thread_fitted_it(client: Client, fitted: Fitted) -> None:
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert client.nthreads() and set(client.nthreads().values()) == {1}
    shape = cluster_shape(client, _dask_settings(), address=None)
    assert shape == {
        "backend": "dask",
        "cluster": "LocalCluster",
        "workers": 2,
        "threads_per_worker": 1,
        "partitions": 2,
    }


def test_fitting_again_gives_the_same_model_file(client: Client, fitted: Fitted) -> None:
    """Parts pinned to workers and the run's ports blanked: the same bytes, run after run."""
    path = fitted.root / "train.parquet"
    params = resolve(load_params("train", REPO_ROOT / "params.yaml"))
    again, _, _ = fit_on_dask(client, _dask_settings(), params, path)
    assert again == fitted.dask_text
    assert "[machines: ]" in again and "[local_listen_port: ]" in again


def test_the_card_has_the_figures_a_whole_frame_gives(fitted: Fitted) -> None:
    """Labels and golden customers gathered part by part equal the whole table's."""
    whole = fitted.train_frame
    assert len(fitted.labels) == len(whole)
    assert fitted.labels[schema.LABEL].mean() == pytest.approx(whole[schema.LABEL].mean())
    model = fitted.root / "models/model.txt"
    assert golden_customers(fitted.candidates, model) == golden_customers(whole, model)


def test_the_saved_booster_serves_through_the_service_unchanged(
    fitted: Fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service class itself loads the Dask model (sha256, levels, golden cases scored)."""
    import churn.service as service

    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))
    monkeypatch.setenv("MLGITOPS_REQUEST_LOG_DIR", str(tmp_path / "request-logs"))
    monkeypatch.setenv("MLGITOPS_REQUEST_LOG_KEY", "test-key")
    monkeypatch.setattr(service, "ROOT", fitted.root)
    monkeypatch.setattr(service, "CARD_PATH", fitted.root / "models/card.json")
    instance = cast(Any, service.ChurnService).inner()  # the class bentoml.service wraps
    try:
        assert instance.runtime.ready  # its golden customers scored as the card says
        rows = fitted.test.head(20)
        customers = TypeAdapter(Customers).validate_python(
            [request_fields(row) for _, row in rows.iterrows()]
        )
        answers = asyncio.run(instance.predict(customers))
    finally:
        instance.flush()
    expected = predict(load_booster(fitted.root / "models/model.txt"), rows)
    served = [answer["churn_probability"] for answer in answers]
    assert served == pytest.approx(expected.tolist(), abs=1e-9)
    assert [a[schema.ID] for a in answers] == rows[schema.ID].astype(str).tolist()


def test_a_misspelt_backend_key_stops_before_training(tmp_path: Path) -> None:
    params = _params()
    params["train_backend"]["dask"]["worker"] = params["train_backend"]["dask"].pop("workers")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run(
        [sys.executable, "-m", "churn.train_params"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_SECONDS,
        check=False,
    )
    assert result.returncode != 0
    assert "train_backend.dask.worker is not a known key; did you mean `workers`?" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "models/train_params.json").exists()


def test_the_stage_fits_on_the_scheduler_its_task_is_given(
    client: Client, fitted: Fitted, tmp_path: Path
) -> None:
    """`python -m churn.train` with DASK_SCHEDULER_ADDRESS, as the Argo task runs it next to a
    DaskCluster: it fits on that cluster, records its shape, and writes the same model file."""
    params = _params()
    params["train_backend"]["backend"] = "dask"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "data/prepared").mkdir(parents=True)
    (tmp_path / "data/raw").mkdir(parents=True)
    (tmp_path / "models").mkdir()
    (tmp_path / "data/prepared/train.parquet").write_bytes(
        (fitted.root / "train.parquet").read_bytes()
    )
    (tmp_path / "data/raw/telco_churn.csv").write_bytes((fitted.root / "raw.csv").read_bytes())
    train_params = resolve(load_params("train", REPO_ROOT / "params.yaml"))
    (tmp_path / "models/train_params.json").write_text(json.dumps(train_params))
    result = subprocess.run(
        [sys.executable, "-m", "churn.train"],
        cwd=tmp_path,
        env={**os.environ, "DASK_SCHEDULER_ADDRESS": client.scheduler.address},
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "models/model.txt").read_text() == fitted.dask_text
    card = json.loads((tmp_path / "models/card.json").read_text())
    assert card["training"] == {
        "backend": "dask",
        "cluster": "external",
        "workers": 2,
        "threads_per_worker": 1,
        "partitions": 2,
    }
    assert card["data"]["train_rows"] == len(fitted.train_frame)
