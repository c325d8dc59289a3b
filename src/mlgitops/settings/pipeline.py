"""params.yaml `pipeline` (the DVC pipeline as an Argo DAG) and a stage's `meta: {cluster: ...}`.

pipeline:                 # params.yaml: defaults for every stage pod, the PR switch
  run_on: runner          # or cluster
  resources: {cpu: "1", memory: 2Gi, gpu: 0}
  ...
stages:                   # dvc.yaml: one stage asks for more
  train:
    meta:
      cluster: {cpu: "4", memory: 16Gi, node_selector: {pool: highmem}}
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, Strict

from mlgitops.settings.deploy import KubernetesName, NonNegative, Quantity
from mlgitops.settings.load import Flag, Positive, PositiveNumber, Section, Text

DOCS = "docs/scale.md"
# What a pod may be scheduled on: label -> value, as Kubernetes' nodeSelector.
NodeSelector = Annotated[
    dict[Text, Annotated[str, Strict()]],
    BeforeValidator(lambda value: {} if value is None else value),
]


class PodResources(Section):
    """One stage pod's size: each amount is both request and limit (Guaranteed QoS, so a
    stage is never the first evicted), plus GPUs and where it may run."""

    docs: ClassVar[str] = DOCS

    cpu: Quantity
    memory: Quantity
    gpu: NonNegative = 0  # nvidia.com/gpu
    node_selector: NodeSelector = Field(default_factory=dict)


class StageCluster(Section):
    """A stage's `meta: {cluster: ...}` in dvc.yaml; a key left out takes params.yaml's default."""

    docs: ClassVar[str] = DOCS

    cpu: Quantity | None = None
    memory: Quantity | None = None
    gpu: NonNegative | None = None
    node_selector: NodeSelector | None = None
    # The stage fits on a Dask cluster created for its pod when params.yaml's train_backend
    # says dask (its `dask` block shapes the cluster); see mlgitops.pipeline.dask.
    dask: Flag | None = None

    def over(self, defaults: PodResources) -> PodResources:
        """This stage's resources: its own amounts where given, the defaults elsewhere."""
        given = self.model_dump(exclude_none=True, exclude={"dask"})
        return defaults.model_copy(update=given)


class PipelineSettings(Section):
    """params.yaml's `pipeline:` section: how deploy/pipeline.yaml runs the DVC pipeline."""

    docs: ClassVar[str] = DOCS

    run_on: Literal["runner", "cluster"]
    namespace: KubernetesName
    service_account: KubernetesName
    # None is refused at render time with the reason (pods cannot pull or push without it).
    remote_secret: KubernetesName | None = None
    run_as_user: Positive  # the image's non-root user
    # A bash line every pod runs in its checkout before DVC, e.g. installing the commit's
    # locked dependencies, so stages run the commit's code whatever the image; "" for none.
    # It runs under `set -eu`: `a; b` stops at a failing `a`, `a && b` would go on.
    setup: Annotated[str, Strict()] = ""
    retries: NonNegative
    timeout_seconds: Positive
    resources: PodResources
    poll_seconds: PositiveNumber
