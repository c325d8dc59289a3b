"""The one line that opens the comment: passed or failed, and the check that decided it.

Failed: the first broken check. Passed: the check closest to breaking (the least room left
under its allowance), so "worse" in the table below never stands unexplained next to "passed".
"""

from __future__ import annotations

import math

from mlgitops.gate.interval import TOLERANCE, fmt, percent
from mlgitops.gate.result import Check, GateResult

_MINUS = "\u2212"
_MAX_PLACES = 6  # enough to tell any interval end from the allowance it is compared with
# How a verdict line starts, so the publisher can put it first in the comment.
PREFIXES = ("✅ **Gate passed**", "❌ **Gate failed**", "➖ **No gate**")


def verdict_line(result: GateResult) -> str:
    """`✅ **Gate passed**: test.roc_auc −0.0061 (95% CI −0.0098 to −0.0023) is within ...`."""
    if not result.passed:
        first, more = result.broken[0], len(result.broken) - 1
        text = f"❌ **Gate failed**: {describe(first)}"
        if more:
            text += f"; {more} more check{'s' if more > 1 else ''} broke (table below)"
        return text
    deciding = _closest(result.checks)
    if deciding is None:
        return "✅ **Gate passed**: the pipeline reproduced and no rule sets a limit"
    return f"✅ **Gate passed**: {describe(deciding)}"


def _closest(checks: tuple[Check, ...]) -> Check | None:
    """The passing check with the least room left: worsening first, then floors and ceilings."""
    worsening = [c for c in checks if c.kind == "worsening" and c.margin is not None]
    if worsening:
        return min(worsening, key=lambda check: check.margin or 0.0)
    bounded = [c for c in checks if c.bound is not None and c.new is not None]
    if bounded:
        return min(
            bounded, key=lambda c: abs((c.new or 0) - (c.bound or 0)) / (abs(c.bound or 0) or 1)
        )
    present = [c for c in checks if c.kind == "present"]
    return present[0] if present else None


def describe(check: Check) -> str:
    """The check's outcome in words, without the policy's name or the advice."""
    if check.kind == "worsening":
        return _worsening(check)
    if check.kind in ("floor", "ceiling") and check.new is not None and check.bound is not None:
        side = {
            ("floor", True): "is at or above",
            ("floor", False): "is below",
            ("ceiling", True): "is at or below",
            ("ceiling", False): "is above",
        }[(check.kind, check.passed)]
        return f"{check.subject} {fmt(check.new)} {side} the {check.kind} {fmt(check.bound)}"
    # The pipeline and presence checks: the reason's first clause says it.
    return check.reason.removeprefix("gate: ").split(";")[0]


def _worsening(check: Check) -> str:
    if check.old is None or check.delta is None or check.allowed is None:
        return f"{check.subject} is new (no base value to compare with)"
    places = _places(check.allowed, check.interval)
    text = f"{check.subject} {number(check.delta, places)}"
    if check.interval is not None:
        low, high = (number(end, places) for end in check.interval)
        text += f" ({percent(check.confidence or 0.95)} CI {low} to {high})"
    allowed = f"the allowed {number(check.allowed, places)}"
    if check.interval is not None and check.decided_on != "point":
        sign = -1.0 if check.better == "higher" else 1.0
        best, worst = sorted(sign * end for end in check.interval)
        limit = abs(check.allowed)
        if worst <= limit + TOLERANCE:
            return f"{text} is within {allowed}, all of its interval"
        if best > limit + TOLERANCE:
            return f"{text} is beyond {allowed}, all of its interval"
        if check.decided_on == "non_inferiority":
            return f"{text} is not shown within {allowed}: its interval reaches beyond it"
        return f"{text} is not clearly beyond {allowed}: its interval reaches within it"
    how = "on the point: the report has no interval" if check.note else "on the point"
    return f"{text} is {'within' if check.passed else 'beyond'} {allowed} (decided {how})"


def _places(allowed: float, interval: tuple[float, float] | None = None) -> int:
    """Decimals that show the allowance with two significant digits, at least three, and more
    while an interval's end would print as the allowance without being it (−0.0103 is not
    −0.010: the verdict must not read "−0.010 ... is not within the allowed −0.010")."""
    places = 3 if allowed == 0 else max(3, 1 - math.floor(math.log10(abs(allowed))))
    for end in interval or ():
        while (
            places < _MAX_PLACES
            and abs(end) != abs(allowed)
            and f"{abs(end):.{places}f}" == f"{abs(allowed):.{places}f}"
        ):
            places += 1
    return places


def number(value: float, places: int) -> str:
    """A signed number with a real minus sign: `−0.006`, `+0.012`, `0.000`."""
    text = f"{abs(value):.{places}f}"
    if float(text) == 0:
        return text
    return (_MINUS if value < 0 else "+") + text
