"""The pipeline's outcome in CI, from the captured output of `dvc repro`.

When a stage fails (DVC prints `ERROR: failed to reproduce 'STAGE'`), the report says so and
shows the tail of that stage's own output, such as the validation report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError

TAIL_LINES = 40
TAIL_CHARS = 4_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FAILED = re.compile(r"ERROR: failed to reproduce(?: stages:)? '([^']+)'")
_ERROR = re.compile(r"^ERROR:", re.MULTILINE)


def read_repro_log(path: Path | None) -> dict[str, Any]:
    """`pipeline` of the report: ok, failed (with the stage and its output) or unknown (no log)."""
    if path is None:
        return {"status": "unknown", "failed_stage": None, "log_tail": None}
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        raise UsageError(
            f"report: cannot read the repro log {path} ({error.strerror}); "
            "pass the file that `dvc repro 2>&1 | tee FILE` wrote, or leave out --repro-log"
        ) from error
    return parse_repro_log(text)


def parse_repro_log(text: str) -> dict[str, Any]:
    """The pipeline outcome a `dvc repro` output shows."""
    text = _ANSI.sub("", text)
    error = _ERROR.search(text)
    if error is None:
        return {"status": "ok", "failed_stage": None, "log_tail": None}
    failed = _FAILED.search(text)
    stage = failed.group(1) if failed else None
    before_error = text[: error.start()]
    if stage is not None:
        started = before_error.rfind(f"Running stage '{stage}':")
        if started >= 0:
            before_error = before_error[started:]
    lines = [*before_error.rstrip("\n").splitlines(), *text[error.start() :].splitlines()[:3]]
    tail = "\n".join(lines[-TAIL_LINES:])[-TAIL_CHARS:]
    return {"status": "failed", "failed_stage": stage, "log_tail": tail}
