"""Where it hurts: the evidence's slices as a table, the smallest size and the folded ones."""

from __future__ import annotations

from typing import Any

from mlgitops.report.cells import cell, fold, signed, table, value
from mlgitops.report.evidence_view import ci_header, evidence, interval, is_number, label

_FOLDED_SHOWN = 10


def slices(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    """`#### Slices`: per slice and gated metric, base, head, change, interval, label."""
    found = evidence(report)
    listed = [item for item in found.get("slices") or [] if isinstance(item, dict)]
    folded = [item for item in found.get("folded") or [] if isinstance(item, dict)]
    if not listed and not folded:
        return ""
    metrics = _metrics(report, listed)
    rows = []
    for item in listed:
        sizes = item.get("rows") or {}
        size = _sizes(sizes.get("base"), sizes.get("head"))
        for metric in metrics:
            record = (item.get("metrics") or {}).get(metric)
            if not isinstance(record, dict):
                continue
            change = record.get("delta")
            rows.append(
                [
                    f"`{cell(item.get('column'))}` = {cell(item.get('value'))}",
                    size,
                    cell(metric),
                    value(record.get("base")),
                    value(record.get("head")),
                    signed(float(change)) if is_number(change) else "-",
                    interval(record),
                    label(record),
                ]
            )
    headers = ["Slice", "Rows", "Metric", "Base", "Head", "Change", ci_header(report), "Label"]
    parts = ["#### Slices"]
    if rows:
        parts.append(fold(table(headers, rows, cap, cut), f"{len(rows)} slice rows", len(rows)))
    smallest = found.get("smallest_slice_rows")
    if isinstance(smallest, int):
        parts.append(f"Smallest slice measured: {smallest:,} rows.")
    if folded:
        names = [
            f"`{cell(item.get('column'))}` = {', '.join(cell(v) for v in item.get('values') or [])}"
            f" ({_count(item.get('rows'))} rows)"
            for item in folded[:_FOLDED_SHOWN]
        ]
        more = f" and {len(folded) - _FOLDED_SHOWN} more" if len(folded) > _FOLDED_SHOWN else ""
        parts.append(f"Too small to measure, folded: {'; '.join(names)}{more}.")
    return "\n\n".join(parts)


def _metrics(report: dict[str, Any], listed: list[dict[str, Any]]) -> list[str]:
    """The gated metrics the slices have; else the first metric they have."""
    present = {key for item in listed for key in (item.get("metrics") or {})}
    gated = [str(line.get("metric")) for line in report.get("headline") or []]
    chosen = [key for key in gated if key in present]
    if chosen:
        return chosen
    for item in listed:
        for key in item.get("metrics") or {}:
            return [str(key)]
    return []


def _sizes(base: Any, head: Any) -> str:
    if base == head:
        return _count(head)
    return f"{_count(base)} → {_count(head)}"


def _count(number: Any) -> str:
    return f"{number:,}" if isinstance(number, int) else "-"
