"""Reading the drift report (contract interface 3) and writing the pull request's body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.retrain.body import MARKER, MAX_BODY, linked_images, pull_body
from mlgitops.retrain.snapshot import SnapshotChange
from mlgitops.retrain.verdict import read_verdict

CHANGE = SnapshotChange(100, 130, 30, 2, 1, ("in/a.csv",))


def _report(folder: Path, **fields: object) -> Path:
    data = {"retraining_due": True, "rows": 900, "drifted": ["tenure", "contract"],
            "features": {}, "policy": {}} | fields  # fmt: skip
    (folder / "drift.json").write_text(json.dumps(data))
    (folder / "drift.md").write_text("# Drift\n![tenure](tenure.png)\n")
    return folder


def test_a_due_report_gives_its_reason_and_markdown(tmp_path: Path) -> None:
    verdict = read_verdict(_report(tmp_path))
    assert verdict.due and verdict.drifted == ("tenure", "contract")
    assert verdict.reason == "retraining is due: 900 logged rows, drifted: tenure, contract"
    assert verdict.markdown.startswith("# Drift")


def test_a_report_not_due_says_why(tmp_path: Path) -> None:
    verdict = read_verdict(_report(tmp_path, retraining_due=False, drifted=[]))
    assert not verdict.due
    assert verdict.reason == "retraining is not due: 900 logged rows, no feature drifted"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"retraining_due": "yes"}, "retraining_due"),
        ({"rows": "many"}, "rows"),
        ({"drifted": "tenure"}, "drifted"),
    ],
)
def test_a_malformed_report_names_the_field(
    tmp_path: Path, fields: dict[str, object], named: str
) -> None:
    with pytest.raises(UsageError, match=named):
        read_verdict(_report(tmp_path, **fields))


def test_a_missing_report_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="mlgitops drift"):
        read_verdict(tmp_path)


def test_the_body_is_the_drift_report_then_the_data_change() -> None:
    body = pull_body("# Drift\n![tenure](tenure.png)", CHANGE, data="d.csv", pointer="d.csv.dvc")
    assert body.startswith(MARKER + "\n# Drift\n")
    assert "*tenure: tenure.png in the drift report artifact*" in body
    assert "| 100 | 130 | 30 | 2 | 1 |" in body
    assert "- `in/a.csv`" in body
    assert body.index("# Drift") < body.index("## Data change")


def test_uploaded_pictures_are_linked_and_the_rest_named() -> None:
    markdown = "# Drift\n![a](a.png)\n![b](b.png)\n![c](https://x.test/c.png)"
    assert linked_images(markdown) == ["a.png", "b.png"]
    body = pull_body(markdown, CHANGE, data="d", pointer="d.dvc", image_urls={"a.png": "U/a"})
    assert "![a](U/a)" in body
    assert "*b: b.png in the drift report artifact*" in body
    assert "![c](https://x.test/c.png)" in body


def test_a_huge_drift_report_is_cut_and_the_data_change_kept() -> None:
    body = pull_body("x" * (2 * MAX_BODY), CHANGE, data="d.csv", pointer="d.csv.dvc")
    assert len(body) <= MAX_BODY
    assert "drift report cut to fit" in body and "| 100 | 130 | 30 | 2 | 1 |" in body
