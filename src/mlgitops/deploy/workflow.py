"""The Argo WorkflowTemplate that rolls an image out, smoke-tests it and rolls back on failure.

    deploy:   record the current revision -> apply Deployment and Service -> wait for the rollout
              -> smoke-test the new pods through the Service
    on exit:  only when the run did not succeed: roll back to the recorded revision, wait for it,
              smoke-test it with its own image; the run stays failed.

The recorded revision reaches the exit handler as a global output parameter (an exit handler
sees only global values). Rolling back to a recorded revision, not "one back", keeps the
rollback right when the apply itself failed, and makes it idempotent: undoing to the revision
already serving changes nothing (kubectl says "skipped rollback").
"""

from __future__ import annotations

import shlex
from typing import Any

import yaml
from hera.workflows import (
    Container,
    EmptyDirVolume,
    Env,
    Parallel,
    Parameter,
    Resource,
    Step,
    Steps,
    WorkflowTemplate,
)
from hera.workflows.models import (
    Capabilities,
    Quantity,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    ValueFrom,
    VolumeMount,
)

from mlgitops.deploy import manifests
from mlgitops.deploy.manifests import BENTO_SRC
from mlgitops.settings import DeploySettings
from mlgitops.settings.deploy import Amounts, Resources

# One deploy template per namespace, named the same in every repository, so `mlgitops deploy`
# needs nothing but the namespace to find it (deploy.namespace in params.yaml).
TEMPLATE_NAME = "mlgitops-deploy"
IMAGE = "image"  # the one parameter a submit must give: the image to roll out
# The model version label is the image's tag (release.yml tags the image with the Bento tag),
# also when the image is pinned by digest (NAME:TAG@sha256:...): the part before '@'.
MODEL_VERSION = (
    "{{=sprig.last(sprig.splitList(':', "
    "sprig.first(sprig.splitList('@', workflow.parameters.image))))}}"
)
WORKFLOW_IMAGE = "{{workflow.parameters.image}}"
PREVIOUS_REVISION = "previous-revision"  # global output: the revision serving before this run
NO_REVISION = "none"  # what record-revision writes when there is no Deployment yet
FAILED = "{{workflow.status}} != Succeeded"  # the exit handler's condition


def _resources(resources: Resources) -> ResourceRequirements:
    def quantities(amounts: Amounts) -> dict[str, Quantity]:
        return {name: Quantity(amount) for name, amount in amounts.model_dump().items()}

    return ResourceRequirements(
        requests=quantities(resources.requests), limits=quantities(resources.limits)
    )


KUBECTL_USER = 65532  # kubectl's image runs as root unless told; any non-root uid works
TMP = "tmp"  # an emptyDir on /tmp: root filesystems are read-only, steps write their outputs here


def restricted_security(user: int) -> SecurityContext:
    """A container that runs as `user`, read-only, no privileges: the restricted Pod Security
    profile, for every step pod mlgitops renders."""
    return SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=user,
        capabilities=Capabilities(drop=["ALL"]),
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def _kubectl(
    deploy: DeploySettings, name: str, script: str, *, env: list[Env] | None = None, **kwargs: Any
) -> Container:
    """A bash script around kubectl (its official image has bash), as a container template."""
    return Container(
        name=name,
        image=deploy.kubectl_image,
        command=["bash", "-euo", "pipefail", "-c"],
        args=[script],
        env=[Env(name="HOME", value="/tmp"), *(env or [])],  # HOME: kubectl's discovery cache
        resources=_resources(deploy.step_resources),
        security_context=restricted_security(KUBECTL_USER),
        volume_mounts=[VolumeMount(name=TMP, mount_path="/tmp")],
        **kwargs,
    )


def _target(deploy: DeploySettings) -> str:
    """The Deployment as kubectl names it."""
    return f"deployment/{deploy.service} -n {deploy.namespace}"


def _record_revision(deploy: DeploySettings) -> Container:
    """Writes the revision serving now (`none` before the first deploy), kept as a global."""
    jsonpath = "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
    return _kubectl(
        deploy,
        "record-revision",
        f"revision=$(kubectl get {_target(deploy)} --ignore-not-found"
        f" -o jsonpath={shlex.quote(jsonpath)})\n"
        f'echo "${{revision:-{NO_REVISION}}}" > /tmp/revision\n'
        f'echo "{deploy.service} serves revision ${{revision:-{NO_REVISION}}}"\n',
        outputs=[
            Parameter(
                name="revision",
                value_from=ValueFrom(path="/tmp/revision"),
                global_name=PREVIOUS_REVISION,  # an exit handler sees only global values
            )
        ],
    )


def _apply(name: str, manifest: manifests.Manifest, **kwargs: Any) -> Resource:
    """`kubectl apply` of one object, as Argo's resource template runs it."""
    return Resource(
        name=name, action="apply", manifest=yaml.safe_dump(manifest, sort_keys=False), **kwargs
    )


def _wait_for_rollout(deploy: DeploySettings) -> Container:
    return _kubectl(
        deploy,
        "wait-for-rollout",
        f"kubectl rollout status {_target(deploy)} --timeout={deploy.rollout_timeout_seconds}s\n",
    )


def _smoke(deploy: DeploySettings) -> Container:
    """`mlgitops smoke` through the Service, run in the image given (it carries the card)."""
    return Container(
        name="smoke",
        inputs=[Parameter(name="image")],
        image="{{inputs.parameters.image}}",
        working_dir=BENTO_SRC,  # the Bento's src/: mlgitops and the model card are here
        command=["python", "-m", "mlgitops.smoke"],
        args=[
            *("--url", deploy.url),
            *("--card", deploy.smoke.card),
            *("--max-p99-ms", f"{deploy.smoke.max_p99_ms:g}"),
            *("--requests", str(deploy.smoke.requests)),
        ],
        env=[Env(name="PYTHONDONTWRITEBYTECODE", value="1")],
        resources=_resources(deploy.step_resources),
        security_context=restricted_security(deploy.run_as_user),
        volume_mounts=[VolumeMount(name=TMP, mount_path="/tmp")],
    )


def _roll_back(deploy: DeploySettings) -> Container:
    """Undo to the recorded revision and say which image now serves; on a first deploy, say
    there is nothing to roll back to and stop."""
    image_jsonpath = "{.spec.template.spec.containers[0].image}"
    return _kubectl(
        deploy,
        "roll-back",
        f'if [ "$REVISION" = {NO_REVISION} ]; then\n'
        f'  echo "first deploy of {deploy.service}: no earlier revision to roll back to;'
        ' it stays as it is"\n'
        "  echo false > /tmp/rolled-back; echo '' > /tmp/image; exit 0\n"
        "fi\n"
        f'kubectl rollout undo {_target(deploy)} --to-revision="$REVISION"\n'
        "echo true > /tmp/rolled-back\n"
        f"kubectl get {_target(deploy)} -o jsonpath={shlex.quote(image_jsonpath)} > /tmp/image\n",
        env=[Env(name="REVISION", value="{{inputs.parameters.revision}}")],
        inputs=[Parameter(name="revision")],
        outputs=[
            Parameter(name="rolled-back", value_from=ValueFrom(path="/tmp/rolled-back")),
            Parameter(name="image", value_from=ValueFrom(path="/tmp/image")),
        ],
    )


def template(deploy: DeploySettings) -> WorkflowTemplate:
    """The deploy WorkflowTemplate for params.yaml's `deploy` section."""
    with WorkflowTemplate(
        name=TEMPLATE_NAME,
        namespace=deploy.namespace,
        entrypoint="deploy",
        on_exit="on-exit",
        service_account_name=deploy.service_account,
        active_deadline_seconds=deploy.workflow_timeout_seconds,
        arguments=[Parameter(name=IMAGE, description="The service image to roll out.")],
        volumes=[EmptyDirVolume(name=TMP)],
    ) as workflow_template:
        record = _record_revision(deploy)
        apply_deployment = _apply(
            "apply-deployment",
            manifests.deployment(
                deploy, image=WORKFLOW_IMAGE, version="{{inputs.parameters.model-version}}"
            ),
            inputs=[Parameter(name="model-version")],
        )
        apply_service = _apply("apply-service", manifests.service(deploy))
        wait = _wait_for_rollout(deploy)
        smoke = _smoke(deploy)
        undo = _roll_back(deploy)

        with Steps(name="deploy"):
            Step(name="record", template=record)
            with Parallel():
                Step(
                    name="apply-deployment",
                    template=apply_deployment,
                    arguments=[Parameter(name="model-version", value=MODEL_VERSION)],
                )
                Step(name="apply-service", template=apply_service)
            Step(name="wait", template=wait)
            Step(
                name="smoke",
                template=smoke,
                arguments=[Parameter(name="image", value=WORKFLOW_IMAGE)],
            )

        # As in Argo's examples/global-outputs.yaml: the exit handler reads the global output.
        rolled_back = "{{steps.roll-back.outputs.parameters.rolled-back}} == true"
        with Steps(name="rollback"):
            Step(
                name="roll-back",
                template=undo,
                arguments=[
                    Parameter(
                        name="revision",
                        value=f"{{{{workflow.outputs.parameters.{PREVIOUS_REVISION}}}}}",
                    )
                ],
            )
            Step(name="wait", template=wait, when=rolled_back)
            Step(
                name="smoke",
                template=smoke,
                when=rolled_back,
                arguments=[
                    Parameter(name="image", value="{{steps.roll-back.outputs.parameters.image}}")
                ],
            )

        with Steps(name="on-exit"):
            Step(name="rollback", template="rollback", when=FAILED)

    return workflow_template
