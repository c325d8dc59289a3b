"""Property-based fuzzing of the served API from its own OpenAPI document: never a 5xx.

Schemathesis generates valid and invalid requests for every operation of /docs.json (bodies,
content types, methods), with a fixed seed; every request and answer is kept in a HAR file,
from which the test counts them.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.checkout import VENV_BIN
from tests.service.server import Built, Running

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 500
SEED = 20261123
MIN_API_REQUESTS = 1_000


def test_a_thousand_generated_requests_get_no_server_error(
    served: Running, built: Built, tmp_path: Path
) -> None:
    completed = subprocess.run(
        [
            str(VENV_BIN / "st"),
            "run",
            f"{served.url}/docs.json",
            *("--checks", "not_a_server_error"),
            *("--max-examples", str(EXAMPLES_PER_OPERATION)),
            *("--seed", str(SEED)),
            *("--workers", "1"),
            *("--report", "har", "--report-dir", str(tmp_path)),
        ],
        env={**built.env, "HOME": str(tmp_path), "NO_COLOR": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    [har] = tmp_path.glob("*.json")
    entries = json.loads(har.read_text())["log"]["entries"]
    answers = Counter(
        (entry["request"]["url"].removeprefix(served.url), entry["response"]["status"])
        for entry in entries
        if entry["request"]["method"] == "POST"
    )
    api = {path: 0 for path in ("/predict", "/predict_file")}
    for (path, _status), count in answers.items():
        if path in api:
            api[path] += count
    assert sum(api.values()) >= MIN_API_REQUESTS, answers
    assert all(count > 0 for count in api.values()), answers
    assert answers[("/predict", 200)] > 0, answers  # valid customers were generated too
    scored = [
        json.loads(entry["request"]["postData"]["text"])["customers"]
        for entry in entries
        if entry["request"]["url"] == f"{served.url}/predict" and entry["response"]["status"] == 200
    ]
    assert any(isinstance(customers, dict) for customers in scored), "no single customer sent"
    assert any(isinstance(customers, list) for customers in scored), "no list sent"
    assert not [entry for entry in entries if entry["response"]["status"] >= 500], answers
