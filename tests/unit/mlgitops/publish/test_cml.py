"""The cml backend's command line and failures (the end-to-end run is in tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import RemoteError
from mlgitops.publish.cml import cml_command, publish_with_cml
from tests.unit.mlgitops.publish.conftest import PR, REPO


def test_cml_command_targets_the_pr_by_watermark_without_publishing() -> None:
    argv = cml_command("cml", Path("c.md"), repo=REPO, pr=PR, site="https://github.com")
    assert argv == [
        "cml",
        "comment",
        "update",
        "--target=pr/7",
        "--watermark-title=mlgitops-report",
        "--repo=https://github.com/octo/churn",
        "--no-publish",
        "c.md",
    ]


def test_a_failing_cml_is_a_remote_error_with_its_output(tmp_path: Path) -> None:
    broken = tmp_path / "cml"
    broken.write_text("#!/bin/sh\necho 'HttpError: Bad credentials' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(RemoteError, match="cml comment update exited 1: HttpError: Bad cred"):
        publish_with_cml("body", repo=REPO, pr=PR, site="https://github.com", cml=str(broken))
