"""Adopting mlgitops in an existing git+DVC repository: read it, initialise it, check it."""
