"""One loader for every params.yaml section a plugin reads: a pydantic model, unknown keys refused.

A ValidationError becomes one UsageError (exit 2) with one sentence per problem, naming the
file, the key path as written in the file (`gate[0].max_worsening`, `deploy.smoke.card`) and
what was expected, with "did you mean" for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    Strict,
    ValidationError,
)
from pydantic_core import ErrorDetails

from mlgitops.errors import UsageError
from mlgitops.params import read_params

M = TypeVar("M", bound=BaseModel)

# Strict scalars: YAML's `port: "3000"` or `seed: true` is a mistake, not a number to coerce.
Int = Annotated[int, Strict()]
Positive = Annotated[int, Strict(), Field(ge=1)]
Number = Annotated[float, Strict()]  # strict float still takes an int (`at_least: 1`)
PositiveNumber = Annotated[float, Strict(), Field(gt=0)]
Flag = Annotated[bool, Strict()]
Text = Annotated[str, Field(min_length=1)]


def matching(pattern: str, problem: str) -> AfterValidator:
    """A check that the whole string matches `pattern`; `problem` says what it is not, e.g.
    "not a cron line of five fields"."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


_MAX_PROBLEMS = 10  # a file of the wrong shape would otherwise list every key
_MAX_SHOWN = 60  # characters of a wrong value quoted in a message


class Section(BaseModel):
    """A params.yaml section: unknown keys are errors, the parsed object is read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    docs: ClassVar[str] = "docs/guide.md"  # where the section's keys are documented


class Sections(BaseModel):
    """Several sections of one params file at once; the sections it does not name are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    docs: ClassVar[str] = "docs/guide.md"


def load_settings(kind: type[M], path: Path, section: str | None = None) -> M:
    """`kind` from the params file at `path` (one `section` of it, or the sections `kind` names).

    UsageError naming the file when it is unreadable, the section is missing, or a key is wrong.
    """
    return parse_settings(kind, read_params(path), source=str(path), section=section)


def parse_settings(
    kind: type[M],
    params: Mapping[str, Any],
    *,
    source: str = "params.yaml",
    section: str | None = None,
) -> M:
    """`kind` from an already read params mapping; `source` names the file in messages."""
    data: Any = params
    if section is not None:
        if section not in params:
            raise UsageError(f"{source} has no '{section}' section; see {_docs(kind)} for its keys")
        data = params[section]
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        raise UsageError(_problems(kind, error, source, (section,) if section else ())) from None


def _problems(
    kind: type[BaseModel], error: ValidationError, source: str, prefix: tuple[str, ...]
) -> str:
    """One sentence per problem; the keys missing from one mapping make one sentence."""
    details = error.errors()
    # `replica: 2` is one mistake: "did you mean `replicas`?" says it, not also "missing".
    suggested = {_suggested(kind, d) for d in details if d["type"] == "extra_forbidden"}
    missing: dict[tuple[int | str, ...], list[str]] = {}
    problems = []
    for detail in details:
        loc = tuple(detail["loc"])
        if detail["type"] != "missing":
            problems.append(_sentence(kind, detail, source, prefix))
        elif loc not in suggested:
            missing.setdefault(loc[:-1], []).append(str(loc[-1]))
    for parent, keys in missing.items():
        where = f"{source}: {key_path((*prefix, *parent))}" if prefix or parent else source
        listed = ", ".join(f"`{key}`" for key in keys)
        problems.append(f"{where} lacks {listed}; see {_docs(kind)}")
    more = len(problems) - _MAX_PROBLEMS
    if more > 0:
        problems = [*problems[:_MAX_PROBLEMS], f"... and {more} more problem(s)"]
    return "\n".join(problems)


def _docs(kind: type[BaseModel]) -> str:
    return str(getattr(kind, "docs", "docs/guide.md"))


def key_path(loc: Sequence[int | str]) -> str:
    """A pydantic location as the key path a reader finds in the file: `gate[0].metric`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # a dict key that is itself wrong: the path already ends with it
            path += f".{part}" if path else part
    return path


def _suggested(kind: type[BaseModel], detail: ErrorDetails) -> tuple[int | str, ...] | None:
    """Where the key an unknown key was meant to be is, when one is close enough to say."""
    loc = tuple(detail["loc"])
    close = difflib.get_close_matches(str(loc[-1]), keys_at(kind, loc[:-1]), n=1, cutoff=0.6)
    return (*loc[:-1], close[0]) if close else None


def _sentence(
    kind: type[BaseModel], detail: ErrorDetails, source: str, prefix: tuple[str, ...]
) -> str:
    loc = tuple(detail["loc"])
    path = key_path((*prefix, *loc))
    where = f"{source}: {path}" if path else source
    kind_of_error = detail["type"]
    if kind_of_error == "extra_forbidden":
        meant = _suggested(kind, detail)
        if meant is not None:
            return f"{where} is not a known key; did you mean `{meant[-1]}`?"
        known = ", ".join(sorted(keys_at(kind, loc[:-1])))
        return f"{where} is not a known key; expected one of: {known}"
    if not loc and kind_of_error == "value_error":  # a check across keys: its message names them
        return f"{source}: {detail['ctx']['error']}"
    shown = _shown(detail["input"])
    if kind_of_error in ("value_error", "assertion_error"):
        return f"{where} is {shown}: {detail['ctx']['error']}"
    if kind_of_error in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where} is {shown}; expected a mapping of keys (see {_docs(kind)})"
    if kind_of_error in ("list_type", "tuple_type"):
        return f"{where} is {shown}; expected a list"
    if kind_of_error == "too_short":
        return f"{where} is {shown}; expected at least {detail['ctx']['min_length']} item(s)"
    bounds = {"greater_than_equal": "at least", "greater_than": "more than",
              "less_than_equal": "at most", "less_than": "less than"}  # fmt: skip
    if kind_of_error in bounds:
        (bound,) = detail["ctx"].values()
        return f"{where} is {shown}; expected {bounds[kind_of_error]} {bound}"
    expected = detail["msg"].removeprefix("Input should be ")
    if expected == detail["msg"]:
        expected = expected[:1].lower() + expected[1:]
    return f"{where} is {shown}; expected {expected}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def keys_at(kind: Any, loc: Sequence[int | str]) -> list[str]:
    """The keys (field names and aliases) the model expects at `loc`, for "did you mean"."""
    current = _unwrap(kind)
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = _unwrap(field.annotation)
        else:  # a list, tuple or dict of models: the element's or value's type
            args = [arg for arg in get_args(current) if arg is not Ellipsis]
            current = _unwrap(args[-1]) if args else None
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    names = []
    for name, field in current.model_fields.items():
        names += [name, *(alias for alias in (field.alias,) if alias)]
    return names


def _unwrap(annotation: Any) -> Any:
    """Through Annotated[...], X | None and RootModel to the type that holds the keys."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [arg for arg in get_args(annotation) if arg is not type(None)]
            annotation = rest[0] if len(rest) == 1 else annotation
            if len(rest) != 1:
                return annotation
        elif isinstance(annotation, type) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        else:
            return annotation
