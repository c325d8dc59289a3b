"""`mlgitops deploy` as the release job runs it: a subprocess, ARGO_SERVER at the Argo stand-in.

The stand-in (tests/standins/argo.py) is a real HTTP server on a free port holding the
WorkflowTemplate our code renders (`workflow.template(settings)` from the repository's
params.yaml), and it plays back runs of that template: success, a smoke failure with the exit
handler's rollback, a run that hangs. The success, failure and timeout paths run the installed
`mlgitops` in a subprocess; the error paths call `cli.main()` in process (same code, same exit
codes, a second each less), with the environment set the same way.
"""

from __future__ import annotations

import copy
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops import cli
from mlgitops.deploy import render, workflow
from mlgitops.settings import DeploySettings, parse_settings
from tests.checkout import Result
from tests.processes import finish, wait_until, with_default_signals
from tests.standins.argo import ROLLBACK_FAILURE, SMOKE_FAILURE, FakeArgo
from tests.standins.cosign import IDENTITY, SIGNED, UNSIGNED, install_cosign

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "params.yaml"
NAMESPACE = "churn-prod"
IMAGE = "ghcr.io/octo/churn-service:3f2a9c1"
VENV_BIN = Path(sys.executable).parent


def mlgitops_deploy(*args: str, server: str | None, token: str | None, home: Path) -> Result:
    """Runs `mlgitops deploy --image IMAGE ...` with only the environment CI would give it."""
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if server is not None:
        env["ARGO_SERVER"] = server
    if token is not None:
        env["ARGO_TOKEN"] = token
    argv = [str(VENV_BIN / "mlgitops"), "deploy", "--image", IMAGE, "--params", str(PARAMS)]
    done = subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return Result(("mlgitops", "deploy"), done.returncode, done.stdout, done.stderr)


def in_process(
    *args: str,
    server: str | None,
    token: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Result:
    """`cli.main()` with the argv and environment `mlgitops_deploy` would give the subprocess."""
    monkeypatch.setenv("COLUMNS", "200")
    for key, value in (("ARGO_SERVER", server), ("ARGO_TOKEN", token)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    argv = ["mlgitops", "deploy", "--image", IMAGE, "--params", str(PARAMS), *args]
    monkeypatch.setattr(sys, "argv", argv)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    code = exited.value.code
    return Result(
        ("mlgitops", "deploy"), code if isinstance(code, int) else 1, captured.out, captured.err
    )


@pytest.fixture(scope="module")
def settings() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def stored(settings: dict[str, Any]) -> dict[str, Any]:
    """The WorkflowTemplate as our code renders it, as the cluster would hold it."""
    deploy = parse_settings(DeploySettings, settings, section="deploy")
    manifest: dict[str, Any] = workflow.template(deploy).to_dict()
    return manifest


def task_names(stored: dict[str, Any], template: str) -> list[str]:
    """The tasks (or steps) of one template of the stored WorkflowTemplate, in order."""
    found = next(t for t in stored["spec"]["templates"] if t["name"] == template)
    if "dag" in found:
        return [task["name"] for task in found["dag"]["tasks"]]
    return [step["name"] for group in found["steps"] for step in group]


def exit_steps(stored: dict[str, Any]) -> list[str]:
    """The exit handler's steps and, one level down, the steps of the templates they call."""
    templates = {t["name"]: t for t in stored["spec"]["templates"]}
    found = templates[stored["spec"]["onExit"]]
    names = []
    for step in (s for group in found["steps"] for s in group):
        names.append(step["name"])
        if "steps" in templates[step["template"]]:
            names += task_names(stored, step["template"])
    return names


@dataclass
class Setup:
    fake: FakeArgo
    url: str
    home: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def deploy(
        self, *args: str, token: str | None = "", server: str | None = None, process: bool = False
    ) -> Result:
        """`mlgitops deploy` at the stand-in in NAMESPACE, polling fast, with the fake's token;
        in a subprocess when `process`, else through `cli.main()`."""
        argv = ("--namespace", NAMESPACE, "--poll-interval", "0.01", *args)
        server = self.url if server is None else server
        token = self.fake.token if token == "" else token
        if process:
            return mlgitops_deploy(*argv, server=server, token=token, home=self.home)
        return in_process(
            *argv, server=server, token=token, monkeypatch=self.monkeypatch, capsys=self.capsys
        )


@pytest.fixture
def argo(
    tmp_path: Path,
    stored: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Setup]:
    fake = FakeArgo()
    fake.add_template(stored, NAMESPACE)
    with fake.serve() as url:
        yield Setup(fake, url, tmp_path, monkeypatch, capsys)


def assert_in_order(output: str, lines: list[str]) -> None:
    """Each of `lines` starts some line of `output` (spaces squeezed), in this order."""
    shown = [" ".join(line.split()) for line in output.splitlines()]
    at = 0
    for wanted in lines:
        hits = [i for i, line in enumerate(shown) if i >= at and line.startswith(wanted)]
        assert hits, f"no line starting {wanted!r} after line {at} in:\n{output}"
        at = hits[0] + 1


def test_a_run_that_succeeds_prints_each_step_in_order_and_exits_0(
    argo: Setup, stored: dict[str, Any]
) -> None:
    run = argo.deploy(process=True)
    assert run.returncode == 0, run.output
    started = argo.fake.run()
    assert started.parameters == {"image": IMAGE}
    assert started.template == workflow.TEMPLATE_NAME
    tasks = task_names(stored, stored["spec"]["entrypoint"])
    # One whole line, though longer than the 80 columns a CI log is taken to have.
    submitted = f"deploy: submitted {started.name} ({started.template} in {NAMESPACE}) for {IMAGE}"
    assert submitted in run.stderr.splitlines()
    assert_in_order(
        run.stderr,
        [f"deploy: submitted {started.name}", f"deploy: {started.name} is Running"]
        + [f"{task} {phase}" for task in tasks for phase in ("Running", "Succeeded")]
        + [f"deploy: {started.name} Succeeded"],
    )
    # The rollback's steps exist but were skipped: the exit handler saw a success.
    for task in task_names(stored, stored["spec"]["onExit"]):
        assert f"exit handler > {task} Skipped" in run.flat
    assert argo.fake.token not in run.output
    assert "warning" not in run.output  # the stored template is the one this commit renders
    calls = [(seen.method, seen.path) for seen in argo.fake.seen[:2]]
    assert calls == [
        ("GET", f"/api/v1/workflow-templates/{NAMESPACE}/{workflow.TEMPLATE_NAME}"),
        ("POST", f"/api/v1/workflows/{NAMESPACE}/submit"),
    ]


def test_a_smoke_failure_names_the_step_says_the_rollback_ran_and_exits_1(
    argo: Setup, stored: dict[str, Any]
) -> None:
    argo.fake.script = "fail-smoke"
    run = argo.deploy(process=True)
    assert run.returncode == 1, run.output
    name = argo.fake.run().name
    smoke = next(t for t in task_names(stored, stored["spec"]["entrypoint"]) if "smoke" in t)
    assert "CheckFailedError" in run.flat
    assert f"deploy: {name} Failed: step '{smoke}' Failed: {SMOKE_FAILURE}" in run.flat
    assert "The exit handler ran and Succeeded" in run.flat
    assert "the rollback finished" in run.flat
    ran = exit_steps(stored)
    assert "roll-back" in ran  # the rollback itself, in the template our code renders
    for step in ran:
        assert f"exit handler > {step} Succeeded" in run.flat
    assert_in_order(
        run.stderr,
        [
            f"{smoke} Failed {SMOKE_FAILURE}",
            "exit handler Running",
            # A step's end prints before the end of the group it closes.
            f"exit handler > {ran[-1]} Succeeded",
            f"exit handler > {ran[0]} Succeeded",
            "exit handler Succeeded",
        ],
    )
    assert argo.fake.token not in run.output
    assert f"argo get -n {NAMESPACE} {name}" in run.flat
    assert "Traceback" not in run.output


def test_a_run_that_hangs_times_out_naming_the_workflow_left_running(argo: Setup) -> None:
    argo.fake.script = "hang"
    run = argo.deploy("--timeout", "0.5", process=True)
    assert run.returncode == 1, run.output
    name = argo.fake.run().name
    assert f"deploy: {name} is still Running after 0.5 s (--timeout); it is left running" in (
        run.flat
    )
    assert f"argo get -n {NAMESPACE} {name}" in run.flat
    assert f"{argo.url}/workflows/{NAMESPACE}/{name}" in run.flat
    assert argo.fake.run().polls >= 2  # it followed the run until the timeout


def test_the_wait_defaults_to_the_workflow_timeout_in_params(
    argo: Setup, settings: dict[str, Any]
) -> None:
    argo.fake.script = "hang"
    params = argo.home / "params.yaml"
    deploy = {**settings["deploy"], "workflow_timeout_seconds": 1, "rollout_timeout_seconds": 1}
    params.write_text(yaml.safe_dump({**settings, "deploy": deploy}), encoding="utf-8")
    run = argo.deploy("--params", str(params))
    assert run.returncode == 1, run.output
    assert "is still Running after 2 s (--timeout)" in run.flat


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_names_the_run_that_goes_on(argo: Setup, signum: signal.Signals) -> None:
    """Ctrl-C, or a cancelled CI job (SIGINT, then SIGTERM), while it follows the run."""
    argo.fake.script = "hang"
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"]),
        "HOME": str(argo.home),
        "ARGO_SERVER": argo.url,
        "ARGO_TOKEN": argo.fake.token,
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    argv = [str(VENV_BIN / "mlgitops"), "deploy", "--image", IMAGE, "--params", str(PARAMS)]
    argv += ["--namespace", NAMESPACE, "--poll-interval", "0.05"]
    argv = with_default_signals(argv)  # not SIGINT ignored, as under `nohup make test &`
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    # Signal once it follows the run (the stand-in saw it poll), then read all with a bound.
    following = wait_until(lambda: any(r.polls for r in argo.fake.runs.values()), timeout=60)
    if following:
        process.send_signal(signum)
    code, _, stderr = finish(process, timeout=30)
    assert following, f"it never followed the run:\n{stderr}"
    run = Result(("mlgitops", "deploy"), code, "", stderr)
    assert run.returncode == 1, run.output
    name = argo.fake.run().name
    assert f"CheckFailedError: deploy: interrupted; the run {name} goes on without us" in run.flat
    assert f"argo get -n {NAMESPACE} {name}" in run.flat
    assert "Traceback" not in run.output


def test_an_empty_phase_at_first_is_waited_through(argo: Setup) -> None:
    argo.fake.empty_polls = 5
    run = argo.deploy()
    assert run.returncode == 0, run.output
    assert argo.fake.run().polls > 5
    assert_in_order(
        run.stderr,
        [
            f"deploy: {argo.fake.run().name} is Pending (waiting for the workflow controller)",
            f"deploy: {argo.fake.run().name} is Running",
        ],
    )
    assert f"deploy: {argo.fake.run().name} Succeeded" in run.flat


def test_an_argo_server_outage_while_following_is_waited_out_and_said(argo: Setup) -> None:
    # Two polls' worth of 503 (each poll tries 3 times): more than the client's own retries.
    argo.fake.run_outages = [503] * 5
    run = argo.deploy()
    assert run.returncode == 0, run.output
    assert argo.fake.run_outages == []
    name = argo.fake.run().name
    assert_in_order(
        run.stderr,
        [
            "deploy: the Argo Server is not answering (503 to GET",
            "deploy: the Argo Server answers again after",
            f"deploy: {name} Succeeded",
        ],
    )
    assert f"{name} goes on in the cluster, waiting for the server up to" in run.flat


@pytest.mark.parametrize("prefix", ["", "Bearer "])
def test_the_token_is_taken_with_or_without_bearer(argo: Setup, prefix: str) -> None:
    run = argo.deploy("--no-wait", token=prefix + argo.fake.token)
    assert run.returncode == 0, run.output
    name = argo.fake.run().name
    assert f"deploy: not waiting; follow it with: argo get -n {NAMESPACE} {name}" in run.flat
    assert {seen.authorization for seen in argo.fake.seen} == {"Bearer ***"}
    assert argo.fake.run().polls == 0


def test_a_malformed_token_is_a_usage_error_that_never_shows_it(argo: Setup) -> None:
    run = argo.deploy(token="Bearer secret-part other-part")
    assert run.returncode == 2, run.output
    assert "UsageError: deploy: ARGO_TOKEN is malformed: the token has spaces in it" in run.flat
    assert "secret-part" not in run.output
    assert argo.fake.seen == []


def test_a_wrong_token_is_a_clear_401_that_never_shows_the_token(argo: Setup) -> None:
    run = argo.deploy(token="Bearer wrong-token-abc123")
    assert run.returncode == 1, run.output
    assert "UnauthorizedError: Argo Server answered 401" in run.flat
    assert "token not valid" in run.flat
    assert "check ARGO_TOKEN" in run.flat
    assert "wrong-token-abc123" not in run.output
    assert argo.fake.runs == {}


def test_no_token_is_a_401_too(argo: Setup) -> None:
    run = argo.deploy(token=None)
    assert run.returncode == 1, run.output
    assert "answered 401" in run.flat
    assert [seen.authorization for seen in argo.fake.seen] == ["none"]


def test_a_forbidden_token_is_a_clear_403_that_never_shows_the_token(argo: Setup) -> None:
    argo.fake.forbidden_tokens.add("can-read-nothing-42")
    run = argo.deploy(token="can-read-nothing-42")
    assert run.returncode == 1, run.output
    assert "ForbiddenError: Argo Server answered 403" in run.flat
    assert 'cannot get resource "workflowtemplates"' in run.flat
    assert "lacks a permission" in run.flat
    assert "can-read-nothing-42" not in run.output


def test_a_template_that_differs_from_the_rendered_one_is_warned_about(
    argo: Setup, stored: dict[str, Any]
) -> None:
    changed = copy.deepcopy(stored)
    changed["spec"]["serviceAccountName"] = "someone-else"
    argo.fake.add_template(changed, NAMESPACE)
    run = argo.deploy()
    assert run.returncode == 0, run.output
    assert (
        f"deploy: warning: the {workflow.TEMPLATE_NAME} in {NAMESPACE} differs from what this "
        "commit renders (spec.serviceAccountName); re-apply deploy/workflow-template.yaml"
    ) in run.flat


def test_a_missing_template_is_named_with_its_namespace(argo: Setup) -> None:
    run = argo.deploy("--namespace", "staging")
    assert run.returncode == 1, run.output
    assert (
        f"RemoteError: deploy: WorkflowTemplate '{workflow.TEMPLATE_NAME}' not found in "
        "namespace 'staging'" in run.flat
    )
    assert [seen.method for seen in argo.fake.seen] == ["GET"]  # nothing submitted


def test_a_template_without_the_image_parameter_is_called_stale(
    argo: Setup, stored: dict[str, Any]
) -> None:
    old = {**stored, "spec": {**stored["spec"], "arguments": {"parameters": []}}}
    argo.fake.add_template(old, "old")
    run = argo.deploy("--namespace", "old")
    assert run.returncode == 1, run.output
    assert "has no parameter 'image' (it has none); it is stale" in run.flat
    assert argo.fake.runs == {}


def test_an_unreachable_server_is_a_clear_error(argo: Setup) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    run = argo.deploy(server=f"http://127.0.0.1:{port}")
    assert run.returncode == 1, run.output
    assert "UnreachableError: could not reach the Argo Server" in run.flat
    assert "Connection refused" in run.flat
    assert "check ARGO_SERVER" in run.flat
    assert "Traceback" not in run.output


def test_a_token_over_plain_http_to_another_host_is_refused_before_any_request(
    argo: Setup,
) -> None:
    argo.monkeypatch.delenv("MLGITOPS_ALLOW_PLAIN_HTTP", raising=False)
    run = argo.deploy(server="http://argo.example.invalid:2746")
    assert run.returncode == 2, run.output
    assert "deploy: refusing to send the token over plain http:// to argo.example.invalid" in (
        run.flat
    )
    assert "--allow-plain-http" in run.flat
    assert argo.fake.token not in run.output
    # Loopback (a port-forward, this stand-in) is not another host: it goes through.
    assert argo.url.startswith("http://127.0.0.1:")
    assert argo.deploy("--no-wait").returncode == 0


@pytest.mark.parametrize("signed", [True, False])
def test_a_deploy_by_digest_verifies_the_signature_before_submitting(
    argo: Setup, tmp_path: Path, signed: bool
) -> None:
    calls = tmp_path / "cosign-calls"
    install_cosign(tmp_path / "bin", argo.monkeypatch, calls)
    image = SIGNED if signed else UNSIGNED
    run = argo.deploy("--image", image, "--cosign-identity", IDENTITY, "--no-wait")
    assert len(calls.read_text().splitlines()) == 1
    if signed:
        assert run.returncode == 0, run.output
        assert f"the signature of {image} is {IDENTITY}'s" in run.flat
        assert argo.fake.run().parameters == {"image": image}  # the digest that was verified
    else:
        assert run.returncode == 1, run.output
        assert "nothing was submitted and the version already serving keeps serving" in run.flat
        assert argo.fake.seen == []  # the cluster was never asked anything


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA vouches for."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return cert, key


def test_tls_is_verified_by_default_and_can_be_turned_off(
    tmp_path: Path,
    stored: dict[str, Any],
    self_signed: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeArgo()
    fake.add_template(stored, NAMESPACE)
    with fake.serve(tls=self_signed) as url:
        assert url.startswith("https://")
        setup = Setup(fake, url, tmp_path, monkeypatch, capsys)
        refused = setup.deploy("--no-wait")
        assert refused.returncode == 1, refused.output
        assert "TLS failed for GET" in refused.flat
        assert "CERTIFICATE_VERIFY_FAILED" in refused.flat
        assert "--insecure-skip-tls-verify" in refused.flat
        assert "Traceback" not in refused.output
        assert fake.seen == []  # the handshake failed before any request
        accepted = setup.deploy("--no-wait", "--insecure-skip-tls-verify")
        assert accepted.returncode == 0, accepted.output
        assert fake.run().parameters == {"image": IMAGE}


@pytest.mark.parametrize("scheme", ["https://", ""])  # HOST:PORT alone means https
def test_https_to_a_plain_http_server_is_a_clear_tls_error(argo: Setup, scheme: str) -> None:
    run = argo.deploy(server=argo.url.replace("http://", scheme))
    assert run.returncode == 1, run.output
    assert "TLS failed for GET" in run.flat
    assert "Check the URL's scheme" in run.flat
    assert "Traceback" not in run.output


def test_dry_run_prints_the_rendered_files_for_the_image_and_contacts_nothing(
    argo: Setup, settings: dict[str, Any]
) -> None:
    run = argo.deploy("--dry-run")
    assert run.returncode == 0, run.output
    deploy = parse_settings(DeploySettings, settings, section="deploy")
    assert run.stdout == render.dry_run(deploy, IMAGE)
    documents = [doc for doc in yaml.safe_load_all(run.stdout) if doc]
    kinds = {doc.get("kind") for doc in documents}
    assert {"WorkflowTemplate", "Deployment"} <= kinds
    assert IMAGE in run.stdout
    assert argo.fake.seen == []


@pytest.mark.parametrize(
    ("args", "server", "message"),
    [
        ((), "", "no Argo Server; set ARGO_SERVER"),
        ((), "ftp://argo:2746", "must be https://HOST[:PORT]"),
        (("--image", "not an image"), None, "is not an image reference"),
        (("--image", "ghcr.io/octo/churn-service"), None, "needs a tag"),
        (("--params", "/nonexistent/params.yaml"), None, "/nonexistent/params.yaml not found"),
    ],
)
def test_usage_errors_exit_2(
    argo: Setup, args: tuple[str, ...], server: str | None, message: str
) -> None:
    run = argo.deploy(*args, server=server)
    assert run.returncode == 2, run.output
    assert "UsageError: deploy: " in run.flat
    assert message in run.flat
    assert argo.fake.seen == []


def test_a_failed_rollback_is_said_plainly(argo: Setup) -> None:
    argo.fake.script = "fail-rollback"
    run = argo.deploy()
    assert run.returncode == 1, run.output
    assert f"step 'smoke' Failed: {SMOKE_FAILURE}" in run.flat
    assert f"and Failed: roll-back Failed: {ROLLBACK_FAILURE}" in run.flat
    assert "the rollback may not have completed" in run.flat
    assert "the rollback finished" not in run.flat
