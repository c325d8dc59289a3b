"""Retraining: snapshots newly labelled data and opens the pull request that changes the pointer.

command.py (the CLI edge) -> flow.py (the phases) -> verdict.py (drift.json), settings.py
(params.yaml), snapshot.py (the table), workspace.py (git, dvc), body.py, pull_request.py.
"""
