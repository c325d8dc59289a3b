"""`mlgitops deploy`: submit the deploy WorkflowTemplate for an image and follow the run.

The only place the deploy plugin reads the environment: ARGO_SERVER (the server's URL, or
--server) and ARGO_TOKEN (the bearer token, with or without its `Bearer ` prefix).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from mlgitops.errors import CheckFailedError, RemoteError, UsageError
from mlgitops.plain_http import allow_plain_http_option
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.settings import DeploySettings, load_settings
from mlgitops.signals import sigterm_as_interrupt

if TYPE_CHECKING:
    from hera.workflows.models import Workflow

    from mlgitops.deploy.run import Change, Step

_PHASE_STYLES = {
    "Succeeded": "green",
    "Failed": "bold red",
    "Error": "bold red",
    "Running": "cyan",
    "Pending": "dim",
    "Skipped": "dim",
    "Omitted": "dim",
}
# An image reference as `docker` takes it: no spaces, no shell or YAML surprises.
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")

app = plugin_app(
    "Roll a service image out through the Argo deploy workflow: submit the WorkflowTemplate, "
    "follow its steps, exit 0 only when the rollout and smoke test succeeded. The token comes "
    "from ARGO_TOKEN (with or without 'Bearer ')."
)


# Each option once, so the signature below reads one line per option.
_SERVER_HELP = "The Argo Server's URL, or HOST:PORT for https (env ARGO_SERVER)."
_IMAGE_OPTION = typer.Option(help="The image to roll out, e.g. ghcr.io/org/svc:<sha>.")
_NAMESPACE_OPTION = typer.Option(help="Where the template lives (default: deploy.namespace).")
_SERVER_OPTION = typer.Option(envvar="ARGO_SERVER", help=_SERVER_HELP)
_WAIT_OPTION = typer.Option("--wait/--no-wait", help="Follow the run to its end.")
_TIMEOUT_OPTION = typer.Option(min=0, help="Seconds to follow the run (default: its own limits).")
_POLL_OPTION = typer.Option(min=0.01, help="Seconds between status polls.")
_DRY_RUN_OPTION = typer.Option("--dry-run", help="Print what a deploy applies; contact nothing.")
_INSECURE_OPTION = typer.Option(
    "--insecure-skip-tls-verify", help="Do not verify the server's TLS certificate."
)
_IDENTITY_OPTION = typer.Option(
    help="Verify the image's cosign signature (keyless) for this certificate identity, e.g. "
    "https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main, before "
    "submitting; the image must be pinned by digest.",
)
_ISSUER_OPTION = typer.Option(help="The OIDC issuer of --cosign-identity's certificate.")
_PLAIN_HTTP_OPTION = allow_plain_http_option()
_OUTCOME_OPTION = typer.Option(
    help="Write the run's outcome here as JSON (phase, failed_step, message, rolled_back): "
    "release.yml turns it into the GitHub deployment's status."
)


@app.callback(invoke_without_command=True)
def deploy(
    image: Annotated[str, _IMAGE_OPTION],
    namespace: Annotated[str | None, _NAMESPACE_OPTION] = None,
    server: Annotated[str | None, _SERVER_OPTION] = None,
    wait: Annotated[bool, _WAIT_OPTION] = True,
    timeout: Annotated[float | None, _TIMEOUT_OPTION] = None,
    poll_interval: Annotated[float, _POLL_OPTION] = 3.0,
    dry_run: Annotated[bool, _DRY_RUN_OPTION] = False,
    params: Annotated[Path, params_option("deploy")] = PARAMS,
    insecure_skip_tls_verify: Annotated[bool, _INSECURE_OPTION] = False,
    allow_plain_http: Annotated[bool, _PLAIN_HTTP_OPTION] = False,
    cosign_identity: Annotated[str | None, _IDENTITY_OPTION] = None,
    cosign_issuer: Annotated[str, _ISSUER_OPTION] = "https://token.actions.githubusercontent.com",
    outcome: Annotated[Path | None, _OUTCOME_OPTION] = None,
) -> None:
    """Submit the deploy workflow for --image and follow it; exit 0 only when it succeeded."""
    # Imported here: Hera's models take most of a second to import, and only deploy needs them.
    from mlgitops.deploy import render, workflow
    from mlgitops.deploy.run import follow, phase_of
    from mlgitops.deploy.submit import ArgoClient, make_http_client
    from mlgitops.deploy.template_check import check_template, stale

    try:  # parsed once, here; everything below takes the parsed settings
        deploy_settings = load_settings(DeploySettings, params, "deploy")
    except UsageError as error:  # every deploy message starts "deploy:"
        raise UsageError(f"deploy: {error}") from None
    if not _IMAGE.fullmatch(image):
        raise UsageError(f"deploy: --image {image!r} is not an image reference (REGISTRY/NAME:TAG)")
    render.model_version(image)  # the tag becomes the model version label: refuse a bad one here
    if dry_run:
        typer.echo(render.dry_run(deploy_settings, image), nl=False)
        return
    template = workflow.TEMPLATE_NAME
    # Argo stops the run after workflow_timeout_seconds; its exit handler may then still wait
    # for the rollback's rollout, so waiting that long sees the run end.
    if timeout is None:
        timeout = float(
            deploy_settings.workflow_timeout_seconds + deploy_settings.rollout_timeout_seconds
        )
    where = namespace or deploy_settings.namespace
    if not server:
        raise UsageError("deploy: no Argo Server; set ARGO_SERVER or pass --server https://...")
    if "://" not in server:  # host:port, as the argo CLI takes ARGO_SERVER: TLS by default
        server = f"https://{server}"
    if not server.startswith(("https://", "http://")):
        raise UsageError(f"deploy: --server {server!r} must be https://HOST[:PORT] (or http://)")
    # Whole lines in CI logs (no wrapping at 80 columns); names are never read as markup.
    console = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
    if cosign_identity is not None:  # before anything reaches the cluster
        from mlgitops.deploy.signature import verify

        verify(image, identity=cosign_identity, issuer=cosign_issuer)
        console.print(f"deploy: the signature of {image} is {cosign_identity}'s (cosign verify)")
    try:
        http = make_http_client(
            server,
            _token(),
            verify=not insecure_skip_tls_verify,
            allow_plain_http=allow_plain_http,
        )
    except UsageError as error:  # a token over plain http:// to another host
        raise UsageError(f"deploy: {error}") from None
    except ValueError as error:  # the message says what is wrong, never the token
        raise UsageError(f"deploy: ARGO_TOKEN is malformed: {error}") from None
    with http:
        client = ArgoClient(http, where)
        stored = check_template(client, template)
        difference = stale(stored, workflow.template(deploy_settings).to_dict())
        if difference is not None:
            console.print(
                f"deploy: warning: the {template} in {where} differs from what this commit "
                f"renders ({difference}); re-apply deploy/workflow-template.yaml",
                style="yellow",
            )
        submitted = client.submit(template, {workflow.IMAGE: image})
        name = str(submitted.metadata.name)
        look = f"argo get -n {where} {name}, or {client.link(name)}"
        console.print(f"deploy: submitted {name} ({template} in {where}) for {image}")
        if not wait:
            console.print(f"deploy: not waiting; follow it with: {look}")
            return
        try:
            with sigterm_as_interrupt():  # a cancelled CI job: SIGINT, then SIGTERM
                final, finished = follow(
                    client,
                    name,
                    timeout=timeout,
                    poll_interval=poll_interval,
                    on_change=lambda change: console.print(_line(change, name)),
                    on_phase=lambda phase: _say_phase(console, name, phase),
                    on_outage=lambda error, seconds: _say_outage(console, name, error, seconds),
                )
        except RemoteError as error:
            raise RemoteError(f"{error}; the run {name} may still be going: {look}") from None
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (a cancelled CI job, `kill`)
            raise CheckFailedError(
                f"deploy: interrupted; the run {name} goes on without us: {look}"
            ) from None
    if outcome is not None:
        _write_outcome(outcome, final, finished=finished)
    if not finished:
        raise CheckFailedError(
            f"deploy: {name} is still {phase_of(final)} after {timeout:g} s (--timeout); it is "
            f"left running. Look at it with {look}"
        )
    _verdict(final, name, look, console)


def _token() -> str | None:
    """ARGO_TOKEN; unset or blank sends no token (a server in `--auth-mode=server` needs none)."""
    return os.environ.get("ARGO_TOKEN", "").strip() or None


def _say_phase(console: Console, name: str, phase: str) -> None:
    """The run's phase while it is not done (the verdict says the last one)."""
    if phase == "Pending":
        console.print(f"deploy: {name} is Pending (waiting for the workflow controller)")
    elif phase == "Running":
        console.print(f"deploy: {name} is Running")


def _say_outage(console: Console, name: str, error: RemoteError | None, seconds: float) -> None:
    """An Argo Server outage while following: the run goes on, so we wait (run.follow)."""
    if error is None:
        console.print(f"deploy: the Argo Server answers again after {seconds:.0f} s")
        return
    from mlgitops.errors import ResponseError

    why = (
        f"{error.status} to {error.method} {error.url}: {error.server_message}"
        if isinstance(error, ResponseError)
        else str(error).split("; ")[0]  # the reason, not the advice to check ARGO_SERVER
    )
    console.print(
        f"deploy: the Argo Server is not answering ({why}); {name} goes on in the cluster, "
        f"waiting for the server up to {seconds:.0f} s more (--timeout)",
        style="yellow",
    )


def _label(step: Step, workflow_name: str) -> str:
    if step.name == f"{workflow_name}.onExit":
        return "exit handler"
    if step.name.startswith(f"{workflow_name}.onExit"):
        return f"exit handler > {step.display_name}"
    return step.display_name


def _line(change: Change, workflow_name: str) -> Text:
    """One line per step that moved: name, phase, and its message when it has one."""
    step = change.step
    line = Text("  ")
    line.append(f"{_label(step, workflow_name):<32}")
    line.append(f" {step.phase}", style=_PHASE_STYLES.get(step.phase, ""))
    if step.message:
        line.append(" " * (10 - len(step.phase)) + step.message)
    return line


def _write_outcome(path: Path, final: Workflow, *, finished: bool) -> None:
    """The run's end as data, for the GitHub deployment status (mlgitops.history.outcome)."""
    import json

    from mlgitops.deploy.run import exit_handler, failed_step, in_exit_handler, phase_of, steps

    failed = failed_step(final)
    handler = exit_handler(final)
    under = [] if handler is None else [s for s in steps(final) if in_exit_handler(final, s)]
    rolled_back = (
        handler is not None
        and handler.phase == "Succeeded"
        and not any(s.broke for s in under)
        and failed is not None
    )
    message = (failed.message if failed else "") or ("" if finished else "still running")
    data = {"phase": phase_of(final), "failed_step": failed.display_name if failed else None,
            "message": message, "rolled_back": rolled_back}  # fmt: skip
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")


def _verdict(final: Workflow, name: str, look: str, console: Console) -> None:
    """Exit 0 on Succeeded; else CheckFailedError naming the failed step and the rollback."""
    from mlgitops.deploy.run import failed_step, phase_of

    phase = phase_of(final)
    if phase == "Succeeded":
        console.print(f"deploy: {name} Succeeded; the new image is serving", style="green")
        return
    failed = failed_step(final)
    status_message = (final.status.message if final.status is not None else None) or ""
    if failed is not None:
        what = f"step {failed.display_name!r} {failed.phase}: {failed.message or 'no message'}"
    else:
        what = status_message or "no step reported a failure"
    raise CheckFailedError(
        f"deploy: {name} {phase}: {what}. {_rollback(final)} Look at it with {look}"
    )


def _rollback(final: Workflow) -> str:
    """What the exit handler (the rollback) did, in one sentence."""
    from mlgitops.deploy.run import exit_handler, in_exit_handler, steps

    handler = exit_handler(final)
    if handler is None:
        return "The exit handler (rollback) did not run."
    under = [s for s in steps(final) if in_exit_handler(final, s) and s.name != handler.name]
    ran = ", ".join(f"{s.display_name} {s.phase}" for s in under) or "no steps"
    failed = [s for s in under if s.broke]
    if failed:
        broken = failed[0]
        return (
            f"The exit handler ran ({ran}) and {handler.phase}: {broken.display_name} "
            f"{broken.phase}: {broken.message or 'no message'}; the rollback may not have "
            "completed, check what the service runs now."
        )
    if handler.phase == "Succeeded":
        return f"The exit handler ran and Succeeded ({ran}): the rollback finished."
    return f"The exit handler ran ({ran}) and is {handler.phase}."
