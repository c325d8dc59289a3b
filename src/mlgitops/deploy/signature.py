"""Before a rollout: the image is pinned by digest and its cosign signature is the release
workflow's own (keyless: a Fulcio certificate for that workflow's GitHub OIDC identity).

`mlgitops deploy --cosign-identity ...` runs `cosign verify` on the exact reference it then
submits, so what was verified is what rolls out (a tag could move in between; a digest cannot).
An unsigned or wrongly signed image stops the deploy before anything reaches the cluster, and
the version already serving keeps serving. The identity is matched exactly, never by regexp.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

from mlgitops.errors import CheckFailedError, UsageError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_PINNED = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")
_TIMEOUT = 300.0  # cosign asks the registry and Rekor: generous, but bounded

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)


def verify_command(image: str, *, identity: str, issuer: str = GITHUB_ISSUER) -> list[str]:
    """`cosign verify` of `image` for exactly this certificate identity and OIDC issuer."""
    return [
        "cosign",
        "verify",
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        issuer,
        "--output",
        "text",
        image,
    ]


def verify(image: str, *, identity: str, issuer: str = GITHUB_ISSUER, run: Runner = _run) -> None:
    """Raises UsageError for an image not pinned by digest or no cosign on PATH, and
    CheckFailedError when cosign does not vouch for the signature."""
    if not _PINNED.fullmatch(image):
        raise UsageError(
            f"deploy: --image {image!r} is not pinned by digest (NAME:TAG@sha256:...): a "
            "verified tag can move before the rollout; give the digest release.yml pushed"
        )
    if not identity.startswith("https://"):
        raise UsageError(f"deploy: --cosign-identity {identity!r} must be the workflow's URL")
    argv = verify_command(image, identity=identity, issuer=issuer)
    if shutil.which(argv[0]) is None:
        raise UsageError("deploy: cosign is not on PATH (sigstore/cosign-installer installs it)")
    try:
        done = run(argv)
    except subprocess.TimeoutExpired:
        raise CheckFailedError(
            f"deploy: cosign verify gave no answer in {_TIMEOUT:g} s; nothing was submitted"
        ) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise CheckFailedError(
            f"deploy: the signature of {image} is not {identity}'s (cosign verify exit "
            f"{done.returncode}: {' '.join(said) or 'no message'}); nothing was submitted and "
            "the version already serving keeps serving"
        )
