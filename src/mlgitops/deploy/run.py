"""A workflow run as `mlgitops deploy` shows it: its phase, its steps in order, the step that
failed, the exit handler, and following the run until it is done.

Argo writes a workflow's nodes as a map (id -> node); here they become `Step`s in the order they
started, groups left out, and `follow` reports each one that moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hera.workflows.models import NodeStatus, Workflow

from mlgitops.deploy.submit import ArgoClient
from mlgitops.errors import RemoteError, ServerError, UnreachableError

PENDING = "Pending"
DONE_PHASES = frozenset({"Succeeded", "Failed", "Error"})
# Nodes that only group others: "[0]" of a steps template, the task group of a DAG.
_GROUP_TYPES = frozenset({"StepGroup", "TaskGroup"})


def phase_of(workflow: Workflow) -> str:
    """The workflow's phase; a missing or empty one is Pending.

    Right after a submit the controller has not seen the workflow yet and its status is empty
    (argoproj-labs/hera#721): that is a run about to start, not an unknown state.
    """
    status = workflow.status
    return (status.phase if status is not None else None) or PENDING


@dataclass(frozen=True)
class Step:
    """One node of a workflow as the CLI shows it."""

    id: str
    name: str  # the full node name, e.g. "deploy-x7k2p.onExit.rollback"
    display_name: str
    type: str
    phase: str
    message: str
    template_name: str
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.phase in DONE_PHASES or self.phase in {"Skipped", "Omitted"}

    @property
    def failed(self) -> bool:
        return self.phase in {"Failed", "Error"}

    @property
    def broke(self) -> bool:
        """Failed itself, not a group of steps (Steps, DAG) that failed because of one."""
        return self.failed and self.type not in {"Steps", "DAG"}


def _time(value: Any) -> datetime | None:
    root = getattr(value, "root", value)
    return root if isinstance(root, datetime) else None


def _step(node: NodeStatus) -> Step:
    return Step(
        id=node.id,
        name=node.name,
        display_name=node.display_name or node.name,
        type=node.type,
        phase=node.phase or PENDING,
        message=node.message or "",
        template_name=node.template_name or "",
        started_at=_time(node.started_at),
        finished_at=_time(node.finished_at),
    )


def steps(workflow: Workflow) -> list[Step]:
    """The workflow's steps in the order they started: every node but the root and groups."""
    name = workflow.metadata.name
    nodes = (workflow.status.nodes if workflow.status is not None else None) or {}
    found = [
        _step(node)
        for node in nodes.values()
        if node.name != name and node.type not in _GROUP_TYPES
    ]
    return sorted(found, key=_start_order)


def _start_order(step: Step) -> tuple[bool, float, str]:
    started = step.started_at
    return (started is None, started.timestamp() if started else 0.0, step.name)


def exit_handler(workflow: Workflow) -> Step | None:
    """The exit handler's node (`<workflow>.onExit`), when it has started."""
    wanted = f"{workflow.metadata.name}.onExit"
    nodes = (workflow.status.nodes if workflow.status is not None else None) or {}
    for node in nodes.values():
        if node.name == wanted:
            return _step(node)
    return None


def in_exit_handler(workflow: Workflow, step: Step) -> bool:
    """Whether `step` runs under the exit handler (its name starts `<workflow>.onExit`)."""
    return step.name.startswith(f"{workflow.metadata.name}.onExit")


def failed_step(workflow: Workflow) -> Step | None:
    """The earliest-started step of the main run (not the exit handler) that failed itself,
    not a group that failed because of it."""
    failed = [
        step for step in steps(workflow) if step.broke and not in_exit_handler(workflow, step)
    ]
    failed.sort(key=lambda step: (step.finished_at is None, _start_order(step)))
    return failed[0] if failed else None


@dataclass(frozen=True)
class Change:
    """A step that appeared or moved since the last poll."""

    step: Step
    previous: str | None  # its phase before, None when new


def changes(before: Mapping[str, Step], workflow: Workflow) -> list[Change]:
    """The steps of `workflow` that are new or changed phase or message since `before`, in the
    order it happened (a step's finish time once done, else its start), so a step that
    finished prints before the group it closed."""
    found = []
    for step in steps(workflow):
        old = before.get(step.id)
        if old is None or (old.phase, old.message) != (step.phase, step.message):
            found.append(Change(step, None if old is None else old.phase))
    return sorted(found, key=lambda change: _event_order(change.step))


def _event_order(step: Step) -> tuple[bool, float, str]:
    when = (step.finished_at if step.done else None) or step.started_at
    return (when is None, when.timestamp() if when else 0.0, step.name)


def follow(
    client: ArgoClient,
    name: str,
    *,
    timeout: float,
    poll_interval: float,
    on_change: Callable[[Change], None],
    on_phase: Callable[[str], None] = lambda _: None,
    on_outage: Callable[[RemoteError | None, float], None] = lambda _error, _left: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Workflow, bool]:
    """Polls the workflow until it is done or `timeout` seconds pass, reporting each step that
    moves (`on_change`) and each new phase of the workflow (`on_phase`).

    The run goes on in the cluster while the Argo Server restarts or its ingress answers 5xx,
    so a 5xx or an unreachable server is waited out until the deadline: `on_outage(error,
    seconds left)` when it starts, `on_outage(None, seconds it lasted)` when the server answers
    again. Past the deadline the outage's last error is raised. Any other error (401, 404) is
    final at once. Returns the last workflow seen and whether it finished;
    a missing phase counts as pending.
    """
    deadline = clock() + timeout
    seen: dict[str, Step] = {}
    phase = ""
    workflow: Workflow | None = None
    outage_since: float | None = None
    while True:
        try:
            workflow = client.get_workflow(name)
        except (ServerError, UnreachableError) as error:
            if deadline - clock() <= 0:
                raise
            if outage_since is None:
                outage_since = clock()
                on_outage(error, deadline - clock())
        else:
            if outage_since is not None:
                on_outage(None, clock() - outage_since)
                outage_since = None
            if phase_of(workflow) != phase:
                phase = phase_of(workflow)
                on_phase(phase)
            for change in changes(seen, workflow):
                seen[change.step.id] = change.step
                on_change(change)
            if phase_of(workflow) in DONE_PHASES:
                return workflow, True
        left = deadline - clock()
        if left <= 0 and workflow is not None and outage_since is None:
            return workflow, False
        sleep(max(min(poll_interval, left), 0.0))
