"""What a failed GitHub call raises: one class per kind of refusal, each with what to check.

All are RemoteError (exit 1). Messages carry the method, URL, status and GitHub's own message,
never a header, so no token can leak into a log.
"""

from __future__ import annotations

from mlgitops.errors import RemoteError


class GitHubError(RemoteError):
    """Raised when GitHub answers with an error status after retries; carries status and URL."""

    hint = "see the server's message"

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        self.method, self.url, self.status, self.server_message = method, url, status, message
        super().__init__(
            f"GitHub answered {status} to {method} {url}: {message or 'no message'}; {self.hint}"
        )


class UnreachableError(RemoteError):
    """Raised when GitHub cannot be reached (connection refused, timeout) after retries."""


class UnauthorizedError(GitHubError):
    """Raised on 401: the token is missing, wrong or expired."""

    hint = "check GITHUB_TOKEN: it is invalid or expired"


class ForbiddenError(GitHubError):
    """Raised on a 403 that is not a rate limit: the token lacks a permission."""

    hint = (
        "the token lacks a permission: the job needs `pull-requests: write` for the comment "
        "and `contents: write` for the assets branch"
    )


class NotFoundError(GitHubError):
    """Raised on 404: the repository, pull request, branch or file does not exist (or is hidden)."""

    hint = (
        "check the repository (OWNER/NAME) and the pull request number, and that the token "
        "can see the repository"
    )


class ConflictError(GitHubError):
    """Raised on 409 and 422: GitHub refused the change as it stands (exists, stale sha)."""

    hint = "the request conflicts with what is there"


class RateLimitError(GitHubError):
    """Raised when the rate limit is still exhausted after the retries allowed."""

    hint = "the API rate limit is exhausted; re-run the job after the reset time"


class ServerError(GitHubError):
    """Raised when GitHub keeps answering 5xx after the retries allowed."""

    hint = "GitHub is failing; re-run the job later"


_ERRORS: dict[int, type[GitHubError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ConflictError,
    429: RateLimitError,
}


def error_class(status: int) -> type[GitHubError]:
    """The exception for an error status: one table, so every call fails the same way."""
    return ServerError if status >= 500 else _ERRORS.get(status, GitHubError)
