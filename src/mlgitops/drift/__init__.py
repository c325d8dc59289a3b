"""Drift: compares the service's logged inputs and scores with the training reference."""
