"""The practice's active rubric, scoring against it, and the shape a rubric's
criteria must have."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from hub.actions.errors import InvalidInput
from hub.qa.models import Rubric

DEFAULT_CRITERIA = [
    {"key": "greeting", "label": "Greeting", "max": 4,
     "description": "Greets by name, introduces themselves and the practice, sets a warm tone."},
    {"key": "empathy", "label": "Empathy", "max": 4,
     "description": "Acknowledges feelings and concerns, listens actively, never rushes or dismisses."},
    {"key": "accuracy", "label": "Accuracy", "max": 4,
     "description": "Gives correct information about services, insurance and scheduling; checks before answering."},
    {"key": "compliance", "label": "Compliance", "max": 4,
     "description": "Verifies identity before disclosing details, follows red-flag and privacy policies."},
    {"key": "resolution", "label": "Resolution", "max": 4,
     "description": "Resolves the need or routes it correctly, confirms next steps, closes warmly."},
]

MAX_CRITERIA = 20
MAX_POINTS = 100
LABEL_LENGTH, DESCRIPTION_LENGTH, NAME_LENGTH = 60, 300, 100
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


def active_rubric(practice_id: int) -> Rubric:
    """The practice's active rubric; the default one the first time."""
    found = Rubric.objects.filter(practice_id=practice_id, is_active=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Rubric.objects.create(practice_id=practice_id, criteria=DEFAULT_CRITERIA)
    except IntegrityError:  # created meanwhile by another request
        return Rubric.objects.get(practice_id=practice_id, is_active=True)


def score(rubric: Rubric, scores: dict) -> tuple[dict, int, int, float]:
    """Checks `scores` ({criterion key: int}) against the rubric: every
    criterion scored, each 0..max, nothing else. Returns (clean scores,
    points, possible points, percent)."""
    if not isinstance(scores, dict):
        raise InvalidInput("Scores must be an object of criterion: points.")
    keys = [c["key"] for c in rubric.criteria]
    unknown = sorted(set(scores) - set(keys))
    if unknown:
        raise InvalidInput(f"Not a criterion of this rubric: {', '.join(map(str, unknown))}.")
    clean = {}
    for criterion in rubric.criteria:
        value = scores.get(criterion["key"])
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= criterion["max"]:
            raise InvalidInput(f"Score {criterion['label']} from 0 to {criterion['max']}.")
        clean[criterion["key"]] = value
    possible = sum(c["max"] for c in rubric.criteria)
    points = sum(clean.values())
    return clean, points, possible, round(100 * points / possible, 1) if possible else 0.0


def _text(value, what: str, longest: int, *, required: bool) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(f"{what} is text.")
    value = " ".join(value.split())
    if required and not value:
        raise InvalidInput(f"{what} is required.")
    if len(value) > longest:
        raise InvalidInput(f"{what} is at most {longest} characters.")
    return value


def key_for(label: str) -> str:
    """A criterion's key from its label: lower-case words joined by _."""
    key = slugify(label).replace("-", "_")[:40].strip("_")
    return key if key[:1].isalpha() else f"c_{key}"[:40].rstrip("_")


def clean_name(name) -> str:
    return _text(name, "The rubric's name", NAME_LENGTH, required=True)


def clean_criteria(criteria) -> list[dict]:
    """A rubric's criteria checked and normalised: 1 to 20, each with a label,
    a description and a maximum of 1 to 100 points. A criterion keeps the key
    it is given (so that a renamed criterion stays the same one in trends);
    a new one takes its key from its label. Keys are unique."""
    if not isinstance(criteria, list) or not criteria:
        raise InvalidInput("A rubric has at least one criterion.")
    if len(criteria) > MAX_CRITERIA:
        raise InvalidInput(f"A rubric has at most {MAX_CRITERIA} criteria.")
    clean, seen = [], set()
    for n, item in enumerate(criteria, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"Criterion {n} is an object with label, description and max.")
        label = _text(item.get("label"), f"Criterion {n}'s label", LABEL_LENGTH, required=True)
        description = _text(item.get("description", ""), f"{label}'s description", DESCRIPTION_LENGTH,
                            required=False)
        most = item.get("max")
        if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= MAX_POINTS:
            raise InvalidInput(f"{label}'s maximum is a whole number from 1 to {MAX_POINTS}.")
        key = item.get("key") or key_for(label)
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise InvalidInput(f"{label}'s key is lower-case letters, digits and _, starting with a letter.")
        if key in seen:
            raise InvalidInput(f"Two criteria are both called {label!r}; give each its own name.")
        seen.add(key)
        clean.append({"key": key, "label": label, "description": description, "max": most})
    return clean
