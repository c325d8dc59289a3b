"""A stand-in for GitHub's REST API: the endpoints `mlgitops comment` uses, checked and stateful.

It answers like GitHub does (statuses, JSON shapes, Link pagination, rate-limit headers) and
refuses what GitHub would refuse: a wrong token, a missing API version header, a body of the
wrong shape. State lives in `FakeGitHub`: comments per issue, branches, commits and files. Use
it in process through `httpx.MockTransport(fake)`, or as a real server with `fake.serve()`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx

from tests.standins._server import serving
from tests.standins.github_contract import violation
from tests.standins.github_records import RecordRoutes, RefusedError

API_VERSION = "2022-11-28"
BOT_LOGIN = "github-actions[bot]"
Answer = tuple[int, dict[str, str], bytes]
MADE: list[FakeGitHub] = []  # every stand-in made, for the contract check in tests/conftest.py
_WEB = re.compile(r"/([^/]+/[^/]+)/blob/([0-9a-f]{40})/(.+)")  # github.com, not the API


@dataclass
class FakeRepo:
    """One repository: branches point at commits, a commit is a full snapshot of the files."""

    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> comments
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    git_dir: Path | None = None  # a real (bare) git repository holding the branches PRs name
    labels: dict[int, list[str]] = field(default_factory=dict)  # issue -> label names


@dataclass(frozen=True)
class Seen:
    """One request the stand-in answered."""

    method: str
    path: str
    status: int
    body: Any


@dataclass(frozen=True)
class _Call:
    """What a route handler gets: the repository, the path match, the query, the JSON body."""

    repo: str
    found: re.Match[str]
    query: dict[str, str]
    base: str
    body: Any


class FakeGitHub(RecordRoutes):
    """GitHub for one token; `fail_next` and `rate_limit_next` script outages."""

    def __init__(
        self, token: str = "ghs_standin_token_0123456789", *, user: str | None = None
    ) -> None:
        self.token = token
        # Who the token is: a user's token answers GET /user; GITHUB_TOKEN (an app's
        # installation token) gets 403 there and posts as github-actions[bot].
        self.user = user
        self.login = user or BOT_LOGIN
        self.repos: dict[str, FakeRepo] = {}
        self.seen: list[Seen] = []
        self._outages: list[Answer] = []
        self._lost: list[str | None] = []  # methods to carry out, then answer 502 (lost)
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        # Requests GitHub's published API would refuse (tests/standins/github_contract.py);
        # tests/conftest.py fails the test that made one.
        self.violations: list[str] = []
        self._records_init()  # deployments and issues (tests/standins/github_records.py)
        MADE.append(self)

    # Setting the scene.
    def add_repo(self, name: str, *, default_branch: str = "main") -> FakeRepo:
        """A repository with one commit (a README) on its default branch."""
        repo = FakeRepo(default_branch=default_branch)
        first = self._commit(repo, {"README.md": b"# churn\n"})
        repo.branches[default_branch] = first
        self.repos[name] = repo
        return repo

    def add_pull(
        self,
        name: str,
        number: int,
        *,
        head_sha: str,
        head_ref: str = "feature",
        head_repo: str | None = None,
    ) -> None:
        """An open pull request (and so an issue) with no comments, from `head_repo` (a fork,
        or by default `name` itself) branch `head_ref`."""
        repo = self.repos[name]
        head = {"sha": head_sha, "ref": head_ref, "repo": {"full_name": head_repo or name}}
        base_sha = repo.branches[repo.default_branch]
        base = {"ref": repo.default_branch, "sha": base_sha, "repo": {"full_name": name}}
        repo.pulls[number] = {"number": number, "state": "open", "head": head, "base": base}
        repo.comments.setdefault(number, [])

    def add_files(self, name: str, files: dict[str, bytes]) -> str:
        """Commits `files` on the default branch (before PRs are added: their base); its sha."""
        repo = self.repos[name]
        head = repo.branches[repo.default_branch]
        repo.branches[repo.default_branch] = self._commit(repo, {**repo.commits[head], **files})
        return repo.branches[repo.default_branch]

    def add_comments(
        self, name: str, number: int, bodies: list[str], *, author: str = "octocat"
    ) -> None:
        """Comments by `author` (by default someone else than the token), oldest first."""
        for body in bodies:
            comment = self._new_comment(name, number, body, author=author)
            self.repos[name].comments[number].append(comment)

    def link_git(self, name: str, git_dir: Path) -> None:
        """Pull requests of `name` name branches of this real git repository (pushed to by
        the code under test); opening one for a branch it lacks is refused, as GitHub does."""
        self.repos[name].git_dir = git_dir

    def fail_next(self, count: int, *, status: int = 500, message: str | None = None) -> None:
        """The next `count` API requests get `status` with GitHub's error body."""
        message = message or {502: "Bad Gateway", 503: "Service Unavailable"}.get(
            status, "Server Error"
        )
        self._outages += [_error(status, message)] * count

    def lose_next(self, count: int, *, method: str | None = None) -> None:
        """The next `count` API requests (with `method`) take effect, but are answered 502."""
        self._lost += [method] * count

    def rate_limit_next(
        self, count: int, *, reset_in: float = 0.0, retry_after: int | None = None
    ) -> None:
        """The next `count` API requests get a 403 rate limit, as GitHub sends it."""
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(int(time.time() + reset_in)),
        }
        message = "API rate limit exceeded for installation."
        if retry_after is not None:
            headers = {"retry-after": str(retry_after)}
            message = "You have exceeded a secondary rate limit."
        self._outages += [(403, headers, _json({"message": message}))] * count

    # What tests look at.
    def comments(self, name: str, number: int) -> list[dict[str, Any]]:
        return self.repos[name].comments[number]

    def file_at(self, name: str, commit: str, path: str) -> bytes | None:
        return self.repos[name].commits.get(commit, {}).get(path)

    def branch_files(self, name: str, branch: str) -> dict[str, bytes]:
        repo = self.repos[name]
        return repo.commits[repo.branches[branch]]

    def calls(self, method: str, pattern: str = "") -> list[Seen]:
        """The answered requests with this method whose path matches `pattern` (a regex)."""
        return [s for s in self.seen if s.method == method and re.search(pattern, s.path)]

    # Transports.
    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The `httpx.MockTransport` handler."""
        status, headers, body = self.handle(
            request.method, str(request.url), dict(request.headers), request.content
        )
        return httpx.Response(status, headers=headers, content=body)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serves the stand-in on 127.0.0.1 on a free port; yields its base URL."""
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                host = f"http://{self.headers.get('Host', '127.0.0.1')}"
                status, headers, body = fake.handle(
                    self.command, host + self.path, dict(self.headers), self.rfile.read(length)
                )
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `fake.seen` instead."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        with serving(server) as url:
            yield url

    # GitHub.
    def handle(self, method: str, url: str, headers: dict[str, str], content: bytes) -> Answer:
        """One request, answered as GitHub would; recorded in `seen`."""
        split = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        base = f"{split.scheme}://{split.netloc}"
        with self._lock:
            body: Any = None
            try:
                body = json.loads(content) if content else None
                if not _WEB.fullmatch(split.path):
                    pairs = dict(parse_qsl(split.query, keep_blank_values=True))
                    problem = violation(method, split.path, pairs, body)
                    self.violations += [problem] if problem is not None else []
                answer = self._answer(method, split.path, query, base, _lower(headers), body)
                if answer[2] and answer[1].get("Content-Type") is None:
                    answer[1]["Content-Type"] = "application/json; charset=utf-8"
            except json.JSONDecodeError:
                answer = _error(400, "Problems parsing JSON")
            except (_RefusedError, RefusedError) as refusal:
                answer = _error(refusal.status, refusal.message)
            self.seen.append(Seen(method, split.path, answer[0], body))
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        base: str,
        headers: dict[str, str],
        body: Any,
    ) -> Answer:
        web = _WEB.fullmatch(path)
        if web and method == "GET" and query.get("raw") == "true":
            data = self.file_at(web[1], web[2], web[3])
            if data is None:
                raise _RefusedError(404, "Not Found")
            return 200, {"Content-Type": "image/png"}, data
        self._check_headers(headers, body)
        if self._outages:
            return self._outages.pop(0)
        if path == "/user" and method == "GET":
            if self.user is None:
                raise _RefusedError(403, "Resource not accessible by integration")
            return 200, {}, _json({"login": self.user, "type": "User"})
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not match or match[1] not in self.repos:
            raise _RefusedError(404, "Not Found")
        name, rest = match[1], match[2] or ""
        for pattern, verb, handler in self._routes():
            found = re.fullmatch(pattern, rest)
            if found and verb == method:
                answer: Answer = handler(_Call(name, found, query, base, body))
                if self._lost and self._lost[0] in (None, method):
                    self._lost.pop(0)
                    return _error(502, "Server Error")
                return answer
        raise _RefusedError(404, "Not Found")

    def _check_headers(self, headers: dict[str, str], body: Any) -> None:
        if headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
            raise _RefusedError(401, "Bad credentials")
        if headers.get("accept") != "application/vnd.github+json":
            raise _RefusedError(415, "Unsupported 'Accept' header; use application/vnd.github+json")
        if headers.get("x-github-api-version") != API_VERSION:
            raise _RefusedError(400, f"X-GitHub-Api-Version must be {API_VERSION}")
        if body is not None and "application/json" not in headers.get("content-type", ""):
            raise _RefusedError(415, "Content-Type must be application/json")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"", "GET", self._get_repo),
            (r"/pulls/(\d+)", "GET", self._get_pull),
            (r"/pulls", "GET", self._list_pulls),
            (r"/pulls", "POST", self._create_pull),
            (r"/pulls/(\d+)", "PATCH", self._update_pull),
            (r"/issues/(\d+)/labels", "POST", self._add_labels),
            (r"/issues/(\d+)/comments", "GET", self._list_comments),
            (r"/issues/(\d+)/comments", "POST", self._create_comment),
            (r"/issues/comments/(\d+)", "PATCH", self._update_comment),
            (r"/issues/comments/(\d+)", "DELETE", self._delete_comment),
            (r"/git/ref/heads/(.+)", "GET", self._get_ref),
            (r"/git/refs", "POST", self._create_ref),
            (r"/contents/(.+)", "GET", self._get_file),
            (r"/contents/(.+)", "PUT", self._put_file),
            *self._record_routes(),
        ]

    def _get_repo(self, call: _Call) -> Answer:
        default = self.repos[call.repo].default_branch
        return 200, {}, _json({"full_name": call.repo, "default_branch": default})

    def _get_pull(self, call: _Call) -> Answer:
        pull = self.repos[call.repo].pulls.get(int(call.found[1]))
        if pull is None:
            raise _RefusedError(404, "Not Found")
        return 200, {}, _json(pull)

    def pulls(self, name: str, *, state: str = "all") -> list[dict[str, Any]]:
        """The pull requests of `name` in `state`, by number, head shas read from git."""
        repo = self.repos[name]
        found = [self._refreshed(repo, pull) for _, pull in sorted(repo.pulls.items())]
        return [pull for pull in found if state == "all" or pull["state"] == state]

    def _branch_sha(self, repo: FakeRepo, branch: str) -> str | None:
        if repo.git_dir is None:
            return repo.branches.get(branch)
        completed = subprocess.run(
            ["git", "--git-dir", str(repo.git_dir), "rev-parse", "--verify", "--quiet",
             f"refs/heads/{branch}^{{commit}}"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        return completed.stdout.strip() or None

    def _refreshed(self, repo: FakeRepo, pull: dict[str, Any]) -> dict[str, Any]:
        """A PR's head sha follows its branch, as on GitHub."""
        ref = pull.get("head", {}).get("ref")
        sha = self._branch_sha(repo, ref) if ref else None
        if sha is not None and pull["state"] == "open":
            pull["head"]["sha"] = sha
        return pull

    def _list_pulls(self, call: _Call) -> Answer:
        state = call.query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _RefusedError(422, f"Validation Failed: state {state!r}")
        pulls = self.pulls(call.repo, state=state)
        if "head" in call.query:  # `user:ref`, the head repository's owner and branch
            pulls = [p for p in pulls if _head_label(p) == call.query["head"]]
        per_page = min(int(call.query.get("per_page", 30)), 100)
        page = int(call.query.get("page", 1))
        last = max(1, -(-len(pulls) // per_page))
        url = f"{call.base}/repos/{call.repo}/pulls"
        headers = {}
        if page < last:
            query = urlencode({**call.query, "per_page": per_page, "page": page + 1})
            headers["Link"] = f'<{url}?{query}>; rel="next"'
        return 200, headers, _json(pulls[(page - 1) * per_page : page * per_page])

    def _create_pull(self, call: _Call) -> Answer:
        repo, body = self.repos[call.repo], call.body
        allowed = {"title", "head", "base", "body", "draft", "maintainer_can_modify"}
        if not isinstance(body, dict) or not {"head", "base"} <= set(body) <= allowed:
            raise _RefusedError(422, f"Invalid request: keys {sorted(body or {})}")
        if not all(isinstance(body.get(key, ""), str) for key in ("title", "head", "base", "body")):
            raise _RefusedError(422, "Invalid request: title, head, base and body are strings")
        if not body.get("title"):
            raise _RefusedError(422, "Validation Failed: title is missing")
        head, base = body["head"], body["base"]
        head_sha = self._branch_sha(repo, head)
        if head_sha is None or self._branch_sha(repo, base) is None:
            raise _RefusedError(422, f"Validation Failed: head {head} or base {base} is invalid")
        if head == base:
            raise _RefusedError(422, f"Validation Failed: No commits between {base} and {head}")
        _text_body({"body": body.get("body", "")})  # the same length limit as a comment
        if any(p.get("head", {}).get("ref") == head for p in self.pulls(call.repo, state="open")):
            raise _RefusedError(422, f"Validation Failed: A pull request already exists for {head}")
        number = max([0, *repo.pulls, *repo.comments]) + 1
        owner = call.repo.split("/")[0]
        pull = {
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body.get("body", ""),
            "html_url": f"https://github.com/{call.repo}/pull/{number}",
            "head": {"ref": head, "sha": head_sha, "label": f"{owner}:{head}",
                     "repo": {"full_name": call.repo}},
            "base": {"ref": base, "repo": {"full_name": call.repo}},
            "labels": [],
        }  # fmt: skip
        repo.pulls[number] = pull
        repo.comments.setdefault(number, [])
        return 201, {"Location": f"{call.base}/repos/{call.repo}/pulls/{number}"}, _json(pull)

    def _update_pull(self, call: _Call) -> Answer:
        repo, body = self.repos[call.repo], call.body
        pull = repo.pulls.get(int(call.found[1]))
        if pull is None:
            raise _RefusedError(404, "Not Found")
        if not isinstance(body, dict) or not set(body) <= {"title", "body", "state", "base"}:
            raise _RefusedError(422, f"Invalid request: keys {sorted(body or {})}")
        if not body or not all(isinstance(value, str) for value in body.values()):
            raise _RefusedError(422, "Invalid request: string values wanted")
        if "body" in body:
            _text_body({"body": body["body"]})
        pull.update(body)
        return 200, {}, _json(self._refreshed(repo, pull))

    def _add_labels(self, call: _Call) -> Answer:
        repo, body, number = self.repos[call.repo], call.body, int(call.found[1])
        if number not in repo.comments:
            raise _RefusedError(404, "Not Found")
        labels = body.get("labels") if isinstance(body, dict) and set(body) == {"labels"} else None
        if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
            raise _RefusedError(422, 'Invalid request: {"labels": [string]} wanted')
        names = repo.labels.setdefault(number, [])
        names += [label for label in labels if label not in names]
        if number in repo.pulls:
            repo.pulls[number]["labels"] = [{"name": name} for name in names]
        return 200, {}, _json([{"name": name} for name in names])

    def _issue(self, call: _Call) -> list[dict[str, Any]]:
        comments = self.repos[call.repo].comments.get(int(call.found[1]))
        if comments is None:
            raise _RefusedError(404, "Not Found")
        return comments

    def _list_comments(self, call: _Call) -> Answer:
        comments = self._issue(call)
        per_page = min(int(call.query.get("per_page", 30)), 100)
        page = int(call.query.get("page", 1))
        last = max(1, -(-len(comments) // per_page))
        url = f"{call.base}/repos/{call.repo}/issues/{call.found[1]}/comments"
        rels = [("next", page + 1), ("last", last)] if page < last else []
        rels += [("prev", page - 1), ("first", 1)] if page > 1 else []
        links = ", ".join(
            f'<{url}?{urlencode({"per_page": per_page, "page": number})}>; rel="{rel}"'
            for rel, number in rels
        )
        headers = {"Link": links} if links else {}
        return 200, headers, _json(comments[(page - 1) * per_page : page * per_page])

    def _create_comment(self, call: _Call) -> Answer:
        comments = self._issue(call)
        comment = self._new_comment(call.repo, int(call.found[1]), _text_body(call.body))
        comments.append(comment)
        return 201, {"Location": comment["url"]}, _json(comment)

    def _find_comment(self, call: _Call) -> tuple[list[dict[str, Any]], int]:
        for comments in self.repos[call.repo].comments.values():
            for index, comment in enumerate(comments):
                if comment["id"] == int(call.found[1]):
                    return comments, index
        raise _RefusedError(404, "Not Found")

    def _update_comment(self, call: _Call) -> Answer:
        comments, index = self._find_comment(call)
        comments[index] = {**comments[index], "body": _text_body(call.body), "updated_at": _now()}
        return 200, {}, _json(comments[index])

    def _delete_comment(self, call: _Call) -> Answer:
        comments, index = self._find_comment(call)
        del comments[index]
        return 204, {}, b""

    def _get_ref(self, call: _Call) -> Answer:
        sha = self.repos[call.repo].branches.get(call.found[1])
        if sha is None:
            raise _RefusedError(404, "Not Found")
        return 200, {}, _json(_ref(call.found[1], sha))

    def _create_ref(self, call: _Call) -> Answer:
        repo, body = self.repos[call.repo], call.body
        if not isinstance(body, dict) or set(body) != {"ref", "sha"}:
            raise _RefusedError(422, "Invalid request: 'ref' and 'sha' wanted")
        ref, sha = body["ref"], body["sha"]
        if not isinstance(ref, str) or not ref.startswith("refs/heads/") or ref.count("/") < 2:
            raise _RefusedError(422, "Reference name must start with 'refs/' and have two slashes")
        if sha not in repo.commits:
            raise _RefusedError(422, "Object does not exist")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.branches:
            raise _RefusedError(422, "Reference already exists")
        repo.branches[branch] = sha
        return 201, {}, _json(_ref(branch, sha))

    def _get_file(self, call: _Call) -> Answer:
        repo = self.repos[call.repo]
        ref = call.query.get("ref", repo.default_branch)
        commit = ref if ref in repo.commits else repo.branches.get(ref, "")  # a sha or a branch
        data = repo.commits.get(commit, {}).get(call.found[1])
        if data is None:
            raise _RefusedError(404, "Not Found")
        return 200, {}, _json(_file(call.found[1], data))

    def _put_file(self, call: _Call) -> Answer:
        repo, path, body = self.repos[call.repo], call.found[1], call.body
        if not isinstance(body, dict) or not {"message", "content"} <= set(body):
            raise _RefusedError(422, "Invalid request: 'message' and 'content' are required")
        if set(body) - {"message", "content", "branch", "sha", "committer", "author"}:
            raise _RefusedError(422, f"Invalid request: unexpected keys {sorted(body)}")
        if not isinstance(body["message"], str) or not body["message"]:
            raise _RefusedError(422, "Invalid request: 'message' must be a non-empty string")
        try:
            data = base64.b64decode(body["content"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise _RefusedError(422, "content is not valid Base64") from None
        branch = body.get("branch", repo.default_branch)
        if branch not in repo.branches:
            raise _RefusedError(404, f"Branch {branch} not found")
        files = repo.commits[repo.branches[branch]]
        if path in files and "sha" not in body:
            raise _RefusedError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if path in files and body["sha"] != _blob_sha(files[path]):
            raise _RefusedError(409, f"{path} does not match {body['sha']}")
        created = path not in files
        commit = self._commit(repo, {**files, path: data})
        repo.branches[branch] = commit
        answer = {"content": _file(path, data), "commit": {"sha": commit}}
        return (201 if created else 200), {}, _json(answer)

    def _commit(self, repo: FakeRepo, files: dict[str, bytes]) -> str:
        sha = hashlib.sha1(f"commit {len(repo.commits)} {sorted(files)}".encode()).hexdigest()
        repo.commits[sha] = files
        return sha

    def _new_comment(
        self, name: str, number: int, body: str, *, author: str | None = None
    ) -> dict[str, Any]:
        comment_id = next(self._ids)
        return {
            "id": comment_id,
            "url": f"https://api.github.com/repos/{name}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{name}/pull/{number}#issuecomment-{comment_id}",
            "body": body,
            "user": {"login": author or self.login},
            "created_at": _now(),
            "updated_at": _now(),
        }


class _RefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _text_body(body: Any) -> str:
    """A comment's `{"body": str}`, or the 422 GitHub gives for anything else."""
    if not isinstance(body, dict) or set(body) != {"body"} or not isinstance(body["body"], str):
        raise _RefusedError(422, 'Invalid request: {"body": string} wanted')
    if len(body["body"]) > 65_536:
        raise _RefusedError(422, "Body is too long (maximum is 65536 characters)")
    return body["body"]


def _head_label(pull: dict[str, Any]) -> str:
    head = pull.get("head", {})
    owner = str(head.get("repo", {}).get("full_name", "")).split("/")[0]
    return f"{owner}:{head.get('ref', '')}"


def _ref(branch: str, sha: str) -> dict[str, Any]:
    return {"ref": f"refs/heads/{branch}", "object": {"sha": sha, "type": "commit"}}


def _file(path: str, data: bytes) -> dict[str, Any]:
    return {
        "type": "file",
        "path": path,
        "sha": _blob_sha(data),
        "size": len(data),
        "encoding": "base64",
        "content": base64.encodebytes(data).decode("ascii"),
    }


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _error(status: int, message: str) -> Answer:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return status, {"Content-Type": "application/json; charset=utf-8"}, _json(body)


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
