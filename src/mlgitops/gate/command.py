"""`mlgitops gate`: the policy of params.yaml applied to report.json; exit 1 when it breaks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mlgitops.errors import CheckFailedError
from mlgitops.gate.checks import evaluate_gate
from mlgitops.gate.render import render_markdown, render_table
from mlgitops.gate.report_file import load_report
from mlgitops.gate.verdict import verdict_line
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.policy import load_policy

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
    console.print(verdict_line(result).replace("**", ""), highlight=False, markup=False)
    console.print(render_table(result))
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    if not result.passed:
        raise CheckFailedError(
            f"{len(result.broken)} of {len(result.checks)} checks broke:\n"
            + "\n".join(check.reason for check in result.broken)
        )
    console.print(f"gate: passed, all {len(result.checks)} checks hold:", highlight=False)
    for check in result.checks:
        console.print(f"  {check.reason}", highlight=False, markup=False, soft_wrap=True)
