"""The comment markdown: headline first, '-' for missing values, folding, the size limit."""

from __future__ import annotations

from typing import Any

from mlgitops.report.markdown import FOLD_ROWS, GITHUB_LIMIT, TRUNCATION_NOTE, render_markdown

BASE_SHA = "a" * 40
HEAD_SHA = "b" * 40


def _report(**sections: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "schema_version": 1,
        "base": {"rev": "main", "sha": BASE_SHA},
        "head": {"rev": "workspace", "sha": HEAD_SHA, "workspace": True},
        "metrics": {},
        "params": {},
        "metrics_errors": [],
        "headline": [],
        "plots": [],
        "data": [],
        "stages": [],
        "pipeline": {"status": "ok", "failed_stage": None, "log_tail": None},
    }
    report.update(sections)
    return report


def test_headline_is_the_first_paragraph_with_marks() -> None:
    headline = [
        {
            "metric": "test.roc_auc",
            "path": "metrics.json",
            "old": 0.84,
            "new": 0.85,
            "diff": 0.01,
            "better": "higher",
            "verdict": "better",
        },
        {
            "metric": "test.log_loss",
            "path": "metrics.json",
            "old": None,
            "new": 0.4,
            "diff": None,
            "better": "lower",
            "verdict": "new",
        },
    ]
    markdown = render_markdown(_report(headline=headline))

    title, table = markdown.split("\n\n")[:2]
    assert title == "### 📊 mlgitops report: `main` (`aaaaaaa`) → workspace (on `bbbbbbb`)"
    assert table.splitlines() == [
        "| Metric | Base | Head | Change | 95% CI | Label |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        "| **test.roc_auc** | 0.84 | 0.85 | +0.01 | - | ✅ better (no interval) |",
        "| **test.log_loss** | - | 0.4 | - | - | 🆕 new (no base value) |",
    ]


def test_missing_values_are_dashes_and_errors_are_said() -> None:
    metrics = {"metrics.json": {"acc": {"old": None, "new": 0.7}, "f1": {"old": 0.5, "new": None}}}
    errors = [{"rev": "main", "path": "metrics.json", "error": "file not found"}]
    markdown = render_markdown(_report(metrics=metrics, metrics_errors=errors))

    assert "| metrics.json | acc | - | 0.7 | - |" in markdown
    assert "| metrics.json | f1 | 0.5 | - | - |" in markdown
    assert "> ⚠️ `metrics.json` could not be loaded at `main`: file not found" in markdown


def test_long_tables_fold_and_short_ones_do_not() -> None:
    many = {f"k{number:02d}": {"old": number, "new": number + 1} for number in range(FOLD_ROWS + 1)}
    few = {"lr": {"old": 0.1, "new": 0.2}}
    changed = [{"stage": "train", "why": ["params: lr"]}]
    markdown = render_markdown(
        _report(params={"params.yaml": many}, metrics={"m.json": few}, stages=changed)
    )

    params = markdown[markdown.index("#### Params") : markdown.index("#### Stages")]
    stages = markdown[markdown.index("#### Stages") : markdown.index("#### Data")]
    assert params.startswith(
        f"#### Params\n\n<details><summary>{FOLD_ROWS + 1} params</summary>\n\n| File |"
    )
    assert "<details>" not in stages


def test_cells_cannot_break_the_table() -> None:
    params = {"params.yaml": {"cmd": {"old": "a | b", "new": "line\nbreak"}}}
    markdown = render_markdown(_report(params=params))

    assert "| params.yaml | cmd | a \\| b | line break |" in markdown


def test_everything_huge_is_cut_with_closed_blocks_and_a_note() -> None:
    plots = [
        {"id": f"plots/p{number}.csv", "title": "t" * 100, "image": f"images/p{number}.png"}
        for number in range(2000)
    ]
    log_tail = "```\n" + "x" * 3000
    report = _report(
        plots=plots,
        pipeline={"status": "failed", "failed_stage": "validate", "log_tail": log_tail},
        params={"params.yaml": {f"k{n}": {"old": n, "new": -n} for n in range(5000)}},
    )
    markdown = render_markdown(report)

    assert len(markdown) < GITHUB_LIMIT
    assert markdown.rstrip().endswith(TRUNCATION_NOTE)
    assert "````text" in markdown  # the fence outlasts the backticks inside the log
    assert markdown.count("<details>") == markdown.count("</details>")


def test_small_report_has_no_truncation_note() -> None:
    markdown = render_markdown(_report(params={"params.yaml": {"lr": {"old": 1, "new": 2}}}))

    assert TRUNCATION_NOTE not in markdown
    assert "No metric changed." in markdown
    assert "No stage changed." in markdown
