"""Baseline B of benchmarks/serving.py: the limit, a hand-written FastAPI app on one worker.

The same array encoder as the service (churn.encode), no request validation, no batching, no
metrics or request log, no access log: JSON in, `booster.predict` on the encoded rows, JSON out,
on the event loop. What is left is uvicorn, Starlette and the model.

    uvicorn array_app:app --app-dir benchmarks/baselines --port 3000 --no-access-log

One worker: uvicorn's multi-worker mode hands the workers a pre-bound socket and so loses
TCP_NODELAY, about 40 ms a keep-alive request here (Kludex/uvicorn#3149).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import lightgbm as lgb
from fastapi import FastAPI, Request, Response

from churn.encode import Encoder

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = Path(os.environ.get("CHURN_MODEL_DIR", ROOT / "models"))

_card = json.loads((MODEL_DIR / "card.json").read_text())
_booster: Any = lgb.Booster(model_file=str(MODEL_DIR / "model.txt"))
_encoder = Encoder.from_card(_card)
_threshold = float(_card["threshold"])
_model = {"sha256": _card["model"]["sha256"]}

app = FastAPI()


@app.get("/livez")
@app.get("/readyz")
async def health() -> Response:
    return Response(status_code=200)


@app.post("/predict")
async def predict(request: Request) -> Response:
    """The same answer as the service's, for the same body, minus every check."""
    customers = json.loads(await request.body())["customers"]
    columns = {column: [c[column] for c in customers] for column in _encoder.features}
    probabilities = _booster.predict(_encoder.encode_columns(columns))
    answer = [
        {
            "customer_id": customer["customer_id"],
            "churn_probability": float(p),
            "churn": bool(p >= _threshold),
            "model": _model,
        }
        for customer, p in zip(customers, probabilities, strict=True)
    ]
    return Response(json.dumps(answer), media_type="application/json")
