"""The retraining PR is complete (body, pictures) before its optional labels; a failure while
adding them leaves a whole PR, and a re-run finishes the job (issue 18, item 7)."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from pathlib import Path

import httpx
import pytest

from mlgitops.errors import RemoteError
from mlgitops.publish.github import GitHubClient, make_http_client
from mlgitops.retrain import flow
from mlgitops.retrain.pull_request import find_open_pull
from mlgitops.retrain.settings import RetrainSettings
from mlgitops.retrain.snapshot import SnapshotChange
from mlgitops.retrain.verdict import DriftVerdict
from tests.standins.github import FakeGitHub

REPO = "octo/churn"
BRANCH = "retrain/2026-11-23"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )  # fmt: skip


class LabelsDown:
    """The stand-in, with the labels route failing (500) the first `times` calls."""

    def __init__(self, fake: FakeGitHub, times: int) -> None:
        self.fake, self.times = fake, times

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/labels") and self.times > 0:
            self.times -= 1
            return httpx.Response(500, json={"message": "Server Error"})
        return self.fake(request)


def request_for(folder: Path) -> flow.RetrainRequest:
    (folder / "psi.png").write_bytes(png())
    markdown = "# Drift\n\n![psi](psi.png)\n"
    settings = RetrainSettings.model_validate(
        {"data": "data/raw/t.csv", "incoming": "data/incoming", "id_column": "id",
         "validate_stages": ["validate"], "branch_prefix": "retrain/",
         "pr_title": "Retrain on new labels", "pr_labels": ["retraining"]}
    )  # fmt: skip
    verdict = DriftVerdict(due=True, rows=1000, drifted=("x",), markdown=markdown, folder=folder)
    return flow.RetrainRequest(
        root=folder, settings=settings, verdict=verdict, base="main",
        today=date(2026, 11, 23), repo=REPO,
    )  # fmt: skip


def test_a_label_failure_leaves_a_complete_pr_and_a_re_run_adds_the_labels(
    tmp_path: Path,
) -> None:
    fake = FakeGitHub()
    repo = fake.add_repo(REPO)
    repo.branches[BRANCH] = head = repo.branches["main"]
    request = request_for(tmp_path)
    change = SnapshotChange(100, 110, 10, 0, 0, ("a.csv",))
    transport = httpx.MockTransport(LabelsDown(fake, times=5))  # more than the client retries
    with make_http_client(fake.token, base_url="https://api.github.test", transport=transport) as h:
        client = GitHubClient(h, sleep=lambda _: None)
        start = flow._Start(head, BRANCH, head, None)
        with pytest.raises(RemoteError, match=r"complete \(body and pictures\).*A re-run adds"):
            flow._publish(request, client, start, change, head, lambda _: None)
        (pull,) = fake.pulls(REPO)
        assert "/psi.png" in pull["body"] and "](psi.png)" not in pull["body"]  # the picture
        assert pull["labels"] == []
        # The re-run finds the open PR and finishes what the failed run left.
        existing = find_open_pull(client, REPO, prefix="retrain/")
        assert existing is not None
        start = flow._Start(head, BRANCH, head, existing)
        action, number, _ = flow._publish(request, client, start, change, head, lambda _: None)
    assert (action, number) == ("updated", pull["number"])
    (pull,) = fake.pulls(REPO)
    assert [label["name"] for label in pull["labels"]] == ["retraining"]
    assert "/psi.png" in pull["body"]
    assert len(fake.calls("POST", r"/pulls$")) == 1
