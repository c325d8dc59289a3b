"""The gate's result for people: markdown for the comment (report/gate.md), a rich table for the
terminal. Both open with the one-line verdict."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from mlgitops.gate.interval import fmt, percent, signed
from mlgitops.gate.result import Check, GateResult
from mlgitops.gate.verdict import verdict_line

_HEADERS = ("Check", "Base", "Head", "Change", "CI", "Limit", "Result")


def render_markdown(result: GateResult) -> str:
    """The verdict line, then the table of every check, then why each broken one broke."""
    verdict = "passed ✅" if result.passed else f"failed ❌ ({len(result.broken)} broken)"
    headers = [_ci_header(result) if name == "CI" else name for name in _HEADERS]
    lines = [
        verdict_line(result),
        "",
        f"#### Quality gate: {verdict}",
        "",
        "| " + " | ".join(headers) + " |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for check in result.checks:
        name = check.subject + (f" ({check.file})" if check.file else "")
        mark = "✅ pass" if check.passed else "❌ **fail**"
        cells = [f"`{name}`", _side(check.old), _side(check.new), _change(check)]
        cells += [_interval(check), check.limit, mark]
        lines.append("| " + " | ".join(cells) + " |")
    if result.broken:
        lines += ["", *(f"- {check.reason.removeprefix('gate: ')}" for check in result.broken)]
    if result.notes:
        lines += ["", *(f"> ℹ️ {note}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def render_table(result: GateResult) -> Table:
    """The gate's checks as a rich table, for the terminal."""
    title = "Quality gate: " + ("passed" if result.passed else "FAILED")
    table = Table(title=title, title_justify="left")
    for column in _HEADERS:
        numeric = column in ("Base", "Head", "Change")
        table.add_column(
            _ci_header(result) if column == "CI" else column,
            justify="right" if numeric else "left",
        )
    for check in result.checks:
        table.add_row(
            escape(check.subject + (f" ({check.file})" if check.file else "")),
            _side(check.old),
            _side(check.new),
            _change(check),
            _interval(check),
            check.limit,
            "[green]pass[/]" if check.passed else "[bold red]FAIL[/]",
        )
    return table


def _ci_header(result: GateResult) -> str:
    levels = [check.confidence for check in result.checks if check.confidence]
    return f"{percent(levels[0])} CI" if levels else "CI"


def _side(value: float | None) -> str:
    return "-" if value is None else fmt(value)


def _change(check: Check) -> str:
    change = check.delta if check.interval is not None else check.change
    return "" if change is None else signed(change)


def _interval(check: Check) -> str:
    if check.interval is None:
        return "-"
    return f"{signed(check.interval[0])} to {signed(check.interval[1])}"
