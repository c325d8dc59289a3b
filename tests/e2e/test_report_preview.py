"""`mlgitops report --html`: a local preview of the comment as GitHub shows it, on a small real
DVC repository (tests/unit/mlgitops/report/repos.py): the verdict, the tables, the images."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.mlgitops.report.repos import VENV_BIN, stage_flat

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_preview_is_the_comment_rendered_with_its_tables_and_images(tmp_path: Path) -> None:
    layout = stage_flat(tmp_path / "repo")
    page = tmp_path / "preview" / "comment.html"
    out = tmp_path / "report" / "report.md"
    args = [*layout.report_args, "--out", str(out), "--html", str(page)]
    run = layout.repo.run(str(VENV_BIN / "mlgitops"), "report", *args)
    assert run.returncode == 0, str(run)
    assert f"report: wrote {page}" in run.stderr

    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    verdict = "<strong>Gate passed</strong>: acc 0.7 is at or above the floor 0.5"
    assert verdict in html
    headline = html.index("<th>Metric</th>")
    assert html.index(verdict) < headline < html.index("<h4>Quality gate: passed ✅</h4>")
    assert "<td><strong>acc</strong></td>" in html
    assert "<details><summary>" in html and "Full metrics" in html
    assert "<td>train.lr</td>" in html  # the params table, rendered
    assert "| ---" not in html and "**" not in html  # no markdown left unrendered

    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 3, sources
    for source in sources:  # relative to the page, drawn beside report.md
        assert source.startswith("../report/images/"), source
        assert (page.parent / source).read_bytes().startswith(PNG_SIGNATURE)
