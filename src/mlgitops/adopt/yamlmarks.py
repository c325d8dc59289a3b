"""Line numbers in YAML files: PyYAML's composed node tree keeps each node's start mark.

`YamlFile.line("stages", "train", "params", "train.seed")` is the 1-based line of that entry:
mapping keys are matched by name, sequence items by index or by the item's own text (a scalar
item, or the one key of a mapping item such as `- metrics.json: {cache: false}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (it keeps the same marks), ~5x faster.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlFile:
    """A parsed YAML file: its data and its node tree, for line numbers."""

    path: Path
    data: Any
    node: yaml.Node | None

    @classmethod
    def read(cls, path: Path) -> YamlFile | None:
        """The file parsed, or None when it is missing or not YAML (other tools report that)."""
        try:
            loader = _LOADER(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
        try:  # one parse: the node tree, then the data constructed from it
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except yaml.YAMLError:
            return None
        finally:
            loader.dispose()
        return cls(path, data, node)

    def line(self, *keys: str | int, exact: bool = False) -> int | None:
        """The line of the deepest of `keys` found, so a partial match still points near (with
        `exact`, None unless every key is found)."""
        node, line = self.node, None
        for key in keys:
            found = _child(node, key)
            if found is None:
                if exact:
                    return None
                break
            node, line = found[1], found[0].start_mark.line + 1
        return line if line is not None else (1 if self.node is not None else None)


def _child(node: yaml.Node | None, key: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node whose line to report, the node to descend into) for one step of a path."""
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == str(key):
                return name, value
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if index == key:
                return item, item
            if _item_name(item) == key:  # `- path: {options}` descends into the options
                inner = item.value[0][1] if isinstance(item, yaml.MappingNode) else item
                return item, inner
    return None


def _item_name(item: yaml.Node) -> str | None:
    if isinstance(item, yaml.ScalarNode):
        return str(item.value)
    if isinstance(item, yaml.MappingNode) and len(item.value) == 1:
        name = item.value[0][0]
        return str(name.value) if isinstance(name, yaml.ScalarNode) else None
    return None
