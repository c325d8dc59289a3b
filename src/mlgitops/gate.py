"""The quality gate: applies the policy in params.yaml to the report's metrics diff.

The gate never recomputes anything: it reads `report.json` (written by `mlgitops report`), so
what reviewers see in the comment and what the gate decides come from the same numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlgitops.errors import CheckFailedError, UsageError
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.policy import MetricRule, load_policy

_SCHEMA_VERSION = 1
_TOLERANCE = 1e-9  # float noise: 0.84 - 0.83 is 0.010000000000000009, not above 0.01


@dataclass(frozen=True)
class Check:
    """One row of the gate's table: one limit of one rule, or the pipeline's status."""

    subject: str
    file: str | None
    old: float | None
    new: float | None
    limit: str
    passed: bool
    reason: str

    @property
    def change(self) -> float | None:
        """Head minus base, when both are numbers."""
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass(frozen=True)
class GateResult:
    """Every check the gate ran, in policy order, the pipeline's first."""

    checks: tuple[Check, ...]

    @property
    def broken(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)

    @property
    def passed(self) -> bool:
        return not self.broken


def load_report(path: Path) -> dict[str, Any]:
    """The report's data; a missing or foreign file is a UsageError saying how to make one."""
    if not path.is_file():
        raise UsageError(
            f"{path} not found; run `mlgitops report --base REV --out {path.with_suffix('.md')}` "
            "first, or pass --report"
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not valid JSON ({error}); re-run `mlgitops report`") from None
    if not isinstance(report, dict) or report.get("schema_version") != _SCHEMA_VERSION:
        raise UsageError(
            f"{path} is not a mlgitops report (schema_version {_SCHEMA_VERSION} expected); "
            "re-run `mlgitops report` with this version of mlgitops"
        )
    return report


def evaluate_gate(report: dict[str, Any], rules: list[MetricRule], *, source: str) -> GateResult:
    """Every check of the policy against the report; `source` names the policy in messages."""
    checks = [_pipeline_check(report.get("pipeline") or {})]
    for rule in rules:
        checks.extend(_rule_checks(rule, report, source=source))
    return GateResult(tuple(checks))


def _pipeline_check(pipeline: dict[str, Any]) -> Check:
    status = pipeline.get("status", "unknown")
    if status == "failed":
        stage = pipeline.get("failed_stage") or "an unknown stage"
        reason = (
            f"gate: the pipeline failed at stage '{stage}' (dvc repro); fix what its log in the "
            "report says, in the code or the data, and push again"
        )
        return Check("pipeline", None, None, None, "reproduces", False, reason)
    reason = "the pipeline reproduced"
    if status != "ok":
        reason = f"the pipeline's status is {status} (the report was made without --repro-log)"
    return Check("pipeline", None, None, None, "reproduces", True, reason)


def _rule_checks(rule: MetricRule, report: dict[str, Any], *, source: str) -> list[Check]:
    path, old, new = _lookup(rule, report)
    where = f"({source} gate)"
    if not _is_number(new):
        seen = "is missing at head" if new is None else f"is not a number at head ({new!r})"
        reason = (
            f"gate: {rule.metric} {seen}{_head_errors(report, path)} {where}; check that the "
            "pipeline still writes it, or change the rule in a reviewed PR"
        )
        return [Check(rule.metric, rule.file, _number(old), None, "present", False, reason)]
    assert isinstance(new, float | int)
    base, checks = _number(old), []
    bounds = (
        (rule.at_least, ">=", "floor", "at or above", "below"),
        (rule.at_most, "<=", "ceiling", "at or below", "above"),
    )
    for bound, sign, name, within, beyond in bounds:
        if bound is None:
            continue
        ok = new >= bound if sign == ">=" else new <= bound
        reason = f"{rule.metric} {_fmt(new)} is {within if ok else beyond} the {name} "
        reason += f"{_fmt(bound)} {where}"
        if not ok:
            reason = f"gate: {reason}; improve the model or change the {name} in a reviewed PR"
        checks.append(Check(rule.metric, rule.file, base, new, f"{sign} {_fmt(bound)}", ok, reason))
    if rule.max_worsening is not None:
        checks.append(_worsening_check(rule, base, new, where))
    if not checks:
        reason = f"{rule.metric} is present at head (the rule sets no limit)"
        checks.append(Check(rule.metric, rule.file, base, new, "present", True, reason))
    return checks


def _worsening_check(rule: MetricRule, old: float | None, new: float, where: str) -> Check:
    assert rule.max_worsening is not None
    limit = f"worsens <= {_fmt(rule.max_worsening)}"
    if old is None:
        reason = f"{rule.metric} has no base value to compare with (new metric)"
        return Check(rule.metric, rule.file, None, new, limit, True, reason)
    worse = rule.worsening(old, new)
    verb = "dropped" if rule.better == "higher" else "rose"
    moved = f"({_fmt(old)} -> {_fmt(new)})"
    if worse > rule.max_worsening + _TOLERANCE:
        reason = (
            f"gate: {rule.metric} {verb} by {_fmt(worse)} {moved}, more than the "
            f"{_fmt(rule.max_worsening)} allowed {where}; improve the model or change "
            "max_worsening in a reviewed PR"
        )
        return Check(rule.metric, rule.file, old, new, limit, False, reason)
    if worse > 0:
        allowed = _fmt(rule.max_worsening)
        reason = f"{rule.metric} {verb} by {_fmt(worse)} {moved}, within the {allowed} allowed"
    else:
        reason = f"{rule.metric} did not get worse {moved}"
    return Check(rule.metric, rule.file, old, new, limit, True, reason)


def _lookup(rule: MetricRule, report: dict[str, Any]) -> tuple[str | None, Any, Any]:
    """(file, old, new) of the rule's metric: DVC's diff first, the headline for unchanged ones."""
    found: dict[str, tuple[Any, Any]] = {}
    for entry in report.get("headline") or []:
        if entry.get("metric") == rule.metric and entry.get("path"):
            found[_norm(entry["path"])] = (entry.get("old"), entry.get("new"))
    for path, entries in (report.get("metrics") or {}).items():
        if isinstance(entries, dict) and rule.metric in entries:
            value = entries[rule.metric] or {}
            found[_norm(path)] = (value.get("old"), value.get("new"))
    if rule.file is not None:
        wanted = _norm(rule.file)
        old, new = found.get(wanted, (None, None))
        return wanted, old, new
    if len(found) > 1:
        raise UsageError(
            f"{rule.metric} is in several metric files ({', '.join(sorted(found))}); "
            "name one with 'file:' in its gate rule"
        )
    if not found:
        return None, None, None
    ((path, (old, new)),) = found.items()
    return path, old, new


def _head_errors(report: dict[str, Any], file: str | None) -> str:
    """Why DVC could not load metrics at head, as a clause, when the report knows."""
    head = (report.get("head") or {}).get("rev")
    errors = [
        error
        for error in report.get("metrics_errors") or []
        if error.get("rev") == head and (file is None or _norm(error.get("path", "")) == file)
    ]
    if not errors:
        return f" ({file})" if file else " (not in the report's metrics)"
    return " (" + "; ".join(f"{e.get('path')}: {e.get('error')}" for e in errors) + ")"


def _norm(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _signed(value: float | None) -> str:
    if value is None:
        return ""
    return "0" if value == 0 else f"{value:+.4g}"


def render_markdown(result: GateResult) -> str:
    """The gate's verdict as markdown, for report/gate.md and so for the PR comment."""
    verdict = "passed ✅" if result.passed else f"failed ❌ ({len(result.broken)} broken)"
    lines = [
        f"#### Quality gate: {verdict}",
        "",
        "| Check | Base | Head | Change | Limit | Result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for check in result.checks:
        name = check.subject + (f" ({check.file})" if check.file else "")
        old = "-" if check.old is None else _fmt(check.old)
        new = "-" if check.new is None else _fmt(check.new)
        mark = "✅ pass" if check.passed else "❌ **fail**"
        lines.append(
            f"| `{name}` | {old} | {new} | {_signed(check.change)} | {check.limit} | {mark} |"
        )
    if result.broken:
        lines += ["", *(f"- {check.reason.removeprefix('gate: ')}" for check in result.broken)]
    return "\n".join(lines) + "\n"


def render_table(result: GateResult) -> Table:
    """The gate's verdict as a rich table, for the terminal."""
    title = "Quality gate: " + ("passed" if result.passed else "FAILED")
    table = Table(title=title, title_justify="left")
    for column in ("Check", "Base", "Head", "Change", "Limit", "Result"):
        numeric = column in ("Base", "Head", "Change")
        table.add_column(column, justify="right" if numeric else "left")
    for check in result.checks:
        table.add_row(
            escape(check.subject + (f" ({check.file})" if check.file else "")),
            "-" if check.old is None else _fmt(check.old),
            "-" if check.new is None else _fmt(check.new),
            _signed(check.change),
            check.limit,
            "[green]pass[/]" if check.passed else "[bold red]FAIL[/]",
        )
    return table


app = plugin_app(
    "Apply the quality policy (params.yaml `gate`) to a report: exit 0 and say why when "
    "every rule holds, exit 1 with a table of what broke."
)


_REPORT_OPTION = typer.Option("--report", help="The report.json that `mlgitops report` wrote.")
_OUT_OPTION = typer.Option(help="Also write the verdict as markdown here (report/gate.md).")


@app.callback(invoke_without_command=True)
def gate(
    report: Annotated[Path, _REPORT_OPTION] = Path("report/report.json"),
    params: Annotated[Path, params_option("gate")] = PARAMS,
    out: Annotated[Path | None, _OUT_OPTION] = None,
) -> None:
    """Exit 0 and say why when every rule holds; exit 1 with a table of what broke."""
    result = evaluate_gate(load_report(report), load_policy(params), source=str(params))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_markdown(result), encoding="utf-8")
    console = Console(stderr=True)
    console.print(render_table(result))
    if not result.passed:
        raise CheckFailedError(
            f"{len(result.broken)} of {len(result.checks)} checks broke:\n"
            + "\n".join(check.reason for check in result.broken)
        )
    console.print(f"gate: passed, all {len(result.checks)} checks hold:", highlight=False)
    for check in result.checks:
        console.print(f"  {check.reason}", highlight=False, markup=False, soft_wrap=True)
