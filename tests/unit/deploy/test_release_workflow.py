"""The promises release.yml makes, checked on the file; its push step run against stand-ins.

(Pinned actions and no expression in a script are checked for every workflow by
tests/unit/test_workflows.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.deploy import workflow
from mlgitops.settings import DeploySettings, parse_settings
from tests.standins.argo import FakeArgo, Script
from tests.standins.cosign import IDENTITY, ISSUER, SIGNED, UNSIGNED, install_cosign
from tests.workflow_steps import REPO_ROOT, WORKFLOWS, load_yaml, shell_steps

RELEASE = WORKFLOWS / "release.yml"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load_yaml(RELEASE)


def _step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [step for step in job["steps"] if step.get("id") == step_id]
    assert len(found) == 1, step_id
    return found[0]


def test_runs_on_pushes_to_main_only(release: dict[str, Any]) -> None:
    assert release["on"] == {"push": {"branches": ["main"]}}


def test_one_release_at_a_time_and_a_running_deploy_is_never_cancelled(
    release: dict[str, Any],
) -> None:
    assert release["concurrency"] == {"group": "release", "cancel-in-progress": False}


def test_each_job_asks_only_for_what_it_uses(release: dict[str, Any]) -> None:
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert jobs["image"]["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
    }
    assert jobs["deploy"]["permissions"] == {"contents": "read", "deployments": "write"}


def test_deploy_secrets_only_reach_the_deploy_step(release: dict[str, Any]) -> None:
    text = RELEASE.read_text()
    assert text.count("secrets.ARGO_") == 2
    deploy = _step(release["jobs"]["deploy"], "deploy")
    assert deploy["with"]["server"] == "${{ secrets.ARGO_SERVER }}"
    assert deploy["with"]["token"] == "${{ secrets.ARGO_TOKEN }}"
    assert deploy["with"]["image"] == "${{ needs.image.outputs.pinned }}"
    assert release["jobs"]["deploy"]["environment"] == "production"
    assert release["jobs"]["deploy"]["needs"] == "image"


@pytest.mark.parametrize(
    ("script", "code"), [("succeed", 0), ("fail-smoke", 1), ("fail-rollback", 1)]
)
def test_the_deploy_step_rolls_out_through_argo_and_fails_with_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: Script, code: int
) -> None:
    """The step as CI runs it (the composite action's shell), against the Argo stand-in and
    a cosign stand-in for which the digest is signed."""
    install_cosign(tmp_path / "bin", monkeypatch, tmp_path / "calls")
    settings = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    fake = FakeArgo(script=script)
    deploy = parse_settings(DeploySettings, settings, section="deploy")
    fake.add_template(workflow.template(deploy).to_dict(), deploy.namespace)
    image, outcome = SIGNED, tmp_path / "outcome.json"
    with fake.serve() as url:
        given = {"DEPLOY_IMAGE": image, "ARGO_SERVER": url, "ARGO_TOKEN": fake.token,
                 "DEPLOY_COSIGN_IDENTITY": IDENTITY, "DEPLOY_OUTCOME": str(outcome)}  # fmt: skip
        (step,) = shell_steps(RELEASE, "deploy", given, ids=["deploy"])
        # Only the polling is faster than in CI; the rest is the step's own environment.
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CALLS": str(tmp_path / "calls")}
        step_env = {**step.env, "DEPLOY_POLL_INTERVAL": "0.05"}
        done = subprocess.run(
            step.argv, cwd=REPO_ROOT, env={**env, **step_env},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == code, done.stdout + done.stderr
    (run,) = fake.runs.values()
    assert run.parameters == {"image": image}
    assert fake.token not in done.stdout + done.stderr
    # What record-outcome turns into the GitHub deployment status (tests/unit/history).
    written = json.loads(outcome.read_text())
    if code == 0:
        assert written["phase"] == "Succeeded" and written["failed_step"] is None
    else:  # rolled back only when the exit handler's rollback itself succeeded
        assert written["phase"] == "Failed"
        assert written["rolled_back"] is (script == "fail-smoke")
        assert written["failed_step"] and written["message"]


def test_checkouts_keep_no_token_and_installs_restore_no_cache(release: dict[str, Any]) -> None:
    for job in release["jobs"].values():
        checkout = _step(job, "checkout")
        assert checkout["with"]["persist-credentials"] is False
        setup = _step(job, "setup")
        assert setup["uses"].endswith("/.github/actions/setup")
        assert setup["with"]["cache"] == "false"


def test_the_image_is_signed_by_digest_keyless(release: dict[str, Any]) -> None:
    image = release["jobs"]["image"]
    ids = [step.get("id") for step in image["steps"]]
    assert ids.index("push") < ids.index("cosign-install") < ids.index("sign")
    sign = _step(image, "sign")
    assert sign["run"].strip() == 'cosign sign --yes "$DIGEST"'
    assert sign["env"]["DIGEST"] == "${{ steps.push.outputs.digest }}"
    assert "--key" not in RELEASE.read_text()


def test_the_deploy_verifies_this_workflows_signature_on_the_digest_it_rolls_out(
    release: dict[str, Any],
) -> None:
    image, deploy = release["jobs"]["image"], release["jobs"]["deploy"]
    assert image["outputs"]["pinned"] == "${{ steps.push.outputs.pinned }}"
    ids = [step.get("id") for step in deploy["steps"]]
    assert ids.index("cosign-install") < ids.index("deploy")
    install = _step(deploy, "cosign-install")
    assert install["uses"] == _step(image, "cosign-install")["uses"]  # the same pinned cosign
    step = _step(deploy, "deploy")
    assert step["with"]["cosign-identity"] == (
        "https://github.com/${{ github.repository }}/.github/workflows/release.yml@refs/heads/main"
    )
    assert "cosign-issuer" not in step["with"]  # the action's default: GitHub's OIDC issuer


@pytest.mark.parametrize("signed", [True, False])
def test_the_deploy_step_runs_cosign_verify_before_submitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signed: bool
) -> None:
    """The composite action's shell with the identity release.yml gives, a cosign stand-in."""
    calls = tmp_path / "calls"
    install_cosign(tmp_path / "bin", monkeypatch, calls)
    settings = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    fake = FakeArgo()
    deploy = parse_settings(DeploySettings, settings, section="deploy")
    fake.add_template(workflow.template(deploy).to_dict(), deploy.namespace)
    image = SIGNED if signed else UNSIGNED
    with fake.serve() as url:
        given = {"DEPLOY_IMAGE": image, "ARGO_SERVER": url, "ARGO_TOKEN": fake.token,
                 "DEPLOY_COSIGN_IDENTITY": IDENTITY,
                 "DEPLOY_OUTCOME": str(tmp_path / "outcome.json")}  # fmt: skip
        (step,) = shell_steps(RELEASE, "deploy", given, ids=["deploy"])
        env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{VENV_BIN}{os.pathsep}/usr/bin:/bin",
               "HOME": str(tmp_path), "CALLS": str(calls)}  # fmt: skip
        done = subprocess.run(
            step.argv, cwd=REPO_ROOT, env={**env, **step.env, "DEPLOY_POLL_INTERVAL": "0.05"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert calls.read_text().splitlines() == [
        f"verify --certificate-identity {IDENTITY} --certificate-oidc-issuer {ISSUER} "
        f"--output text {image}"
    ]
    if signed:
        assert done.returncode == 0, done.stdout + done.stderr
        (run,) = fake.runs.values()
        assert run.parameters == {"image": image}
    else:
        assert done.returncode == 1, done.stdout + done.stderr
        assert fake.runs == {} and fake.seen == []


STAND_INS = {
    # Stand-ins for BentoML's image build and the Docker daemon/registry: they log what they
    # are asked; docker inspect answers the digest a push would have given.
    "bentoml": '#!/usr/bin/env bash\nprintf "bentoml %s\\n" "$*" >> "$CALLS"\n',
    "docker": (
        "#!/usr/bin/env bash\n"
        'printf "docker %s\\n" "$*" >> "$CALLS"\n'
        'if [ "$1" = inspect ]; then name="${*: -1}"; echo "${name%:*}@sha256:$DIGEST_HEX"; fi\n'
    ),
}


def test_the_push_step_tags_with_the_bento_version_and_the_sha(tmp_path: Path) -> None:
    sha = "c" * 40
    given = {"BENTO_TAG": "churn-service:2gx4kqhhkoy26ax4"}
    (step,) = shell_steps(RELEASE, "image", given, ids=["push"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in STAND_INS.items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    outputs, calls = tmp_path / "github_output", tmp_path / "calls"
    outputs.write_text("")
    env = {
        **os.environ,
        **step.env,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_REPOSITORY_OWNER": "Acme-Corp",
        "GITHUB_SHA": sha,
        "GITHUB_OUTPUT": str(outputs),
        "CALLS": str(calls),
        "DIGEST_HEX": "d" * 64,
    }
    result = subprocess.run(
        step.argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    image = "ghcr.io/acme-corp/churn-service:2gx4kqhhkoy26ax4"
    assert calls.read_text().splitlines()[:3] == [
        "bentoml containerize churn-service:2gx4kqhhkoy26ax4 "
        f"--image-tag {image} --image-tag ghcr.io/acme-corp/churn-service:{sha}",
        f"docker push {image}",
        f"docker push ghcr.io/acme-corp/churn-service:{sha}",
    ]
    assert f"image={image}\n" in outputs.read_text()
    assert f"pinned={image}@sha256:{'d' * 64}\n" in outputs.read_text()
    assert f"digest=ghcr.io/acme-corp/churn-service@sha256:{'d' * 64}\n" in outputs.read_text()
