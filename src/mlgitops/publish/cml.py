"""The `cml` backend: hands the finished body to `cml comment update` when CML is installed.

CML finds and edits its comment by a watermark, as we do by marker. The body's images already
point into the repository, and `--no-publish` keeps CML from uploading anything elsewhere.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlgitops.errors import RemoteError, UsageError

logger = logging.getLogger(__name__)

WATERMARK = "mlgitops-report"
_TIMEOUT_SECONDS = 300


def find_cml() -> str | None:
    """The path of the `cml` executable on PATH, if there is one."""
    return shutil.which("cml")


def cml_command(cml: str, body_file: Path, *, repo: str, pr: int, site: str) -> list[str]:
    """The argv that updates (or creates) our comment on pull request `pr`."""
    return [
        cml,
        "comment",
        "update",
        f"--target=pr/{pr}",
        f"--watermark-title={WATERMARK}",
        f"--repo={site}/{repo}",
        "--no-publish",
        str(body_file),
    ]


def publish_with_cml(body: str, *, repo: str, pr: int, site: str, cml: str | None = None) -> None:
    """Runs `cml comment update` on the body; CML reads its token from the environment."""
    executable = cml or find_cml()
    if executable is None:
        raise UsageError("--backend cml needs the `cml` executable on PATH (iterative/setup-cml)")
    with tempfile.TemporaryDirectory(prefix="mlgitops-comment-") as folder:
        body_file = Path(folder) / "comment.md"
        body_file.write_text(body, encoding="utf-8")
        argv = cml_command(executable, body_file, repo=repo, pr=pr, site=site)
        logger.info("running %s", " ".join(argv[1:]))
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RemoteError(f"cml comment update could not run: {error}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        raise RemoteError(
            f"cml comment update exited {done.returncode}: {tail or 'no output'}; check that "
            "REPO_TOKEN or GITHUB_TOKEN can write pull-request comments"
        )
