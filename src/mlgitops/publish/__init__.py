"""Publishing the report: one pull-request comment, edited in place, images kept in the repo.

`mlgitops comment` (in `command`) ties these together; `retrain` reuses the GitHub client.
"""

from __future__ import annotations

from mlgitops.publish.assets import upload_images, web_url
from mlgitops.publish.cml import publish_with_cml
from mlgitops.publish.command import Backend, ReportFiles, publish, read_report_dir
from mlgitops.publish.comment import build_body, marker, upsert_comment
from mlgitops.publish.github import GitHubClient, make_http_client

__all__ = [
    "Backend",
    "GitHubClient",
    "ReportFiles",
    "build_body",
    "make_http_client",
    "marker",
    "publish",
    "publish_with_cml",
    "read_report_dir",
    "upload_images",
    "upsert_comment",
    "web_url",
]
