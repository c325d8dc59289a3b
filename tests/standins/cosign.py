"""A stand-in for `cosign verify`: the release workflow signed one digest, keyless.

It logs its argv to $CALLS and exits 0 only for `verify` with exactly the release workflow's
certificate identity and GitHub's OIDC issuer on the signed digest; anything else gets
cosign's own refusal. The real cosign runs in release.yml only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IDENTITY = "https://github.com/octo/churn/.github/workflows/release.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"
SIGNED = "ghcr.io/octo/churn-service:2gx4@sha256:" + "a" * 64
UNSIGNED = "ghcr.io/octo/churn-service:2gx4@sha256:" + "b" * 64

# A stand-in for cosign: logs its argv; exit 0 only for `verify` with exactly the release
# workflow's identity and GitHub's issuer, on the one signed digest; else cosign's own words.
COSIGN = f"""#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$CALLS"
want="verify --certificate-identity {IDENTITY} --certificate-oidc-issuer {ISSUER} --output text"
if [ "$*" = "$want {SIGNED}" ]; then
  echo "Verification for {SIGNED} -- The cosign claims were validated"; exit 0
fi
echo "Error: no matching signatures: none of the expected identities matched" >&2
exit 1
"""


def install_cosign(bin_dir: Path, monkeypatch: pytest.MonkeyPatch, calls: Path) -> None:
    """Puts the stand-in first on PATH as `cosign`, logging to `calls`."""
    bin_dir.mkdir(exist_ok=True)
    cosign = bin_dir / "cosign"
    cosign.write_text(COSIGN)
    cosign.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CALLS", str(calls))
