"""Benchmark: `mlgitops history` over a branch of N merges (target: 500 merges in under 30 s).

Builds, under a temporary directory, a git+DVC repository whose main branch has N merges (a PR
commit changing params.yaml, dvc.lock and the metrics, then a --no-ff merge), written with
`git fast-import` so that building it takes seconds. Two layouts:

- `git`: metrics.json is `cache: false`, committed (as this repository's metrics);
- `cache`: metrics.json is DVC-cached: git holds only dvc.lock's hash, the bytes are in
  .dvc/cache (DVC's own layout, files/md5/xx/...).

The GitHub stand-in (tests/standins/github.py) serves N merged PRs, N deployments with two
statuses each (every tenth rolled back) and 13 drift-check runs, on a local port. Measured:
`mlgitops history --repo ... --format json --out DIR` as a subprocess (wall time, its peak RSS
from wait4), and, for comparison, DVC's own `dvc metrics show --all-commits --json` (one
process over every commit) on the same repository. The script checks that every merge's
metrics were read. A Markdown table to stdout, progress to stderr.

    nice python benchmarks/history.py --merges 500
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.standins.github import FakeGitHub  # noqa: E402

NAME = "octo/models"
START = 1_767_000_000  # 2025-12-29, the first merge's time; one merge every 3 hours
_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def _git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True,
                          timeout=600, check=True)  # fmt: skip
    return done.stdout.decode().strip()


def _blob(data: bytes) -> bytes:
    return b"data %d\n" % len(data) + data + b"\n"


def build(root: Path, merges: int, layout: str) -> list[str]:
    """The repository; returns the merge commits' shas, oldest first."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    subprocess.run(["dvc", "init", "-q"], cwd=root, check=True, timeout=120)
    cached = "true" if layout == "cache" else "false"
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    params: [train.alpha]\n"
        f"    metrics:\n      - metrics.json:\n          cache: {cached}\n"
    )
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "start")
    stream = bytearray()
    marks = []
    who = b"dev <dev@example.com>"
    for i in range(merges):
        alpha = round(0.5 + i / merges, 6)
        metrics = json.dumps({"test": {"error": round(1 / (1 + alpha), 6), "n": i}}).encode()
        md5 = hashlib.md5(metrics, usedforsecurity=False).hexdigest()
        lock = (
            "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
            f"    params:\n      params.yaml:\n        train.alpha: {alpha}\n"
            f"    outs:\n    - path: metrics.json\n      hash: md5\n      md5: {md5}\n"
            f"      size: {len(metrics)}\n"
        ).encode()
        if layout == "cache":
            target = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(metrics)
        when = START + i * 3 * 3600
        branch = f"refs/heads/pr-{i + 1}".encode()
        # fast-import merges no trees: the merge commit states the PR's files again.
        files = b"M 100644 inline params.yaml\n" + _blob(b"train:\n  alpha: %g\n" % alpha)
        files += b"M 100644 inline dvc.lock\n" + _blob(lock)
        if layout == "git":
            files += b"M 100644 inline metrics.json\n" + _blob(metrics)
        stream += b"commit %s\nmark :%d\n" % (branch, 2 * i + 1)
        stream += b"committer %s %d +0000\n" % (who, when - 3600)
        stream += _blob(b"change %d" % (i + 1))
        stream += b"from refs/heads/main^0\n" if i == 0 else b"from :%d\n" % (2 * i)
        stream += files
        stream += b"commit refs/heads/main\nmark :%d\n" % (2 * i + 2)
        stream += b"committer %s %d +0000\n" % (who, when)
        stream += _blob(b"Merge pull request #%d" % (i + 1))
        stream += b"from refs/heads/main^0\n" if i == 0 else b"from :%d\n" % (2 * i)
        stream += b"merge :%d\n" % (2 * i + 1) + files
        marks.append(2 * i + 2)
    export = root.parent / f"{layout}-marks"
    _git(root, "fast-import", "--quiet", f"--export-marks={export}", stdin=bytes(stream))
    by_mark = dict(line.split() for line in export.read_text().splitlines())
    _git(root, "reset", "-q", "--hard", "main")
    return [by_mark[f":{mark}"] for mark in marks]


def script_github(fake: FakeGitHub, shas: list[str]) -> None:
    fake.add_repo(NAME)
    stamp = time.gmtime
    for i, sha in enumerate(shas):
        merged = START + i * 3 * 3600
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        labels = ("retraining",) if i % 25 == 0 else ("gate-failed",) if i % 17 == 0 else ()
        fake.add_merged_pull(NAME, i + 1, title=f"change {i + 1}",
                             created_at=time.strftime(fmt, stamp(merged - 3000)),
                             merged_at=time.strftime(fmt, stamp(merged)), merge_commit_sha=sha,
                             labels=labels)  # fmt: skip
        final = ("failure", "rolled back: step smoke-test failed") if i % 10 == 9 else (
            "success", "serving")  # fmt: skip
        fake.add_deployment(NAME, sha=sha, created_at=time.strftime(fmt, stamp(merged + 600)),
                            statuses=[("in_progress", time.strftime(fmt, stamp(merged + 600)), ""),
                                      (*final[:1], time.strftime(fmt, stamp(merged + 1800)),
                                       final[1])])  # fmt: skip
    for week in range(13):
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + week * 7 * 86400))
        found = "success" if week % 4 == 0 else "skipped"
        fake.add_workflow_run(NAME, "retrain.yml", created_at=at,
                              jobs={"drift check": "success", "retraining PR": found})  # fmt: skip


def timed(argv: list[str], cwd: Path, env: dict[str, str], out: Path) -> tuple[float, float, str]:
    """(seconds, the child's own peak RSS in MiB from wait4, its stdout) of a subprocess."""
    begin = time.monotonic()
    with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - begin
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:3]} failed: {out.with_suffix('.err').read_text()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merges", type=int, default=500)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="history-bench-") as folder:
        for layout in ("git", "cache"):
            root = Path(folder) / layout / "repo"
            say(f"building {args.merges} merges ({layout})")
            shas = build(root, args.merges, layout)
            fake = FakeGitHub()
            script_github(fake, shas)
            with fake.serve() as url:
                env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_TOKEN": fake.token}
                argv = ["mlgitops", "history", "--repo", NAME, "--branch", "main", "--since",
                        "2025-12-01", "--until", "2026-12-01", "--format", "json", "--out",
                        str(Path(folder) / layout / "out")]  # fmt: skip
                say(f"mlgitops history ({layout})")
                seconds, peak, out = timed(argv, root, env, Path(folder) / f"{layout}.json")
            record = json.loads(out)
            read = sum(1 for m in record["merges"] if m["metrics"]["test.error"] is not None)
            assert read == args.merges, f"{read} of {args.merges} merges read"
            requests = len(fake.seen)
            say(f"dvc metrics show --all-commits ({layout})")
            dvc_seconds, dvc_peak, _ = timed(
                ["dvc", "metrics", "show", "--all-commits", "--json"],
                root,
                dict(os.environ),
                Path(folder) / f"{layout}-dvc.json",
            )
            rows.append((layout, seconds, peak, requests, dvc_seconds, dvc_peak))
    print("| Metrics in | Merges | mlgitops history (s) | Peak RSS (MiB) | GitHub requests "
          "| dvc metrics show --all-commits (s) | its peak RSS (MiB) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for layout, seconds, peak, requests, dvc_seconds, dvc_peak in rows:
        print(f"| {layout} | {args.merges} | {seconds:.1f} | {peak:.0f} | {requests} | "
              f"{dvc_seconds:.1f} | {dvc_peak:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
