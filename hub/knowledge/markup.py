"""Article Markdown: rendered with Python-Markdown, then sanitized with nh3
(never trust the HTML: an article may contain raw HTML), and snippet blocks.

A snippet block is text an agent can put into a reply as it is:

    ```snippet Payment plan offer
    We can split your balance into monthly payments with no interest.
    ```

The words after `snippet` are its label (optional). The text inside is
plain text, not Markdown.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

SNIPPET = re.compile(r"^```snippet(?P<label>[ \t][^\n]*)?\n(?P<text>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list"]
TAGS = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre", "blockquote",
        "ul", "ol", "li", "dl", "dt", "dd", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
        "kbd"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# The page's title is its h1: an article's own headings start at h2.
HEADING = re.compile(r"<(/?)h([1-5])\b")


@dataclass(frozen=True)
class Snippet:
    label: str
    text: str


@dataclass(frozen=True)
class Block:
    """A piece of a rendered article: sanitized HTML, or a snippet."""

    html: SafeString | None = None
    snippet: Snippet | None = None


def _parts(body: str):
    """(markdown text, None) and (None, Snippet) in the order they appear."""
    position, number = 0, 0
    for match in SNIPPET.finditer(body):
        number += 1
        yield body[position:match.start()], None
        label = (match.group("label") or "").strip() or f"Snippet {number}"
        yield None, Snippet(label=label, text=match.group("text").rstrip("\n"))
        position = match.end()
    yield body[position:], None


def to_html(text: str) -> SafeString:
    """Markdown to sanitized HTML."""
    rendered = markdown.markdown(text, extensions=EXTENSIONS, output_format="html")
    rendered = HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", rendered)
    return mark_safe(nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                               link_rel="noopener noreferrer nofollow"))


def render(body: str) -> list[Block]:
    blocks = []
    for text, snippet in _parts(body):
        if snippet is not None:
            blocks.append(Block(snippet=snippet))
        elif text.strip():
            blocks.append(Block(html=to_html(text)))
    return blocks


def snippets(body: str) -> list[Snippet]:
    return [snippet for _, snippet in _parts(body) if snippet is not None]


def plain_text(body: str) -> str:
    """What the article says, without markup: for search excerpts."""
    text = nh3.clean(markdown.markdown(body, extensions=EXTENSIONS), tags=set())
    return " ".join(html.unescape(text).split())
