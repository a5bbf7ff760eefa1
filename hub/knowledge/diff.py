"""What changed between two versions of an article, line by line (difflib),
for the history pages."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from hub.knowledge.models import ArticleVersion, Category

CONTEXT = 3
KINDS = {"@": "hunk", "+": "added", "-": "removed", " ": "same"}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # hunk, added, removed or same
    text: str


def _lines(version: ArticleVersion) -> list[str]:
    return [f"Title: {version.title}", f"Category: {Category(version.category).label}", "",
            *version.body.splitlines()]


def diff(old: ArticleVersion, new: ArticleVersion) -> list[DiffLine]:
    """The changed lines (with CONTEXT lines around them) from `old` to
    `new`; empty when the text is the same."""
    lines = list(difflib.unified_diff(_lines(old), _lines(new), n=CONTEXT, lineterm=""))[2:]  # no ---/+++ header
    # A hunk's line numbers mean little to a reader: the page shows a gap.
    return [DiffLine(kind=KINDS[line[0]], text="" if line[0] == "@" else line[1:]) for line in lines]
