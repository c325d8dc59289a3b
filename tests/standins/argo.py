"""A stand-in for the Argo Server HTTP API: the calls `mlgitops deploy` and `mlgitops pipeline`
make, checked.

Argo Workflows cannot run here, so this answers like its server does (grpc-gateway error bodies
`{"code": <gRPC code>, "message": ...}`, Workflow objects with `status.phase` and a
`status.nodes` map named as the controller names them, the exit handler as `<workflow>.onExit`)
and refuses what it would refuse: a wrong path or method, a missing or wrong
`Authorization: Bearer <token>` (401), a forbidden token (403), a submit body that does not fit
`WorkflowSubmitRequest` (400), a template it does not hold (404).

One deliberate difference: the real server passes an unknown submit parameter through to the
workflow, where a typo would be silently ignored; the stand-in refuses it (400), since our
client must only send parameters the stored template declares.

A workflow created with its spec inline (POST /api/v1/workflows/{namespace}) is played back
from that spec. Runs are played back from the stored template itself (its entrypoint's tasks
and its exit handler's, with their `when` conditions on `{{workflow.status}}`): `succeed`,
`fail-smoke` (the smoke task fails, the exit handler's rollback runs and succeeds, the workflow
ends Failed),
`fail-rollback` (the same, but the rollback's first step fails too) and `hang` (Running for
ever in the step that waits for the rollout). Each GET of a workflow moves it one frame on;
`empty_polls` keeps its status empty for the first polls, as when the controller has not
picked it up yet.
Use it in process through `httpx.MockTransport(fake)`, or as a real server with `fake.serve()`.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import pydantic
from hera.workflows.models import WorkflowSubmitRequest

from tests.standins._server import serving
from tests.standins.argo_contract import violation

Answer = tuple[int, dict[str, str], bytes]
Script = Literal["succeed", "fail-smoke", "fail-rollback", "hang"]

# gRPC status codes, as grpc-gateway puts them in the error body.
INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED = 3, 5, 7, 16
UNIMPLEMENTED = 12
SMOKE_FAILURE = "Error (exit code 1)"  # the message of a Pod node whose container exited 1
ROLLBACK_FAILURE = "Error (exit code 1)"
_TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
_SUBMIT_FIELDS = {"namespace", "resourceKind", "resourceName", "submitOptions"}
MADE: list[FakeArgo] = []  # every stand-in made, for the contract check in tests/conftest.py


@dataclass(frozen=True)
class Seen:
    """One request the stand-in answered (never the token itself)."""

    method: str
    path: str
    status: int
    authorization: str | None  # "Bearer ***", "none" or the scheme seen
    body: Any


@dataclass
class Run:
    """A submitted workflow and the frames of status it plays back, one per GET."""

    name: str
    namespace: str
    template: str
    parameters: dict[str, str]
    frames: list[dict[str, Any]]
    created: str
    polls: int = 0
    spec: dict[str, Any] | None = None  # a workflow created inline: its spec as received

    def status(self) -> dict[str, Any]:
        frame = self.frames[min(self.polls, len(self.frames) - 1)]
        self.polls += 1
        return copy.deepcopy(frame)


@dataclass
class FakeArgo:
    """The Argo Server for one token; `script` and `empty_polls` shape the next submitted run."""

    token: str = "argo-standin-token-0123456789"
    forbidden_tokens: set[str] = field(default_factory=set)
    script: Script = "succeed"
    empty_polls: int = 0
    templates: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    # Requests the published API would not take as sent (tests/standins/argo_contract.py);
    # tests/conftest.py fails the test that made one.
    violations: list[str] = field(default_factory=list)
    outages: list[int] = field(default_factory=list)  # statuses to answer next GETs with
    # The global output parameters a run that Succeeds ends with (name -> value), as the
    # controller gathers them from the tasks' `globalName` outputs.
    outputs: dict[str, str] = field(default_factory=dict)
    fail_task: str | None = None  # the task (display name) whose pod fails, for any template
    run_outages: list[int] = field(default_factory=list)  # the same, for GETs of a workflow only
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        MADE.append(self)

    def add_template(self, manifest: dict[str, Any], namespace: str) -> None:
        """Stores a WorkflowTemplate (a `to_dict()` of Hera's) as if applied to `namespace`."""
        stored = copy.deepcopy(manifest)
        metadata = stored.setdefault("metadata", {})
        metadata.update(
            namespace=namespace,
            uid="3f1c2b8e-0000-4000-8000-000000000001",
            resourceVersion="1001",
            creationTimestamp="2026-01-05T09:00:00Z",
        )
        self.templates[(namespace, metadata["name"])] = stored

    def run(self, namespace: str | None = None) -> Run:
        """The one run submitted (to `namespace` if given); fails the test if not exactly one."""
        runs = [r for r in self.runs.values() if namespace in (None, r.namespace)]
        assert len(runs) == 1, f"expected one submitted run, got {len(runs)}"
        return runs[0]

    # Serving.
    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The `httpx.MockTransport` handler."""
        status, headers, body = self.handle(
            request.method, str(request.url), dict(request.headers), request.content
        )
        return httpx.Response(status, headers=headers, content=body)

    @contextmanager
    def serve(self, *, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
        """Serves on 127.0.0.1 on a free port; yields its base URL (https with `tls`: cert, key)."""
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = fake.handle(
                    self.command, self.path, dict(self.headers), self.rfile.read(length)
                )
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `fake.seen` instead."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        with serving(server) as url:
            yield url.replace("http://", "https://") if tls is not None else url

    # The Argo Server.
    def handle(self, method: str, url: str, headers: dict[str, str], content: bytes) -> Answer:
        """One request, answered as the Argo Server would; recorded in `seen`."""
        parts = urlsplit(url)
        path = parts.path
        auth = {key.lower(): value for key, value in headers.items()}.get("authorization")
        problem = _contract(method, path, parts.query, content)
        with self._lock:
            if problem is not None:
                self.violations.append(problem)
            status, answer, body = self._route(method, path, auth, content)
            shown = "none" if auth is None else auth.split(" ")[0] + " ***"
            self.seen.append(Seen(method, path, status, shown, body))
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _route(
        self, method: str, path: str, auth: str | None, content: bytes
    ) -> tuple[int, dict[str, Any], Any]:
        body: Any = None
        routes = [
            ("GET", r"/api/v1/workflow-templates/(?P<ns>[^/]+)/(?P<name>[^/]+)", self._template),
            ("POST", r"/api/v1/workflows/(?P<ns>[^/]+)/submit", self._submit),
            ("POST", r"/api/v1/workflows/(?P<ns>[^/]+)", self._create),
            ("GET", r"/api/v1/workflows/(?P<ns>[^/]+)/(?P<name>[^/]+)", self._workflow),
            ("PUT", r"/api/v1/workflows/(?P<ns>[^/]+)/(?P<name>[^/]+)/terminate", self._terminate),
        ]
        matched = []
        for verb, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if found is not None:
                matched.append((verb, found, handler))
        chosen = [(found, handler) for verb, found, handler in matched if verb == method]
        if not chosen:
            if matched:
                return 405, _error(UNIMPLEMENTED, "Method Not Allowed"), body
            return 404, _error(NOT_FOUND, "Not Found"), body
        found, handler = chosen[0]
        refused = self._refuse(auth, found["ns"], path)
        if refused is not None:
            return refused[0], refused[1], body
        if method in ("POST", "PUT"):
            try:
                body = json.loads(content or b"null")
            except ValueError as error:
                return 400, _error(INVALID_ARGUMENT, f"invalid JSON: {error}"), None
        status, answer = handler(found, body)
        return status, answer, body

    def _refuse(self, auth: str | None, namespace: str, path: str) -> tuple[int, Any] | None:
        if auth is None or (auth != f"Bearer {self.token}" and not self._forbidden(auth)):
            message = "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"
            return 401, _error(UNAUTHENTICATED, message)
        if self._forbidden(auth):
            resource = "workflowtemplates" if "workflow-templates" in path else "workflows"
            verb = "create" if path.endswith("/submit") else "get"
            message = (
                f'{resource}.argoproj.io is forbidden: User "system:serviceaccount:{namespace}:'
                f'ci" cannot {verb} resource "{resource}" in API group "argoproj.io" in the '
                f'namespace "{namespace}"'
            )
            return 403, _error(PERMISSION_DENIED, message)
        if self.outages and not path.endswith("/submit"):
            return self.outages.pop(0), _error(14, "upstream connect error")
        if self.run_outages and path.startswith("/api/v1/workflows/") and "/submit" not in path:
            return self.run_outages.pop(0), _error(14, "upstream connect error")
        return None

    def _forbidden(self, auth: str) -> bool:
        return any(auth == f"Bearer {token}" for token in self.forbidden_tokens)

    def _template(self, found: re.Match[str], _body: Any) -> tuple[int, dict[str, Any]]:
        stored = self.templates.get((found["ns"], found["name"]))
        if stored is None:
            return 404, _not_found("workflowtemplates", found["name"])
        return 200, copy.deepcopy(stored)

    def _workflow(self, found: re.Match[str], _body: Any) -> tuple[int, dict[str, Any]]:
        run = self.runs.get((found["ns"], found["name"]))
        if run is None:
            return 404, _not_found("workflows", found["name"])
        return 200, self._object(run, run.status())

    def _submit(self, found: re.Match[str], body: Any) -> tuple[int, dict[str, Any]]:
        namespace = found["ns"]
        problem = _submit_problem(body, namespace)
        if problem is not None:
            return 400, _error(INVALID_ARGUMENT, problem)
        request = WorkflowSubmitRequest.model_validate(body)
        name = str(request.resource_name)
        stored = self.templates.get((namespace, name))
        if stored is None:
            return 404, _not_found("workflowtemplates", name)
        options = request.submit_options
        given = list(options.parameters or []) if options is not None else []
        parameters, problem = _parameters(given, stored)
        if problem is not None:
            return 400, _error(INVALID_ARGUMENT, problem)
        run_name = f"{name}-{next(self._names):05x}"[:63]
        frames: list[dict[str, Any]] = [{} for _ in range(self.empty_polls)]
        frames += _play(self.script, run_name, stored, self.fail_task)
        self._gather(frames)
        run = Run(run_name, namespace, name, parameters, frames, "2026-01-05T10:00:00Z")
        self.runs[(namespace, run_name)] = run
        return 200, self._object(run, {})  # the controller has not seen it yet

    def _create(self, found: re.Match[str], body: Any) -> tuple[int, dict[str, Any]]:
        """A workflow created with its spec inline: played back from that spec."""
        namespace = found["ns"]
        workflow = body.get("workflow") if isinstance(body, dict) else None
        spec = workflow.get("spec") if isinstance(workflow, dict) else None
        if not isinstance(spec, dict) or "entrypoint" not in spec:
            return 400, _error(INVALID_ARGUMENT, "workflow.spec.entrypoint is required")
        declared = spec.get("arguments", {}).get("parameters", [])
        missing = [p["name"] for p in declared if p.get("value") is None]
        if missing:
            return 400, _error(INVALID_ARGUMENT, f"spec.arguments.{missing[0]}.value is required")
        assert isinstance(workflow, dict)
        prefix = str(workflow.get("metadata", {}).get("generateName", "workflow-"))
        run_name = f"{prefix}{next(self._names):05x}"[:63]
        frames: list[dict[str, Any]] = [{} for _ in range(self.empty_polls)]
        frames += _play(self.script, run_name, {"spec": spec}, self.fail_task)
        self._gather(frames)
        parameters = {p["name"]: str(p["value"]) for p in declared}
        run = Run(run_name, namespace, "", parameters, frames, "2026-01-05T10:00:00Z")
        run.spec = copy.deepcopy(spec)
        self.runs[(namespace, run_name)] = run
        return 200, self._object(run, {})

    def _terminate(self, found: re.Match[str], _body: Any) -> tuple[int, dict[str, Any]]:
        """Stops a run: from the next GET on it is Failed, as the controller ends it."""
        run = self.runs.get((found["ns"], found["name"]))
        if run is None:
            return 404, _not_found("workflows", found["name"])
        last = copy.deepcopy(run.frames[min(run.polls, len(run.frames) - 1)])
        last.update(phase="Failed", message="Stopped with strategy 'Terminate'")
        run.frames = [*run.frames[: run.polls], last]
        return 200, self._object(run, copy.deepcopy(last))

    def _gather(self, frames: list[dict[str, Any]]) -> None:
        """The global outputs, on the last frame of a run that Succeeds."""
        if self.outputs and frames[-1].get("phase") == "Succeeded":
            gathered = [{"name": k, "value": v} for k, v in self.outputs.items()]
            frames[-1]["outputs"] = {"parameters": gathered}

    def _object(self, run: Run, status: dict[str, Any]) -> dict[str, Any]:
        labels = {_TEMPLATE_LABEL: run.template} if run.template else {}
        if status.get("phase"):
            labels["workflows.argoproj.io/phase"] = status["phase"]
        spec: dict[str, Any] = (
            copy.deepcopy(run.spec)
            if run.spec is not None
            else {
                "workflowTemplateRef": {"name": run.template},
                "arguments": {
                    "parameters": [{"name": k, "value": v} for k, v in run.parameters.items()]
                },
            }
        )
        return {
            "metadata": {
                "name": run.name,
                "generateName": run.name[:-5] if run.spec is not None else f"{run.template}-",
                "namespace": run.namespace,
                "uid": "7d0e9a51-0000-4000-8000-000000000002",
                "resourceVersion": str(2000 + run.polls),
                "creationTimestamp": run.created,
                "labels": labels,
            },
            "spec": spec,
            "status": status,
        }


def _contract(method: str, path: str, query: str, content: bytes) -> str | None:
    """What the published Argo Server API says against this request, if anything."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        return f"{method} {path}: the body is not JSON"
    return violation(method, path, dict(parse_qsl(query, keep_blank_values=True)), body)


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _not_found(resource: str, name: str) -> dict[str, Any]:
    return _error(NOT_FOUND, f'{resource}.argoproj.io "{name}" not found')


def _submit_problem(body: Any, namespace: str) -> str | None:
    """What the server would refuse in a submit body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (WorkflowSubmitRequest)"
    unknown = sorted(set(body) - _SUBMIT_FIELDS)
    if unknown:  # grpc-gateway's protojson refuses unknown fields
        return f'proto: unknown field "{unknown[0]}"'
    try:
        request = WorkflowSubmitRequest.model_validate(body)
    except pydantic.ValidationError as error:
        return f"invalid WorkflowSubmitRequest: {error.errors()[0]['msg']}"
    if request.namespace not in (None, namespace):
        return f"namespace {request.namespace!r} in the body differs from {namespace!r}"
    if request.resource_kind != "WorkflowTemplate":
        return f"resourceKind {request.resource_kind!r}: this server holds only WorkflowTemplates"
    if not request.resource_name:
        return "resourceName is required"
    options = body.get("submitOptions")
    if options is not None and not isinstance(options.get("parameters", []), list):
        return "submitOptions.parameters must be a list of NAME=VALUE strings"
    return None


def _parameters(given: list[str], stored: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    declared = {
        p["name"]: p for p in stored.get("spec", {}).get("arguments", {}).get("parameters", [])
    }
    values: dict[str, str] = {}
    for entry in given:
        key, sep, value = entry.partition("=")
        if not sep:
            return {}, f"expected parameter of the form: NAME=VALUE. Received: {entry}"
        if key not in declared:
            return {}, f"parameter {key!r} is not declared by the template ({sorted(declared)})"
        values[key] = value
    for key, parameter in declared.items():
        if key not in values and parameter.get("value") is None:
            return {}, f"spec.arguments.{key}.value is required"
        values.setdefault(key, str(parameter.get("value")))
    return values, None


# Playing a run back from the stored template.
@dataclass(frozen=True)
class _Task:
    name: str
    template: str
    when: str | None


def _groups(template: dict[str, Any]) -> tuple[str, list[list[_Task]]]:
    """A template's kind ("Steps", "DAG" or "Pod") and its tasks, grouped as they run."""
    if "steps" in template:
        return "Steps", [
            [_Task(s["name"], s.get("template", ""), s.get("when")) for s in group]
            for group in template["steps"]
        ]
    if "dag" in template:
        tasks = template["dag"]["tasks"]
        return "DAG", [[_Task(t["name"], t.get("template", ""), t.get("when"))] for t in tasks]
    return "Pod", []


def _runs_when(when: str | None, phase: str) -> bool:
    """Whether a task runs once the workflow's status is `phase`: only conditions on
    `{{workflow.status}}` are evaluated (others depend on outputs, which a playback has not)."""
    if when is None or "{{workflow.status}}" not in when:
        return True
    text = when.replace("{{workflow.status}}", phase)
    for op in ("!=", "=="):
        if op in text:
            left, right = (side.strip().strip("'\"") for side in text.split(op, 1))
            return (left != right) if op == "!=" else (left == right)
    return True


class _Timeline:
    """Nodes named as the controller names them, and a frame of status per event."""

    def __init__(self, workflow: str) -> None:
        self.workflow = workflow
        self.nodes: dict[str, dict[str, Any]] = {}
        self.frames: list[dict[str, Any]] = []
        self.clock = datetime(2026, 1, 5, 10, 0, 1, tzinfo=UTC)

    def node_id(self, name: str) -> str:
        """`<workflow>-<fnv32a(name)>`, as the controller makes node ids; the root is the name."""
        if name == self.workflow:
            return name
        digest = 0x811C9DC5
        for byte in name.encode():
            digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
        return f"{self.workflow}-{digest}"

    def _now(self) -> str:
        self.clock += timedelta(seconds=3)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def start(
        self,
        name: str,
        display: str,
        kind: str,
        template: str,
        parent: str | None,
        boundary: str | None,
    ) -> str:
        node_id = self.node_id(name)
        node: dict[str, Any] = {
            "id": node_id,
            "name": name,
            "displayName": display,
            "type": kind,
            "templateScope": f"local/{self.workflow}",
            "phase": "Running",
            "startedAt": self._now(),
            "finishedAt": None,
        }
        if template:
            node["templateName"] = template
        if boundary is not None:
            node["boundaryID"] = boundary
        if parent is not None:
            self.nodes[parent].setdefault("children", []).append(node_id)
        self.nodes[node_id] = node
        return node_id

    def finish(self, node_id: str, phase: str, message: str | None = None) -> None:
        node = self.nodes[node_id]
        node["phase"] = phase
        node["finishedAt"] = self._now()
        if message:
            node["message"] = message

    def frame(self, phase: str, message: str | None = None) -> None:
        pods = [n for n in self.nodes.values() if n["type"] == "Pod"]
        status: dict[str, Any] = {
            "phase": phase,
            "startedAt": "2026-01-05T10:00:01Z",
            "finishedAt": None,
            "progress": f"{sum(n['phase'] == 'Succeeded' for n in pods)}/{len(pods)}",
            "nodes": copy.deepcopy(self.nodes),
        }
        if phase in {"Succeeded", "Failed", "Error"}:
            status["finishedAt"] = self._now()
        if message:
            status["message"] = message
        self.frames.append(status)


class _Player:
    """Runs the stored template's nodes through a timeline as `script` says."""

    def __init__(
        self, script: Script, workflow: str, spec: dict[str, Any], fail_task: str | None = None
    ) -> None:
        self.script = script
        self.fail_task = fail_task
        self.spec = spec
        self.timeline = _Timeline(workflow)
        self.failed: str | None = None  # the id of the Pod node that failed
        self.hung = False

    def play(self) -> list[dict[str, Any]]:
        workflow, spec = self.timeline.workflow, self.spec
        phase = self.node(spec["entrypoint"], workflow, workflow, None, None, exiting=None)
        if self.hung or self.script == "hang":
            return self.timeline.frames  # Running for ever: the last frame repeats
        message = self.timeline.nodes[workflow].get("message")  # the root's, as Argo does
        self.timeline.frame("Running")
        if spec.get("onExit"):
            handler = f"{workflow}.onExit"
            self.node(spec["onExit"], handler, handler, None, None, exiting=phase)
        self.timeline.frame(phase, message)
        return self.timeline.frames

    def node(
        self,
        template_name: str,
        name: str,
        display: str,
        parent: str | None,
        boundary: str | None,
        *,
        exiting: str | None,
    ) -> str:
        """Plays one node (recursing into steps and DAGs); returns the phase it ended in.
        `exiting` is the workflow's phase while the exit handler runs, else None."""
        template = next(t for t in self.spec["templates"] if t["name"] == template_name)
        kind, groups = _groups(template)
        timeline = self.timeline
        node = timeline.start(name, display, kind, template_name, parent, boundary)
        timeline.frame("Running")
        if kind == "Pod":
            return self._pod(node, display, exiting=exiting)
        result, culprit = "Succeeded", ""
        for index, group in enumerate(groups):
            holder = node
            if kind == "Steps":
                holder = timeline.start(
                    f"{name}[{index}]", f"[{index}]", "StepGroup", "", node, node
                )
            for task in group:
                child = f"{name}[{index}].{task.name}" if kind == "Steps" else f"{name}.{task.name}"
                if exiting is not None and not _runs_when(task.when, exiting):
                    skipped = timeline.start(
                        child, task.name, "Skipped", task.template, holder, node
                    )
                    resolved = str(task.when).replace("{{workflow.status}}", exiting)
                    timeline.finish(skipped, "Skipped", f"when '{resolved}' evaluated false")
                    continue
                phase = self.node(task.template, child, task.name, holder, node, exiting=exiting)
                if self.hung:
                    return "Running"
                if phase != "Succeeded":
                    result, culprit = phase, timeline.node_id(child)
            if holder != node:
                timeline.finish(holder, result)
            if result != "Succeeded":
                break
        timeline.finish(node, result, f"child '{culprit}' failed" if culprit else None)
        return result

    def _pod(self, node: str, display: str, *, exiting: str | None) -> str:
        timeline = self.timeline
        main = exiting is None
        if main and self.script == "hang" and ("wait" in display or "rollout" in display):
            self.hung = True
            return "Running"
        failing = self.script in {"fail-smoke", "fail-rollback"}
        chosen = self.fail_task is not None and display == self.fail_task
        if main and ((failing and "smoke" in display) or chosen) and self.failed is None:
            timeline.finish(node, "Failed", SMOKE_FAILURE)
            self.failed = node
            timeline.frame("Running")
            return "Failed"
        if not main and self.script == "fail-rollback" and display.startswith("roll"):
            timeline.finish(node, "Failed", ROLLBACK_FAILURE)
            timeline.frame("Running")
            return "Failed"
        timeline.finish(node, "Succeeded")
        return "Succeeded"


def _play(
    script: Script, workflow: str, stored: dict[str, Any], fail_task: str | None = None
) -> list[dict[str, Any]]:
    """The frames of a run of `stored` under `script` (and `fail_task` failing)."""
    return _Player(script, workflow, stored["spec"], fail_task).play()
