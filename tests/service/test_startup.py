"""The service refuses a model that is not the card's, and is never ready with a wrong one.

Each test copies the built Bento's directory, breaks one thing in the copy, as someone editing
a Bento after it was built would, and runs a real `bentoml serve` of that directory.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.service.server import START_SECONDS, Built, Running, start, status, stop, wait_until

pytestmark = pytest.mark.e2e


def _copy(built: Built, tmp_path: Path) -> Path:
    bento = tmp_path / "bento"
    shutil.copytree(built.bento, bento)
    return bento


def _exits(running: Running) -> tuple[int, bool]:
    """The server's exit code, and whether /readyz ever said 200 before it exited."""
    ready = False
    deadline = time.monotonic() + START_SECONDS
    while running.process.poll() is None and time.monotonic() < deadline:
        ready = ready or status(running.url + "/readyz") == 200
        time.sleep(0.1)
    stop(running)
    return running.process.returncode, ready


def test_a_tampered_model_file_stops_the_server_from_starting(built: Built, tmp_path: Path) -> None:
    bento = _copy(built, tmp_path)
    model = bento / "src/models/model.txt"
    model.write_text(model.read_text().replace("shrinkage=0.03", "shrinkage=0.3", 1))

    running = start(str(bento), built, tmp_path / "run")
    code, ready = _exits(running)

    assert code != 0, running.text()
    assert not ready
    assert "refusing to start" in running.text()
    assert "sha256" in running.text()


def test_a_missing_model_file_stops_the_server_from_starting(built: Built, tmp_path: Path) -> None:
    bento = _copy(built, tmp_path)
    (bento / "src/models/model.txt").unlink()

    running = start(str(bento), built, tmp_path / "run")
    code, ready = _exits(running)

    assert code != 0, running.text()
    assert not ready
    assert "model file" in running.text() and "is missing" in running.text()


def test_golden_customers_that_score_otherwise_keep_it_live_but_never_ready(
    built: Built, tmp_path: Path
) -> None:
    bento = _copy(built, tmp_path)
    card_path = bento / "src/models/card.json"
    card = json.loads(card_path.read_text())
    card["golden"]["cases"][0]["expected"]["churn_probability"] += 1e-6  # the model is untouched
    card_path.write_text(json.dumps(card))

    running = start(str(bento), built, tmp_path / "run")
    try:
        wait_until(running, "/livez")
        wait_until(running, "/readyz", expected=503)
        time.sleep(1)
        assert status(running.url + "/readyz") == 503
    finally:
        stop(running)
    assert "not ready: golden case 0: churn_probability: got" in running.text()
