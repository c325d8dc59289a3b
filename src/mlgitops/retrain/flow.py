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

from mlgitops.errors import CheckFailedError, UsageError
from mlgitops.publish.assets import upload_images
from mlgitops.publish.github import GitHubClient
from mlgitops.retrain.body import linked_images, pull_body
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
_MAX_SAME_DAY_BRANCHES = 20


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


def _new_branch(workspace: Workspace, prefix: str, today: date) -> str:
    """retrain/<date>, or retrain/<date>-2... when a closed PR's branch is still there."""
    name = f"{prefix}{today.isoformat()}"
    for attempt in range(1, _MAX_SAME_DAY_BRANCHES + 1):
        candidate = name if attempt == 1 else f"{name}-{attempt}"
        if not workspace.remote_branch_exists(candidate):
            return candidate
    raise UsageError(f"origin has {_MAX_SAME_DAY_BRANCHES} branches {name}-*; delete old ones")


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

    # Where the snapshot starts from: the open retraining PR's branch, else the base branch.
    existing: OpenPull | None = None
    if request.dry_run:
        start, branch = "HEAD", f"{settings.branch_prefix}{request.today.isoformat()}"
    else:
        assert client is not None and request.repo is not None
        existing = find_open_pull(client, request.repo, prefix=settings.branch_prefix)
        base_ref = workspace.fetch(request.base)
        if existing is not None:
            progress(f"open retraining PR #{existing.number} ({existing.branch}): updating it")
            start, branch = workspace.fetch(existing.branch), existing.branch
        else:
            start, branch = base_ref, _new_branch(workspace, settings.branch_prefix, request.today)

    progress(f"reading {settings.data} at {start} and the labelled files in {settings.incoming}")
    tracked = _read_tracked(request.root, settings.data, rev=start, text=text)
    incoming = settings.incoming
    files = incoming_files(incoming if incoming.is_absolute() else request.root / incoming)
    labelled = read_labelled(files, text=text)
    snapshot, change = merge_labelled(tracked, labelled, id_column=settings.id_column)
    reported = change
    if existing is not None:  # the body compares with the base branch, not the PR's last push
        on_base = _read_tracked(request.root, settings.data, rev=base_ref, text=text)
        reported = merge_labelled(on_base, labelled, id_column=settings.id_column)[1]
    body = pull_body(
        verdict.markdown, reported, data=settings.data.as_posix(),
        pointer=settings.pointer.as_posix(),
    )  # fmt: skip
    progress(
        f"snapshot: {change.rows_before} -> {change.rows_after} rows ({change.added} new, "
        f"{change.updated} updated, {change.unchanged} unchanged) from {len(files)} file(s)"
    )
    if not change.changed:
        if existing is not None and client is not None and request.repo is not None:
            client.update_pull(request.repo, existing.number, body=body)
            message = f"PR #{existing.number} already has these rows; its drift report updated"
            return Outcome("up to date", message, change, branch, existing.number, body)
        return Outcome(
            "nothing new",
            f"retraining is due, but {incoming} has no new labelled rows; nothing to open",
            change,
        )

    data_path = request.root / settings.data
    write_table(snapshot, data_path)
    stages = list(settings.validate_stages)
    progress(f"validating the snapshot: dvc repro {' '.join(stages)}")
    validated = workspace.run("dvc", "repro", *stages)
    if not validated.ok:
        _restore(workspace, settings)
        raise CheckFailedError(
            f"the new snapshot of {settings.data} failed validation (`dvc repro "
            f"{' '.join(stages)}` exit {validated.returncode}); nothing was pushed and "
            f"{settings.pointer} is unchanged. Fix or remove the labelled file(s) in {incoming}:"
            f"\n{validated.tail()}"
        )
    if request.dry_run:
        _restore(workspace, settings)
        return Outcome("dry run", "the snapshot validates; dry run: nothing pushed", change,
                       branch, None, body)  # fmt: skip

    assert client is not None and request.repo is not None
    progress(f"dvc add {settings.data} and dvc push")
    workspace.dvc("add", "--quiet", str(settings.data))
    workspace.dvc("push", "--quiet", str(settings.pointer), remote=True)
    pointer_text = (request.root / settings.pointer).read_text(encoding="utf-8")
    changed = workspace.changed_tracked()
    if changed:  # the pointer, and what the validating run rewrote (dvc.lock, reports)
        workspace.git("checkout", "HEAD", "--", *changed)
    workspace.git("checkout", "--quiet", "-B", branch, start)
    (request.root / settings.pointer).write_text(pointer_text, encoding="utf-8")
    workspace.git("add", str(settings.pointer))
    if workspace.run("git", "diff", "--cached", "--quiet").ok:
        progress(f"{branch} already has this snapshot")
    else:
        drifted = ", ".join(verdict.drifted) or "policy"
        message = (
            f"Retrain: {settings.data} with {change.added} new and {change.updated} updated "
            f"labelled rows ({change.rows_before} -> {change.rows_after})\n\n"
            f"Drift: {drifted}; {verdict.rows} logged rows."
        )
        workspace.git("commit", "--quiet", "--no-verify", "-m", message)
        progress(f"pushing {branch} to origin")
        workspace.git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", remote=True)
    action, number, url = open_or_update(
        client, request.repo, existing=existing, branch=branch, base=request.base,
        title=settings.pr_title, body=body, labels=settings.pr_labels,
    )  # fmt: skip
    images = _pictures(verdict)
    if images:  # pictures need the PR's number: committed to the assets branch, then linked
        progress(f"uploading {len(images)} drift picture(s) to the assets branch")
        head = workspace.git("rev-parse", "HEAD")
        urls = upload_images(client, request.repo, images, pr=number, sha=head, site=request.site)
        body = pull_body(
            verdict.markdown, reported, data=settings.data.as_posix(),
            pointer=settings.pointer.as_posix(), image_urls=urls,
        )  # fmt: skip
        client.update_pull(request.repo, number, body=body)
    return Outcome(action, f"{action} PR #{number} {url}".strip(), change, branch, number, body)


def _pictures(verdict: DriftVerdict) -> dict[str, bytes]:
    """The PNG files drift.md links that are in the report folder (others stay named only)."""
    found = {}
    for name in linked_images(verdict.markdown):
        path = verdict.folder / name
        if name.endswith(".png") and "/" not in name and path.is_file():
            found[name] = path.read_bytes()
    return found
