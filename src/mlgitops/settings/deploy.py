"""params.yaml `deploy` (how a merge is rolled out), and what the render of deploy/ reads."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    Field,
    Strict,
    field_validator,
    model_validator,
)

from mlgitops.settings.load import (
    Positive,
    PositiveNumber,
    Section,
    Sections,
    Text,
    matching,
)
from mlgitops.settings.sections import AlertSettings, CronSettings, RetrainSettings, ServingSettings

KubernetesName = Annotated[
    str,
    matching(
        r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
        "not a Kubernetes name (lower-case letters, digits and '-', at most 63, starting and "
        "ending alphanumeric)",
    ),
]
# An exact version tag (v1.34.1, 1.34.1) or a digest: never `latest` or a moving `v1.34`.
PinnedImage = Annotated[
    str,
    matching(
        r".*(:v?\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})",
        "pin it to an exact version tag (registry.k8s.io/kubectl:v1.34.1) or a digest "
        "(...@sha256:<64 hex>)",
    ),
]
AbsolutePath = Annotated[str, matching(r"/.*", "expected an absolute path")]


def _quantity(value: Any) -> Any:
    """`cpu: 2` and `cpu: "2"` are the same quantity; Kubernetes takes it as a string."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _or_none(value: Any) -> Any:
    return {} if value is None else value


Quantity = Annotated[str, BeforeValidator(_quantity), Field(min_length=1)]
NonNegative = Annotated[int, Strict(), Field(ge=0)]


class Amounts(Section):
    cpu: Quantity
    memory: Quantity


class Resources(Section):
    """Requests schedule a pod, limits cap it."""

    requests: Amounts
    limits: Amounts

    def as_dict(self) -> dict[str, dict[str, str]]:
        return self.model_dump()


class Probes(Section):
    """Seconds and counts of the serving pods' probes."""

    readiness_period: Positive
    readiness_failures: Positive
    liveness_delay: NonNegative
    liveness_period: Positive
    liveness_failures: Positive
    startup_failures: Positive


class Smoke(Section):
    """`mlgitops smoke` against the Service, run in the image being deployed."""

    card: Text  # the model card, relative to the Bento's src/
    max_p99_ms: PositiveNumber
    requests: Positive


class SecretRef(Section):
    secret: KubernetesName
    key: Text


class DeploySettings(Section):
    """params.yaml's `deploy:` section, checked once and passed on as this object."""

    docs: ClassVar[str] = "docs/deploy.md"

    service: KubernetesName
    namespace: KubernetesName
    port: Annotated[int, Strict(), Field(ge=1, le=65535)]
    replicas: Positive
    max_surge: Positive  # maxUnavailable is 0: a rollout needs at least one extra pod
    revision_history: Positive  # at least one earlier revision to roll back to
    resources: Resources
    probes: Probes
    run_as_user: Positive  # never root
    image_pull_secret: KubernetesName
    writable: Annotated[dict[KubernetesName, AbsolutePath], Field(min_length=1)]
    env: dict[str, Annotated[str, Strict()]]  # `"1"`, quoted: an unquoted 1 is a YAML number
    secret_env: Annotated[
        dict[str, SecretRef],
        BeforeValidator(lambda value: value or {}),
        Field(default_factory=dict),
    ]
    rollout_timeout_seconds: Positive
    workflow_timeout_seconds: Positive
    smoke: Smoke
    service_account: KubernetesName
    kubectl_image: PinnedImage
    step_resources: Resources

    @property
    def url(self) -> str:
        """The Service as pods in the cluster reach it."""
        return f"http://{self.service}.{self.namespace}.svc:{self.port}"


class RenderedRetrain(RetrainSettings):
    """The retrain section as the render needs it: the CronWorkflow and the alerts are rendered."""

    cron: CronSettings
    alerts: AlertSettings

    @field_validator("incoming")
    @classmethod
    def _inside_the_repository(cls, value: Any) -> Any:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(
                "must be inside the repository for the CronWorkflow (it mounts the labelled "
                "data there)"
            )
        return value


class RenderSettings(Sections):
    """Everything deploy/ is rendered from: `deploy`, `retrain` and `serving`."""

    docs: ClassVar[str] = "docs/deploy.md"

    deploy: DeploySettings
    retrain: RenderedRetrain
    serving: ServingSettings

    @model_validator(mode="after")
    def _score_high_is_a_bucket(self) -> RenderSettings:
        high, buckets = self.retrain.alerts.score_high, self.serving.score_buckets
        if high not in buckets:
            raise ValueError(
                f"retrain.alerts.score_high is {high:g}, not a bound of the score's histogram: "
                f"expected one of serving.score_buckets {list(buckets)}"
            )
        return self
