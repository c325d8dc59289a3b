"""A local preview of the comment as GitHub shows it: the body rendered with markdown-it-py
(CommonMark with GitHub's tables and strikethrough, single newlines kept as line breaks as in
GitHub comments, `<details>` folding), in a page styled like a GitHub comment (about 800 px
wide), the images beside it."""

from __future__ import annotations

import html
import os
from pathlib import Path

from markdown_it import MarkdownIt

_CSS = """
body { margin: 0; background: #f6f8fa; }
.comment { max-width: 820px; margin: 24px auto; background: #fff; border: 1px solid #d0d7de;
  border-radius: 6px; }
.comment header { padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d0d7de;
  border-radius: 6px 6px 0 0; color: #57606a; font: 14px/1.5 -apple-system, BlinkMacSystemFont,
  "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.markdown-body { padding: 16px; color: #1f2328; font: 14px/1.5 -apple-system,
  BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  word-wrap: break-word; }
.markdown-body h3 { font-size: 1.25em; } .markdown-body h4 { font-size: 1em; }
.markdown-body h3, .markdown-body h4 { margin: 24px 0 16px; font-weight: 600; }
.markdown-body > :first-child { margin-top: 0; }
.markdown-body p, .markdown-body ul, .markdown-body table, .markdown-body pre,
.markdown-body details, .markdown-body blockquote { margin: 0 0 16px; }
.markdown-body table { display: block; width: max-content; max-width: 100%; overflow: auto;
  border-spacing: 0; border-collapse: collapse; }
.markdown-body th { font-weight: 600; }
.markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d0d7de; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body code { padding: .2em .4em; font-size: 85%; background: rgba(175,184,193,.2);
  border-radius: 6px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.markdown-body pre { padding: 16px; overflow: auto; background: #f6f8fa; border-radius: 6px; }
.markdown-body pre code { padding: 0; background: none; }
.markdown-body blockquote { padding: 0 1em; color: #57606a; border-left: .25em solid #d0d7de; }
.markdown-body img { max-width: 100%; box-sizing: content-box; }
.markdown-body summary { cursor: pointer; }
"""


def render_html(body: str, *, title: str) -> str:
    """The comment body as a standalone HTML page."""
    renderer = MarkdownIt("commonmark", {"html": True, "breaks": True})
    renderer.enable(["table", "strikethrough"])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<div class="comment"><header>{html.escape(title)}</header>\n'
        f'<div class="markdown-body">\n{renderer.render(body)}</div></div>\n</body>\n</html>\n'
    )


def image_links(names: list[str], images_dir: Path, page: Path) -> dict[str, str]:
    """{name: the image's path relative to the page}, for links written as images/NAME.png."""
    here = page.resolve().parent
    return {
        name: Path(os.path.relpath((images_dir / name).resolve(), here)).as_posix()
        for name in names
    }


def write_preview(body: str, page: Path, *, title: str) -> Path:
    """Writes the page; returns its path."""
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render_html(body, title=title), encoding="utf-8")
    return page
