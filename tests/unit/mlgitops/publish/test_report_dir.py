"""What the publisher reads from a report directory, and how it refuses a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.publish.command import read_report_dir
from tests.standins.report_dir import HEAD_SHA, png, write_report_dir


def test_report_dir_reads_linked_images_gate_and_head_sha(tmp_path: Path) -> None:
    folder = write_report_dir(tmp_path / "report", gate_md="#### Quality gate: passed ✅\n")
    (folder / "images" / "unlinked.png").write_bytes(png())
    files = read_report_dir(folder)
    assert sorted(files.images) == ["confusion.png", "roc.png"]
    assert files.images["roc.png"] == (folder / "images" / "roc.png").read_bytes()
    assert files.gate == "#### Quality gate: passed ✅\n"
    assert files.head_sha == HEAD_SHA


def test_report_dir_problems_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"report\.md not found; run `mlgitops report"):
        read_report_dir(tmp_path / "nowhere")
    folder = write_report_dir(tmp_path / "report")
    (folder / "images" / "roc.png").unlink()
    with pytest.raises(UsageError, match=r"links images/roc.png but .*roc.png is missing"):
        read_report_dir(folder)
