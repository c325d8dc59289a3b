"""Render a report (the report.json data) as the markdown of a pull-request comment.

The first paragraph is the headline, so the publisher can put the gate's table right under it.
Long tables fold into `<details>`; the text stays within GitHub's 65,536-character comment
limit, with room left for the publisher's marker, the gate table and longer image links.
"""

from __future__ import annotations

import re
from typing import Any

GITHUB_LIMIT = 65_536
RESERVED = 4_096  # for the publisher: marker, gate.md, image links rewritten to full URLs
BUDGET = GITHUB_LIMIT - RESERVED
FOLD_ROWS = 15
CELL_CHARS = 160
TRUNCATION_NOTE = (
    "> ✂️ This report was cut to fit GitHub's 65,536-character comment limit; "
    "the complete data is in `report.json` in this run's `report` artifact."
)
_ROW_CAPS = (None, 200, 50, 20, 5)
_MARKS = {
    "better": "✅ better",
    "worse": "❌ worse",
    "unchanged": "➖ unchanged",
    "new": "🆕 new (no base value)",
    "missing": "⚠️ missing at head",
}


def render_markdown(
    report: dict[str, Any], *, artifact_url: str | None = None, limit: int = BUDGET
) -> str:
    """The comment body for `report`, at most `limit` characters.

    `artifact_url` links the run's artifact (the interactive plots page is in it).
    """
    text = ""
    for cap in _ROW_CAPS:
        text = _render(report, cap, artifact_url)
        if len(text) <= limit:
            return text
    return _cut(text, limit)


def _render(report: dict[str, Any], cap: int | None, artifact_url: str | None) -> str:
    cut: list[bool] = []
    sections = [
        _headline(report),
        _pipeline(report),
        _metrics(report, cap, cut),
        _params(report, cap, cut),
        _stages(report, cap, cut),
        _data(report, cap, cut),
        _plots(report, artifact_url),
    ]
    if any(cut):
        sections.append(TRUNCATION_NOTE)
    return "\n\n".join(section for section in sections if section) + "\n"


def _cut(text: str, limit: int) -> str:
    """Cut at a line boundary, close open fences and <details>, and say so."""
    room = limit - len(TRUNCATION_NOTE) - 64
    kept = text[: text.rfind("\n", 0, room) + 1]
    fences = re.findall(r"^(`{3,})", kept, flags=re.MULTILINE)
    closing = ""
    if len(fences) % 2:
        closing += f"\n{fences[-1]}\n"
    closing += "\n</details>\n" * max(0, kept.count("<details>") - kept.count("</details>"))
    return f"{kept}{closing}\n{TRUNCATION_NOTE}\n"


def _headline(report: dict[str, Any]) -> str:
    base, head = report["base"], report["head"]
    head_text = f"workspace (on `{head['sha'][:7]}`)" if head.get("workspace") else _rev(head)
    lines = [f"### 📊 mlgitops report: {_rev(base)} → {head_text}"]
    for line in report.get("headline", []):
        change = f" ({_signed(line['diff'])})" if line.get("diff") else ""
        lines.append(
            f"- **{_cell(line['metric'])}** {_value(line['old'])} → {_value(line['new'])}"
            f"{change}: {_MARKS.get(line['verdict'], line['verdict'])}"
            f" ({line['better']} is better)"
        )
    if not report.get("headline"):
        lines.append("- no headline: params.yaml has no `gate` section naming metrics")
    if report.get("pipeline", {}).get("status") == "failed":
        stage = report["pipeline"].get("failed_stage")
        lines.append(f"- ❌ **the pipeline failed**{f' at stage `{stage}`' if stage else ''}")
    return "\n".join(lines)


def _rev(side: dict[str, Any]) -> str:
    """`main` (`1a2b3c4`), or only the short sha when the revision was given as a sha."""
    rev, sha = str(side["rev"]), str(side["sha"])
    return f"`{sha[:7]}`" if sha.startswith(rev) else f"`{rev}` (`{sha[:7]}`)"


def _pipeline(report: dict[str, Any]) -> str:
    pipeline = report.get("pipeline") or {}
    if pipeline.get("status") != "failed":
        return ""
    stage = pipeline.get("failed_stage")
    title = f"#### ❌ `dvc repro` failed{f' at stage `{stage}`' if stage else ''}"
    tail = pipeline.get("log_tail") or ""
    longest = max((len(run) for run in re.findall(r"`+", tail)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{title}\n\n{fence}text\n{tail}\n{fence}"


def _metrics(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    rows = [
        [_cell(path), _cell(key), _value(entry.get("old")), _value(entry.get("new")), _diff(entry)]
        for path, entries in sorted(report.get("metrics", {}).items())
        for key, entry in sorted(entries.items())
    ]
    parts = ["#### Metrics"]
    if rows:
        table = _table(["File", "Metric", "Base", "Head", "Change"], rows, cap, cut)
        parts.append(_fold(table, f"{len(rows)} metrics", len(rows)))
    else:
        parts.append("No metric changed." if not report.get("metrics_errors") else "")
    for error in report.get("metrics_errors", []):
        what = f"`{error['path']}`" if error.get("path") else "metrics"
        parts.append(f"> ⚠️ {what} could not be loaded at `{error['rev']}`: {_cell(error['error'])}")
    return "\n\n".join(part for part in parts if part)


def _params(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    rows = [
        [_cell(path), _cell(key), _value(entry.get("old")), _value(entry.get("new"))]
        for path, entries in sorted(report.get("params", {}).items())
        for key, entry in sorted(entries.items())
    ]
    if not rows:
        return "#### Params\n\nNo parameter changed."
    table = _table(["File", "Param", "Base", "Head"], rows, cap, cut)
    return f"#### Params\n\n{_fold(table, f'{len(rows)} params', len(rows))}"


def _stages(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    stages = report.get("stages", [])
    if not stages:
        return "#### Stages\n\nNo stage changed."
    rows = [
        [_cell(stage["stage"]), "<br>".join(_cell(why) for why in stage["why"])] for stage in stages
    ]
    table = _table(["Stage", "Why"], rows, cap, cut)
    return f"#### Stages\n\n{_fold(table, f'{len(rows)} stages changed', len(rows))}"


def _plots(report: dict[str, Any], where: str | None) -> str:
    plots = report.get("plots", [])
    if not plots:
        return ""
    drawn = [plot for plot in plots if plot.get("image")]
    parts = ["#### Plots"]
    parts += [
        f"**{_cell(plot['title'])}** (`{plot['id']}`)\n\n![{_cell(plot['title'])}]({plot['image']})"
        for plot in drawn
    ]
    listed = [
        f"- **{_cell(plot['title'])}** (`{plot['id']}`)" for plot in plots if plot not in drawn
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


def _data(report: dict[str, Any], cap: int | None, cut: list[bool]) -> str:
    data = report.get("data", [])
    if not data:
        return "#### Data\n\nNo DVC-tracked input changed."
    rows = []
    for item in data:
        old, new = item.get("old") or {}, item.get("new") or {}
        renamed = "from" in item and item["from"] != item["path"]
        path = f"{item['from']} → {item['path']}" if renamed else item["path"]
        rows.append(
            [
                _cell(path),
                "renamed" if renamed else _cell(item["change"]),
                _pair(_size(old.get("size")), _size(new.get("size")), item["change"]),
                _pair(_count(old.get("rows")), _count(new.get("rows")), item["change"]),
                _pair(_count(_ncols(old)), _count(_ncols(new)), item["change"]),
                _column_changes(item, old, new),
            ]
        )
    headers = ["Path", "Change", "Size", "Rows", "Columns", "Column changes"]
    table = _table(headers, rows, cap, cut)
    return f"#### Data\n\n{_fold(table, f'{len(rows)} inputs changed', len(rows))}"


def _column_changes(item: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> str:
    notes = [f"added `{_cell(name)}`" for name in item.get("columns_added", [])]
    notes += [f"removed `{_cell(name)}`" for name in item.get("columns_removed", [])]
    notes += [
        f"`{_cell(retyped['column'])}` {retyped['old']} → {retyped['new']}"
        for retyped in item.get("columns_retyped", [])
    ]
    for side, described in (("base", old), ("head", new)):
        if described.get("error"):
            notes.append(f"{side}: {_cell(described['error'])}")
    return "<br>".join(notes[:12]) + (" …" if len(notes) > 12 else "")


def _table(
    headers: list[str],
    rows: list[list[str]],
    cap: int | None,
    cut: list[bool],
) -> str:
    """A markdown table of cells already escaped; rows past `cap` are left out and counted."""
    shown = rows if cap is None else rows[:cap]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in shown]
    if len(shown) < len(rows):
        cut.append(True)
        lines.append(f"\n… {len(rows) - len(shown)} more rows not shown.")
    return "\n".join(lines)


def _fold(table: str, summary: str, count: int) -> str:
    if count <= FOLD_ROWS:
        return table
    return f"<details><summary>{summary}</summary>\n\n{table}\n\n</details>"


def _cell(value: Any) -> str:
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(round(value, 5), ".10g")
    return _cell(value)


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + format(round(value, 5), ".10g")


def _diff(entry: dict[str, Any]) -> str:
    diff = entry.get("diff")
    return _signed(diff) if isinstance(diff, int | float) else "-"


def _pair(old: str, new: str, change: str) -> str:
    if change == "added":
        return new
    if change == "deleted":
        return old
    return old if old == new else f"{old} → {new}"


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"


def _ncols(described: dict[str, Any]) -> int | None:
    columns = described.get("columns")
    return len(columns) if isinstance(columns, dict) else None
