"""The `mlgitops deploy` command (a placeholder until the plugin lands)."""

from __future__ import annotations

from mlgitops.errors import UsageError
from mlgitops.plugin import plugin_app

app = plugin_app("Roll a service image out through the Argo deploy workflow.")


@app.callback(invoke_without_command=True)
def command() -> None:
    """Roll a service image out through the Argo deploy workflow."""
    raise UsageError("not built yet")
