"""Reading report.json, the one input of the gate (and of the trusted publisher)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError

SCHEMA_VERSION = 1


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
    if not isinstance(report, dict) or report.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(
            f"{path} is not a mlgitops report (schema_version {SCHEMA_VERSION} expected); "
            "re-run `mlgitops report` with this version of mlgitops"
        )
    return report
