"""A second example model: diamond prices (a regression), to show the plugins are model-agnostic."""
