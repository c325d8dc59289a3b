"""The HTTP layer of the GitHub and Argo Server clients: one retry policy, one status table.

A client (`GitHubClient`, `ArgoClient`) is a `RestClient` with its `Remote` (how messages
name the server and what they advise) and its `RetryPolicy`. It takes an `httpx.Client` whose
base URL, auth header and timeout the caller set (`make_client`), so tests hand it a
`MockTransport` and nothing here knows the token. Waits go through an injectable `sleep`, so
a test retries without waiting.

Retries: a refused connection (nothing was sent) and, for idempotent calls, any other
transport error and any 5xx, with exponential backoff; a rate limit (429, or a 403 that says
so) waits what the server asks, unless that is longer than the policy's `max_wait`. A TLS
failure is never retried: it will not heal. No token goes over plain http:// to another host
unless said explicitly (`mlgitops.plain_http`). Why not tenacity or stamina: not in the lock
file, and the rules here (waits read from the answer, give up on a far reset) fit one loop.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypedDict, Unpack

import httpx

from mlgitops.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    UnauthorizedError,
    UnreachableError,
)
from mlgitops.plain_http import check_plain_http

logger = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[ResponseError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ConflictError,
    429: RateLimitError,
}
_MAX_PAGES = 100  # 10,000 items at 100 a page: far beyond any real listing


def error_class(answer: httpx.Response) -> type[ResponseError]:
    """The exception for an error answer: one table, so every call fails the same way."""
    if rate_limited(answer):
        return RateLimitError
    status = answer.status_code
    return ServerError if status >= 500 else _BY_STATUS.get(status, ResponseError)


def rate_limited(answer: httpx.Response) -> bool:
    """A 429, or a 403 marked as a primary (remaining 0) or secondary (Retry-After) limit."""
    headers = answer.headers
    return answer.status_code == 429 or (
        answer.status_code == 403
        and ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0")
    )


class Call(TypedDict, total=False):
    """What a call may carry besides its method and URL (see `RestClient.request`)."""

    json: Any
    params: Mapping[str, Any] | None
    idempotent: bool  # False for a create: a lost answer may hide one that was made


@dataclass(frozen=True)
class RetryPolicy:
    """How often a call is tried, and how long to wait between tries (capped at `max_wait`)."""

    attempts: int = 3
    backoff: float = 0.5  # the first wait; each next one doubles
    max_wait: float = 5.0

    def wait(self, attempt: int) -> float:
        """Seconds before try `attempt + 1` (0-based `attempt`)."""
        return min(self.backoff * 2.0**attempt, self.max_wait)


@dataclass(frozen=True)
class Remote:
    """A server as messages name it, and what they advise when it refuses."""

    name: str  # starts a sentence: "GitHub answered 404 ..."
    reach: str  # after "could not reach": "GitHub", "the Argo Server"
    where: str  # the next step when it cannot be reached: which setting names it
    hints: Mapping[type[ResponseError], str] = field(default_factory=dict)
    tls: str = ""  # the next step when TLS fails, after checking scheme and certificate


def make_client(
    base_url: str,
    headers: Mapping[str, str],
    *,
    verify: bool = True,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    allow_plain_http: bool = False,
) -> httpx.Client:
    """An httpx client for a REST API at `base_url`: headers, TLS verification, timeout.

    `transport` is for tests; `allow_plain_http`: see `mlgitops.plain_http`.
    """
    check_plain_http(base_url, headers, allow=allow_plain_http)
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"User-Agent": "mlgitops", **headers},
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=transport,
    )


class RestClient:
    """Calls with retries, pages and errors; a subclass sets `remote` and `retry`."""

    remote: ClassVar[Remote]
    retry: RetryPolicy = RetryPolicy()

    def __init__(
        self,
        http: httpx.Client,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.retry = retry or self.retry
        self.sleep = sleep
        self.clock = clock

    def pause(self, attempt: int) -> None:
        """Waits the backoff of `attempt` (0-based): for callers that retry on their own."""
        self.sleep(self.retry.wait(attempt))

    def refused(self, method: str, url: str, status: int, message: str) -> ResponseError:
        """The error for an answer we cannot use although its status was fine."""
        return ResponseError(method, url, status, message, remote=self.remote.name)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """One call, retried as the module says; a 2xx answer, else our exception."""
        attempts = self.retry.attempts
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = self.http.request(method, url, json=json, params=params)
            except httpx.TransportError as error:
                # A refused connection sent nothing, so even a create may be tried again.
                again = idempotent or isinstance(error, httpx.ConnectError)
                if last or not again or _is_tls(error):
                    raise UnreachableError(self._unreachable(method, url, error)) from None
                logger.warning("%s %s failed (%s); retrying", method, url, error)
                self.pause(attempt)
                continue
            if answer.is_success:
                return answer
            wait = self._wait(answer, attempt, idempotent=idempotent)
            if wait is None or last:
                raise self._error(method, answer)
            status, name = answer.status_code, self.remote.name
            logger.warning(
                "%s answered %s to %s %s; retrying in %.0f s", name, status, method, url, wait
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def request_object(self, method: str, url: str, **call: Unpack[Call]) -> dict[str, Any]:
        """A call whose answer is a JSON object."""
        answer = self.request(method, url, **call)
        data = _json(answer)
        if not isinstance(data, dict):
            raise self.refused(method, str(answer.url), answer.status_code, "expected an object")
        return data

    def pages(self, url: str, *, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """The items of a JSON list, following the Link headers' `next` page by page."""
        following: str | None = url
        for _ in range(_MAX_PAGES):
            if following is None:
                return
            answer = self.request("GET", following, params=params)
            page = _json(answer)
            if not isinstance(page, list):
                raise self.refused("GET", str(answer.url), answer.status_code, "expected a list")
            yield from page
            following = answer.links.get("next", {}).get("url")
            if following is not None and httpx.URL(following).netloc != self.http.base_url.netloc:
                # The token goes wherever we send the next request: only to the API's own host.
                message = f"next page on another host: {following}"
                raise self.refused("GET", str(answer.url), answer.status_code, message)
            params = None  # the next link carries the query already
        raise self.refused("GET", url, 200, f"more than {_MAX_PAGES} pages")

    def _wait(self, answer: httpx.Response, attempt: int, *, idempotent: bool) -> float | None:
        """Seconds to wait before retrying, or None when this answer is final."""
        if rate_limited(answer):
            wait = self._rate_limit_wait(answer.headers, attempt)
            # An hour-long reset: failing now with the reason beats hanging.
            return None if wait > self.retry.max_wait else wait
        if answer.status_code >= 500 and idempotent:
            return self.retry.wait(attempt)
        return None

    def _rate_limit_wait(self, headers: httpx.Headers, attempt: int) -> float:
        guess = min(60.0 * 2.0**attempt, self.retry.max_wait)  # GitHub's advice, secondary limits
        if "retry-after" in headers:
            value = headers["retry-after"]
            if value.strip().isdigit():
                return float(value)
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return guess
            return max(0.0, when.timestamp() - self.clock())
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            return max(0.0, float(reset) - self.clock()) + 1.0
        return guess

    def _error(self, method: str, answer: httpx.Response) -> ResponseError:
        kind, message = error_class(answer), _server_message(answer)
        hint = self.remote.hints.get(kind)
        url = str(answer.url)
        return kind(method, url, answer.status_code, message, remote=self.remote.name, hint=hint)

    def _unreachable(self, method: str, url: str, error: httpx.TransportError) -> str:
        url = str(self.http.base_url.join(url))
        if _is_tls(error):
            return (
                f"TLS failed for {method} {url}: {error}; the server's certificate could not be "
                "verified (or it does not speak https). Check the URL's scheme and the "
                f"certificate{'; ' + self.remote.tls if self.remote.tls else ''}"
            )
        if isinstance(error, httpx.TimeoutException):
            return (
                f"no answer from {self.remote.reach} for {method} {url} in time "
                f"({type(error).__name__}); is it overloaded?"
            )
        return (
            f"could not reach {self.remote.reach} for {method} {url}: "
            f"{error or type(error).__name__}; {self.remote.where}"
        )


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _server_message(answer: httpx.Response) -> str:
    """The server's `message` (with GitHub's validation `errors`), else the body cut short;
    for a rate limit, when it resets."""
    data = _json(answer)
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        message = str(data["message"])
        if data.get("errors"):
            message += f" {data['errors']}"
    else:
        message = answer.text.strip()[:300]
    reset = answer.headers.get("x-ratelimit-reset", "")
    if rate_limited(answer) and reset.isdigit():
        when = datetime.fromtimestamp(int(reset), tz=UTC).strftime("%H:%M:%S UTC")
        message += f" (the limit resets at {when})"
    return message


def _is_tls(error: BaseException) -> bool:
    """Whether an ssl error lies anywhere in the chain (httpx wraps it in a ConnectError)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
