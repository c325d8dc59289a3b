"""A git+DVC repository as DVC itself reads it: stages, metrics, plots, params, remote.

Everything comes from `dvc.repo.Repo` (its index of every dvc.yaml, subdirectories included,
with `foreach`/`matrix` stages already expanded, and its merged config), never from our own
parse of dvc.yaml, so what `init` and `doctor` see is what `dvc repro` will run. Paths are
relative to the repository root, POSIX style, whatever the dvc.yaml's directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from mlgitops.adopt.declared import (
    Metric,
    Output,
    ParamsFile,
    ParamsFormat,
    ParamsUse,
    Plot,
    Remote,
    Repository,
    Stage,
)
from mlgitops.errors import UsageError

__all__ = [
    "Metric",
    "Output",
    "ParamsFile",
    "ParamsUse",
    "Plot",
    "Remote",
    "Repository",
    "RepositoryError",
    "Stage",
    "open_repository",
    "read_opened",
    "read_repository",
    "read_values",
]

if TYPE_CHECKING:
    from dvc.repo import Repo
    from dvc.stage import Stage as DvcStage

_FORMATS: dict[str, ParamsFormat] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".py": "python",
}
DEFAULT_PARAMS_FILE = "params.yaml"  # DVC's own default, read when a stage names no file


class RepositoryError(UsageError):
    """Raised when the directory cannot be adopted; `missing` is "git", "dvc" or "pipeline"."""

    def __init__(self, missing: Literal["git", "dvc", "pipeline", "root"], message: str) -> None:
        super().__init__(message)
        self.missing = missing


def read_repository(root: Path) -> Repository:
    """The repository whose root is `root`; RepositoryError saying what is missing otherwise."""
    root = root.resolve()
    with open_repository(root) as repo:
        return read_opened(repo, root)


def open_repository(root: Path) -> Repo:
    """DVC's repository object for `root` (resolved), for a caller that asks DVC more than
    `read_opened` does (doctor's `dvc status`: one index instead of two); RepositoryError
    saying what is missing otherwise. Close it (`with`) when done."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    if not (root / ".git").exists():
        raise RepositoryError(
            "git", f"{root} is not the root of a git repository: run `git init` there first."
        )
    try:
        repo = Repo(os.fspath(root))
    except NotDvcRepoError:
        raise RepositoryError(
            "dvc", f"{root} is not a DVC repository: run `dvc init` there and commit .dvc/."
        ) from None
    if Path(repo.root_dir).resolve() != root:
        repo.close()
        raise RepositoryError(
            "root", f"{root} is inside the DVC repository {repo.root_dir}: run at its root."
        )
    return repo


def read_opened(repo: Repo, root: Path) -> Repository:
    """What the DVC repository `repo`, whose root is `root` (resolved), declares."""
    from dvc.exceptions import DvcException
    from dvc.stage import PipelineStage

    try:
        index = repo.index
    except DvcException as error:  # a dvc.yaml DVC cannot parse or validate
        raise UsageError(f"DVC cannot read the pipeline: {error}; `dvc status` shows why") from None
    # dvc.yaml stages only: a `dvc add`ed file's .dvc pointer is a stage without name or command.
    dvc_stages = [stage for stage in index.stages if isinstance(stage, PipelineStage)]
    if not dvc_stages:
        raise RepositoryError(
            "pipeline",
            f"{root} has no DVC pipeline: add a stage with `dvc stage add -n NAME -d INPUT"
            " -o OUTPUT -M metrics.json COMMAND` (it writes dvc.yaml).",
        )
    stages = tuple(_stage(stage, root) for stage in dvc_stages)
    # The top-level `metrics:`/`plots:`/`params:` of each dvc.yaml: DVC has no public view.
    top_metrics: Mapping[str, Iterable[str]] = repo.index._metrics
    top_plots: Mapping[str, Iterable[Any]] = repo.index._plots
    top_params: Mapping[str, Iterable[str]] = repo.index._params
    dvcfiles = sorted(
        {stage.dvcfile for stage in stages}
        | {_rel(path, root) for path in (*top_metrics, *top_plots, *top_params)}
    )
    return Repository(
        root=root,
        dvcfiles=tuple(dvcfiles),
        stages=stages,
        metrics=_metrics(stages, top_metrics, root),
        plots=_plots(stages, top_plots, root),
        params_files=_params_files(stages, top_params, root),
        remotes=_remotes(repo),
        default_remote=_default_remote(repo),
    )


def _stage(stage: DvcStage, root: Path) -> Stage:
    from dvc.dependency.param import ParamsDependency

    wdir = _rel(stage.wdir, root)
    params: list[ParamsUse] = []
    deps: list[str] = []
    for dep in stage.deps:
        if isinstance(dep, ParamsDependency):
            params.append(ParamsUse(_join(wdir, dep.def_path), tuple(dep.params)))
        else:
            deps.append(_join(wdir, dep.def_path))
    outs = tuple(
        Output(
            path=_join(wdir, out.def_path),
            kind="metric" if out.metric else "plot" if out.plot else "out",
            cached=bool(out.use_cache),
            persist=bool(out.persist),
        )
        for out in stage.outs
    )
    cmd = stage.cmd if isinstance(stage.cmd, list) else [stage.cmd] if stage.cmd else []
    name = stage.name or stage.addressing
    # DVC forbids "@" in stage names: it marks an item expanded from foreach/matrix.
    generated_from = name.split("@", 1)[0] if "@" in name else None
    dvcfile = _rel(stage.path, root)
    return Stage(
        # DVC's own `addressing` is relative to the process's cwd; this one to the root.
        address=name if dvcfile == "dvc.yaml" else f"{dvcfile}:{name}",
        name=name,
        dvcfile=dvcfile,
        wdir=wdir,
        cmd=tuple(str(part) for part in cmd),
        deps=tuple(deps),
        params=tuple(params),
        outs=outs,
        generated_from=generated_from,
    )


def _metrics(
    stages: tuple[Stage, ...], top: Mapping[str, Iterable[str]], root: Path
) -> tuple[Metric, ...]:
    found: dict[str, Metric] = {}
    writers = _writers(stages)
    for stage in stages:
        for out in stage.metrics:
            found.setdefault(out.path, Metric(out.path, stage.dvcfile, stage.address, out.cached))
    for dvcfile, paths in top.items():
        base = _rel(os.fspath(Path(dvcfile).parent), root)
        for entry in paths:
            path = _join(base, str(entry))
            writer = writers.get(path)
            cached = writer[1].cached if writer else False
            address = writer[0].address if writer else None
            found.setdefault(path, Metric(path, _rel(dvcfile, root), address, cached))
    return tuple(found.values())


def _plots(
    stages: tuple[Stage, ...], top: Mapping[str, Iterable[Any]], root: Path
) -> tuple[Plot, ...]:
    found: list[Plot] = []
    writers = _writers(stages)
    for stage in stages:
        for out in stage.plots:
            found.append(Plot(out.path, (out.path,), stage.dvcfile, stage.address, out.cached))
    for dvcfile, entries in top.items():
        base = _rel(os.fspath(Path(dvcfile).parent), root)
        for name, files in _top_plot_files(entries):
            paths = tuple(_join(base, file) for file in files)
            writer = next((writers[path] for path in paths if path in writers), None)
            found.append(
                Plot(
                    name=name,
                    files=paths,
                    dvcfile=_rel(dvcfile, root),
                    stage=writer[0].address if writer else None,
                    cached=any(writers[path][1].cached for path in paths if path in writers),
                )
            )
    return tuple(found)


def _top_plot_files(entries: Iterable[Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(id, files) per top-level plot: a bare path, {path: props} or {id: {y: {file: col}}}."""
    for entry in entries:
        if isinstance(entry, str):
            yield entry, (entry,)
            continue
        for name, props in dict(entry).items():
            y = (props or {}).get("y") if isinstance(props, Mapping) else None
            x = (props or {}).get("x") if isinstance(props, Mapping) else None
            files = [str(file) for axis in (y, x) if isinstance(axis, Mapping) for file in axis]
            yield str(name), tuple(dict.fromkeys(files)) or (str(name),)


def _params_files(
    stages: tuple[Stage, ...], top: Mapping[str, Iterable[str]], root: Path
) -> tuple[ParamsFile, ...]:
    paths: dict[str, None] = {}
    for stage in stages:
        for use in stage.params:
            paths[use.file] = None
    for dvcfile, entries in top.items():
        base = _rel(os.fspath(Path(dvcfile).parent), root)
        for entry in entries:
            paths[_join(base, str(entry))] = None
    if (root / DEFAULT_PARAMS_FILE).exists():
        paths[DEFAULT_PARAMS_FILE] = None
    return tuple(
        ParamsFile(path, _FORMATS.get(PurePosixPath(path).suffix.lower()), (root / path).exists())
        for path in paths
    )


def _remotes(repo: Repo) -> tuple[Remote, ...]:
    sections: Mapping[str, Mapping[str, Any]] = repo.config.get("remote", {})
    return tuple(Remote(name, str(section.get("url", ""))) for name, section in sections.items())


def _default_remote(repo: Repo) -> Remote | None:
    name = repo.config.get("core", {}).get("remote")
    return next((remote for remote in _remotes(repo) if remote.name == name), None)


def _writers(stages: tuple[Stage, ...]) -> dict[str, tuple[Stage, Output]]:
    return {out.path: (stage, out) for stage in stages for out in stage.outs}


def _rel(path: str, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _join(base: str, path: str) -> str:
    """`path` (relative to a dvc.yaml's directory) relative to the root; URLs as they are."""
    if "://" in path or path.startswith("remote:"):
        return path
    return PurePosixPath(os.path.normpath(PurePosixPath(base, path).as_posix())).as_posix()


def read_values(root: Path, path: str) -> dict[str, object] | None:
    """A metrics or params file of the workspace as flat dotted keys (`test.auc`), read by
    DVC's own loader for its suffix (YAML, JSON, TOML, Python); None when it is not there.

    Only the workspace: DVC's `metrics show` would fetch a missing cached file from the remote.
    """
    from dvc.exceptions import DvcException
    from dvc.fs import LocalFileSystem
    from dvc.utils.flatten import flatten
    from dvc.utils.serialize import load_path

    file = root / path
    if not file.is_file():
        return None
    try:
        data = load_path(os.fspath(file), LocalFileSystem())
    except DvcException as error:
        raise UsageError(f"{path} cannot be read: {error}") from None
    if not isinstance(data, Mapping):
        return {}
    return dict(flatten(dict(data)))
