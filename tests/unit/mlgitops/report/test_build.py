"""`build_report` on small real DVC repositories: data changes, stages, plots, size, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.report import ReportRequest, build_report, render_markdown
from mlgitops.report.markdown import GITHUB_LIMIT, TRUNCATION_NOTE
from tests.unit.mlgitops.report.repos import PYTHON, DvcRepo, stage_flat, train_script


def test_changed_table_reports_rows_columns_and_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = DvcRepo.create(tmp_path / "repo")
    before = "id,age,plan\n1,30,a\n2,40,b\n3,50,a\n"
    after = "id,age,plan,region\n1,30,a,n\n2,40,b,s\n3,unknown,a,n\n4,20,b,s\n5,25,a,e\n"
    repo.write("data/customers.csv", before)
    repo.add("data/customers.csv")
    repo.write("notes.txt", "not data")
    base = repo.commit("base data")
    repo.write("data/customers.csv", after)
    repo.add("data/customers.csv")
    monkeypatch.chdir(repo.root)

    report = build_report(ReportRequest(base=base))

    assert report["data"] == [
        {
            "path": "data/customers.csv",
            "change": "modified",
            "old": {
                "size": len(before),
                "rows": 3,
                "columns": {"id": "int64", "age": "int64", "plan": "str"},
            },
            "new": {
                "size": len(after),
                "rows": 5,
                "columns": {"id": "int64", "age": "str", "plan": "str", "region": "str"},
            },
            "columns_added": ["region"],
            "columns_removed": [],
            "columns_retyped": [{"column": "age", "old": "int64", "new": "str"}],
        }
    ]
    markdown = render_markdown(report)
    assert (
        "| data/customers.csv | modified | 33 B → 69 B | 3 → 5 | 3 → 4 |"
        " added `region`<br>`age` int64 → str |"
    ) in markdown


def test_new_and_deleted_inputs_have_one_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = DvcRepo.create(tmp_path / "repo")
    repo.write("data/old.csv", "a\n1\n")
    repo.add("data/old.csv")
    base = repo.commit("base")
    repo.git("rm", "--quiet", "data/old.csv.dvc")
    (repo.root / "data" / "old.csv").unlink()
    repo.write("data/new.csv", "b,c\nx,1.5\n")
    repo.add("data/new.csv")
    head = repo.commit("swap the data")
    monkeypatch.chdir(repo.root)

    report = build_report(ReportRequest(base=base, head=head))

    changes = {item["path"]: item for item in report["data"]}
    assert changes["data/old.csv"]["change"] == "deleted"
    assert changes["data/old.csv"]["new"] is None
    assert changes["data/old.csv"]["old"]["rows"] == 1
    assert changes["data/new.csv"]["change"] == "added"
    assert changes["data/new.csv"]["old"] is None
    assert changes["data/new.csv"]["new"]["columns"] == {"b": "str", "c": "float64"}


def test_param_change_names_the_stage_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = stage_flat(tmp_path / "repo")
    monkeypatch.chdir(layout.repo.root)

    report = build_report(ReportRequest(base=layout.base, head=layout.head))

    assert report["stages"] == [{"stage": "train", "why": ["params: train.lr"]}]
    assert "| train | params: train.lr |" in render_markdown(report)


def test_code_change_and_unreproduced_change_in_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = stage_flat(tmp_path / "repo")
    repo = layout.repo
    script = (repo.root / "train.py").read_text()
    repo.write("train.py", script + "# tuned\n")
    repo.repro()
    repo.write(
        "params.yaml", (repo.root / "params.yaml").read_text().replace("depth: 3", "depth: 4")
    )
    monkeypatch.chdir(repo.root)

    report = build_report(ReportRequest(base="HEAD"))

    assert report["stages"] == [
        {
            "stage": "train",
            "why": ["deps: train.py", "not reproduced: params: train.depth (modified)"],
        }
    ]


def test_unparsable_metrics_file_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = stage_flat(tmp_path / "repo")
    layout.repo.write("metrics.json", '{"acc": 0.7,')
    monkeypatch.chdir(layout.repo.root)

    report = build_report(ReportRequest(base=layout.base))

    [error] = report["metrics_errors"]
    assert (error["rev"], error["path"]) == ("workspace", "metrics.json")
    assert "JSON" in error["error"]
    assert report["headline"][0]["verdict"] == "missing"
    assert "> ⚠️ `metrics.json` could not be loaded at `workspace`: " in render_markdown(report)


def test_huge_params_diff_stays_under_the_comment_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = DvcRepo.create(tmp_path / "repo")
    repo.write_yaml("params.yaml", {f"knob_{number:04d}": number for number in range(3000)})
    base = repo.commit("base")
    repo.write_yaml("params.yaml", {f"knob_{number:04d}": -number for number in range(1, 3000)})
    monkeypatch.chdir(repo.root)

    report = build_report(ReportRequest(base=base))
    markdown = render_markdown(report)

    assert len(report["params"]["params.yaml"]) == 3000  # knob_0000 is gone at the head
    assert len(markdown) < GITHUB_LIMIT
    assert markdown.rstrip().endswith(TRUNCATION_NOTE)
    assert "| params.yaml | knob_0000 | 0 | - |" in markdown
    assert "| params.yaml | knob_0001 | 1 | -1 |" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")


def test_failed_repro_is_reported_with_the_stage_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = DvcRepo.create(tmp_path / "repo")
    repo.write(
        "validate.py",
        train_script({}, "print('3 rows break rule age >= 0')", "raise SystemExit(1)"),
    )
    repo.write_yaml("params.yaml", {"train": {"lr": 0.1}})
    stage = {"cmd": f"{PYTHON} validate.py", "deps": ["validate.py"], "outs": ["ok.txt"]}
    repo.write_yaml("dvc.yaml", {"stages": {"validate": stage}})
    base = repo.commit("a stage that fails")
    repro = repo.run("dvc", "repro")
    assert repro.returncode != 0, repro
    log = repo.write("repro.log", repro.stdout + repro.stderr)
    monkeypatch.chdir(repo.root)

    report = build_report(ReportRequest(base=base, repro_log=log))

    assert report["pipeline"]["status"] == "failed"
    assert report["pipeline"]["failed_stage"] == "validate"
    assert "3 rows break rule age >= 0" in report["pipeline"]["log_tail"]
    markdown = render_markdown(report)
    assert "#### ❌ `dvc repro` failed at stage `validate`" in markdown
    assert "```text\nRunning stage 'validate':" in markdown


def test_a_malformed_policy_is_a_usage_error_and_no_policy_is_no_headline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = stage_flat(tmp_path / "repo")
    monkeypatch.chdir(layout.repo.root)
    broken = layout.repo.write_yaml("broken.yaml", {"gate": [{"metric": "acc"}]})
    without = layout.repo.write_yaml("plain.yaml", {"train": {"lr": 0.1}})

    with pytest.raises(UsageError, match=r"broken\.yaml: gate\[0\] lacks `better`"):
        build_report(ReportRequest(base=layout.base, params=broken))
    assert build_report(ReportRequest(base=layout.base, params=without))["headline"] == []
