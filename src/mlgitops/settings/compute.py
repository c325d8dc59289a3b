"""params.yaml `train_backend`: where a training stage fits, one process or a Dask cluster.

Its own section, not inside the model's parameters (a stage may check those against its
library's list). `backend: single` is the default; `backend: dask` needs the `dask` block: the
shape of the cluster (workers, threads, partitions), which changes the model, and the
Kubernetes resources of the DaskCluster the pipeline's train task creates, which do not.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, Strict, ValidationInfo, field_validator, model_validator

from mlgitops.settings.deploy import Resources
from mlgitops.settings.load import Positive, Section

NonNegative = Annotated[int, Strict(), Field(ge=0)]


class DaskClusterSettings(Section):
    """The dask-kubernetes operator's DaskCluster for a training task (mlgitops.dask_cluster).

    Pod resources only: they decide where and how fast the pods run, never the model.
    """

    docs: ClassVar[str] = "docs/scale.md"

    worker_resources: Resources  # each worker pod; its memory limit is also Dask's
    scheduler_resources: Resources
    idle_timeout_seconds: NonNegative  # the operator deletes a cluster idle this long; 0: never


class DaskSettings(Section):
    """The cluster a training stage fits on with Dask. Workers, threads and partitions decide
    which rows each LightGBM process sees, so they are training parameters."""

    docs: ClassVar[str] = "docs/scale.md"

    workers: Positive  # Dask worker processes (a LocalCluster's, or the DaskCluster's pods)
    threads_per_worker: Positive  # each worker's threads, LightGBM's num_threads there
    partitions: Positive  # the training table is read in this many parts, spread over workers
    timeout_seconds: Positive  # for the scheduler and workers to answer, and each part to arrive
    cluster: DaskClusterSettings

    @field_validator("partitions")
    @classmethod
    def _every_worker_gets_rows(cls, partitions: int, info: ValidationInfo) -> int:
        workers = info.data.get("workers")
        if workers is not None and partitions < workers:
            raise ValueError(
                f"fewer than workers ({workers}): a worker without rows trains nothing"
            )
        return partitions


class TrainBackendSettings(Section):
    """params.yaml `train_backend`: `single` (one process) or `dask` (with its `dask` block)."""

    docs: ClassVar[str] = "docs/scale.md"

    backend: Literal["single", "dask"]
    dask: DaskSettings | None = None

    @model_validator(mode="after")
    def _dask_has_its_block(self) -> TrainBackendSettings:
        if self.backend == "dask" and self.dask is None:
            raise ValueError(
                "train_backend.backend is 'dask' but train_backend.dask is missing; "
                "see docs/scale.md for its keys"
            )
        return self
