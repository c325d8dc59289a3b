"""A small Argo Server REST client: get a WorkflowTemplate, submit it (or create a workflow
inline), get the workflow (run.py follows it).

Why not Hera's own `hera.workflows.service.WorkflowsService`: it sends every request through
`requests` without a timeout (a silent server hangs the release job for ever), retries nothing,
and raises bare `requests` exceptions for a refused connection or a TLS failure. So the calls
go through an `httpx.Client` the caller sets up (`make_http_client`: base URL, token, TLS
verification, timeout), and Hera's models carry the bodies both ways: the request is a
`WorkflowSubmitRequest`, the answers parse into `Workflow` and `WorkflowTemplate`. Errors
become our exceptions through `mlgitops.http`'s one status table, with Argo's own message and
never a header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
import pydantic
from hera.workflows.models import (
    SubmitOpts,
    Workflow,
    WorkflowCreateRequest,
    WorkflowSubmitRequest,
    WorkflowTemplate,
    WorkflowTerminateRequest,
)

from mlgitops.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
)
from mlgitops.http import Remote, RestClient, RetryPolicy, make_client

_Model = TypeVar("_Model", bound=pydantic.BaseModel)

ARGO = Remote(
    name="Argo Server",
    reach="the Argo Server",
    where="check ARGO_SERVER (or --server) and that the server is running",
    hints={
        UnauthorizedError: (
            "check ARGO_TOKEN: it is missing, invalid or expired (a service account token, with "
            "or without the 'Bearer ' prefix)"
        ),
        ForbiddenError: (
            "the token's service account lacks a permission: it needs get on "
            "workflowtemplates and create and get on workflows in this namespace"
        ),
        NotFoundError: "check the name and --namespace",
        BadRequestError: "the request does not fit the template on the server; re-apply deploy/",
        ServerError: "the Argo Server is failing; look at its logs, then re-run",
    },
    tls="--insecure-skip-tls-verify turns verification off",
)


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
    allow_plain_http: bool = False,
) -> httpx.Client:
    """An httpx client for the Argo Server at `server`: token, TLS verification, timeout.

    `token` None sends no Authorization header (a server in `--auth-mode=server` needs none);
    a token over plain http:// to another host is refused unless `allow_plain_http`.
    """
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = authorization(token)
    return make_client(
        server,
        headers,
        verify=verify,
        timeout=timeout,
        transport=transport,
        allow_plain_http=allow_plain_http,
    )


class ArgoClient(RestClient):
    """The Argo Server calls of `mlgitops deploy`, in one namespace.

    Reads (template, workflow) retry connection errors and 5xx with a short bounded backoff;
    the submit is retried only when the connection was never made, since a lost answer may
    hide a workflow that was created.
    """

    remote = ARGO
    retry = RetryPolicy(attempts=3, backoff=0.5, max_wait=5.0)

    def __init__(
        self, http: httpx.Client, namespace: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(http, sleep=sleep)
        self.namespace = namespace

    def get_template(self, name: str) -> WorkflowTemplate:
        """The WorkflowTemplate `name`; NotFoundError when the namespace has none of that name."""
        path = f"api/v1/workflow-templates/{self.namespace}/{name}"
        return self._parse(WorkflowTemplate, "GET", self.request("GET", path))

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
        answer = self.request("POST", path, json=sent, idempotent=False)
        return self._parse(Workflow, "POST", answer)

    def create(self, workflow: Mapping[str, Any]) -> Workflow:
        """Creates the workflow `workflow` (a Workflow manifest, spec inline); the new one."""
        body = WorkflowCreateRequest(
            namespace=self.namespace, workflow=Workflow.model_validate(dict(workflow))
        )
        path = f"api/v1/workflows/{self.namespace}"
        sent = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        answer = self.request("POST", path, json=sent, idempotent=False)
        return self._parse(Workflow, "POST", answer)

    def terminate(self, name: str) -> Workflow:
        """Stops the workflow `name` now (its pods are killed, its exit handler does not run)."""
        body = WorkflowTerminateRequest(name=name, namespace=self.namespace)
        path = f"api/v1/workflows/{self.namespace}/{name}/terminate"
        sent = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self._parse(Workflow, "PUT", self.request("PUT", path, json=sent))

    def get_workflow(self, name: str) -> Workflow:
        """The workflow `name` with its status and nodes."""
        path = f"api/v1/workflows/{self.namespace}/{name}"
        return self._parse(Workflow, "GET", self.request("GET", path))

    def link(self, name: str) -> str:
        """The workflow's page in the Argo UI."""
        return str(self.http.base_url.join(f"workflows/{self.namespace}/{name}"))

    def _parse(self, model: type[_Model], method: str, answer: httpx.Response) -> _Model:
        try:
            return model.model_validate(answer.json())
        except (ValueError, pydantic.ValidationError) as error:
            first = str(error).splitlines()[0]
            message = f"unexpected answer ({first})"
            raise self.refused(method, str(answer.url), answer.status_code, message) from None
