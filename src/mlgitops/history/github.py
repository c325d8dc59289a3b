"""What the delivery record reads from and writes to GitHub: PRs, deployments, statuses, issues.

The calls go through the publisher's `GitHubClient` (one HTTP layer: retries, pages, errors);
this module adds the paths it lacks and reads the answers into small records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlgitops.publish.github import GitHubClient

_PAGE = {"per_page": 100}
FAILED = frozenset({"failure", "error"})
FINAL = FAILED | {"success", "inactive"}  # a status that ends a deployment's story
ROLLED_BACK = "rolled back"  # how release.yml's failure descriptions begin after a rollback
# A job with `environment:` makes GitHub create a deployment of its own (its status is the
# job's, with no rollback in it); ours carry this task, and only those are read.
TASK = "deploy:mlgitops"


def when(text: str | None) -> datetime | None:
    """GitHub's `2026-01-02T03:04:05Z` as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass(frozen=True)
class Pull:
    number: int
    title: str
    created: datetime
    merged: datetime | None
    merge_sha: str | None
    labels: frozenset[str]


@dataclass(frozen=True)
class Status:
    state: str
    at: datetime
    description: str

    @property
    def rolled_back(self) -> bool:
        return self.state in FAILED and self.description.lower().startswith(ROLLED_BACK)


@dataclass(frozen=True)
class Deployment:
    id: int
    sha: str
    environment: str
    created: datetime
    statuses: tuple[Status, ...]  # oldest first

    @property
    def outcome(self) -> Status | None:
        """The last final status (success, failure, error); None while it has none."""
        final = [s for s in self.statuses if s.state in FINAL - {"inactive"}]
        return final[-1] if final else None


class HistoryClient(GitHubClient):
    """The publisher's client, plus deployments and issues."""

    def list_all_pulls(self, repo: str, *, since: datetime | None = None) -> list[Pull]:
        """Every PR updated since `since` (opened or merged in the window implies it): asked
        newest-updated first, the listing stops at the first older one."""
        found = []
        params = {**_PAGE, "state": "all", "sort": "updated", "direction": "desc"}
        for raw in self.pages(f"repos/{repo}/pulls", params=params):
            updated = when(raw.get("updated_at"))
            if since is not None and updated is not None and updated < since:
                break
            created = when(raw.get("created_at"))
            if created is None:
                continue
            labels = frozenset(str(label.get("name")) for label in raw.get("labels") or [])
            found.append(
                Pull(
                    number=int(raw["number"]),
                    title=str(raw.get("title") or ""),
                    created=created,
                    merged=when(raw.get("merged_at")),
                    merge_sha=raw.get("merge_commit_sha") if raw.get("merged_at") else None,
                    labels=labels,
                )
            )
        return found

    def list_deployments(
        self, repo: str, environment: str, *, since: datetime | None = None
    ) -> list[Deployment]:
        """The environment's deployments made since `since`, with their statuses (one call per
        deployment: the listing does not carry them, so older ones are not asked about)."""
        params = {**_PAGE, "environment": environment, "task": TASK}
        found = []
        for raw in self.pages(f"repos/{repo}/deployments", params=params):
            created = when(raw.get("created_at"))
            if created is None or (since is not None and created < since):
                continue
            statuses = [
                Status(str(s.get("state")), at, str(s.get("description") or ""))
                for s in self.pages(f"repos/{repo}/deployments/{raw['id']}/statuses", params=_PAGE)
                if (at := when(s.get("created_at"))) is not None
            ]
            statuses.sort(key=lambda s: s.at)
            found.append(
                Deployment(int(raw["id"]), str(raw["sha"]), environment, created, tuple(statuses))
            )
        return sorted(found, key=lambda d: d.created)

    def create_deployment(
        self, repo: str, *, sha: str, environment: str, payload: dict[str, str], description: str
    ) -> dict[str, Any]:
        """A deployment of `sha`, no merge, no required checks (the release already ran them);
        not retried on 5xx: GitHub may have made it anyway."""
        body = {
            "ref": sha,
            "task": TASK,
            "environment": environment,
            "payload": payload,
            "description": description[:140],
            "auto_merge": False,
            "required_contexts": [],
            "production_environment": environment == "production",
        }
        return self.request_object("POST", f"repos/{repo}/deployments", json=body, idempotent=False)

    def create_deployment_status(
        self, repo: str, deployment: int, *, state: str, description: str, log_url: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"state": state, "description": description[:140]}
        if log_url:
            body["log_url"] = log_url
        path = f"repos/{repo}/deployments/{deployment}/statuses"
        return self.request_object("POST", path, json=body, idempotent=False)

    def drift_checks(
        self, repo: str, workflow: str, job: str, since: datetime
    ) -> list[tuple[datetime, bool]]:
        """(when, found drift) per run of the drift-check `workflow` since `since`: it found
        drift when its `job` (the one that runs only then) ran, i.e. was not skipped."""
        params = {**_PAGE, "created": f">={since:%Y-%m-%d}"}
        path = f"repos/{repo}/actions/workflows/{workflow}/runs"
        found = []
        for run in self.request_object("GET", path, params=params).get("workflow_runs") or []:
            created = when(run.get("created_at"))
            if created is None:
                continue
            jobs = self.request_object("GET", f"repos/{repo}/actions/runs/{run['id']}/jobs")
            ran = any(
                j.get("name") == job and j.get("conclusion") not in (None, "skipped")
                for j in jobs.get("jobs") or []
            )
            found.append((created, ran))
        return found

    def list_issues(self, repo: str, *, labels: str) -> list[dict[str, Any]]:
        params = {**_PAGE, "state": "all", "labels": labels}
        return [
            i for i in self.pages(f"repos/{repo}/issues", params=params) if "pull_request" not in i
        ]

    def create_issue(
        self, repo: str, *, title: str, body: str, labels: list[str]
    ) -> dict[str, Any]:
        payload = {"title": title, "body": body, "labels": labels}
        return self.request_object("POST", f"repos/{repo}/issues", json=payload, idempotent=False)

    def update_issue(self, repo: str, number: int, *, title: str, body: str) -> dict[str, Any]:
        payload = {"title": title, "body": body, "state": "open"}
        return self.request_object("PATCH", f"repos/{repo}/issues/{number}", json=payload)
