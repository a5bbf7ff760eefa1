"""Matching keyword rules against what a patient wrote."""

from __future__ import annotations

import re
from functools import lru_cache

from hub.lib.redflags import normalize


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern | None:
    """`bill|invoice|statement` -> a word-boundary regex over normalized text."""
    alternatives = [normalize(part) for part in pattern.split("|")]
    alternatives = [a for a in alternatives if a and a != ","]
    if not alternatives:
        return None
    return re.compile(r"(?:^| )(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?: |$)")


def matches(pattern: str, text: str) -> bool:
    compiled = compile_pattern(pattern)
    return bool(compiled and compiled.search(normalize(text)))
