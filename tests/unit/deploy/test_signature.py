"""Deploy by digest, after `cosign verify` vouched for the release workflow's signature
(issue 18, item 10): the command and its identity flags as run, against a cosign stand-in that
accepts only a signed digest and only those exact flags; cosign itself runs in release.yml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgitops.deploy import signature
from mlgitops.errors import CheckFailedError, UsageError
from tests.standins.cosign import IDENTITY, ISSUER, SIGNED, UNSIGNED, install_cosign


def test_the_verify_command_pins_the_identity_and_issuer_exactly() -> None:
    argv = signature.verify_command(SIGNED, identity=IDENTITY)
    assert argv == [
        "cosign", "verify",
        "--certificate-identity", IDENTITY,
        "--certificate-oidc-issuer", ISSUER,
        "--output", "text",
        SIGNED,
    ]  # fmt: skip
    assert not any("regexp" in arg for arg in argv)  # an exact identity, never a pattern


def test_a_signed_digest_passes_and_cosign_is_given_exactly_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls"
    install_cosign(tmp_path / "bin", monkeypatch, calls)
    signature.verify(SIGNED, identity=IDENTITY)
    assert calls.read_text().splitlines() == [
        f"verify --certificate-identity {IDENTITY} --certificate-oidc-issuer {ISSUER} "
        f"--output text {SIGNED}"
    ]


@pytest.mark.parametrize(
    ("image", "identity"),
    [
        (UNSIGNED, IDENTITY),  # not signed
        (SIGNED, IDENTITY.replace("release.yml", "pr.yml")),  # signed, by another workflow
        (SIGNED, IDENTITY.replace("refs/heads/main", "refs/heads/feature")),  # another ref
    ],
)
def test_an_unsigned_or_wrongly_signed_image_stops_the_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str, identity: str
) -> None:
    install_cosign(tmp_path / "bin", monkeypatch, tmp_path / "calls")
    with pytest.raises(CheckFailedError, match="keeps serving") as failed:
        signature.verify(image, identity=identity)
    assert "no matching signatures" in str(failed.value)
    assert "nothing was submitted" in str(failed.value)


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/octo/churn-service:2gx4", "ghcr.io/octo/churn-service:2gx4@sha256:abc"],
)
def test_an_image_not_pinned_by_digest_is_refused_before_cosign_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str
) -> None:
    calls = tmp_path / "calls"
    install_cosign(tmp_path / "bin", monkeypatch, calls)
    with pytest.raises(UsageError, match="not pinned by digest"):
        signature.verify(image, identity=IDENTITY)
    assert not calls.exists()


def test_no_cosign_on_path_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="cosign is not on PATH"):
        signature.verify(SIGNED, identity=IDENTITY)


def test_a_silent_cosign_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_cosign(tmp_path / "bin", monkeypatch, tmp_path / "calls")

    def hangs(argv: list[str]) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(argv, 300)

    with pytest.raises(CheckFailedError, match="no answer"):
        signature.verify(SIGNED, identity=IDENTITY, run=hangs)
