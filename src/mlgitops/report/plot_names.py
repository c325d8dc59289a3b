"""Readable axis names and titles for plots: declared ones as written, raw field names spelled out.

DVC fills an undeclared `x_label`/`y_label` with the field name and an undeclared `title` with
the plot id, so a label equal to its field (or a title equal to its id) was not declared.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

# Whole field names that are abbreviations a reader may not expand (classification curves).
_SPELLED_OUT = {
    "fpr": "False positive rate",
    "tpr": "True positive rate",
    "tnr": "True negative rate",
    "fnr": "False negative rate",
    "ppv": "Positive predictive value",
    "npv": "Negative predictive value",
    "prob_pred": "Mean predicted probability",
    "prob_true": "Fraction of positives",
}
# Words written in capitals wherever they appear in a name.
_ACRONYMS = {"roc", "auc", "ap", "pr", "id", "mae", "mse", "rmse", "r2", "f1", "shap", "ks", "lr"}
_WORD = re.compile(r"[A-Z]+\d*(?![a-z])|[A-Z]?[a-z]+\d*|\d+")


def readable(name: str) -> str:
    """A field or file name as words: `fraction_positive` -> "Fraction positive", `fpr` -> "False
    positive rate", `roc_curve` -> "ROC curve", `meanPredicted` -> "Mean predicted"."""
    key = name.strip().lower()
    if key in _SPELLED_OUT:
        return _SPELLED_OUT[key]
    words = _WORD.findall(name)
    if not words:
        return name
    out = [word.upper() if word.lower() in _ACRONYMS else word.lower() for word in words]
    first = out[0]
    out[0] = first if first.isupper() else first.capitalize()
    return " ".join(out)


def axis_label(declared: Any, field: str) -> str:
    """The declared label, or the field's readable name when none was declared."""
    text = "" if declared is None else str(declared)
    if not text or text == field:
        return readable(field) if field else ""
    return text


def plot_title(declared: Any, plot_id: str) -> str:
    """The declared title, or a readable name from the plot id (`plots/roc.csv` -> "ROC")."""
    text = "" if declared is None else str(declared)
    if text and text != plot_id:
        return text
    return readable(PurePosixPath(plot_id).stem) or plot_id
