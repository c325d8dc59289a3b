"""The GitHub stand-in's delivery record: deployments with their statuses, and issues.

A mixin of `FakeGitHub` (tests/standins/github.py): routes for `mlgitops history` and
release.yml, and helpers that script a past (PRs merged at given times, deployments with
statuses at given times). Requests are checked against GitHub's OpenAPI description like all
the others.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from tests.standins.github import FakeRepo, _Call

Answer = tuple[int, dict[str, str], bytes]
_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}


class RefusedError(Exception):
    """Raised by a route for GitHub's error answer; github.py turns it into one."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RecordRoutes:
    """Deployments, deployment statuses and issues, per repository."""

    repos: dict[str, FakeRepo]
    deployments: dict[str, list[dict[str, Any]]]
    issues: dict[str, dict[int, dict[str, Any]]]
    workflow_runs: dict[str, list[dict[str, Any]]]  # repo -> runs, each with its jobs
    login: str

    def _records_init(self) -> None:
        self.deployments, self.issues, self.workflow_runs = {}, {}, {}
        self._stamp = 0

    # Scripting the past.
    def add_merged_pull(
        self,
        name: str,
        number: int,
        *,
        title: str,
        created_at: str,
        merged_at: str | None,
        merge_commit_sha: str | None,
        labels: tuple[str, ...] = (),
    ) -> None:
        """A closed pull request: merged at `merged_at` as `merge_commit_sha`, or not merged."""
        repo = self.repos[name]
        repo.pulls[number] = {
            "number": number, "state": "closed", "title": title, "created_at": created_at,
            "merged_at": merged_at, "closed_at": merged_at or created_at,
            "merge_commit_sha": merge_commit_sha, "labels": [{"name": x} for x in labels],
            "head": {"ref": f"pr-{number}", "sha": merge_commit_sha or "0" * 40,
                     "repo": {"full_name": name}},
            "base": {"ref": repo.default_branch, "repo": {"full_name": name}},
        }  # fmt: skip
        repo.comments.setdefault(number, [])
        repo.labels[number] = list(labels)

    def add_deployment(
        self,
        name: str,
        *,
        sha: str,
        created_at: str,
        statuses: list[tuple[str, str, str]],
        environment: str = "production",
        task: str = "deploy:mlgitops",
    ) -> int:
        """A deployment of `sha` with (state, created_at, description) statuses; its id."""
        found = self.deployments.setdefault(name, [])
        deployment = self._deployment(name, sha, environment, created_at, {}, task)
        deployment["statuses"] = [
            self._status(deployment, state, at, text) for state, at, text in statuses
        ]
        found.append(deployment)
        return int(deployment["id"])

    def add_workflow_run(
        self, name: str, workflow: str, *, created_at: str, jobs: dict[str, str]
    ) -> None:
        """A finished run of `workflow` (its file name) with {job name: conclusion}."""
        runs = self.workflow_runs.setdefault(name, [])
        runs.append({
            "id": 5000 + len(runs), "path": f".github/workflows/{workflow}",
            "created_at": created_at, "status": "completed",
            "jobs": [{"name": job, "conclusion": done, "status": "completed"}
                     for job, done in jobs.items()],
        })  # fmt: skip

    def deployment_statuses(self, name: str) -> list[list[dict[str, Any]]]:
        return [d["statuses"] for d in self.deployments.get(name, [])]

    # Routes.
    def _record_routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/deployments", "GET", self._list_deployments),
            (r"/deployments", "POST", self._create_deployment),
            (r"/deployments/(\d+)/statuses", "GET", self._list_statuses),
            (r"/deployments/(\d+)/statuses", "POST", self._create_status),
            (r"/issues", "GET", self._list_issues),
            (r"/issues", "POST", self._create_issue),
            (r"/issues/(\d+)", "PATCH", self._update_issue),
            (r"/actions/workflows/([^/]+)/runs", "GET", self._list_runs),
            (r"/actions/runs/(\d+)/jobs", "GET", self._list_jobs),
        ]

    def _list_runs(self, call: _Call) -> Answer:
        runs = [r for r in self.workflow_runs.get(call.repo, [])
                if r["path"].endswith("/" + call.found[1])]  # fmt: skip
        if not runs:
            raise RefusedError(404, "Not Found")  # no such workflow file
        since = call.query.get("created", ">=").removeprefix(">=")
        shown = [{k: v for k, v in r.items() if k != "jobs"} for r in runs
                 if r["created_at"] >= since][::-1]  # fmt: skip
        return 200, {}, _json({"total_count": len(shown), "workflow_runs": shown})

    def _list_jobs(self, call: _Call) -> Answer:
        for run in self.workflow_runs.get(call.repo, []):
            if run["id"] == int(call.found[1]):
                return 200, {}, _json({"total_count": len(run["jobs"]), "jobs": run["jobs"]})
        raise RefusedError(404, "Not Found")

    def _deployment(
        self,
        name: str,
        sha: str,
        environment: str,
        created_at: str,
        payload: dict[str, Any],
        task: str = "deploy",
    ) -> dict[str, Any]:
        number = 1 + sum(len(d) for d in self.deployments.values())
        return {
            "id": number, "sha": sha, "ref": sha, "environment": environment, "task": task,
            "payload": payload, "created_at": created_at, "updated_at": created_at,
            "url": f"https://api.github.com/repos/{name}/deployments/{number}", "statuses": [],
        }  # fmt: skip

    def _status(
        self, deployment: dict[str, Any], state: str, created_at: str, description: str
    ) -> dict[str, Any]:
        return {
            "id": len(deployment["statuses"]) + 1, "state": state, "created_at": created_at,
            "description": description, "environment": deployment["environment"],
        }  # fmt: skip

    def _find_deployment(self, call: _Call) -> dict[str, Any]:
        for deployment in self.deployments.get(call.repo, []):
            if deployment["id"] == int(call.found[1]):
                return deployment
        raise RefusedError(404, "Not Found")

    def _list_deployments(self, call: _Call) -> Answer:
        found = [
            {k: v for k, v in d.items() if k != "statuses"}
            for d in self.deployments.get(call.repo, [])
            if call.query.get("environment") in (None, d["environment"])
            and call.query.get("task") in (None, d["task"])
        ][::-1]  # newest first, as GitHub lists them
        return _page(call, found, f"/repos/{call.repo}/deployments")

    def _create_deployment(self, call: _Call) -> Answer:
        body = call.body
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
            raise RefusedError(422, "Invalid request: 'ref' wanted")
        if body.get("required_contexts") != [] or body.get("auto_merge") is not False:
            # GitHub would check the ref's statuses and try merging the default branch into it.
            raise RefusedError(409, "Conflict: the ref's required contexts are not all success")
        stamp = _clock(self)
        deployment = self._deployment(
            call.repo, body["ref"], str(body.get("environment", "production")), stamp,
            body.get("payload") or {}, str(body.get("task", "deploy")),
        )  # fmt: skip
        self.deployments.setdefault(call.repo, []).append(deployment)
        return 201, {}, _json({k: v for k, v in deployment.items() if k != "statuses"})

    def _list_statuses(self, call: _Call) -> Answer:
        statuses = self._find_deployment(call)["statuses"][::-1]  # newest first
        url = f"/repos/{call.repo}/deployments/{call.found[1]}/statuses"
        return _page(call, statuses, url)

    def _create_status(self, call: _Call) -> Answer:
        deployment, body = self._find_deployment(call), call.body
        if not isinstance(body, dict) or body.get("state") not in _STATES:
            raise RefusedError(422, "Invalid request: 'state' is not a deployment state")
        if len(str(body.get("description", ""))) > 140:
            raise RefusedError(422, "Validation Failed: description is too long (maximum is 140)")
        status = self._status(deployment, body["state"], _clock(self), body.get("description", ""))
        status["log_url"] = body.get("log_url", "")
        deployment["statuses"].append(status)
        return 201, {}, _json(status)

    def _list_issues(self, call: _Call) -> Answer:
        wanted = set(filter(None, call.query.get("labels", "").split(",")))
        state = call.query.get("state", "open")
        found = [
            issue
            for _, issue in sorted(self.issues.get(call.repo, {}).items())
            if wanted <= {label["name"] for label in issue["labels"]}
            and state in ("all", issue["state"])
        ]
        return _page(call, found, f"/repos/{call.repo}/issues")

    def _create_issue(self, call: _Call) -> Answer:
        body, repo = call.body, self.repos[call.repo]
        if not isinstance(body, dict) or not isinstance(body.get("title"), str):
            raise RefusedError(422, "Invalid request: 'title' wanted")
        if len(str(body.get("body", ""))) > 65_536:
            raise RefusedError(422, "Body is too long (maximum is 65536 characters)")
        issues = self.issues.setdefault(call.repo, {})
        number = max([0, *repo.pulls, *repo.comments, *issues]) + 1
        issue = {
            "number": number, "title": body["title"], "body": body.get("body", ""),
            "state": "open", "user": {"login": self.login},
            "labels": [{"name": name} for name in body.get("labels", [])],
            "html_url": f"https://github.com/{call.repo}/issues/{number}",
        }  # fmt: skip
        issues[number] = issue
        repo.comments.setdefault(number, [])
        return 201, {}, _json(issue)

    def _update_issue(self, call: _Call) -> Answer:
        issue = self.issues.get(call.repo, {}).get(int(call.found[1]))
        if issue is None:
            raise RefusedError(404, "Not Found")
        if not isinstance(call.body, dict) or set(call.body) - {"title", "body", "state"}:
            raise RefusedError(422, f"Invalid request: keys {sorted(call.body or {})}")
        issue.update(call.body)
        return 200, {}, _json(issue)


def _clock(fake: Any) -> str:
    """Distinct, increasing timestamps for what the code under test creates."""
    fake._stamp += 1
    return f"2027-01-01T00:{fake._stamp // 60:02d}:{fake._stamp % 60:02d}Z"


def _page(call: _Call, items: list[dict[str, Any]], path: str) -> Answer:
    per_page = min(int(call.query.get("per_page", 30)), 100)
    page = int(call.query.get("page", 1))
    headers = {}
    if page * per_page < len(items):
        query = urlencode({**call.query, "per_page": per_page, "page": page + 1})
        headers["Link"] = f'<{call.base}{path}?{query}>; rel="next"'
    return 200, headers, _json(items[(page - 1) * per_page : page * per_page])


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()
