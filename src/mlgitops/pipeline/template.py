"""The Argo WorkflowTemplate that reproduces a DVC pipeline on a cluster, one pod per stage.

    <stage> ...    one DAG task per stage, depending on the stages it reads from (DVC's graph):
                   clone the repository at the commit, `dvc repro --pull <stage>`, `dvc push
                   --run-cache`; independent stages run at the same time
    dvc-lock       after every stage: `dvc repro --pull --allow-missing --all-pipelines`
                   (every dvc.yaml, as the DAG has them), which finds each
                   stage in the run-cache, and hands back the one dvc.lock (an output artifact,
                   and a global output parameter the Argo Server's API returns with the run)

Why `dvc repro --pull <stage>` and not `--single-item`: the pods share no dvc.lock, so in a
fresh clone only DVC's walk up the graph learns the new hashes of the outputs a stage reads;
each upstream stage is restored from the run-cache its own pod pushed ("Stage ... is cached -
skipping run"), or pulled when unchanged since the committed dvc.lock, and only <stage> runs.
Nothing is committed: the run-cache makes the same commit reproduce to the same lock.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from hera.workflows import (
    DAG,
    Artifact,
    Container,
    EmptyDirVolume,
    Env,
    NoneArchiveStrategy,
    Parameter,
    RetryStrategy,
    SecretEnvFrom,
    Task,
    WorkflowTemplate,
)
from hera.workflows.models import (
    Backoff,
    IntOrString,
    Quantity,
    ResourceRequirements,
    ValueFrom,
    VolumeMount,
)

from mlgitops.deploy.workflow import restricted_security
from mlgitops.errors import UsageError
from mlgitops.pipeline import dask as dask_part
from mlgitops.pipeline.stages import Stage
from mlgitops.settings.compute import DaskSettings
from mlgitops.settings.pipeline import PipelineSettings, PodResources

TEMPLATE_NAME = "mlgitops-pipeline"
ENTRYPOINT = "pipeline"
REPO, COMMIT, IMAGE = "repo", "commit", "image"  # what a submit gives
FINAL = "dvc-lock"  # the final task, its output artifact and the global output parameter
WORK = "/work"  # an emptyDir: the clone, HOME, DVC's caches; the root filesystem is read-only
CHECKOUT = "repo"  # the clone, under WORK
LOCK_PATH = f"{WORK}/{CHECKOUT}/dvc.lock"
GPU = "nvidia.com/gpu"


def _clone(setup: str) -> str:
    """The lines every pod starts with: the repository at the commit, in WORK/repo, and the
    params.yaml `pipeline.setup` line."""
    return (
        # A private repository: a read token as GIT_TOKEN in the remote's Secret.
        'if [ -n "${GIT_TOKEN:-}" ]; then git config --global credential.helper'
        " '!f() { echo username=x-access-token; echo \"password=$GIT_TOKEN\"; }; f'; fi\n"
        f'git clone --quiet "$REPO" {CHECKOUT}\n'
        f"cd {CHECKOUT}\n"
        'git -c advice.detachedHead=false checkout --quiet --detach "$COMMIT"\n'
        + (f"{setup.strip()}\n" if setup.strip() else "")
    )


def stage_script(address: str, setup: str = "") -> str:
    """What a stage's pod runs: restore what it reads, run it (or restore it), share it."""
    return _clone(setup) + f"dvc repro --pull {shlex.quote(address)}\ndvc push --run-cache\n"


def final_script(setup: str = "") -> str:
    """What the final pod runs: every stage from the run-cache, writing dvc.lock once."""
    return _clone(setup) + "dvc repro --pull --allow-missing --all-pipelines\n"


def _resources(pod: PodResources) -> ResourceRequirements:
    amounts = {"cpu": Quantity(pod.cpu), "memory": Quantity(pod.memory)}
    if pod.gpu:
        amounts[GPU] = Quantity(str(pod.gpu))
    # Requests equal limits: a stage is sized once, in one place, and never evicted first.
    return ResourceRequirements(requests=amounts, limits=dict(amounts))


def _container(
    settings: PipelineSettings,
    secret: str,
    name: str,
    script: str,
    pod: PodResources,
    *,
    env: Sequence[Env] = (),
    **kwargs: object,
) -> Container:
    """A pod of the pipeline: the repository's image, bash running `script` in WORK."""
    return Container(
        name=name,
        image=f"{{{{workflow.parameters.{IMAGE}}}}}",
        command=["bash", "-euo", "pipefail", "-c"],
        args=[script],
        working_dir=WORK,
        env=[
            Env(name="REPO", value=f"{{{{workflow.parameters.{REPO}}}}}"),
            Env(name="COMMIT", value=f"{{{{workflow.parameters.{COMMIT}}}}}"),
            Env(name="HOME", value=f"{WORK}/home"),  # git's and DVC's config and caches
            Env(name="DVC_NO_ANALYTICS", value="1"),
            *env,
        ],
        env_from=[SecretEnvFrom(name=secret)],  # the DVC remote's credentials, as env keys
        resources=_resources(pod),
        node_selector=dict(pod.node_selector) or None,
        security_context=restricted_security(settings.run_as_user),
        volume_mounts=[
            VolumeMount(name="work", mount_path=WORK),
            VolumeMount(name="tmp", mount_path="/tmp"),
        ],
        retry_strategy=RetryStrategy(
            limit=settings.retries,
            # A pod lost (evicted, node gone) is retried; a stage whose command failed is not:
            # it would fail again on the same commit.
            retry_policy="OnError",
            backoff=Backoff(duration="30s", factor=IntOrString(2)),
        ),
        **kwargs,  # type: ignore[arg-type]
    )


def remote_secret(settings: PipelineSettings) -> str:
    """The Secret's name; UsageError saying why it is needed when params.yaml has none."""
    if settings.remote_secret is None:
        raise UsageError(
            "pipeline: params.yaml pipeline.remote_secret is not set: name the Kubernetes "
            "Secret whose keys are the DVC remote's credentials (e.g. AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY); without it no pod can pull or push (see docs/scale.md)"
        )
    return settings.remote_secret


def template(
    settings: PipelineSettings, stages: Sequence[Stage], dask: DaskSettings | None = None
) -> WorkflowTemplate:
    """The pipeline WorkflowTemplate for `stages` (read_stages) and params.yaml's `pipeline`;
    `dask` (params.yaml's train_backend.dask, when that backend is on) gives the stages whose
    meta asks for it a Dask cluster (mlgitops.pipeline.dask)."""
    secret = remote_secret(settings)
    on_dask = {stage.address for stage in dask_part.wanting(stages, dask)}
    _check_names(stages, on_dask)
    tasks = {stage.address: stage.task for stage in stages}
    image = f"{{{{workflow.parameters.{IMAGE}}}}}"
    with WorkflowTemplate(
        name=TEMPLATE_NAME,
        namespace=settings.namespace,
        entrypoint=ENTRYPOINT,
        service_account_name=settings.service_account,
        active_deadline_seconds=settings.timeout_seconds,
        arguments=[
            Parameter(name=REPO, description="The git URL the pods clone."),
            Parameter(name=COMMIT, description="The commit to reproduce (the PR's or main's)."),
            Parameter(name=IMAGE, description="The image built from this repository."),
        ],
        volumes=[EmptyDirVolume(name="work"), EmptyDirVolume(name="tmp")],
        on_exit=dask_part.CLEANUP if on_dask else None,
    ) as workflow_template:
        containers = {
            stage.address: _container(
                settings,
                secret,
                stage.task,
                stage_script(stage.address, settings.setup),
                stage.cluster.over(settings.resources),
                env=[dask_part.scheduler_env(stage, settings.namespace)]
                if stage.address in on_dask
                else (),
            )
            for stage in stages
        }
        clusters = {
            stage.address: dask_part.create(stage, dask, image=image, namespace=settings.namespace)
            for stage in stages
            if stage.address in on_dask and dask is not None
        }
        final = _container(
            settings,
            secret,
            FINAL,
            final_script(settings.setup),
            settings.resources,
            outputs=[
                Parameter(name=FINAL, value_from=ValueFrom(path=LOCK_PATH), global_name=FINAL),
                Artifact(name=FINAL, path=LOCK_PATH, archive=NoneArchiveStrategy()),
            ],
        )
        with DAG(name=ENTRYPOINT):
            for stage in stages:
                needs = [tasks[need] for need in stage.needs]
                if stage.address in clusters:  # the cluster starts when the stage could
                    cluster = clusters[stage.address]
                    Task(name=str(cluster.name), template=cluster, dependencies=needs or None)
                    needs = [*needs, str(cluster.name)]
                Task(
                    name=stage.task, template=containers[stage.address], dependencies=needs or None
                )
            Task(name=FINAL, template=final, dependencies=[stage.task for stage in stages])
        if on_dask:
            with DAG(name=dask_part.CLEANUP):
                for stage in stages:
                    if stage.address in on_dask:
                        removal = dask_part.delete(stage, settings.namespace)
                        Task(name=str(removal.name), template=removal)
    return workflow_template


def _check_names(stages: Sequence[Stage], on_dask: set[str]) -> None:
    """Every task and template name once: a stage must not take the name of one of ours."""
    ours = {FINAL, ENTRYPOINT, dask_part.CLEANUP}
    for stage in stages:
        if stage.address in on_dask:
            ours |= {f"{stage.task}-dask", f"{stage.task}-dask-delete"}
    clash = [stage.address for stage in stages if stage.task in ours]
    if clash:
        raise UsageError(
            f"pipeline: stage {clash[0]!r} would be named {_task(stages, clash[0])!r} in Argo, "
            "the name of a part of the template itself; rename the stage"
        )


def _task(stages: Sequence[Stage], address: str) -> str:
    return next(stage.task for stage in stages if stage.address == address)
