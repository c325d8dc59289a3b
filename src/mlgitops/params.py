"""Reading a repository's params.yaml: every plugin takes its settings from one section of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlgitops.errors import UsageError


def read_params(path: Path) -> dict[str, Any]:
    """The whole params file as a mapping (an empty file is an empty one).

    UsageError naming the file when it is missing, unreadable, not YAML or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path} not found; run from the repository root or pass --params"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path} ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not valid YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a YAML mapping of sections")
    return data
