"""The headline a reviewer reads in ten seconds: the title, then one table of metrics (gated
first, the rest of test, then train) with base, head, change, interval and label, the
train-test gap when it widens, the worst-moving slice, and where the intervals come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgitops.report.cells import cell, signed, value
from mlgitops.report.evidence_view import LABELS, ci_header, evidence, interval, is_number, label
from mlgitops.report.gap import gap_lines
from mlgitops.report.metrics import DIRECTION

HEADLINE_ROWS = 12  # ungated rows; the rest are under "Full metrics"
_TEST_SPLITS = ("test", "eval", "evaluation", "valid", "validation", "holdout")
_ORDER = {name: rank for rank, name in enumerate(DIRECTION)}


@dataclass(frozen=True)
class Row:
    """One metric of the headline table."""

    key: str
    path: str | None
    old: float | None
    new: float | None
    better: str | None
    gated: bool
    verdict: str | None = None  # the headline's, for gated metrics
    record: dict[str, Any] | None = None  # the evidence's


def headline(report: dict[str, Any], *, gap_widening: float, cap: int | None) -> str:
    """The opening block: title, metrics table, gap, worst slice, the intervals' source."""
    base, head = report["base"], report["head"]
    head_text = f"workspace (on `{head['sha'][:7]}`)" if head.get("workspace") else _rev(head)
    lines = [f"### 📊 mlgitops report: {_rev(base)} → {head_text}", ""]
    rows = metric_rows(report)
    gated = [row for row in rows if row.gated]
    rest = [row for row in rows if not row.gated]
    shown = min(HEADLINE_ROWS, cap) if cap is not None else HEADLINE_ROWS
    if rows:
        lines += _table(report, gated + rest[:shown])
        if len(rest) > shown:
            lines.append(f"\n… {len(rest) - shown} more under Full metrics.")
        lines.append("")
    notes = [] if gated else ["- no gated metric: params.yaml has no `gate` section naming metrics"]
    notes += gap_lines(rows, gap_widening)
    notes += _worst_slice(report)
    notes += _source(report)
    if report.get("pipeline", {}).get("status") == "failed":
        stage = report["pipeline"].get("failed_stage")
        notes.append(f"- ❌ **the pipeline failed**{f' at stage `{stage}`' if stage else ''}")
    return "\n".join(lines + notes).rstrip("\n")


def metric_rows(report: dict[str, Any]) -> list[Row]:
    """Gated metrics in policy order, then test metrics, others, train ones."""
    records = evidence(report).get("metrics") or {}
    diff = report.get("metrics") or {}
    rows: dict[tuple[str | None, str], Row] = {}
    for line in report.get("headline") or []:
        key = str(line.get("metric"))
        rows[(line.get("path"), key)] = Row(
            key, line.get("path"), _num(line.get("old")), _num(line.get("new")),
            line.get("better"), True, line.get("verdict"), _record(records, key, line.get("path")),
        )  # fmt: skip
    gated_keys = {key for _, key in rows}
    for path, entries in sorted(diff.items()):
        for key, entry in entries.items():
            if key in gated_keys or not isinstance(entry, dict):
                continue
            record = _record(records, key, path)
            rows[(path, key)] = Row(
                key, path, _num(entry.get("old")), _num(entry.get("new")),
                _direction(key, record), False, record=record,
            )  # fmt: skip
    seen = {key for _, key in rows}
    for key, record in records.items():
        if key not in seen and isinstance(record, dict):
            rows[(record.get("path"), key)] = Row(
                key, record.get("path"), _num(record.get("base")), _num(record.get("head")),
                _direction(key, record), False, record=record,
            )  # fmt: skip
    ordered = sorted((row for row in rows.values() if not row.gated), key=_rank)
    return [row for row in rows.values() if row.gated] + ordered


def _rank(row: Row) -> tuple[int, int, str]:
    split, _, name = row.key.partition(".")
    group = 0 if split in _TEST_SPLITS else 2 if split == "train" else 1
    return group, _ORDER.get(name.rsplit(".", 1)[-1], len(_ORDER)), row.key


def _table(report: dict[str, Any], rows: list[Row]) -> list[str]:
    several = len({row.path for row in rows if row.path}) > 1
    lines = [
        f"| Metric | Base | Head | Change | {ci_header(report)} | Label |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        name = cell(row.key) + (f" ({cell(row.path)})" if several and row.path else "")
        change = row.new - row.old if row.old is not None and row.new is not None else None
        lines.append(
            f"| {f'**{name}**' if row.gated else name} | {value(row.old)} | {value(row.new)} | "
            f"{'-' if change is None else signed(change)} | {interval(row.record)} | "
            f"{_label(row)} |"
        )
    if any(row.gated for row in rows):
        lines.append("\nBold: the metrics the gate watches (params.yaml `gate`).")
    return lines


def _label(row: Row) -> str:
    if row.record is not None and row.record.get("label"):
        return label(row.record)
    if row.verdict in ("new", "missing"):
        return LABELS[row.verdict]
    if row.old is None or row.new is None or row.better not in ("higher", "lower"):
        return "-"
    worse = row.old - row.new if row.better == "higher" else row.new - row.old
    mark = LABELS["worse" if worse > 0 else "better" if worse < 0 else "unchanged"]
    return mark if worse == 0 else f"{mark} (no interval)"


def _worst_slice(report: dict[str, Any]) -> list[str]:
    worst = evidence(report).get("worst_slice")
    if not isinstance(worst, dict) or not is_number(worst.get("delta")):
        return []
    mark = LABELS.get(str(worst.get("label")), str(worst.get("label") or ""))
    return [
        f"- Worst-moving slice: `{cell(worst.get('column'))}` = {cell(worst.get('value'))}: "
        f"{cell(worst.get('metric'))} {signed(float(worst['delta']))} ({mark})"
    ]


def _source(report: dict[str, Any]) -> list[str]:
    found = evidence(report)
    # The evidence's one line for the reader, whole (a table cell's length cap is not for it).
    status, note = found.get("status"), " ".join(str(found.get("note") or "").split())
    if status == "paired":
        return [f"- Intervals: {note} Better or worse only when the interval excludes no change."]
    if status == "unpaired":
        return [f"- ⚠️ {note}"]
    if status in ("undeclared", "unavailable") and note:
        return [f"- ℹ️ {note}"]
    return []


def _record(records: dict[str, Any], key: str, path: Any) -> dict[str, Any] | None:
    record = records.get(key)
    if not isinstance(record, dict):
        return None
    if path and record.get("path") and str(record["path"]) != str(path):
        return None
    return record


def _direction(key: str, record: dict[str, Any] | None) -> str | None:
    if record is not None and record.get("better") in ("higher", "lower"):
        return str(record["better"])
    return DIRECTION.get(key.rsplit(".", 1)[-1])


def _num(number: Any) -> float | None:
    return float(number) if is_number(number) else None


def _rev(side: dict[str, Any]) -> str:
    """`main` (`1a2b3c4`), or only the short sha when the revision was given as a sha."""
    rev, sha = str(side["rev"]), str(side["sha"])
    return f"`{sha[:7]}`" if sha.startswith(rev) else f"`{rev}` (`{sha[:7]}`)"
