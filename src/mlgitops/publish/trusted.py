"""The comment's words, written on the trusted side: never the artifact's own markdown.

A PR's run (maybe a fork's code) writes the artifact, so its report.md and gate.md could say
anything. The publisher renders the body itself from the schema-checked report.json with
`mlgitops.report.markdown`, every string of it made inert first (no mentions, no HTML, no
links: only plot images it uploaded itself), and decides the gate with `mlgitops.gate` and the
policy read at the PR's base commit. The numbers are still what that run measured: for a fork
the comment says so.
"""

from __future__ import annotations

import base64
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops import gate
from mlgitops.errors import NotFoundError, UsageError
from mlgitops.params import read_params
from mlgitops.policy import load_policy
from mlgitops.publish.github import GitHubClient
from mlgitops.report.gap import GAP_WIDENING
from mlgitops.report.markdown import render_markdown
from mlgitops.settings import parse_settings
from mlgitops.settings.report import ReportSettings

_IMAGE = re.compile(r"^images/([A-Za-z0-9_-][A-Za-z0-9_.-]*\.png)$")
# Each turns into a look-alike that GitHub's markdown leaves as text.
_INERT = str.maketrans(
    {
        "<": "‹",
        ">": "›",
        "[": "［",
        "]": "］",
        "&": "＆",
        "!": "ǃ",
        "`": "ˋ",
        "\\": "∖",
        "@": "@\u2060",  # a word joiner after @: no mention, no team notification
        "\r": " ",
    }
)
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def inert(text: str) -> str:
    """`text` with nothing GitHub would turn into a mention, a tag, a link or an image."""
    return _AUTOLINK.sub(
        lambda found: found[0][0] + "\u2060" + found[0][1:], text.translate(_INERT)
    )


def inert_report(report: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the report with every string inert, the images/<name>.png its plots may show)."""
    clean: dict[str, Any] = _inert_value(report)
    images: list[str] = []
    for plot, original in zip(clean.get("plots") or [], report.get("plots") or [], strict=True):
        found = _IMAGE.match(str(original.get("image") or ""))
        plot["image"] = found[0] if found else None
        if found:
            images.append(found[1])
    return clean, list(dict.fromkeys(images))


def _inert_value(value: Any) -> Any:
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, list):
        return [_inert_value(item) for item in value]
    if isinstance(value, dict):  # keys too: metric and file names are keys
        return {inert(str(key)): _inert_value(item) for key, item in value.items()}
    return value


def fork_note(repo: str, head_repo: str | None) -> str:
    """A plain warning when the run that measured the numbers ran a fork's code."""
    if head_repo is None or head_repo.lower() == repo.lower():
        return ""
    return (
        f"> ⚠️ **From a fork** (`{inert(head_repo)}`): these numbers were measured by a run of "
        "the fork's code and are shown as it reported them. This comment's words, and the gate "
        "verdict under the base branch's policy, come from this repository's workflow.\n"
    )


def report_body(
    report: dict[str, Any], *, gap_widening: float = GAP_WIDENING
) -> tuple[str, list[str]]:
    """(report markdown rendered from the inert report, the image names it links)."""
    clean, images = inert_report(report)
    return render_markdown(clean, gap_widening=gap_widening), images


@dataclass(frozen=True)
class BasePolicy:
    """What the trusted side takes from the params file: the gate's markdown (its verdict
    under the file's `gate`) and the file's `report.gap_widening` for the headline."""

    gate_md: str
    gap_widening: float = GAP_WIDENING


def base_gate(
    client: GitHubClient, repo: str, report: dict[str, Any], *, base_sha: str, params: str
) -> BasePolicy:
    """The gate's verdict under the policy in `params` at the PR's base commit."""
    try:
        answer = client.get_file(repo, params, ref=base_sha)
    except NotFoundError:
        return policy_gate(report, None, params=params, where=f"at base {base_sha[:7]}")
    text = base64.b64decode(str(answer.get("content") or "")).decode("utf-8")
    return policy_gate(report, text, params=params, where=f"at base {base_sha[:7]}")


def local_gate(report: dict[str, Any], params: str) -> BasePolicy:
    """The same with the policy file `params` read here (`--dry-run`, `report --html`)."""
    path = Path(params)
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    return policy_gate(report, text, params=params, where="in this checkout")


def policy_gate(report: dict[str, Any], text: str | None, *, params: str, where: str) -> BasePolicy:
    """The gate's markdown for `report` under the params file text (None: no such file)."""
    name = inert(params)
    if text is None:
        return BasePolicy(_no_policy(f"`{name}` is not there ({where})."))
    with tempfile.TemporaryDirectory(prefix="mlgitops-policy-") as folder:
        path = Path(folder) / Path(params).name
        path.write_text(text, encoding="utf-8")
        gap = _gap_widening(path)
        try:
            rules = load_policy(path)
        except UsageError as error:  # no `gate` section there, or a broken one
            return BasePolicy(_no_policy(inert(str(error))), gap)
    clean, _ = inert_report(report)
    result = gate.evaluate_gate(clean, rules, source=f"{params} {where}")
    return BasePolicy(gate.render_markdown(result), gap)


def _gap_widening(path: Path) -> float:
    """`report.gap_widening` of the params file; its default when unset or unreadable."""
    try:
        loaded = read_params(path)
        if "report" not in loaded:
            return GAP_WIDENING
        return parse_settings(
            ReportSettings, loaded, source=str(path), section="report"
        ).gap_widening
    except UsageError:  # a broken `report` section is the report's business, not the comment's
        return GAP_WIDENING


def _no_policy(why: str) -> str:
    return f"➖ **No gate**: no policy to apply. {why}\n\n#### Quality gate: no policy\n\n{why}\n"
