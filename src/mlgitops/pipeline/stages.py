"""A repository's DVC pipeline as DVC itself reads it: every stage of every dvc.yaml, `foreach`
and `matrix` expanded by DVC, and the edges of DVC's own graph (those `dvc dag` draws).

Nothing here parses dvc.yaml: `dvc.repo.Repo(...).index` does, so what runs on the cluster is
what `dvc repro` would run, and a dvc.yaml DVC refuses (a cycle, two stages writing one output)
is refused with DVC's own message.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.errors import UsageError
from mlgitops.settings import parse_settings
from mlgitops.settings.pipeline import StageCluster

if TYPE_CHECKING:
    from dvc.stage import PipelineStage

META_KEY = "cluster"  # a stage's `meta: {cluster: {...}}` sizes its pod
# Argo's task and template names: letters, digits and '-', starting alphanumeric, at most 128;
# kept well under so a pod name (workflow name + task + hash) stays readable.
_INVALID = re.compile(r"[^a-zA-Z0-9-]+")
_MAX_NAME = 50


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline as one DAG task."""

    address: str  # what `dvc repro` takes: `train`, `feature@a`, `sub/dvc.yaml:stage`
    task: str  # its Argo task and template name
    needs: tuple[str, ...]  # the addresses of the stages whose outputs it reads
    cluster: StageCluster  # its `meta: {cluster: ...}` (empty when it has none)


def read_stages(root: Path) -> tuple[Stage, ...]:
    """The stages of the DVC repository at `root`, in DVC's topological order.

    UsageError with DVC's message when DVC cannot read the pipeline (a cycle, invalid
    dvc.yaml), or naming the stage whose `meta.cluster` is wrong.
    """
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo

    root = root.resolve()
    # From the root, so DVC's messages name stages as `dvc repro` there does (it addresses
    # them relative to the working directory).
    with contextlib.chdir(root):
        try:
            repo = Repo(os.fspath(root))
        except NotDvcRepoError:
            raise UsageError(f"{root} is not a DVC repository: run from its root") from None
        with repo:
            try:
                graph = repo.index.graph
            except DvcException as error:
                raise UsageError(f"DVC cannot read the pipeline: {_said(error)}") from None
            return _stages(graph, root)


def _said(error: Exception) -> str:
    """DVC's message with its reason: a dvc.yaml that fails DVC's schema says only "validation
    failed" itself; the schema's own error (kept in `exc`) says which key."""
    reason = getattr(error, "exc", None) or error.__cause__
    return f"{error}: {reason}" if reason is not None and str(reason) else str(error)


def _stages(graph: Any, root: Path) -> tuple[Stage, ...]:
    import networkx as nx  # type: ignore[import-untyped]  # no stubs; DVC depends on it
    from dvc.stage import PipelineStage

    # DVC's edges go from a stage to the stage it depends on; `dvc add`ed data (.dvc files)
    # are stages too, but with nothing to run: their data is pulled, not computed.
    ours = [node for node in graph.nodes if isinstance(node, PipelineStage)]
    if not ours:
        raise UsageError(f"{root} has no DVC pipeline stage to run (dvc.yaml)")
    addresses = {node: _address(node, root) for node in ours}
    tasks = _task_names(sorted(addresses.values()))
    # Upstream first, ties by address: the rendered file does not move between renders.
    ours_graph = graph.subgraph(ours).reverse(copy=True)
    order = nx.lexicographical_topological_sort(ours_graph, key=lambda node: addresses[node])
    return tuple(
        Stage(
            address=addresses[node],
            task=tasks[addresses[node]],
            needs=tuple(
                sorted(addresses[dep] for dep in graph.successors(node) if dep in addresses)
            ),
            cluster=_cluster(node, addresses[node], root),
        )
        for node in order
    )


def _address(stage: PipelineStage, root: Path) -> str:
    """The stage as `dvc repro` takes it from the root (DVC's `addressing` is cwd-relative)."""
    dvcfile = Path(os.path.relpath(stage.path, root)).as_posix()
    return stage.name if dvcfile == "dvc.yaml" else f"{dvcfile}:{stage.name}"


def _task_names(addresses: list[str]) -> dict[str, str]:
    """A valid, unique Argo name per address: `feature@a` -> `feature-a`; a name that two
    addresses would share, or one cut short, gets a hash of the address."""
    plain = {address: _INVALID.sub("-", address).strip("-").lower() for address in addresses}
    counts: dict[str, int] = {}
    for name in plain.values():
        counts[name] = counts.get(name, 0) + 1
    names = {}
    for address, name in plain.items():
        if counts[name] > 1 or len(name) > _MAX_NAME or not name:
            digest = hashlib.sha256(address.encode()).hexdigest()[:8]
            name = f"{name[: _MAX_NAME - 9].rstrip('-')}-{digest}".lstrip("-")
        names[address] = name
    return names


def _cluster(stage: PipelineStage, address: str, root: Path) -> StageCluster:
    meta = stage.meta if isinstance(stage.meta, Mapping) else {}
    given = meta.get(META_KEY)
    if given is None:
        return StageCluster()
    dvcfile = Path(os.path.relpath(stage.path, root)).as_posix()
    source = f"{dvcfile}, stage {address!r}"
    if not isinstance(given, Mapping):
        raise UsageError(
            f"{source}: meta.{META_KEY} is {given!r}; expected a mapping (cpu, memory, gpu, "
            f"node_selector, dask), see {StageCluster.docs}"
        )
    where = f"meta.{META_KEY}"
    return parse_settings(StageCluster, {where: dict(given)}, source=source, section=where)
