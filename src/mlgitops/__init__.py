"""mlgitops: CI plugins for any DVC repository (report, gate, comment, deploy, drift)."""

__version__ = "0.1.0"
