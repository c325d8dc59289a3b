"""Whether the WorkflowTemplate on the Argo Server is the one this commit renders.

`mlgitops deploy` refuses a missing template, or one without the image parameter (stale: it
would ignore the image), and warns where the stored spec first differs from the rendered one.
"""

from __future__ import annotations

from typing import Any

from hera.workflows.models import WorkflowTemplate

from mlgitops.deploy.submit import ArgoClient
from mlgitops.errors import RemoteError


def check_template(client: ArgoClient, name: str) -> WorkflowTemplate:
    """The template on the server; a missing one, or one without the image parameter, is named."""
    from mlgitops.deploy.workflow import IMAGE
    from mlgitops.errors import NotFoundError

    try:
        stored = client.get_template(name)
    except NotFoundError:
        raise RemoteError(
            f"deploy: WorkflowTemplate {name!r} not found in namespace {client.namespace!r}; "
            "apply it first (kubectl apply -f deploy/) or pass the right --namespace"
        ) from None
    arguments = stored.spec.arguments
    declared = {p.name for p in (arguments.parameters or [])} if arguments is not None else set()
    if IMAGE not in declared:
        raise RemoteError(
            f"deploy: WorkflowTemplate {name!r} in {client.namespace!r} has no parameter "
            f"{IMAGE!r} (it has {sorted(declared) or 'none'}); it is stale: re-apply "
            "deploy/"
        )
    return stored


def stale(stored: WorkflowTemplate, rendered: dict[str, Any]) -> str | None:
    """Where the server's template spec first differs from the rendered one, or None.

    Both go through Hera's model, so only content counts, not defaults or key order.
    """
    from hera.workflows.models import WorkflowTemplate

    ours = WorkflowTemplate.model_validate(rendered).spec
    theirs, wanted = (
        spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        for spec in (stored.spec, ours)
    )
    return _first_difference(theirs, wanted, "spec")


def _first_difference(theirs: Any, wanted: Any, path: str) -> str | None:
    if isinstance(theirs, dict) and isinstance(wanted, dict):
        for key in sorted(set(theirs) | set(wanted)):
            found = _first_difference(theirs.get(key), wanted.get(key), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(theirs, list) and isinstance(wanted, list) and len(theirs) == len(wanted):
        for index, (one, other) in enumerate(zip(theirs, wanted, strict=True)):
            named = one.get("name") if isinstance(one, dict) else None
            found = _first_difference(one, other, f"{path}[{named or index}]")
            if found is not None:
                return found
        return None
    return None if theirs == wanted else path
