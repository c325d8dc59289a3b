"""Markdown cells and tables of the comment: escaped, length-capped, numbers shown one way."""

from __future__ import annotations

from typing import Any

import numpy as np

FOLD_ROWS = 15
CELL_CHARS = 160
MINUS = "\u2212"


def cell(value: Any) -> str:
    """`value` as one table cell: one line, pipes escaped, at most CELL_CHARS characters."""
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def value(number: Any) -> str:
    """A metric or param value: `-` when absent, floats to five decimals."""
    if number is None:
        return "-"
    if isinstance(number, float):
        return format(round(number, 5), ".10g")
    return cell(number)


def signed(number: float) -> str:
    """A change: `+0.01`, `−0.00611`, `0`; the real minus sign, as the intervals beside it."""
    rounded = round(number, 5)
    if rounded == 0:
        return "0"
    return ("+" if rounded > 0 else MINUS) + format(abs(rounded), ".10g")


def bound(number: float) -> str:
    """An interval's end, three significant digits and a real minus sign: `−0.0101`."""
    if number == 0:
        return "0"
    # Three significant digits, never in e-notation (a reader compares them with the change).
    text = np.format_float_positional(abs(number), precision=3, fractional=False, trim="-")
    return (MINUS if number < 0 else "+") + text


def table(headers: list[str], rows: list[list[str]], cap: int | None, cut: list[bool]) -> str:
    """A markdown table of cells already escaped; rows past `cap` are left out and counted."""
    shown = rows if cap is None else rows[:cap]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in shown]
    if len(shown) < len(rows):
        cut.append(True)
        lines.append(f"\n… {len(rows) - len(shown)} more rows not shown.")
    return "\n".join(lines)


def fold(text: str, summary: str, count: int) -> str:
    """`text` in a closed <details> when it has more than FOLD_ROWS rows."""
    if count <= FOLD_ROWS:
        return text
    return details(text, summary)


def details(text: str, summary: str) -> str:
    """`text` folded under `summary`."""
    return f"<details><summary>{summary}</summary>\n\n{text}\n\n</details>"
