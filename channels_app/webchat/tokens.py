"""The visitor token: what lets a returning visitor resume their own thread,
and nothing else. Signed (not encrypted) and carrying no patient data: the
practice and a random visitor id."""

from __future__ import annotations

from django.core import signing

SALT = "hub.webchat.visitor"
MAX_AGE = 90 * 24 * 3600


def issue(practice_id: int, visitor_id: str) -> str:
    return signing.dumps({"p": practice_id, "v": visitor_id}, salt=SALT, compress=False)


def verify(token: str, practice_id: int) -> str | None:
    """The visitor id, if the token is genuine, fresh and for this practice."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != practice_id or not isinstance(data.get("v"), str):
        return None
    return data["v"]
