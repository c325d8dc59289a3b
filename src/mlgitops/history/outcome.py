"""The deploy's outcome file (`mlgitops deploy --outcome`) as a GitHub deployment status.

The file: {"phase": "Succeeded"|"Failed"|"Error", "failed_step": str|null, "message": str,
"rolled_back": bool}. A rolled-back release is a `failure` whose description starts with
"rolled back" and names the failed step (how `mlgitops history` counts rollbacks); a failure the
rollback did not finish is an `error`; no file means the deploy stopped before Argo ran.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlgitops.history.github import ROLLED_BACK


def read_outcome(path: Path) -> tuple[str, str]:
    """(state, description) for the deployment status; descriptions fit GitHub's 140."""
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "error", "the deploy stopped before the Argo run ended (no outcome; see the run log)"
    if not isinstance(outcome, dict):
        return "error", f"{path} is not a deploy outcome"
    if outcome.get("phase") == "Succeeded":
        return "success", "serving: the rollout and smoke test succeeded"
    step = outcome.get("failed_step") or "no step"
    why = f"step {step} failed: {outcome.get('message') or 'no message'}"
    if outcome.get("rolled_back") is True:
        return "failure", f"{ROLLED_BACK}: {why}"[:140]
    return "error", f"{why}; the rollback did not finish"[:140]
