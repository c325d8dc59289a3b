# mypy: disallow-untyped-decorators=False
# (bentoml's decorators are untyped to mypy; the API methods keep their own annotations)
"""Diamond prices as a BentoML service on the mlgitops serving runtime: POST /predict.

This file says how to load, check and predict; mlgitops.serving does the rest (the card and
the model file's sha256, readiness from the card's golden cases, 4xx naming the field, the
score histogram named in params.yaml's `serving:`, the request log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final, Literal, cast

import bentoml
import pandas as pd
from pydantic import ConfigDict, Field, create_model

from mlgitops import serving

from . import schema
from .pipeline import load_model, predict

serving.apply_timeout_fix()

MAX_ROWS: Final = 1_000
# models/ and params.yaml sit beside the package in a Bento (src layout), else in the repository.
_HERE = Path(__file__).resolve().parents[1]
ROOT: Final = _HERE if (_HERE / "models").is_dir() else _HERE.parent
CARD: Final = ROOT / "models" / "card.json"

# One diamond as a client sends it, every rule from the schema (strict: "0.3" is not 0.3).
_fields: dict[str, Any] = {schema.ID: (Annotated[str, Field(min_length=1)], ...)}
for _name, (_low, _high) in schema.NUMERIC_RANGES.items():
    _fields[_name] = (Annotated[float, Field(ge=_low, le=_high, allow_inf_nan=False)], ...)
for _name, _levels in schema.CATEGORICAL.items():
    _fields[_name] = (Literal[_levels], ...)
Diamond: Any = create_model(
    "Diamond", __config__=ConfigDict(strict=True, extra="forbid"), **_fields
)
Diamonds = Annotated[list[Diamond], Field(min_length=1, max_length=MAX_ROWS)]
REJECTIONS: Final = serving.Rejections(
    fields=[schema.ID, *schema.FEATURES], list_field="diamonds", max_rows=MAX_ROWS
)


@bentoml.service(name="diamonds", **serving.service_config(routes=["/predict"]))
class DiamondService:
    """Prices diamonds with the model its card describes."""

    def __init__(self) -> None:
        self.runtime = serving.ServingRuntime(
            root=ROOT, card_path=CARD, params_path=ROOT / "params.yaml", id_field=schema.ID
        )
        self.booster = load_model(self.runtime.card, ROOT)
        self.runtime.check_golden(list[Diamond], lambda rows: self._answers(rows)[0])
        self.runtime.settle()

    @bentoml.on_deployment
    @staticmethod
    def refuse_a_wrong_model() -> None:
        """`bentoml serve` exits before any worker when the model is not the card's."""
        serving.verified_model(serving.read_card(CARD), root=ROOT)

    def __is_ready__(self) -> bool:
        return bool(self.runtime.ready)

    @bentoml.api
    def predict(self, diamonds: Diamonds) -> list[dict[str, Any]]:
        """The predicted price of each diamond, in request order."""
        answers, frame, prices = self._answers(diamonds)
        outputs = {schema.SCORE: prices.tolist()}
        self.runtime.after_response(
            "predict", prices, lambda: (serving.json_columns(frame), outputs)
        )
        return answers

    def _answers(self, diamonds: list[Any]) -> tuple[list[dict[str, Any]], pd.DataFrame, Any]:
        frame = pd.DataFrame([diamond.model_dump() for diamond in diamonds])
        prices = predict(self.booster, frame)
        version = self.runtime.version
        answers = [
            {schema.ID: stone, schema.SCORE: price, "model": version}
            for stone, price in zip(frame[schema.ID].tolist(), prices.tolist(), strict=True)
        ]
        return answers, frame, prices

    @bentoml.on_shutdown
    def flush(self) -> None:
        self.runtime.close()


cast(Any, DiamondService).add_asgi_middleware(
    serving.RejectionMiddleware, json_paths=["/predict"], upload_paths={}, rejections=REJECTIONS
)
