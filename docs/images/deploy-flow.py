"""Draw docs/images/deploy-flow.png: release.yml's jobs, then the rendered Argo workflow's steps
and its exit handler, read from deploy/workflow-template.yaml (so the picture shows the file).

    MPLCONFIGDIR=.cache/matplotlib python docs/images/deploy-flow.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import yaml
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_suffix(".png")

BLUE, GREEN, RED, GREY = "#dbe8f7", "#dcefdc", "#f7dcdc", "#eeeeee"


def _steps(workflow: dict[str, Any], name: str) -> list[list[dict[str, Any]]]:
    (template,) = [t for t in workflow["spec"]["templates"] if t["name"] == name]
    return list(template["steps"])


def _box(ax: Any, x: float, y: float, text: str, color: str, width: float = 2.1) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - 0.42),
            width,
            0.84,
            boxstyle="round,pad=0.04",
            facecolor=color,
            edgecolor="#555555",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, wrap=True)


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], **style: Any) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=12, **({"color": "#444444"} | style)
        )
    )


def main() -> None:
    workflow = yaml.safe_load((ROOT / "deploy" / "workflow-template.yaml").read_text())
    descriptions = {
        "record-revision": "record the\nserving revision",
        "apply-deployment": "apply Deployment\n+ Service",
        "wait-for-rollout": "wait for rollout\n(timeout)",
        "smoke": "mlgitops smoke\nthrough the Service",
        "roll-back": "roll back to the\nrecorded revision",
    }
    fig, ax = plt.subplots(figsize=(12, 6.2))
    ax.set_xlim(0, 12.4)
    ax.set_ylim(0, 6.6)
    ax.axis("off")

    # release.yml
    ax.text(0.1, 6.25, "release.yml (push to main)", fontsize=10, weight="bold")
    jobs = [
        "dvc pull the model\n(as dvc.lock names)",
        "build the Bento",
        "containerize, push\nghcr.io :version :sha",
        "cosign sign\n(keyless, digest)",
        "mlgitops deploy\n--image --wait",
    ]
    for index, text in enumerate(jobs):
        x = 1.3 + index * 2.45
        _box(ax, x, 5.6, text, GREY)
        if index:
            _arrow(ax, (x - 2.45 + 1.05, 5.6), (x - 1.05, 5.6))

    # the deploy steps
    ax.text(
        1.45,
        4.45,
        f"Argo WorkflowTemplate {workflow['metadata']['name']}",
        fontsize=10,
        weight="bold",
    )
    groups = _steps(workflow, workflow["spec"]["entrypoint"])
    xs = []
    for index, group in enumerate(groups):
        x = 1.3 + index * 2.45
        xs.append(x)
        names = [step["template"] for step in group]
        text = descriptions.get(names[0], " + ".join(names))
        _box(ax, x, 3.9, text, BLUE)
        if index:
            _arrow(ax, (x - 2.45 + 1.05, 3.9), (x - 1.05, 3.9))
    # mlgitops deploy submits the template: its run starts at the first step.
    submit_x = 1.3 + (len(jobs) - 1) * 2.45
    ax.plot([submit_x, submit_x, xs[0]], [5.18, 4.9, 4.9], color="#444444", linewidth=1)
    _arrow(ax, (xs[0], 4.9), (xs[0], 4.32))
    ax.text(submit_x - 0.1, 4.98, "submits", fontsize=8, ha="right")
    done = xs[-1] + 2.45
    _box(ax, done, 3.9, "Succeeded:\nnew version serves", GREEN)
    _arrow(ax, (xs[-1] + 1.05, 3.9), (done - 1.05, 3.9))

    # the exit handler
    (exit_step,) = _steps(workflow, workflow["spec"]["onExit"])[0]
    fail = "#b03030"
    for x in xs:
        ax.plot([x, x], [3.48, 2.85], color=fail, linestyle="--", linewidth=1)
    ax.plot([xs[0], xs[-1]], [2.85, 2.85], color=fail, linestyle="--", linewidth=1)
    _arrow(ax, (xs[0], 2.85), (xs[0], 2.07), linestyle="--", color=fail)
    ax.text(xs[0] + 0.15, 3.0, "any step fails", fontsize=8, color=fail)
    ax.text(xs[0] + 0.15, 2.4, f"onExit, when {exit_step['when']}", fontsize=10, weight="bold")
    rollback = [group[0]["template"] for group in _steps(workflow, exit_step["template"])]
    labels = [descriptions.get(name, name) for name in rollback]
    labels = [
        "mlgitops smoke\nwith the old image" if n == "smoke" else t
        for n, t in zip(rollback, labels, strict=True)
    ]
    labels.append("run stays Failed:\nold version serves")
    for index, text in enumerate(labels):
        x = 1.3 + index * 2.45
        _box(ax, x, 1.65, text, RED)
        if index:
            _arrow(ax, (x - 2.45 + 1.05, 1.65), (x - 1.05, 1.65))
    ax.text(
        0.1,
        0.45,
        "First deploy (no recorded revision): the rollback step says so and stops. "
        "Undoing to the revision already serving changes nothing, so the rollback is idempotent.",
        fontsize=8.5,
        color="#333333",
    )
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
