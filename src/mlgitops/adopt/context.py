"""What every doctor check reads: the repository as DVC sees it, and its YAML files with lines."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlgitops.adopt.repository import Repository, Stage
from mlgitops.adopt.scripts import parse, stage_script
from mlgitops.adopt.yamlmarks import YamlFile

if TYPE_CHECKING:
    from dvc.repo import Repo


@dataclass
class Context:
    """The repository under check; YAML files are parsed once, on first use."""

    root: Path
    repository: Repository
    dvc: Repo | None = None  # DVC's open repository object, when the caller has one
    _yaml: dict[str, YamlFile | None] = field(default_factory=dict)
    _trees: dict[str, ast.Module | None] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # what several checks share

    def yaml(self, rel: str) -> YamlFile | None:
        """A repository file parsed with its line numbers (None when missing or not YAML)."""
        if rel not in self._yaml:
            self._yaml[rel] = YamlFile.read(self.root / rel)
        return self._yaml[rel]

    def line(self, rel: str, *keys: str | int, exact: bool = False) -> int | None:
        parsed = self.yaml(rel)
        return parsed.line(*keys, exact=exact) if parsed is not None else None

    def scripts(self, stage: Stage) -> list[tuple[str, ast.Module]]:
        """The Python files the stage's commands run, each parsed (see `scripts.stage_script`)."""
        found = []
        for command in stage.cmd:
            script = stage_script(self.root, stage.wdir, command)
            if script is None:
                continue
            if script not in self._trees:
                self._trees[script] = parse(self.root / script)
            tree = self._trees[script]
            if tree is not None:
                found.append((script, tree))
        return found

    def shared(self, script: str) -> bool:
        """Whether several stages (foreach/matrix items aside) run `script`, e.g. one module with
        a subcommand per stage: its source names every stage's files and params, so which
        reads belong to which stage cannot be seen statically."""
        if "shared" not in self.cache:
            runners: dict[str, set[str]] = {}
            for stage in self.repository.stages:
                for name, _ in self.scripts(stage):
                    runners.setdefault(name, set()).add(stage.generated_from or stage.address)
            self.cache["shared"] = {name for name, stages in runners.items() if len(stages) > 1}
        shared: set[str] = self.cache["shared"]
        return script in shared

    def stage_line(self, stage: Stage, *keys: str | int) -> int | None:
        """The line of `keys` under the stage in its dvc.yaml (a foreach/matrix item points at
        the stage it was expanded from, whose templated entries may not match: then the stage)."""
        return self.line(stage.dvcfile, "stages", stage.generated_from or stage.name, *keys)

    def output_line(self, stage: Stage, section: str, path: str) -> int | None:
        """The line of an output entry (`path` relative to the root) in the stage's `section`."""
        return self.stage_line(stage, section, relative_to(path, stage.wdir))


def relative_to(path: str, base: str) -> str:
    """A root-relative path as a dvc.yaml entry in directory `base` writes it."""
    if base in ("", "."):
        return path
    return PurePosixPath(os.path.relpath(path, base)).as_posix()
