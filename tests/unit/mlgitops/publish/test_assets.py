"""Images committed to the assets branch of the same repository, linked at their commit."""

from __future__ import annotations

import re

import pytest

from mlgitops.publish.assets import upload_images, web_url
from mlgitops.publish.github import GitHubClient
from tests.standins.github import FakeGitHub
from tests.standins.report_dir import HEAD_SHA, png
from tests.unit.mlgitops.publish.conftest import PR, REPO

LINK = re.compile(
    r"^https://github\.com/octo/churn/blob/(?P<commit>[0-9a-f]{40})/"
    rf"(?P<path>pr-7/{HEAD_SHA}/(?P<name>[a-z]+\.png))\?raw=true$"
)


def test_images_go_to_a_new_branch_cut_from_the_default_branch(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    main_head = fake.repos[REPO].branches["main"]
    images = {"roc.png": png(rgb=(1, 2, 3)), "confusion.png": png(rgb=(4, 5, 6))}
    urls = upload_images(client, REPO, images, pr=PR, sha=HEAD_SHA)
    assert set(urls) == {"roc.png", "confusion.png"}
    for name, url in urls.items():
        link = LINK.match(url)
        assert link, url
        assert link["name"] == name
        assert fake.file_at(REPO, link["commit"], link["path"]) == images[name]
    files = fake.branch_files(REPO, "mlgitops-assets")
    assert "README.md" in files  # cut from main, which is untouched
    assert fake.repos[REPO].branches["main"] == main_head
    assert fake.calls("POST", r"/git/refs$")[0].body == {
        "ref": "refs/heads/mlgitops-assets",
        "sha": main_head,
    }


def test_an_existing_assets_branch_is_reused(client: GitHubClient, fake: FakeGitHub) -> None:
    upload_images(client, REPO, {"roc.png": png()}, pr=PR, sha=HEAD_SHA)
    upload_images(client, REPO, {"roc.png": png()}, pr=PR, sha="f" * 40)
    assert len(fake.calls("POST", r"/git/refs$")) == 1
    assert (
        len([p for p in fake.branch_files(REPO, "mlgitops-assets") if p.startswith("pr-7/")]) == 2
    )


def test_a_rerun_on_the_same_commit_links_what_is_there(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    first = upload_images(client, REPO, {"roc.png": png()}, pr=PR, sha=HEAD_SHA)
    commits = len(fake.repos[REPO].commits)
    again = upload_images(client, REPO, {"roc.png": png()}, pr=PR, sha=HEAD_SHA)
    assert len(fake.repos[REPO].commits) == commits  # nothing new to commit
    link = LINK.match(again["roc.png"])
    assert link and fake.file_at(REPO, link["commit"], link["path"]) == png()
    changed = upload_images(client, REPO, {"roc.png": png(rgb=(9, 9, 9))}, pr=PR, sha=HEAD_SHA)
    link = LINK.match(changed["roc.png"])
    assert link and fake.file_at(REPO, link["commit"], link["path"]) == png(rgb=(9, 9, 9))
    assert changed != first


def test_a_rerun_sends_the_existing_files_sha_and_is_never_refused(
    client: GitHubClient, fake: FakeGitHub
) -> None:
    """Re-uploading a changed image on the same commit replaces it in one accepted PUT."""
    upload_images(client, REPO, {"roc.png": png()}, pr=PR, sha=HEAD_SHA)
    upload_images(client, REPO, {"roc.png": png(rgb=(7, 7, 7))}, pr=PR, sha=HEAD_SHA)
    puts = fake.calls("PUT", r"/contents/")
    assert [call.status for call in puts] == [201, 200]
    assert "sha" in puts[1].body
    assert [s.status for s in fake.seen if s.status >= 400 and s.method != "GET"] == []


def test_no_images_means_no_calls(client: GitHubClient, fake: FakeGitHub) -> None:
    assert upload_images(client, REPO, {}, pr=PR, sha=HEAD_SHA) == {}
    assert fake.seen == []


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghes.example.com/api/v3/", "https://ghes.example.com"),
        ("https://api.octo.ghe.com", "https://octo.ghe.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_web_url_follows_the_api_url(api: str, web: str) -> None:
    assert web_url(api) == web
