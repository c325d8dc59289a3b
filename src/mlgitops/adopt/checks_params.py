"""Doctor checks on params: declared keys exist, and keys a stage's script reads are declared.

DVC re-runs a stage when one of its declared params changes, and `dvc params diff` (the
report's params table) shows only declared params. A key read but not declared changes the
model silently; a key declared but missing stops `dvc repro`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import PurePosixPath

from mlgitops.adopt.context import Context, relative_to
from mlgitops.adopt.findings import Finding
from mlgitops.adopt.repository import DEFAULT_PARAMS_FILE, Stage, read_values
from mlgitops.adopt.scripts import ANY_FILE, params_reads
from mlgitops.errors import UsageError


def check_declared_params(ctx: Context) -> Iterator[Finding]:
    """Each key a stage lists under `params:` is in its params file."""
    cache: dict[str, dict[str, object] | None] = {}
    reported: set[tuple[str, ...]] = set()
    for stage in ctx.repository.stages:
        for use in stage.params:
            if use.file not in cache:
                cache[use.file] = _values(ctx, use.file)
            values, entry = cache[use.file], relative_to(use.file, stage.wdir)
            origin = (stage.dvcfile, stage.generated_from or stage.name, use.file)
            if values is None:
                if (*origin, "") not in reported:
                    reported.add((*origin, ""))
                    yield _missing_file(ctx, stage, use.file, entry)
                continue
            for key in use.keys:
                if values.get(_UNREADABLE) or _present(values, key) or (*origin, key) in reported:
                    continue
                reported.add((*origin, key))
                where = ("params", key) if entry == DEFAULT_PARAMS_FILE else ("params", entry, key)
                yield Finding(
                    "declared-params",
                    "error",
                    stage.dvcfile,
                    ctx.stage_line(stage, *where),
                    f"stage '{stage.address}' declares param {key}, which {use.file} does not have",
                    "`dvc repro` stops at this stage with 'missing params', so CI never gets to "
                    "the report",
                    f"add {key} to {use.file}, or remove it from the stage's `params:`",
                )


def _missing_file(ctx: Context, stage: Stage, file: str, entry: str) -> Finding:
    line = ctx.stage_line(stage, "params", *(() if entry == DEFAULT_PARAMS_FILE else (entry,)))
    return Finding(
        "declared-params",
        "error",
        stage.dvcfile,
        line,
        f"stage '{stage.address}' reads params from {file}, which does not exist",
        "`dvc repro` stops at this stage, so CI never gets to the report",
        f"create {file} with the stage's params, or point the stage at the right file",
    )


def check_read_params(ctx: Context) -> Iterator[Finding]:
    """Keys a stage's Python script visibly reads from a params file without declaring them."""
    params_files = {file.path for file in ctx.repository.params_files} | {DEFAULT_PARAMS_FILE}
    reported: set[tuple[str, str, str]] = set()
    for stage in ctx.repository.stages:
        for script, tree in ctx.scripts(stage):
            if ctx.shared(script):
                continue
            for read in params_reads(tree):
                file = read.file if read.file == ANY_FILE else _join(stage.wdir, read.file)
                if file != ANY_FILE and file not in params_files:
                    continue  # some other YAML or JSON file: the deps check's business
                if _declared(stage, file, read.key):
                    continue
                origin = (stage.generated_from or stage.address, script, read.key)
                if origin in reported:
                    continue
                reported.add(origin)
                source = "dvc.api.params_show()" if file == ANY_FILE else file
                yield Finding(
                    "undeclared-params",
                    "error",
                    script,
                    read.line,
                    f"stage '{stage.address}' reads param {read.key} ({source}) but does not "
                    f"declare it in {stage.dvcfile}",
                    f"DVC re-runs a stage only when a declared param changes: change "
                    f"{read.key} and `dvc repro` keeps the old outputs, and the report's "
                    "params table does not show the change",
                    f"add `- {read.key}` under `params:` of stage "
                    f"'{stage.generated_from or stage.name}' in {stage.dvcfile} "
                    f"(line {ctx.stage_line(stage)})",
                )


def _declared(stage: Stage, file: str, key: str) -> bool:
    """Whether the stage declares `key` (or a section holding it, or a key inside it)."""
    for use in stage.params:
        if file != ANY_FILE and use.file != file:
            continue
        if not use.keys:
            return True
        for declared in use.keys:
            if key == declared or key.startswith(declared + ".") or declared.startswith(key + "."):
                return True
    return False


def _present(values: dict[str, object], key: str) -> bool:
    return key in values or any(name.startswith(key + ".") for name in values)


_UNREADABLE = "\0unreadable"


def _values(ctx: Context, file: str) -> dict[str, object] | None:
    """The file's flat keys; None when it is missing; a marker when DVC cannot read it (DVC
    itself says why, and there is nothing to compare keys with)."""
    try:
        return read_values(ctx.root, file)
    except UsageError:
        return {_UNREADABLE: True}


def _join(wdir: str, path: str) -> str:
    return PurePosixPath(os.path.normpath(PurePosixPath(wdir, path).as_posix())).as_posix()
