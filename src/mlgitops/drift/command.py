"""The `mlgitops drift` command (a placeholder until the plugin lands)."""

from __future__ import annotations

from mlgitops.errors import UsageError
from mlgitops.plugin import plugin_app

app = plugin_app("Compare logged requests with the training reference.")


@app.callback(invoke_without_command=True)
def command() -> None:
    """Compare logged requests with the training reference."""
    raise UsageError("not built yet")
