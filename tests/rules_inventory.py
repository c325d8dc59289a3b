"""The record of every declared rule, so a rule deleted from a contract shows as a diff.

The cases are generated from the contracts, so a rule deleted in src/ takes its case with it;
the other contract's cases notice most deletions (tests/unit/test_rules.py), and this record
notices the rest: tests/declared_rules/<model>.txt lists each contract's rules, one a line,
with whether a case guards it. Like a rendered file it is regenerated on purpose, with
`MLGITOPS_RECORD_RULES=1 pytest tests/unit/test_rules*.py`, and reviewed as a diff.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping

from tests.checkout import REPO_ROOT
from tests.rules import Generated

RECORD_DIR = REPO_ROOT / "tests" / "declared_rules"
RECORD_ENV = "MLGITOPS_RECORD_RULES"


def inventory(contracts: Mapping[str, Generated]) -> list[str]:
    """One line per declared rule: contract, column, rule, and whether a case guards it."""
    lines = []
    for contract, generated in contracts.items():
        unguarded = {id(rule) for rule in generated.unguarded}
        for rule in generated.rules:
            status = "unguarded" if id(rule) in unguarded else "guarded"
            lines.append(f"{contract}\t{rule.column}\t{rule.name}\t{status}")
    return lines


def assert_inventory(model: str, contracts: Mapping[str, Generated]) -> None:
    """The rules declared now are the recorded ones (or, with RECORD_ENV=1, record them)."""
    path = RECORD_DIR / f"{model}.txt"
    lines = inventory(contracts)
    if os.environ.get(RECORD_ENV) == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines))
    recorded = path.read_text().splitlines() if path.is_file() else []
    diff = "\n".join(difflib.unified_diff(recorded, lines, str(path), "declared now", lineterm=""))
    assert lines == recorded, (
        f"the declared rules differ from {path} (a rule deleted or added?):\n{diff}\n"
        f"if the change is meant, record it with {RECORD_ENV}=1 and commit the file"
    )
