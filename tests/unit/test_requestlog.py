"""The request log: one JSON line per customer, ids only as keyed hashes, rotated by size."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from churn.deferred import Deferred
from churn.requestlog import RequestLog, RequestLogConfig, hash_id

KEY = b"test-key"


def _log(directory: Path, *, max_bytes: int = 1_000_000, backups: int = 2) -> RequestLog:
    config = RequestLogConfig(directory=directory, max_bytes=max_bytes, backups=backups, key=KEY)
    return RequestLog(config, id_field="customer_id", model_sha256="abc", name="requests")


def _records(count: int) -> Any:
    def records() -> Any:
        for i in range(count):
            yield (
                {"customer_id": f"C{i:06d}", "tenure": i, "total_charges": float("nan")},
                {"churn_probability": 0.25, "churn": False},
            )

    return records


def test_each_customer_is_one_line_with_a_keyed_hash_and_no_id(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.write("predict", 0.0, _records(3))
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


def test_the_log_rotates_by_size_and_keeps_the_backups(tmp_path: Path) -> None:
    log = _log(tmp_path, max_bytes=2_000, backups=2)
    for _ in range(20):
        log.write("predict", 0.0, _records(5))
    log.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "requests.jsonl",
        "requests.jsonl.1",
        "requests.jsonl.2",
    ]
    for path in tmp_path.iterdir():
        assert path.stat().st_size < 4_000, path  # rotation happens between writes


def test_the_config_comes_from_the_environment(tmp_path: Path) -> None:
    config = RequestLogConfig.from_env(
        {
            "CHURN_REQUEST_LOG_DIR": str(tmp_path),
            "CHURN_REQUEST_LOG_MAX_BYTES": "123",
            "CHURN_REQUEST_LOG_BACKUPS": "4",
            "CHURN_REQUEST_LOG_KEY": "k",
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
