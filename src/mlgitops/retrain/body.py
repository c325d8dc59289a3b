"""The retraining pull request's body: the drift report, then what the data change was."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mlgitops.retrain.snapshot import SnapshotChange

MARKER = "<!-- mlgitops-retrain -->"
MAX_BODY = 65_536  # GitHub refuses longer bodies
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def linked_images(markdown: str) -> list[str]:
    """The relative image files the drift report links (its PNG pictures), once each."""
    names = [found[2] for found in _IMAGE.finditer(markdown) if not _is_url(found[2])]
    return list(dict.fromkeys(names))


def _is_url(target: str) -> bool:
    return re.match(r"^[a-z]+://", target) is not None


def _linked(markdown: str, urls: Mapping[str, str]) -> str:
    """Relative image links point into the drift report folder, not into the repository: link
    the uploaded copy, or name the file (it is in the workflow's artifact)."""

    def replace(found: re.Match[str]) -> str:
        target = found[2]
        if _is_url(target):
            return found[0]
        if target in urls:
            return f"![{found[1]}]({urls[target]})"
        return f"*{found[1] or target}: {target} in the drift report artifact*"

    return _IMAGE.sub(replace, markdown)


def data_section(change: SnapshotChange, *, data: str, pointer: str) -> str:
    """A markdown table of the rows before and after, and where the new rows came from."""
    files = "".join(f"\n- `{name}`" for name in change.files) or "\n- (none)"
    return (
        "## Data change\n\n"
        f"`{data}` (pointer `{pointer}`) refreshed with newly labelled rows.\n\n"
        "| rows before | rows after | new rows | updated rows | unchanged rows |\n"
        "| ---: | ---: | ---: | ---: | ---: |\n"
        f"| {change.rows_before} | {change.rows_after} | {change.added} | {change.updated} "
        f"| {change.unchanged} |\n\n"
        f"Labelled files read:{files}\n"
    )


def pull_body(
    drift_markdown: str,
    change: SnapshotChange,
    *,
    data: str,
    pointer: str,
    image_urls: Mapping[str, str] | None = None,
) -> str:
    """The whole body, within GitHub's limit (the drift report is cut first)."""
    tail = (
        "\n\n"
        + data_section(change, data=data, pointer=pointer)
        + "\nThe pipeline reproduces, reports and gates this change like any other pull "
        "request; merge it to retrain.\n"
    )
    head = f"{MARKER}\n" + _linked(drift_markdown.strip(), image_urls or {})
    room = MAX_BODY - len(tail) - 40
    if len(head) > room:
        head = head[:room] + "\n\n*(drift report cut to fit)*"
    return head + tail
