"""The one place errors become exit codes and messages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def test_an_error_message_is_printed_whole_with_its_exit_code(tmp_path: Path) -> None:
    """Long paths and [brackets] survive: no wrapping at the console width, no markup."""
    folder = tmp_path / ("long-" * 20 + "[not-markup]")
    report = folder / "report" / "report.json"
    result = subprocess.run(
        ["mlgitops", "gate", "--report", str(report)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "60"},
        check=False,
        timeout=120,
    )
    assert result.returncode == 2, result
    assert f"UsageError: {report} not found" in result.stderr
    assert "Traceback" not in result.stderr
