"""What a stage's Python script reads, as far as its source shows it (`ast`, nothing runs).

Conservative on purpose: a read counts only when the code spells it out, a params key as a
chain of string subscripts on something loaded from a params file (`params["train"]["lr"]`,
`yaml.safe_load(open("params.yaml"))["train"]`, `dvc.api.params_show()["train"]`), a file as
a string literal naming an existing path. Anything computed is left alone: a doctor that cries
wolf gets switched off.
"""

from __future__ import annotations

import ast
import os
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ANY_FILE = "*"  # dvc.api.params_show() merges every params file
_LOADERS = {"safe_load", "load", "full_load", "loads"}  # yaml.*, json.*, tomllib.*, toml.*
_PYTHON_OPTIONS_WITH_VALUE = {"-X", "-W", "-c"}


@dataclass(frozen=True)
class ParamsRead:
    """A params key the script reads: `file` relative to the stage's wdir, or ANY_FILE."""

    file: str
    key: str
    line: int


@dataclass(frozen=True)
class Literal:
    """A string constant of the script (docstrings excluded) and its line."""

    text: str
    line: int


def stage_script(root: Path, wdir: str, command: str) -> str | None:
    """The root-relative path of the Python file `command` runs (`python x.py`, `python -m
    pkg.mod`, found from the wdir, the root or src/), or None when it runs something else."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value prefixes
    if not words or not PurePosixPath(words[0]).name.startswith("python"):
        return None
    args = iter(words[1:])
    for word in args:
        if word in _PYTHON_OPTIONS_WITH_VALUE:
            if word == "-c":
                return None
            next(args, None)
        elif word == "-m":
            module = next(args, "")
            return _module_file(root, wdir, module) if module else None
        elif not word.startswith("-"):
            path = _rel(root, root / wdir / word)
            return path if path and (root / path).is_file() else None
    return None


def _module_file(root: Path, wdir: str, module: str) -> str | None:
    parts = module.split(".")
    for base in (root / wdir, root, root / "src"):
        module_file = base.joinpath(*parts).with_suffix(".py")
        for candidate in (module_file, base.joinpath(*parts, "__main__.py")):
            if candidate.is_file():
                return _rel(root, candidate)
    return None


def _rel(root: Path, path: Path) -> str | None:
    relative = os.path.relpath(os.path.normpath(path), root)
    return None if relative.startswith("..") else Path(relative).as_posix()


def parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None


def literals(tree: ast.Module) -> list[Literal]:
    """String constants outside docstrings, f-strings and `__all__`-like lists of names."""
    skip = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    skip |= {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    return [
        Literal(node.value, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def params_reads(tree: ast.Module) -> list[ParamsRead]:
    """Every params key read through a chain of string subscripts (or `.get("key")`)."""
    return _Reader(tree).reads()


class _Reader:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.paths = _path_constants(tree)
        self.handles: dict[str, str] = {}  # `with open("params.yaml") as f` -> f
        for node in ast.walk(tree):
            if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                opened = self._opened(node.context_expr)
                if opened is not None:
                    self.handles[node.optional_vars.id] = opened
        self.aliases: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.alias_lines: dict[str, int] = {}
        self.consumed: set[int] = set()  # the values aliases are bound to
        self.deeper: set[str] = set()  # aliases read through a longer chain
        self._find_aliases()

    def _find_aliases(self) -> None:
        """`params = yaml.safe_load(...)`, `train = params["train"]`: names bound exactly once."""
        bound: dict[str, int] = {}
        for node in ast.walk(self.tree):
            for name in _targets(node):
                bound[name] = bound.get(name, 0) + 1
        for _ in range(3):  # aliases of aliases, a few levels deep
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name) and bound.get(target.id) == 1:
                        found = self._chain(node.value)
                        if found is not None:
                            self.aliases[target.id] = found
                            self.alias_lines[target.id] = node.lineno
                            self.consumed |= {id(n) for n in ast.walk(node.value)}
                            self._mark_deeper(node.value)

    def _mark_deeper(self, node: ast.expr) -> None:
        """The alias at the bottom of a chain longer than the alias itself."""
        while not isinstance(node, ast.Name):
            if isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                node = node.func.value
            else:
                return
        self.deeper.add(node.id)

    def reads(self) -> list[ParamsRead]:
        """Chains outside alias bindings; an alias counts where it is bound, unless it is only
        ever read further down (`train = params["train"]` then `train["lr"]`: train.lr only)."""
        found: list[ParamsRead] = []
        seen, opaque = set(self.consumed), set()
        for node in ast.walk(self.tree):  # outer chains come before their inner parts
            if id(node) in seen or not isinstance(node, ast.Subscript | ast.Call | ast.Name):
                continue
            chain = self._chain(node)
            if chain is None:
                continue
            seen |= {id(inner) for inner in ast.walk(node)}
            if isinstance(node, ast.Name):
                opaque.add(node.id)  # passed on whole: everything under it may be read
                continue
            self._mark_deeper(node)
            if chain[1]:
                found.append(ParamsRead(chain[0], ".".join(chain[1]), node.lineno))
        for name, (file, keys) in self.aliases.items():
            if keys and (name in opaque or name not in self.deeper):
                found.append(ParamsRead(file, ".".join(keys), self.alias_lines[name]))
        return sorted(found, key=lambda read: (read.line, read.key))

    def _chain(self, node: ast.expr) -> tuple[str, tuple[str, ...]] | None:
        """(params file, keys) when `node` is params data, else None."""
        if isinstance(node, ast.Subscript):
            key = _text(node.slice)
            inner = self._chain(node.value)
            return None if inner is None or key is None else (inner[0], (*inner[1], key))
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id) if isinstance(node.ctx, ast.Load) else None
        if not isinstance(node, ast.Call):
            return None
        name = _call_name(node.func)
        if name == "params_show":
            return ANY_FILE, ()
        if name == "get" and isinstance(node.func, ast.Attribute) and node.args:
            key, inner = _text(node.args[0]), self._chain(node.func.value)
            return None if inner is None or key is None else (inner[0], (*inner[1], key))
        if name in _LOADERS and node.args:
            source = self._source(node.args[0])
            return (source, ()) if source is not None else None
        return None

    def _source(self, node: ast.expr) -> str | None:
        """The file a loader's argument reads: open(P), P.read_text(), a `with` handle."""
        if isinstance(node, ast.Name) and node.id in self.handles:
            return self.handles[node.id]
        opened = self._opened(node)
        if opened is not None:
            return opened
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("read_text", "read_bytes", "read")
        ):
            return self._opened(node.func.value) or self._path(node.func.value)
        return None

    def _opened(self, node: ast.expr) -> str | None:
        """The file of `open(P)` or `P.open()`."""
        if not isinstance(node, ast.Call):
            return None
        if isinstance(node.func, ast.Name) and node.func.id == "open" and node.args:
            return self._path(node.args[0])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "open":
            return self._path(node.func.value)
        return None

    def _path(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.paths.get(node.id)
        if isinstance(node, ast.Call) and _call_name(node.func) == "Path" and node.args:
            return _text(node.args[0])
        return _text(node)


def _path_constants(tree: ast.Module) -> dict[str, str]:
    """Names bound once to a string or Path("...") literal (`PARAMS = Path("params.yaml")`)."""
    found: dict[str, str | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name):
                if isinstance(value, ast.Call) and _call_name(value.func) == "Path" and value.args:
                    value = value.args[0]
                text = _text(value)
                found[target.id] = None if target.id in found else text
    return {name: text for name, text in found.items() if text is not None}


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.For | ast.NamedExpr):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)]
    return []


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
