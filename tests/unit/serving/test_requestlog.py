"""The request log: one JSON line per customer, ids only as keyed hashes, rotated by size."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgitops.serving.deferred import Deferred
from mlgitops.serving.requestlog import RequestLog, RequestLogConfig, hash_id, json_columns

KEY = b"test-key"


def _log(directory: Path, *, max_bytes: int = 1_000_000, backups: int = 2) -> RequestLog:
    config = RequestLogConfig(directory=directory, max_bytes=max_bytes, backups=backups, key=KEY)
    return RequestLog(config, id_field="customer_id", model_sha256="abc", name="requests")


def _columns(count: int) -> Any:
    def columns() -> Any:
        inputs = {
            "customer_id": [f"C{i:06d}" for i in range(count)],
            "tenure": list(range(count)),
            "total_charges": [None] * count,
        }
        return inputs, {"churn_probability": [0.25] * count, "churn": [False] * count}

    return columns


def test_each_customer_is_one_line_with_a_keyed_hash_and_no_id(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.write("predict", 0.0, _columns(3))
    log.close()

    text = (tmp_path / "requests.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["customer_id_hmac"] for line in lines] == [
        hash_id(KEY, f"C{i:06d}") for i in range(3)
    ]
    assert "C000001" not in text
    assert lines[1] == {
        "time": "1970-01-01T00:00:00.000+00:00",
        "endpoint": "predict",
        "customer_id_hmac": hash_id(KEY, "C000001"),
        "model_sha256": "abc",
        "inputs": {"tenure": 1, "total_charges": None},
        "outputs": {"churn_probability": 0.25, "churn": False},
    }


def test_a_model_without_row_ids_logs_inputs_and_outputs_only(tmp_path: Path) -> None:
    config = RequestLogConfig(directory=tmp_path, max_bytes=1_000_000, backups=2, key=KEY)
    log = RequestLog(config, id_field=None, model_sha256="abc", name="requests")

    def columns() -> Any:
        return {"carat": [0.3, 1.5]}, {"price": [420.0, 9100.5]}

    log.write("predict", 0.0, columns)
    log.close()

    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert lines == [
        {
            "time": "1970-01-01T00:00:00.000+00:00",
            "endpoint": "predict",
            "model_sha256": "abc",
            "inputs": {"carat": carat},
            "outputs": {"price": price},
        }
        for carat, price in [(0.3, 420.0), (1.5, 9100.5)]
    ]


def test_the_log_rotates_by_size_and_keeps_the_backups(tmp_path: Path) -> None:
    log = _log(tmp_path, max_bytes=2_000, backups=2)
    for _ in range(20):
        log.write("predict", 0.0, _columns(5))
    log.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "requests.jsonl",
        "requests.jsonl.1",
        "requests.jsonl.2",
    ]
    for path in tmp_path.iterdir():
        assert path.stat().st_size < 4_000, path  # rotation happens between writes


def test_a_tables_columns_are_logged_with_json_values(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "tenure": np.array([0, 7], dtype=np.int64),
            "contract": pd.Series(["One year", "Two year"], dtype="string[pyarrow]"),
            "total_charges": [np.nan, 12.5],
        }
    )
    outputs: dict[str, list[Any]] = {"churn_probability": [0.5, 0.75], "churn": [True, True]}
    log = _log(tmp_path)
    log.write("predict_file", 0.0, lambda: (json_columns(frame), outputs))
    log.close()

    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [line["inputs"] for line in lines] == [
        {"tenure": 0, "contract": "One year", "total_charges": None},
        {"tenure": 7, "contract": "Two year", "total_charges": 12.5},
    ]
    assert [line["customer_id_hmac"] for line in lines] == [hash_id(KEY, "C1"), hash_id(KEY, "C2")]
    assert lines[1]["outputs"] == {"churn_probability": 0.75, "churn": True}


@pytest.mark.parametrize(
    "value",
    ['},{"time": "x"', [{"a": 1}, {"time": 2}]],  # a string that looks like a cut, a real one
    ids=["quoted", "nested"],
)
def test_a_value_that_looks_like_the_end_of_a_line_stays_inside_it(
    tmp_path: Path, value: Any
) -> None:
    inputs = {"customer_id": ["C1", "C2"], "note": [value, "plain"]}
    outputs: dict[str, list[Any]] = {"churn": [True, False]}
    log = _log(tmp_path)
    log.write("predict", 0.0, lambda: (inputs, outputs))
    log.close()

    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [line["inputs"] for line in lines] == [{"note": value}, {"note": "plain"}]


def test_the_config_comes_from_the_environment(tmp_path: Path) -> None:
    config = RequestLogConfig.from_env(
        {
            "MLGITOPS_REQUEST_LOG_DIR": str(tmp_path),
            "MLGITOPS_REQUEST_LOG_MAX_BYTES": "123",
            "MLGITOPS_REQUEST_LOG_BACKUPS": "4",
            "MLGITOPS_REQUEST_LOG_KEY": "k",
        }
    )
    assert config == RequestLogConfig(directory=tmp_path, max_bytes=123, backups=4, key=b"k")
    default = RequestLogConfig.from_env({"BENTOML_HOME": str(tmp_path)})
    assert default.directory == tmp_path / "request-logs"
    assert len(default.key) == 32  # a random key when none is given


def test_deferred_calls_run_later_in_one_other_thread_and_all_run_before_close() -> None:
    deferred = Deferred(interval=0.05)
    seen: list[tuple[int, str]] = []
    submitted_at = time.perf_counter()
    for i in range(100):
        deferred.submit(lambda i: seen.append((i, threading.current_thread().name)), i)
    assert time.perf_counter() - submitted_at < 0.05 and len(seen) < 100  # nothing waits
    deferred.close()
    assert [i for i, _ in seen] == list(range(100))
    assert {name for _, name in seen} == {"deferred"}
