"""The drift report: drift.json for programs (the retraining PR reads it), drift.md for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlgitops.drift.compare import DriftResult, FeatureResult
from mlgitops.drift.policy import DriftPolicy


def _shares(counts: Any) -> list[float]:
    total = max(int(counts.sum()), 1)
    return [round(int(count) / total, 6) for count in counts]


def _feature_json(feature: FeatureResult, image: str | None) -> dict[str, Any]:
    return {
        "kind": feature.kind,
        "psi": round(feature.psi, 6),
        "p_value": None if feature.p_value is None else float(f"{feature.p_value:.6g}"),
        "test": feature.test,
        "drifted": feature.drifted,
        "image": image,
        "bins": [
            {"bin": label, "reference": ref, "current": cur}
            for label, ref, cur in zip(
                feature.labels, _shares(feature.reference), _shares(feature.current), strict=True
            )
        ],
        "unseen_levels": list(feature.unseen),
    }


def to_json(
    result: DriftResult,
    policy: DriftPolicy,
    *,
    reference: Path,
    current: Sequence[Path],
    images: Mapping[str, str],
) -> dict[str, Any]:
    """The report as data: verdict, sizes, drifted columns, every column's numbers, the policy."""
    return {
        "verdict": result.verdict,
        "retraining_due": result.retraining_due,
        "judged": result.judged,
        "rows": result.rows,
        "reference_rows": result.reference_rows,
        "reference": str(reference),
        "current": [str(path) for path in current],
        "drifted": result.drifted,
        "features": {
            feature.name: _feature_json(feature, images.get(feature.name))
            for feature in result.features
        },
        "policy": policy.as_dict(),
        "notes": list(result.notes),
    }


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _summary(result: DriftResult, policy: DriftPolicy) -> str:
    if not result.judged:
        return (
            f"Only {result.rows:,} rows logged; drift is judged from {policy.min_rows:,} rows "
            "(`drift.min_rows`)."
        )
    inputs = [f for f in result.features if f.kind != "score"]
    drifted = [f.name for f in inputs if f.drifted]
    score = next((f for f in result.features if f.kind == "score"), None)
    parts = [
        f"{result.rows:,} logged rows against {result.reference_rows:,} reference rows: "
        f"{len(drifted)} of {len(inputs)} input features drifted"
        + (f" ({', '.join(f'`{name}`' for name in drifted)})" if drifted else "")
        + f"; retraining is due at {policy.min_drifted_features} drifted input features"
        + (", or when the score drifts." if policy.score_drift_retrains else ".")
    ]
    if score is not None:
        state = "drifted" if score.drifted else "is stable"
        parts.append(f"The model's score `{score.name}` {state} (PSI {score.psi:.3f}).")
    return " ".join(parts)


def to_markdown(result: DriftResult, policy: DriftPolicy, *, images: Mapping[str, str]) -> str:
    """The report for people (and the retraining PR's body): verdict, table, pictures."""
    lines = [f"## Drift check: {result.verdict}", "", _summary(result, policy), ""]
    if result.judged:
        lines += [
            f"A column drifts when its PSI is at least {policy.psi_threshold:g} and its "
            f"two-sample test gives p below {policy.p_value:g} (params.yaml `drift`).",
            "",
            "| Feature | Kind | PSI | p | Test | Drifted |",
            "| --- | --- | ---: | ---: | --- | --- |",
        ]
        ordered = sorted(result.features, key=lambda f: (not f.drifted, -f.psi, f.name))
        for feature in ordered:
            mark = "**yes**" if feature.drifted else "no"
            lines.append(
                f"| `{feature.name}` | {feature.kind} | {feature.psi:.3f} | "
                f"{_p(feature.p_value)} | {feature.test} | {mark} |"
            )
        unseen = [f for f in result.features if f.unseen]
        if unseen:
            lines.append("")
            for feature in unseen:
                shown = ", ".join(f"`{level}`" for level in feature.unseen)
                lines.append(f"- `{feature.name}` has levels the reference never had: {shown}")
        pictures = [(f.name, images[f.name]) for f in ordered if f.name in images]
        if pictures:
            lines += ["", "### Drifted columns", ""]
            lines += [f"![{name}: reference vs current]({image})" for name, image in pictures]
    if result.notes:
        lines += ["", *(f"> {note}" for note in result.notes)]
    return "\n".join(lines) + "\n"
