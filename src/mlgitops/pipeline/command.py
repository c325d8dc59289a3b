"""`mlgitops pipeline`: reproduce the DVC pipeline on the cluster and bring its dvc.lock back.

Creates, through the Argo Server, a workflow running the DAG this checkout renders (the one in
deploy/pipeline.yaml, so a pull request that adds or removes a stage runs its own pipeline),
or with --from-template submits the WorkflowTemplate applied in the cluster; follows its
stages, and writes the dvc.lock its final task hands back. The pods
pushed every stage's outputs and run-cache, so the PR job's own `dvc repro --pull` afterwards
restores each stage instead of running it, and the report, gate and comment go on unchanged.
With params.yaml `pipeline.run_on: runner`, or no `pipeline` section (and no --run-on), it
does nothing: the job reproduces by itself. The environment is read here only: ARGO_SERVER
and ARGO_TOKEN.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

from mlgitops.errors import CheckFailedError, RemoteError, UsageError
from mlgitops.extras import require
from mlgitops.params import read_params
from mlgitops.plain_http import allow_plain_http_option
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.settings import load_settings
from mlgitops.settings.pipeline import PipelineSettings
from mlgitops.signals import sigterm_as_interrupt

if TYPE_CHECKING:
    from hera.workflows.models import Workflow

    from mlgitops.deploy.run import Change
    from mlgitops.deploy.submit import ArgoClient

app = plugin_app(
    "Reproduce the DVC pipeline on the cluster: submit the pipeline WorkflowTemplate "
    "(deploy/pipeline.yaml) for a commit, follow its stages, write the dvc.lock it hands "
    "back. Does nothing when params.yaml pipeline.run_on is runner. Token from ARGO_TOKEN."
)

_COMMIT = typer.Option(help="The commit the pods check out and reproduce.")
_REPO = typer.Option(help="The git URL the pods clone, e.g. https://github.com/ORG/REPO.git.")
_IMAGE = typer.Option(help="The image the pods run: built from this repository.")
_LOCK = typer.Option(help="Where to write the dvc.lock the run hands back.")
_RUN_ON = typer.Option(help="Override params.yaml pipeline.run_on (a PR label, say).")
_SERVER = typer.Option(envvar="ARGO_SERVER", help="The Argo Server's URL (env ARGO_SERVER).")
_TIMEOUT = typer.Option(min=0, help="Seconds to wait (default: pipeline.timeout_seconds).")
_POLL = typer.Option(min=0.01, help="Seconds between polls (default: pipeline.poll_seconds).")
_FROM_TEMPLATE = typer.Option(
    "--from-template",
    help="Submit the WorkflowTemplate applied in the cluster instead of the DAG this checkout "
    "renders (a cluster that runs templates only; re-apply it whenever the stages change).",
)
_DRY_RUN = typer.Option(
    "--dry-run",
    help="Print the workflow a cluster run creates (whatever run_on says); contact nothing.",
)
_INSECURE = typer.Option(
    "--insecure-skip-tls-verify", help="Do not verify the server's TLS certificate."
)


@app.callback(invoke_without_command=True)
def pipeline(
    commit: Annotated[str, _COMMIT],
    repo: Annotated[str, _REPO],
    image: Annotated[str, _IMAGE],
    lock: Annotated[Path, _LOCK] = Path("dvc.lock"),
    run_on: Annotated[Literal["runner", "cluster"] | None, _RUN_ON] = None,
    server: Annotated[str | None, _SERVER] = None,
    timeout: Annotated[float | None, _TIMEOUT] = None,
    poll_interval: Annotated[float | None, _POLL] = None,
    params: Annotated[Path, params_option("pipeline")] = PARAMS,
    from_template: Annotated[bool, _FROM_TEMPLATE] = False,
    dry_run: Annotated[bool, _DRY_RUN] = False,
    insecure_skip_tls_verify: Annotated[bool, _INSECURE] = False,
    allow_plain_http: Annotated[bool, allow_plain_http_option()] = False,
) -> None:
    """Reproduce --commit on the cluster and write its dvc.lock to --lock."""
    console = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
    # A repository that never set the pipeline up (the reusable PR workflow asks every caller)
    # reproduces on the runner; asked for the cluster, it is told what is missing below.
    if run_on is None and not dry_run and not _has_section(params):
        console.print(f"pipeline: {params} has no pipeline section: this job reproduces it")
        return
    try:
        settings = load_settings(PipelineSettings, params, "pipeline")
    except UsageError as error:
        raise UsageError(f"pipeline: {error}") from None
    if (run_on or settings.run_on) == "runner" and not dry_run:
        console.print("pipeline: pipeline.run_on is runner: this job reproduces the pipeline")
        return
    given = {"repo": repo, "commit": commit, "image": image}
    empty = [f"--{name}" for name, value in given.items() if not value.strip()]
    if empty:
        raise UsageError(f"pipeline: {', '.join(empty)} is empty (in CI: the repository "
                         "variables or reusable workflow inputs the PR job passes)")  # fmt: skip
    if not server and not dry_run:
        raise UsageError("pipeline: no Argo Server; set ARGO_SERVER (the reusable workflow's "
                         "argo-server input) or pass --server https://...")  # fmt: skip
    # The runner case above needs no Hera: the reusable PR workflow installs the deploy extra
    # only for callers that name an Argo Server, yet always asks this command.
    require("pipeline", "deploy")
    from mlgitops.pipeline.render import workflow  # Hera and DVC: only for a cluster run

    inline = None if from_template else workflow(params, given)
    if dry_run:
        import yaml

        typer.echo(yaml.safe_dump(inline or workflow(params, given), sort_keys=False), nl=False)
        return
    assert server is not None  # refused above
    server = server if "://" in server else f"https://{server}"
    _submit_and_wait(
        settings,
        given,
        inline,
        server=server,
        lock=lock,
        timeout=float(settings.timeout_seconds) if timeout is None else timeout,
        poll=float(settings.poll_seconds) if poll_interval is None else poll_interval,
        verify=not insecure_skip_tls_verify,
        allow_plain_http=allow_plain_http,
        console=console,
    )


def _submit_and_wait(
    settings: PipelineSettings,
    parameters: dict[str, str],
    inline: dict[str, Any] | None,
    *,
    server: str,
    lock: Path,
    timeout: float,
    poll: float,
    verify: bool,
    allow_plain_http: bool,
    console: Console,
) -> None:
    # Imported here: Hera's models take most of a second, and only a cluster run needs them.
    from mlgitops.deploy.run import follow
    from mlgitops.deploy.submit import ArgoClient, make_http_client
    from mlgitops.pipeline.template import FINAL, TEMPLATE_NAME

    token = os.environ.get("ARGO_TOKEN", "").strip() or None
    try:
        http = make_http_client(server, token, verify=verify, allow_plain_http=allow_plain_http)
    except (UsageError, ValueError) as error:  # the message never holds the token
        raise UsageError(f"pipeline: {error}") from None
    with http:
        client = ArgoClient(http, settings.namespace)
        if inline is None:
            _check_template(client)
        name: str | None = None
        try:
            with sigterm_as_interrupt():  # a cancelled CI job: SIGINT, then SIGTERM
                created = (
                    client.create(inline)
                    if inline is not None
                    else client.submit(TEMPLATE_NAME, parameters)
                )
                name = str(created.metadata.name)
                console.print(f"pipeline: submitted {name} for {parameters['commit']}")
                final, finished = follow(
                    client,
                    name,
                    timeout=timeout,
                    poll_interval=poll,
                    on_change=lambda change: console.print(_line(change)),
                )
        except KeyboardInterrupt:
            # A superseded PR job is cancelled: its run would hold the cluster for nothing.
            if name is None:
                raise CheckFailedError(
                    f"pipeline: interrupted while submitting; a run may have started: argo "
                    f"list -n {settings.namespace}"
                ) from None
            client.terminate(name)
            raise CheckFailedError(
                f"pipeline: interrupted; terminated {name}: {_look(client, name)}"
            ) from None
    assert name is not None  # set before following
    look = _look(client, name)
    if not finished:
        raise CheckFailedError(
            f"pipeline: {name} is still running after {timeout:g} s (--timeout); it is left "
            f"running: {look}"
        )
    _check(final, name, look)
    text = _lock_of(final)
    if text is None:
        raise RemoteError(f"pipeline: {name} Succeeded but handed back no {FINAL}: {look}")
    lock.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    console.print(f"pipeline: {name} Succeeded; wrote {lock}")


def _has_section(params: Path) -> bool:
    """True when the params file exists and has a `pipeline` section (an unreadable file
    counts as having one: load_settings then says what is wrong with it)."""
    if not params.is_file():
        return False
    try:
        return "pipeline" in read_params(params)
    except UsageError:
        return True


def _check_template(client: ArgoClient) -> None:
    """The applied WorkflowTemplate is there (--from-template), or what to do is said."""
    from mlgitops.errors import NotFoundError
    from mlgitops.pipeline.template import TEMPLATE_NAME

    try:
        client.get_template(TEMPLATE_NAME)
    except NotFoundError:
        raise RemoteError(
            f"pipeline: WorkflowTemplate {TEMPLATE_NAME!r} not found in namespace "
            f"{client.namespace!r}; apply it first (kubectl apply -f deploy/pipeline.yaml)"
        ) from None


def _look(client: ArgoClient, name: str) -> str:
    return f"argo get -n {client.namespace} {name}, or {client.link(name)}"


def _line(change: Change) -> str:
    step = change.step
    message = f"  {step.message}" if step.message else ""
    return f"  {step.display_name:<32} {step.phase}{message}"


def _check(final: Workflow, name: str, look: str) -> None:
    """CheckFailedError naming the stage that failed, unless the run Succeeded."""
    from mlgitops.deploy.run import failed_step, phase_of

    phase = phase_of(final)
    if phase == "Succeeded":
        return
    failed = failed_step(final)
    where = f" in {failed.display_name} ({failed.message})" if failed is not None else ""
    raise CheckFailedError(f"pipeline: {name} {phase}{where}; its logs: {look}")


def _lock_of(final: Workflow) -> str | None:
    """The dvc.lock the final task handed back, as the run's global output parameter."""
    from mlgitops.pipeline.template import FINAL

    outputs = final.status.outputs if final.status is not None else None
    for parameter in (outputs.parameters or []) if outputs is not None else []:
        if parameter.name == FINAL and parameter.value is not None:
            return str(parameter.value)
    return None
