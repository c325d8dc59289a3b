"""The record as markdown, for a job summary or the one delivery-record issue."""

from __future__ import annotations

from mlgitops.history.measures import Measure
from mlgitops.history.record import Record

IMAGE = "history.png"
_UNFOLDED = 30  # commits shown as a plain table; more are folded
_TITLES = {
    "deployment_frequency": "Deployment frequency",
    "lead_time_hours": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore_hours": "Time to restore",
    "rollbacks": "Rollbacks",
    "gate_stopped": "Regressions stopped by the gate",
    "retraining_opened": "Retraining PRs opened",
    "retraining_merged": "Retraining PRs merged",
    "drift_found": "Drift checks that found drift",
}


def _value(measure: Measure) -> str:
    if measure.value is None:
        return "missing"
    if measure.name == "change_failure_rate":
        return f"{measure.value:.0%} of {measure.count}"
    number = f"{measure.value:g}"
    return f"{number} {measure.unit}".strip() + (
        f" (n={measure.count})" if measure.unit and measure.count is not None else ""
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(record: Record, *, with_chart: bool) -> str:
    """The whole record; the chart is linked as `images/history.png` when there is one."""
    since, until = record.window.since.date(), record.window.until.date()
    lines = [f"## Delivery record: `{record.branch}`, {since} to {until}", ""]
    if record.missing:  # a list: consecutive "> " lines would run into one paragraph
        lines += ["**Missing**:", "", *(f"- {gap}" for gap in record.missing), ""]
    lines += ["### Delivery", "", "| Measure | Value | Definition | Note |", "|---|---|---|---|"]
    for measure in record.measures:
        note = "; ".join(filter(None, [*measure.details[:5], measure.note]))
        lines.append(
            f"| {_TITLES.get(measure.name, measure.name)} | {_value(measure)} | "
            f"{_cell(measure.definition)} | {_cell(note)} |"
        )
    lines += ["", f"### Model metrics at each commit ({len(record.points)})", ""]
    if with_chart:
        lines += [
            f"![metrics at each commit; releases, rollbacks and retraining marked](images/{IMAGE})",
            "",
        ]
    header = ["Commit", "Landed", "PR", "Release", *record.metrics]
    folded = len(record.points) > _UNFOLDED  # a long table stays out of the way (and the limit)
    if folded:
        lines += [f"<details><summary>Every commit ({len(record.points)})</summary>", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for point in record.points:
        number = record.pulls.get(point.commit.sha)
        release = record.releases.get(point.commit.sha, "")
        if point.commit.sha in record.retraining:
            release = ("retraining; " + release).strip("; ")
        values = [
            f"{point.values[name]:.4g}" if name in point.values else "missing"
            for name in record.metrics
        ]
        row = [
            f"`{point.commit.sha[:7]}` {_cell(point.commit.subject[:50])}",
            point.commit.committed.strftime("%Y-%m-%d %H:%M"),
            f"#{number}" if number else "",
            release,
            *values,
        ]
        lines.append("| " + " | ".join(row) + " |")
    if folded:
        lines += ["", "</details>"]
    gaps = [p for p in record.points if p.missing]
    if gaps:
        lines += ["", "<details><summary>Why metrics are missing</summary>", ""]
        for point in gaps:
            for reason in point.missing.values():
                lines.append(f"- `{point.commit.sha[:7]}`: {_cell(reason)}")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
