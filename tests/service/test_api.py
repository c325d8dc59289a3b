"""The served API: answers equal the booster's, bad requests get a 4xx naming the field.

Everything goes over HTTP to a real `bentoml serve` of the Bento built from the reproduced
repository; the expected probabilities come from the same model file scored in process on the
prepared (training) frames.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from churn import schema
from churn.request import MAX_CUSTOMERS, ValidCustomer
from churn.upload import MAX_ROWS
from mlgitops.serving.requestlog import hash_id
from tests.corpus import GENERATION_ROWS
from tests.request_rules import request_cases
from tests.rules import break_record
from tests.service.server import LOG_KEY, Built, Running

pytestmark = pytest.mark.e2e

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def raw(built: Built) -> pd.DataFrame:
    return pd.read_csv(built.checkout.path / "data/raw/telco_churn.csv")


@pytest.fixture(scope="module")
def expected(built: Built) -> pd.Series:
    """The booster's probability per customer id, on the prepared train and test frames."""
    root = built.checkout.path
    booster = lgb.Booster(model_file=str(root / "models/model.txt"))
    prepared = pd.concat(
        [pd.read_parquet(root / f"data/prepared/{part}.parquet") for part in ("train", "test")]
    )
    scores = booster.predict(prepared[list(schema.FEATURES)])
    return pd.Series(scores, index=prepared[schema.ID].astype("str"))


@pytest.fixture(scope="module")
def card(built: Built) -> dict[str, Any]:
    return dict(json.loads((built.checkout.path / "models/card.json").read_text()))


@pytest.fixture
def client(served: Running) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=60)


def customers(raw: pd.DataFrame) -> list[dict[str, Any]]:
    """Raw rows as a client sends them: JSON values, a blank total_charges as null."""
    records = raw.drop(columns=[schema.LABEL]).to_dict("records")
    return [
        {str(k): None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()}
        for r in records
    ]


def _assert_scores(ids: list[str], probabilities: list[float], expected: pd.Series) -> None:
    np.testing.assert_allclose(probabilities, expected.loc[ids].to_numpy(), rtol=0, atol=TOLERANCE)


def test_livez_and_readyz_answer(client: httpx.Client) -> None:
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_one_customer_scores_as_the_booster(
    client: httpx.Client, raw: pd.DataFrame, expected: pd.Series, card: dict[str, Any]
) -> None:
    new_customer = customers(raw[raw["tenure"] == 0].head(1))[0]
    assert new_customer["total_charges"] is None

    response = client.post("/predict", json={"customers": new_customer})

    assert response.status_code == 200, response.text
    [answer] = response.json()
    _assert_scores([new_customer[schema.ID]], [answer["churn_probability"]], expected)
    assert answer["customer_id"] == new_customer[schema.ID]
    assert answer["model"] == {"sha256": card["model"]["sha256"]}


def test_a_list_scores_as_the_booster_in_order_with_the_threshold(
    client: httpx.Client, raw: pd.DataFrame, expected: pd.Series, built: Built
) -> None:
    sent = customers(raw.sample(n=2000, random_state=7))
    threshold = yaml.safe_load((built.checkout.path / "params.yaml").read_text())["evaluate"][
        "threshold"
    ]

    response = client.post("/predict", json={"customers": sent})

    assert response.status_code == 200, response.text
    answers = response.json()
    ids = [c[schema.ID] for c in sent]
    assert [a["customer_id"] for a in answers] == ids
    probabilities = [a["churn_probability"] for a in answers]
    _assert_scores(ids, probabilities, expected)
    assert [a["churn"] for a in answers] == [p >= threshold for p in probabilities]
    assert 0 < sum(a["churn"] for a in answers) < len(answers)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("customers.csv", lambda frame: frame.to_csv(index=False).encode()),
        ("customers.parquet", _parquet),
    ],
)
def test_a_file_of_every_customer_scores_as_the_booster(
    client: httpx.Client,
    raw: pd.DataFrame,
    expected: pd.Series,
    card: dict[str, Any],
    name: str,
    encode: Callable[[pd.DataFrame], bytes],
) -> None:
    response = client.post("/predict_file", files={"file": (name, encode(raw))})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["customer_id"] == raw[schema.ID].tolist()  # the label column is ignored
    _assert_scores(answer["customer_id"], answer["churn_probability"], expected)
    assert answer["model"]["sha256"] == card["model"]["sha256"]


def _problem_fields(response: httpx.Response) -> list[str]:
    body = response.json()
    assert body["error"] and body["problems"], body
    assert all(problem["rule"] for problem in body["problems"]), body
    return [problem["field"] for problem in body["problems"]]


BAD_REQUESTS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], int, str]] = {
    "missing field": (
        lambda c: {"customers": [{k: v for k, v in c.items() if k != "contract"}]},
        400,
        "customers[0].contract",
    ),
    "wrong type": (lambda c: {"customers": [{**c, "tenure": "34"}]}, 400, "customers[0].tenure"),
    "unknown level": (
        lambda c: {"customers": [c, {**c, "payment_method": "Bitcoin"}]},
        400,
        "customers[1].payment_method",
    ),
    "out of range": (
        lambda c: {"customers": [{**c, "monthly_charges": 501.0}]},
        400,
        "customers[0].monthly_charges",
    ),
    "flag not 0 or 1": (
        lambda c: {"customers": [{**c, "partner": 2}]},
        400,
        "customers[0].partner",
    ),
    "unknown field": (lambda c: {"customers": [{**c, "age": 40}]}, 400, "customers[0].age"),
    "empty list": (lambda c: {"customers": []}, 400, "customers"),
    "no customers key": (lambda c: {"customer": c}, 400, "customers"),
    "null total_charges with tenure": (
        lambda c: {"customers": [{**c, "tenure": 5, "total_charges": None}]},
        400,
        "customers[0].total_charges",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_REQUESTS))
def test_a_bad_request_gets_a_4xx_naming_the_field(
    client: httpx.Client, raw: pd.DataFrame, kind: str
) -> None:
    make, status, field = BAD_REQUESTS[kind]
    response = client.post("/predict", json=make(customers(raw.head(1))[0]))
    assert response.status_code == status, response.text
    assert field in _problem_fields(response)


def test_every_rule_of_the_request_model_broken_gets_a_400_naming_the_field(
    client: httpx.Client, raw: pd.DataFrame
) -> None:
    """One request per rule the model declares (tests/request_rules.py), not a hand list."""
    good = customers(raw.head(GENERATION_ROWS))
    generated = request_cases("request", ValidCustomer, good)
    assert generated.cases and not generated.unguarded, generated.unguarded
    unnamed = []
    for case in generated.cases:
        bad = break_record(good[case.row or 0], case)
        response = client.post("/predict", json={"customers": [bad]})
        field = f"customers[0].{case.column}"
        if response.status_code != 400 or field not in _problem_fields(response):
            unnamed.append(f"{case}: {response.status_code} {response.text}")
    assert not unnamed, "\n".join(unnamed)


def test_malformed_json_gets_a_400_naming_the_body(client: httpx.Client) -> None:
    response = client.post(
        "/predict", content=b'{"customers": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert _problem_fields(response) == ["(body)"]
    assert "JSON" in response.json()["problems"][0]["rule"]


def test_a_form_instead_of_json_gets_a_415(client: httpx.Client) -> None:
    response = client.post("/predict", data={"customers": "[]"})
    assert response.status_code == 415
    assert _problem_fields(response) == ["(body)"]


def test_more_customers_than_the_limit_get_a_413_naming_it(
    client: httpx.Client, raw: pd.DataFrame
) -> None:
    one = customers(raw.head(1))[0]
    response = client.post("/predict", json={"customers": [one] * (MAX_CUSTOMERS + 1)})
    assert response.status_code == 413
    assert response.json()["limit"] == MAX_CUSTOMERS
    assert str(MAX_CUSTOMERS) in response.json()["problems"][0]["rule"]
    at_the_limit = client.post("/predict", json={"customers": [one] * MAX_CUSTOMERS})
    assert at_the_limit.status_code == 200
    assert len(at_the_limit.json()) == MAX_CUSTOMERS


BAD_FILES: dict[str, tuple[Callable[[pd.DataFrame], dict[str, Any]], int, str]] = {
    "missing column": (
        lambda raw: {"files": {"file": ("c.csv", raw.drop(columns="contract").to_csv().encode())}},
        400,
        "contract",
    ),
    "unknown level": (
        lambda raw: {
            "files": {"file": ("c.parquet", _parquet(raw.assign(internet_service="Satellite")))}
        },
        400,
        "internet_service",
    ),
    "fraction in an integer": (
        lambda raw: {"files": {"file": ("c.csv", raw.assign(tenure=1.5).to_csv().encode())}},
        400,
        "tenure",
    ),
    "not a table": (lambda raw: {"files": {"file": ("c.csv", b"")}}, 400, "file"),
    "a text field, not a file": (
        lambda raw: {"data": {"file": "https://example.com/c.csv"}, "files": {"x": ("x", b"")}},
        400,
        "file",
    ),
    "no file": (lambda raw: {"files": {"other": ("c.csv", b"a\n1\n")}}, 400, "file"),
    "not multipart": (lambda raw: {"json": {"file": "c.csv"}}, 415, "(body)"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_gets_a_4xx_naming_the_column(
    client: httpx.Client, raw: pd.DataFrame, kind: str
) -> None:
    make, status, field = BAD_FILES[kind]
    response = client.post("/predict_file", **make(raw.head(20)))
    assert response.status_code == status, response.text
    assert field in _problem_fields(response)


def test_a_file_over_the_row_limit_gets_a_413_naming_it(
    client: httpx.Client, raw: pd.DataFrame
) -> None:
    rows = raw.sample(n=MAX_ROWS + 1, replace=True, random_state=3)
    response = client.post("/predict_file", files={"file": ("c.parquet", _parquet(rows))})
    assert response.status_code == 413, response.text
    assert str(MAX_ROWS) in response.json()["problems"][0]["rule"]


def _samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
        if sample.name.split("_")[0] in ("predictions", "churn", "rejected")
    }


def _eventually(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_metrics_count_predictions_scores_and_rejections_by_field(
    client: httpx.Client, raw: pd.DataFrame
) -> None:
    predicted = ("predictions_total", (("endpoint", "predict"),))
    scores = ("churn_probability_count", ())  # named by params.yaml's serving.score
    rejected = ("rejected_requests_total", (("field", "streaming_tv"),))
    before = _samples(client)
    sent = customers(raw.head(3))

    assert client.post("/predict", json={"customers": sent}).status_code == 200
    bad = {"customers": [{**sent[0], "streaming_tv": "Sometimes"}]}
    assert client.post("/predict", json=bad).status_code == 400

    def counted() -> bool:
        after = _samples(client)
        return (
            after.get(predicted, 0) >= before.get(predicted, 0) + 3
            and after.get(scores, 0) >= before.get(scores, 0) + 3
            and after.get(rejected, 0) == before.get(rejected, 0) + 1
        )

    assert _eventually(counted), _samples(client)


def test_the_request_log_has_each_customer_with_a_hashed_id(
    client: httpx.Client, raw: pd.DataFrame, built: Built
) -> None:
    sent = [{**c, schema.ID: f"LOGGED-{i}"} for i, c in enumerate(customers(raw.head(3)))]
    answers = client.post("/predict", json={"customers": sent}).json()
    pseudonyms = {
        hash_id(LOG_KEY.encode(), c[schema.ID]): (c, a) for c, a in zip(sent, answers, strict=True)
    }

    def logged() -> dict[str, dict[str, Any]]:
        lines = [
            json.loads(line)
            for path in sorted(built.log_dir.glob("*.jsonl*"))
            for line in path.read_text().splitlines()
        ]
        return {line["customer_id_hmac"]: line for line in lines}

    assert _eventually(lambda: set(pseudonyms) <= set(logged()))
    lines = logged()
    for pseudonym, (customer, answer) in pseudonyms.items():
        line = lines[pseudonym]
        assert line["inputs"] == {k: v for k, v in customer.items() if k != schema.ID}
        assert line["outputs"] == {
            "churn_probability": answer["churn_probability"],
            "churn": answer["churn"],
        }
        assert line["endpoint"] == "predict"
    text = "".join(p.read_text() for p in Path(built.log_dir).glob("*.jsonl*"))
    assert "LOGGED-" not in text


def test_the_openapi_document_shows_one_customer_or_a_list_and_the_answers(
    client: httpx.Client,
) -> None:
    document = client.get("/docs.json").json()
    predict = document["paths"]["/predict"]["post"]
    body = predict["requestBody"]["content"]["application/json"]["schema"]
    customer = {"$ref": "#/components/schemas/Customer"}

    forms = body["properties"]["customers"]["oneOf"]

    assert customer in forms
    [many] = [form for form in forms if form.get("type") == "array"]
    assert many["items"] == customer
    assert (many["minItems"], many["maxItems"]) == (1, MAX_CUSTOMERS)
    documented = set(document["components"]["schemas"]["Customer"]["properties"])
    assert documented == {schema.ID, *schema.FEATURES}
    answer = predict["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["type"] == "array"
    fields = {"customer_id", "churn_probability", "churn", "model"}
    assert set(answer["items"]["required"]) == fields
    assert answer["items"]["properties"]["model"]["required"] == ["sha256"]
