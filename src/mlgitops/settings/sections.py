"""The params.yaml sections of the gate, drift, retrain-pr and the serving runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, RootModel, Strict, field_validator

from mlgitops.settings.load import (
    Flag,
    Int,
    Number,
    Positive,
    PositiveNumber,
    Section,
    Text,
    matching,
)

Fraction = Annotated[float, Strict(), Field(gt=0, le=1)]


def _one_or_many(value: Any) -> Any:
    """`validate_stages: validate` is taken as a list of one."""
    return [value] if isinstance(value, str) else value


Names = Annotated[tuple[Text, ...], BeforeValidator(_one_or_many)]


def _path(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty path")
    return value.strip()


FilePath = Annotated[Path, BeforeValidator(_path)]


class SliceRef(Section):
    """One slice of the evaluation rows: a column of report.slices and one of its values."""

    column: Text
    value: Text | Number | Flag  # as the predictions file holds it; compared as text


class MetricRule(Section):
    """One metric the gate watches (params.yaml `gate`), with its direction and limits."""

    metric: Text  # dotted key, as `dvc metrics diff` shows it
    # Gate the metric on one slice instead (`report.slices`, measured from the predictions):
    # the slice's base, head and interval from the report's evidence.
    slice: SliceRef | None = None
    better: Literal["higher", "lower"]
    file: Text | None = None  # needed only when several metric files have the key
    at_least: Number | None = None
    at_most: Number | None = None
    max_worsening: Number | None = None
    # What max_worsening is held against: the point change, or the change's interval from the
    # report's evidence (docs/pr-loop.md "Deciding on evidence" says why the default is it).
    decide_on: Literal["non_inferiority", "clear_harm", "point"] = "non_inferiority"

    @property
    def subject(self) -> str:
        """How messages name what the rule watches: `test.roc_auc (contract = Two year)`."""
        if self.slice is None:
            return self.metric
        return f"{self.metric} ({self.slice.column} = {self.slice.value})"

    def worsening(self, old: float, new: float) -> float:
        """How much worse `new` is than `old` (negative when it improved)."""
        return old - new if self.better == "higher" else new - old


class GatePolicy(RootModel[Annotated[list[MetricRule], Field(min_length=1)]]):
    """params.yaml `gate`: a non-empty list of metric rules."""

    model_config = {"frozen": True}
    docs: ClassVar[str] = "docs/pr-loop.md"


class DriftPolicy(Section):
    """Every knob of the drift check; params.yaml's `drift` section documents each key."""

    docs: ClassVar[str] = "docs/drift.md"

    ignore: tuple[str, ...] = ()
    score: Text | None = None
    min_rows: Positive = 500
    bins: Annotated[int, Strict(), Field(ge=2)] = 10
    max_levels: Positive = 10
    psi_threshold: Fraction = 0.2
    p_value: Fraction = 0.01
    epsilon: Fraction = 1e-4
    min_drifted_features: Positive = 2
    score_drift_retrains: Flag = True
    sample_size: Positive = 10_000
    chunk_rows: Positive = 50_000
    seed: Int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


Duration = Annotated[
    str, matching(r"([0-9]+(ms|s|m|h|d|w|y))+", "not a Prometheus duration (like 5m, 1h30m)")
]


class CronSettings(Section):
    """retrain.cron: the in-cluster drift check (an Argo CronWorkflow)."""

    docs: ClassVar[str] = "docs/retrain.md"

    name: Text
    schedule: Annotated[str, matching(r"(\S+\s+){4}\S+", "not a cron line of five fields")]
    timezone: Text
    image: Text
    repo: Annotated[str, matching(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", "not OWNER/NAME")]
    logs_claim: Text
    reference: Text
    incoming_claim: Text
    secret: Text


class AlertSettings(Section):
    """retrain.alerts: the thresholds of the service's Prometheus alert rules."""

    docs: ClassVar[str] = "docs/retrain.md"

    job: Text  # the `job` label Prometheus scrapes the service under
    error_rate: PositiveNumber
    error_for: Duration
    latency_p99_seconds: PositiveNumber
    latency_for: Duration
    score_high: PositiveNumber  # one of serving.score_buckets (checked where both are read)
    score_shift: PositiveNumber
    score_for: Duration


class RetrainSettings(Section):
    """params.yaml `retrain`: where the data lives, where new labels land, how the PR looks."""

    docs: ClassVar[str] = "docs/retrain.md"

    data: FilePath  # the DVC-tracked table, relative to the repository
    incoming: FilePath  # folder of newly labelled CSV/Parquet files (absolute, or relative)
    id_column: Text
    validate_stages: Annotated[Names, Field(min_length=1)]
    branch_prefix: Text
    pr_title: Text
    pr_labels: Names = ()
    cron: CronSettings | None = None  # read by the render (deploy/retrain-cron.yaml)
    alerts: AlertSettings | None = None  # read by the render (deploy/alerts.yaml)

    @field_validator("branch_prefix")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        if not value.endswith("/"):
            raise ValueError("must end with '/' (branches are named <prefix><date>)")
        return value

    @property
    def pointer(self) -> Path:
        """The `.dvc` file beside the data file: the one file a retraining PR changes."""
        return self.data.with_name(self.data.name + ".dvc")


def _increasing(buckets: tuple[float, ...]) -> tuple[float, ...]:
    if list(buckets) != sorted(set(buckets)):
        raise ValueError("expected bucket bounds in increasing order, each once")
    return buckets


class ServingSettings(Section):
    """params.yaml `serving`: what the service reports, which the alert rules read."""

    docs: ClassVar[str] = "docs/serving.md"

    score: Annotated[
        str, matching(r"[a-zA-Z_][a-zA-Z0-9_]*", "not a Prometheus metric name, which it becomes")
    ]  # the answer's field holding the score;
    # the service's Prometheus histogram of it has this name
    score_buckets: Annotated[tuple[Number, ...], Field(min_length=1), AfterValidator(_increasing)]
