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


COMMANDS = [
    *("report", "gate", "init", "doctor", "comment", "build"),
    *("smoke", "deploy", "render", "drift", "retrain-pr", "history", "pipeline"),
]


def _help(*command: str) -> str:
    result = subprocess.run(
        ["mlgitops", *command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_top_level_help_lists_every_command_in_one_line() -> None:
    listed = _help().split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert names == COMMANDS
    for line in listed:
        name, _, text = line.strip().partition(" ")
        assert text.strip() and not text.endswith("..."), f"{name}: its line is cut: {line!r}"
        assert len(line) <= 80, line


def test_no_help_shows_a_flag_as_taking_a_bool() -> None:
    """Flags are written --dry-run or --wait/--no-wait, never `--dry-run <bool>`."""
    for command in ["", *COMMANDS]:
        text = _help(*([command] if command else []))
        assert "<bool>" not in text and "BOOLEAN" not in text, f"mlgitops {command} --help"
        assert "--help" in text
