"""The metric history as one PNG: a panel per metric, releases, rollbacks and retraining marked.

Sized for GitHub's ~800 px comment and issue width. A commit without metrics is a gap in the
line (and a grey tick on the axis), never a zero.
"""

from __future__ import annotations

import io
import math

from mlgitops.history.record import Record

_MAX_PANELS = 4
_MARKS = {  # release state -> (colour, line style, legend)
    "success": ("#2a9d3f", "--", "release"),
    "rolled back": ("#d62728", "-", "rolled back"),
    "failure": ("#d62728", ":", "failed deploy"),
    "error": ("#d62728", ":", "failed deploy"),
}


def history_png(record: Record) -> bytes | None:
    """The chart as PNG bytes; None when no commit has a metric to draw."""
    names = record.metrics[:_MAX_PANELS]
    if not names or not record.points:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display in CI
    import matplotlib.pyplot as plt

    times = [point.commit.committed for point in record.points]
    figure, axes = plt.subplots(
        len(names), 1, figsize=(8, 1.2 + 2.0 * len(names)), sharex=True, squeeze=False, dpi=100
    )
    seen: set[str] = set()
    for axis, name in zip(axes[:, 0], names, strict=True):
        values = [point.values.get(name, math.nan) for point in record.points]
        axis.plot(times, values, marker="o", markersize=4, color="#1f4e79", label="_nolegend_")
        for point in record.points:
            state = record.releases.get(point.commit.sha)
            if state in _MARKS:
                colour, style, legend = _MARKS[state]
                label = legend if legend not in seen else None
                seen.add(legend)
                axis.axvline(
                    point.commit.committed, color=colour, linestyle=style, lw=1.2, label=label
                )
            if point.commit.sha in record.retraining and name in point.values:
                label = "retraining merge" if "retraining" not in seen else None
                seen.add("retraining")
                at = ([point.commit.committed], [point.values[name]])
                axis.plot(*at, marker="*", markersize=14, color="#9467bd", linestyle="none",
                          label=label)  # fmt: skip
            if name not in point.values:
                label = "metrics missing" if "missing" not in seen else None
                seen.add("missing")
                axis.plot([point.commit.committed], [0.0], marker="|", markersize=12,
                          color="grey", linestyle="none", transform=axis.get_xaxis_transform(),
                          clip_on=False, label=label)  # fmt: skip
        axis.set_ylabel(name, fontsize=10)  # the name the gate and the table use
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=9)
    top = axes[0, 0]
    top.set_title(f"Metrics at each commit of {record.branch}", fontsize=12)
    handles, labels = [], []
    for axis in axes[:, 0]:
        found = axis.get_legend_handles_labels()
        handles += found[0]
        labels += found[1]
    if labels:  # releases, rollbacks, retraining or gaps: only what the chart shows
        figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=9,
                      frameon=False)  # fmt: skip
    figure.autofmt_xdate()
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
