"""Choosing the published operation a stand-in's request is for, the same for every API."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar


class Route(Protocol):
    """What a published operation says of its route."""

    @property
    def method(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def pattern(self) -> re.Pattern[str]: ...


OperationT = TypeVar("OperationT", bound=Route)


def choose(
    operations: Iterable[OperationT], method: str, path: str, *, api: str
) -> OperationT | str:
    """The operation `method path` calls, or why the API has none (a sentence)."""
    matching = [op for op in operations if op.pattern.fullmatch(path)]
    if not matching:
        return f"{method} {path}: no such route in {api}"
    chosen = [op for op in matching if op.method == method]
    if not chosen:
        return f"{method} {path}: the route takes {sorted({op.method for op in matching})} only"
    # Literal segments win over parameters (".../submit" is not a workflow named "submit").
    return max(chosen, key=lambda op: len(re.sub(r"\{[^}]+\}", "", op.template)))
