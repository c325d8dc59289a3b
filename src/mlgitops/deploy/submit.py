"""A small Argo Server REST client: get a WorkflowTemplate, submit it, get the workflow (run.py
follows it).

Why not Hera's own `hera.workflows.service.WorkflowsService`: it sends every request through
`requests` without a timeout (a silent server hangs the release job for ever), retries nothing,
and raises bare `requests` exceptions for a refused connection or a TLS failure. So the calls
go through an `httpx.Client` the caller sets up (`make_http_client`: base URL, token, TLS
verification, timeout), and Hera's models carry the bodies both ways: the request is a
`WorkflowSubmitRequest`, the answers parse into `Workflow` and `WorkflowTemplate`. Errors
become our exceptions through one status table, with Argo's own message and never a header.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
import pydantic
from hera.workflows.models import (
    SubmitOpts,
    Workflow,
    WorkflowSubmitRequest,
    WorkflowTemplate,
)

from mlgitops.errors import RemoteError

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model", bound=pydantic.BaseModel)


class ArgoError(RemoteError):
    """Raised when the Argo Server answers with an error status; carries status and URL."""

    hint = "see the server's message"

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        self.method, self.url, self.status, self.server_message = method, url, status, message
        super().__init__(
            f"Argo Server answered {status} to {method} {url}: {message or 'no message'}; "
            f"{self.hint}"
        )


class UnauthorizedError(ArgoError):
    """Raised on 401: no token, or the server does not accept it."""

    hint = (
        "check ARGO_TOKEN: it is missing, invalid or expired (a service account token, with or "
        "without the 'Bearer ' prefix)"
    )


class ForbiddenError(ArgoError):
    """Raised on 403: the token is valid but its account lacks a permission."""

    hint = (
        "the token's service account lacks a permission: it needs get on workflowtemplates and "
        "create and get on workflows in this namespace"
    )


class NotFoundError(ArgoError):
    """Raised on 404: no such template or workflow in the namespace."""

    hint = "check the name and --namespace"


class BadRequestError(ArgoError):
    """Raised on 400: the server refused the request's content (a parameter, the body)."""

    hint = "the request does not fit the template on the server; re-apply deploy/"


class ServerError(ArgoError):
    """Raised when the server keeps answering 5xx after the retries allowed."""

    hint = "the Argo Server is failing; look at its logs, then re-run"


class UnreachableError(RemoteError):
    """Raised when the server cannot be reached (refused, DNS, TLS, timeout) after retries."""


_ERRORS: dict[int, type[ArgoError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
}


def error_class(status: int) -> type[ArgoError]:
    """The exception for an error status: one table, so every call fails the same way."""
    return ServerError if status >= 500 else _ERRORS.get(status, ArgoError)


def authorization(token: str) -> str:
    """The Authorization header for a token given with or without its `Bearer ` prefix.

    `argo auth token` prints "Bearer ..." while a service account secret holds the bare token;
    both are accepted (argoproj/argo-workflows#2154, argoproj-labs/hera#1016). A value that
    already names a scheme ("Bearer x", "Basic x") is kept as it is.
    """
    parts = token.split()
    if not parts:
        raise ValueError("the token is empty")
    if not token.isascii():
        raise ValueError("the token has characters other than ASCII; is it the right value?")
    if len(parts) == 1:
        return f"Bearer {parts[0]}"
    if len(parts) == 2:
        scheme, credentials = parts
        return f"{'Bearer' if scheme.lower() == 'bearer' else scheme} {credentials}"
    raise ValueError("the token has spaces in it; give the token alone or 'Bearer <token>'")


def make_http_client(
    server: str,
    token: str | None,
    *,
    verify: bool = True,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for the Argo Server at `server`: token, TLS verification, timeout.

    `token` None sends no Authorization header (a server in `--auth-mode=server` needs none).
    """
    headers = {"Accept": "application/json", "User-Agent": "mlgitops"}
    if token is not None:
        headers["Authorization"] = authorization(token)
    return httpx.Client(
        base_url=server.rstrip("/") + "/",
        headers=headers,
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=transport,
    )


class ArgoClient:
    """The Argo Server calls of `mlgitops deploy`, in one namespace.

    Reads (template, workflow) retry connection errors and 5xx with a short bounded backoff;
    the submit is retried only when the connection was never made, since a lost answer may
    hide a workflow that was created.
    """

    def __init__(
        self,
        http: httpx.Client,
        namespace: str,
        *,
        attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.namespace = namespace
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    def get_template(self, name: str) -> WorkflowTemplate:
        """The WorkflowTemplate `name`; NotFoundError when the namespace has none of that name."""
        path = f"api/v1/workflow-templates/{self.namespace}/{name}"
        return self._parse(WorkflowTemplate, "GET", path, self._request("GET", path))

    def submit(self, template: str, parameters: Mapping[str, str]) -> Workflow:
        """Starts a workflow from the template `template` with `parameters`; the new workflow."""
        body = WorkflowSubmitRequest(
            namespace=self.namespace,
            resource_kind="WorkflowTemplate",
            resource_name=template,
            submit_options=SubmitOpts(
                parameters=[f"{key}={value}" for key, value in parameters.items()]
            ),
        )
        path = f"api/v1/workflows/{self.namespace}/submit"
        sent = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        answer = self._request("POST", path, json=sent, idempotent=False)
        return self._parse(Workflow, "POST", path, answer)

    def get_workflow(self, name: str) -> Workflow:
        """The workflow `name` with its status and nodes."""
        path = f"api/v1/workflows/{self.namespace}/{name}"
        return self._parse(Workflow, "GET", path, self._request("GET", path))

    def link(self, name: str) -> str:
        """The workflow's page in the Argo UI."""
        return str(self.http.base_url.join(f"workflows/{self.namespace}/{name}"))

    def _parse(self, model: type[_Model], method: str, path: str, answer: httpx.Response) -> _Model:
        try:
            return model.model_validate(answer.json())
        except (ValueError, pydantic.ValidationError) as error:
            first = str(error).splitlines()[0]
            raise ArgoError(
                method, self._url(path), answer.status_code, f"unexpected answer ({first})"
            ) from None

    def _url(self, path: str) -> str:
        return str(self.http.base_url.join(path))

    def _request(
        self, method: str, path: str, *, json: Any = None, idempotent: bool = True
    ) -> httpx.Response:
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                answer = self.http.request(method, path, json=json)
            except httpx.TransportError as error:
                tls = _is_tls(error)
                never_sent = isinstance(error, httpx.ConnectError)
                if last or tls or not (idempotent or never_sent):
                    raise UnreachableError(_unreachable(method, self._url(path), error)) from None
                logger.warning("Argo %s %s failed (%s); retrying", method, path, error)
                self._pause(attempt)
                continue
            if answer.is_success:
                return answer
            if answer.status_code >= 500 and idempotent and not last:
                logger.warning("Argo %s %s answered %s; retrying", method, path, answer.status_code)
                self._pause(attempt)
                continue
            raise error_class(answer.status_code)(
                method, self._url(path), answer.status_code, _message(answer)
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, attempt: int) -> None:
        self.sleep(min(self.backoff * 2.0**attempt, self.max_wait))


def _message(answer: httpx.Response) -> str:
    """Argo's error body is {"code": <gRPC code>, "message": "..."}; else the text, cut short."""
    try:
        data = answer.json()
    except ValueError:
        return answer.text.strip()[:300]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return answer.text.strip()[:300]


def _is_tls(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _unreachable(method: str, url: str, error: httpx.TransportError) -> str:
    if _is_tls(error):
        return (
            f"TLS failed for {method} {url}: {error}; the server's certificate could not be "
            "verified (or it does not speak https). Check the URL's scheme and the certificate; "
            "--insecure-skip-tls-verify turns verification off"
        )
    if isinstance(error, httpx.TimeoutException):
        return f"no answer from {method} {url} in time ({type(error).__name__}); is it overloaded?"
    return (
        f"could not reach the Argo Server for {method} {url}: {error or type(error).__name__}; "
        "check ARGO_SERVER (or --server) and that the server is running"
    )
