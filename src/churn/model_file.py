"""Moved to churn.model, the one module that loads the model and predicts.

Kept only until the service imports churn.model instead; then delete this file.
"""

from __future__ import annotations

from churn.model import CARD_PATH, ROOT, ModelRefusedError, read_card, verified_model, verify_levels

PARAMS_PATH = ROOT / "params.yaml"

__all__ = [
    "CARD_PATH",
    "PARAMS_PATH",
    "ModelRefusedError",
    "read_card",
    "verified_model",
    "verify_levels",
]
