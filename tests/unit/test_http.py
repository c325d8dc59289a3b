"""The HTTP layer both clients share: one error tree, one status table, one retry policy."""

from __future__ import annotations

import ssl

import httpx
import pytest

from mlgitops import errors
from mlgitops.deploy import submit
from mlgitops.http import RestClient
from mlgitops.publish import github


def clients(answer: httpx.MockTransport) -> list[RestClient]:
    """A GitHub client and an Argo client on the same transport, waits recorded, not slept."""
    return [
        github.GitHubClient(github.make_http_client("t", transport=answer), sleep=lambda _: None),
        submit.ArgoClient(
            submit.make_http_client("https://argo", "t", transport=answer),
            "ns",
            sleep=lambda _: None,
        ),
    ]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequestError),
        (401, errors.UnauthorizedError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.ConflictError),
        (418, errors.ResponseError),
        (503, errors.ServerError),
    ],
)
def test_both_clients_raise_the_same_class_for_a_status_with_their_own_hint(
    status: int, kind: type[errors.ResponseError]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "no way"})

    raised = []
    for client in clients(httpx.MockTransport(answer)):
        with pytest.raises(kind) as error:
            client.request("GET", "x")
        assert type(error.value) is kind and error.value.exit_code == 1
        assert f"answered {status} to GET " in str(error.value) and "no way" in str(error.value)
        raised.append(error.value)
    github_error, argo_error = raised
    assert github_error.remote == "GitHub" and argo_error.remote == "Argo Server"
    if kind in (errors.UnauthorizedError, errors.ForbiddenError, errors.ServerError):
        assert github_error.hint != argo_error.hint  # which token, which logs


def test_a_tls_failure_is_not_retried() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        cause = ssl.SSLCertVerificationError("certificate verify failed")
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]", request=request) from cause

    for client in clients(httpx.MockTransport(answer)):
        with pytest.raises(errors.UnreachableError, match="TLS failed for GET"):
            client.request("GET", "x")
    assert calls == ["GET", "GET"]  # once each


def test_a_lost_answer_to_a_create_is_not_retried_but_a_refused_connection_is() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        raise httpx.ConnectError("Connection refused", request=request)

    client = clients(httpx.MockTransport(answer))[0]
    with pytest.raises(errors.UnreachableError, match=r"no answer from GitHub .* in time"):
        client.request("POST", "x", idempotent=False)  # it may have been done: the caller looks
    assert calls == ["POST"]
    with pytest.raises(errors.UnreachableError, match="could not reach GitHub"):
        client.request("POST", "x", idempotent=False)  # nothing was sent: safe to try again
    assert len(calls) == 1 + client.retry.attempts


def test_a_rate_limit_waits_what_the_server_asks_then_fails_with_its_own_class() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "2"}, json={"message": "slow down"})

    waits: list[float] = []
    http = submit.make_http_client("https://argo", "t", transport=httpx.MockTransport(answer))
    with pytest.raises(errors.RateLimitError, match="slow down"):
        submit.ArgoClient(http, "ns", sleep=waits.append).request("GET", "x")
    assert waits == [2.0, 2.0]


def test_an_error_can_say_more_and_stay_what_it_is() -> None:
    error = errors.NotFoundError("GET", "u", 404, "Not Found", remote="GitHub", hint="check it")
    better = error.with_message("octo/x has no pull request #7")
    assert type(better) is errors.NotFoundError and better.hint == "check it"
    assert str(better) == "GitHub answered 404 to GET u: octo/x has no pull request #7; check it"


# No token over plain http:// to another machine, for both clients (issue 18, item 12).
def both(url: str, **flag: bool) -> list[httpx.Client]:
    """A GitHub and an Argo client for `url` with a token; the transport is never reached."""
    never = httpx.MockTransport(lambda _: pytest.fail("no request was expected"))
    return [
        submit.make_http_client(url, "t", transport=never, **flag),
        github.make_http_client("t", base_url=url, transport=never, **flag),
    ]


@pytest.mark.parametrize(
    "url", ["http://argo.example:2746", "http://10.0.0.7", "http://[fd00::1]:2746", "http://api"]
)
def test_a_token_over_plain_http_to_another_host_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLGITOPS_ALLOW_PLAIN_HTTP", raising=False)
    with pytest.raises(errors.UsageError, match="refusing to send the token over plain http"):
        submit.make_http_client(url, "t")
    with pytest.raises(errors.UsageError, match="refusing to send the token over plain http"):
        github.make_http_client("t", base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://argo.example:2746",
        "http://127.0.0.1:2746",
        "http://127.0.0.9",
        "http://localhost:8080",
        "http://[::1]:2746",
    ],
)
def test_https_and_loopback_carry_a_token(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGITOPS_ALLOW_PLAIN_HTTP", raising=False)
    for http in both(url):
        assert http.headers["Authorization"] == "Bearer t"


def test_plain_http_without_a_token_is_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGITOPS_ALLOW_PLAIN_HTTP", raising=False)
    http = submit.make_http_client("http://argo.example:2746", None)
    assert "Authorization" not in http.headers


def test_the_explicit_switch_allows_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(both("http://argo.example", allow_plain_http=True)) == 2
    # The clients never read the environment: the commands pass the switch on explicitly.
    monkeypatch.setenv("MLGITOPS_ALLOW_PLAIN_HTTP", "1")
    with pytest.raises(errors.UsageError):
        submit.make_http_client("http://argo.example", "t")
    with pytest.raises(errors.UsageError):
        github.make_http_client("t", base_url="http://argo.example")
