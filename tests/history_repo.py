"""A repository with a scripted history of 12 merges, real `dvc repro` at each, for `history`.

A tiny pipeline (one stage, pure Python, milliseconds), not the example model: param changes,
two data changes, two retraining PRs (data pointer changes, labelled), a regression and its
revert. Every time is scripted (git author/committer dates, PR and deployment times), so the
tests can state the delivery measures computed by hand from the table below.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path

TRAIN = """\
import csv, json, yaml
alpha = yaml.safe_load(open("params.yaml"))["train"]["alpha"]
rows = [(float(x), float(y)) for x, y in list(csv.reader(open("data/points.csv")))[1:]]
test = [p for i, p in enumerate(rows) if i % 4 == 0]
train = [p for i, p in enumerate(rows) if i % 4]
def error(points):
    return round(sum(abs(y - alpha * x) for x, y in points) / len(points), 6)
json.dump({"train": {"error": error(train)}, "test": {"error": error(test), "rows": len(test)}},
          open("metrics.json", "w"))
"""


@dataclass(frozen=True)
class Merge:
    pr: int
    kind: str  # param, data, retraining, revert
    title: str
    commits: tuple[str, ...]  # author times of the PR's commits (the first is the lead time's)
    merged: str  # when the merge commit landed
    change: str  # alpha value, or data rows to append (ignored for a revert)


BASE_TIME = "2026-01-02T09:00:00Z"
# The script. Times in UTC; see tests/e2e/test_history.py for the hand-computed measures.
MERGES = (
    Merge(1, "param", "alpha 0.5 -> 0.6", ("2026-01-05T09:00:00Z",), "2026-01-05T15:00:00Z", "0.6"),
    Merge(2, "param", "alpha 0.6 -> 0.7", ("2026-01-06T10:00:00Z", "2026-01-07T09:00:00Z"),
          "2026-01-07T10:00:00Z", "0.7"),
    Merge(3, "data", "more points", ("2026-01-08T08:00:00Z",), "2026-01-08T12:00:00Z", "8"),
    Merge(4, "param", "alpha 0.7 -> 0.8", ("2026-01-09T09:00:00Z",), "2026-01-09T11:00:00Z", "0.8"),
    Merge(5, "retraining", "Retrain on newly labelled data", ("2026-01-12T05:00:00Z",),
          "2026-01-12T09:00:00Z", "6"),
    Merge(6, "param", "alpha 0.8 -> 2.0", ("2026-01-13T09:00:00Z",), "2026-01-13T10:00:00Z", "2.0"),
    Merge(7, "revert", "Revert alpha 2.0", ("2026-01-13T14:00:00Z",), "2026-01-13T15:00:00Z", ""),
    Merge(8, "param", "alpha 0.8 -> 0.9", ("2026-01-15T09:00:00Z",), "2026-01-15T13:00:00Z", "0.9"),
    Merge(9, "param", "alpha 0.9 -> 0.95", ("2026-01-16T09:00:00Z",), "2026-01-16T10:00:00Z",
          "0.95"),
    Merge(10, "data", "even more points", ("2026-01-19T09:00:00Z",), "2026-01-19T12:00:00Z", "5"),
    Merge(11, "param", "alpha 0.95 -> 1.0", ("2026-01-20T09:00:00Z",), "2026-01-20T11:00:00Z",
          "1.0"),
    Merge(12, "retraining", "Retrain on newly labelled data", ("2026-01-22T05:00:00Z",),
          "2026-01-22T08:00:00Z", "7"),
)  # fmt: skip


def _run(root: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}  # fmt: skip
    if when is not None:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    done = subprocess.run(
        args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def _points(count: int, start: int) -> str:
    return "".join(
        f"{x},{round(0.8 * x + (x % 3) * 0.1, 3)}\n" for x in range(start, start + count)
    )


def _repro(root: Path) -> None:
    from dvc.repo import Repo

    with chdir(root), Repo(str(root)) as repo:  # in process: `dvc repro` without its start-up
        repo.reproduce()


def _commit(root: Path, message: str, when: str) -> None:
    _run(root, "git", "add", "-A", when=when)
    if not _run(root, "git", "status", "--porcelain"):
        return  # a revert that `dvc repro` had nothing to add to
    _run(root, "git", "commit", "-q", "-m", message, when=when)


def build_history_repo(root: Path, remote: Path) -> dict[int, str]:
    """The repository at `root` (DVC remote `remote`); returns {PR number: merge commit sha}."""
    from dvc.repo import Repo

    root.mkdir(parents=True)
    _run(root, "git", "init", "-q", "-b", "main")
    _run(root, "dvc", "init", "-q")
    # In config.local (not committed): every commit sha is the same from run to run.
    _run(root, "dvc", "remote", "add", "--local", "-d", "storage", str(remote))
    (root / "data").mkdir()
    (root / "data" / "points.csv").write_text("x,y\n" + _points(24, 1))
    (root / "train.py").write_text(TRAIN)
    (root / "params.yaml").write_text("train:\n  alpha: 0.5\n")
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n"
        "    cmd: python train.py\n"
        "    deps: [train.py, data/points.csv]\n    params: [train.alpha]\n"
        "    metrics:\n      - metrics.json:\n          cache: true\n"
    )
    with chdir(root), Repo(str(root)) as repo:
        repo.add("data/points.csv")
    _repro(root)
    _commit(root, "a tiny pipeline", BASE_TIME)
    merges: dict[int, str] = {}
    rows = 25
    for merge in MERGES:
        branch = f"pr-{merge.pr}"
        _run(root, "git", "checkout", "-q", "-b", branch)
        for index, when in enumerate(merge.commits):
            if merge.kind == "revert":
                _run(root, "git", "revert", "--no-edit", "-m", "1", merges[6], when=when)
                _run(root, "dvc", "checkout", "-q")
            elif merge.kind == "param" and index == len(merge.commits) - 1:
                (root / "params.yaml").write_text(f"train:\n  alpha: {merge.change}\n")
            elif merge.kind in ("data", "retraining"):
                with (root / "data" / "points.csv").open("a") as table:
                    table.write(_points(int(merge.change), rows))
                rows += int(merge.change)
                with chdir(root), Repo(str(root)) as repo:
                    repo.add("data/points.csv")
            else:
                (root / "NOTES.md").write_text(f"work in progress on {merge.title}\n")
            _repro(root)
            _commit(root, f"{merge.title} ({index + 1})", when)
        _run(root, "git", "checkout", "-q", "main")
        message = f"Merge pull request #{merge.pr} from {branch}"
        _run(root, "git", "merge", "-q", "--no-ff", "-m", message, branch, when=merge.merged)
        merges[merge.pr] = _run(root, "git", "rev-parse", "HEAD")
    _run(root, "dvc", "push", "-q", "--all-commits")
    return merges
