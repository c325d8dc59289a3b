"""The rule `mlgitops.http.make_client` applies before any token leaves: no token over plain
http:// to another machine, unless the caller says explicitly that the network is trusted.

Loopback stays allowed (a port-forward, `kubectl port-forward svc/argo-server`, the stand-ins),
since nothing leaves the machine. The explicit switch is a parameter, or for commands that do
not take a flag through every layer (the GitHub clients), MLGITOPS_ALLOW_PLAIN_HTTP=1.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import httpx

from mlgitops.errors import UsageError

PLAIN_HTTP_VARIABLE = "MLGITOPS_ALLOW_PLAIN_HTTP"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1): nothing leaves it."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_plain_http(base_url: str, headers: Mapping[str, str], *, allow: bool | None) -> None:
    """Refuses a token over plain http:// to another machine, unless `allow` (None: read
    MLGITOPS_ALLOW_PLAIN_HTTP) says the network is trusted; raises UsageError."""
    url = httpx.URL(base_url)
    has_token = any(key.lower() == "authorization" for key in headers)
    if url.scheme != "http" or not has_token or is_loopback(url.host):
        return
    if allow is None:
        allow = os.environ.get(PLAIN_HTTP_VARIABLE, "").strip().lower() in {"1", "true", "yes"}
    if not allow:
        raise UsageError(
            f"refusing to send the token over plain http:// to {url.host}: anyone on the path "
            f"could read it. Use https://, or, on a network you trust, say so explicitly: "
            f"{PLAIN_HTTP_VARIABLE}=1 (or `mlgitops deploy --allow-plain-http`)"
        )
