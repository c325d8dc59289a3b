"""Retraining: snapshots newly labelled data and opens the pull request that changes the pointer."""
