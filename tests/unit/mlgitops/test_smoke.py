"""`mlgitops smoke` against a stand-in model service that is right, or broken in one way.

The stand-in (tests/standins/scoring.py) answers the card's golden cases where and how the card
declares them (names unlike the example model's: rows in, score and label out); each fault
breaks one thing a bad deployment breaks, and the test checks that exactly that check fails.
The real service is checked in tests/service/test_smoke.py.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlgitops.cli import main
from mlgitops.errors import CheckFailedError
from mlgitops.smoke import Card, load_card, run_smoke
from tests.standins.scoring import FakeScoringService, Fault

SHA = "ab" * 32


def _row(number: int, **changes: Any) -> dict[str, Any]:
    row = {
        "row_id": f"000{number}-ABCDE",
        "female": number % 2,
        "tenure": 3 * number,
        "contract": "Month-to-month",
        "monthly_charges": 20.5 + number,
        "total_charges": None if number == 0 else 61.5 * number,
    }
    return {**row, **changes}


CARD: dict[str, Any] = {
    "model": {"path": "models/model.txt", "sha256": SHA},
    "features": ["female", "tenure", "contract", "monthly_charges", "total_charges"],
    "golden": {
        "route": "/score",
        "request_key": "rows",
        "response_key": "predictions",
        "tolerance": 1e-6,
        "cases": [
            {"input": _row(0), "expected": {"score": 0.6312345678901, "label": True}},
            {"input": _row(1), "expected": {"score": 0.0123456789, "label": False}},
            {"input": _row(2, contract="Two year"), "expected": {"score": 0.25, "label": False}},
        ],
    },
}
ALL_CHECKS = [
    "livez",
    "readyz",
    "golden 0",
    "golden 1",
    "golden 2",
    "model sha256",
    "bad request (no female)",
    "latency",
]


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(CARD))
    return path


def _smoke(fake: FakeScoringService, card: Card, **options: Any) -> dict[str, tuple[bool, str]]:
    transport = httpx.MockTransport(fake)
    with httpx.Client(base_url="http://service", transport=transport) as client:
        result = run_smoke(client, card, **options)
    return {check.name: (check.passed, check.detail) for check in result.checks}


def test_every_check_passes_against_a_correct_service(card: Path) -> None:
    checks = _smoke(FakeScoringService(CARD), load_card(card), requests=20)
    assert list(checks) == ALL_CHECKS
    assert all(passed for passed, _ in checks.values()), checks
    assert checks["bad request (no female)"] == (True, "422 naming female")
    assert "over 20 requests (bound 100)" in checks["latency"][1]


@pytest.mark.parametrize(
    ("fault", "failing", "detail"),
    [
        (Fault.wrong_model, ["golden 0", "golden 1", "golden 2"], "off by 0.05 > 1e-06"),
        (Fault.wrong_label, ["golden 0", "golden 1", "golden 2"], "label: got True, the card"),
        (Fault.other_model, ["model sha256"], "served 000000000000, the card says abababababab"),
        (Fault.crash_on_bad, ["bad request (no female)"], "500, a 4xx expected (Traceback"),
        (Fault.accept_bad, ["bad request (no female)"], "200, a 4xx expected"),
        (Fault.vague_bad, ["bad request (no female)"], "400, but the answer does not name female"),
        (Fault.not_ready, ["readyz"], "GET /readyz: 503 (Runner not ready)"),
        (Fault.flaky, ["golden 2", "latency"], "HTTP 503"),
    ],
)
def test_a_broken_service_fails_exactly_the_check_it_breaks(
    card: Path, fault: Fault, failing: list[str], detail: str
) -> None:
    checks = _smoke(FakeScoringService(CARD, fault), load_card(card), requests=10)
    assert [name for name, (passed, _) in checks.items() if not passed] == failing
    assert detail in checks[failing[-1]][1]


def test_slow_answers_break_the_latency_bound(card: Path) -> None:
    fake = FakeScoringService(CARD, Fault.slow, delay=0.03)
    checks = _smoke(fake, load_card(card), requests=4, max_p99_ms=20)
    assert [name for name, (passed, _) in checks.items() if not passed] == ["latency"]
    assert "over 4 requests (bound 20)" in checks["latency"][1]
    assert fake.seen == 3 + 1 + 4  # golden, bad request, latency


class Smoke:
    """Runs `mlgitops smoke` in process through `cli.main`, the real exit-code mapping."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str]:
        """Exit code and stderr (whitespace runs made one space: rich wraps at 80 columns)."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "argv", ["mlgitops", "smoke", *argv])
            with pytest.raises(SystemExit) as stop:
                main()
        captured = self.capsys.readouterr()
        assert captured.out == "", "smoke writes no data to stdout"
        return int(stop.value.code or 0), " ".join(captured.err.split())


@pytest.fixture
def smoke(capsys: pytest.CaptureFixture[str]) -> Smoke:
    return Smoke(capsys)


def test_cli_passes_over_http_and_says_so(card: Path, smoke: Smoke) -> None:
    with FakeScoringService(CARD).serve() as url:
        code, err = smoke("--url", url, "--card", str(card), "--requests", "5")
    assert code == 0, err
    assert f"smoke: passed, all 8 checks hold against {url}" in err
    assert "FAIL" not in err


def test_cli_exits_1_naming_what_failed(card: Path, smoke: Smoke) -> None:
    with FakeScoringService(CARD, Fault.wrong_model).serve() as url:
        code, err = smoke("--url", url, "--card", str(card), "--requests", "5")
    assert code == 1, err
    assert f"smoke: 3 of 8 checks failed against {url}:" in err
    assert "golden 0: score: got 0.681235, the card says 0.631235 (off by 0.05 > 1e-06)" in err
    assert "CheckFailedError" in err


def test_cli_times_out_on_an_answer_that_never_comes(card: Path, smoke: Smoke) -> None:
    fake = FakeScoringService(CARD, Fault.slow, delay=0.5)
    with fake.serve() as url:
        code, err = smoke("--url", url, "--card", str(card), "--requests", "1", "--timeout", "0.2")
    assert code == 1, err
    assert "golden 0: POST /score: timed out (ReadTimeout)" in err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_url_exits_1_with_what_to_check(card: Path, smoke: Smoke) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code, err = smoke("--url", url, "--card", str(card))
    assert code == 1, err
    assert f"smoke: cannot reach {url}" in err
    assert "check --url and that the service is running" in err
    assert "Traceback" not in err


def test_run_smoke_raises_on_unreachable_service(card: Path) -> None:
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{_closed_port()}") as client,
        pytest.raises(CheckFailedError, match="cannot reach"),
    ):
        run_smoke(client, load_card(card))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found; pass --card"),
        ("{not json", "is not valid JSON"),
        (json.dumps({"model": {"sha256": SHA}}), "no `golden` section); re-run the train stage"),
        (json.dumps({"golden": [{"customer": {}}]}), "golden: Input should be a valid dictionary"),
        (
            json.dumps({"golden": {"request_key": "rows", "cases": []}}),
            "golden.cases: Tuple should have at least 1 item",
        ),
        (
            json.dumps({"golden": {"request_key": "rows", "cases": [{"input": {"a": 1}}]}}),
            "golden.cases.0.expected: Field required",
        ),
    ],
)
def test_a_card_without_usable_golden_cases_is_a_usage_error(
    tmp_path: Path, smoke: Smoke, content: str | None, message: str
) -> None:
    path = tmp_path / "card.json"
    if content is not None:
        path.write_text(content)
    code, err = smoke("--url", "http://127.0.0.1:1", "--card", str(path))
    assert code == 2, err
    assert message in err


def test_a_url_that_is_not_http_is_a_usage_error(card: Path, smoke: Smoke) -> None:
    code, err = smoke("--url", "127.0.0.1:3000", "--card", str(card))
    assert code == 2, err
    assert "is not an http(s) URL" in err
