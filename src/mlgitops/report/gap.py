"""The train-test gap: how much better a metric is on train than on test, base and head.

A gap that widens by more than `report.gap_widening` is flagged; train up with test down is
the classic sign of overfitting, so it is said in those words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mlgitops.report.cells import signed, value

GAP_WIDENING = 0.02  # params.yaml report.gap_widening's default
_TOLERANCE = 1e-9
_SHOWN = 4  # metrics in the gap line
_FLAGGED = 2  # metrics named in the flag


class MetricRow(Protocol):
    """What the gap needs of a headline row."""

    @property
    def key(self) -> str: ...
    @property
    def old(self) -> float | None: ...
    @property
    def new(self) -> float | None: ...
    @property
    def better(self) -> str | None: ...


def gap_lines(rows: Sequence[MetricRow], gap_widening: float) -> list[str]:
    """A line of gaps (base → head) and one flag per gap that widened beyond `gap_widening`."""
    by_key = {row.key: row for row in rows}
    shown: list[str] = []
    flags: list[str] = []
    overfit: list[bool] = []
    for row in rows:
        split, _, name = row.key.partition(".")
        train = by_key.get(f"train.{name}")
        if split != "test" or train is None or row.better not in ("higher", "lower"):
            continue
        sides = (train.old, train.new, row.old, row.new)
        if any(side is None for side in sides):
            continue
        train_old, train_new, test_old, test_new = (float(side or 0) for side in sides)
        sign = 1.0 if row.better == "higher" else -1.0
        old_gap, new_gap = sign * (train_old - test_old), sign * (train_new - test_new)
        widening = new_gap - old_gap
        shown.append(f"{name} {value(old_gap)} → {value(new_gap)} ({signed(widening)})")
        if widening > gap_widening + _TOLERANCE:
            train_up = sign * (train_new - train_old) > 0
            test_down = sign * (test_new - test_old) < 0
            overfit.append(train_up and test_down)
            flags.append(
                f"{name} by {value(widening)} (train {signed(train_new - train_old)}, "
                f"test {signed(test_new - test_old)})"
            )
    if not shown:
        return []
    line = "- Train–test gap (train better by): " + ", ".join(shown[:_SHOWN])
    lines = [line + (" …" if len(shown) > _SHOWN else "")]
    if flags:
        what = "train up, test down: overfitting?" if any(overfit) else "the train–test gap widened"
        lines.append(
            f"- ⚠️ **{what}** The gap widened for {'; '.join(flags[:_FLAGGED])}"
            f"{f' and {len(flags) - _FLAGGED} more' if len(flags) > _FLAGGED else ''}: more "
            f"than report.gap_widening {value(gap_widening)}."
        )
    return lines
