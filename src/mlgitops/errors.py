"""The exceptions every plugin raises; `cli.py` maps them to exit codes in one place.

Exit codes: 0 ok; 1 the check ran and said no, or a remote refused; 2 the input or usage was
wrong; 3 drift found, retraining due.
"""

from __future__ import annotations

from typing import Self


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


# What a call to GitHub or the Argo Server raises (`mlgitops.http` picks the class by status).
# Messages carry the method, URL, status and the server's own message, never a header, so no
# token can reach a log; each client gives its own hint per class (which variable to check).
class UnreachableError(RemoteError):
    """Raised when a server cannot be reached (refused, DNS, TLS, timeout) after retries."""


class ResponseError(RemoteError):
    """Raised when a server answers with an error status after retries, or with an answer of
    the wrong shape; carries the method, URL, status and the server's message."""

    hint = "see the server's message"

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        message: str,
        *,
        remote: str = "The server",
        hint: str | None = None,
    ) -> None:
        self.method, self.url, self.status, self.server_message = method, url, status, message
        self.remote, self.hint = remote, hint or self.hint
        super().__init__(
            f"{remote} answered {status} to {method} {url}: {message or 'no message'}; {self.hint}"
        )

    def with_message(self, message: str) -> Self:
        """The same error (class, call, hint) with a message that says more than the server's."""
        return type(self)(
            self.method, self.url, self.status, message, remote=self.remote, hint=self.hint
        )


class BadRequestError(ResponseError):
    """Raised on 400: the server refused the request's content (a parameter, the body)."""


class UnauthorizedError(ResponseError):
    """Raised on 401: the token is missing, wrong or expired."""


class ForbiddenError(ResponseError):
    """Raised on a 403 that is not a rate limit: the token lacks a permission."""


class NotFoundError(ResponseError):
    """Raised on 404: what was asked for does not exist (or the token cannot see it)."""


class ConflictError(ResponseError):
    """Raised on 409 and 422: the server refused the change as it stands (exists, stale)."""

    hint = "the request conflicts with what is there"


class RateLimitError(ResponseError):
    """Raised when the rate limit is still exhausted after the retries allowed."""

    hint = "the API rate limit is exhausted; re-run the job after the reset time"


class ServerError(ResponseError):
    """Raised when the server keeps answering 5xx after the retries allowed."""

    hint = "the server is failing; re-run the job later"
