"""Hand-written report directories, shaped as `mlgitops report --out report/report.md` writes them.

The publisher and the gate only read this directory (the CI artifact), so their tests build it
by hand from the contract: report.md linking images/<name>.png, report.json, real PNG files.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

BASE_SHA = "1" * 40
HEAD_SHA = "2b7e151628aed2a6abf7158809cf4f3c762e7160"


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small valid PNG (signature, IHDR, IDAT, IEND with CRCs) of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def report_data(
    *,
    roc_auc: tuple[float | None, float | None] = (0.843236, 0.851),
    log_loss: tuple[float | None, float | None] = (0.428137, 0.428137),
    pipeline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """report.json for a PR that changed the learning rate; pass values to move the metrics."""
    metrics: dict[str, dict[str, Any]] = {}
    headline = []
    for key, better, (old, new) in (
        ("test.roc_auc", "higher", roc_auc),
        ("test.log_loss", "lower", log_loss),
    ):
        diff = None if old is None or new is None else round(new - old, 6)
        if old != new:  # `dvc metrics diff` without --all lists changed entries only
            entry: dict[str, Any] = {"old": old, "new": new}
            if diff is not None:
                entry["diff"] = diff
            metrics.setdefault("metrics.json", {})[key] = entry
        verdict = "missing" if new is None else "new" if old is None else "unchanged"
        if diff:
            verdict = "better" if (diff > 0) == (better == "higher") else "worse"
        headline.append(
            {"metric": key, "path": "metrics.json", "old": old, "new": new, "diff": diff}
            | {"better": better, "verdict": verdict}
        )
    return {
        "schema_version": 1,
        "base": {"rev": "main", "sha": BASE_SHA},
        "head": {"rev": "workspace", "sha": HEAD_SHA, "workspace": True},
        "metrics": metrics,
        "params": {
            "params.yaml": {"train.learning_rate": {"old": 0.03, "new": 0.05, "diff": 0.02}}
        },
        "metrics_errors": [],
        "headline": headline,
        "plots": [
            {"id": "plots/roc.csv", "title": "ROC", "image": "images/roc.png"},
            {"id": "plots/confusion.csv", "title": "Confusion", "image": "images/confusion.png"},
        ],
        "data": [],
        "stages": [{"stage": "train", "why": ["params: train.learning_rate"]}],
        "pipeline": pipeline or {"status": "ok", "failed_stage": None, "log_tail": None},
    }


def report_markdown(data: dict[str, Any], *, padding: int = 0) -> str:
    """report.md: the headline first, then sections, the plots linked as images/<name>.png."""
    lines = ["# Model report: `workspace` vs `main`", ""]
    for entry in data["headline"]:
        old = "-" if entry["old"] is None else f"{entry['old']:.4f}"
        new = "-" if entry["new"] is None else f"{entry['new']:.4f}"
        lines.append(f"**{entry['metric']}** {old} → {new} ({entry['verdict']})  ")
    lines += [
        "",
        "## Metrics",
        "",
        "| Path | Metric | main | workspace | Change |",
        "|---|---|---|---|---|",
    ]
    for path, entries in data["metrics"].items():
        for key, value in entries.items():
            lines.append(
                f"| {path} | {key} | {value['old']} | {value['new']} | {value.get('diff')} |"
            )
    lines += ["", "## Plots", ""]
    for plot in data["plots"]:
        lines += [f"### {plot['title']}", "", f"![{plot['title']}]({plot['image']})", ""]
    lines += ["[Interactive plots](https://example.invalid/plots)", "", "## Stages", ""]
    lines += [f"- `{s['stage']}`: {', '.join(s['why'])}" for s in data["stages"]]
    if padding:
        rows = "\n".join(f"| row {n} | {'x' * 60} |" for n in range(padding))
        lines += ["", "## Data", "", "<details><summary>rows</summary>", "", rows, "", "</details>"]
    return "\n".join(lines) + "\n"


def write_report_dir(
    folder: Path,
    data: dict[str, Any] | None = None,
    *,
    gate_md: str | None = None,
    padding: int = 0,
) -> Path:
    """A complete report directory at `folder`; returns it."""
    data = data or report_data()
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (folder / "report.md").write_text(report_markdown(data, padding=padding), encoding="utf-8")
    colours = [(200, 30, 30), (30, 30, 200), (30, 160, 30)]
    for plot, colour in zip(data["plots"], colours, strict=False):
        (folder / plot["image"]).write_bytes(png(rgb=colour))
    if gate_md is not None:
        (folder / "gate.md").write_text(gate_md, encoding="utf-8")
    return folder
