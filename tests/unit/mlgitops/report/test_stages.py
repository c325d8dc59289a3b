"""Which stages changed and why, from two dvc.lock texts and `dvc status`."""

from __future__ import annotations

from typing import Any

import yaml

from mlgitops.report.stages import changed_stages, parse_lock


def _lock(**stages: Any) -> str:
    return yaml.safe_dump({"schema": "2.0", "stages": stages})


def _dep(path: str, md5: str) -> dict[str, Any]:
    return {"path": path, "hash": "md5", "md5": md5, "size": 10}


TRAIN = {
    "cmd": "python train.py",
    "deps": [_dep("train.py", "aaa"), _dep("data/train.csv", "bbb")],
    "params": {"params.yaml": {"train": {"lr": 0.1, "depth": 3}}, "other.yaml": {"seed": 1}},
    "outs": [_dep("model.txt", "ccc")],
}


def _changed(base: dict[str, Any], head: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    return changed_stages(parse_lock(_lock(**base)), parse_lock(_lock(**head)), **kw)


def test_unchanged_lock_changes_nothing() -> None:
    assert _changed({"train": TRAIN}, {"train": TRAIN}) == []


def test_each_kind_of_input_is_named() -> None:
    head = {
        **TRAIN,
        "cmd": "python train.py --fast",
        "deps": [_dep("train.py", "ddd"), _dep("data/train.csv", "bbb"), _dep("extra.py", "e")],
        "params": {"params.yaml": {"train": {"lr": 0.2, "depth": 3}}, "other.yaml": {"seed": 2}},
        "outs": [_dep("model.txt", "fff")],
    }

    assert _changed({"train": TRAIN}, {"train": head}) == [
        {
            "stage": "train",
            "why": [
                "cmd: changed",
                "deps: train.py",
                "deps: extra.py",
                "params: other.yaml:seed",  # in the lock's order of files
                "params: train.lr",
            ],
        }
    ]


def test_same_inputs_different_outputs_is_named_as_such() -> None:
    head = {**TRAIN, "outs": [_dep("model.txt", "fff")]}

    assert _changed({"train": TRAIN}, {"train": head}) == [
        {"stage": "train", "why": ["outs: model.txt (same inputs)"]}
    ]


def test_new_and_removed_stages() -> None:
    assert _changed({"old": TRAIN}, {"train": TRAIN}) == [
        {"stage": "train", "why": ["new stage"]},
        {"stage": "old", "why": ["removed"]},
    ]


def test_dvc_status_adds_what_is_not_reproduced() -> None:
    status = {
        "train": [
            {"changed deps": {"params.yaml": {"train.lr": "modified"}, "train.py": "modified"}},
            "changed command",
        ],
        "data/raw.csv.dvc": [{"changed outs": {"data/raw.csv": "modified"}}],
    }

    assert _changed({"train": TRAIN}, {"train": TRAIN}, status=status) == [
        {
            "stage": "train",
            "why": [
                "not reproduced: params: train.lr (modified)",
                "not reproduced: deps: train.py (modified)",
                "not reproduced: changed command",
            ],
        },
        {"stage": "data/raw.csv.dvc", "why": ["not reproduced: outs: data/raw.csv (modified)"]},
    ]


def test_lock_in_a_subdirectory_addresses_stages_like_dvc() -> None:
    assert list(parse_lock(_lock(train=TRAIN), "models/dvc.lock")) == ["models/dvc.yaml:train"]
    assert parse_lock(None) == {}
