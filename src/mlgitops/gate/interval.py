"""The worsening limit of a rule, decided on the change's interval when the report has one.

`decide_on` (params.yaml, per rule) says what `max_worsening` is held against:
- `non_inferiority` (default): pass only when the interval's worse end is within the allowance;
- `clear_harm`: fail only when the whole interval lies beyond it;
- `point`: the point change, as before intervals existed.
A rule that asks for an interval the report lacks is decided on the point, and says so.
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Any

from mlgitops.gate.result import Check, Mode
from mlgitops.policy import MetricRule

TOLERANCE = 1e-9  # float noise: 0.84 - 0.83 is 0.010000000000000009, not above 0.01
_FIX = "improve the model or change max_worsening in a reviewed PR"


def worsening_check(
    rule: MetricRule, report: dict[str, Any], old: float | None, new: float, where: str
) -> Check:
    """The rule's max_worsening check of head against base."""
    assert rule.max_worsening is not None
    allowed = rule.max_worsening
    signed_allowed = -allowed if rule.better == "higher" else allowed
    limit = f"worsens <= {fmt(allowed)}"
    common: dict[str, Any] = {"kind": "worsening", "allowed": signed_allowed, "better": rule.better}
    if old is None:
        reason = f"{rule.subject} has no base value to compare with (new metric)"
        return Check(rule.subject, rule.file, None, new, limit, True, reason, **common)
    mode: Mode = rule.decide_on
    record, why_not, confidence = evidence_record(rule, report)
    note = None
    if mode != "point" and record is None:
        note = f"decide_on {mode} needs the change's interval, and {why_not}"
        mode = "point"
    interval = None if record is None else (record["delta_ci"][0], record["delta_ci"][1])
    delta = new - old if mode == "point" or record is None else float(record["delta"])
    worse = (
        rule.worsening(old, new)
        if mode == "point"
        else -delta
        if rule.better == "higher"
        else delta
    )
    ends = sorted(_worsening(rule, end) for end in interval) if interval else [worse, worse]
    judged = {"point": worse, "non_inferiority": ends[1], "clear_harm": ends[0]}[mode]
    passed = judged <= allowed + TOLERANCE
    verb = "dropped" if rule.better == "higher" else "rose"
    moved = f"{_fmt_side(old)} -> {_fmt_side(new)}"
    if interval is not None:
        moved += f"; {percent(confidence)} CI of the change {signed(interval[0])} to "
        moved += signed(interval[1])
    opening = f"{rule.subject} " + (f"{verb} by {fmt(worse)}" if worse > 0 else "did not get worse")
    opening += f" ({moved})"
    reason = _reason(mode, passed, opening, worse, allowed, where)
    return Check(
        rule.subject,
        rule.file,
        old,
        new,
        limit + ("" if mode == "point" else f" ({mode.replace('_', '-')})"),
        passed,
        reason,
        delta=delta,
        interval=interval,
        confidence=confidence if interval else None,
        decided_on=mode,
        note=note,
        margin=(allowed - judged) / allowed if allowed > 0 else allowed - judged,
        **common,
    )


def _reason(
    mode: Mode, passed: bool, opening: str, worse: float, allowed: float, where: str
) -> str:
    limit = fmt(allowed)
    if mode == "point":
        if not passed:
            return f"gate: {opening}, more than the {limit} allowed {where}; {_FIX}"
        if worse > 0:
            return f"{opening}, within the {limit} allowed"
        return opening
    if mode == "non_inferiority":
        if passed:
            return f"{opening}: the interval's worse end too is within the {limit} allowed"
        return (
            f"gate: {opening}: the interval's worse end is beyond the {limit} allowed, so the "
            f"change is not shown to be within it {_mode(where, mode)}; improve the model, "
            "evaluate on more rows, or change max_worsening in a reviewed PR"
        )
    if passed:
        return f"{opening}: part of the interval is within the {limit} allowed, not clearly beyond"
    return (
        f"gate: {opening}: the whole interval is beyond the {limit} allowed "
        f"{_mode(where, mode)}; {_FIX}"
    )


def _mode(where: str, mode: Mode) -> str:
    """`(params.yaml gate) under decide_on clear_harm`."""
    return f"{where} under decide_on {mode}"


def evidence_record(
    rule: MetricRule, report: dict[str, Any]
) -> tuple[dict[str, Any] | None, str, float]:
    """(the evidence's record of the rule's metric or None, why none, the confidence level)."""
    evidence = report.get("evidence")
    if not isinstance(evidence, dict):
        return None, "the report has no evidence (re-run `mlgitops report`)", 0.95
    bootstrap = evidence.get("bootstrap") or {}
    confidence = bootstrap.get("confidence") if isinstance(bootstrap, dict) else None
    level = (
        float(confidence) if isinstance(confidence, int | float) and _finite(confidence) else 0.95
    )
    status = evidence.get("status")
    if status not in ("paired", "unpaired"):
        note = str(evidence.get("note") or "no per-row predictions").splitlines()[0]
        return None, f"the report has none ({note})", level
    if rule.slice is not None:
        record, why = slice_record(rule, report)
        if record is None:
            return None, why, level
    else:
        record = (evidence.get("metrics") or {}).get(rule.metric)
    if not isinstance(record, dict):
        return None, f"the report's evidence has no interval for {rule.subject}", level
    if (
        rule.file is not None
        and record.get("path") is not None
        and _norm(record["path"]) != _norm(rule.file)
    ):
        return None, f"the report's interval for {rule.subject} is of {record['path']}", level
    ci = record.get("delta_ci")
    if not (
        isinstance(ci, list) and len(ci) == 2 and all(map(_finite, ci)) and ci[0] <= ci[1]
    ) or not _finite(record.get("delta")):
        return None, f"the report's interval for {rule.subject} is not usable ({ci!r})", level
    return record, "", level


def slice_record(rule: MetricRule, report: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The evidence's record of the rule's metric on its slice, or None and why not."""
    assert rule.slice is not None
    column, value = rule.slice.column, str(rule.slice.value)
    name = f"{column} = {value}"
    evidence = report.get("evidence")
    if not isinstance(evidence, dict) or evidence.get("status") not in ("paired", "unpaired"):
        return None, f"slice {name} is not measured: the report has no per-row evidence"
    for entry in evidence.get("slices") or []:
        if entry.get("column") == column and str(entry.get("value")) == value:
            record = (entry.get("metrics") or {}).get(rule.metric)
            if isinstance(record, dict):
                return record, ""
            return None, f"slice {name} has no {rule.metric} in the report's evidence"
    for folded in evidence.get("folded") or []:
        if folded.get("column") == column and value in map(str, folded.get("values") or []):
            return None, (
                f"slice {name} is folded: {folded.get('rows')} rows, under report.min_slice_rows"
            )
    known = sorted({str(e.get("column")) for e in evidence.get("slices") or []})
    return None, f"slice {name} is not in the report (slice columns: {', '.join(known) or 'none'})"


def _worsening(rule: MetricRule, delta: float) -> float:
    return -delta if rule.better == "higher" else delta


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _norm(path: str) -> str:
    return PurePosixPath(str(path).replace("\\", "/")).as_posix()


def _fmt_side(value: float) -> str:
    return fmt(value)


def fmt(value: float) -> str:
    """Four significant digits, as every gate message shows numbers."""
    return f"{value:.4g}"


def signed(value: float) -> str:
    """`+0.0042`, `-0.01`, `0`: a change with its sign."""
    return "0" if value == 0 else f"{value:+.4g}"


def percent(confidence: float) -> str:
    """0.95 as `95%`."""
    return f"{confidence * 100:g}%"
