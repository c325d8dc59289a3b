"""Doctor check: files a stage's command reads that are not among its `deps:`.

DVC re-runs a stage only when a declared dependency changes. What the code visibly reads, the
script itself and the paths its source names as string literals, must be declared, or an edit
to them leaves stale outputs that the report then compares as if they were fresh.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from mlgitops.adopt.context import Context
from mlgitops.adopt.findings import Finding
from mlgitops.adopt.repository import DEFAULT_PARAMS_FILE, Stage
from mlgitops.adopt.scripts import literals

_SKIPPED_TOP = {".git", ".dvc"}
_WHY = (
    "DVC re-runs a stage only when a declared dependency changes: edit {path} and `dvc repro` "
    "keeps the old outputs, and the pull request's report compares results nobody reproduced"
)


def check_undeclared_deps(ctx: Context) -> Iterator[Finding]:
    """The stage's script, and existing files its source names, are in the stage's deps."""
    repo = ctx.repository
    params_files = {file.path for file in repo.params_files} | {DEFAULT_PARAMS_FILE}
    every_out = {out.path for stage in repo.stages for out in stage.outs}
    reported: set[tuple[str, str]] = set()
    for stage in repo.stages:
        origin = stage.generated_from or stage.address
        for script, tree in ctx.scripts(stage):
            if not _covered(script, stage.deps) and (origin, script) not in reported:
                reported.add((origin, script))
                yield _finding(
                    ctx,
                    stage,
                    stage.dvcfile,
                    ctx.stage_line(stage, "cmd"),
                    script,
                    f"stage '{stage.address}' runs {script}, which is not in its deps",
                )
            if ctx.shared(script):
                continue
            for literal in literals(tree):
                path = _repository_path(ctx.root, stage.wdir, literal.text, every_out)
                if path is None or path == script or path in params_files:
                    continue
                written = (out.path for out in stage.outs)
                if _covered(path, stage.deps) or _covered(path, written):
                    continue
                if (origin, path) in reported:
                    continue
                reported.add((origin, path))
                message = (
                    f"stage '{stage.address}' reads {path} ({script} names it) but it is not "
                    "in the stage's deps"
                )
                yield _finding(ctx, stage, script, literal.line, path, message)


def _finding(
    ctx: Context, stage: Stage, file: str, line: int | None, path: str, message: str
) -> Finding:
    return Finding(
        "undeclared-deps",
        "error",
        file,
        line,
        message,
        _WHY.format(path=path),
        f"add `- {_entry(stage, path)}` under `deps:` of stage "
        f"'{stage.generated_from or stage.name}' in {stage.dvcfile} (line {ctx.stage_line(stage)})",
    )


def _entry(stage: Stage, path: str) -> str:
    if stage.wdir in ("", "."):
        return path
    return PurePosixPath(os.path.relpath(path, stage.wdir)).as_posix()


def _covered(path: str, declared: Iterable[str]) -> bool:
    """Whether `path` is one of `declared` or inside a declared directory."""
    return any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in declared)


def _repository_path(root: Path, wdir: str, text: str, outs: set[str]) -> str | None:
    """The root-relative path a literal names, when it is one: an existing file, or any
    stage's output (which a fresh clone may not have yet); None for anything else."""
    if not text or len(text) > 255 or any(c.isspace() for c in text) or "://" in text:
        return None
    if text.startswith(("-", "~", "$")) or ("/" not in text and "." not in text.strip(".")):
        return None
    relative = os.path.relpath(os.path.normpath(root / wdir / text), root)
    if relative == "." or relative.startswith(".."):
        return None
    path = PurePosixPath(Path(relative).as_posix())
    if path.parts[0] in _SKIPPED_TOP:
        return None
    if (root / path).is_file() or _covered(path.as_posix(), outs):
        return path.as_posix()
    return None
