"""The comment's sections under the headline: failed pipeline, full metrics, params, stages,
data and plots, each a `####` heading and its (maybe folded) table."""

from __future__ import annotations

import re
from typing import Any

from mlgitops.report.cells import cell, details, fold, signed, table, value


def pipeline(report: dict[str, Any]) -> str:
    """The failed stage and the tail of its log, fenced; nothing when the pipeline ran."""
    outcome = report.get("pipeline") or {}
    if outcome.get("status") != "failed":
        return ""
    stage = outcome.get("failed_stage")
    title = f"#### ❌ `dvc repro` failed{f' at stage `{stage}`' if stage else ''}"
    tail = outcome.get("log_tail") or ""
    longest = max((len(run) for run in re.findall(r"`+", tail)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{title}\n\n{fence}text\n{tail}\n{fence}"


def full_metrics(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    """DVC's metrics diff as it is (file, key, base, head, change), always folded."""
    rows = [
        [cell(path), cell(key), value(entry.get("old")), value(entry.get("new")), _diff(entry)]
        for path, entries in sorted(report.get("metrics", {}).items())
        for key, entry in sorted(entries.items())
    ]
    parts = ["#### Full metrics"]
    if rows:
        rendered = table(["File", "Metric", "Base", "Head", "Change"], rows, cap, cut)
        parts.append(details(rendered, f"{len(rows)} metrics changed (`dvc metrics diff`)"))
    else:
        parts.append("No metric changed." if not report.get("metrics_errors") else "")
    for error in report.get("metrics_errors", []):
        what = f"`{error['path']}`" if error.get("path") else "metrics"
        parts.append(f"> ⚠️ {what} could not be loaded at `{error['rev']}`: {cell(error['error'])}")
    return "\n\n".join(part for part in parts if part)


def params(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    """The changed parameters: file, dotted key, base, head."""
    rows = [
        [cell(path), cell(key), value(entry.get("old")), value(entry.get("new"))]
        for path, entries in sorted(report.get("params", {}).items())
        for key, entry in sorted(entries.items())
    ]
    if not rows:
        return "#### Params\n\nNo parameter changed."
    rendered = table(["File", "Param", "Base", "Head"], rows, cap, cut)
    return f"#### Params\n\n{fold(rendered, f'{len(rows)} params', len(rows))}"


def stages(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    """The stages whose dvc.lock entry moved, and why."""
    changed = report.get("stages", [])
    if not changed:
        return "#### Stages\n\nNo stage changed."
    rows = [
        [cell(stage["stage"]), "<br>".join(cell(why) for why in stage["why"])] for stage in changed
    ]
    rendered = table(["Stage", "Why"], rows, cap, cut)
    return f"#### Stages\n\n{fold(rendered, f'{len(rows)} stages changed', len(rows))}"


def plots(report: dict[str, Any], where: str | None) -> str:
    """Every declared plot, its image when drawn, and where the interactive page is."""
    declared = report.get("plots", [])
    if not declared:
        return ""
    drawn = [plot for plot in declared if plot.get("image")]
    parts = ["#### Plots"]
    parts += [
        f"**{cell(plot['title'])}** (`{plot['id']}`)\n\n![{cell(plot['title'])}]({plot['image']})"
        for plot in drawn
    ]
    listed = [
        f"- **{cell(plot['title'])}** (`{plot['id']}`)" for plot in declared if plot not in drawn
    ]
    if listed:
        parts.append("\n".join(listed))
    base = report["base"]["sha"][:7]
    head = "" if report["head"].get("workspace") else f" {report['head']['sha'][:7]}"
    local = f"run `dvc plots diff {base}{head}` in a checkout (it writes dvc_plots/index.html)"
    if drawn:
        artifact = (
            f"[this run's `report` artifact]({where})" if where else "this run's `report` artifact"
        )
        parts.append(
            f"Dashed grey is the base, solid the head. Interactive version: "
            f"`interactive/index.html` in {artifact}, or {local}."
        )
    else:
        parts.append(f"Interactive version: {local}.")
    return "\n\n".join(parts)


def data(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    """The DVC-tracked inputs that changed: size, rows, columns, column changes."""
    changed = report.get("data", [])
    if not changed:
        return "#### Data\n\nNo DVC-tracked input changed."
    rows = []
    for item in changed:
        old, new = item.get("old") or {}, item.get("new") or {}
        renamed = "from" in item and item["from"] != item["path"]
        path = f"{item['from']} → {item['path']}" if renamed else item["path"]
        rows.append(
            [
                cell(path),
                "renamed" if renamed else cell(item["change"]),
                _pair(_size(old.get("size")), _size(new.get("size")), item["change"]),
                _pair(_count(old.get("rows")), _count(new.get("rows")), item["change"]),
                _pair(_count(_ncols(old)), _count(_ncols(new)), item["change"]),
                _column_changes(item, old, new),
            ]
        )
    headers = ["Path", "Change", "Size", "Rows", "Columns", "Column changes"]
    rendered = table(headers, rows, cap, cut)
    return f"#### Data\n\n{fold(rendered, f'{len(rows)} inputs changed', len(rows))}"


def _column_changes(item: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> str:
    notes = [f"added `{cell(name)}`" for name in item.get("columns_added", [])]
    notes += [f"removed `{cell(name)}`" for name in item.get("columns_removed", [])]
    notes += [
        f"`{cell(retyped['column'])}` {retyped['old']} → {retyped['new']}"
        for retyped in item.get("columns_retyped", [])
    ]
    for side, described in (("base", old), ("head", new)):
        if described.get("error"):
            notes.append(f"{side}: {cell(described['error'])}")
    return "<br>".join(notes[:12]) + (" …" if len(notes) > 12 else "")


def _diff(entry: dict[str, Any]) -> str:
    change = entry.get("diff")
    return signed(change) if isinstance(change, int | float) else "-"


def _pair(old: str, new: str, change: str) -> str:
    if change == "added":
        return new
    if change == "deleted":
        return old
    return old if old == new else f"{old} → {new}"


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return "-"
    amount = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{size} B"


def _count(number: Any) -> str:
    return f"{number:,}" if isinstance(number, int) else "-"


def _ncols(described: dict[str, Any]) -> int | None:
    columns = described.get("columns")
    return len(columns) if isinstance(columns, dict) else None
