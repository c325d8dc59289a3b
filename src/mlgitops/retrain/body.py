"""The retraining pull request's body: the drift report, then what the data change was."""

from __future__ import annotations

import re

from mlgitops.retrain.snapshot import SnapshotChange

MARKER = "<!-- mlgitops-retrain -->"
MAX_BODY = 65_536  # GitHub refuses longer bodies
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def _unlinked_images(markdown: str) -> str:
    """Relative image links point into the drift report folder, not into the repository: name
    the file instead (it is in the workflow's artifact)."""

    def replace(found: re.Match[str]) -> str:
        target = found[2]
        if re.match(r"^[a-z]+://", target):
            return found[0]
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


def pull_body(drift_markdown: str, change: SnapshotChange, *, data: str, pointer: str) -> str:
    """The whole body, within GitHub's limit (the drift report is cut first)."""
    tail = (
        "\n\n"
        + data_section(change, data=data, pointer=pointer)
        + "\nThe pipeline reproduces, reports and gates this change like any other pull "
        "request; merge it to retrain.\n"
    )
    head = f"{MARKER}\n" + _unlinked_images(drift_markdown.strip())
    room = MAX_BODY - len(tail) - 40
    if len(head) > room:
        head = head[:room] + "\n\n*(drift report cut to fit)*"
    return head + tail
