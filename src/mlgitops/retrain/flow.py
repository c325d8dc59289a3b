"""retrain-pr from start to end: snapshot, validate, push the data, commit the pointer, open the PR.

Order matters for "bad data stops here": the snapshot is validated by the pipeline's own stages
before anything leaves the machine; a failure restores the workspace (the data file, its pointer
and whatever the validating run rewrote) and pushes nothing. Only the pointer is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from mlgitops.errors import CheckFailedError, RemoteError, UsageError
from mlgitops.publish.assets import upload_images
from mlgitops.publish.github import GitHubClient
from mlgitops.retrain.body import linked_images, pull_body
from mlgitops.retrain.branch import COMMIT_PREFIX, new_branch, ours_without_pull
from mlgitops.retrain.pull_request import OpenPull, find_open_pull, open_or_update
from mlgitops.retrain.settings import RetrainSettings
from mlgitops.retrain.snapshot import (
    SnapshotChange,
    incoming_files,
    is_text_table,
    merge_labelled,
    read_labelled,
    read_table,
    write_table,
)
from mlgitops.retrain.verdict import DriftVerdict
from mlgitops.retrain.workspace import Workspace

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RetrainRequest:
    """Everything one run needs; `repo` and a client are needed unless `dry_run`."""

    root: Path
    settings: RetrainSettings
    verdict: DriftVerdict
    base: str
    today: date
    repo: str | None = None
    dry_run: bool = False
    site: str = "https://github.com"  # the web address image links point at


@dataclass(frozen=True)
class Outcome:
    """What the run did: not due, nothing new, dry run, opened, updated, up to date."""

    action: str
    message: str
    change: SnapshotChange | None = None
    branch: str | None = None
    number: int | None = None
    body: str | None = None


def _read_tracked(root: Path, data: Path, *, rev: str, text: bool) -> pd.DataFrame:
    """The tracked table as revision `rev` has it (from the DVC cache, or the remote)."""
    from dvc.api import DVCFileSystem
    from dvc.exceptions import DvcException

    try:
        fs = DVCFileSystem(str(root), rev=rev)
        with fs.open(data.as_posix(), mode="rb") as handle:
            return read_table(handle, name=data.as_posix(), text=text)
    except (DvcException, OSError) as error:
        raise UsageError(
            f"cannot read {data} at {rev} through DVC ({type(error).__name__}: {error}); "
            "run `dvc pull` or check the DVC remote"
        ) from None


def _restore(workspace: Workspace, settings: RetrainSettings) -> None:
    """Puts back what the run changed: tracked files from HEAD, DVC outputs from the cache."""
    changed = workspace.changed_tracked()
    if changed:
        workspace.git("checkout", "HEAD", "--", *changed)
    targets = [str(settings.pointer), *settings.validate_stages]
    ran = workspace.run("dvc", "checkout", "--force", "--with-deps", *targets)
    if not ran.ok:
        logger.warning("retrain: `dvc checkout %s` failed:\n%s", " ".join(targets), ran.tail())


@dataclass(frozen=True)
class _Start:
    """Where the snapshot starts: a revision, the branch to commit on, the open PR if any."""

    rev: str
    branch: str
    base_rev: str
    existing: OpenPull | None
    orphan: bool = False  # an earlier run pushed `branch` but opened no PR: reuse it


def _choose_start(
    request: RetrainRequest, workspace: Workspace, client: GitHubClient | None, progress: Progress
) -> _Start:
    """The open retraining PR's branch, else a new branch from the base (HEAD in a dry run)."""
    settings = request.settings
    if client is None or request.repo is None:  # dry run: no remote calls at all
        branch = f"{settings.branch_prefix}{request.today.isoformat()}"
        return _Start("HEAD", branch, "HEAD", None)
    existing = find_open_pull(client, request.repo, prefix=settings.branch_prefix)
    base_rev = workspace.fetch(request.base)
    if existing is not None:
        progress(f"open retraining PR #{existing.number} ({existing.branch}): updating it")
        return _Start(workspace.fetch(existing.branch), existing.branch, base_rev, existing)
    orphaned = ours_without_pull(workspace, client, request.repo)
    branch, orphan = new_branch(workspace, settings.branch_prefix, request.today, orphaned)
    if orphan:
        progress(f"{branch} was pushed by an earlier run that opened no PR: reusing it")
        return _Start(workspace.fetch(branch), branch, base_rev, None, orphan=True)
    return _Start(base_rev, branch, base_rev, None)


def _validate(request: RetrainRequest, workspace: Workspace, progress: Progress) -> None:
    """`dvc repro` of the validating stages on the snapshot in place; a failure restores the
    workspace and raises CheckFailedError with the stage's report."""
    settings = request.settings
    stages = list(settings.validate_stages)
    progress(f"validating the snapshot: dvc repro {' '.join(stages)}")
    validated = workspace.run("dvc", "repro", *stages)
    if not validated.ok:
        _restore(workspace, settings)
        raise CheckFailedError(
            f"the new snapshot of {settings.data} failed validation (`dvc repro "
            f"{' '.join(stages)}` exit {validated.returncode}); nothing was pushed and "
            f"{settings.pointer} is unchanged. Fix or remove the labelled file(s) in "
            f"{settings.incoming}:\n{validated.tail()}"
        )


def _commit_pointer(
    request: RetrainRequest,
    workspace: Workspace,
    start: _Start,
    change: SnapshotChange,
    progress: Progress,
) -> None:
    """dvc add + push the snapshot, then commit only the pointer on the branch and push it."""
    settings, verdict = request.settings, request.verdict
    progress(f"dvc add {settings.data} and dvc push")
    workspace.dvc("add", "--quiet", str(settings.data))
    workspace.dvc("push", "--quiet", str(settings.pointer), remote=True)
    pointer_text = (request.root / settings.pointer).read_text(encoding="utf-8")
    changed = workspace.changed_tracked()
    if changed:  # the pointer, and what the validating run rewrote (dvc.lock, reports)
        workspace.git("checkout", "HEAD", "--", *changed)
    workspace.git("checkout", "--quiet", "-B", start.branch, start.rev)
    (request.root / settings.pointer).write_text(pointer_text, encoding="utf-8")
    workspace.git("add", str(settings.pointer))
    if workspace.run("git", "diff", "--cached", "--quiet").ok:
        progress(f"{start.branch} already has this snapshot")
        return
    message = (
        f"{COMMIT_PREFIX}{settings.data} with {change.added} new and {change.updated} updated "
        f"labelled rows ({change.rows_before} -> {change.rows_after})\n\n"
        f"Drift: {', '.join(verdict.drifted) or 'policy'}; {verdict.rows} logged rows."
    )
    workspace.git("commit", "--quiet", "--no-verify", "-m", message)
    progress(f"pushing {start.branch} to origin")
    workspace.git("push", "--quiet", "origin", f"HEAD:refs/heads/{start.branch}", remote=True)


def _publish(
    request: RetrainRequest,
    client: GitHubClient,
    start: _Start,
    reported: SnapshotChange,
    head: str,
    progress: Progress,
) -> tuple[str, int, str]:
    """Opens or updates the PR and completes it (drift pictures on the assets branch, linked
    in the body) before the optional labels, so a failure there leaves a whole PR; a re-run
    finds it open and does every step again, each one idempotent."""
    assert request.repo is not None
    settings, verdict = request.settings, request.verdict

    def body(urls: dict[str, str] | None = None) -> str:
        return pull_body(
            verdict.markdown, reported, data=settings.data.as_posix(),
            pointer=settings.pointer.as_posix(), image_urls=urls,
        )  # fmt: skip

    action, number, url = open_or_update(
        client, request.repo, existing=start.existing, branch=start.branch, base=request.base,
        title=settings.pr_title, body=body(),
    )  # fmt: skip
    images = _pictures(verdict)
    if images:  # their path holds the PR's number: uploaded once it is known, then linked
        progress(f"uploading {len(images)} drift picture(s) to the assets branch")
        urls = upload_images(client, request.repo, images, pr=number, sha=head, site=request.site)
        client.update_pull(request.repo, number, body=body(urls))
    if settings.pr_labels:
        try:
            client.add_labels(request.repo, number, list(settings.pr_labels))
        except RemoteError as error:
            raise RemoteError(
                f"PR #{number} is {action} and complete (body and pictures), but adding its "
                f"labels failed: {error}. A re-run adds them"
            ) from None
    return action, number, url


def retrain_pr(request: RetrainRequest, client: GitHubClient | None, progress: Progress) -> Outcome:
    """Runs the whole loop; raises UsageError, CheckFailedError (bad data) or RemoteError."""
    verdict, settings = request.verdict, request.settings
    if not verdict.due:
        return Outcome("not due", f"{verdict.reason}; nothing to do")
    if not request.dry_run and (client is None or request.repo is None):
        raise UsageError("a repository and a GitHub client are needed unless --dry-run")
    progress(verdict.reason)
    workspace = Workspace(request.root)
    workspace.git("rev-parse", "--show-toplevel")
    dirty = workspace.changed_tracked()
    if dirty:
        raise UsageError(
            f"the working tree has uncommitted changes ({', '.join(dirty[:5])}); retrain-pr "
            "commits only the data pointer and needs a clean tree: commit or drop them first"
        )
    text = is_text_table(settings.data)
    start = _choose_start(request, workspace, None if request.dry_run else client, progress)
    incoming = settings.incoming

    progress(f"reading {settings.data} at {start.rev} and the labelled files in {incoming}")
    tracked = _read_tracked(request.root, settings.data, rev=start.rev, text=text)
    files = incoming_files(incoming if incoming.is_absolute() else request.root / incoming)
    labelled = read_labelled(files, text=text)
    snapshot, change = merge_labelled(tracked, labelled, id_column=settings.id_column)
    progress(
        f"snapshot: {change.rows_before} -> {change.rows_after} rows ({change.added} new, "
        f"{change.updated} updated, {change.unchanged} unchanged) from {len(files)} file(s)"
    )
    reported = change  # the PR body compares with the base branch, not with the PR's last push
    if start.rev != start.base_rev:  # an open PR's branch, or one an earlier run left
        on_base = _read_tracked(request.root, settings.data, rev=start.base_rev, text=text)
        reported = merge_labelled(on_base, labelled, id_column=settings.id_column)[1]

    if not change.changed:
        if start.existing is None and not start.orphan:
            message = f"retraining is due, but {incoming} has no new labelled rows; nothing to open"
            return Outcome("nothing new", message, change)
        # the branch has these rows already: refresh the open PR's report, or open the PR
        has = f"PR #{start.existing.number}" if start.existing else start.branch
        progress(f"{has} already has these rows")
        head = workspace.git("rev-parse", start.rev)
    else:
        write_table(snapshot, request.root / settings.data)
        _validate(request, workspace, progress)
        if request.dry_run:
            _restore(workspace, settings)
            body = pull_body(verdict.markdown, reported, data=settings.data.as_posix(),
                             pointer=settings.pointer.as_posix())  # fmt: skip
            message = "the snapshot validates; dry run: nothing pushed"
            return Outcome("dry run", message, change, start.branch, None, body)
        _commit_pointer(request, workspace, start, change, progress)
        head = workspace.git("rev-parse", "HEAD")
    assert client is not None
    action, number, url = _publish(request, client, start, reported, head, progress)
    return Outcome(action, f"{action} PR #{number} {url}".strip(), change, start.branch, number)


def _pictures(verdict: DriftVerdict) -> dict[str, bytes]:
    """The PNG files drift.md links that are in the report folder (others stay named only)."""
    found = {}
    for name in linked_images(verdict.markdown):
        path = verdict.folder / name
        if name.endswith(".png") and "/" not in name and path.is_file():
            found[name] = path.read_bytes()
    return found
