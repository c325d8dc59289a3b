"""What a git+DVC repository declares, as `repository.read_repository` reads it through DVC.

Small frozen values with paths relative to the repository root, POSIX style.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ParamsFormat = Literal["yaml", "json", "toml", "python"]


@dataclass(frozen=True)
class Output:
    """One declared output: a plain out, a metric or a plot, and whether DVC caches it."""

    path: str
    kind: Literal["out", "metric", "plot"]
    cached: bool
    persist: bool = False


@dataclass(frozen=True)
class ParamsUse:
    """The params one stage declares from one file; `keys` empty means the whole file."""

    file: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    """One stage as `dvc repro` runs it (a foreach/matrix item is its own stage)."""

    address: str  # what `dvc repro` accepts: "train", "sub/dvc.yaml:ev", "loop@a"
    name: str  # the name inside its dvc.yaml: "train", "ev", "loop@a"
    dvcfile: str  # the dvc.yaml it comes from
    wdir: str  # where its command runs ("." for the root)
    cmd: tuple[str, ...]
    deps: tuple[str, ...]  # files and directories (params files are in `params`)
    params: tuple[ParamsUse, ...]
    outs: tuple[Output, ...]
    generated_from: str | None  # the foreach/matrix stage it was expanded from

    @property
    def metrics(self) -> tuple[Output, ...]:
        return tuple(out for out in self.outs if out.kind == "metric")

    @property
    def plots(self) -> tuple[Output, ...]:
        return tuple(out for out in self.outs if out.kind == "plot")


@dataclass(frozen=True)
class Metric:
    """A metrics file: a stage's `metrics:` output, or a top-level `metrics:` entry."""

    path: str
    dvcfile: str
    stage: str | None  # the address of the stage writing it; None when no stage declares it
    cached: bool  # True: DVC keeps it out of git (`cache: false` is the convention for metrics)


@dataclass(frozen=True)
class Plot:
    """A plot: a stage's `plots:` output, or a top-level `plots:` definition and its files."""

    name: str  # the output's path, or the top-level plot's id
    files: tuple[str, ...]
    dvcfile: str
    stage: str | None
    cached: bool


@dataclass(frozen=True)
class ParamsFile:
    """A params file some stage or dvc.yaml reads, in one of the formats DVC reads."""

    path: str
    format: ParamsFormat | None  # None: a suffix DVC cannot read as params
    exists: bool


@dataclass(frozen=True)
class Remote:
    name: str
    url: str


@dataclass(frozen=True)
class Repository:
    """What a git+DVC repository declares, read through DVC's API."""

    root: Path
    dvcfiles: tuple[str, ...]
    stages: tuple[Stage, ...]
    metrics: tuple[Metric, ...]
    plots: tuple[Plot, ...]
    params_files: tuple[ParamsFile, ...]
    remotes: tuple[Remote, ...]
    default_remote: Remote | None
