"""read_params: the one reader of params.yaml; every way it can be wrong is a UsageError."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.params import read_params


def test_a_params_file_reads_as_its_sections(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("gate:\n  - metric: test.roc_auc\ndrift: {bins: 10}\n")
    assert read_params(path) == {"gate": [{"metric": "test.roc_auc"}], "drift": {"bins": 10}}


def test_an_empty_file_has_no_sections(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("")
    assert read_params(path) == {}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (None, "not found"),
        ("gate: [unclosed\n", "is not valid YAML"),
        ("- a list\n- of things\n", "is not a YAML mapping"),
        (b"\xff\xfe bad bytes", "cannot read"),
    ],
)
def test_a_bad_params_file_is_named(tmp_path: Path, text: str | bytes | None, said: str) -> None:
    path = tmp_path / "params.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(UsageError, match=said) as raised:
        read_params(path)
    assert str(path) in str(raised.value)
