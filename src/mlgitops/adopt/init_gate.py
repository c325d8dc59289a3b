"""The gate policy `mlgitops init` proposes: one rule per metric whose name says its direction.

A metric's direction comes from the words of its last key (`test.roc_auc` -> roc, auc), only
when every direction word in it agrees: auc, accuracy, precision, recall, f1, r2 are better
higher; loss, error, rmse, mae, mape better lower. Anything else is reported by the report but
not gated, and init says so. Values come from the metrics files in the workspace.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlgitops.adopt.repository import Repository, read_values

Better = Literal["higher", "lower"]
_HIGHER = frozenset({"auc", "accuracy", "precision", "recall", "f1", "r2"})
_LOWER = frozenset({"loss", "error", "rmse", "mae", "mape"})
_WORDS = re.compile(r"[a-z0-9]+")
_PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")


@dataclass(frozen=True)
class Rule:
    """One proposed gate rule and where its current value came from."""

    metric: str
    file: str
    better: Better
    value: float
    max_worsening: float
    name_file: bool  # True when another metrics file has the same key: the rule names its file


@dataclass(frozen=True)
class GateProposal:
    rules: tuple[Rule, ...]
    ungated: tuple[str, ...]  # "file: key", numeric metrics whose direction the name leaves open
    unread: tuple[str, ...]  # declared metrics files not in the workspace


def direction(key: str) -> Better | None:
    """higher/lower from the last part of a dotted metric key; None when unclear."""
    words = set(_WORDS.findall(key.rsplit(".", 1)[-1].lower()))
    up, down = bool(words & _HIGHER), bool(words & _LOWER)
    if up == down:
        return None
    return "higher" if up else "lower"


def propose_gate(repository: Repository) -> GateProposal:
    """Rules for every numeric metric with a clear direction, in file order."""
    found: list[tuple[str, str, float]] = []
    unread: list[str] = []
    for metric in repository.metrics:
        values = read_values(repository.root, metric.path)
        if values is None:
            unread.append(metric.path)
            continue
        for key, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append((metric.path, key, float(value)))
    per_key = Counter(key for _, key, _ in found)
    rules: list[Rule] = []
    ungated: list[str] = []
    for path, key, value in found:
        better = direction(key)
        if better is None:
            ungated.append(f"{path}: {key}")
            continue
        rules.append(Rule(key, path, better, value, _tolerance(value), per_key[key] > 1))
    return GateProposal(tuple(rules), tuple(ungated), tuple(unread))


def _tolerance(value: float) -> float:
    """A first max_worsening: 0.01 for a score in [0, 1], else 5% of the value now."""
    if 0 <= value <= 1:
        return 0.01
    return float(f"{abs(value) * 0.05:.2g}") or 0.01


def gate_yaml(rules: tuple[Rule, ...]) -> str:
    """The `gate:` section as params.yaml text, each rule saying where its value came from."""
    lines = [
        "# The quality gate of pull requests (`mlgitops gate`), pre-filled by `mlgitops init`",
        "# from the metrics in the workspace; not a pipeline parameter. max_worsening is the",
        "# largest change for the worse against the base branch a pull request may make; add",
        "# at_least / at_most for absolute limits.",
        "gate:",
    ]
    for rule in rules:
        lines.append(f"  - metric: {_scalar(rule.metric)}  # {rule.file}: {rule.value:g} now")
        if rule.name_file:
            lines.append(f"    file: {_scalar(rule.file)}")
        lines.append(f"    better: {rule.better}")
        lines.append(f"    max_worsening: {rule.max_worsening:g}")
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    """A YAML scalar: plain when safe, else a JSON string (which YAML reads the same)."""
    return text if _PLAIN.match(text) and not text[0].isdigit() else json.dumps(text)


def has_gate(params_file: Path) -> bool:
    """True when the params file already holds a top-level `gate` key."""
    import yaml

    if not params_file.is_file():
        return False
    loaded = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    return isinstance(loaded, dict) and "gate" in loaded
