"""mlgitops.settings: one loader for every params.yaml section; a wrong key is one sentence
naming the file, the key path and what was expected, with "did you mean" for a near miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from mlgitops.errors import UsageError
from mlgitops.settings import (
    DeploySettings,
    DriftPolicy,
    GatePolicy,
    RenderSettings,
    RetrainSettings,
    ServingSettings,
    key_path,
    load_settings,
    parse_settings,
)
from tests.checkout import REPO_ROOT

REPO_PARAMS: dict[str, Any] = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def _message(kind: Any, params: dict[str, Any], section: str | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        parse_settings(kind, params, source="p.yaml", section=section)
    return str(caught.value)


def test_every_section_of_the_repository_params_parses() -> None:
    assert load_settings(GatePolicy, REPO_ROOT / "params.yaml", "gate").root[0].metric
    kinds: list[tuple[type[BaseModel], str]] = [
        (DriftPolicy, "drift"),
        (RetrainSettings, "retrain"),
        (DeploySettings, "deploy"),
        (ServingSettings, "serving"),
    ]
    for kind, section in kinds:
        parse_settings(kind, REPO_PARAMS, section=section)
    render = parse_settings(RenderSettings, REPO_PARAMS)
    assert render.retrain.alerts.score_high in render.serving.score_buckets


def test_the_key_path_is_written_as_in_the_file() -> None:
    assert key_path(["gate", 0, "max_worsening"]) == "gate[0].max_worsening"
    assert key_path(["deploy", "writable", "Bad_Name", "[key]"]) == "deploy.writable.Bad_Name"


@pytest.mark.parametrize(
    ("section", "data", "expected"),
    [
        (
            "serving",
            {"score": "p", "score_bukets": [0.5]},
            "serving.score_bukets is not a known key; did you mean `score_buckets`?",
        ),
        ("drift", {"min_row": 5}, "drift.min_row is not a known key; did you mean `min_rows`?"),
        (
            "serving",
            {"score": "p", "score_buckets": [0.5], "zzz": 1},
            "serving.zzz is not a known key; expected one of: score, score_buckets",
        ),
    ],
)
def test_an_unknown_key_is_named_with_the_nearest_valid_one(
    section: str, data: dict[str, Any], expected: str
) -> None:
    kind = {"serving": ServingSettings, "drift": DriftPolicy}[section]
    assert _message(kind, {section: data}, section) == f"p.yaml: {expected}"


def test_a_misspelt_required_key_is_one_sentence_not_also_a_missing_one() -> None:
    deploy = dict(REPO_PARAMS["deploy"])
    deploy["namespce"] = deploy.pop("namespace")
    message = _message(DeploySettings, {"deploy": deploy}, "deploy")
    assert message == "p.yaml: deploy.namespce is not a known key; did you mean `namespace`?"


def test_a_near_miss_deep_in_a_list_or_mapping_is_found() -> None:
    rules = [{"metric": "a", "better": "higher"}, {"metric": "b", "better": "lower", "at_mots": 1}]
    assert _message(GatePolicy, {"gate": rules}, "gate") == (
        "p.yaml: gate[1].at_mots is not a known key; did you mean `at_most`?"
    )
    deploy = dict(REPO_PARAMS["deploy"], secret_env={"K": {"secret": "s", "kye": "k"}})
    message = _message(DeploySettings, {"deploy": deploy}, "deploy")
    assert message == "p.yaml: deploy.secret_env.K.kye is not a known key; did you mean `key`?"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"score": "p", "score_buckets": "0.5"}, "score_buckets is '0.5'; expected a list"),
        ({"score": "p", "score_buckets": []}, "score_buckets is []; expected at least 1 item(s)"),
        (
            {"score": "p", "score_buckets": [0.9, 0.5]},
            "score_buckets is [0.9, 0.5]: expected bucket bounds in increasing order, each once",
        ),
        ({"score": "p-x", "score_buckets": [1]}, "score is 'p-x': not a Prometheus metric name"),
        ({"score": "p", "score_buckets": [True]}, "score_buckets[0] is True; expected a valid"),
    ],
)
def test_a_wrong_value_says_what_was_expected(data: dict[str, Any], expected: str) -> None:
    message = _message(ServingSettings, {"serving": data}, "serving")
    assert message.startswith(f"p.yaml: serving.{expected}")


def test_missing_keys_of_one_mapping_make_one_sentence() -> None:
    assert _message(ServingSettings, {"serving": {}}, "serving") == (
        "p.yaml: serving lacks `score`, `score_buckets`; see docs/serving.md"
    )


def test_a_missing_or_empty_section_is_named(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  seed: 1\nserving:\n")
    with pytest.raises(
        UsageError, match=r"params\.yaml has no 'drift' section; see docs/drift\.md"
    ):
        load_settings(DriftPolicy, params, "drift")
    with pytest.raises(UsageError, match=r"params\.yaml: serving is None; expected a mapping"):
        load_settings(ServingSettings, params, "serving")


def test_an_unreadable_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_settings(ServingSettings, tmp_path / "nothing.yaml", "serving")


def test_the_parsed_settings_are_read_only_and_typed() -> None:
    retrain = parse_settings(RetrainSettings, REPO_PARAMS, section="retrain")
    assert retrain.pointer == retrain.data.with_name(retrain.data.name + ".dvc")
    assert isinstance(retrain.validate_stages, tuple)
    with pytest.raises(ValueError, match="frozen"):
        retrain.id_column = "x"


def test_yaml_numbers_are_not_taken_for_strings_or_flags_for_numbers() -> None:
    deploy = dict(REPO_PARAMS["deploy"], port="3000", env={"A": 1}, replicas=True)
    message = _message(DeploySettings, {"deploy": deploy}, "deploy").splitlines()
    assert message == [
        "p.yaml: deploy.port is '3000'; expected a valid integer",
        "p.yaml: deploy.replicas is True; expected a valid integer",
        "p.yaml: deploy.env.A is 1; expected a valid string",
    ]
