"""The exceptions every plugin raises; `cli.py` maps them to exit codes in one place.

Exit codes: 0 ok; 1 the check ran and said no, or a remote refused; 2 the input or usage was
wrong; 3 drift found, retraining due.
"""

from __future__ import annotations


class MlgitopsError(Exception):
    """Base of every expected error: the CLI prints the message, no traceback."""

    exit_code = 1


class UsageError(MlgitopsError):
    """Raised when the input is wrong: unknown revision, not a DVC repository, bad policy."""

    exit_code = 2


class CheckFailedError(MlgitopsError):
    """Raised when a check ran and said no (the gate, a smoke test, a deploy)."""

    exit_code = 1


class RemoteError(MlgitopsError):
    """Raised when a remote service (GitHub, Argo) refused or failed after retries."""

    exit_code = 1


class DriftFoundError(MlgitopsError):
    """Raised when drift makes retraining due."""

    exit_code = 3
