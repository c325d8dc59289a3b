"""params.yaml `report`: what the PR report recomputes with intervals from per-row predictions.

Without `report.predictions` the report works as before and says in one line what to declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, Strict

from mlgitops.errors import UsageError
from mlgitops.settings.load import Int, Number, Positive, Section, Text

Confidence = Annotated[float, Strict(), Field(gt=0, lt=1)]


class PredictionsSettings(Section):
    """The per-row predictions file a pipeline stage writes, and its columns."""

    docs: ClassVar[str] = "docs/pr-loop.md"

    path: Text  # repository-relative, a DVC output (CSV or Parquet)
    id: Text  # rows are paired on it
    label: Text  # 0/1 for a classifier, the target for a regressor
    score: Text  # the model's probability (or prediction, for a regressor)
    # accuracy, precision, recall, F1 flag score >= threshold; a number, or the dotted key of
    # the params file that holds it (`evaluate.threshold`), so the two cannot drift apart
    threshold: Number | Text = 0.5
    metrics_file: Text = "metrics.json"  # where the pipeline's own figures are
    split: Text = "test"  # its keys `<split>.<statistic>` are the ones recomputed

    def resolved(self, params: Mapping[str, Any], source: str) -> PredictionsSettings:
        """These settings with `threshold` a number, looked up in `params` when it is a key.

        UsageError naming the file and key when the key is absent or not a number.
        """
        if not isinstance(self.threshold, str):
            return self
        value: Any = params
        for part in self.threshold.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(
                f"{source}: report.predictions.threshold names `{self.threshold}`, which is "
                f"{'absent' if value is None else repr(value)}; expected a key holding a number"
            )
        return self.model_copy(update={"threshold": float(value)})


class BootstrapSettings(Section):
    """How many resamples, drawn from which seed, for which confidence level."""

    docs: ClassVar[str] = "docs/pr-loop.md"

    resamples: Positive = 2_000
    seed: Int = 0
    confidence: Confidence = 0.95


class ReportSettings(Section):
    """Every key of params.yaml `report`; all optional."""

    docs: ClassVar[str] = "docs/pr-loop.md"

    predictions: PredictionsSettings | None = None
    slices: tuple[Text, ...] = ()
    min_slice_rows: Positive = 100
    bootstrap: BootstrapSettings = BootstrapSettings()
    gap_widening: Annotated[float, Strict(), Field(ge=0)] = 0.02
