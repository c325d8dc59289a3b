"""The rule `mlgitops.http.make_client` applies before any token leaves: no token over plain
http:// to another machine, unless the caller says explicitly that the network is trusted.

Loopback stays allowed (a port-forward, `kubectl port-forward svc/argo-server`, the stand-ins),
since nothing leaves the machine. The explicit switch is a parameter; the commands that send a
token take it as `--allow-plain-http` or MLGITOPS_ALLOW_PLAIN_HTTP=1 (`allow_plain_http_option`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import httpx
import typer

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


def allow_plain_http_option() -> Any:
    """`--allow-plain-http` (or MLGITOPS_ALLOW_PLAIN_HTTP=1), the same for every command that
    sends a token; the command passes it on to its client explicitly."""
    return typer.Option(
        "--allow-plain-http",
        envvar=PLAIN_HTTP_VARIABLE,
        help="Send the token over plain http:// to a host other than this machine "
        "(a trusted network only).",
    )


def check_plain_http(base_url: str, headers: Mapping[str, str], *, allow: bool) -> None:
    """Refuses a token over plain http:// to another machine, unless `allow` says the network
    is trusted; raises UsageError."""
    url = httpx.URL(base_url)
    has_token = any(key.lower() == "authorization" for key in headers)
    if url.scheme != "http" or not has_token or is_loopback(url.host):
        return
    if not allow:
        raise UsageError(
            f"refusing to send the token over plain http:// to {url.host}: anyone on the path "
            f"could read it. Use https://, or, on a network you trust, say so explicitly: "
            f"{PLAIN_HTTP_VARIABLE}=1 (or `mlgitops deploy --allow-plain-http`)"
        )
