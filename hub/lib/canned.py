"""Canned responses with variables filled in for a conversation."""

from __future__ import annotations

import re

VARIABLES = ("patient_first_name", "agent_name", "practice_name")
_PATTERN = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")


def render(body: str, *, patient_first_name: str, agent_name: str, practice_name: str) -> str:
    """Fill {patient_first_name}, {agent_name} and {practice_name}; any other
    braces stay as written (a typo shows, it does not fail)."""
    values = {"patient_first_name": patient_first_name or "there", "agent_name": agent_name,
              "practice_name": practice_name}
    return _PATTERN.sub(lambda m: values[m.group(1)], body)
