"""The `mlgitops retrain` command (a placeholder until the plugin lands)."""

from __future__ import annotations

from mlgitops.errors import UsageError
from mlgitops.plugin import plugin_app

app = plugin_app("Open (or update) the retraining pull request.")


@app.callback(invoke_without_command=True)
def command() -> None:
    """Open (or update) the retraining pull request."""
    raise UsageError("not built yet")
