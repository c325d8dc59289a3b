"""The `retrain:` section of params.yaml, read and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError
from mlgitops.params import read_params


@dataclass(frozen=True)
class RetrainSettings:
    """Where the data lives, where new labels land, and how the pull request looks."""

    data: Path  # the DVC-tracked table, relative to the repository
    incoming: Path  # folder of newly labelled CSV/Parquet files (absolute, or relative)
    id_column: str
    validate_stages: tuple[str, ...]
    branch_prefix: str
    pr_title: str
    pr_labels: tuple[str, ...]

    @property
    def pointer(self) -> Path:
        """The `.dvc` file beside the data file: the one file a retraining PR changes."""
        return self.data.with_name(self.data.name + ".dvc")


def _text(section: Mapping[str, Any], key: str, source: Path) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{source}: retrain.{key} must be a non-empty string, found {value!r}")
    return value.strip()


def _names(section: Mapping[str, Any], key: str, source: Path) -> tuple[str, ...]:
    value = section.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise UsageError(f"{source}: retrain.{key} must be a list of names, found {value!r}")
    return tuple(value)


def parse_settings(params: Mapping[str, Any], *, source: Path) -> RetrainSettings:
    """The retrain section of a parsed params.yaml; UsageError naming the key that is wrong."""
    section = params.get("retrain")
    if not isinstance(section, Mapping) or not section:
        raise UsageError(
            f"{source} has no `retrain:` section; add one (data, incoming, id_column, "
            "validate_stages, branch_prefix, pr_title) as docs/retrain.md shows"
        )
    stages = _names(section, "validate_stages", source)
    if not stages:
        raise UsageError(f"{source}: retrain.validate_stages names no stage to validate with")
    prefix = _text(section, "branch_prefix", source)
    if not prefix.endswith("/"):
        raise UsageError(f"{source}: retrain.branch_prefix {prefix!r} must end with '/'")
    return RetrainSettings(
        data=Path(_text(section, "data", source)),
        incoming=Path(_text(section, "incoming", source)),
        id_column=_text(section, "id_column", source),
        validate_stages=stages,
        branch_prefix=prefix,
        pr_title=_text(section, "pr_title", source),
        pr_labels=_names(section, "pr_labels", source),
    )


def load_settings(path: Path) -> RetrainSettings:
    """params.yaml's retrain section; UsageError when the file is missing or unreadable."""
    return parse_settings(read_params(path), source=path)
