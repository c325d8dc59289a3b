"""The Argo Server client's small pieces: token header, phases, steps, retries, error mapping.

The server is the Argo stand-in (tests/standins/argo.py) in process through httpx's
MockTransport, holding a small WorkflowTemplate shaped like ours: apply, wait for the rollout,
smoke-test, and an exit handler whose rollback runs only when the workflow did not succeed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hera.workflows import DAG, Container, Parameter, WorkflowTemplate
from hera.workflows.models import Workflow

from mlgitops.deploy import run, submit
from mlgitops.deploy.submit import ArgoClient
from mlgitops.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
    UnreachableError,
)
from tests.standins import argo_contract
from tests.standins.argo import SMOKE_FAILURE, FakeArgo

NAMESPACE = "churn"
TEMPLATE = "svc-deploy"
IMAGE = "ghcr.io/octo/churn-service:3f2a"


def small_template() -> dict[str, Any]:
    with WorkflowTemplate(
        name=TEMPLATE,
        entrypoint="deploy",
        on_exit="exit-handler",
        arguments=[Parameter(name="image")],
    ) as template:
        step = Container(name="step", image="bitnami/kubectl:1.31", command=["true"])
        with DAG(name="deploy"):
            apply = step(name="apply")
            rollout = step(name="wait-rollout")
            smoke = step(name="smoke")
            apply >> rollout >> smoke  # type: ignore[operator]
        with DAG(name="exit-handler"):
            back = step(name="rollback", when="{{workflow.status}} != Succeeded")
            again = step(name="smoke-previous", when="{{workflow.status}} != Succeeded")
            back >> again  # type: ignore[operator]
    manifest: dict[str, Any] = template.to_dict()
    return manifest


class Clock:
    """A clock the follow loop's sleeps move on, so a timeout takes no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        assert len(self.sleeps) < 10_000, "the follow loop never stopped"


@pytest.fixture
def fake() -> FakeArgo:
    fake = FakeArgo()
    fake.add_template(small_template(), NAMESPACE)
    return fake


def client_for(
    fake: FakeArgo, *, token: str | None = None, clock: Clock | None = None
) -> ArgoClient:
    http = submit.make_http_client(
        "https://argo.example:2746",
        fake.token if token is None else token,
        transport=httpx.MockTransport(fake),
    )
    return ArgoClient(http, NAMESPACE, sleep=(clock or Clock()).sleep)


# The token.
@pytest.mark.parametrize(
    ("given", "header"),
    [
        ("abc.def", "Bearer abc.def"),
        ("Bearer abc.def", "Bearer abc.def"),
        ("bearer abc.def", "Bearer abc.def"),
        ("  abc.def\n", "Bearer abc.def"),  # read from a secret file with its newline
        ("Basic dXNlcjpwYXNz", "Basic dXNlcjpwYXNz"),
    ],
)
def test_token_is_taken_with_or_without_its_bearer_prefix(given: str, header: str) -> None:
    assert submit.authorization(given) == header


@pytest.mark.parametrize("given", ["", "   ", "Bearer a b", "tökén"])
def test_an_empty_or_spaced_token_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="token"):
        submit.authorization(given)


@pytest.mark.parametrize(
    "token", ["argo-standin-token-0123456789", "Bearer argo-standin-token-0123456789"]
)
def test_the_server_accepts_the_token_either_way(fake: FakeArgo, token: str) -> None:
    assert client_for(fake, token=token).get_template(TEMPLATE).metadata.name == TEMPLATE
    assert fake.seen[-1].authorization == "Bearer ***"


# Phases.
@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (None, "Pending"),
        ({}, "Pending"),
        ({"phase": ""}, "Pending"),
        ({"phase": "Running"}, "Running"),
    ],
)
def test_a_missing_or_empty_phase_is_pending(status: dict[str, Any] | None, phase: str) -> None:
    body: dict[str, Any] = {"metadata": {"name": "w"}, "spec": {}}
    if status is not None:
        body["status"] = status
    assert run.phase_of(Workflow.model_validate(body)) == phase


def test_follow_waits_through_empty_phases_to_the_end(fake: FakeArgo) -> None:
    fake.empty_polls = 3
    clock = Clock()
    client = client_for(fake, clock=clock)
    name = client.submit(TEMPLATE, {"image": IMAGE}).metadata.name
    assert name is not None
    seen: list[run.Change] = []
    final, finished = run.follow(
        client,
        name,
        timeout=600,
        poll_interval=2,
        on_change=seen.append,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert finished
    assert run.phase_of(final) == "Succeeded"
    assert fake.run().polls > 3  # it went on polling past the empty statuses
    moved = [(c.step.display_name, c.step.phase) for c in seen if c.step.type == "Pod"]
    assert moved == [
        ("apply", "Running"),
        ("apply", "Succeeded"),
        ("wait-rollout", "Running"),
        ("wait-rollout", "Succeeded"),
        ("smoke", "Running"),
        ("smoke", "Succeeded"),
    ]
    skipped = {c.step.display_name: c.step.phase for c in seen if c.step.type == "Skipped"}
    assert skipped == {"rollback": "Skipped", "smoke-previous": "Skipped"}


def test_follow_rides_out_a_passing_5xx_and_reports_each_phase(fake: FakeArgo) -> None:
    clock = Clock()
    client = client_for(fake, clock=clock)
    name = client.submit(TEMPLATE, {"image": IMAGE}).metadata.name
    assert name is not None
    client.get_workflow(name)  # first poll: the run has started
    fake.outages = [502, 503]
    phases: list[str] = []
    final, finished = run.follow(
        client,
        name,
        timeout=600,
        poll_interval=1,
        on_change=lambda _: None,
        on_phase=phases.append,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert finished
    assert run.phase_of(final) == "Succeeded"
    assert phases == ["Running", "Succeeded"]
    assert fake.outages == []
    assert clock.sleeps[:2] == [0.5, 1.0]  # the retries' backoff before the first answer


class Outage:
    """The stand-in behind a 60-second outage on the fake clock: from `start`, every request
    is answered 503 or refused (in turn), as during an Argo Server restart behind an ingress."""

    def __init__(self, fake: FakeArgo, clock: Clock, *, start: float, seconds: float) -> None:
        self.fake, self.clock = fake, clock
        self.start, self.end = start, start + seconds
        self.failed = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.start <= self.clock.now < self.end:
            self.failed += 1
            if self.failed % 2:
                return httpx.Response(503, json={"code": 14, "message": "no healthy upstream"})
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.fake(request)


def follow_through(
    fake: FakeArgo, *, outage: float, timeout: float
) -> tuple[Workflow, bool, list[tuple[str, float]], Clock]:
    """Submits a run, then follows it while the server is down `outage` s from the 2nd poll."""
    clock = Clock()
    down = Outage(fake, clock, start=1.0, seconds=outage)
    http = submit.make_http_client(
        "https://argo.example:2746", fake.token, transport=httpx.MockTransport(down)
    )
    client = ArgoClient(http, NAMESPACE, sleep=clock.sleep)
    name = client.submit(TEMPLATE, {"image": IMAGE}).metadata.name
    assert name is not None
    said: list[tuple[str, float]] = []
    final, finished = run.follow(
        client,
        name,
        timeout=timeout,
        poll_interval=3,
        on_change=lambda _: None,
        on_outage=lambda error, seconds: said.append((type(error).__name__, seconds)),
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert down.failed > 10, "the outage was not hit"
    return final, finished, said, clock


def test_follow_rides_out_a_60_second_outage_of_5xx_and_refused_connections(
    fake: FakeArgo,
) -> None:
    final, finished, said, clock = follow_through(fake, outage=60, timeout=600)
    assert finished
    assert run.phase_of(final) == "Succeeded"
    assert clock.now > 61  # it waited the outage out rather than failing after 1.5 s
    (started, left), (ended, lasted) = said  # said once when it starts, once when it ends
    assert started in {"ServerError", "UnreachableError"}
    assert left == pytest.approx(600 - clock.sleeps[0] - 1.5, abs=3)
    assert ended == "NoneType"
    assert lasted == pytest.approx(60, abs=5)


def test_an_outage_past_the_deadline_fails_with_the_servers_error(fake: FakeArgo) -> None:
    with pytest.raises((ServerError, UnreachableError)):
        follow_through(fake, outage=600, timeout=60)


def test_follow_stops_at_the_timeout_and_says_so(fake: FakeArgo) -> None:
    fake.script = "hang"
    clock = Clock()
    client = client_for(fake, clock=clock)
    name = client.submit(TEMPLATE, {"image": IMAGE}).metadata.name
    assert name is not None
    final, finished = run.follow(
        client,
        name,
        timeout=30,
        poll_interval=4,
        on_change=lambda _: None,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert not finished
    assert run.phase_of(final) == "Running"
    assert clock.now == pytest.approx(30)
    assert max(clock.sleeps) <= 4


def test_a_failed_run_names_its_failed_step_and_the_exit_handler(fake: FakeArgo) -> None:
    fake.script = "fail-smoke"
    clock = Clock()
    client = client_for(fake, clock=clock)
    name = client.submit(TEMPLATE, {"image": IMAGE}).metadata.name
    assert name is not None
    final, finished = run.follow(
        client,
        name,
        timeout=600,
        poll_interval=1,
        on_change=lambda _: None,
        clock=clock.time,
        sleep=clock.sleep,
    )
    assert finished
    assert run.phase_of(final) == "Failed"
    failed = run.failed_step(final)
    assert failed is not None
    assert (failed.display_name, failed.message) == ("smoke", SMOKE_FAILURE)
    handler = run.exit_handler(final)
    assert handler is not None
    assert handler.phase == "Succeeded"
    under = [s.display_name for s in run.steps(final) if run.in_exit_handler(final, s)]
    assert under == [f"{name}.onExit", "rollback", "smoke-previous"]


def test_steps_leave_out_the_root_and_group_nodes_and_keep_start_order() -> None:
    nodes = {
        "w": {
            "id": "w",
            "name": "w",
            "displayName": "w",
            "type": "Steps",
            "startedAt": "2026-01-05T10:00:00Z",
        },
        "w-1": {
            "id": "w-1",
            "name": "w[0]",
            "displayName": "[0]",
            "type": "StepGroup",
            "startedAt": "2026-01-05T10:00:01Z",
        },
        "w-3": {
            "id": "w-3",
            "name": "w[1].b",
            "displayName": "b",
            "type": "Pod",
            "startedAt": "2026-01-05T10:00:09Z",
        },
        "w-2": {
            "id": "w-2",
            "name": "w[0].a",
            "displayName": "a",
            "type": "Pod",
            "startedAt": "2026-01-05T10:00:02Z",
        },
        "w-4": {"id": "w-4", "name": "w[2].c", "displayName": "c", "type": "Pod"},
    }
    workflow = Workflow.model_validate(
        {"metadata": {"name": "w"}, "spec": {}, "status": {"nodes": nodes}}
    )
    shown = [(s.display_name, s.phase) for s in run.steps(workflow)]
    assert shown == [("a", "Pending"), ("b", "Pending"), ("c", "Pending")]


# What the server is sent and what its refusals become.
def test_submit_sends_a_workflow_submit_request_with_the_image(fake: FakeArgo) -> None:
    workflow = client_for(fake).submit(TEMPLATE, {"image": IMAGE})
    run = fake.run()
    assert workflow.metadata.name == run.name
    assert run.parameters == {"image": IMAGE}
    assert fake.seen[-1].body == {
        "namespace": NAMESPACE,
        "resourceKind": "WorkflowTemplate",
        "resourceName": TEMPLATE,
        "submitOptions": {"parameters": [f"image={IMAGE}"]},
    }


def test_a_parameter_the_template_lacks_is_refused(fake: FakeArgo) -> None:
    with pytest.raises(BadRequestError, match="'imag' is not declared"):
        client_for(fake).submit(TEMPLATE, {"imag": IMAGE})


def test_a_missing_template_is_not_found(fake: FakeArgo) -> None:
    with pytest.raises(NotFoundError, match='"nope" not found') as raised:
        client_for(fake).get_template("nope")
    assert raised.value.status == 404
    assert "/api/v1/workflow-templates/churn/nope" in str(raised.value)


def test_a_wrong_token_is_unauthorized_and_never_shown(fake: FakeArgo) -> None:
    with pytest.raises(UnauthorizedError, match="token not valid") as raised:
        client_for(fake, token="wrong-token-123").get_template(TEMPLATE)
    assert "ARGO_TOKEN" in str(raised.value)
    assert "wrong-token-123" not in str(raised.value)


def test_a_forbidden_token_says_what_permission_is_missing(fake: FakeArgo) -> None:
    fake.forbidden_tokens.add("read-nothing")
    with pytest.raises(ForbiddenError, match="cannot get resource") as raised:
        client_for(fake, token="read-nothing").get_template(TEMPLATE)
    assert "get on workflowtemplates" in str(raised.value)


def test_reads_retry_5xx_with_a_bounded_backoff(fake: FakeArgo) -> None:
    clock = Clock()
    client = client_for(fake, clock=clock)
    fake.outages = [502, 503]
    assert client.get_template(TEMPLATE).metadata.name == TEMPLATE
    assert clock.sleeps == [0.5, 1.0]
    fake.outages = [502, 502, 502]
    with pytest.raises(ServerError, match="502"):
        client.get_template(TEMPLATE)


def test_submit_is_not_retried_after_a_5xx() -> None:
    calls: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, json={"code": 14, "message": "upstream reset"})

    http = submit.make_http_client("https://argo", "t", transport=httpx.MockTransport(server))
    with pytest.raises(ServerError, match="upstream reset"):
        ArgoClient(http, NAMESPACE, sleep=Clock().sleep).submit(TEMPLATE, {"image": IMAGE})
    assert calls == ["POST"]  # the workflow may exist: a second POST could start a second one


def test_a_refused_connection_is_retried_then_named() -> None:
    calls: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    http = submit.make_http_client("https://argo:2746", "t", transport=httpx.MockTransport(server))
    with pytest.raises(UnreachableError, match=r"Connection refused.*ARGO_SERVER"):
        ArgoClient(http, NAMESPACE, sleep=Clock().sleep).get_workflow("w")
    assert calls == ["GET"] * 3


# The stand-in refuses what the Argo Server refuses, so a wrong request cannot pass unseen.
def raw(fake: FakeArgo) -> httpx.Client:
    return httpx.Client(
        base_url="https://argo",
        headers={"Authorization": f"Bearer {fake.token}"},
        transport=httpx.MockTransport(fake),
    )


SUBMIT = f"/api/v1/workflows/{NAMESPACE}/submit"
GOOD = {
    "namespace": NAMESPACE,
    "resourceKind": "WorkflowTemplate",
    "resourceName": TEMPLATE,
    "submitOptions": {"parameters": [f"image={IMAGE}"]},
}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**GOOD, "resourceKind": "CronWorkflow"}, "resourceKind 'CronWorkflow'"),
        ({**GOOD, "parameters": ["image=x"]}, 'unknown field "parameters"'),
        ({**GOOD, "namespace": "other"}, "namespace 'other' in the body differs"),
        ({**GOOD, "submitOptions": {"parameters": ["image"]}}, "NAME=VALUE. Received: image"),
        ({**GOOD, "submitOptions": {}}, "spec.arguments.image.value is required"),
        ({k: v for k, v in GOOD.items() if k != "resourceName"}, "resourceName is required"),
        ([GOOD], "must be a JSON object"),
    ],
)
def test_the_standin_refuses_a_submit_body_argo_would_refuse(
    fake: FakeArgo, body: Any, message: str
) -> None:
    answer = raw(fake).post(SUBMIT, json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == 3
    assert message in answer.json()["message"]
    assert fake.runs == {}
    assert raw(fake).post(SUBMIT, json=GOOD).status_code == 200  # the good body passes
    # An unknown field or a list is outside the published API too: the contract saw it.
    outside = isinstance(body, list) or "parameters" in body
    assert len(fake.violations) == (1 if outside else 0), fake.violations
    fake.violations.clear()


def test_the_standin_refuses_wrong_paths_methods_and_missing_tokens(fake: FakeArgo) -> None:
    client = raw(fake)
    template = f"/api/v1/workflow-templates/{NAMESPACE}/{TEMPLATE}"
    assert client.get(template).status_code == 200
    assert client.put(template, json={}).status_code == 405
    assert client.get("/api/v2/workflows").json() == {"code": 5, "message": "Not Found"}
    bare = httpx.Client(base_url="https://argo", transport=httpx.MockTransport(fake))
    refused = bare.get(template)
    assert refused.status_code == 401
    assert refused.json()["code"] == 16
    assert [seen.authorization for seen in fake.seen][-1] == "none"
    assert fake.violations == ["GET /api/v2/workflows: no such route in the Argo Server API"]
    fake.violations.clear()


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "problem"),
    [
        ("GET", f"/api/v1/workflow-templates/{NAMESPACE}/{TEMPLATE}", {}, None, None),
        ("GET", f"/api/v1/workflows/{NAMESPACE}/w-1", {}, None, None),
        ("POST", f"/api/v1/workflows/{NAMESPACE}/submit", {}, GOOD, None),
        ("GET", "/api/v1/workflowtemplates/ns/t", {}, None, "no such route"),
        ("PATCH", f"/api/v1/workflows/{NAMESPACE}/w-1", {}, None, "takes ['DELETE', 'GET']"),
        ("GET", f"/api/v1/workflows/{NAMESPACE}/w-1", {"watch": "1"}, None, "query parameter"),
        ("POST", f"/api/v1/workflows/{NAMESPACE}/submit", {}, {**GOOD, "image": "x"}, "no field"),
        ("POST", f"/api/v1/workflows/{NAMESPACE}/submit", {}, [GOOD], "is not a Workflow"),
        ("GET", f"/api/v1/workflows/{NAMESPACE}/w-1", {}, {"a": 1}, "takes no body"),
    ],
)
def test_the_published_api_check_flags_what_the_real_server_would_not_take(
    method: str, path: str, query: dict[str, str], body: Any, problem: str | None
) -> None:
    """The Argo Server's operations as Hera's generated services declare them (from Argo's
    swagger): the stand-in records any request outside them (issue 18, item 13)."""
    found = argo_contract.violation(method, path, query, body)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


def test_the_published_api_has_the_calls_our_client_makes() -> None:
    names = {op.name: (op.method, op.template) for op in argo_contract.operations()}
    assert names["get_workflow_template"] == (
        "GET",
        "/api/v1/workflow-templates/{namespace}/{name}",
    )
    assert names["submit_workflow"] == ("POST", "/api/v1/workflows/{namespace}/submit")
    assert names["get_workflow"] == ("GET", "/api/v1/workflows/{namespace}/{name}")
