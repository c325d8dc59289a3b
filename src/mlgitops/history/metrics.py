"""The metrics at every merge, read without one DVC process per commit.

The metrics files are the ones dvc.yaml declares (through DVC's API, one Repo object). At each
commit a file comes from git when it is committed (`cache: false`, one `git cat-file --batch`
for all commits), else by the hash dvc.lock records at that commit, from the local DVC cache
or the default remote, through the same Repo object. A merge whose file is in neither is
reported missing with the reason, never as zeros.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlgitops.errors import UsageError
from mlgitops.history.commits import Commit, read_blobs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsFile:
    """A declared metrics output: its path from the repository root, its dvc.lock, cached?"""

    path: str
    lock: str  # dvc.lock beside the dvc.yaml declaring it
    lock_path: str  # the path as that dvc.lock writes it (relative to its folder)
    cached: bool


@dataclass
class Point:
    """The metrics at one commit: name -> value, and per file why it could not be read."""

    commit: Commit
    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # file -> reason


def declared_metrics(root: Path) -> list[MetricsFile]:
    """The metrics files dvc.yaml declares at the working tree, through DVC's API."""
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            found = []
            for stage in repo.index.stages:
                lock_dir = Path(stage.dvcfile.path).parent
                for out in stage.outs:
                    if not out.metric:
                        continue
                    path = Path(os.path.relpath(out.fs_path, repo.root_dir))
                    lock = Path(os.path.relpath(lock_dir / "dvc.lock", repo.root_dir))
                    inner = os.path.relpath(out.fs_path, lock_dir)
                    found.append(
                        MetricsFile(path.as_posix(), lock.as_posix(), inner, out.use_cache)
                    )
            return sorted(found, key=lambda f: f.path)
    except NotDvcRepoError:
        raise UsageError(f"history: {root} is not a DVC repository (no .dvc/)") from None
    except DvcException as error:
        raise UsageError(f"history: DVC cannot read the pipeline in {root}: {error}") from None


def metrics_at(root: Path, commits: Sequence[Commit], files: Sequence[MetricsFile]) -> list[Point]:
    """One Point per commit, oldest first: values flattened as `test.roc_auc`."""
    points = [Point(commit) for commit in commits]
    specs = [f"{c.sha}:{f.path}" for c in commits for f in files]
    locks = sorted({f.lock for f in files})
    specs += [f"{c.sha}:{lock}" for c in commits for lock in locks]
    blobs = read_blobs(root, specs)
    committed, lock_blobs = blobs[: len(commits) * len(files)], blobs[len(commits) * len(files) :]
    pending: list[tuple[Point, MetricsFile, str]] = []  # read from the DVC cache or remote
    for index, point in enumerate(points):
        mine = lock_blobs[index * len(locks) : (index + 1) * len(locks)]
        lock_text = dict(zip(locks, mine, strict=True))
        for offset, metrics_file in enumerate(files):
            data = committed[index * len(files) + offset]
            if data is not None:
                _add(point, metrics_file, data)
                continue
            text = lock_text[metrics_file.lock]
            digest = _locked_md5(text, metrics_file.lock_path) if text else None
            if digest is None:
                point.missing[metrics_file.path] = (
                    f"not in git, and {metrics_file.lock} records no hash for it"
                )
            else:
                pending.append((point, metrics_file, digest))
    if pending:
        _from_dvc(root, pending)
    return points


def _locked_md5(text: bytes, path: str) -> str | None:
    try:
        lock = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    stages = lock.get("stages") if isinstance(lock, dict) else None
    for stage in (stages or {}).values():
        for out in stage.get("outs") or []:
            if isinstance(out, dict) and out.get("path") == path and out.get("md5"):
                return str(out["md5"])
    return None


def _from_dvc(root: Path, pending: list[tuple[Point, MetricsFile, str]]) -> None:
    """Reads each hash from the local cache, else the default remote: one Repo object."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        local = repo.cache.local
        remote: Any = None
        remote_problem = ""
        try:
            remote = repo.cloud.get_remote_odb(None, "history")
        except DvcException as error:  # no default remote, or one DVC cannot open
            remote_problem = "no remote to look in: " + " ".join(str(error).split())
        for point, metrics_file, digest in pending:
            data = _read_object(local, digest)
            if data is None and remote is not None:
                data = _read_object(remote, digest)
            if data is None:
                said = f"{metrics_file.path} (md5 {digest[:8]})"
                point.missing[metrics_file.path] = (
                    f"{said} is in neither the local DVC cache nor the remote"
                    if remote is not None
                    else f"{said} is not in the local DVC cache, and there is {remote_problem}"
                )
            else:
                _add(point, metrics_file, data)


def _read_object(odb: Any, digest: str) -> bytes | None:
    try:
        return bytes(odb.fs.cat_file(odb.oid_to_path(digest)))
    except (FileNotFoundError, OSError):
        return None
    except Exception as error:  # a remote's own errors (auth, network): missing, with why
        logger.warning("reading %s from the DVC remote failed: %s", digest, error)
        return None


def _add(point: Point, metrics_file: MetricsFile, data: bytes) -> None:
    try:
        if metrics_file.path.endswith(".json"):
            parsed = json.loads(data)
        else:
            parsed = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (ValueError, yaml.YAMLError) as error:
        point.missing[metrics_file.path] = f"{metrics_file.path} is not valid: {error}"
        return
    point.values.update(flatten(parsed))


def flatten(data: Any, prefix: str = "") -> dict[str, float]:
    """Numbers of a nested mapping keyed as DVC prints them: `test.roc_auc`."""
    if isinstance(data, dict):
        flat: dict[str, float] = {}
        for key, value in data.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    if isinstance(data, int | float) and not isinstance(data, bool):
        return {prefix.rstrip("."): float(data)}
    return {}
