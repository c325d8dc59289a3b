"""The layout's promises: the plugins know nothing of the example model, modules stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from churn import schema

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "src" / "mlgitops"
MAX_LINES = 300


def _example_names() -> set[str]:
    """What only the example model would write: its name, its id, label and score fields, and
    every column name of its schema that cannot be an ordinary word (snake_case)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    columns = {*schema.FEATURES, schema.ID, schema.LABEL}
    return {
        "churn",
        "customer",
        params["serving"]["score"],
        *(name for name in columns if "_" in name),
    }


def _plugin_sources() -> list[Path]:
    return sorted(PLUGINS.rglob("*.py"))


def test_the_plugins_name_nothing_of_the_example_model() -> None:
    names = _example_names()
    assert {"churn", "customer_id", "monthly_charges"} <= names  # the list is not empty
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names)), re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _plugin_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == [], "src/mlgitops names the example model:\n" + "\n".join(found)


def test_the_plugins_never_import_the_example_model() -> None:
    importing = []
    for path in _plugin_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            importing += [
                f"{path.relative_to(ROOT)}: {m}" for m in modules if m.split(".")[0] == "churn"
            ]
    assert importing == []


def test_no_module_in_src_is_over_300_lines() -> None:
    sources = sorted((ROOT / "src").rglob("*.py"))
    assert len(sources) > 20
    long = {
        str(path.relative_to(ROOT)): count
        for path in sources
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"
